/* The public interface (include/latent/latent.h) on a small synthetic data set, through
 * the installed header only: data sources, lt_run_train's options and their errors, the
 * epoch callback stopping a run and a resume finishing it, opening a run, sampling,
 * log_prob agreeing with lt_run_evaluate, encode/decode of a VAE, argument errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>
#include <cmocka.h>

#include "test_util.h"

#include <latent/latent.h>

#define H 6
#define W 5
#define D (H * W)
static char dir[256], data[300];

/* 60/20/20 binary 6x5 images, label k = 0..2: column pair k mostly on, the rest mostly off. */
static void write_split(const char *stem, int n, unsigned seed) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte.gz", data, stem);
    gzFile fi = test_idx_open(p, n, H, W);
    snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte.gz", data, stem);
    gzFile fl = test_idx_open(p, n, 0, 0);
    srand(seed);
    for (int i = 0; i < n; i++) {
        unsigned char y = (unsigned char)(i % 3), px[D];
        for (int j = 0; j < D; j++) px[j] = (rand() % 10 < ((j % W) / 2 == y ? 8 : 1)) ? 1 : 0;
        gzwrite(fi, px, D);
        gzwrite(fl, &y, 1);
    }
    gzclose(fi);
    gzclose(fl);
}

static int setup(void **state) {
    (void)state;
    if (test_tmpdir(dir, sizeof dir, "api")) return -1;
    snprintf(data, sizeof data, "%s/data", dir);
    mkdir(data, 0755);
    write_split("train", 60, 1);
    write_split("valid", 20, 2);
    write_split("test", 20, 3);
    lt_set_threads(1);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    return test_rmtree(dir);
}

static void test_version_and_sources(void **state) {
    (void)state;
    assert_string_equal(lt_version(), LATENT_VERSION);
    lt_source *s = (lt_source *)1;
    assert_int_equal(lt_source_open(test_path(dir, "nowhere"), NULL, 0, &s), LATENT_ERR_ARG);
    assert_null(s);
    assert_non_null(strstr(lt_last_error(), "nowhere"));

    assert_int_equal(lt_source_open(data, NULL, 0, &s), LATENT_OK);
    lt_source_info in;
    lt_source_describe(s, &in);
    assert_int_equal(in.height, H);
    assert_int_equal(in.width, W);
    assert_int_equal(in.dim, D);
    assert_int_equal(in.n_classes, 3);
    assert_int_equal(in.binary, 1);
    assert_int_equal(in.examples[0], 60);
    assert_int_equal(in.examples[1], 20);
    assert_int_equal(in.examples[2], 20);
    float x[4 * D];
    int64_t y[4];
    assert_int_equal(lt_source_read(s, "test", 16, 4, x, y), LATENT_OK);
    for (int i = 0; i < 4; i++) assert_int_equal(y[i], (16 + i) % 3);
    for (int j = 0; j < 4 * D; j++) assert_true(x[j] == 0.0f || x[j] == 1.0f);
    assert_int_equal(lt_source_read(s, "test", 17, 4, x, y), LATENT_ERR_ARG);
    assert_non_null(strstr(lt_last_error(), "[17, 21)"));
    assert_int_equal(lt_source_read(s, "tests", 0, 1, x, y), LATENT_ERR_ARG);
    assert_int_equal(lt_source_read(s, "valid", -1, 1, x, NULL), LATENT_ERR_ARG);
    lt_source_close(s);
}

