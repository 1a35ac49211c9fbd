/* The trainer end to end on a small synthetic labeled data set (6x6 images of
 * three noisy shapes): run files, learning, exact resume (after a finished
 * epoch and after an interrupt mid-epoch), no heap use per step, NaN handling,
 * bad settings, a replaced run directory, Bayes classification. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "lib/train_config.h"
#include "test_util.h"

#include "core/alloc.h"
#include "core/graph.h"
#include "train/evaluate.h"
#include "train/rundir.h"
#include "train/trainer.h"

#define H 6
#define W 6
static char dir[256], data[300];

static uint64_t lcg = 12345;
static double urand(void) {
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(lcg >> 11) / 9007199254740992.0;
}

/* Class 0: top half on, 1: left half on, 2: the main diagonal band on; 10% flips. */
static void write_split(const char *stem, int n) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s-images-idx3-ubyte.gz", data, stem);
    gzFile fi = test_idx_open(p, n, H, W);
    snprintf(p, sizeof p, "%s/%s-labels-idx1-ubyte.gz", data, stem);
    gzFile fl = test_idx_open(p, n, 0, 0);
    for (int i = 0; i < n; i++) {
        unsigned char y = (unsigned char)(i % 3), img[H * W];
        for (int r = 0; r < H; r++)
            for (int c = 0; c < W; c++) {
                int on = y == 0 ? r < H / 2 : y == 1 ? c < W / 2 : abs(r - c) <= 1;
                img[r * W + c] = (unsigned char)(urand() < 0.1 ? !on : on);
            }
        gzwrite(fi, img, H * W);
        gzwrite(fl, &y, 1);
    }
    gzclose(fi);
    gzclose(fl);
}

static int setup(void **state) {
    (void)state;
    assert_int_equal(test_tmpdir(dir, sizeof dir, "test_trainer"), 0);
    snprintf(data, sizeof data, "%s/data", dir);
    mkdir(data, 0755);
    write_split("train", 600);
    write_split("valid", 150);
    write_split("test", 150);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    return test_rmtree(dir);
}

static lt_train_config base_config(const char *run, json_t *mc) {
    lt_train_config c = test_train_config(dir, run, "made", mc, data, 50, 1e-2, 3);
    c.binarize = -1;
    c.sample_n = 9;
    return c;
}

static json_t *made_config(void) { return json_pack("{s:[i]}", "hidden", 32); }

/* The metrics.jsonl lines of a run, as one string. */
static char *read_file(const char *run_dir, const char *name) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", run_dir, name);
    FILE *f = fopen(p, "rb");
    if (!f) return NULL;
    static char buf[3][16384];
    static int k;
    char *b = buf[k++ % 3];
    size_t n = fread(b, 1, sizeof buf[0] - 1, f);
    b[n] = 0;
    fclose(f);
    return b;
}

static int count_lines(const char *s) {
    int n = 0;
    for (; s && *s; s++) n += *s == '\n';
    return n;
}

static double metric(const char *lines, int epoch, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "{\"epoch\": %d,", epoch);
    const char *l = strstr(lines, pat);
    if (!l) return NAN;
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *v = strstr(l, pat);
    return v ? atof(v + strlen(pat)) : NAN;
}

static int exists(const char *run_dir, const char *name) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", run_dir, name);
    return access(p, F_OK) == 0;
}

static void trains_and_writes_run_files(void **state) {
    (void)state;
    json_t *mc = made_config();
    lt_train_config c = base_config("run1", mc);
    lt_status st = lt_train(&c, NULL);
    if (st) fail_msg("%s", lt_error_message());
    assert_true(exists(c.run_dir, "config.json"));
    assert_true(exists(c.run_dir, "checkpoints/best.safetensors"));
    assert_true(exists(c.run_dir, "checkpoints/last.safetensors"));
    assert_true(exists(c.run_dir, "samples/epoch-001.png"));
    assert_true(exists(c.run_dir, "samples/epoch-003.png"));
    assert_false(exists(c.run_dir, "checkpoints/last.safetensors.tmp"));
    char *m = read_file(c.run_dir, "metrics.jsonl");
    assert_int_equal(count_lines(m), 3);
    /* Uniform over 36 bits is 36 ln 2 = 24.95 nats; the shapes with 10% noise
     * have entropy ~ ln 3 + 36·H(0.1) = 1.1 + 11.7 = 12.8 nats. */
    double v1 = metric(m, 1, "valid_nll"), v3 = metric(m, 3, "valid_nll");
    printf("valid NLL epoch 1 %.3f, epoch 3 %.3f nats\n", v1, v3);
    assert_true(v3 < v1);
    assert_true(v3 < 17.0);
    assert_true(metric(m, 3, "valid_bits_per_dim") > 0);
    /* a fresh run over an existing one is refused */
    st = lt_train(&c, NULL);
    assert_int_equal(st, LT_ERR_ARG);
    assert_non_null(strstr(lt_error_message(), "--resume"));
    json_decref(mc);
}

