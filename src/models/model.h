/* The one model interface. Every model (models/<name>.c) fills an
 * lt_model_vtable and is listed in models/registry.c; the trainer, evaluator and
 * CLI only ever call through it, never into a model's internals.
 *
 * Configuration is a JSON object (jansson) so it can be stored in config.json and
 * in checkpoint metadata; lt_model_create rejects keys the model does not accept
 * with LT_ERR_ARG ("option 'masks' does not apply to model 'fvsbn'"). The lt_model
 * owns its params, buffers, config copy and impl; lt_model_destroy frees all of them.
 *
 * Config keys. Common: "dim" (or "height" and "width": dim = channels*height*width
 * when dim is absent), "channels" (1 grey, 3 colour; default dim/(height*width)), "n_classes" (> 0: class-conditional, batches must carry labels
 * in [0, n_classes)), "seed" (initialization and masks; default 0).
 *   fvsbn  (none)
 *   nade   "hidden": H (default 500)
 *   made   "hidden": 500 | [500, 500] | "500,500" (default 500); "masks": K (default 1);
 *          "direct": bool (input->output connections); "order_agnostic": bool
 *   vae    "hidden" (default "500,500": encoder D-500-500-2Z, decoder Z-500-500-D),
 *          "latent": Z (50), "activation": softplus|relu|tanh (softplus), "iw": K (1; > 1
 *          trains on the IWAE bound with K samples), "kl_warmup": N steps of KL annealing (0)
 *   gsvae  "hidden" (default "512,256"; the decoder mirrors it), "latent": M variables
 *          (20; 200 for Bernoulli), "classes": K (10), "latent_type": categorical|bernoulli,
 *          "activation" (relu), "estimator" (gumbel; see dist/estimator.h), "tau0" (1),
 *          "tau_min" (0.5), "anneal_rate" (3e-5), "anneal_every" (500),
 *          "baseline_hidden" (100, score-nn's baseline MLP), "baseline_momentum" (0.9)
 *   gpt    "vocab": K codes (set from the data by the trainer), "layers" (4), "heads" (4),
 *          "d_model" C, the width (128; `--width`), "dropout" (0: embeddings, attention and MLP outputs), "tie": bool
 *          (the logits use the code embeddings, no separate head), "stage1": the stage-one
 *          run whose codes it models (a path, recorded only). dim = h·w codes in raster
 *          order; a token model (vt->tokens), log_prob in nats per code grid.
 *   vqvae  "hidden" (128), "res_blocks" (2), "res_hidden" (32), "codes": K (512), "code_dim": D
 *          (64), "downsample" 2|4|8 (4), "codebook" ema|plain (ema), "beta" (0.25), "decay" (0.99),
 *          "restart_threshold" (0: off), "codebook_init" random|kmeans (random), "cosine" (false), "binary" (set by
 *          the trainer: Bernoulli decoder, else MSE); docs/vqvae.md
 * Latent models' log_prob is an importance-sampled estimate with
 * lt_eval_opts.iw_samples samples (default 10: cheap validation; `latent eval --iw 5000`
 * for the reported number): for gsvae a multi-sample bound
 * with hard one-hot samples from q. Their elbo entry is the single-sample ELBO
 * averaged over 10 draws.
 * Integers may be JSON integers or integral reals; bools may be true/false or 0/1.
 *
 * Class-conditional p(x|y): the one-hot label is an extra input (fvsbn: to the
 * logits; nade: to the initial hidden pre-activation; made: to the first hidden
 * layer and the logits). Bayes classification calls log_prob once per label.
 *
 * Models run on the caller's graph for loss and log_prob and leave no state in it
 * beyond the tensors they return; MADE's log_prob and sample use a scratch graph of
 * their own (reset per mask / per pixel) and switch MADE's current mask, so call
 * them between training steps, never between a loss and its backward. */
#ifndef LT_MODEL_H
#define LT_MODEL_H

#include <jansson.h>
#include <stdint.h>

#include "core/graph.h"
#include "core/params.h"
#include "core/rng.h"
#include "dist/estimator.h"
#include "dist/sampling.h" /* lt_sample_opts: how token models draw codes */

