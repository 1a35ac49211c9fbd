/* Gradient estimators and the temperature schedule (see estimator.h). */
#include "dist/estimator.h"

#include <math.h>
#include <string.h>

#include "dist/dist.h"
#include "ops/ops.h"

static const struct {
    const char *name, *alias;
} lti_est_names[LT_ESTIMATOR_COUNT] = {
    [LT_ESTIMATOR_PATHWISE] = {"pathwise", "reparam"},   [LT_ESTIMATOR_SCORE] = {"score", "reinforce"},
    [LT_ESTIMATOR_SCORE_MA] = {"score-ma", NULL},        [LT_ESTIMATOR_SCORE_NN] = {"score-nn", NULL},
    [LT_ESTIMATOR_ST] = {"st", "straight-through"},      [LT_ESTIMATOR_GUMBEL] = {"gumbel", "gumbel-softmax"},
    [LT_ESTIMATOR_ST_GUMBEL] = {"st-gumbel", "st-gumbel-softmax"},
};

lt_status lt_estimator_parse(const char *s, lt_estimator *out) {
    for (int e = 0; s && e < LT_ESTIMATOR_COUNT; e++)
        if (!strcmp(s, lti_est_names[e].name) || (lti_est_names[e].alias && !strcmp(s, lti_est_names[e].alias))) {
            *out = (lt_estimator)e;
            return LT_OK;
        }
    return lt_fail(LT_ERR_ARG,
                   "unknown estimator '%s' (known: pathwise, score, score-ma, score-nn, st, gumbel, st-gumbel)",
                   s ? s : "(null)");
}

const char *lt_estimator_name(lt_estimator e) {
    return e >= 0 && e < LT_ESTIMATOR_COUNT ? lti_est_names[e].name : "?";
}

float lt_tau_at(const lt_tau_schedule *s, int64_t step) {
    int64_t t = s->every > 1 ? step / s->every * s->every : step;
    float tau = s->tau0 * expf(-s->rate * (float)t);
    return tau > s->tau_min ? tau : s->tau_min;
}

lt_tensor *lt_zero_value(lt_graph *g, lt_tensor *t) { return lt_sub(g, t, lt_stop_gradient(g, t)); }

lt_tensor *lt_score_surrogate(lt_graph *g, lt_tensor *f, lt_tensor *b, lt_tensor *log_q) {
    lt_tensor *c = lt_stop_gradient(g, f); /* (N) the learning signal, a constant */
    if (b) c = lt_sub(g, c, lt_stop_gradient(g, b));
    return lt_mul(g, c, lt_zero_value(g, log_q));
}

/* A Bernoulli's straight-through hard value of a relaxed sample: 1 where y > 1/2. */
static lt_tensor *lti_threshold(lt_graph *g, const lt_tensor *y) {
    lt_tensor *h = y ? lt_graph_new(g, LT_F32, y->ndim, y->shape) : NULL;
    if (!h) return NULL;
    int64_t n = lt_numel(y);
    for (int64_t i = 0; i < n; i++) h->data[i] = y->data[i] > 0.5f ? 1.0f : 0.0f;
    return h;
}

lt_status lt_latent_draw_sample(lt_graph *g, lt_rng *r, lt_estimator e, lt_latent_kind kind, lt_tensor *logits,
                                float tau, lt_latent_draw *out) {
    memset(out, 0, sizeof *out);
    const int cat = kind == LT_LATENT_CATEGORICAL;
    switch (e) {
    case LT_ESTIMATOR_PATHWISE:
        return lt_fail(LT_ERR_ARG, "estimator 'pathwise' needs continuous latents; for discrete ones use score, "
                                   "score-ma, score-nn, st, gumbel or st-gumbel");
    case LT_ESTIMATOR_GUMBEL:
        out->z = cat ? lt_gumbel_softmax(g, r, logits, tau, 0) : lt_relaxed_bernoulli(g, r, logits, tau);
        break;
    case LT_ESTIMATOR_ST_GUMBEL:
        if (cat) {
            out->z = lt_gumbel_softmax(g, r, logits, tau, 1);
        } else {
            lt_tensor *y = lt_relaxed_bernoulli(g, r, logits, tau);
            out->z = lt_straight_through(g, lti_threshold(g, y), y);
        }
        out->hard = lt_stop_gradient(g, out->z);
        break;
    case LT_ESTIMATOR_ST:
        out->hard = cat ? lt_categorical_sample(g, r, logits) : lt_bernoulli_sample(g, r, logits);
        out->z = lt_straight_through(g, out->hard, cat ? lt_softmax(g, logits, -1) : lt_sigmoid(g, logits));
        break;
    default: /* score-function estimators */
        out->hard = cat ? lt_categorical_sample(g, r, logits) : lt_bernoulli_sample(g, r, logits);
        out->z = out->hard;
        out->log_q = cat ? lt_categorical_log_prob(g, logits, out->hard) : lt_bernoulli_log_prob(g, logits, out->hard);
        break;
    }
    return lt_graph_status(g);
}

void lt_ma_baseline_update(lt_ma_baseline *b, const float *f, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += f[i];
    lt_ma_baseline_push(b, s, (double)n);
}

void lt_ma_baseline_push(lt_ma_baseline *b, double s, double n) {
    double mean = n > 0 ? s / n : 0.0;
    if (!b->started) {
        b->value = mean;
        b->started = 1;
    } else {
        b->value = b->momentum * b->value + (1.0 - b->momentum) * mean;
    }
}
