/* Checkpoint helpers: exact resume, and clear refusals of files that do not fit the model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "train/checkpoint.h"

static char path[64];

static int setup(void **state) {
    (void)state;
    strcpy(path, "/tmp/lt_ckpt_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    close(fd);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    unlink(path);
    return 0;
}

/* A small "model": w (3,5), b (5) trained; mask (3,5) a buffer. Shapes can be varied. */
typedef struct toy {
    lt_params p, buf;
    lt_optim o;
    lt_rng rng;
} toy;

static void toy_init(toy *t, int64_t rows, const char *bias_name, lt_optim_kind kind) {
    lt_params_init(&t->p);
    lt_params_init(&t->buf);
    assert_non_null(lt_params_add(&t->p, "w", 2, (int64_t[]){rows, 5}));
    assert_non_null(lt_params_add(&t->p, bias_name, 1, (int64_t[]){5}));
    assert_non_null(lt_params_add(&t->buf, "mask", 2, (int64_t[]){rows, 5}));
    assert_int_equal(lt_params_finalize(&t->p), LT_OK);
    assert_int_equal(lt_params_finalize(&t->buf), LT_OK);
    for (int64_t i = 0; i < rows * 5; i++) t->p.items[0]->t.data[i] = (float)(i % 7) * 0.1f;
    for (int64_t i = 0; i < 5; i++) t->p.items[1]->t.data[i] = -0.1f * (float)i;
    for (int64_t i = 0; i < rows * 5; i++) t->buf.items[0]->t.data[i] = (float)(i % 2);
    lt_optim_config cfg = lt_optim_config_default(kind, 0.01f);
    assert_int_equal(lt_optim_init(&t->o, &cfg, &t->p), LT_OK);
    lt_rng_seed(&t->rng, 1234);
}

static void toy_free(toy *t) {
    lt_optim_free(&t->o);
    lt_params_free(&t->p);
    lt_params_free(&t->buf);
}

/* One step whose gradient depends on the parameters, the buffer and the RNG stream. */
static void toy_step(toy *t) {
    float noise[64];
    lt_rng_fill_normal(&t->rng, noise, t->p.total, 0.0f, 1.0f);
    const lt_tensor *w = &t->p.items[0]->t, *b = &t->p.items[1]->t, *mask = &t->buf.items[0]->t;
    for (int64_t i = 0; i < lt_numel(w); i++) w->grad[i] = w->data[i] * mask->data[i] - noise[i];
    for (int64_t i = 0; i < 5; i++) b->grad[i] = b->data[i] - noise[lt_numel(w) + i];
    lt_optim_step(&t->o, &t->p, 0.01f);
}

static lt_ckpt parts(toy *t) { return (lt_ckpt){&t->p, &t->buf, &t->o, &t->rng, NULL, NULL, 0, NULL, NULL}; }

static void resume_is_exact(void **state) {
    (void)state;
    toy a, b;
    toy_init(&a, 3, "b", LT_OPTIM_ADAM);
    for (int s = 0; s < 3; s++) toy_step(&a);
    lt_st_kv meta[] = {{"model", "toy"}, {"config", "{\"rows\": 3}"}};
    lt_ckpt ca = parts(&a);
    assert_int_equal(lt_ckpt_save(path, &ca, meta, 2), LT_OK);
    for (int s = 0; s < 4; s++) toy_step(&a);

    toy_init(&b, 3, "b", LT_OPTIM_ADAM);
    lt_rng_seed(&b.rng, 999); /* the checkpoint must restore the stream */
    lt_st_file f;
    lt_ckpt cb = parts(&b);
    assert_int_equal(lt_ckpt_load(path, &cb, &f), LT_OK);
    assert_int_equal(b.o.step, 3);
    assert_string_equal(lt_safetensors_meta(&f, "model"), "toy");
    assert_string_equal(lt_safetensors_meta(&f, "config"), "{\"rows\": 3}");
    assert_non_null(lt_safetensors_find(&f, "param.w"));
    assert_non_null(lt_safetensors_find(&f, "buffer.mask"));
    lt_safetensors_close(&f);
    for (int s = 0; s < 4; s++) toy_step(&b);

    assert_memory_equal(a.p.data, b.p.data, sizeof(float) * a.p.total);
    assert_memory_equal(a.o.m, b.o.m, sizeof(float) * a.o.n);
    assert_memory_equal(a.o.v, b.o.v, sizeof(float) * a.o.n);
    assert_memory_equal(a.buf.data, b.buf.data, sizeof(float) * a.buf.total);
    assert_true(a.rng.key == b.rng.key && a.rng.counter == b.rng.counter);
    toy_free(&a);
    toy_free(&b);
}

