/* Run directories: config.json, metrics.jsonl, checkpoints/{best,last}.safetensors,
 * samples/. Every file is written to a temporary name and renamed into place,
 * so an interrupted run never leaves half a file.
 *
 * A checkpoint is train/checkpoint.h's layout (parameters, buffers, optimizer
 * state, the model's RNG in "rng") plus metadata: "format", the model name and
 * config, the training position and the trainer's RNG (lt_train_state) and
 * the class prior of class-conditional models. */
#ifndef LT_RUNDIR_H
#define LT_RUNDIR_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "models/model.h"
#include "optim/optim.h"

/* Where training stands; saved in every checkpoint. */
typedef struct lt_train_state {
    int64_t epoch;          /* epochs completed */
    int64_t step_in_epoch;  /* batches done in epoch `epoch` (0 at an epoch boundary) */
    int64_t global_step;    /* optimizer steps since the start of the run */
    double loss_sum;        /* sum of batch losses in the unfinished epoch */
    double best_valid;      /* best validation NLL so far (HUGE_VAL if none) */
    int64_t best_epoch;
    int64_t bad_epochs;     /* epochs since best_valid improved (early stopping) */
    double seconds;         /* training time so far */
    lt_rng rng;             /* the trainer's stream (dropout and model-side draws) */
} lt_train_state;

/* Makes DIR (and parents) if needed. */
lt_status lt_run_mkdir(const char *dir);
/* Writes n bytes to PATH atomically (PATH.tmp, fsync, rename). */
lt_status lt_run_write_file(const char *path, const void *bytes, size_t n);
/* Writes a JSON value to PATH atomically (PATH.tmp + rename), pretty-printed. */
lt_status lt_run_write_json(const char *path, const json_t *v);
/* Reads a JSON object; a missing file is LT_ERR_ARG, bad JSON LT_ERR_FORMAT. Caller decrefs. */
lt_status lt_run_read_json(const char *path, json_t **out);
/* Rewrites RUN/metrics.jsonl keeping lines whose "epoch" is < epoch, then `line`
 * (one JSON object, no newline). Lines from epochs past a resumed checkpoint vanish. */
lt_status lt_run_append_metrics(const char *run_dir, int64_t epoch, const char *line);

/* A directory's identity (device, inode). The trainer takes it when it starts and
 * checks it before each write: a run whose directory was deleted or replaced while it
 * ran (say, re-created for a new run while this one was still dying) fails with
 * LT_ERR_IO instead of writing into the directory that now has its name. */
typedef struct lt_run_id {
    uint64_t dev, ino;
} lt_run_id;
lt_status lt_run_identify(const char *dir, lt_run_id *out);
/* LT_OK while DIR is still the directory `id` was taken of. */
lt_status lt_run_check(const char *dir, const lt_run_id *id);

/* Saves model (+ optimizer, state and class prior when not NULL) to PATH. */
lt_status lt_checkpoint_save(const char *path, const lt_model *m, const lt_optim *o, const lt_train_state *s,
                             const double *class_prior);
/* The same with optimizer groups (train/phases.h): opts[0] under the plain names, opts[k]
 * (k > 0) under names[k] ("optim.<name>.m", ...); names[0] is not read. */
lt_status lt_checkpoint_save_groups(const char *path, const lt_model *m, lt_optim *const *opts,
                                    const char *const *names, int n_opts, const lt_train_state *s,
                                    const double *class_prior);
lt_status lt_checkpoint_load_groups(const char *path, lt_model *m, lt_optim *const *opts, const char *const *names,
                                    int n_opts, lt_train_state *s, double *class_prior);
/* Reads a checkpoint's model name and config (caller decrefs *config). */
lt_status lt_checkpoint_peek(const char *path, char *model_name, int cap, json_t **config);
/* Restores into an already created model of the same config (+ optimizer, state,
 * prior (m->n_classes doubles) when not NULL). Shapes must match exactly. A
 * checkpoint with a global step calls the model's on_step with the last step taken,
 * so state that follows the step (gsvae's temperature) is as it was when saved. */
lt_status lt_checkpoint_load(const char *path, lt_model *m, lt_optim *o, lt_train_state *s, double *class_prior);
/* Creates the model saved in RUN/checkpoints/WHICH.safetensors ("best" or "last")
 * and loads it. *prior gets m->n_classes doubles (lt_free) or NULL. */
lt_status lt_checkpoint_open_model(const char *run_dir, const char *which, lt_model **out, double **prior);

#endif
