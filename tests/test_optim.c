/* Optimizers against PyTorch, convergence on a quadratic, schedules, clipping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "core/params.h"
#include "core/threads.h"
#include "optim/optim.h"

/* The problem of the reference run: loss = Σ c_i (p_i - t_i)², six parameters. */
static const float P0[6] = {0.5f, -1.25f, 2.0f, 0.0f, -0.3f, 1.7f};
static const float T[6] = {0.1f, 0.2f, -0.4f, 1.0f, -2.0f, 0.6f};
static const float C[6] = {1.0f, 0.5f, 2.0f, 3.0f, 0.25f, 1.5f};

/* Reference values: parameters after 5 steps, produced by PyTorch 1.13.1 (Debian python3-torch) with
 *
 *   import torch
 *   p0 = [0.5, -1.25, 2.0, 0.0, -0.3, 1.7]
 *   t = torch.tensor([0.1, 0.2, -0.4, 1.0, -2.0, 0.6])
 *   c = torch.tensor([1.0, 0.5, 2.0, 3.0, 0.25, 1.5])
 *   def run(make):
 *       p = torch.tensor(p0, requires_grad=True)
 *       o = make([p])
 *       for _ in range(5):
 *           o.zero_grad()
 *           (c * (p - t) ** 2).sum().backward()
 *           o.step()
 *       return ", ".join("%.9gf" % x for x in p.tolist())
 *   print("sgd_mom", run(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01)))
 *   print("sgd", run(lambda ps: torch.optim.SGD(ps, lr=0.1)))
 *   print("adam", run(lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.1)))
 *   print("adamw", run(lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.1)))
 *   print("adagrad", run(lambda ps: torch.optim.Adagrad(ps, lr=0.1, weight_decay=0.01)))
 */
static const float REF_SGD_MOM[6] = {-0.134370461f, 0.251328796f, -2.14445567f, 1.22488451f, -1.28492558f, -0.260278851f};
static const float REF_SGD[6] = {0.231071994f, -0.656210482f, -0.213376001f, 0.989759982f, -0.684572458f, 0.784877062f};
static const float REF_ADAM[6] = {0.450125039f, -1.20003164f, 1.95001864f, 0.0499530211f, -0.349966794f, 1.65004098f};
static const float REF_ADAMW[6] = {0.447738796f, -1.19389772f, 1.94014239f, 0.0498540401f, -0.348377556f, 1.64166641f};
static const float REF_ADAGRAD[6] = {0.236469552f, -0.940814376f, 1.68504012f, 0.302246898f, -0.611085534f, 1.39560866f};

static void quad_grad(const float *p, float *g, int64_t n, const float *t, const float *c) {
    for (int64_t i = 0; i < n; i++) g[i] = 2.0f * c[i] * (p[i] - t[i]);
}

static void check_against_torch(lt_optim_config cfg, const float *ref) {
    lt_params ps;
    lt_params_init(&ps);
    lt_tensor *w = lt_params_add(&ps, "w", 1, (int64_t[]){6});
    assert_non_null(w);
    assert_int_equal(lt_params_finalize(&ps), LT_OK);
    memcpy(w->data, P0, sizeof P0);
    lt_optim o;
    assert_int_equal(lt_optim_init(&o, &cfg, &ps), LT_OK);
    for (int s = 0; s < 5; s++) {
        lt_params_zero_grad(&ps);
        quad_grad(w->data, w->grad, 6, T, C);
        lt_optim_step(&o, &ps, cfg.lr);
    }
    assert_int_equal(o.step, 5);
    for (int i = 0; i < 6; i++) {
        double err = fabs((double)w->data[i] - ref[i]);
        if (err > 2e-6 + 2e-6 * fabs(ref[i]))
            fail_msg("kind %d param %d: got %.9g, PyTorch %.9g", (int)cfg.kind, i, w->data[i], ref[i]);
    }
    /* Padding after the parameter stays untouched (zero data, zero grad). */
    for (int64_t i = 6; i < ps.total; i++) assert_true(ps.data[i] == 0.0f);
    lt_optim_free(&o);
    lt_params_free(&ps);
}