static void resume_continues_exactly(void **state) {
    (void)state;
    json_t *mc = made_config();
    lt_train_config a = base_config("straight", mc);
    a.epochs = 4;
    assert_int_equal(lt_train(&a, NULL), LT_OK);
    lt_train_config b = base_config("resumed", mc);
    b.epochs = 2;
    assert_int_equal(lt_train(&b, NULL), LT_OK);
    lt_train_config r = {0};
    r.run_dir = b.run_dir;
    r.resume = 1;
    r.epochs = 4;
    lt_status st = lt_train(&r, NULL);
    if (st) fail_msg("%s", lt_error_message());
    char *ma = read_file(a.run_dir, "metrics.jsonl"), *mb = read_file(b.run_dir, "metrics.jsonl");
    assert_int_equal(count_lines(mb), 4);
    for (int e = 1; e <= 4; e++) {
        assert_true(metric(ma, e, "valid_nll") == metric(mb, e, "valid_nll"));
        assert_true(metric(ma, e, "train_loss") == metric(mb, e, "train_loss"));
        assert_true(metric(mb, e, "global_step") == 12.0 * e);
    }
    /* resuming a finished run does nothing more */
    assert_int_equal(lt_train(&r, NULL), LT_OK);
    assert_int_equal(count_lines(read_file(b.run_dir, "metrics.jsonl")), 4);
    json_decref(mc);
}

static volatile sig_atomic_t stop_flag;
static int64_t stop_at;
static void stop_on_step(void *ud, const lt_train_progress *p) {
    (void)ud;
    if (p->global_step == stop_at) stop_flag = 1;
}

static void interrupt_mid_epoch_then_resume(void **state) {
    (void)state;
    json_t *mc = made_config();
    lt_train_config a = base_config("straight3", mc);
    assert_int_equal(lt_train(&a, NULL), LT_OK);
    lt_train_config b = base_config("interrupted", mc);
    stop_flag = 0;
    stop_at = 17; /* epoch 2, batch 5 of 12 */
    b.stop = &stop_flag;
    lt_train_callbacks cb = {NULL, NULL, stop_on_step, NULL};
    lt_status st = lt_train(&b, &cb);
    assert_int_equal(st, LT_ERR_INTERRUPTED);
    assert_non_null(strstr(lt_error_message(), "epoch 2 step 5/12"));
    assert_int_equal(count_lines(read_file(b.run_dir, "metrics.jsonl")), 1);
    stop_flag = 0;
    lt_train_config r = {0};
    r.run_dir = b.run_dir;
    r.resume = 1;
    st = lt_train(&r, NULL);
    if (st) fail_msg("%s", lt_error_message());
    char *ma = read_file(a.run_dir, "metrics.jsonl"), *mb = read_file(b.run_dir, "metrics.jsonl");
    assert_int_equal(count_lines(mb), 3);
    for (int e = 1; e <= 3; e++) {
        assert_true(metric(ma, e, "valid_nll") == metric(mb, e, "valid_nll"));
        assert_true(metric(ma, e, "train_loss") == metric(mb, e, "train_loss"));
    }
    json_decref(mc);
}

static uint64_t allocs[64];
static int64_t n_allocs;
static void count_allocs(void *ud, const lt_train_progress *p) {
    (void)ud;
    if (p->epoch == 2 && n_allocs < 64) allocs[n_allocs++] = lt_alloc_count();
}

