/* Optimizer groups and step phases (see phases.h). */
#include "train/phases.h"

#include <math.h>
#include <string.h>

static const char *lti_str(const json_t *o, const char *k, const char *def) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : def;
}
static double lti_num(const json_t *o, const char *k, double def) {
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : def;
}

/* The model's plan, or the plain one: every parameter, one phase. Checked against the block. */
static lt_status lti_model_plan(const lt_model *m, lt_model_plan *mp) {
    memset(mp, 0, sizeof *mp);
    if (!m->vt->plan) {
        *mp = (lt_model_plan){1, 1, {{"", 0, m->params.total, 0, 0}}, {""}, {0}};
        return LT_OK;
    }
    lt_status st = m->vt->plan(m, mp);
    if (st) return st;
    if (!m->vt->phase_loss || mp->n_groups < 1 || mp->n_groups > LT_MODEL_MAX_GROUPS || mp->n_phases < 1 ||
        mp->n_phases > LT_MODEL_MAX_GROUPS)
        return lt_fail(LT_ERR_INTERNAL, "model '%s': a plan needs phase_loss and 1..%d groups and phases", m->vt->name,
                       LT_MODEL_MAX_GROUPS);
    for (int k = 0; k < mp->n_groups; k++) {
        const lt_model_group *gr = &mp->group[k];
        if (!gr->name || !*gr->name || gr->lo < 0 || gr->hi < gr->lo || gr->hi > m->params.total ||
            (k > 0 && gr->lo < mp->group[k - 1].hi))
            return lt_fail(LT_ERR_INTERNAL, "model '%s': group %d is not a named, ordered slice of the %lld parameters",
                           m->vt->name, k, (long long)m->params.total);
    }
    for (int p = 0; p < mp->n_phases; p++)
        if (mp->phase_group[p] < 0 || mp->phase_group[p] >= mp->n_groups)
            return lt_fail(LT_ERR_INTERNAL, "model '%s': phase %d updates group %d of %d", m->vt->name, p,
                           mp->phase_group[p], mp->n_groups);
    return LT_OK;
}

/* Group settings: the run's, then the model's betas, then config "groups".<name>. */
static lt_status lti_group_init(lt_train_group *tg, const lt_model_group *mg, lt_model *m, const json_t *c,
                                int64_t total_steps) {
    const json_t *over = *mg->name ? json_object_get(json_object_get(c, "groups"), mg->name) : NULL;
    const char *gname = mg->name;
    const char *oname = lti_str(over, "optimizer", lti_str(c, "optimizer", "adam"));
    int kind = lt_optim_kind_parse(oname);
    if (kind < 0)
        return *gname ? lt_fail(LT_ERR_ARG, "group %s: optimizer %s: expected adam, adamw, adagrad or sgd", gname, oname)
                      : lt_fail(LT_ERR_ARG, "--optimizer %s: expected adam, adamw, adagrad or sgd", oname);
    double lr = lti_num(over, "lr", lti_num(c, "lr", 1e-3)), wd = lti_num(over, "weight_decay", lti_num(c, "weight_decay", 0));
    if (!(lr > 0) || !isfinite(lr))
        return *gname ? lt_fail(LT_ERR_ARG, "group %s: lr %g: expected a positive number", gname, lr)
                      : lt_fail(LT_ERR_ARG, "--lr %g: expected a positive number", lr);
    if (wd < 0 || !isfinite(wd)) return lt_fail(LT_ERR_ARG, "--weight-decay %g: expected >= 0", wd);
    const double l1 = lti_num(c, "l1", 0);
    if (l1 < 0 || !isfinite(l1)) return lt_fail(LT_ERR_ARG, "--l1 %g: expected >= 0", l1);
    lt_optim_config oc = lt_optim_config_default((lt_optim_kind)kind, (float)lr);
    oc.weight_decay = (float)wd;
    oc.l1 = (float)l1;
    if (mg->beta1 > 0) oc.beta1 = mg->beta1;
    if (mg->beta2 > 0) oc.beta2 = mg->beta2;
    oc.beta1 = (float)lti_num(over, "beta1", oc.beta1);
    oc.beta2 = (float)lti_num(over, "beta2", oc.beta2);
    tg->name = mg->name;
    tg->lo = mg->lo;
    tg->hi = mg->hi;
    tg->view = m->params; /* the block's fields; the items stay the model's */
    tg->view.data = m->params.data + mg->lo;
    tg->view.grad = m->params.grad + mg->lo;
    tg->view.total = mg->hi - mg->lo;
    lt_status st = lt_optim_init(&tg->opt, &oc, &tg->view);
    if (st) return *gname ? lt_fail_context(st, "group %s: ", gname) : st;
    tg->ready = 1;
    if ((st = lt_schedule_parse(lti_str(over, "schedule", lti_str(c, "schedule", "constant")), (float)lr, &tg->sched)))
        return st;
    tg->sched.total_steps = total_steps;
    return LT_OK;
}

