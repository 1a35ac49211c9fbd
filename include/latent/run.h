/* liblatent's public interface, part 3: training a model into a run directory and
 * using a trained run.
 *
 * A run directory RUN holds config.json (the model, its data and every setting),
 * metrics.jsonl (one JSON object per epoch), checkpoints/{best,last,epoch-NNN}.safetensors,
 * samples/ and a TensorBoard event file: what `latent train --out RUN` writes, so a
 * run made by the library can be read by the command line tool and the other way round. */
#ifndef LATENT_RUN_H
#define LATENT_RUN_H

#include "latent/common.h"
#include "latent/data.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Training ---- */

typedef struct lt_epoch_info {
    int64_t epoch, epochs;      /* this epoch (1-based) of epochs */
    double train_loss;          /* mean training loss over the epoch (nats per example) */
    double valid_nll;           /* validation NLL (nats per example) and its standard error */
    double valid_stderr;
    double valid_bits_per_dim;
    double seconds;             /* wall time of the epoch */
    int is_best;                /* checkpoints/best was saved from this epoch */
    const char *json;           /* the epoch's metrics.jsonl line (valid during the call) */
} lt_epoch_info;

/* Called after every epoch; return non-zero to stop training there (checkpoints/last
 * is saved, and lt_run_train returns LATENT_ERR_INTERRUPTED). */
typedef int (*lt_epoch_fn)(void *ud, const lt_epoch_info *e);

/* Trains a model into RUN (made if needed) with the settings of `options`, a JSON
 * object whose keys are latent train's flags with '_' for '-':
 *   "model"       "fvsbn" | "nade" | "made" | "vae" | "gsvae"              (required)
 *   "data"        a directory or "tfrecord:PATTERN"                        (required)
 *   "features"    the feature-spec file of a tfrecord: source
 *   "model_config" an object of the model's keys, e.g. {"hidden": [500], "masks": 4}
 *                 (the keys are listed in `latent train --help` and docs/models.md)
 *   "epochs" (10) "batch" (100) "optimizer" ("adam") "lr" (1e-3) "weight_decay" "l1"
 *   "schedule" "clip" "patience" "seed" (1) "limit" "binarize" "conditional" (bool)
 *   "samples" (images in each epoch's grid, 64; 0 = none) "eval_masks" "select"
 *   "log_every" (50) "keep" (5; -1 = all)
 *   "resume" (bool): continue RUN from checkpoints/last (only "epochs", "log_every"
 *                 and "keep" may be given with it)
 * An unknown key or a value of the wrong type is LATENT_ERR_ARG. on_epoch may be NULL. */
LT_API int lt_run_train(const char *run_dir, const char *options, lt_epoch_fn on_epoch, void *ud);

/* ---- Using a trained run ---- */

typedef struct lt_run lt_run;

typedef struct lt_run_info {
    const char *model;          /* "made", "vae", ... */
    int64_t dim;                /* floats per example: channels * height * width */
    int64_t channels, height, width;
    int64_t n_classes;          /* > 0: a class-conditional model p(x|y) */
    int64_t code_size;          /* floats per example of lt_run_encode's code; 0: no encoder */
    int64_t n_params;           /* trained parameters */
    const char *data;           /* the run's data source, feature spec (NULL if none) and */
    const char *features;       /* examples per split (0 = all): lt_source_open's arguments */
    int64_t limit;              /* for the run's own data; the strings live while the run is open */
} lt_run_info;

/* Loads checkpoint `checkpoint` ("best", "last" or "epoch-NNN"; NULL = "best") of RUN.
 * Free with lt_run_close. A run is used by one thread at a time. */
LT_API int lt_run_open(const char *run_dir, const char *checkpoint, lt_run **out);
LT_API void lt_run_close(lt_run *r);
LT_API void lt_run_describe(const lt_run *r, lt_run_info *out);

/* n samples into x (n, dim), binary {0,1}, reproducible from seed. labels (n) pick
 * the classes of a class-conditional model (NULL: i mod n_classes); NULL otherwise. */
LT_API int lt_run_sample(lt_run *r, int64_t n, uint64_t seed, const int64_t *labels, float *x);
/* log p(x) (log p(x|y) with labels y (n) for a class-conditional model) in nats per
 * example into out (n): exact for autoregressive models, an importance-sampled
 * estimate for latent-variable ones. x (n, dim) as the model was trained on (binary). */
LT_API int lt_run_log_prob(lt_run *r, const float *x, const int64_t *y, int64_t n, double *out);

typedef struct lt_eval_summary {
    int64_t examples;
    double nll_nats;            /* mean -log p(x) per example */
    double nll_stderr;          /* its standard error */
    double bits_per_dim;
} lt_eval_summary;

/* The NLL of a whole split of `data`, binarized as the run was trained (the same
 * number as `latent eval RUN --split SPLIT`). */
LT_API int lt_run_evaluate(lt_run *r, const lt_source *data, const char *split, lt_eval_summary *out);

/* Latent-variable models (code_size > 0): the mean of q(z|x) for x (n, dim) into
 * z (n, code_size), and the pixel probabilities of p(x|z) for z into x (n, dim). */
LT_API int lt_run_encode(lt_run *r, const float *x, int64_t n, float *z);
LT_API int lt_run_decode(lt_run *r, const float *z, int64_t n, float *x);

/* Writes n images (n, channels, height, width), values in [0,1], as a PNG grid of
 * `cols` columns (0 = about square) to PATH, atomically (PATH.tmp, then rename). */
LT_API int lt_png_grid_save(const char *path, const float *images, int64_t n, int64_t channels, int64_t height,
                            int64_t width, int64_t cols);

#ifdef __cplusplus
}
#endif

#endif
