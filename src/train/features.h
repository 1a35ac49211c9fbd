/* Driving models for the representation metrics (docs/metrics.md): frozen features of data
 * splits and image sets through a model's features capability (lt_model_vtable.features),
 * images sampled from a run, the linear and k-NN probes of one feature space, and the k-NN
 * accuracy the trainer logs on validation every epoch. The numerics are metrics/metrics.h;
 * printing is the CLI's. Every function resets the graph g it is given after each batch. */
#ifndef LT_TRAIN_FEATURES_H
#define LT_TRAIN_FEATURES_H

#include "core/graph.h"
#include "data/dataset.h"
#include "metrics/metrics.h"
#include "models/model.h"

/* Floats per example: m's feature_size, or dim for m == NULL (raw pixel values).
 * 0 for a model without the features capability. */
int64_t lt_features_size(const lt_model *m, int64_t dim);

/* Features of examples [first, first + n) of split s, converted with bo (binarization, the
 * model's range; augmentation is never applied), into out (n, lt_features_size), and their
 * labels into y (n) when y != NULL (the split must have labels then). m == NULL: the pixel
 * values themselves. batch: examples per forward pass (0 = 256). LT_ERR_ARG for a model
 * without features, a dim mismatch, a missing label set or a range out of the split. */
lt_status lt_features_split(lt_model *m, lt_graph *g, const lt_dataset *d, lt_split_id s, const lt_batch_opts *bo,
                            int64_t first, int64_t n, int64_t batch, float *out, int64_t *y);

/* Features of images x (n, m->dim) with values in [0, 1], converted to m's range, into out
 * (n, lt_features_size). Class-conditional models get label 0. */
lt_status lt_features_images(lt_model *m, lt_graph *g, const float *x, int64_t n, int64_t batch, float *out);

/* Maps count values x of m's range (its vt->range) to [0, 1] into out (which may be x),
 * clamped: what an image of a model in [-1, 1] or [0, 1] is as a picture. */
void lt_images_to_unit(const lt_model *m, const float *x, int64_t count, float *out);

/* Reconstructions of images x (n, m->dim) in m's range (the data converted as m was trained):
 * each encoded (vt->encode: q(z|x)'s mean, or the nearest codes) and decoded, batch images at
 * a time (0 = 256), into out (n, m->dim) in [0, 1] (lt_images_to_unit). LT_ERR_ARG for a model
 * that does not encode and decode. */
lt_status lt_reconstruct_images(lt_model *m, lt_graph *g, const float *x, int64_t n, int64_t batch, float *out);

/* n samples of RUN's checkpoint `which` as images (n, dim) in [0, 1] (from the model's range)
 * into *out (lt_malloc'ed), drawn from seed, labels i mod n_classes for class-conditional
 * models. A prior over codes (gpt) draws its codes with so (NULL: its own distribution,
 * temperature 1 unfiltered) and is decoded through the stage-one run its config records;
 * LT_ERR_ARG for so != NULL and a model that is not a token model. *c, *h, *w: the images'
 * geometry. */
lt_status lt_run_sample_images(const char *run, const char *which, uint64_t seed, int64_t n, const lt_sample_opts *so,
                               float **out, int64_t *c, int64_t *h, int64_t *w);

/* ---- Probes of one feature space ---- */
typedef struct lt_probe_opts {
    int64_t knn_k;          /* 0 = 200 */
    double knn_T;           /* 0 = 0.1 */
    lt_logreg_opts lr;      /* max_iter and tol of each fit (l2 is picked on validation) */
    int64_t batch;          /* examples per forward pass (0 = 256) */
    lt_split_id eval_split; /* where the accuracies are measured: LT_SPLIT_TEST (default) or VALID */
} lt_probe_opts;

typedef struct lt_probe_result {
    int64_t feature_size, n_train, n_valid, n_eval, n_classes;
    lt_linear_probe_result linear; /* test_acc is on eval_split */
    double knn_acc;                /* bank: the training split; queries: eval_split */
    double seconds_features, seconds_linear, seconds_knn;
} lt_probe_result;

/* Features of the training, validation and evaluation splits through m (NULL: raw pixels),
 * the linear probe (penalty chosen on validation) and the k-NN probe. The data must have
 * labels in every split. */
lt_status lt_probe(lt_model *m, const lt_dataset *d, const lt_batch_opts *bo, const lt_probe_opts *o,
                   lt_probe_result *out);

/* ---- The trainer's per-epoch monitor ---- */
enum { LT_KNN_MONITOR_BANK = 10000 }; /* training examples in the bank (the first ones) */
/* For a model with features and data with labels in train and valid: appends "knn_acc", the
 * k-NN accuracy (k 200, T 0.1) of the validation split against the first LT_KNN_MONITOR_BANK
 * training examples, to names/values at *count (when *count < max); otherwise does nothing. */
lt_status lt_knn_monitor(lt_model *m, lt_graph *g, const lt_dataset *d, lt_binarize bin, uint64_t seed,
                         const char **names, double *values, int max, int *count);

#endif
