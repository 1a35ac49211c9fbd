/* Generic checkpoint helpers: the tensors and counters of a training state in
 * one safetensors file, named so that a checkpoint is readable anywhere:
 *   "param.<name>", "buffer.<name>"  F32 with each tensor's shape
 *   "optim.m", "optim.v"             F32 (n): the optimizer's state block
 *   metadata "optim_kind" ("adam", ...), "optim_step", "rng" ("key:counter")
 *   "optim.<name>.m", "optim.<name>.v", "optim_kind.<name>", "optim_step.<name>": more
 *                                    optimizers (one per optimizer group after the first)
 * plus any string metadata of the caller (model name, config, ...).
 * Loading validates the whole file against the model before it changes
 * anything: on failure, params, buffers, optimizer and RNG are untouched. */
#ifndef LT_CHECKPOINT_H
#define LT_CHECKPOINT_H

#include "core/params.h"
#include "core/rng.h"
#include "io/safetensors.h"
#include "optim/optim.h"

/* The parts of a training state; any pointer may be NULL (not saved / not loaded).
 * Nothing here is owned by the struct. */
typedef struct lt_ckpt {
    lt_params *params;
    lt_params *buffers;
    lt_optim *optim;
    lt_rng *rng;
    /* Optional: called on a checked file before anything is copied, to check (and
     * read into the caller's temporaries) more metadata; a failure loads nothing. */
    lt_status (*check_meta)(const char *path, const lt_st_file *f, void *ud);
    void *ud;
    /* More optimizers (train/phases.h's groups), each saved as "optim.<name>.m",
     * "optim.<name>.v" with metadata "optim_kind.<name>", "optim_step.<name>"; loaded and
     * checked as `optim` is. n_more 0: none. */
    int n_more;
    lt_optim *const *more;
    const char *const *more_names;
} lt_ckpt;

/* Writes PATH atomically (see safetensors.h). meta: extra string metadata; its
 * keys must not be the reserved "optim_kind", "optim_step" or "rng". */
lt_status lt_ckpt_save(const char *path, const lt_ckpt *c, const lt_st_kv *meta, int64_t n_meta);

/* Restores the non-NULL parts of c from PATH. Every parameter (and buffer) must
 * be in the file as F32 with the model's shape, the file must hold no
 * "param."/"buffer." tensor the model lacks, and the optimizer state must be of
 * the same kind and size. LT_ERR_FORMAT with a message naming the tensor
 * otherwise; nothing is copied unless every check (and c->check_meta) passes. With file != NULL the opened file is handed over for reading more
 * metadata (lt_safetensors_meta); the caller closes it. On failure *file is
 * left closed. */
lt_status lt_ckpt_load(const char *path, const lt_ckpt *c, lt_st_file *file);

#endif
