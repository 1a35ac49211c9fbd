/* A training step of a small MLP (forward, backward, Adam, graph reset)
 * allocates nothing from the heap once it has reached its steady state, and
 * training is deterministic: same seed and thread count => the same bits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "autograd/backward.h"
#include "core/alloc.h"
#include "core/params.h"
#include "core/rng.h"
#include "core/threads.h"
#include "ops/ops.h"
#include "optim/optim.h"

typedef struct mlp {
    int64_t batch, din, hid;
    lt_params p;
    lt_tensor *w1, *b1, *w2, *b2;  /* (hid,din) (hid) (din,hid) (din) */
    lt_optim opt;
    lt_graph g;
    lt_rng rng;
    float *x;                      /* (batch,din) the current batch, in {0,1} */
} mlp;

static void mlp_init(mlp *m, int64_t batch, int64_t din, int64_t hid, uint64_t seed) {
    m->batch = batch; m->din = din; m->hid = hid;
    m->x = malloc(sizeof(float) * (size_t)(batch * din));
    lt_rng_seed(&m->rng, seed);
    lt_params_init(&m->p);
    m->w1 = lt_params_add(&m->p, "w1", 2, (int64_t[]){hid, din});
    m->b1 = lt_params_add(&m->p, "b1", 1, (int64_t[]){hid});
    m->w2 = lt_params_add(&m->p, "w2", 2, (int64_t[]){din, hid});
    m->b2 = lt_params_add(&m->p, "b2", 1, (int64_t[]){din});
    assert_int_equal(lt_params_finalize(&m->p), LT_OK);
    lt_rng_fill_normal(&m->rng, m->w1->data, hid * din, 0, 0.3f);
    lt_rng_fill_normal(&m->rng, m->w2->data, din * hid, 0, 0.3f);
    lt_optim_config cfg = lt_optim_config_default(LT_OPTIM_ADAM, 1e-2f);
    assert_int_equal(lt_optim_init(&m->opt, &cfg, &m->p), LT_OK);
    assert_int_equal(lt_graph_init(&m->g, 4096), LT_OK); /* small on purpose: the arena must grow, then settle */
}

static void mlp_free(mlp *m) {
    lt_graph_free(&m->g);
    lt_optim_free(&m->opt);
    lt_params_free(&m->p);
    free(m->x);
}

/* One step on a fresh random batch; returns the loss. */
static float mlp_step(mlp *m) {
    lt_graph *g = &m->g;
    lt_rng_fill_bernoulli(&m->rng, m->x, m->batch * m->din, NULL, 0.4f);
    lt_tensor *x = lt_graph_wrap(g, m->x, 2, (int64_t[]){m->batch, m->din});
    lt_params_zero_grad(&m->p);
    lt_tensor *h = lt_relu(g, lt_linear(g, x, m->w1, m->b1));                       /* (batch,hid) */
    lt_tensor *logits = lt_linear(g, h, m->w2, m->b2);                              /* (batch,din) */
    lt_tensor *loss = lt_mean(g, lt_bce_with_logits(g, logits, x), LT_AXIS_ALL, 0); /* () */
    assert_int_equal(lt_graph_status(g), LT_OK);
    assert_int_equal(lt_backward(g, loss), LT_OK);
    float v = loss->data[0];
    lt_clip_grad_norm(&m->p, 5.0);
    lt_optim_step(&m->opt, &m->p, 1e-2f);
    lt_graph_reset(g);
    return v;
}

static void training_step_allocates_nothing(void **state) {
    (void)state;
    mlp m;
    mlp_init(&m, 16, 24, 12, 7);
    uint64_t start = lt_alloc_count();
    float first = mlp_step(&m);
    mlp_step(&m);
    mlp_step(&m);
    uint64_t before = lt_alloc_count();
    assert_true(before > start); /* the first steps grew the arena: the counter sees it */
    float last = 0;
    for (int s = 3; s <= 10; s++) last = mlp_step(&m);
    uint64_t after = lt_alloc_count();
    if (after != before) fail_msg("steps 3..10 made %llu heap allocations", (unsigned long long)(after - before));
    assert_true(last < first); /* it is really training */
    mlp_free(&m);
}

/* Large enough that the GEMMs and the optimizer run threaded. */
static void same_seed_same_parameters(void **state) {
    (void)state;
    lt_threads_set(2);
    float *out[3];
    int64_t total = 0;
    uint64_t seeds[3] = {11, 11, 12};
    for (int r = 0; r < 3; r++) {
        mlp m;
        mlp_init(&m, 64, 300, 200, seeds[r]);
        for (int s = 0; s < 15; s++) mlp_step(&m);
        total = m.p.total;
        out[r] = malloc(sizeof(float) * (size_t)total);
        memcpy(out[r], m.p.data, sizeof(float) * (size_t)total);
        mlp_free(&m);
    }
    assert_memory_equal(out[0], out[1], sizeof(float) * (size_t)total);
    assert_true(memcmp(out[0], out[2], sizeof(float) * (size_t)total) != 0); /* another seed differs */
    for (int r = 0; r < 3; r++) free(out[r]);
    lt_threads_set(0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(training_step_allocates_nothing),
        cmocka_unit_test(same_seed_same_parameters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