/* Options that never reach the trainer: no run directory appears. */
static void test_train_option_errors(void **state) {
    (void)state;
    const char *run = test_path(dir, "never");
    char ok[700];
    snprintf(ok, sizeof ok, "{\"model\": \"fvsbn\", \"data\": \"%s\"", data);
    static const struct { const char *tail, *msg; } bad[] = {
        {", \"epoch\": 2}", "unknown option \"epoch\""},
        {", \"epochs\": \"2\"}", "\"epochs\": expected an integer >= 1"},
        {", \"epochs\": 0}", "\"epochs\": expected an integer >= 1"},
        {", \"lr\": 0}", "\"lr\": expected a number > 0"},
        {", \"binarize\": \"half\"}", "\"binarize\""},
        {", \"conditional\": 1}", "\"conditional\": expected true or false"},
        {", \"model_config\": [1]}", "\"model_config\": expected an object"},
        {", \"keep\": 0}", "\"keep\""},
        {", \"samples\": 5000}", "\"samples\": expected an integer in 0..1024"},
        {", \"resume\": true}", "\"resume\" takes only"},
        {"", "expected a JSON object"}, /* unterminated */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char opts[900];
        snprintf(opts, sizeof opts, "%s%s", ok, bad[i].tail);
        assert_int_equal(lt_run_train(run, opts, NULL, NULL), LATENT_ERR_ARG);
        if (!strstr(lt_last_error(), bad[i].msg)) fail_msg("%s: '%s' lacks '%s'", opts, lt_last_error(), bad[i].msg);
    }
    assert_int_equal(lt_run_train(run, "{\"epochs\": 2}", NULL, NULL), LATENT_ERR_ARG);
    assert_non_null(strstr(lt_last_error(), "\"model\" and \"data\" are required"));
    assert_int_equal(lt_run_train(run, "[]", NULL, NULL), LATENT_ERR_ARG);
    struct stat st;
    assert_int_equal(stat(run, &st), -1);
    /* the trainer's own errors come back the same way */
    snprintf(ok, sizeof ok, "{\"model\": \"nosuch\", \"data\": \"%s\", \"samples\": 0}", data);
    assert_int_equal(lt_run_train(test_path(dir, "nosuch"), ok, NULL, NULL), LATENT_ERR_ARG);
    assert_non_null(strstr(lt_last_error(), "nosuch"));
}

typedef struct epochs_seen {
    int64_t n, last, stop_at;
    double last_valid;
} epochs_seen;

static int on_epoch(void *ud, const lt_epoch_info *e) {
    epochs_seen *s = ud;
    s->n++;
    s->last = e->epoch;
    s->last_valid = e->valid_nll;
    assert_int_equal(e->epochs, 3);
    assert_non_null(strstr(e->json, "\"valid_nll\""));
    assert_true(isfinite(e->train_loss) && e->seconds >= 0);
    return e->epoch == s->stop_at;
}

