/* Core: arena, allocator hook, parameters, RNG, graph errors, backward basics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "autograd/backward.h"
#include "core/alloc.h"
#include "core/params.h"
#include "core/rng.h"
#include "ops/ops.h"

static void arena_reaches_steady_state(void **state) {
    (void)state;
    lt_arena a;
    lt_arena_init(&a, 1024);
    for (int step = 0; step < 5; step++) {
        uint64_t before = lt_alloc_count();
        for (int i = 0; i < 100; i++) {
            unsigned char *p = lt_arena_alloc(&a, 1000 + i);
            assert_non_null(p);
            assert_int_equal((uintptr_t)p % 64, 0);
            memset(p, i, 1000 + i);
        }
        uint64_t after = lt_alloc_count();
        if (step >= 1) assert_int_equal(after, before); /* second step onwards: no heap */
        lt_arena_reset(&a);
    }
    lt_arena_free(&a);
}

static int fail_after = -1;
static void *failing_realloc(void *ud, void *p, size_t n) {
    (void)ud;
    if (n == 0) { free(p); return NULL; }
    if (fail_after == 0) return NULL;
    if (fail_after > 0) fail_after--;
    return realloc(p, n);
}

static void out_of_memory_is_reported(void **state) {
    (void)state;
    lt_allocator hook = {failing_realloc, NULL};
    lt_alloc_set(&hook);
    for (int k = 0; k < 6; k++) { /* fail the k-th allocation of a small model's setup */
        fail_after = k;
        lt_params p;
        lt_params_init(&p);
        lt_status st = LT_OK;
        for (int i = 0; i < 4 && !st; i++) {
            char name[16];
            snprintf(name, sizeof name, "w%d", i);
            if (!lt_params_add(&p, name, 2, (int64_t[]){3, 3})) st = LT_ERR_NOMEM;
        }
        if (!st) st = lt_params_finalize(&p);
        assert_true(st == LT_OK || st == LT_ERR_NOMEM);
        lt_params_free(&p);
    }
    fail_after = -1;
    lt_alloc_set(NULL);
}

static void params_are_one_block(void **state) {
    (void)state;
    lt_params p;
    lt_params_init(&p);
    lt_tensor *w = lt_params_add(&p, "w", 2, (int64_t[]){3, 5});
    lt_tensor *b = lt_params_add(&p, "b", 1, (int64_t[]){5});
    assert_non_null(w);
    assert_null(lt_params_add(&p, "w", 1, (int64_t[]){2})); /* duplicate */
    assert_int_equal(lt_params_finalize(&p), LT_OK);
    assert_true(w->data >= p.data && b->data + 5 <= p.data + p.total);
    assert_true(b->data >= w->data + 15);
    assert_ptr_equal(w->grad - p.grad, w->data - p.data);
    lt_params_free(&p);
}

static void rng_is_deterministic_and_sane(void **state) {
    (void)state;
    enum { N = 100003 };
    float *a = malloc(sizeof(float) * N), *b = malloc(sizeof(float) * N);
    lt_rng r1, r2;
    lt_rng_seed(&r1, 42);
    lt_rng_seed(&r2, 42);
    lt_rng_fill_normal(&r1, a, N, 0, 1);
    lt_rng_fill_normal(&r2, b, N, 0, 1);
    assert_memory_equal(a, b, sizeof(float) * N);
    double m = 0, v = 0;
    for (int i = 0; i < N; i++) m += a[i];
    m /= N;
    for (int i = 0; i < N; i++) v += (a[i] - m) * (a[i] - m);
    v /= N;
    assert_true(fabs(m) < 0.02 && fabs(v - 1) < 0.03);
    lt_rng_fill_uniform(&r1, a, N, 0, 1);
    for (int i = 0; i < N; i++) assert_true(a[i] >= 0 && a[i] < 1);
    lt_rng_seed(&r2, 43);
    lt_rng_fill_uniform(&r2, b, N, 0, 1);
    assert_memory_not_equal(a, b, sizeof(float) * N);
    /* permutation: every index exactly once */
    int64_t perm[1000];
    int seen[1000] = {0};
    lt_rng_permutation(&r1, perm, 1000);
    for (int i = 0; i < 1000; i++) seen[perm[i]]++;
    for (int i = 0; i < 1000; i++) assert_int_equal(seen[i], 1);
    /* categorical frequencies follow the weights */
    float w[3] = {1, 2, 7};
    int cnt[3] = {0};
    for (int i = 0; i < 20000; i++) cnt[lt_rng_categorical(&r1, w, 3)]++;
    assert_true(fabs(cnt[2] / 20000.0 - 0.7) < 0.02 && fabs(cnt[0] / 20000.0 - 0.1) < 0.02);
    free(a);
    free(b);
}

static void graph_errors_are_sticky(void **state) {
    (void)state;
    lt_graph g;
    assert_int_equal(lt_graph_init(&g, 0), LT_OK);
    lt_tensor *a = lt_graph_zeros(&g, LT_F32, 2, (int64_t[]){2, 3});
    lt_tensor *b = lt_graph_zeros(&g, LT_F32, 2, (int64_t[]){4, 5});
    lt_tensor *c = lt_matmul(&g, a, b, 0, 0);
    assert_null(c);
    assert_int_equal(lt_graph_status(&g), LT_ERR_SHAPE);
    assert_non_null(strstr(lt_error_message(), "matmul"));
    assert_null(lt_matmul(&g, c, b, 0, 0));
    lt_graph_reset(&g);
    assert_int_equal(lt_graph_status(&g), LT_OK);
    lt_graph_free(&g);
}

static void no_grad_records_nothing_and_grads_accumulate(void **state) {
    (void)state;
    lt_params p;
    lt_params_init(&p);
    lt_tensor *w = lt_params_add(&p, "w", 2, (int64_t[]){1, 2});
    assert_int_equal(lt_params_finalize(&p), LT_OK);
    w->data[0] = 2; w->data[1] = 3;
    lt_graph g;
    lt_graph_init(&g, 0);
    float xv[2] = {1, 10};
    lt_tensor *x = lt_graph_wrap(&g, xv, 2, (int64_t[]){1, 2});
    lt_graph_set_grad(&g, 0);
    lt_tensor *y = lt_linear(&g, x, w, NULL);
    assert_float_equal(y->data[0], 32, 1e-6);
    assert_int_equal(g.n_nodes, 0);
    lt_graph_set_grad(&g, 1);
    for (int k = 0; k < 2; k++) {
        lt_graph_reset(&g);
        x = lt_graph_wrap(&g, xv, 2, (int64_t[]){1, 2});
        y = lt_linear(&g, x, w, NULL);
        assert_int_equal(g.n_nodes, 1);
        assert_int_equal(lt_backward(&g, y), LT_OK);
    }
    assert_float_equal(w->grad[0], 2, 1e-6); /* two backward passes accumulate */
    assert_float_equal(w->grad[1], 20, 1e-6);
    lt_graph_free(&g);
    lt_params_free(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arena_reaches_steady_state),
        cmocka_unit_test(out_of_memory_is_reported),
        cmocka_unit_test(params_are_one_block),
        cmocka_unit_test(rng_is_deterministic_and_sane),
        cmocka_unit_test(graph_errors_are_sticky),
        cmocka_unit_test(no_grad_records_nothing_and_grads_accumulate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
