/* The training loop for any model behind the model interface.
 *
 * A run directory RUN gets config.json (everything needed to resume or
 * evaluate), metrics.jsonl (one JSON object per epoch), checkpoints/last and
 * checkpoints/best (lowest validation NLL, or negative ELBO with select), periodic checkpoints
 * checkpoints/epoch-NNN (the `keep` newest plus the best epoch's),
 * samples/epoch-NNN.png, and a TensorBoard event file per session
 * (train/events.h): scalars every `log_every` steps, validation scalars and
 * the sample grid after every epoch (then flushed), the configuration as text.
 *
 * Per step: a shuffled batch (a permutation per epoch from the seed), the
 * model's on_step, loss, backward, optional gradient clipping, an optimizer
 * step at the schedule's learning rate, graph reset. A model with optimizer groups
 * and step phases (model.h's plan; train/phases.h) runs this once per phase, each
 * phase updating its own group with its own optimizer and schedule; every group's
 * optimizer state is checkpointed. The graph is in training mode (g->training)
 * during the step and in evaluation mode for validation and sampling. The model's
 * training scalars (train_stats) are averaged into the event file every `log_every`
 * steps and into metrics.jsonl per epoch; its divergence guard (diverged) stops the
 * run as a NaN loss does, keeping the last good checkpoint. Buffers are allocated
 * before the first step; a step allocates nothing beyond what the graph arena
 * already holds. After each epoch: validation NLL, checkpoints, metrics, a
 * sample grid, early stopping.
 *
 * Data-parallel (cfg->comm with N ranks): `batch` stays the global batch (N must divide it);
 * rank r takes its contiguous share of every batch of the one seeded permutation, per-example
 * noise follows the whole batch's draws (lt_graph.part), the gradients are summed in place
 * over the one flat block (each rank's mean weighted by its share), and every rank takes the
 * same optimizer step; so N ranks train what one rank does up to float summation order.
 * A stop seen on any rank stops all at the same step. Validation is split and reduced.
 * LT_TRACE_EXAMPLES=PREFIX (a test hook) appends "epoch index" per training example each
 * rank consumes to PREFIX.R (R = the rank).
 *
 * The library never prints: progress goes to the caller's callbacks. */
#ifndef LT_TRAINER_H
#define LT_TRAINER_H

#include <jansson.h>
#include <signal.h>
#include <stdint.h>

#include "core/status.h"
#include "data/dataset.h"
#include "train/comm.h"

enum { LT_TRAIN_KEEP_DEFAULT = 5 };