static void steps_do_not_allocate(void **state) {
    (void)state;
    const char *models[] = {"made", "fvsbn", "nade"};
    for (int k = 0; k < 3; k++) {
        json_t *mc = k == 0 ? made_config() : k == 2 ? json_pack("{s:i}", "hidden", 16) : json_object();
        char run[32];
        snprintf(run, sizeof run, "alloc-%s", models[k]);
        lt_train_config c = base_config(run, mc);
        c.model = models[k];
        c.epochs = 2;
        n_allocs = 0;
        lt_train_callbacks cb = {NULL, NULL, count_allocs, NULL};
        lt_status st = lt_train(&c, &cb);
        if (st) fail_msg("%s: %s", models[k], lt_error_message());
        assert_int_equal(n_allocs, 12);
        /* the first step of an epoch may grow the arena after validation/sampling; then nothing */
        for (int i = 2; i < n_allocs; i++)
            if (allocs[i] != allocs[1])
                fail_msg("%s: %llu heap allocations in epoch 2 step %d", models[k],
                         (unsigned long long)(allocs[i] - allocs[i - 1]), i + 1);
        json_decref(mc);
    }
}

static void nan_loss_stops_and_keeps_checkpoint(void **state) {
    (void)state;
    json_t *mc = made_config();
    lt_train_config c = base_config("nan", mc);
    c.optimizer = "sgd";
    c.lr = 1e38;
    lt_status st = lt_train(&c, NULL);
    assert_int_equal(st, LT_ERR_NUMERIC);
    const char *msg = lt_error_message();
    printf("%s\n", msg);
    assert_non_null(strstr(msg, "at step"));
    json_decref(mc);
}

/* A dying run must not write into a new directory that took its name: at step 17
 * (epoch 2) the callback moves RUN away and creates an empty RUN, as `rm -rf RUN &&
 * latent train --out RUN` would while the old process is still saving. Both the
 * epoch-end writes and an interrupt's checkpoint must refuse, leaving the new RUN empty. */
static const char *swap_run;
static void swap_on_step(void *ud, const lt_train_progress *p) {
    (void)ud;
    if (p->global_step != 17) return;
    char moved[600];
    snprintf(moved, sizeof moved, "%s.moved", swap_run);
    assert_int_equal(rename(swap_run, moved), 0);
    assert_int_equal(mkdir(swap_run, 0755), 0);
    if (stop_at == 17) stop_flag = 1;
}

static void replaced_run_dir_is_not_written(void **state) {
    (void)state;
    json_t *mc = made_config();
    for (int interrupt = 0; interrupt < 2; interrupt++) {
        lt_train_config c = base_config(interrupt ? "swapped-int" : "swapped", mc);
        swap_run = c.run_dir;
        stop_flag = 0;
        stop_at = interrupt ? 17 : -1;
        c.stop = &stop_flag;
        lt_train_callbacks cb = {NULL, NULL, swap_on_step, NULL};
        lt_status st = lt_train(&c, &cb);
        assert_int_equal(st, LT_ERR_IO);
        printf("%s\n", lt_error_message());
        assert_non_null(strstr(lt_error_message(), "was replaced"));
        DIR *d = opendir(c.run_dir);
        assert_non_null(d);
        int n = 0;
        for (struct dirent *e; (e = readdir(d));) n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
        closedir(d);
        assert_int_equal(n, 0); /* the new RUN got nothing */
        char moved[600];
        snprintf(moved, sizeof moved, "%s.moved", c.run_dir);
        assert_int_equal(count_lines(read_file(moved, "metrics.jsonl")), 1); /* the old one keeps epoch 1 */
    }
    stop_flag = 0;
    json_decref(mc);
}