lt_status lt_train_plan_init(lt_train_plan *p, lt_model *m, const json_t *c, int64_t total_steps) {
    memset(p, 0, sizeof *p);
    lt_model_plan mp;
    lt_status st = lti_model_plan(m, &mp);
    if (st) return st;
    const json_t *groups = json_object_get(c, "groups");
    if (groups && !json_is_object(groups)) return lt_fail(LT_ERR_ARG, "config 'groups': expected an object of group names");
    const char *key;
    const json_t *val;
    json_object_foreach((json_t *)groups, key, val) { /* a misspelt group must not pass unseen */
        int known = 0;
        for (int k = 0; k < mp.n_groups; k++) known |= !strcmp(key, mp.group[k].name);
        if (!known || !json_is_object(val))
            return lt_fail(LT_ERR_ARG, "--group %s: model '%s' has no such optimizer group%s", key, m->vt->name,
                           mp.n_groups > 1 ? "" : " (it trains one group)");
    }
    p->declared = m->vt->plan != NULL;
    p->n_groups = mp.n_groups;
    p->n_phases = mp.n_phases;
    for (int k = 0; k < mp.n_phases; k++) {
        p->phase_name[k] = mp.phase_name[k] ? mp.phase_name[k] : "";
        p->phase_group[k] = mp.phase_group[k];
    }
    for (int k = 0; k < mp.n_groups; k++) {
        if ((st = lti_group_init(&p->group[k], &mp.group[k], m, c, total_steps))) return st;
        p->opts[k] = &p->group[k].opt;
        p->names[k] = k ? p->group[k].name : NULL;
    }
    return LT_OK;
}

void lt_train_plan_free(lt_train_plan *p) {
    for (int k = 0; k < LT_MODEL_MAX_GROUPS; k++)
        if (p->group[k].ready) lt_optim_free(&p->group[k].opt);
    memset(p, 0, sizeof *p);
}

lt_status lt_train_phase_loss(const lt_train_plan *p, lt_model *m, lt_graph *g, const lt_batch *b, int phase,
                              lt_tensor **loss) {
    *loss = NULL;
    return p->declared ? m->vt->phase_loss(m, g, b, phase, loss) : m->vt->loss(m, g, b, loss);
}

lt_params *lt_train_phase_params(lt_train_plan *p, int phase) { return &p->group[p->phase_group[phase]].view; }

double lt_train_phase_update(lt_train_plan *p, int phase, int64_t step, double clip, int want_norm, double *gnorm) {
    lt_train_group *gr = &p->group[p->phase_group[phase]];
    *gnorm = clip > 0 ? lt_clip_grad_norm(&gr->view, clip) : want_norm ? sqrt(lt_params_grad_sqnorm(&gr->view)) : 0;
    const double lr = lt_schedule_lr(&gr->sched, step);
    lt_optim_step(&gr->opt, &gr->view, (float)lr);
    return lr;
}