static void sgd_matches_torch(void **state) {
    (void)state;
    lt_optim_config c = lt_optim_config_default(LT_OPTIM_SGD, 0.1f);
    check_against_torch(c, REF_SGD);
    c.momentum = 0.9f;
    c.weight_decay = 0.01f;
    check_against_torch(c, REF_SGD_MOM);
}

static void adam_matches_torch(void **state) {
    (void)state;
    lt_optim_config c = lt_optim_config_default(LT_OPTIM_ADAM, 0.01f);
    c.weight_decay = 0.1f;
    check_against_torch(c, REF_ADAM);
}

static void adamw_matches_torch(void **state) {
    (void)state;
    lt_optim_config c = lt_optim_config_default(LT_OPTIM_ADAMW, 0.01f);
    assert_float_equal(c.weight_decay, 0.01f, 0); /* PyTorch's default */
    c.weight_decay = 0.1f;
    check_against_torch(c, REF_ADAMW);
}

static void adagrad_matches_torch(void **state) {
    (void)state;
    lt_optim_config c = lt_optim_config_default(LT_OPTIM_ADAGRAD, 0.1f);
    assert_float_equal(c.eps, 1e-10f, 0);
    c.weight_decay = 0.01f;
    check_against_torch(c, REF_ADAGRAD);
}

/* A block large enough for the threaded path; every optimizer must reach the minimum. */
static void minimizes_a_quadratic(void **state) {
    (void)state;
    const int64_t n = 40001; /* above the threaded-loop threshold */
    float *t = malloc(sizeof(float) * n), *c = malloc(sizeof(float) * n);
    for (int64_t i = 0; i < n; i++) {
        t[i] = (float)((i * 7919) % 201 - 100) / 50.0f;
        c[i] = 0.5f + (float)(i % 5) * 0.25f;
    }
    struct { lt_optim_kind kind; float lr, mom; int steps; } runs[] = {
        {LT_OPTIM_SGD, 0.05f, 0.9f, 300}, {LT_OPTIM_ADAM, 0.05f, 0, 1000},
        {LT_OPTIM_ADAMW, 0.05f, 0, 1000}, {LT_OPTIM_ADAGRAD, 0.5f, 0, 1000}};
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        lt_params ps;
        lt_params_init(&ps);
        lt_tensor *w = lt_params_add(&ps, "w", 1, (int64_t[]){n});
        assert_int_equal(lt_params_finalize(&ps), LT_OK);
        lt_optim_config cfg = lt_optim_config_default(runs[r].kind, runs[r].lr);
        cfg.momentum = runs[r].mom;
        cfg.weight_decay = 0; /* AdamW's default decay would move the minimum */
        lt_optim o;
        assert_int_equal(lt_optim_init(&o, &cfg, &ps), LT_OK);
        for (int s = 0; s < runs[r].steps; s++) {
            quad_grad(w->data, w->grad, n, t, c);
            lt_optim_step(&o, &ps, lt_schedule_lr(&(lt_schedule){LT_SCHED_COSINE, runs[r].lr, 0, 0, 1, runs[r].steps, 0}, s));
        }
        double maxerr = 0;
        for (int64_t i = 0; i < n; i++) maxerr = fmax(maxerr, fabs(w->data[i] - t[i]));
        if (maxerr > 1e-3) fail_msg("optimizer %d: max |p - p*| = %g after %d steps", (int)runs[r].kind, maxerr, runs[r].steps);
        lt_optim_free(&o);
        lt_params_free(&ps);
    }
    free(t);
    free(c);
}