/* Loads must fail with `what` in the message and leave the target untouched. */
static void expect_refusal(toy *t, const lt_ckpt *c, const char *what) {
    float before[64];
    memcpy(before, t->p.data, sizeof(float) * t->p.total);
    int64_t step = t->o.step;
    lt_st_file f;
    lt_status st = lt_ckpt_load(path, c, &f);
    if (st != LT_ERR_FORMAT) fail_msg("expected a format error mentioning '%s', got %d: %s", what, st, lt_error_message());
    if (!strstr(lt_error_message(), what)) fail_msg("message '%s' does not mention '%s'", lt_error_message(), what);
    assert_non_null(strstr(lt_error_message(), path));
    assert_memory_equal(before, t->p.data, sizeof(float) * t->p.total);
    assert_int_equal(step, t->o.step);
    assert_null(f.entries);
}

static lt_status refuse_meta(const char *p, const lt_st_file *f, void *ud) {
    (void)ud;
    return lt_safetensors_meta(f, "epoch") ? LT_OK : lt_fail(LT_ERR_FORMAT, "%s: metadata 'epoch' missing", p);
}

static void mismatches_are_refused(void **state) {
    (void)state;
    toy a;
    toy_init(&a, 3, "b", LT_OPTIM_ADAM);
    toy_step(&a);
    lt_ckpt ca = parts(&a);
    assert_int_equal(lt_ckpt_save(path, &ca, NULL, 0), LT_OK);

    toy t;
    toy_init(&t, 4, "b", LT_OPTIM_ADAM); /* w is (4,5) here */
    lt_ckpt ct = parts(&t);
    expect_refusal(&t, &ct, "tensor 'param.w' is F32 (3,5) in the checkpoint, the model expects F32 (4,5)");
    toy_free(&t);

    toy_init(&t, 3, "bias", LT_OPTIM_ADAM); /* b renamed */
    ct = parts(&t);
    expect_refusal(&t, &ct, "'param.bias' (5) is missing");
    toy_free(&t);

    toy_init(&t, 3, "b", LT_OPTIM_ADAMW);
    ct = parts(&t);
    expect_refusal(&t, &ct, "optimizer state is for 'adam', the run uses 'adamw'");
    toy_free(&t);

    /* The caller's metadata check fails: nothing is copied (parameters, optimizer step). */
    toy_init(&t, 3, "b", LT_OPTIM_ADAM);
    ct = parts(&t);
    ct.check_meta = refuse_meta;
    expect_refusal(&t, &ct, "metadata 'epoch' missing");
    toy_free(&t);

    /* A model with fewer parameters than the file. */
    lt_params small;
    lt_params_init(&small);
    assert_non_null(lt_params_add(&small, "w", 2, (int64_t[]){3, 5}));
    assert_int_equal(lt_params_finalize(&small), LT_OK);
    lt_ckpt cs = {&small, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL};
    lt_st_file f;
    assert_int_equal(lt_ckpt_load(path, &cs, &f), LT_ERR_FORMAT);
    assert_non_null(strstr(lt_error_message(), "parameter 'b' that the model lacks"));
    lt_params_free(&small);

    /* Saved without optimizer and RNG: loading them is refused. */
    lt_ckpt only = {&a.p, &a.buf, NULL, NULL, NULL, NULL, 0, NULL, NULL};
    assert_int_equal(lt_ckpt_save(path, &only, NULL, 0), LT_OK);
    toy_init(&t, 3, "b", LT_OPTIM_ADAM);
    ct = parts(&t);
    expect_refusal(&t, &ct, "no optimizer state");
    ct.optim = NULL;
    expect_refusal(&t, &ct, "metadata 'rng'");
    ct.rng = NULL;
    assert_int_equal(lt_ckpt_load(path, &ct, NULL), LT_OK); /* parameters alone load fine */
    assert_memory_equal(t.p.data, a.p.data, sizeof(float) * a.p.total);
    toy_free(&t);

    /* Reserved metadata keys are refused on save. */
    lt_st_kv bad[] = {{"rng", "1:2"}};
    assert_int_equal(lt_ckpt_save(path, &ca, bad, 1), LT_ERR_ARG);
    toy_free(&a);
}

