/* Sampling speed of the gpt prior: 64 code grids of 7x7 (T = 49, K = 512 codes; the
 * Fashion-MNIST configuration of issue 13: 4 layers, width 128, 4 heads) drawn token by
 * token through the KV cache (the model's sample_codes, what `latent sample` runs) against
 * re-running the causal forward over the whole grid for every token (the same weights and
 * draws; lti_gpt_logits on all T positions, the row of position t sampled). The cache's
 * work per token is O(t); the re-run's O(T) per token, O(T²) per grid.
 * Timing: best of `rounds` rounds each (the machine is shared). Output: lines, then
 * "BENCH key=value ...". Usage: bench_gpt_sample [rounds] [layers] [width]
 * (threads: LATENT_THREADS, default 2). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "core/alloc.h"
#include "models/internal.h"

int main(int argc, char **argv) {
    const int rounds = ltb_arg(argc, argv, 1, 3), layers = ltb_arg(argc, argv, 2, 4);
    const int width = ltb_arg(argc, argv, 3, 128);
    ltb_threads(2);
    char cfg[256];
    snprintf(cfg, sizeof cfg, "{\"vocab\": 512, \"height\": 7, \"width\": 7, \"layers\": %d, \"heads\": 4, \"d_model\": %d}",
             layers, width);
    json_t *j = json_loads(cfg, 0, NULL);
    lt_model *m;
    if (lt_model_create("gpt", j, &m)) ltb_die("bench_gpt_sample", NULL);
    json_decref(j);
    const int64_t n = 64, T = m->dim, K = m->vocab;
    int64_t *codes = lt_malloc((size_t)(n * T) * sizeof *codes);
    lt_sample_rank *rank = lt_malloc((size_t)K * sizeof *rank);
    double *probs = lt_malloc((size_t)K * sizeof *probs);
    lt_graph g;
    lt_graph_init(&g, 1 << 20);
    lt_graph_set_grad(&g, 0);
    double best_cache = 1e30, best_rerun = 1e30;
    for (int r = 0; r < rounds; r++) {
        lt_rng rng;
        lt_rng_seed(&rng, 1);
        double t0 = ltb_now();
        if (m->vt->sample_codes(m, &g, &rng, n, NULL, NULL, codes)) return 1;
        double t1 = ltb_now();
        best_cache = t1 - t0 < best_cache ? t1 - t0 : best_cache;
        lt_rng_seed(&rng, 1);
        memset(codes, 0, (size_t)(n * T) * sizeof *codes);
        t0 = ltb_now();
        for (int64_t t = 0; t < T; t++) {
            lt_tensor *lg = lti_gpt_logits(m, &g, codes, NULL, n); /* (n, T, K); positions > t unused */
            if (!lg) return 1;
            for (int64_t i = 0; i < n; i++)
                codes[i * T + t] = lt_sample_token(&rng, lg->data + (i * T + t) * K, K, NULL, rank, probs);
            lt_graph_reset(&g);
        }
        t1 = ltb_now();
        best_rerun = t1 - t0 < best_rerun ? t1 - t0 : best_rerun;
    }
    printf("gpt sampling, %lld grids of %lld codes (K %lld, %d layers, width %d): KV cache %.3f s, re-run per token "
           "%.3f s, %.1fx\n", (long long)n, (long long)T, (long long)K, layers, width, best_cache, best_rerun,
           best_rerun / best_cache);
    printf("BENCH gpt_sample n=%lld T=%lld K=%lld layers=%d width=%d cache_s=%.4f rerun_s=%.4f speedup=%.2f\n",
           (long long)n, (long long)T, (long long)K, layers, width, best_cache, best_rerun, best_rerun / best_cache);
    lt_graph_free(&g);
    lt_free(codes);
    lt_free(rank);
    lt_free(probs);
    lt_model_destroy(m);
    return 0;
}
