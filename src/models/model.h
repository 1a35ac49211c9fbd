/* The one model interface. Every model (models/<name>.c) fills an
 * lt_model_vtable and is listed in models/registry.c; the trainer, evaluator and
 * CLI only ever call through it, never into a model's internals.
 *
 * Configuration is a JSON object (jansson) so it can be stored in config.json and
 * in checkpoint metadata; create() rejects keys it does not accept with
 * LT_ERR_ARG ("--masks does not apply to model fvsbn"). The lt_model owns its
 * params, buffers, config copy and impl; lt_model_destroy frees all of them. */
#ifndef LT_MODEL_H
#define LT_MODEL_H

#include <jansson.h>
#include <stdint.h>

#include "core/graph.h"
#include "core/params.h"
#include "core/rng.h"

typedef struct lt_batch {
    const float *x;      /* (n, dim) pixel values in [0,1] (binary for binary models) */
    const int64_t *y;    /* (n) class labels, or NULL */
    int64_t n, dim;
} lt_batch;

typedef struct lt_eval_opts {
    int n_masks;         /* MADE: masks averaged at test time (log-mean-exp); 0 = model default */
    int iw_samples;      /* latent-variable models: importance samples; 0 = model default */
} lt_eval_opts;

typedef struct lt_model lt_model;

typedef struct lt_model_vtable {
    const char *name;
    const char *const *config_keys;  /* NULL-terminated: keys create() accepts */
    /* Declares and initializes m->params (and m->buffers), from m->config. */
    lt_status (*create)(lt_model *m);
    /* Training loss (mean nats per example, scalar, recorded on g) for a batch. */
    lt_status (*loss)(lt_model *m, lt_graph *g, const lt_batch *b, lt_tensor **loss);
    /* Per-example log-likelihood in nats (exact, or a bound/estimate), no gradients. out (n) */
    lt_status (*log_prob)(lt_model *m, lt_graph *g, const lt_batch *b, const lt_eval_opts *o, double *out);
    /* n samples into out (n, dim); labels (n) for class-conditional models, else NULL. */
    lt_status (*sample)(lt_model *m, lt_graph *g, lt_rng *rng, int64_t n, const int64_t *labels, float *out);
    /* Called before each training step (e.g. to cycle MADE masks). May be NULL. */
    void (*on_step)(lt_model *m, int64_t step);
    void (*destroy)(lt_model *m);    /* frees impl only */
} lt_model_vtable;

struct lt_model {
    const lt_model_vtable *vt;
    json_t *config;      /* owned */
    int64_t dim, height, width;  /* data geometry: dim = height*width (*channels) */
    int64_t n_classes;   /* > 0: class-conditional p(x|y) */
    lt_params params;    /* trained parameters */
    lt_params buffers;   /* saved, not trained (masks, orderings, statistics) */
    lt_rng rng;          /* the model's own randomness (initialization, masks) */
    void *impl;
};

/* Builds a model: name from the registry; config keys per model plus the
 * common "dim", "height", "width", "n_classes", "seed". */
lt_status lt_model_create(const char *name, const json_t *config, lt_model **out);
void lt_model_destroy(lt_model *m);
const lt_model_vtable *lt_model_find(const char *name);
/* Names of all registered models, NULL-terminated. */
const char *const *lt_model_names(void);

#endif