typedef struct lt_batch {
    const float *x;      /* (n, dim) pixel values in [0,1] (binary for binary models) */
    const int64_t *y;    /* (n) class labels, or NULL */
    int64_t n, dim;
    const int64_t *tokens; /* (n, dim) integer codes in [0, vocab) for token models (vt->tokens;
                            * x may then be NULL), or NULL: a token model then reads the codes
                            * from x (exact integers as floats, as a token source's batches) */
} lt_batch;



typedef struct lt_eval_opts {
    int n_masks;         /* MADE: masks averaged at test time (log-mean-exp); 0 = model default */
    int iw_samples;      /* latent-variable models: importance samples; 0 = model default */
} lt_eval_opts;

typedef struct lt_model lt_model;
typedef struct lt_model_plan lt_model_plan; /* below */

typedef struct lt_model_vtable {
    const char *name;
    const char *const *config_keys;  /* NULL-terminated: keys create() accepts */
    /* Declares and initializes m->params (and m->buffers), from m->config. */
    lt_status (*create)(lt_model *m);
    /* Training loss (mean nats per example, scalar, recorded on g) for a batch. */
    lt_status (*loss)(lt_model *m, lt_graph *g, const lt_batch *b, lt_tensor **loss);
    /* Per-example log-likelihood in nats (exact, or a bound/estimate), no gradients. out (n).
     * o may be NULL (defaults). MADE: log-mean-exp over masks 0..n_masks-1 (default
     * all K trained masks; n_masks > K is LT_ERR_ARG). A batch whose dim differs from
     * the model's is LT_ERR_SHAPE; missing or out-of-range labels are LT_ERR_ARG. */
    lt_status (*log_prob)(lt_model *m, lt_graph *g, const lt_batch *b, const lt_eval_opts *o, double *out);
    /* n samples into out (n, dim), pixel by pixel, binary {0,1}; labels (n) for
     * class-conditional models, else NULL. MADE samples in mask 0's ordering. */
    lt_status (*sample)(lt_model *m, lt_graph *g, lt_rng *rng, int64_t n, const int64_t *labels, float *out);
    /* Called before each training step with the global step (MADE: mask = step mod K).
     * May be NULL. */
    void (*on_step)(lt_model *m, int64_t step);
    void (*destroy)(lt_model *m);    /* frees impl only */
    /* ---- Optional, latent-variable models only (NULL elsewhere). Each runs on the
     * caller's graph with gradients off and leaves only arena data there. ---- */
    /* Per-example evidence lower bound in nats (a Monte-Carlo estimate), out (n). */
    lt_status (*elbo)(lt_model *m, lt_graph *g, const lt_batch *b, const lt_eval_opts *o, double *out);
    /* Floats per example of the code encode() writes and decode() reads. */
    int64_t (*code_size)(const lt_model *m);
    /* The mean of q(z|x) (vae: mu; gsvae: class probabilities) into out (n, code_size). */
    lt_status (*encode)(lt_model *m, lt_graph *g, const lt_batch *b, float *out);
    /* Pixel probabilities of p(x|z) for codes z (n, code_size) into out (n, dim). */
    lt_status (*decode)(lt_model *m, lt_graph *g, const float *z, int64_t n, float *out);
    /* The temperature of a relaxed estimator now (gsvae; logged by the trainer), NAN when
     * the model's estimator has none. May be NULL. */
    double (*temperature)(const lt_model *m);
    /* For `latent estimators --run`: `draws` single-sample estimates of
     * ∇_φ E_{z~q(z|x)}[−log p(x|z)] with respect to the encoder's logits φ (n, code_size)
     * of batch b (decoder fixed; the analytic KL term is left out: it is the same
     * for every estimator), into out (draws, n·code_size). Estimator e at temperature
     * tau (<= 0: the model's); reference != 0: an unbiased low-variance reference
     * estimate instead (gsvae: local expectations, exact in each variable given a
     * draw of the others). Uses the model's scratch graph and changes the
     * parameters' gradients (call it between training steps, never inside one). May be NULL. */
    lt_status (*latent_grads)(lt_model *m, const lt_batch *b, lt_estimator e, int reference, float tau, int64_t draws,
                              lt_rng *r, float *out);
    /* The range of the pixel values the model reads and samples: LT_MODEL_RANGE_UNIT
     * ([0, 1], the default: 0 when left out) or LT_MODEL_RANGE_SIGNED ([-1, 1]); the
     * data is converted to it per batch, grids map it back to [0, 1]. */
    int range;
    /* ---- Token models (gpt): 1 when the model reads lt_batch.tokens (code grids of a token
     * source, dataset.vocab > 0) instead of pixels; the trainer and evaluator fill tokens
     * and refuse a model/data mismatch. 0 (left out) for pixel models. ---- */
    int tokens;
    /* n code grids (n, dim) into out, drawn with o (NULL: temperature 1, no filter); labels (n)
     * for class-conditional models, else NULL. sample() of a token model writes the same
     * codes as floats. */
    lt_status (*sample_codes)(lt_model *m, lt_graph *g, lt_rng *rng, int64_t n, const int64_t *labels,
                              const lt_sample_opts *o, int64_t *out);
    /* ---- Optional capabilities (0 / NULL elsewhere) ---- */
    /* The model reads pixel values as they are (vqvae): `--binarize auto` resolves to none,
     * and the trainer tells it in the config key "binary" whether the values are 0/1. */
    int continuous;
    /* Named validation metrics, logged per epoch (metrics.jsonl "valid_<name>", TensorBoard
     * "valid/<name>") and printed by `latent eval`: metrics_begin resets the model's
     * accumulators, metrics_add takes a batch (no gradients; arena data only on g),
     * metrics_end writes up to max names (static strings) and values, returns the count. */
    void (*metrics_begin)(lt_model *m);
    lt_status (*metrics_add)(lt_model *m, lt_graph *g, const lt_batch *b);
    int (*metrics_end)(lt_model *m, const char **names, double *values, int max);
    /* Data-parallel validation (optional beside the metrics): the accumulators metrics_add sums
     * over examples, as doubles. metrics_export writes them to acc (at most max; acc NULL: only
     * the count) and returns their count; metrics_import sets them. Ranks each add their share
     * of the split, the exports are summed across ranks and imported, and metrics_end reports
     * the whole split (train/evaluate.h: lt_evaluate_metrics_part). */
    int64_t (*metrics_export)(lt_model *m, double *acc, int64_t max);
    void (*metrics_import)(lt_model *m, const double *acc, int64_t n);
    /* Discrete codes: encode writes code indices (integers stored as floats, exact below
     * 2^24) of an h×w grid, row-major, code_size = h·w, and decode reads them; K codes. */
    lt_status (*code_grid)(const lt_model *m, int64_t *h, int64_t *w, int64_t *K);
    /* Representations (self-supervised encoders, vqvae): feature_size() floats per example,
     * and features() writes the frozen encoder's features of batch b into out (n,
     * feature_size) with gradients off (arena data only on g). `latent probe` and
     * `latent fd` read them; the model chooses the layer (docs/ssl.md). */
    int64_t (*feature_size)(const lt_model *m);
    lt_status (*features)(lt_model *m, lt_graph *g, const lt_batch *b, float *out);
    /* Views (self-supervised models; 0 or 1 elsewhere): views > 1 makes the trainer and the
     * validation hand loss() views·n rows for n examples, row v·n + i = view v of example i,
     * each view with its own augmentation draws (train/views.h); b->n = views·n, b->y the n
     * examples' labels or NULL. Such a model may leave log_prob and sample NULL: its
     * validation value is then its loss on views of the validation split (train/views.h). */
    int views;
    /* ---- Optimizer groups and step phases (two-player training: vqgan; docs/vqgan.md) ----
     * plan() declares the groups (each a contiguous range of m->params with its own optimizer,
     * learning rate, betas and schedule) and the phases of a step; a step runs the phases in
     * order, each with the gradient block zeroed: phase p's loss (phase_loss) is
     * back-propagated, all-reduced over the ranks and updates its group alone. Without plan
     * (NULL): one group of every parameter, one phase whose loss is loss(). */
    lt_status (*plan)(const lt_model *m, lt_model_plan *out);
    /* Phase `phase`'s loss for batch b (scalar on g), or *loss = NULL: the phase sits this
     * step out (no backward, no update; its optimizer does not count the step). */
    lt_status (*phase_loss)(lt_model *m, lt_graph *g, const lt_batch *b, int phase, lt_tensor **loss);
    /* Training scalars of the last step (losses, weights, logits: static names), which the
     * trainer averages and logs every log_every steps (TensorBoard "train/<name>") and per
     * epoch (metrics.jsonl "train_<name>"). Returns the count (at most max). May be NULL. */
    int (*train_stats)(const lt_model *m, const char **names, double *values, int max);
    /* Divergence guard, after each step: NULL while training is sound, else a sentence
     * saying what went wrong ("discriminator loss pinned at 0 for 500 steps"), which stops
     * the run as a NaN loss does. May be NULL. */
    const char *(*diverged)(lt_model *m);
    /* ---- Data-parallel training (docs/distributed.md): how a training step couples the
     * examples of a batch beyond a mean of per-example terms with noise drawn through g->part.
     * NULL or LT_MODEL_COUPLING_NONE: it does not; N processes train what one does.
     * LT_MODEL_COUPLING_GROUP: the training forward also measures the whole batch through the
     * graph's group sums (core/graph.h lt_graph_sum_*: a codebook's moving averages, a
     * moving-average baseline); exact, but every process must run every step's forward, so the
     * trainer refuses a run whose last batch would leave a process without examples.
     * LT_MODEL_COUPLING_WHOLE: the loss needs the whole batch in one process (BatchNorm's batch
     * statistics, a contrastive loss's negatives), not supported over processes; the trainer
     * refuses N > 1. *why (static or the model's) says what, for the message. steps: the global
     * steps the run trains to (a coupling that starts at some step). ---- */
    int (*coupling)(const lt_model *m, int64_t steps, const char **why);
} lt_model_vtable;

