/* Several augmented views per example, for models that ask for them (lt_model_vtable.views):
 * the batch layout, and the validation of a model without a likelihood (its loss on views of
 * the validation split). Generic: nothing here knows which model it serves. */
#ifndef LT_VIEWS_H
#define LT_VIEWS_H

#include "data/augment.h"
#include "data/dataset.h"
#include "models/model.h"
#include "train/evaluate.h"

/* max(1, m->vt->views) */
int lt_model_views(const lt_model *m);

/* Examples idx[0..n) of split s into x (views·n, dim), row v·n + i = view v of example i
 * (lt_dataset_batch_view with view v), and their labels into y (n) when y is not NULL.
 * any_split: augment an evaluation split too. views 1 is lt_dataset_batch_opts. */
void lt_views_batch(const lt_dataset *d, lt_split_id s, const int64_t *idx, int64_t n, const lt_batch_opts *o,
                    int views, int any_split, float *x, int64_t *y);

/* The mean training loss of m over split d->split, in whole batches of d->batch examples
 * (0 = 256; at most the split) of lt_model_views(m) views each, drawn with aug (NULL: none) at
 * epoch 0 from d->seed (the same views every call), gradients and training mode off. A last
 * partial batch is left out: a contrastive loss depends on the batch size. out gets the mean
 * of the batch losses as nll_nats, their standard error as nll_stderr, bits_per_dim 0, and
 * the examples used. g is a scratch graph. */
lt_status lt_evaluate_views_loss(lt_model *m, lt_graph *g, const lt_eval_data *d, const lt_augment *aug,
                                 lt_eval_result *out);

#endif