static void test_train_stop_resume_use(void **state) {
    (void)state;
    const char *run = test_path(dir, "fvsbn");
    char opts[700];
    snprintf(opts, sizeof opts, "{\"model\": \"fvsbn\", \"data\": \"%s\", \"epochs\": 3, \"batch\": 10, \"lr\": 0.01,"
                                " \"seed\": 3, \"samples\": 0}", data);
    epochs_seen seen = {0, 0, 1, 0};
    assert_int_equal(lt_run_train(run, opts, on_epoch, &seen), LATENT_ERR_INTERRUPTED);
    assert_int_equal(seen.n, 1);
    seen.stop_at = 0;
    assert_int_equal(lt_run_train(run, "{\"resume\": true}", on_epoch, &seen), LATENT_OK);
    assert_int_equal(seen.n, 3);
    assert_int_equal(seen.last, 3);

    lt_run *r = (lt_run *)1;
    assert_int_equal(lt_run_open(run, "../../etc", &r), LATENT_ERR_ARG);
    assert_null(r);
    assert_int_equal(lt_run_open(run, "epoch-7", &r), LATENT_ERR_ARG); /* no such checkpoint */
    assert_int_equal(lt_run_open(run, "last", &r), LATENT_OK);
    lt_run_info in;
    lt_run_describe(r, &in);
    assert_string_equal(in.model, "fvsbn");
    assert_int_equal(in.dim, D);
    assert_int_equal(in.height, H);
    assert_int_equal(in.width, W);
    assert_int_equal(in.channels, 1);
    assert_int_equal(in.n_classes, 0);
    assert_int_equal(in.code_size, 0);
    assert_int_equal(in.n_params, D * D + D); /* W (D, D), stored whole though masked, and b (D) */
    assert_non_null(strstr(in.data, "/data"));
    assert_null(in.features);

    /* samples: binary, reproducible from the seed */
    float a[5 * D], b[5 * D];
    assert_int_equal(lt_run_sample(r, 5, 42, NULL, a), LATENT_OK);
    assert_int_equal(lt_run_sample(r, 5, 42, NULL, b), LATENT_OK);
    assert_memory_equal(a, b, sizeof a);
    for (int j = 0; j < 5 * D; j++) assert_true(a[j] == 0.0f || a[j] == 1.0f);
    int64_t y[5] = {0};
    assert_int_equal(lt_run_sample(r, 5, 42, y, a), LATENT_ERR_ARG); /* not class-conditional */
    assert_int_equal(lt_run_sample(r, 0, 42, NULL, a), LATENT_ERR_ARG);
    assert_int_equal(lt_run_encode(r, a, 5, b), LATENT_ERR_ARG);
    assert_non_null(strstr(lt_last_error(), "no encoder"));

    /* lt_run_evaluate is the mean of -log_prob over the split (binary data: no binarization) */
    lt_source *s;
    assert_int_equal(lt_source_open(in.data, in.features, in.limit, &s), LATENT_OK);
    float x[20 * D];
    double lp[20], sum = 0;
    assert_int_equal(lt_source_read(s, "test", 0, 20, x, NULL), LATENT_OK);
    assert_int_equal(lt_run_log_prob(r, x, NULL, 20, lp), LATENT_OK);
    for (int i = 0; i < 20; i++) sum -= lp[i];
    lt_eval_summary ev;
    assert_int_equal(lt_run_evaluate(r, s, "test", &ev), LATENT_OK);
    assert_int_equal(ev.examples, 20);
    assert_true(fabs(ev.nll_nats - sum / 20) < 1e-6 * (1 + fabs(ev.nll_nats)));
    assert_true(ev.nll_nats < D * log(2.0)); /* better than a coin per pixel */
    assert_true(fabs(ev.bits_per_dim - ev.nll_nats / (D * log(2.0))) < 1e-9);
    assert_int_equal(lt_run_evaluate(r, s, "dev", &ev), LATENT_ERR_ARG);
    lt_source_close(s);

    const char *png = test_path(dir, "grid.png");
    assert_int_equal(lt_png_grid_save(png, a, 5, 2, H, W, 0), LATENT_ERR_ARG);
    assert_int_equal(lt_png_grid_save(png, a, 5, 1, H, W, 0), LATENT_OK);
    struct stat st;
    assert_int_equal(stat(png, &st), 0);
    lt_run_close(r);
}

static void test_vae_encode_decode(void **state) {
    (void)state;
    const char *run = test_path(dir, "vae");
    char opts[700];
    snprintf(opts, sizeof opts, "{\"model\": \"vae\", \"model_config\": {\"hidden\": [16], \"latent\": 2}, \"data\": "
                                "\"%s\", \"epochs\": 1, \"batch\": 20, \"samples\": 4}", data);
    assert_int_equal(lt_run_train(run, opts, NULL, NULL), LATENT_OK);
    lt_run *r;
    assert_int_equal(lt_run_open(run, NULL, &r), LATENT_OK);
    lt_run_info in;
    lt_run_describe(r, &in);
    assert_string_equal(in.model, "vae");
    assert_int_equal(in.code_size, 2);
    lt_source *s;
    assert_int_equal(lt_source_open(in.data, NULL, 0, &s), LATENT_OK);
    float x[3 * D], z[3 * 2], p[3 * D];
    assert_int_equal(lt_source_read(s, "valid", 0, 3, x, NULL), LATENT_OK);
    assert_int_equal(lt_run_encode(r, x, 3, z), LATENT_OK);
    for (int i = 0; i < 6; i++) assert_true(isfinite(z[i]));
    assert_int_equal(lt_run_decode(r, z, 3, p), LATENT_OK);
    for (int j = 0; j < 3 * D; j++) assert_true(p[j] >= 0 && p[j] <= 1);
    assert_int_equal(lt_run_decode(r, z, 0, p), LATENT_ERR_ARG);
    lt_source_close(s);
    lt_run_close(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_and_sources),
        cmocka_unit_test(test_train_option_errors),
        cmocka_unit_test(test_train_stop_resume_use),
        cmocka_unit_test(test_vae_encode_decode),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
