/* Data-parallel draws (core/rng.h lt_rng_part): the rows each process draws for its part of
 * a batch are bit-for-bit the rows of the whole batch's draw, and every process's stream
 * ends where the whole draw leaves it; the same through the samplers of dist/ and dropout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/graph.h"
#include "core/rng.h"
#include "dist/dist.h"
#include "ops/ops.h"

enum { B = 7, MAXV = 3 * B * 70 };

/* Splits of a batch of B rows: {sizes..., 0}. */
static const int64_t splits[][4] = {{B, 0}, {3, 4, 0}, {2, 2, 3, 0}, {1, 6, 0}};

static void fill_rows_matches_whole_draw(void **state) {
    (void)state;
    static float whole[MAXV], part[MAXV];
    const lt_rng_dist ds[] = {LT_RNG_UNIFORM, LT_RNG_NORMAL, LT_RNG_BERNOULLI, LT_RNG_GUMBEL, LT_RNG_UNIFORM1};
    const int64_t pers[] = {1, 3, 5, 50};
    for (size_t di = 0; di < sizeof ds / sizeof *ds; di++)
        for (size_t pi = 0; pi < 4; pi++)
            for (int64_t K = 1; K <= 3; K += 2) {
                const int64_t per = pers[pi], rows = K * B;
                lt_rng w;
                lt_rng_seed(&w, 99);
                w.counter = 5;
                lt_rng start = w;
                lt_rng_fill_rows(&w, NULL, ds[di], whole, rows, per, 0.25f, 0.75f);
                for (size_t si = 0; si < sizeof splits / sizeof *splits; si++) {
                    int64_t lo = 0;
                    for (const int64_t *n = splits[si]; *n; lo += *n, n++) {
                        lt_rng r = start;
                        lt_rng_part p = {lo, *n, B};
                        lt_rng_fill_rows(&r, &p, ds[di], part, K * *n, per, 0.25f, 0.75f);
                        assert_int_equal(r.counter, w.counter);
                        for (int64_t i = 0; i < K * *n; i++) /* local row i is whole row k·B + lo + i%n */
                            assert_memory_equal(part + i * per, whole + (i / *n * B + lo + i % *n) * per,
                                                (size_t)per * sizeof *part);
                    }
                }
            }
    /* A draw of rows that are not a multiple of the part is the whole draw on every process. */
    lt_rng a, b;
    lt_rng_seed(&a, 3);
    b = a;
    lt_rng_fill_rows(&a, NULL, LT_RNG_NORMAL, whole, 5, 2, 0, 1);
    lt_rng_fill_rows(&b, &(lt_rng_part){1, 3, 7}, LT_RNG_NORMAL, part, 5, 2, 0, 1);
    assert_memory_equal(whole, part, 10 * sizeof *part);
    assert_int_equal(a.counter, b.counter);
}

static void plain_fills_are_unchanged(void **state) {
    (void)state;
    float x[37], y[37];
    lt_rng a, b;
    lt_rng_seed(&a, 11);
    b = a;
    lt_rng_fill_normal(&a, x, 37, 0.5f, 2.0f);
    lt_rng_fill_rows(&b, NULL, LT_RNG_NORMAL, y, 37, 1, 0.5f, 2.0f);
    assert_memory_equal(x, y, sizeof x);
    for (int i = 0; i < 37; i++) x[i] = lt_rng_uniform(&a);
    lt_rng_fill_rows(&b, NULL, LT_RNG_UNIFORM1, y, 1, 37, 0.0f, 1.0f);
    assert_memory_equal(x, y, sizeof x);
    assert_int_equal(a.counter, b.counter);
}

typedef lt_tensor *(*sampler_fn)(lt_graph *g, lt_rng *r, lt_tensor *logits);
static lt_tensor *s_normal(lt_graph *g, lt_rng *r, lt_tensor *l) { return lt_normal_rsample(g, r, l, l); }
static lt_tensor *s_gumbel(lt_graph *g, lt_rng *r, lt_tensor *l) { return lt_gumbel_softmax(g, r, l, 0.7f, 0); }
static lt_tensor *s_relaxed(lt_graph *g, lt_rng *r, lt_tensor *l) { return lt_relaxed_bernoulli(g, r, l, 0.7f); }
static lt_tensor *s_cat(lt_graph *g, lt_rng *r, lt_tensor *l) { return lt_categorical_sample(g, r, l); }
static lt_tensor *s_bern(lt_graph *g, lt_rng *r, lt_tensor *l) { return lt_bernoulli_sample(g, r, l); }
static lt_tensor *s_dropout(lt_graph *g, lt_rng *r, lt_tensor *l) {
    g->rng = r;
    g->training = 1;
    lt_tensor *y = lt_dropout(g, l, 0.4f);
    g->training = 0;
    return y;
}

/* Logits (rows, 3, 70) (K = 70 spans two Gumbel blocks of 64); the sampler's output rows
 * for each part against the whole batch's. */
static void samplers_match_whole_batch(void **state) {
    (void)state;
    const sampler_fn fns[] = {s_normal, s_gumbel, s_relaxed, s_cat, s_bern, s_dropout};
    const int64_t per = 3 * 70;
    static float logits[B * 3 * 70], whole[B * 3 * 70];
    lt_rng init;
    lt_rng_seed(&init, 5);
    lt_rng_fill_normal(&init, logits, B * per, 0, 2);
    lt_graph g;
    assert_int_equal(lt_graph_init(&g, 1 << 20), LT_OK);
    lt_graph_set_grad(&g, 0);
    for (size_t f = 0; f < sizeof fns / sizeof *fns; f++) {
        lt_rng w;
        lt_rng_seed(&w, 17);
        lt_rng start = w;
        lt_tensor *l = lt_graph_wrap(&g, logits, 3, (int64_t[]){B, 3, 70});
        lt_tensor *y = fns[f](&g, &w, l);
        assert_non_null(y);
        memcpy(whole, y->data, sizeof whole);
        lt_graph_reset(&g);
        for (size_t si = 1; si < sizeof splits / sizeof *splits; si++) {
            int64_t lo = 0;
            for (const int64_t *n = splits[si]; *n; lo += *n, n++) {
                lt_rng r = start;
                lt_rng_part p = {lo, *n, B};
                g.part = &p;
                lt_tensor *lp = lt_graph_wrap(&g, logits + lo * per, 3, (int64_t[]){*n, 3, 70});
                lt_tensor *yp = fns[f](&g, &r, lp);
                assert_non_null(yp);
                assert_memory_equal(yp->data, whole + lo * per, (size_t)(*n * per) * sizeof *whole);
                assert_int_equal(r.counter, w.counter);
                g.part = NULL;
                lt_graph_reset(&g);
            }
        }
    }
    lt_graph_free(&g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fill_rows_matches_whole_draw),
        cmocka_unit_test(plain_fills_are_unchanged),
        cmocka_unit_test(samplers_match_whole_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
