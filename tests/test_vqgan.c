/* VQGAN (models/vqgan.c) and the trainer's optimizer groups and step phases, on small
 * synthetic 16×16 images: before disc_start the generator's update is that of the plain
 * VQ autoencoder (the same gradients as a run whose GAN term has weight 0), two optimizers
 * resume bit-exactly after an interrupt, and the divergence guard stops a forced blow-up
 * with the last good checkpoint. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "lib/train_config.h"
#include "test_util.h"

#include "autograd/backward.h"
#include "core/alloc.h"
#include "core/graph.h"
#include "io/safetensors.h"
#include "models/model.h"
#include "train/rundir.h"
#include "train/trainer.h"

#define S 16
static char dir[256], data[300];

/* Blobs: a bright disc at a position that depends on i, on a darker ramp. */
static void image(int i, unsigned char *img) {
    const int cx = 4 + (i * 7) % 8, cy = 4 + (i * 3) % 8;
    for (int r = 0; r < S; r++)
        for (int c = 0; c < S; c++) {
            const int in = (r - cy) * (r - cy) + (c - cx) * (c - cx) <= 9;
            img[r * S + c] = (unsigned char)(in ? 230 : 8 * c + (i % 5) * 10);
        }
}

static void write_split(const char *stem, int n, int off) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte.gz", data, stem);
    gzFile f = test_idx_open(p, n, S, S);
    unsigned char img[S * S];
    for (int i = 0; i < n; i++) {
        image(i + off, img);
        gzwrite(f, img, S * S);
    }
    gzclose(f);
}

static int setup(void **state) {
    (void)state;
    assert_int_equal(test_tmpdir(dir, sizeof dir, "test_vqgan"), 0);
    snprintf(data, sizeof data, "%s/data", dir);
    mkdir(data, 0755);
    write_split("train", 32, 0);
    write_split("valid", 16, 1000);
    write_split("test", 16, 2000);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    return test_rmtree(dir);
}

/* A tiny VQGAN: 8 channels, no attention, 16 codes of 4 on an 8×8 grid, PatchGAN of 8. */
static json_t *tiny(int64_t disc_start, double disc_weight) {
    return json_pack("{s:i, s:i, s:i, s:i, s:i, s:b, s:i, s:i, s:I, s:f}", "hidden", 8, "norm_groups", 4, "codes", 16,
                     "code_dim", 4, "downsample", 2, "attn", 0, "disc_hidden", 8, "disc_layers", 2, "disc_start",
                     (json_int_t)disc_start, "disc_weight", disc_weight);
}

static lt_model *create(json_t *mc) {
    json_object_set_new(mc, "height", json_integer(S));
    json_object_set_new(mc, "width", json_integer(S));
    json_object_set_new(mc, "seed", json_integer(5));
    lt_model *m = NULL;
    lt_status st = lt_model_create("vqgan", mc, &m);
    if (st) fail_msg("%s", lt_error_message());
    json_decref(mc);
    return m;
}

/* Phase `phase` of one step on a batch of 4: its loss value (NAN: sat out) and gradients. */
static double phase(lt_model *m, lt_graph *g, int ph, int64_t step) {
    float x[4 * S * S];
    unsigned char img[S * S];
    for (int i = 0; i < 4; i++) {
        image(i, img);
        for (int j = 0; j < S * S; j++) x[i * S * S + j] = img[j] / 127.5f - 1.0f;
    }
    lt_batch b = {x, NULL, 4, S * S, NULL};
    m->vt->on_step(m, step);
    lt_params_zero_grad(&m->params);
    g->training = 1;
    lt_tensor *loss = NULL;
    lt_status st = m->vt->phase_loss(m, g, &b, ph, &loss);
    if (st) fail_msg("%s", lt_error_message());
    double v = NAN;
    if (loss) {
        v = loss->data[0];
        assert_int_equal(lt_backward(g, loss), LT_OK);
    }
    g->training = 0;
    lt_graph_reset(g);
    return v;
}

