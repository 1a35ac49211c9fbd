/* The multiply-adds MADE's staircase products skip: for a config and its first `masks`
 * masks (seeded as `latent train` seeds them), the dense masked products' MACs per
 * example against the staircase blocks' (what made multiplies) and the masks' non-zeros.
 * Training multiplies each forward MAC three times (forward, dx, dW), so the ratios hold
 * for a whole step's GEMMs.
 * Usage: bench_made_flops 'CONFIG_JSON' [masks]   e.g. '{"dim": 784, "hidden": 8000, "direct": true}' */
#include <stdio.h>
#include <stdlib.h>

#include "common.h"
#include "models/internal.h"

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_made_flops CONFIG_JSON [masks]\n");
        return 2;
    }
    json_error_t err;
    json_t *cfg = json_loads(argv[1], 0, &err);
    lt_model *m;
    if (!cfg) {
        fprintf(stderr, "bench_made_flops: config: %s\n", err.text);
        return 2;
    }
    if (lt_model_create("made", cfg, &m)) {
        fprintf(stderr, "bench_made_flops: %s\n", lt_error_message());
        return 2;
    }
    json_decref(cfg);
    int64_t K = lt_params_find(&m->buffers, "degrees")->t.shape[0], n = argc > 2 ? atoll(argv[2]) : K;
    double dense = 0, done = 0, nonzero = 0;
    for (int64_t k = 0; k < n && k < K; k++) {
        int64_t a, b, c;
        if (lti_made_macs(m, k, &a, &b, &c)) ltb_die("bench_made_flops", NULL);
        dense += (double)a, done += (double)b, nonzero += (double)c;
    }
    printf("BENCH dense_macs=%.0f staircase_macs=%.0f nonzero_macs=%.0f skipped=%.4f waste=%.4f\n",
           dense, done, nonzero, 1.0 - done / dense, (done - nonzero) / dense);
    lt_model_destroy(m);
    return 0;
}
