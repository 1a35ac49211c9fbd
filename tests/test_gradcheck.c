/* Every op has a finite-difference gradient check, and every check passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "autograd/backward.h"
#include "autograd/gradcheck.h"
#include "ops/op.h"
#include "ops/ops.h"

static void all_cases_pass(void **state) {
    (void)state;
    int64_t n;
    const lt_gc_case *const *cases = lt_gc_cases(&n);
    assert_true(n > 0);
    int failed = 0;
    for (int64_t i = 0; i < n; i++) {
        lt_rng rng;
        lt_rng_seed(&rng, 100 + (uint64_t)i);
        lt_gc_result res;
        lt_status st = cases[i]->run(&rng, &res);
        if (st || res.n_failed || res.n_checked == 0) {
            fprintf(stderr, "FAIL %s %s: %s %s\n", cases[i]->op, cases[i]->what, st ? lt_error_message() : "", res.worst);
            failed++;
        }
    }
    assert_int_equal(failed, 0);
}

static void every_op_has_a_case_and_a_backward(void **state) {
    (void)state;
    int64_t n;
    const lt_gc_case *const *cases = lt_gc_cases(&n);
    int missing = 0;
    for (int op = 0; op < LT_OP_COUNT; op++) {
        if (!lt_op_implemented(op)) {
            fprintf(stderr, "op %d (%s) has no backward in the op table\n", op, lt_op_name(op));
            missing++;
            continue;
        }
        int found = 0;
        for (int64_t i = 0; i < n; i++) found |= !strcmp(cases[i]->op, lt_op_name(op));
        if (!found) { fprintf(stderr, "op %s has no gradient check\n", lt_op_name(op)); missing++; }
    }
    assert_int_equal(missing, 0);
}

/* A build whose second input reaches the output only through a constant copy:
 * the analytic gradient of in[1] is 0 while the numeric one is not. The checker must fail it. */
static lt_tensor *wrong_build(lt_graph *g, lt_tensor *const *in, const void *arg) {
    (void)arg;
    lt_tensor *b = lt_graph_wrap(g, in[1]->data, in[1]->ndim, in[1]->shape);
    return lt_matmul(g, in[0], b, 0, 0);
}

static void checker_detects_a_wrong_gradient(void **state) {
    (void)state;
    lt_rng rng;
    lt_rng_seed(&rng, 7);
    lt_gc_pool p = {0};
    lt_tensor *in[2] = {lt_gc_pool_f32(&p, &rng, 2, (int64_t[]){3, 4}, -1, 1, 0),
                        lt_gc_pool_f32(&p, &rng, 2, (int64_t[]){4, 2}, -1, 1, 0)};
    lt_gc_result res;
    assert_int_equal(lt_gradcheck(wrong_build, NULL, 2, in, NULL, &rng, &res), LT_OK);
    assert_true(res.n_failed > 0);
    lt_gc_pool_free(&p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(all_cases_pass),
        cmocka_unit_test(every_op_has_a_case_and_a_backward),
        cmocka_unit_test(checker_detects_a_wrong_gradient),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
