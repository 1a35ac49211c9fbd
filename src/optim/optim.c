/* Optimizers over the whole parameter block: every update is one fused,
 * vectorizable pass over (p, grad, state), split across threads when the block
 * is large. Semantics follow PyTorch's torch.optim (SGD without dampening or
 * Nesterov, Adam/AdamW without amsgrad, Adagrad with lr_decay 0 and initial
 * accumulator 0), so a run can be checked against a reference step by step.
 * Each element's update is independent, so results do not depend on the
 * thread count. */
#include "optim/optim.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"

/* Below this many floats a parallel region costs more than it saves. */
#define LTI_OPTIM_PAR_MIN 32768

lt_optim_config lt_optim_config_default(lt_optim_kind kind, float lr) {
    lt_optim_config c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.lr = lr;
    c.beta1 = 0.9f;
    c.beta2 = 0.999f;
    c.eps = kind == LT_OPTIM_ADAGRAD ? 1e-10f : 1e-8f;
    c.weight_decay = kind == LT_OPTIM_ADAMW ? 0.01f : 0.0f; /* PyTorch's AdamW default */
    return c;
}

int lt_optim_kind_parse(const char *s) {
    static const char *names[] = {"sgd", "adam", "adamw", "adagrad"};
    for (int i = 0; i < 4; i++)
        if (s && strcmp(s, names[i]) == 0) return i;
    return -1;
}

lt_status lt_optim_init(lt_optim *o, const lt_optim_config *cfg, const lt_params *p) {
    memset(o, 0, sizeof *o);
    if (!p->finalized) return lt_fail(LT_ERR_ARG, "optimizer: parameters are not finalized");
    if (cfg->kind < LT_OPTIM_SGD || cfg->kind > LT_OPTIM_ADAGRAD)
        return lt_fail(LT_ERR_ARG, "optimizer: unknown kind %d", (int)cfg->kind);
    if (!(cfg->lr >= 0) || !(cfg->weight_decay >= 0) || !(cfg->eps >= 0) || !(cfg->momentum >= 0))
        return lt_fail(LT_ERR_ARG, "optimizer: lr, momentum, eps and weight decay must be >= 0 (lr %g, momentum %g, "
                       "eps %g, weight decay %g)", cfg->lr, cfg->momentum, cfg->eps, cfg->weight_decay);
    int adam = cfg->kind == LT_OPTIM_ADAM || cfg->kind == LT_OPTIM_ADAMW;
    if (adam && (!(cfg->beta1 >= 0 && cfg->beta1 < 1) || !(cfg->beta2 >= 0 && cfg->beta2 < 1)))
        return lt_fail(LT_ERR_ARG, "optimizer: betas must lie in [0,1) (got %g, %g)", cfg->beta1, cfg->beta2);
    o->cfg = *cfg;
    o->n = p->total;
    int need_m = cfg->kind != LT_OPTIM_SGD || cfg->momentum > 0;
    size_t bytes = (size_t)(o->n ? o->n : 1) * sizeof(float);
    if (need_m && !(o->m = lt_calloc(1, bytes))) goto oom;
    if (adam && !(o->v = lt_calloc(1, bytes))) goto oom;
    return LT_OK;
oom:
    lt_optim_free(o);
    return lt_fail(LT_ERR_NOMEM, "optimizer: out of memory for state of %lld parameters", (long long)p->total);
}

void lt_optim_free(lt_optim *o) {
    lt_free(o->m);
    lt_free(o->v);
    memset(o, 0, sizeof *o);
}

/* Adam and AdamW in one pass. l2 is added to the gradient (Adam's weight
 * decay); decay multiplies the parameter first (AdamW's decoupled decay). With
 * a = lr/(1-b1^t) and b = 1/sqrt(1-b2^t), PyTorch's update is
 * p -= a·m / (sqrt(v)·b + eps). */
static void lti_adam(float *restrict p, const float *restrict grad, float *restrict m, float *restrict v, int64_t n,
                     float b1, float b2, float a, float b, float eps, float l2, float decay) {
    const float c1 = 1.0f - b1, c2 = 1.0f - b2;
    #pragma omp parallel for simd schedule(static) if (n >= LTI_OPTIM_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float g = grad[i] + l2 * p[i];
        float mi = b1 * m[i] + c1 * g;
        float vi = b2 * v[i] + c2 * g * g;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay - a * mi / (sqrtf(vi) * b + eps);
    }
}