enum { LT_MODEL_COUPLING_NONE = 0, LT_MODEL_COUPLING_GROUP = 1, LT_MODEL_COUPLING_WHOLE = 2 };

/* A model's groups and phases (plan capability). Names are static strings; a group's name
 * is its key under config.json's "groups" object, which can override its "lr",
 * "schedule", "optimizer", "beta1", "beta2" and "weight_decay" (lt_train_plan). */
enum { LT_MODEL_MAX_GROUPS = 4 };
typedef struct lt_model_group {
    const char *name;      /* "generator", "discriminator" */
    int64_t lo, hi;        /* floats [lo, hi) of m->params.data */
    float beta1, beta2;    /* the model's Adam betas for the group; 0: the optimizer's default */
} lt_model_group;
struct lt_model_plan {
    int n_groups, n_phases;
    lt_model_group group[LT_MODEL_MAX_GROUPS];
    const char *phase_name[LT_MODEL_MAX_GROUPS];
    int phase_group[LT_MODEL_MAX_GROUPS]; /* the group phase p updates */
};

enum { LT_MODEL_RANGE_UNIT = 0, LT_MODEL_RANGE_SIGNED = 1 }; /* = lt_range of data/dataset.h */

struct lt_model {
    const lt_model_vtable *vt;
    json_t *config;      /* owned */
    int64_t dim, height, width;  /* data geometry: dim = height*width (*channels) */
    int64_t channels;            /* C of (C, H, W): dim = channels*height*width */
    int64_t n_classes;   /* > 0: class-conditional p(x|y) */
    lt_params params;    /* trained parameters */
    lt_params buffers;   /* saved, not trained (MADE: "degrees" (K, D+ΣH), every mask's
                          * connectivity; load them with the params and the model follows) */
    lt_rng rng;          /* the model's own randomness (initialization, masks) */
    void *impl;
    int64_t vocab;       /* token models: codes in [0, vocab) (config "vocab"); 0 otherwise */
};

/* Builds a model: name from the registry; config keys per model plus the
 * common "dim", "height", "width", "n_classes", "seed". */
lt_status lt_model_create(const char *name, const json_t *config, lt_model **out);
void lt_model_destroy(lt_model *m);
const lt_model_vtable *lt_model_find(const char *name);
/* Names of all registered models, NULL-terminated. */
const char *const *lt_model_names(void);

#endif
