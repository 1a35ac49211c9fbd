/* Evaluation over a data split: exact (or estimated) negative log-likelihood
 * per example in nats, its standard error, bits per dimension, and Bayes
 * classification p(y|x) ∝ p(x|y) p(y) for class-conditional models. */
#ifndef LT_EVALUATE_H
#define LT_EVALUATE_H

#include "core/graph.h"
#include "data/dataset.h"
#include "models/model.h"
#include "train/comm.h"

typedef struct lt_eval_data {
    const lt_dataset *data;
    lt_split_id split;
    lt_binarize binarize;
    uint64_t seed;        /* the binarization seed (the run's) */
    int64_t batch;        /* examples per log_prob call (0 = 100) */
} lt_eval_data;

typedef struct lt_eval_result {
    int64_t examples;
    double nll_nats;      /* mean -log p(x) (class-conditional: -log p(x|y) with the true label) */
    double nll_stderr;    /* standard error of that mean: sd / sqrt(n) */
    double bits_per_dim;  /* nll_nats / (D ln 2) */
    double accuracy;      /* lt_evaluate_classify only */
    double marginal_nll_nats; /* lt_evaluate_classify only: -log Σ_y p(x|y) p(y) */
} lt_eval_result;

/* NLL over the whole split. g is a scratch graph (reset per batch). */
lt_status lt_evaluate_nll(lt_model *m, lt_graph *g, const lt_eval_data *d, const lt_eval_opts *o, lt_eval_result *out);

/* Bayes classification with log prior log p(y) from `prior` (m->n_classes
 * probabilities): accuracy, the marginal NLL, and the conditional NLL (as
 * lt_evaluate_nll). The split must have labels and the model be class-conditional. */
lt_status lt_evaluate_classify(lt_model *m, lt_graph *g, const lt_eval_data *d, const lt_eval_opts *o,
                               const double *prior, lt_eval_result *out);

/* Mean per-example ELBO in nats (m->vt->elbo, a Monte-Carlo estimate) over the
 * whole split, and its standard error; LT_ERR_ARG for a model without a bound. */
lt_status lt_evaluate_elbo(lt_model *m, lt_graph *g, const lt_eval_data *d, const lt_eval_opts *o, double *mean,
                           double *stderr_out);

/* lt_evaluate_nll and lt_evaluate_elbo over examples [first, first + count) of the split only
 * (count >= 1): one rank's share of a validation split that the trainer reduces across ranks. */
lt_status lt_evaluate_nll_part(lt_model *m, lt_graph *g, const lt_eval_data *d, const lt_eval_opts *o, int64_t first,
                               int64_t count, lt_eval_result *out);
lt_status lt_evaluate_elbo_part(lt_model *m, lt_graph *g, const lt_eval_data *d, const lt_eval_opts *o, int64_t first,
                                int64_t count, double *mean, double *stderr_out);

/* Token sources: the entropy of split s's empirical code distribution (the unigram
 * frequencies of all its codes), in nats per code: the anchor a prior's NLL per code
 * should beat. LT_ERR_ARG for pixel data. */
lt_status lt_evaluate_unigram_entropy(const lt_dataset *d, lt_split_id s, double *nats_per_code);

/* The model's named metrics (lt_model_vtable.metrics_*) over the whole split: up to max
 * names and values, *count of them (0 for a model without metrics). */
#define LT_EVAL_MAX_METRICS 16
lt_status lt_evaluate_metrics(lt_model *m, lt_graph *g, const lt_eval_data *d, const char **names, double *values,
                              int max, int *count);

/* Data-parallel validation: every rank of c calls this with its share [first, first + n) of
 * the split (n may be 0); each adds its share, the accumulators (metrics_export) are summed
 * across the ranks and imported, and every rank gets the whole split's metrics. Needs the
 * export capability (lt_evaluate_metrics_splits; LT_ERR_ARG otherwise). */
int lt_evaluate_metrics_splits(const lt_model *m);
lt_status lt_evaluate_metrics_part(lt_model *m, lt_graph *g, const lt_eval_data *d, int64_t first, int64_t n,
                                   lt_comm *c, const char **names, double *values, int max, int *count);

/* Class frequencies of a split's labels (n_classes doubles, summing to 1). */
lt_status lt_class_prior(const lt_dataset *d, lt_split_id s, int64_t n_classes, double *prior);

#endif