/* SGD: buf = momentum·buf + g (PyTorch's first step sets buf = g, the same
 * thing from buf = 0); p -= lr·buf. Without momentum, p -= lr·g. */
static void lti_sgd(float *restrict p, const float *restrict grad, float *restrict buf, int64_t n, float lr,
                    float mom, float l2) {
    if (buf) {
        #pragma omp parallel for simd schedule(static) if (n >= LTI_OPTIM_PAR_MIN)
        for (int64_t i = 0; i < n; i++) {
            float b = mom * buf[i] + grad[i] + l2 * p[i];
            buf[i] = b;
            p[i] -= lr * b;
        }
    } else {
        #pragma omp parallel for simd schedule(static) if (n >= LTI_OPTIM_PAR_MIN)
        for (int64_t i = 0; i < n; i++) p[i] -= lr * (grad[i] + l2 * p[i]);
    }
}

/* Adagrad: sum += g²; p -= lr·g / (sqrt(sum) + eps). */
static void lti_adagrad(float *restrict p, const float *restrict grad, float *restrict sum, int64_t n, float lr,
                        float eps, float l2) {
    #pragma omp parallel for simd schedule(static) if (n >= LTI_OPTIM_PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float g = grad[i] + l2 * p[i];
        float s = sum[i] + g * g;
        sum[i] = s;
        p[i] -= lr * g / (sqrtf(s) + eps);
    }
}

void lt_optim_step(lt_optim *o, lt_params *p, float lr) {
    const lt_optim_config *c = &o->cfg;
    int64_t n = o->n < p->total ? o->n : p->total;
    o->step++;
    switch (c->kind) {
    case LT_OPTIM_SGD:
        lti_sgd(p->data, p->grad, o->m, n, lr, c->momentum, c->weight_decay);
        break;
    case LT_OPTIM_ADAM:
    case LT_OPTIM_ADAMW: {
        /* Bias corrections in double, once per step, as PyTorch computes them. */
        double bc1 = 1.0 - pow(c->beta1, (double)o->step), bc2 = 1.0 - pow(c->beta2, (double)o->step);
        float a = (float)(lr / bc1), b = (float)(1.0 / sqrt(bc2));
        int w = c->kind == LT_OPTIM_ADAMW;
        lti_adam(p->data, p->grad, o->m, o->v, n, c->beta1, c->beta2, a, b, c->eps, w ? 0.0f : c->weight_decay,
                 w ? 1.0f - lr * c->weight_decay : 1.0f);
        break;
    }
    case LT_OPTIM_ADAGRAD:
        lti_adagrad(p->data, p->grad, o->m, n, lr, c->eps, c->weight_decay);
        break;
    }
}

/* Sum of squares in fixed chunks combined in order, so the norm is the same
 * bit for bit whatever the thread count. */
#define LTI_NORM_CHUNKS 64
double lt_clip_grad_norm(lt_params *p, double max_norm) {
    int64_t n = p->total;
    double part[LTI_NORM_CHUNKS];
    int64_t chunk = (n + LTI_NORM_CHUNKS - 1) / LTI_NORM_CHUNKS;
    const float *g = p->grad;
    #pragma omp parallel for schedule(static) if (n >= LTI_OPTIM_PAR_MIN)
    for (int c = 0; c < LTI_NORM_CHUNKS; c++) {
        int64_t lo = c * chunk, hi = lo + chunk < n ? lo + chunk : n;
        double s = 0;
        for (int64_t i = lo; i < hi; i++) s += (double)g[i] * g[i];
        part[c] = s;
    }
    double s = 0;
    for (int c = 0; c < LTI_NORM_CHUNKS; c++) s += part[c];
    double norm = sqrt(s);
    /* PyTorch's clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is < 1. */
    double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0) {
        float f = (float)coef;
        float *gw = p->grad;
        #pragma omp parallel for simd schedule(static) if (n >= LTI_OPTIM_PAR_MIN)
        for (int64_t i = 0; i < n; i++) gw[i] *= f;
    }
    return norm;
}