/* Same steps with 1 and 2 threads give the same bits. */
static void thread_count_does_not_change_results(void **state) {
    (void)state;
    const int64_t n = 70001;
    float *out[2];
    for (int k = 0; k < 2; k++) {
        lt_threads_set(k + 1);
        lt_params ps;
        lt_params_init(&ps);
        lt_tensor *w = lt_params_add(&ps, "w", 1, (int64_t[]){n});
        assert_int_equal(lt_params_finalize(&ps), LT_OK);
        for (int64_t i = 0; i < n; i++) w->data[i] = (float)(i % 13) * 0.1f;
        lt_optim_config cfg = lt_optim_config_default(LT_OPTIM_ADAMW, 0.01f);
        lt_optim o;
        assert_int_equal(lt_optim_init(&o, &cfg, &ps), LT_OK);
        for (int s = 0; s < 5; s++) {
            for (int64_t i = 0; i < n; i++) w->grad[i] = sinf((float)i + w->data[i]);
            lt_clip_grad_norm(&ps, 10.0);
            lt_optim_step(&o, &ps, 0.01f);
        }
        out[k] = malloc(sizeof(float) * n);
        memcpy(out[k], w->data, sizeof(float) * n);
        lt_optim_free(&o);
        lt_params_free(&ps);
    }
    assert_memory_equal(out[0], out[1], sizeof(float) * n);
    free(out[0]);
    free(out[1]);
    lt_threads_set(0);
}

static void clipping_scales_to_max_norm(void **state) {
    (void)state;
    lt_params ps;
    lt_params_init(&ps);
    lt_tensor *a = lt_params_add(&ps, "a", 1, (int64_t[]){2});
    lt_tensor *b = lt_params_add(&ps, "b", 2, (int64_t[]){1, 1});
    assert_int_equal(lt_params_finalize(&ps), LT_OK);
    a->grad[0] = 3.0f; a->grad[1] = 0.0f; b->grad[0] = -4.0f; /* norm 5 across two tensors */
    double norm = lt_clip_grad_norm(&ps, 10.0);
    assert_float_equal(norm, 5.0, 1e-12);
    assert_true(a->grad[0] == 3.0f && b->grad[0] == -4.0f); /* under the limit: untouched */
    norm = lt_clip_grad_norm(&ps, 1.0);
    assert_float_equal(norm, 5.0, 1e-12);
    assert_float_equal(a->grad[0], 0.6, 1e-6);
    assert_float_equal(b->grad[0], -0.8, 1e-6);
    assert_float_equal(sqrt(lt_params_grad_sqnorm(&ps)), 1.0, 1e-6);
    lt_params_free(&ps);
}

