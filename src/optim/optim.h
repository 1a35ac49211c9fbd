/* Optimizers over a whole lt_params block (one flat loop), gradient clipping,
 * learning-rate schedules. An lt_optim owns its state arrays (m, v, ...), each
 * with the parameter block's layout, so a checkpoint saves them as tensors. */
#ifndef LT_OPTIM_H
#define LT_OPTIM_H

#include <stdint.h>

#include "core/params.h"

typedef enum lt_optim_kind { LT_OPTIM_SGD, LT_OPTIM_ADAM, LT_OPTIM_ADAMW, LT_OPTIM_ADAGRAD } lt_optim_kind;

typedef struct lt_optim_config {
    lt_optim_kind kind;
    float lr;
    float momentum;      /* SGD (0 = plain) */
    float beta1, beta2;  /* Adam/AdamW; defaults 0.9, 0.999 */
    float eps;           /* Adam 1e-8, Adagrad 1e-10 */
    float weight_decay;  /* L2 added to the gradient (SGD, Adam, Adagrad) or decoupled (AdamW) */
    float l1;            /* L1 penalty l1·Σ|p|: its subgradient l1·sign(p) added to the gradient (all kinds) */
} lt_optim_config;

typedef struct lt_optim {
    lt_optim_config cfg;
    int64_t n;           /* floats in the parameter block */
    int64_t step;        /* updates done (Adam bias correction) */
    float *m;            /* (n) momentum / first moment / Adagrad sum of squares */
    float *v;            /* (n) second moment (Adam), NULL otherwise */
} lt_optim;

/* Defaults for fields left 0: lt_optim_config_default(kind, lr). */
lt_optim_config lt_optim_config_default(lt_optim_kind kind, float lr);
lt_status lt_optim_init(lt_optim *o, const lt_optim_config *cfg, const lt_params *p);
void lt_optim_free(lt_optim *o);
/* One update of p->data from p->grad with learning rate lr (the schedule's value). */
void lt_optim_step(lt_optim *o, lt_params *p, float lr);
/* Scales the gradient block so its global L2 norm is at most max_norm; returns the norm before. */
double lt_clip_grad_norm(lt_params *p, double max_norm);
/* "sgd", "adam", "adamw", "adagrad" -> kind; -1 if unknown. */
int lt_optim_kind_parse(const char *s);

typedef enum lt_schedule_kind { LT_SCHED_CONSTANT, LT_SCHED_STEP, LT_SCHED_COSINE } lt_schedule_kind;
typedef struct lt_schedule {
    lt_schedule_kind kind;
    float base_lr;
    int64_t warmup_steps;   /* linear warm-up from 0 over these steps (any kind) */
    int64_t step_size;      /* STEP: multiply by gamma every step_size steps */
    float gamma;
    int64_t total_steps;    /* COSINE: decays to min_lr at total_steps */
    float min_lr;
} lt_schedule;
float lt_schedule_lr(const lt_schedule *s, int64_t step);
/* Parses "constant", "step:SIZE:GAMMA", "cosine[:MIN_LR]", each optionally followed by
 * ",warmup:N", e.g. "cosine,warmup:500". total_steps is set by the caller. */
lt_status lt_schedule_parse(const char *spec, float base_lr, lt_schedule *out);

#endif
