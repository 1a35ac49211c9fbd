/* The trainer's optimizer groups and step phases (models/model.h's plan capability).
 *
 * A group is a contiguous slice [lo, hi) of the model's parameter block with its own
 * optimizer (state sized to the slice), learning rate, betas and schedule; a phase is a
 * loss over the batch whose gradients update one group. A model without the capability
 * is one group (the whole block, the run's optimizer) and one phase (its loss()), and the
 * trainer's step is then exactly what it was before groups existed.
 *
 * The run's settings (config.json "optimizer", "lr", "weight_decay", "l1", "schedule")
 * apply to every group; the model's betas come next; config.json's "groups" object
 * overrides a group by name: {"discriminator": {"lr": 2e-4, "schedule": "constant",
 * "optimizer": "adam", "beta1": 0.5, "beta2": 0.9, "weight_decay": 0}}.
 *
 * Checkpoints: group 0's optimizer state keeps the names a single optimizer always had
 * ("optim.m", "optim.v", "optim_kind", "optim_step"); group k > 0 saves
 * "optim.<name>.m" ... (rundir.h's lt_checkpoint_save_groups). */
#ifndef LT_PHASES_H
#define LT_PHASES_H

#include <jansson.h>

#include "core/graph.h"
#include "models/model.h"
#include "optim/optim.h"

typedef struct lt_train_group {
    const char *name;        /* the model's (static); "" for the one group of a plain model */
    int64_t lo, hi;          /* floats of m->params */
    lt_optim opt;            /* owned */
    lt_schedule sched;
    lt_params view;          /* the slice as a block: data + lo, grad + lo, total hi - lo */
    int ready;
} lt_train_group;

typedef struct lt_train_plan {
    int declared;            /* the model has the plan capability */
    int n_groups, n_phases;
    lt_train_group group[LT_MODEL_MAX_GROUPS];
    const char *phase_name[LT_MODEL_MAX_GROUPS];
    int phase_group[LT_MODEL_MAX_GROUPS];
    /* for lt_checkpoint_save_groups / _load_groups: group k's optimizer and name (NULL for
     * group 0: the legacy names) */
    lt_optim *opts[LT_MODEL_MAX_GROUPS];
    const char *names[LT_MODEL_MAX_GROUPS];
} lt_train_plan;

/* Builds the plan of model m from the run's config (see above); total_steps sets the
 * schedules' length. Messages name the flag or config key at fault (LT_ERR_ARG). */
lt_status lt_train_plan_init(lt_train_plan *p, lt_model *m, const json_t *run_cfg, int64_t total_steps);
void lt_train_plan_free(lt_train_plan *p);
/* Phase `phase`'s loss on g (plain models: loss()); *loss NULL when the phase sits out. */
lt_status lt_train_phase_loss(const lt_train_plan *p, lt_model *m, lt_graph *g, const lt_batch *b, int phase,
                              lt_tensor **loss);
/* The block phase `phase` updates (its group's slice). */
lt_params *lt_train_phase_params(lt_train_plan *p, int phase);
/* After backward (and the all-reduce): clips the group's gradient to clip (> 0), then
 * the group's optimizer step at its schedule's rate for global step `step`. Returns the
 * rate; *gnorm gets the gradient norm before clipping when clip > 0 or want_norm, else 0. */
double lt_train_phase_update(lt_train_plan *p, int phase, int64_t step, double clip, int want_norm, double *gnorm);

#endif
