/* Training speed of VQGAN (issue 15's goal: one generator + discriminator step >= 1.5x
 * PyTorch's): 32×32×3, hidden 64, 1 ResnetBlock per level, mid attention, K 512, D 64,
 * downsample 4, PatchGAN of 64 with 2 stride-2 layers, hinge loss, the adaptive weight
 * computed every step (disc_start 0). A step is what `latent train` runs: both phases
 * through train/phases.h (zero, phase loss, backward, the group's Adam (0.5, 0.9) step,
 * graph reset). Inputs: fixed uniform [-1,1) pixels (seeded). Best of `rounds` rounds.
 * Usage: bench_vqgan [batch 32] [rounds 3] [steps 5]   (threads: LATENT_THREADS)
 * Output: a human line and "BENCH impl=latent model=vqgan batch=B ex_per_s=... peak_rss_mb=...".
 * LT_PROFILE=1: also a per-op table of the timed steps (bench/prof.h; the optimizer row holds
 * both phases' Adam steps and graph resets). */
#include <stdio.h>
#include <stdlib.h>

#include "common.h"
#include "train/phases.h"

typedef struct {
    lt_model *m;
    lt_train_plan *plan;
    lt_graph *g;
    lt_batch batch;
    int64_t step;
    double loss[2]; /* the last step's generator and discriminator losses */
    ltb_prof *prof;
} vqgan_ctx;

/* one generator + discriminator step through train/phases.h, as `latent train` runs it */
static int vqgan_step(void *ud, int round) {
    vqgan_ctx *c = ud;
    const int timed = round >= 0;
    c->m->vt->on_step(c->m, c->step);
    c->g->training = 1;
    for (int ph = 0; ph < c->plan->n_phases; ph++) {
        lt_tensor *l;
        double gn;
        lt_params_zero_grad(&c->m->params);
        if (timed) ltb_prof_step(c->prof);
        if (lt_train_phase_loss(c->plan, c->m, c->g, &c->batch, ph, &l) || !l || lt_backward(c->g, l)) return 1;
        c->loss[ph] = l->data[0];
        lt_train_phase_update(c->plan, ph, c->step, 0, 0, &gn);
        lt_graph_reset(c->g);
        if (timed) ltb_prof_mark(c->prof, LTB_PROF_OPT);
    }
    c->g->training = 0;
    c->step++;
    return 0;
}

int main(int argc, char **argv) {
    const int64_t B = ltb_arg(argc, argv, 1, 32);
    const int rounds = ltb_arg(argc, argv, 2, 3), steps = ltb_arg(argc, argv, 3, 5);
    ltb_threads(0);
    json_t *cfg = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "height", 32, "width", 32, "channels", 3,
                            "hidden", 64, "res_blocks", 1, "codes", 512, "code_dim", 64, "downsample", 4, "disc_start", 0);
    json_t *run = json_pack("{s:s, s:f}", "optimizer", "adam", "lr", 2e-4);
    lt_model *m;
    lt_train_plan plan;
    lt_graph g;
    if (lt_model_create("vqgan", cfg, &m) || lt_train_plan_init(&plan, m, run, 1000) || lt_graph_init(&g, 0))
        ltb_die("bench_vqgan", NULL);
    json_decref(cfg);
    json_decref(run);
    const int64_t D = m->dim;
    float *x = malloc(sizeof(float) * (size_t)(B * D)); /* (B, 3·32·32) */
    lt_rng rng;
    lt_rng_seed(&rng, 1);
    lt_rng_fill_uniform(&rng, x, B * D, -1.0f, 1.0f);
    g.rng = &rng;
    ltb_prof prof;
    ltb_prof_init(&prof, &g);
    vqgan_ctx c = {m, &plan, &g, {x, NULL, B, D, NULL}, 0, {0, 0}, &prof};
    const double best = ltb_best_rate("bench_vqgan", rounds, steps, 0, (double)B, vqgan_step, &c, NULL);
    printf("latent  vqgan batch %3lld: %7.1f examples/s (best of %d rounds of %d G+D steps, %d threads), last losses "
           "G %.3f D %.3f, peak RSS %.1f MB\n", (long long)B, best, rounds, steps, lt_threads_get(), c.loss[0], c.loss[1],
           ltb_peak_rss_mb());
    if (getenv("LT_ARENA")) printf("arena high water %.1f MB\n", g.arena.high_water / 1048576.0);
    char keys[64];
    snprintf(keys, sizeof keys, "model=vqgan batch=%lld", (long long)B);
    ltb_bench_line(keys, best);
    ltb_prof_print(&prof, "latent");
    free(x);
    lt_graph_free(&g);
    lt_train_plan_free(&plan);
    lt_model_destroy(m);
    return 0;
}
