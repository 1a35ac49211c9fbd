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
    if (!(cfg->lr >= 0) || !(cfg->weight_decay >= 0) || !(cfg->eps >= 0) || !(cfg->momentum >= 0) || !(cfg->l1 >= 0))
        return lt_fail(LT_ERR_ARG, "optimizer: lr, momentum, eps, weight decay and l1 must be >= 0 (lr %g, momentum %g, "
                       "eps %g, weight decay %g, l1 %g)", cfg->lr, cfg->momentum, cfg->eps, cfg->weight_decay, cfg->l1);
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

/* The update loops run over spans [lo, hi) of the block; lti_par splits the
 * block into LTI_SPANS spans of whole cache lines shared among the threads.
 * CMakeLists.txt compiles this file with -fno-math-errno so that `omp simd`
 * vectorizes the loops that call sqrtf. */
#define LTI_SPANS 32
#define LTI_SPAN_BOUNDS(n, k, lo, hi)                                                  \
    int64_t span_ = (((n) + LTI_SPANS - 1) / LTI_SPANS + 15) & ~(int64_t)15;         \
    int64_t lo = (k) * span_, hi = lo + span_ < (n) ? lo + span_ : (n)

/* The gradient with the penalties: l2·p + l1·sign(p) (sign(0) = 0). */
static inline float lti_penalized(float g, float p, float l2, float l1) {
    return g + l2 * p + l1 * (float)((p > 0) - (p < 0));
}

/* Adam and AdamW. l2 is added to the gradient (Adam's weight decay); decay
 * multiplies the parameter first (AdamW's decoupled decay). With
 * a = lr/(1-b1^t) and b = 1/sqrt(1-b2^t), PyTorch's update is
 * p -= a·m / (sqrt(v)·b + eps). */
typedef struct lti_adam_args {
    float *p, *m, *v;
    const float *grad;
    float b1, b2, a, b, eps, l2, l1, decay;
} lti_adam_args;

static void lti_adam_span(const lti_adam_args *x, int64_t lo, int64_t hi) {
    float *restrict p = x->p, *restrict m = x->m, *restrict v = x->v;
    const float *restrict grad = x->grad;
    const float b1 = x->b1, b2 = x->b2, c1 = 1.0f - x->b1, c2 = 1.0f - x->b2;
    const float a = x->a, b = x->b, eps = x->eps, l2 = x->l2, l1 = x->l1, decay = x->decay;
    #pragma omp simd
    for (int64_t i = lo; i < hi; i++) {
        float g = lti_penalized(grad[i], p[i], l2, l1);
        float mi = b1 * m[i] + c1 * g;
        float vi = b2 * v[i] + c2 * g * g;
        m[i] = mi;
        v[i] = vi;
        p[i] = p[i] * decay - a * mi / (sqrtf(vi) * b + eps);
    }
}

/* SGD: buf = momentum·buf + g (PyTorch's first step sets buf = g, the same
 * thing from buf = 0); p -= lr·buf. Without momentum (buf NULL), p -= lr·g.
 * Adagrad (sum in buf): sum += g²; p -= lr·g / (sqrt(sum) + eps). */
typedef struct lti_simple_args {
    float *p, *buf;
    const float *grad;
    float lr, mom, eps, l2, l1;
    int adagrad;
} lti_simple_args;

static void lti_simple_span(const lti_simple_args *x, int64_t lo, int64_t hi) {
    float *restrict p = x->p, *restrict buf = x->buf;
    const float *restrict grad = x->grad;
    const float lr = x->lr, mom = x->mom, eps = x->eps, l2 = x->l2, l1 = x->l1;
    if (x->adagrad) {
        #pragma omp simd
        for (int64_t i = lo; i < hi; i++) {
            float g = lti_penalized(grad[i], p[i], l2, l1);
            float s = buf[i] + g * g;
            buf[i] = s;
            p[i] -= lr * g / (sqrtf(s) + eps);
        }
    } else if (buf) {
        #pragma omp simd
        for (int64_t i = lo; i < hi; i++) {
            float d = mom * buf[i] + lti_penalized(grad[i], p[i], l2, l1);
            buf[i] = d;
            p[i] -= lr * d;
        }
    } else {
        #pragma omp simd
        for (int64_t i = lo; i < hi; i++) p[i] -= lr * lti_penalized(grad[i], p[i], l2, l1);
    }
}

void lt_optim_step(lt_optim *o, lt_params *p, float lr) {
    const lt_optim_config *c = &o->cfg;
    int64_t n = o->n < p->total ? o->n : p->total;
    o->step++;
    if (c->kind == LT_OPTIM_ADAM || c->kind == LT_OPTIM_ADAMW) {
        /* Bias corrections in double, once per step, as PyTorch computes them. */
        double bc1 = 1.0 - pow(c->beta1, (double)o->step), bc2 = 1.0 - pow(c->beta2, (double)o->step);
        int w = c->kind == LT_OPTIM_ADAMW;
        lti_adam_args x = {p->data, o->m, o->v, p->grad, c->beta1, c->beta2, (float)(lr / bc1),
                           (float)(1.0 / sqrt(bc2)), c->eps, w ? 0.0f : c->weight_decay, c->l1,
                           w ? 1.0f - lr * c->weight_decay : 1.0f};
        #pragma omp parallel for schedule(static) if (n >= LTI_OPTIM_PAR_MIN)
        for (int k = 0; k < LTI_SPANS; k++) {
            LTI_SPAN_BOUNDS(n, k, lo, hi);
            if (lo < hi) lti_adam_span(&x, lo, hi);
        }
    } else {
        lti_simple_args x = {p->data, o->m, p->grad, lr, c->momentum, c->eps, c->weight_decay, c->l1,
                             c->kind == LT_OPTIM_ADAGRAD};
        #pragma omp parallel for schedule(static) if (n >= LTI_OPTIM_PAR_MIN)
        for (int k = 0; k < LTI_SPANS; k++) {
            LTI_SPAN_BOUNDS(n, k, lo, hi);
            if (lo < hi) lti_simple_span(&x, lo, hi);
        }
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
