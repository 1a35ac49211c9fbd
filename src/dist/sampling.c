/* Token sampling filters (see sampling.h). */
#include "dist/sampling.h"

#include <math.h>
#include <stdlib.h>

lt_status lt_sample_opts_check(const lt_sample_opts *o) {
    if (!(o->temperature > 0) || !isfinite(o->temperature))
        return lt_fail(LT_ERR_ARG, "temperature %g: expected a positive number", (double)o->temperature);
    if (o->top_k < 0) return lt_fail(LT_ERR_ARG, "top-k %lld: expected >= 0 (0 = all)", (long long)o->top_k);
    if (!(o->top_p > 0 && o->top_p <= 1))
        return lt_fail(LT_ERR_ARG, "top-p %g: expected a probability in (0, 1]", (double)o->top_p);
    return LT_OK;
}

static int lti_rank_cmp(const void *a, const void *b) {
    const lt_sample_rank *x = a, *y = b;
    if (x->p != y->p) return x->p > y->p ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

void lt_sample_probs(const float *logits, int64_t K, const lt_sample_opts *o, lt_sample_rank *scratch, double *probs) {
    const double T = o ? o->temperature : 1.0;
    const int64_t top_k = o && o->top_k > 0 && o->top_k < K ? o->top_k : K;
    const double top_p = o && o->top_p < 1 ? o->top_p : 1.0;
    double mx = -INFINITY, total = 0;
    for (int64_t i = 0; i < K; i++) mx = logits[i] > mx ? logits[i] : mx;
    for (int64_t i = 0; i < K; i++) total += probs[i] = exp(((double)logits[i] - mx) / T);
    if (top_k < K || top_p < 1) {
        for (int64_t i = 0; i < K; i++) scratch[i] = (lt_sample_rank){probs[i], i};
        qsort(scratch, (size_t)K, sizeof *scratch, lti_rank_cmp);
        double kept = 0;
        for (int64_t j = 0; j < top_k; j++) kept += scratch[j].p;
        int64_t keep = top_k;
        if (top_p < 1) { /* the shortest prefix of the ranking with mass >= top_p of the kept mass */
            double acc = 0;
            for (keep = 0; keep < top_k;) {
                acc += scratch[keep++].p;
                if (acc >= top_p * kept) break;
            }
        }
        for (int64_t j = keep; j < K; j++) probs[scratch[j].i] = 0;
        total = 0;
        for (int64_t j = 0; j < keep; j++) total += scratch[j].p;
    }
    for (int64_t i = 0; i < K; i++) probs[i] /= total;
}

int64_t lt_sample_token(lt_rng *r, const float *logits, int64_t K, const lt_sample_opts *o, lt_sample_rank *scratch,
                        double *probs) {
    lt_sample_probs(logits, K, o, scratch, probs);
    double u = (double)(lt_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0), acc = 0;
    for (int64_t i = 0; i < K; i++) {
        acc += probs[i];
        if (u < acc) return i;
    }
    for (int64_t i = K - 1; i >= 0; i--) /* rounding left u above the last sum */
        if (probs[i] > 0) return i;
    return K - 1;
}
