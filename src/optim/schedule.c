/* Learning-rate schedules. `step` counts updates already done: the first
 * update uses lt_schedule_lr(s, 0).
 *   warm-up (any kind): the rate is multiplied by (step+1)/warmup_steps while
 *     step < warmup_steps, so it climbs linearly from near 0 to the full value;
 *   CONSTANT: base_lr;
 *   STEP:     base_lr · gamma^floor(step / step_size) (PyTorch's StepLR);
 *   COSINE:   min_lr + (base_lr - min_lr)·(1 + cos(pi·t/T))/2 with
 *             t = step - warmup_steps and T = total_steps - warmup_steps, so the
 *             decay starts when warm-up ends and reaches min_lr at total_steps. */
#include "optim/optim.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LTI_PI 3.14159265358979323846

float lt_schedule_lr(const lt_schedule *s, int64_t step) {
    if (step < 0) step = 0;
    double lr = s->base_lr;
    switch (s->kind) {
    case LT_SCHED_CONSTANT:
        break;
    case LT_SCHED_STEP:
        if (s->step_size > 0) lr = s->base_lr * pow(s->gamma, (double)(step / s->step_size));
        break;
    case LT_SCHED_COSINE: {
        int64_t T = s->total_steps - s->warmup_steps, t = step - s->warmup_steps;
        if (t < 0) t = 0;
        if (T <= 0) break;                 /* total not set (or all warm-up): stay at base_lr */
        if (t >= T) { lr = s->min_lr; break; }
        lr = s->min_lr + (s->base_lr - s->min_lr) * 0.5 * (1.0 + cos(LTI_PI * (double)t / (double)T));
        break;
    }
    }
    if (s->warmup_steps > 0 && step < s->warmup_steps) lr *= (double)(step + 1) / (double)s->warmup_steps;
    return (float)lr;
}

/* Parses one number that must fill the whole of [s, end). */
static int lti_num(const char *s, const char *end, double *out) {
    if (s == end) return 0;
    char buf[64];
    size_t n = (size_t)(end - s);
    if (n >= sizeof buf) return 0;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *e;
    errno = 0;
    double v = strtod(buf, &e);
    if (*e || errno || !isfinite(v)) return 0;
    *out = v;
    return 1;
}

lt_status lt_schedule_parse(const char *spec, float base_lr, lt_schedule *out) {
    memset(out, 0, sizeof *out);
    out->base_lr = base_lr;
    out->gamma = 1.0f;
    if (!spec) return lt_fail(LT_ERR_ARG, "schedule: empty specification");
    const char *comma = strchr(spec, ',');
    const char *end = comma ? comma : spec + strlen(spec);
    size_t len = (size_t)(end - spec);
    double a, b;
    if (len == 8 && strncmp(spec, "constant", 8) == 0) {
        out->kind = LT_SCHED_CONSTANT;
    } else if (len > 5 && strncmp(spec, "step:", 5) == 0) {
        const char *c2 = memchr(spec + 5, ':', len - 5);
        if (!c2 || !lti_num(spec + 5, c2, &a) || !lti_num(c2 + 1, end, &b) || a < 1 || a != floor(a) || b <= 0)
            return lt_fail(LT_ERR_ARG, "schedule '%s': expected step:SIZE:GAMMA with SIZE a positive integer and "
                           "GAMMA > 0", spec);
        out->kind = LT_SCHED_STEP;
        out->step_size = (int64_t)a;
        out->gamma = (float)b;
    } else if ((len == 6 && strncmp(spec, "cosine", 6) == 0) || (len > 7 && strncmp(spec, "cosine:", 7) == 0)) {
        out->kind = LT_SCHED_COSINE;
        if (len > 6) {
            if (!lti_num(spec + 7, end, &a) || a < 0)
                return lt_fail(LT_ERR_ARG, "schedule '%s': expected cosine:MIN_LR with MIN_LR >= 0", spec);
            out->min_lr = (float)a;
        }
    } else {
        return lt_fail(LT_ERR_ARG, "schedule '%s': unknown kind (expected constant, step:SIZE:GAMMA or "
                       "cosine[:MIN_LR], optionally followed by ,warmup:N)", spec);
    }
    if (comma) {
        const char *w = comma + 1;
        if (strncmp(w, "warmup:", 7) != 0 || !lti_num(w + 7, w + strlen(w), &a) || a < 0 || a != floor(a))
            return lt_fail(LT_ERR_ARG, "schedule '%s': expected ',warmup:N' with N a non-negative integer after "
                           "the kind, found ',%s'", spec, w);
        out->warmup_steps = (int64_t)a;
    }
    return LT_OK;
}