typedef struct lt_train_config {
    const char *run_dir;       /* RUN */
    /* Ignored when resuming (read back from RUN/config.json): */
    const char *model;         /* "fvsbn", "nade", "made", ... */
    const json_t *model_config;/* model-specific keys (hidden, masks, ...); not owned; NULL = {} */
    const char *data;          /* data source: a directory or "tfrecord:PATTERN" */
    const char *features;      /* feature spec file for a tfrecord: source, else NULL */
    const char *augment;       /* training augmentation, lt_augment_parse's "crop:4,flip"; NULL = none */
    int64_t limit;             /* > 0: first `limit` examples of each split */
    int binarize;              /* lt_binarize, or -1: none for binary data, else stochastic */
    int conditional;           /* p(x|y): n_classes from the data's labels */
    int64_t batch;             /* examples per step (default 100) */
    const char *optimizer;     /* "adam" (default), "adamw", "adagrad", "sgd" */
    double lr;                 /* default 1e-3 */
    double weight_decay;
    double l1;                 /* L1 penalty on every parameter (optim.h); 0 = none */
    const char *schedule;      /* lt_schedule_parse spec; NULL = "constant" */
    double clip;               /* > 0: clip the gradient's global norm */
    int64_t patience;          /* > 0: stop after this many epochs without a better validation NLL */
    int64_t sample_n;          /* images in each epoch's grid (0 = 64; < 0 = none) */
    uint64_t seed;
    int eval_masks;            /* lt_eval_opts.n_masks for validation (0 = model default) */
    const char *select;        /* what picks `best` and drives patience: "nll" (default, the
                                  validation NLL) or "neg_elbo" (the validation negative ELBO,
                                  for models with a bound) */
    /* Used both when starting and when resuming: */
    int resume;                /* continue RUN from checkpoints/last */
    int64_t epochs;            /* total epochs (resume: 0 = as configured) */
    int64_t valid_every;       /* validate (and sample, pick best, count patience) every N epochs and
                                  after the last; 0 = as configured (fresh: 1). Recorded in config.json;
                                  a resume may change it. Patience stays in epochs: a validation without
                                  improvement counts the epochs since the previous one */
    int64_t log_every;         /* training scalars to the event file every N steps (0 = 50) */
    int64_t keep;              /* periodic checkpoints kept: N newest plus the best epoch's
                                  (0 = LT_TRAIN_KEEP_DEFAULT, < 0 = all) */
    int64_t bucket_bytes;      /* N > 1: the gradient all-reduce in buckets of this many bytes, started
                                  during the backward sweep (0 = 25 MB; < 0 = one all-reduce after it) */
    volatile sig_atomic_t *stop; /* polled after every step; non-zero = save last and stop */
    lt_comm *comm;             /* the process group (train/comm.h); NULL = this process alone. With N > 1
                                  ranks every rank trains the whole model on its share of each batch
                                  (docs/distributed.md); rank 0 alone writes RUN and calls the callbacks */
    const json_t *groups;      /* ignored when resuming: per optimizer group overrides of a model with groups,
                                  {"discriminator": {"lr": 2e-4, ...}} (train/phases.h); not owned; NULL = none */
} lt_train_config;

typedef struct lt_train_progress {
    int64_t epoch, epochs;     /* the current epoch, 1-based, of epochs */
    int64_t step, steps;       /* batches done in this epoch, of steps */
    int64_t global_step;
    double loss;               /* mean training loss so far this epoch */
    double examples_per_s;     /* over this epoch so far */
    double eta_s;              /* estimated seconds to the end of the last epoch (validation included
                                * once an epoch has been timed) */
} lt_train_progress;

typedef struct lt_epoch_report {
    int64_t epoch, epochs, global_step;
    double train_loss;         /* mean batch loss over the epoch (nats/example) */
    double valid_nll, valid_stderr, valid_bits_per_dim;
    int64_t valid_examples;
    double lr;                 /* at the epoch's last step */
    double seconds;            /* wall time of this epoch (training + validation) */
    double examples_per_s;     /* training throughput of this epoch */
    int is_best;
    int stop_early;            /* patience ran out after this epoch */
    double valid_neg_elbo;     /* models with a bound: negative ELBO on validation (nats); NAN otherwise */
    double temperature;        /* models with a relaxation temperature: its value now; NAN otherwise */
    const char *line;          /* the metrics.jsonl line for this epoch (valid during the call) */
} lt_epoch_report;

typedef struct lt_train_callbacks {
    void *ud;
    void (*on_start)(void *ud, const char *run_dir, int64_t start_epoch, int64_t epochs, int64_t steps_per_epoch,
                     int64_t n_params);  /* may be NULL */
    void (*on_step)(void *ud, const lt_train_progress *p);     /* after every step; may be NULL */
    void (*on_epoch)(void *ud, const lt_epoch_report *r);      /* may be NULL */
} lt_train_callbacks;

/* Trains (or resumes) a run. LT_ERR_INTERRUPTED after *stop was seen (last saved
 * at the step reached); LT_ERR_NUMERIC on a NaN/Inf loss (message names the step;
 * checkpoints keep the last good state); LT_ERR_ARG for bad settings or data. */
lt_status lt_train(const lt_train_config *cfg, const lt_train_callbacks *cb);

#endif