static void bad_settings_leave_nothing(void **state) {
    (void)state;
    json_t *mc = json_pack("{s:i}", "masks", 4);
    lt_train_config c = base_config("bad", mc);
    c.model = "fvsbn";
    assert_int_equal(lt_train(&c, NULL), LT_ERR_ARG);
    assert_non_null(strstr(lt_error_message(), "masks"));
    assert_int_not_equal(access(c.run_dir, F_OK), 0);
    json_decref(mc);
    mc = made_config();
    c = base_config("bad", mc);
    c.optimizer = "rmsprop";
    assert_int_equal(lt_train(&c, NULL), LT_ERR_ARG);
    c = base_config("bad", mc);
    c.data = "/nonexistent/data";
    assert_int_equal(lt_train(&c, NULL), LT_ERR_ARG);
    assert_int_not_equal(access(c.run_dir, F_OK), 0);
    lt_train_config r = {0};
    r.run_dir = c.run_dir;
    r.resume = 1;
    assert_int_equal(lt_train(&r, NULL), LT_ERR_ARG);
    json_decref(mc);
}

static void early_stopping_with_patience(void **state) {
    (void)state;
    json_t *mc = made_config();
    lt_train_config c = base_config("patience", mc);
    c.lr = 0.3; /* far too large: validation NLL jumps around, so it stops improving early */
    c.epochs = 40;
    c.patience = 2;
    c.sample_n = -1;
    lt_status st = lt_train(&c, NULL);
    if (st) fail_msg("%s", lt_error_message());
    char *m = read_file(c.run_dir, "metrics.jsonl");
    int n = count_lines(m);
    printf("stopped after %d epochs\n", n);
    assert_true(n >= 3 && n < 40);
    assert_non_null(strstr(strrchr(m, '{'), "\"stop_early\": true"));
    /* the best epoch is exactly `patience` epochs before the end, with the lowest NLL */
    double best = metric(m, n - 2, "valid_nll");
    for (int e = 1; e <= n; e++) assert_true(metric(m, e, "valid_nll") >= best);
    assert_false(exists(c.run_dir, "samples/epoch-001.png"));
    /* resuming a run that stopped early trains no further */
    lt_train_config r = {0};
    r.run_dir = c.run_dir;
    r.resume = 1;
    assert_int_equal(lt_train(&r, NULL), LT_OK);
    assert_int_equal(count_lines(read_file(c.run_dir, "metrics.jsonl")), n);
    json_decref(mc);
}

/* --valid-every 3: epochs 1, 2, 4, 5 are not validated (null, no best, no samples) and train
 * exactly as with validation every epoch; patience stays counted in epochs; a resume may
 * change the interval (recorded in config.json). */
static void valid_every_skips_validation_only(void **state) {
    (void)state;
    json_t *mc = made_config();
    lt_train_config a = base_config("every1", mc), b = base_config("every3", mc);
    a.epochs = b.epochs = 5;
    a.sample_n = b.sample_n = 4;
    b.valid_every = 3;
    lt_status st = lt_train(&a, NULL);
    if (!st) st = lt_train(&b, NULL);
    if (st) fail_msg("%s", lt_error_message());
    char *ma = read_file(a.run_dir, "metrics.jsonl"), *mb = read_file(b.run_dir, "metrics.jsonl");
    assert_int_equal(count_lines(mb), 5);
    for (int e = 1; e <= 5; e++) {
        char pat[64];
        snprintf(pat, sizeof pat, "{\"epoch\": %d,", e);
        const char *l = strstr(mb, pat);
        assert_non_null(l);
        const int validated = e == 3 || e == 5; /* every 3rd and the last */
        assert_int_equal(strncmp(strstr(l, "\"valid_nll\": "), "\"valid_nll\": null", 17) != 0, validated);
        assert_true(metric(mb, e, "train_loss") == metric(ma, e, "train_loss")); /* same training */
        if (validated) assert_true(metric(mb, e, "valid_nll") == metric(ma, e, "valid_nll"));
        char png[64];
        snprintf(png, sizeof png, "samples/epoch-%03d.png", e);
        assert_int_equal(exists(b.run_dir, png), validated);
    }
    assert_non_null(strstr(read_file(b.run_dir, "config.json"), "\"valid_every\": 3"));
    /* resume with another interval: recorded, and epoch 6 is validated under it */
    lt_train_config r = {0};
    r.run_dir = b.run_dir;
    r.resume = 1;
    r.epochs = 7;
    r.valid_every = 2;
    assert_int_equal(lt_train(&r, NULL), LT_OK);
    mb = read_file(b.run_dir, "metrics.jsonl");
    assert_true(isfinite(metric(mb, 6, "valid_nll")) && metric(mb, 6, "valid_nll") > 0);
    assert_non_null(strstr(read_file(b.run_dir, "config.json"), "\"valid_every\": 2"));
    /* patience in epochs: with the rate far too large, a run validated every 2 epochs stops
     * only on a validated epoch, at least `patience` epochs after its best */
    lt_train_config p = base_config("every-patience", mc);
    p.lr = 0.3;
    p.epochs = 60;
    p.patience = 3;
    p.valid_every = 2;
    p.sample_n = -1;
    if ((st = lt_train(&p, NULL))) fail_msg("%s", lt_error_message());
    char *mp = read_file(p.run_dir, "metrics.jsonl");
    const int n = count_lines(mp);
    assert_true(n < 60 && n % 2 == 0);
    assert_non_null(strstr(strrchr(mp, '{'), "\"stop_early\": true"));
    int best_e = 0;
    for (int e = 2; e <= n; e += 2) {
        char pat[64], line[1024];
        snprintf(pat, sizeof pat, "{\"epoch\": %d,", e);
        const char *l = strstr(mp, pat);
        assert_non_null(l);
        snprintf(line, sizeof line, "%.*s", (int)strcspn(l, "\n"), l);
        if (strstr(line, "\"best\": true")) best_e = e;
    }
    assert_true(best_e > 0 && n - best_e >= 3 && n - best_e < 3 + 2);
    json_decref(mc);
}

