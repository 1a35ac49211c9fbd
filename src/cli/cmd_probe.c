/* latent probe RUN: linear and k-NN probes of a run's frozen features (train/features.h,
 * docs/metrics.md), always beside the same two probes on raw pixels and on the same model
 * at random initialization (the run's config, seed included, without its checkpoint: the
 * weights the run started from). `--only LIST` (comma-separated of encoder, random_init,
 * raw_pixels) computes a subset, for a repeat probe whose controls are already measured: on
 * 3,072-pixel CIFAR-10 the raw-pixel fits take most of an hour.
 *
 * --json prints one object:
 *   run, model, checkpoint, checkpoint_sha256, data, split (where accuracies are measured),
 *   n_train, n_valid, n_eval, n_classes, knn_k, knn_temperature, and per feature space
 *   "encoder" (the checkpoint), "random_init", "raw_pixels" an object:
 *     feature_size, linear_acc (on split), linear_valid_acc, linear_train_acc, l2 (chosen on
 *     validation), lbfgs_iterations, lbfgs_evaluations, grad_norm, converged (every fit of the
 *     penalty grid), knn_acc (bank: the whole training split), seconds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/run_data.h"
#include "core/threads.h"
#include "io/digest.h"
#include "train/features.h"
#include "train/rundir.h"

static void lti_usage(FILE *f) {
    fprintf(f, "usage: latent probe RUN [--data SRC] [--split test|valid] [--json] [--checkpoint best|last|epoch-NNN]\n"
               "                 [--limit N] [--max-iter I (1000)] [--knn-k K (200)] [--batch B] [--threads T]\n"
               "                 [--only encoder,random_init,raw_pixels (all three)]\n");
}

static json_t *lti_result_json(const lt_probe_result *r, double secs) {
    const lt_linear_probe_result *l = &r->linear;
    return json_pack("{s:I, s:f, s:f, s:f, s:f, s:I, s:I, s:f, s:b, s:f, s:f}", "feature_size",
                     (json_int_t)r->feature_size, "linear_acc", l->test_acc, "linear_valid_acc", l->valid_acc,
                     "linear_train_acc", l->train_acc, "l2", l->l2, "lbfgs_iterations", (json_int_t)l->info.iterations,
                     "lbfgs_evaluations", (json_int_t)l->info.evaluations, "grad_norm", l->info.grad_norm, "converged",
                     l->all_converged, "knn_acc", r->knn_acc, "seconds", secs);
}

static const char *const lti_keys[3] = {"encoder", "random_init", "raw_pixels"};

/* --only's list into want[3]; 0, or -1 after printing the usage error */
static int lti_parse_only(const char *cmd, const char *list, int want[3]) {
    want[0] = want[1] = want[2] = 0;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        int k = 0;
        while (k < 3 && !(strlen(lti_keys[k]) == n && !strncmp(p, lti_keys[k], n))) k++;
        if (k == 3) {
            lt_cli_usage(cmd, "--only %s: expected a comma-separated list of encoder, random_init, raw_pixels", list);
            return -1;
        }
        want[k] = 1;
        p += n + (p[n] == ',');
    }
    if (!want[0] && !want[1] && !want[2]) {
        lt_cli_usage(cmd, "--only '%s': expected at least one of encoder, random_init, raw_pixels", list);
        return -1;
    }
    return 0;
}