static void generator_update_before_disc_start_is_the_autoencoders(void **state) {
    (void)state;
    lt_model *a = create(tiny(100, 0.8)), *b = create(tiny(0, 0.0)); /* a: before its start; b: GAN term weighted 0 */
    lt_model_plan pa;
    assert_int_equal(a->vt->plan(a, &pa), LT_OK);
    assert_int_equal(pa.n_groups, 2);
    assert_string_equal(pa.group[1].name, "discriminator");
    const int64_t gen = pa.group[0].hi;
    assert_true(gen > 0 && gen < a->params.total && pa.group[1].hi == a->params.total);
    assert_memory_equal(a->params.data, b->params.data, sizeof(float) * (size_t)a->params.total);
    lt_graph g;
    assert_int_equal(lt_graph_init(&g, 0), LT_OK);
    const double la = phase(a, &g, 0, 3), lb = phase(b, &g, 0, 3);
    printf("generator loss %.7g (before disc_start) %.7g (GAN weight 0)\n", la, lb);
    assert_true(la == lb);
    assert_memory_equal(a->params.grad, b->params.grad, sizeof(float) * (size_t)gen);
    double ng = 0;
    for (int64_t i = 0; i < gen; i++) ng += fabs(a->params.grad[i]);
    assert_true(ng > 0);
    /* the discriminator sits out before its start; afterwards it trains */
    assert_true(isnan(phase(a, &g, 1, 3)));
    const double d = phase(b, &g, 1, 3);
    double nd = 0;
    for (int64_t i = gen; i < b->params.total; i++) nd += fabs(b->params.grad[i]);
    printf("discriminator loss %.7g, |grad| %.4g\n", d, nd);
    assert_true(isfinite(d) && nd > 0);
    lt_graph_free(&g);
    lt_model_destroy(a);
    lt_model_destroy(b);
}

static lt_train_config base(const char *run, json_t *mc, json_t *groups) {
    lt_train_config c = test_train_config(dir, run, "vqgan", mc, data, 16, 1e-3, 2);
    c.groups = groups;
    c.sample_n = -1; /* no grids: the test is about the steps */
    return c;
}

static volatile sig_atomic_t stop_flag;
static void stop_at_3(void *ud, const lt_train_progress *p) {
    (void)ud;
    if (p->global_step == 3) stop_flag = 1;
}

/* The tensors of a checkpoint (parameters, buffers, both optimizers) byte for byte. */
static void same_checkpoint(const char *a, const char *b) {
    lt_st_file fa, fb;
    assert_int_equal(lt_safetensors_read(a, &fa), LT_OK);
    assert_int_equal(lt_safetensors_read(b, &fb), LT_OK);
    assert_int_equal(fa.n, fb.n);
    int optim = 0;
    for (int64_t i = 0; i < fa.n; i++) {
        const lt_st_entry *ea = &fa.entries[i], *eb = lt_safetensors_find(&fb, ea->name);
        assert_non_null(eb);
        int64_t n = 1;
        for (int d = 0; d < ea->ndim; d++) n *= ea->shape[d];
        assert_true(ea->dtype == LT_ST_F32 && eb->dtype == LT_ST_F32 && ea->ndim == eb->ndim);
        if (memcmp(ea->data, eb->data, (size_t)n * 4)) fail_msg("tensor %s differs after the resume", ea->name);
        optim += !strncmp(ea->name, "optim.", 6);
    }
    assert_int_equal(optim, 4); /* optim.m, optim.v, optim.discriminator.m, optim.discriminator.v */
    assert_string_equal(lt_safetensors_meta(&fa, "optim_step.discriminator"), lt_safetensors_meta(&fb, "optim_step.discriminator"));
    assert_string_equal(lt_safetensors_meta(&fa, "optim_step"), "6");
    assert_string_equal(lt_safetensors_meta(&fa, "optim_step.discriminator"), "4"); /* steps 2..5 */
    lt_safetensors_close(&fa);
    lt_safetensors_close(&fb);
}