static void bayes_classification(void **state) {
    (void)state;
    json_t *mc = made_config();
    lt_train_config c = base_config("cond", mc);
    c.conditional = 1;
    c.epochs = 4;
    lt_status st = lt_train(&c, NULL);
    if (st) fail_msg("%s", lt_error_message());
    lt_model *m;
    double *prior;
    st = lt_checkpoint_open_model(c.run_dir, "best", &m, &prior);
    if (st) fail_msg("%s", lt_error_message());
    assert_int_equal(m->n_classes, 3);
    assert_non_null(prior);
    assert_float_equal(prior[0] + prior[1] + prior[2], 1.0, 1e-12);
    assert_float_equal(prior[0], 1.0 / 3, 1e-12);
    lt_dataset d;
    assert_int_equal(lt_dataset_open(data, 0, &d), LT_OK);
    lt_graph g;
    assert_int_equal(lt_graph_init(&g, 1 << 16), LT_OK);
    lt_eval_data ed = {&d, LT_SPLIT_TEST, LT_BINARIZE_NONE, 3, 64};
    lt_eval_opts eo = {0, 0};
    lt_eval_result r, rn;
    st = lt_evaluate_classify(m, &g, &ed, &eo, prior, &r);
    if (st) fail_msg("%s", lt_error_message());
    assert_int_equal(lt_evaluate_nll(m, &g, &ed, &eo, &rn), LT_OK);
    printf("accuracy %.3f, conditional NLL %.3f, marginal NLL %.3f\n", r.accuracy, r.nll_nats, r.marginal_nll_nats);
    assert_true(r.accuracy > 0.95);
    assert_true(r.nll_nats == rn.nll_nats);
    /* -log p(x) = -log Σ p(x|y)p(y) ≤ -log p(x|y*) - log p(y*) */
    assert_true(r.marginal_nll_nats <= r.nll_nats + log(3.0) + 1e-9);
    lt_graph_free(&g);
    lt_dataset_free(&d);
    lt_free(prior);
    lt_model_destroy(m);
    json_decref(mc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trains_and_writes_run_files),
        cmocka_unit_test(resume_continues_exactly),
        cmocka_unit_test(interrupt_mid_epoch_then_resume),
        cmocka_unit_test(steps_do_not_allocate),
        cmocka_unit_test(nan_loss_stops_and_keeps_checkpoint),
        cmocka_unit_test(replaced_run_dir_is_not_written),
        cmocka_unit_test(bad_settings_leave_nothing),
        cmocka_unit_test(early_stopping_with_patience),
        cmocka_unit_test(valid_every_skips_validation_only),
        cmocka_unit_test(bayes_classification),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