static void foreign_tensors_are_refused(void **state) {
    (void)state;
    float x[2] = {1, 2};
    lt_st_entry e[] = {{"weird", LT_ST_F32, 1, {2}, x}};
    assert_int_equal(lt_safetensors_write(path, e, 1, NULL, 0), LT_OK);
    toy t;
    toy_init(&t, 3, "b", LT_OPTIM_SGD);
    lt_ckpt ct = {&t.p, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL};
    expect_refusal(&t, &ct, "unexpected tensor 'weird'");
    toy_free(&t);
}

/* Optimizer groups (train/phases.h): a second optimizer over the same block under its
 * name, next to the plain one; both restored exactly; a missing group is refused. */
static void more_optimizers_resume_exactly(void **state) {
    (void)state;
    toy a, b;
    toy_init(&a, 3, "b", LT_OPTIM_ADAM);
    toy_init(&b, 3, "b", LT_OPTIM_ADAM);
    lt_optim da, db;
    lt_optim_config dc = lt_optim_config_default(LT_OPTIM_ADAM, 0.02f);
    dc.beta1 = 0.5f;
    assert_int_equal(lt_optim_init(&da, &dc, &a.p), LT_OK);
    assert_int_equal(lt_optim_init(&db, &dc, &b.p), LT_OK);
    for (int s = 0; s < 3; s++) {
        toy_step(&a);
        lt_optim_step(&da, &a.p, 0.02f); /* the same gradient, a second optimizer's step */
    }
    lt_optim *more_a[1] = {&da}, *more_b[1] = {&db};
    const char *names[1] = {"discriminator"};
    lt_ckpt ca = parts(&a);
    ca.n_more = 1, ca.more = more_a, ca.more_names = names;
    assert_int_equal(lt_ckpt_save(path, &ca, NULL, 0), LT_OK);
    lt_ckpt cb = parts(&b);
    cb.n_more = 1, cb.more = more_b, cb.more_names = names;
    lt_st_file f;
    assert_int_equal(lt_ckpt_load(path, &cb, &f), LT_OK);
    assert_non_null(lt_safetensors_find(&f, "optim.discriminator.m"));
    assert_string_equal(lt_safetensors_meta(&f, "optim_step.discriminator"), "3");
    lt_safetensors_close(&f);
    assert_int_equal(db.step, 3);
    assert_memory_equal(da.m, db.m, sizeof(float) * da.n);
    assert_memory_equal(da.v, db.v, sizeof(float) * da.n);
    for (int s = 0; s < 2; s++) {
        toy_step(&a), lt_optim_step(&da, &a.p, 0.02f);
        toy_step(&b), lt_optim_step(&db, &b.p, 0.02f);
    }
    assert_memory_equal(a.p.data, b.p.data, sizeof(float) * a.p.total);
    /* a checkpoint without the group does not load into a run that has it */
    lt_ckpt plain = parts(&a);
    assert_int_equal(lt_ckpt_save(path, &plain, NULL, 0), LT_OK);
    expect_refusal(&b, &cb, "optim_kind.discriminator");
    lt_optim_free(&da);
    lt_optim_free(&db);
    toy_free(&a);
    toy_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resume_is_exact),
        cmocka_unit_test(mismatches_are_refused),
        cmocka_unit_test(foreign_tensors_are_refused),
        cmocka_unit_test(more_optimizers_resume_exactly),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