static void two_optimizers_resume_exactly(void **state) {
    (void)state;
    json_t *groups = json_pack("{s:{s:f, s:f}}", "discriminator", "lr", 4e-4, "beta2", 0.95);
    json_t *mc = tiny(2, 0.8);
    lt_train_config a = base("straight", mc, groups);
    lt_status st = lt_train(&a, NULL);
    if (st) fail_msg("%s", lt_error_message());
    lt_train_config b = base("interrupted", mc, groups);
    stop_flag = 0;
    b.stop = &stop_flag;
    lt_train_callbacks cb = {NULL, NULL, stop_at_3, NULL};
    assert_int_equal(lt_train(&b, &cb), LT_ERR_INTERRUPTED);
    assert_non_null(strstr(lt_error_message(), "epoch 2 step 1/2"));
    stop_flag = 0;
    lt_train_config r = {0};
    r.run_dir = b.run_dir;
    r.resume = 1;
    if ((st = lt_train(&r, NULL))) fail_msg("%s", lt_error_message());
    char pa[600], pb[600];
    snprintf(pa, sizeof pa, "%s/checkpoints/last.safetensors", a.run_dir);
    snprintf(pb, sizeof pb, "%s/checkpoints/last.safetensors", b.run_dir);
    same_checkpoint(pa, pb);
    /* the run's config keeps the override; metrics carry the adversarial scalars */
    snprintf(pa, sizeof pa, "%s/config.json", a.run_dir);
    json_t *cfg = NULL;
    assert_int_equal(lt_run_read_json(pa, &cfg), LT_OK);
    assert_true(json_real_value(json_object_get(json_object_get(json_object_get(cfg, "groups"), "discriminator"), "lr")) == 4e-4);
    json_decref(cfg);
    snprintf(pa, sizeof pa, "%s/metrics.jsonl", a.run_dir);
    FILE *f = fopen(pa, "r");
    char line[8192];
    int n = 0;
    while (fgets(line, sizeof line, f)) n++;
    fclose(f);
    assert_int_equal(n, 3);
    assert_non_null(strstr(line, "\"train_d_loss\": "));
    assert_non_null(strstr(line, "\"train_lambda\": "));
    assert_non_null(strstr(line, "\"valid_perplexity\": "));
    json_decref(mc);
    json_decref(groups);
}

/* A run that must stop at epoch 2 (its discriminator starts at step 2) with `what` in the
 * message and the last good checkpoint (epoch 1) finite and loadable. */
static void expect_stop(const char *run, json_t *groups, int64_t guard_steps, const char *what) {
    json_t *mc = tiny(2, 0.8);
    json_object_set_new(mc, "guard_steps", json_integer(guard_steps));
    lt_train_config c = base(run, mc, groups);
    c.epochs = 4;
    lt_status st = lt_train(&c, NULL);
    printf("%s\n", lt_error_message());
    assert_int_equal(st, LT_ERR_NUMERIC);
    const char *msg = lt_error_message();
    assert_non_null(strstr(msg, what));
    assert_non_null(strstr(msg, "(epoch 2, batch "));
    assert_non_null(strstr(msg, "stopped; the last good checkpoint (epoch 1) is kept"));
    lt_model *m = NULL;
    double *prior = NULL;
    assert_int_equal(lt_checkpoint_open_model(c.run_dir, "last", &m, &prior), LT_OK);
    for (int64_t i = 0; i < m->params.total; i++) assert_true(isfinite(m->params.data[i]));
    lt_model_destroy(m);
    json_decref(mc);
}

static void guard_stops_a_forced_blow_up(void **state) {
    (void)state;
    /* the discriminator (which trains from step 2) at lr 1e30: one update makes its weights
     * ~1e30 and the next generator loss, through it, overflows */
    json_t *groups = json_pack("{s:{s:f}}", "discriminator", "lr", 1e30);
    expect_stop("blowup-nan", groups, 0, "training loss of phase ");
    json_decref(groups);
    /* the guard's hook: a discriminator loss unchanged for 1 step is "pinned" at guard_steps 1 */
    groups = json_pack("{s:{s:f}}", "discriminator", "lr", 1e-3);
    expect_stop("guard", groups, 1, "training diverged (discriminator loss pinned at ");
    json_decref(groups);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generator_update_before_disc_start_is_the_autoencoders),
        cmocka_unit_test(two_optimizers_resume_exactly),
        cmocka_unit_test(guard_stops_a_forced_blow_up),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