static void schedules_give_expected_rates(void **state) {
    (void)state;
    lt_schedule s;
    assert_int_equal(lt_schedule_parse("constant", 0.5f, &s), LT_OK);
    assert_float_equal(lt_schedule_lr(&s, 0), 0.5, 1e-7);
    assert_float_equal(lt_schedule_lr(&s, 100000), 0.5, 1e-7);

    assert_int_equal(lt_schedule_parse("step:10:0.5", 1.0f, &s), LT_OK);
    assert_int_equal(s.kind, LT_SCHED_STEP);
    float want_step[][2] = {{0, 1}, {9, 1}, {10, 0.5f}, {19, 0.5f}, {25, 0.25f}, {30, 0.125f}};
    for (int i = 0; i < 6; i++) assert_float_equal(lt_schedule_lr(&s, (int64_t)want_step[i][0]), want_step[i][1], 1e-7);

    assert_int_equal(lt_schedule_parse("cosine:0.1", 1.0f, &s), LT_OK);
    s.total_steps = 100;
    assert_float_equal(lt_schedule_lr(&s, 0), 1.0, 1e-6);
    assert_float_equal(lt_schedule_lr(&s, 50), 0.55, 1e-6);
    assert_float_equal(lt_schedule_lr(&s, 25), 0.1 + 0.9 * 0.5 * (1 + cos(M_PI / 4)), 1e-6);
    assert_float_equal(lt_schedule_lr(&s, 100), 0.1, 1e-7);
    assert_float_equal(lt_schedule_lr(&s, 500), 0.1, 1e-7);

    assert_int_equal(lt_schedule_parse("cosine,warmup:10", 2.0f, &s), LT_OK);
    assert_int_equal(s.warmup_steps, 10);
    assert_float_equal(s.min_lr, 0.0, 0);
    s.total_steps = 110;
    assert_float_equal(lt_schedule_lr(&s, 0), 0.2, 1e-6);   /* 2 · 1/10 */
    assert_float_equal(lt_schedule_lr(&s, 4), 1.0, 1e-6);   /* 2 · 5/10 */
    assert_float_equal(lt_schedule_lr(&s, 9), 2.0, 1e-6);   /* warm-up done */
    assert_float_equal(lt_schedule_lr(&s, 10), 2.0, 1e-6);  /* cosine starts */
    assert_float_equal(lt_schedule_lr(&s, 60), 1.0, 1e-6);  /* half way */
    assert_float_equal(lt_schedule_lr(&s, 110), 0.0, 1e-7);

    assert_int_equal(lt_schedule_parse("constant,warmup:4", 1.0f, &s), LT_OK);
    assert_float_equal(lt_schedule_lr(&s, 1), 0.5, 1e-7);
    assert_float_equal(lt_schedule_lr(&s, 3), 1.0, 1e-7);

    const char *bad[] = {"", "linear", "step:0:0.5", "step:10", "step:10:-1", "step:2.5:0.5", "cosine:x",
                         "cosine:-1", "constant,warm:5", "constant,warmup:-3", "constant,warmup:", "constants"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (lt_schedule_parse(bad[i], 1.0f, &s) != LT_ERR_ARG) fail_msg("schedule '%s' was accepted", bad[i]);
        assert_non_null(strstr(lt_error_message(), "schedule"));
    }
}

/* L1: every kind's step with l1 equals its step without, on the gradient plus
 * l1·sign(p) (sign(0) = 0), for 5 steps; and with no data gradient SGD walks a
 * weight to zero and keeps it within one step of it. */
