/* Convolution speed, the per-layer half of bench/run_conv.sh: conv2d and
 * conv_transpose2d (with bias) on the layer shapes of issue 11 (batch 64): forward,
 * and forward+backward (grads of input, weight and bias), best of `rounds`, in ms,
 * plus GFLOP/s of the matrix products (2·N·O·C·KH·KW·Ho·Wo per pass; fwd+bwd counts
 * three passes). torch_conv.py is the PyTorch side (same names, same shapes).
 * Threads: LATENT_THREADS (default: the number of cores).
 * Output: one human-readable line and one "BENCH impl=latent case=..." line per layer.
 * Usage: bench_conv [rounds] [case-name | vqgan]: without a name issue 11's layers; "vqgan":
 * the conv layers of bench_vqgan's network (batch 16: the generator's 3×3 layers at 32×32,
 * 16×16 and 8×8, its stride-2 down convs and conv_out, the PatchGAN's 4×4 layers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "core/rng.h"
#include "ops/ops.h"

typedef struct {
    const char *name;
    int transpose;
    int64_t x[4], w[4];
    int stride, pad;
    int vqgan; /* in the "vqgan" group, not in the default run */
} conv_case;

/* torch_conv.py's LAYERS, same order and names */
static const conv_case CASES[] = {
    {"conv1-32_28", 0, {64, 1, 28, 28}, {32, 1, 4, 4}, 2, 1, 0},
    {"conv3-32_32", 0, {64, 3, 32, 32}, {32, 3, 4, 4}, 2, 1, 0},
    {"conv32-64_14", 0, {64, 32, 14, 14}, {64, 32, 4, 4}, 2, 1, 0},
    {"conv64-64_7k3", 0, {64, 64, 7, 7}, {64, 64, 3, 3}, 1, 1, 0},
    {"conv128-128_8k3", 0, {64, 128, 8, 8}, {128, 128, 3, 3}, 1, 1, 0},
    {"convT64-32_7", 1, {64, 64, 7, 7}, {64, 32, 4, 4}, 2, 1, 0},
    {"convT32-1_14", 1, {64, 32, 14, 14}, {32, 1, 4, 4}, 2, 1, 0},
    {"convT32-3_16", 1, {64, 32, 16, 16}, {32, 3, 4, 4}, 2, 1, 0},
    {"vq64_32k3", 0, {16, 64, 32, 32}, {64, 64, 3, 3}, 1, 1, 1},
    {"vq128-64_32k3", 0, {16, 128, 32, 32}, {64, 128, 3, 3}, 1, 1, 1},
    {"vq128_32k3", 0, {16, 128, 32, 32}, {128, 128, 3, 3}, 1, 1, 1},
    {"vq128_16k3", 0, {16, 128, 16, 16}, {128, 128, 3, 3}, 1, 1, 1},
    {"vq128_8k3", 0, {16, 128, 8, 8}, {128, 128, 3, 3}, 1, 1, 1},
    {"vq64_32k3s2", 0, {16, 64, 32, 32}, {64, 64, 3, 3}, 2, 1, 1},
    {"vq128_16k3s2", 0, {16, 128, 16, 16}, {128, 128, 3, 3}, 2, 1, 1},
    {"vq64-3_32k3", 0, {16, 64, 32, 32}, {3, 64, 3, 3}, 1, 1, 1},
    {"vq128-64_32k1", 0, {16, 128, 32, 32}, {64, 128, 1, 1}, 1, 0, 1},
    {"d64-128_16k4s2", 0, {16, 64, 16, 16}, {128, 64, 4, 4}, 2, 1, 1},
    {"d128-256_8k4", 0, {16, 128, 8, 8}, {256, 128, 4, 4}, 1, 1, 1},
    {"d256-1_7k4", 0, {16, 256, 7, 7}, {1, 256, 4, 4}, 1, 1, 1},
};

static void fill(lt_tensor *t, lt_rng *r) {
    t->data = malloc(sizeof(float) * (size_t)lt_numel(t));
    t->grad = calloc((size_t)lt_numel(t), sizeof(float));
    if (!t->data || !t->grad) exit(1);
    lt_rng_fill_uniform(r, t->data, lt_numel(t), -1, 1);
    t->requires_grad = 1;
}

int main(int argc, char **argv) {
    int rounds = ltb_arg(argc, argv, 1, 5);
    const char *only = argc > 2 ? argv[2] : NULL;
    ltb_threads(0);
    lt_rng rng;
    lt_rng_seed(&rng, 1);
    lt_graph g;
    if (lt_graph_init(&g, 0)) return 1;
    for (size_t c = 0; c < sizeof CASES / sizeof CASES[0]; c++) {
        const conv_case *k = &CASES[c];
        if (only ? strcmp(only, k->name) && (strcmp(only, "vqgan") || !k->vqgan) : k->vqgan) continue;
        int64_t nb = k->w[k->transpose ? 1 : 0];
        lt_tensor x = lt_tensor_wrap(NULL, 4, k->x), w = lt_tensor_wrap(NULL, 4, k->w);
        lt_tensor b = lt_tensor_wrap(NULL, 1, &nb);
        fill(&x, &rng);
        fill(&w, &rng);
        fill(&b, &rng);
        double best_f = 1e30, best_fb = 1e30, flops = 0;
        for (int r = 0; r < rounds + 2; r++) { /* two warm-up rounds, as torch_conv.py's */
            for (int pass = 0; pass < 2; pass++) { /* 0: forward, no grad; 1: forward + backward */
                lt_graph_reset(&g);
                lt_graph_set_grad(&g, pass);
                double t0 = ltb_now();
                lt_tensor *y = k->transpose ? lt_conv_transpose2d(&g, &x, &w, &b, k->stride, k->pad)
                                            : lt_conv2d(&g, &x, &w, &b, k->stride, k->pad);
                if (!y || (pass && lt_backward_from(&g, y, NULL))) ltb_die("bench_conv", NULL);
                double t = ltb_now() - t0;
                if (r < 2) continue;
                if (pass) best_fb = t < best_fb ? t : best_fb;
                else best_f = t < best_f ? t : best_f;
                const lt_tensor *small = k->transpose ? &x : y; /* the side with Ho×Wo kernel positions */
                flops = 2.0 * (double)k->x[0] * (double)(k->w[0] * k->w[1] * k->w[2] * k->w[3]) *
                        (double)(small->shape[2] * small->shape[3]);
            }
        }
        printf("%-16s forward %7.3f ms (%5.1f GFLOP/s)  forward+backward %7.3f ms (%5.1f GFLOP/s)\n", k->name,
               best_f * 1e3, flops / best_f * 1e-9, best_fb * 1e3, 3 * flops / best_fb * 1e-9);
        printf("BENCH impl=latent case=%s fwd_ms=%.3f fb_ms=%.3f threads=%d\n", k->name, best_f * 1e3, best_fb * 1e3,
               lt_threads_get());
        fflush(stdout);
        free(x.data); free(x.grad); free(w.data); free(w.grad); free(b.data); free(b.grad);
    }
    lt_graph_free(&g);
    return 0;
}