int lt_cmd_probe(int argc, char **argv) {
    static const char *cmd = "probe";
    const char *run = NULL, *src = NULL, *split_s = "test", *which = "best", *only = NULL;
    int64_t limit = 0, max_iter = 1000, knn_k = 200, batch = 256, threads = 0;
    int json = 0, r;
    for (int i = 1; i < argc; i++) {
        if (lt_arg_flag(argv, i, "--help") || lt_arg_flag(argv, i, "-h")) { lti_usage(stdout); return 0; }
        if (lt_arg_flag(argv, i, "--json")) { json = 1; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--data", &src))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--split", &split_s))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--checkpoint", &which))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--only", &only))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--limit", 1, INT64_MAX, &limit))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--max-iter", 1, 1000000, &max_iter))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--knn-k", 1, 1000000, &knn_k))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--batch", 1, 100000, &batch))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--threads", 1, 1024, &threads))) { if (r < 0) return 2; continue; }
        if (argv[i][0] == '-' || run) return lt_cli_usage(cmd, "unexpected argument '%s' (see latent probe --help)", argv[i]);
        run = argv[i];
    }
    if (!run) return lt_cli_usage(cmd, "which run? latent probe RUN");
    const int split = lt_split_parse(split_s);
    if (split != LT_SPLIT_TEST && split != LT_SPLIT_VALID)
        return lt_cli_usage(cmd, "--split %s: expected test or valid (the penalty is chosen on valid)", split_s);
    if (lt_cli_checkpoint_name(cmd, which)) return 2;
    int want[3] = {1, 1, 1};
    if (only && lti_parse_only(cmd, only, want)) return 2;
    if (threads > 0) lt_threads_set((int)threads);

    lt_model *m = NULL, *m0 = NULL;
    lt_dataset data;
    memset(&data, 0, sizeof data);
    int have_data = 0;
    lt_batch_opts bo;
    char path[4200], name[64], sha[65] = "";
    json_t *cfg = NULL;
    snprintf(path, sizeof path, "%s/checkpoints/%s.safetensors", run, which);
    lt_status st = lt_checkpoint_open_model(run, which, &m, NULL);
    if (!st && !lt_features_size(m, 0))
        st = lt_fail(LT_ERR_ARG, "%s: model '%s' has no features capability (nothing to probe)", run, m->vt->name);
    if (!st) st = lt_sha256_file(path, sha);
    if (!st && !(st = lt_checkpoint_peek(path, name, sizeof name, &cfg))) st = lt_model_create(name, cfg, &m0);
    if (!st && !(st = lt_cli_run_data(run, m, &data, &bo))) have_data = 1;
    if (!st && (src || limit)) { /* other data, or fewer examples: the run's conversion (binarization, range) */
        char cpath[4200];
        snprintf(cpath, sizeof cpath, "%s/config.json", run);
        json_t *rc = NULL;
        if (!(st = lt_run_read_json(cpath, &rc))) {
            const char *s = src ? src : json_string_value(json_object_get(rc, "data"));
            const char *feat = src ? NULL : json_string_value(json_object_get(rc, "features"));
            lt_dataset_free(&data);
            have_data = 0;
            if (!(st = lt_dataset_open_source(s, feat, limit, &data))) have_data = 1;
            if (!st && data.dim != m->dim)
                st = lt_fail(LT_ERR_ARG, "%s: %lld values per example, the model reads %lld", s, (long long)data.dim,
                             (long long)m->dim);
        }
        json_decref(rc);
    }
    lt_probe_opts po = {knn_k, 0.1, {0, max_iter, 0}, batch, (lt_split_id)split};
    lt_probe_result res[3];
    double secs[3];
    lt_model *which_m[3] = {m, m0, NULL};
    int first = want[0] ? 0 : want[1] ? 1 : 2; /* whose sizes the header reports */
    for (int k = 0; k < 3 && !st; k++) {
        if (!want[k]) continue;
        st = lt_probe(which_m[k], &data, &bo, &po, &res[k]);
        secs[k] = res[k].seconds_features + res[k].seconds_linear + res[k].seconds_knn;
    }
    int code = 0;
    if (st) {
        code = lt_cli_error(st);
    } else if (json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:f}", "run", run, "model",
                              m->vt->name, "checkpoint", which, "checkpoint_sha256", sha, "data",
                              src ? src : "(the run's)", "split", split_s, "n_train", (json_int_t)res[first].n_train,
                              "n_valid", (json_int_t)res[first].n_valid, "n_eval", (json_int_t)res[first].n_eval, "n_classes",
                              (json_int_t)res[first].n_classes, "knn_k", (json_int_t)knn_k, "knn_temperature", 0.1);
        for (int k = 0; k < 3; k++)
            if (want[k]) json_object_set_new(o, lti_keys[k], lti_result_json(&res[k], secs[k]));
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(8));
        printf("%s\n", s);
        free(s);
        json_decref(o);
    } else {
        printf("probes of %s (%s, %s checkpoint, sha256 %s) on %s: %lld train, %lld valid, %lld %s, %lld classes\n",
               run, m->vt->name, which, sha, src ? src : "its data", (long long)res[first].n_train,
               (long long)res[first].n_valid, (long long)res[first].n_eval, split_s, (long long)res[first].n_classes);
        printf("%-12s %8s %10s %10s %8s %10s %9s\n", "features", "dim", "linear", "k-NN", "l2", "L-BFGS it", "seconds");
        for (int k = 0; k < 3; k++)
            if (want[k])
                printf("%-12s %8lld %9.2f%% %9.2f%% %8.0e %10lld %9.1f%s\n", lti_keys[k], (long long)res[k].feature_size,
                   100 * res[k].linear.test_acc, 100 * res[k].knn_acc, res[k].linear.l2,
                   (long long)res[k].linear.info.iterations, secs[k],
                   res[k].linear.all_converged ? "" : "  (a fit stopped at --max-iter)");
        printf("linear: multinomial logistic regression on standardized features, L2 chosen on valid; "
               "k-NN: k %lld, cosine, weights exp(sim/0.1)\n", (long long)knn_k);
    }
    if (have_data) lt_dataset_free(&data);
    json_decref(cfg);
    lt_model_destroy(m);
    lt_model_destroy(m0);
    return code;
}