static void l1_is_the_sign_subgradient(void **state) {
    (void)state;
    const lt_optim_kind kinds[] = {LT_OPTIM_SGD, LT_OPTIM_ADAM, LT_OPTIM_ADAMW, LT_OPTIM_ADAGRAD};
    float p0[6] = {0.5f, -1.0f, 0.0f, 0.25f, -0.125f, 2.0f};
    for (int k = 0; k < 4; k++) {
        lt_params pa, pb;
        lt_tensor *wa, *wb;
        lt_params_init(&pa);
        lt_params_init(&pb);
        assert_non_null(wa = lt_params_add(&pa, "w", 1, (int64_t[]){6}));
        assert_non_null(wb = lt_params_add(&pb, "w", 1, (int64_t[]){6}));
        assert_int_equal(lt_params_finalize(&pa), LT_OK);
        assert_int_equal(lt_params_finalize(&pb), LT_OK);
        memcpy(wa->data, p0, sizeof p0);
        memcpy(wb->data, p0, sizeof p0);
        lt_optim_config ca = lt_optim_config_default(kinds[k], 0.05f), cb = ca;
        ca.l1 = 0.3f;
        if (kinds[k] == LT_OPTIM_SGD) ca.momentum = cb.momentum = 0.9f;
        lt_optim oa, ob;
        assert_int_equal(lt_optim_init(&oa, &ca, &pa), LT_OK);
        assert_int_equal(lt_optim_init(&ob, &cb, &pb), LT_OK);
        for (int s = 0; s < 5; s++) {
            lt_params_zero_grad(&pa);
            lt_params_zero_grad(&pb);
            quad_grad(wa->data, wa->grad, 6, T, C);
            quad_grad(wb->data, wb->grad, 6, T, C);
            for (int i = 0; i < 6; i++) wb->grad[i] += 0.3f * (float)((wb->data[i] > 0) - (wb->data[i] < 0));
            lt_optim_step(&oa, &pa, ca.lr);
            lt_optim_step(&ob, &pb, cb.lr);
            for (int i = 0; i < 6; i++)
                if (wa->data[i] != wb->data[i])
                    fail_msg("kind %d step %d param %d: %.9g with l1, %.9g by hand", k, s, i, wa->data[i], wb->data[i]);
        }
        lt_optim_free(&oa);
        lt_optim_free(&ob);
        lt_params_free(&pa);
        lt_params_free(&pb);
    }
    lt_params ps;
    lt_params_init(&ps);
    lt_tensor *w = lt_params_add(&ps, "w", 1, (int64_t[]){2});
    assert_int_equal(lt_params_finalize(&ps), LT_OK);
    w->data[0] = 1.0f;
    w->data[1] = -0.7f;
    lt_optim_config c = lt_optim_config_default(LT_OPTIM_SGD, 0.1f);
    c.l1 = 0.5f; /* steps of 0.05 toward zero */
    lt_optim o;
    assert_int_equal(lt_optim_init(&o, &c, &ps), LT_OK);
    for (int s = 0; s < 40; s++) {
        lt_params_zero_grad(&ps);
        lt_optim_step(&o, &ps, c.lr);
    }
    assert_true(fabsf(w->data[0]) <= 0.05f + 1e-6f && fabsf(w->data[1]) <= 0.05f + 1e-6f);
    lt_optim_free(&o);
    c.l1 = -1.0f;
    assert_int_equal(lt_optim_init(&o, &c, &ps), LT_ERR_ARG);
    lt_params_free(&ps);
}

static void bad_configs_are_rejected(void **state) {
    (void)state;
    lt_params ps;
    lt_params_init(&ps);
    assert_non_null(lt_params_add(&ps, "w", 1, (int64_t[]){4}));
    lt_optim o;
    lt_optim_config c = lt_optim_config_default(LT_OPTIM_ADAM, 0.1f);
    assert_int_equal(lt_optim_init(&o, &c, &ps), LT_ERR_ARG); /* not finalized */
    assert_int_equal(lt_params_finalize(&ps), LT_OK);
    c.beta1 = 1.0f;
    assert_int_equal(lt_optim_init(&o, &c, &ps), LT_ERR_ARG);
    c = lt_optim_config_default(LT_OPTIM_SGD, -1.0f);
    assert_int_equal(lt_optim_init(&o, &c, &ps), LT_ERR_ARG);
    c = lt_optim_config_default(LT_OPTIM_SGD, 1.0f);
    assert_int_equal(lt_optim_init(&o, &c, &ps), LT_OK);
    assert_null(o.m); /* plain SGD keeps no state */
    lt_optim_free(&o);
    assert_int_equal(lt_optim_kind_parse("adamw"), LT_OPTIM_ADAMW);
    assert_int_equal(lt_optim_kind_parse("adagrad"), LT_OPTIM_ADAGRAD);
    assert_int_equal(lt_optim_kind_parse("Adam"), -1);
    lt_params_free(&ps);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sgd_matches_torch),
        cmocka_unit_test(adam_matches_torch),
        cmocka_unit_test(adamw_matches_torch),
        cmocka_unit_test(adagrad_matches_torch),
        cmocka_unit_test(l1_is_the_sign_subgradient),
        cmocka_unit_test(minimizes_a_quadratic),
        cmocka_unit_test(thread_count_does_not_change_results),
        cmocka_unit_test(clipping_scales_to_max_norm),
        cmocka_unit_test(schedules_give_expected_rates),
        cmocka_unit_test(bad_configs_are_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
