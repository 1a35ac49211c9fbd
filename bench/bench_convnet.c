/* Whole-network training speed, the second half of bench/run_conv.sh: a VQ-VAE-shaped
 * conv encoder-decoder (no quantizer) built from the ops directly, batch 64, trained
 * with Adam on a fixed batch of uniform [0,1) images; torch_conv.py net28/net32 is the
 * same network in PyTorch:
 *   conv C->64 k4 s2 p1, ReLU, conv 64->128 k4 s2 p1,
 *   2 x residual block x + conv1x1(ReLU(conv3x3(ReLU(x)))) at 128 channels, ReLU,
 *   convT 128->64 k4 s2 p1, ReLU, convT 64->C k4 s2 p1; loss MSE(out, x).
 * Timing: 3 warm-up steps, then the best of `rounds` rounds of `steps` steps.
 * Peak RSS: the process's ru_maxrss (run one network per process).
 * Usage: bench_convnet 28|32 [rounds] [steps]   (28: 28x28x1, 32: 32x32x3)
 * Prints one line and one "BENCH impl=latent case=net28|net32 ex_per_s=... peak_rss_mb=..." line. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common.h"
#include "core/params.h"
#include "core/rng.h"
#include "ops/ops.h"

#define B 64

typedef struct {
    lt_tensor *w, *b;
} layer;

typedef struct {
    layer e1, e2, r[2][2], d1, d2;
} net;

/* w (a, b, k, k) and bias (nb), PyTorch's default init bound 1/sqrt(fan_in) */
static layer add(lt_params *p, const char *name, int64_t a, int64_t b, int64_t k, int64_t nb) {
    char s[64];
    layer l;
    snprintf(s, sizeof s, "%s.weight", name);
    l.w = lt_params_add(p, s, 4, (int64_t[]){a, b, k, k});
    snprintf(s, sizeof s, "%s.bias", name);
    l.b = lt_params_add(p, s, 1, &nb);
    if (!l.w || !l.b) exit(1);
    return l;
}

static void init(layer *l, lt_rng *r, double fan_in) {
    float bound = (float)(1 / sqrt(fan_in));
    lt_rng_fill_uniform(r, l->w->data, lt_numel(l->w), -bound, bound);
    lt_rng_fill_uniform(r, l->b->data, lt_numel(l->b), -bound, bound);
    l->w->requires_grad = l->b->requires_grad = 1;
}

static lt_tensor *conv(lt_graph *g, lt_tensor *x, const layer *l, int s, int p) {
    return lt_conv2d(g, x, l->w, l->b, s, p);
}

static lt_tensor *forward_loss(lt_graph *g, const net *m, lt_tensor *x) {
    lt_tensor *h = lt_relu(g, conv(g, x, &m->e1, 2, 1));
    h = conv(g, h, &m->e2, 2, 1);
    for (int i = 0; i < 2; i++) {
        lt_tensor *t = conv(g, lt_relu(g, h), &m->r[i][0], 1, 1);
        h = lt_add(g, h, conv(g, lt_relu(g, t), &m->r[i][1], 1, 0));
    }
    h = lt_relu(g, lt_conv_transpose2d(g, lt_relu(g, h), m->d1.w, m->d1.b, 2, 1));
    lt_tensor *y = lt_conv_transpose2d(g, h, m->d2.w, m->d2.b, 2, 1);
    lt_tensor *d = lt_sub(g, y, x);
    return lt_mean(g, lt_mul(g, d, d), LT_AXIS_ALL, 0);
}

typedef struct {
    const net *m;
    lt_params *p;
    lt_optim *opt;
    lt_graph *g;
    float *xs; /* (B, C, S, S) */
    int64_t C, S;
    float lr, loss;
} convnet_ctx;

static int convnet_step(void *ud, int round) {
    (void)round;
    convnet_ctx *c = ud;
    lt_graph_reset(c->g);
    lt_tensor *x = lt_graph_wrap(c->g, c->xs, 4, (int64_t[]){B, c->C, c->S, c->S});
    lt_tensor *l = x ? forward_loss(c->g, c->m, x) : NULL;
    lt_params_zero_grad(c->p);
    if (!l || lt_backward(c->g, l)) return 1;
    c->loss = l->data[0];
    lt_optim_step(c->opt, c->p, c->lr);
    return 0;
}

int main(int argc, char **argv) {
    int S = ltb_arg(argc, argv, 1, 28), rounds = ltb_arg(argc, argv, 2, 5), steps = ltb_arg(argc, argv, 3, 10);
    if ((S != 28 && S != 32) || rounds < 1 || steps < 1) {
        fprintf(stderr, "usage: bench_convnet 28|32 [rounds >= 1] [steps >= 1]\n");
        return 2;
    }
    int64_t C = S == 28 ? 1 : 3;
    ltb_threads(0);
    lt_rng rng;
    lt_rng_seed(&rng, 0);
    lt_params p;
    lt_params_init(&p);
    net m;
    m.e1 = add(&p, "enc.0", 64, C, 4, 64);
    m.e2 = add(&p, "enc.2", 128, 64, 4, 128);
    for (int i = 0; i < 2; i++) {
        char s[32];
        snprintf(s, sizeof s, "res.%d.c1", i);
        m.r[i][0] = add(&p, s, 128, 128, 3, 128);
        snprintf(s, sizeof s, "res.%d.c2", i);
        m.r[i][1] = add(&p, s, 128, 128, 1, 128);
    }
    m.d1 = add(&p, "dec.0", 128, 64, 4, 64);
    m.d2 = add(&p, "dec.2", 64, C, 4, C);
    if (lt_params_finalize(&p)) return 1;
    init(&m.e1, &rng, (double)C * 16);
    init(&m.e2, &rng, 64 * 16);
    for (int i = 0; i < 2; i++) {
        init(&m.r[i][0], &rng, 128 * 9);
        init(&m.r[i][1], &rng, 128);
    }
    init(&m.d1, &rng, 64 * 16); /* PyTorch's fan_in of a ConvTranspose2d weight (C_in, C_out, k, k): C_out·k·k */
    init(&m.d2, &rng, (double)C * 16);
    lt_optim_config cfg = lt_optim_config_default(LT_OPTIM_ADAM, 2e-4f);
    lt_optim opt;
    if (lt_optim_init(&opt, &cfg, &p)) return 1;
    float *xs = malloc(sizeof(float) * B * C * S * S);
    if (!xs) return 1;
    lt_rng_fill_uniform(&rng, xs, B * C * S * S, 0, 1);
    lt_graph g;
    if (lt_graph_init(&g, 0)) return 1;
    convnet_ctx c = {&m, &p, &opt, &g, xs, C, S, cfg.lr, 0};
    const double rate = ltb_best_rate("bench_convnet", rounds, steps, 3, B, convnet_step, &c, NULL); /* 3 warm-up steps */
    printf("net%d: %.1f ex/s (%.2f ms/step, best of %d x %d steps, %d threads), peak RSS %.1f MB, loss %.5f\n", S, rate,
           1e3 * B / rate, rounds, steps, lt_threads_get(), ltb_peak_rss_mb(), c.loss);
    printf("BENCH impl=latent case=net%d ex_per_s=%.1f peak_rss_mb=%.1f loss=%.5f\n", S, rate, ltb_peak_rss_mb(), c.loss);
    lt_graph_free(&g);
    lt_optim_free(&opt);
    lt_params_free(&p);
    free(xs);
    return 0;
}
