/* latent compare RUN... --encoder ENC: one table across model families (docs/metrics.md): per
 * run its test NLL (or bound) where it has one, and FD_self / KID_self of N of its samples
 * against the first N test images of the encoder run's data, all in ENC's feature space, whose
 * checkpoint SHA-256 heads the table. The NLL is RUN/eval.json's "test" record when `latent
 * eval` wrote one, else it is computed here (the model's default estimator; `latent eval --iw
 * K` first for a tighter one).
 *
 * --json prints {"encoder", "encoder_sha256", "feature_size", "real", "n_real", "n", "seed",
 * "kid_subsets", "runs": [{"run", "model", "binarize", "nll_nats" (null: none),
 * "neg_elbo_nats" (models with a bound), "nll_source" ("eval.json"|"computed"), "fd_self",
 * "kid_self", "kid_self_se" (its standard error; null: too few rows), "kid_self_sd", "n_samples",
 * "sampling" ({temperature, top_k (0 = all), top_p}: how a
 * prior over codes (gpt) drew its codes, --temperature/--top-k/--top-p as `latent sample`;
 * null for other models)}]}. With those flags every RUN must be a prior over codes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/fd_sets.h"
#include "cli/run_data.h"
#include "cli/sample_flags.h"
#include "core/alloc.h"
#include "core/threads.h"
#include "metrics/metrics.h"
#include "train/evaluate.h"
#include "train/features.h"
#include "train/rundir.h"

static void lti_usage(FILE *f) {
    fprintf(f, "usage: latent compare RUN... --encoder ENC [-n 10000] [--data SRC (real images; default ENC's)]\n"
               "                  [--seed S] [--kid-subsets 100] [--kid-size 1000] [--json] [--threads T]\n"
               "       every RUN a prior over codes (gpt): [--temperature T (1)] [--top-k K (0 = all)]\n"
               "                  [--top-p P (1 = all)], drawn as latent sample draws them\n");
}

/* RUN's test NLL (and negative ELBO, NAN when none) from eval.json or computed; *src says which. */
static lt_status lti_run_nll(const char *run, double *nll, double *nelbo, const char **src) {
    char path[4200];
    snprintf(path, sizeof path, "%s/eval.json", run);
    json_t *all = NULL;
    *nll = *nelbo = NAN;
    if (!lt_run_read_json(path, &all)) {
        json_t *t = json_object_get(all, "test");
        if (json_is_number(json_object_get(t, "nll_nats"))) {
            *nll = json_number_value(json_object_get(t, "nll_nats"));
            if (json_is_number(json_object_get(t, "neg_elbo_nats")))
                *nelbo = json_number_value(json_object_get(t, "neg_elbo_nats"));
            *src = "eval.json";
            json_decref(all);
            return LT_OK;
        }
        json_decref(all);
    }
    lt_error_clear();
    lt_model *m = NULL;
    lt_dataset d;
    lt_batch_opts bo;
    lt_graph g;
    lt_status st = lt_checkpoint_open_model(run, "best", &m, NULL);
    if (!st && !(st = lt_cli_run_data(run, m, &d, &bo))) {
        if (!(st = lt_graph_init(&g, (size_t)1 << 20))) {
            lt_eval_data ed = {&d, LT_SPLIT_TEST, bo.binarize, bo.seed, 100};
            lt_eval_opts eo = {0, 0};
            lt_eval_result r;
            double se;
            if (!(st = lt_evaluate_nll(m, &g, &ed, &eo, &r))) *nll = r.nll_nats;
            if (!st && m->vt->elbo && !(st = lt_evaluate_elbo(m, &g, &ed, &eo, nelbo, &se))) *nelbo = -*nelbo;
            lt_graph_free(&g);
        }
        lt_dataset_free(&d);
    }
    lt_model_destroy(m);
    *src = "computed";
    return st;
}

int lt_cmd_compare(int argc, char **argv) {
    static const char *cmd = "compare";
    const char *enc = NULL, *real = NULL;
    const char **runs = lt_malloc(sizeof(char *) * (size_t)(argc > 0 ? argc : 1));
    int nrun = 0, json = 0, r, any_tokens = 0;
    lt_cli_sampling smp = LT_CLI_SAMPLING_DEFAULT;
    int64_t n = 10000, seed = 1, subsets = 100, ksize = 1000, threads = 0;
    if (!runs) return lt_cli_error(lt_fail(LT_ERR_NOMEM, "argument list"));
    for (int i = 1; i < argc; i++) {
        if (lt_arg_flag(argv, i, "--help") || lt_arg_flag(argv, i, "-h")) { lti_usage(stdout); lt_free(runs); return 0; }
        if (lt_arg_flag(argv, i, "--json")) { json = 1; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--encoder", &enc)) ||
            (r = lt_arg_str(cmd, argc, argv, &i, "--data", &real)) ||
            (r = lt_arg_i64(cmd, argc, argv, &i, "-n", 2, 10000000, &n)) ||
            (r = lt_arg_i64(cmd, argc, argv, &i, "--seed", 0, INT64_MAX, &seed)) ||
            (r = lt_arg_i64(cmd, argc, argv, &i, "--kid-subsets", 1, 100000, &subsets)) ||
            (r = lt_arg_i64(cmd, argc, argv, &i, "--kid-size", 2, 100000, &ksize)) ||
            (r = lt_arg_i64(cmd, argc, argv, &i, "--threads", 1, 1024, &threads)) ||
            (r = lt_cli_sample_flag(cmd, argc, argv, &i, &smp))) {
            if (r < 0) { lt_free(runs); return 2; }
            continue;
        }
        if (argv[i][0] == '-') {
            lt_free(runs);
            return lt_cli_usage(cmd, "unexpected argument '%s' (see latent compare --help)", argv[i]);
        }
        runs[nrun++] = argv[i];
    }
    if (!enc || !nrun) {
        lt_free(runs);
        return lt_cli_usage(cmd, "needs --encoder ENC and at least one RUN");
    }
    for (int k = 0, tokens; k < nrun; k++) { /* the filter fits every run, before any work */
        if ((r = lt_cli_sample_run(cmd, runs[k], "best", &smp, &tokens))) {
            lt_free(runs);
            return r;
        }
        any_tokens |= tokens;
    }
    const lt_sample_opts so = lt_cli_sample_opts(&smp);
    if (threads > 0) lt_threads_set((int)threads);
    lt_cli_encoder e;
    float *fr = NULL, *ff = NULL;
    int64_t nr = 0, nf = 0;
    lt_status st = lt_cli_encoder_open(enc, "best", &e);
    if (!st) st = lt_cli_source_features(&e, real, LT_SPLIT_TEST, n, &fr, &nr);
    const int64_t d = st ? 0 : lt_features_size(e.m, 0);
    json_t *rows = json_array();
    lt_kid_opts ko = {subsets, ksize, (uint64_t)seed};
    for (int k = 0; k < nrun && !st; k++) {
        const char *kind, *src = "";
        int tokens = 0;
        lt_sample_distance sd;
        double nll, nelbo;
        char path[4200], name[64] = "";
        json_t *cfg = NULL;
        snprintf(path, sizeof path, "%s/checkpoints/best.safetensors", runs[k]);
        if ((st = lt_checkpoint_peek(path, name, sizeof name, &cfg))) break;
        json_decref(cfg);
        const lt_model_vtable *vt = lt_model_find(name);
        tokens = vt && vt->tokens;
        if ((st = lti_run_nll(runs[k], &nll, &nelbo, &src))) {
            st = lt_fail_context(st, "run %s: ", runs[k]);
            break;
        }
        if ((st = lt_cli_set_features(&e, runs[k], LT_SPLIT_TEST, n, (uint64_t)seed, tokens ? &so : NULL, &ff, &nf,
                                      &kind)) ||
            (st = lt_sample_distance_sets(fr, nr, ff, nf, d, &ko, &sd))) {
            st = lt_fail_context(st, "run %s: ", runs[k]);
            break;
        }
        lt_free(ff);
        ff = NULL;
        snprintf(path, sizeof path, "%s/config.json", runs[k]);
        json_t *rc = NULL;
        const char *bin = "";
        if (!lt_run_read_json(path, &rc)) bin = json_string_value(json_object_get(rc, "binarize"));
        lt_error_clear();
        json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:o, s:s, s:f, s:f, s:f, s:I, s:o}", "run", runs[k], "model", name,
                              "binarize", bin ? bin : "", "nll_nats", isfinite(nll) ? json_real(nll) : json_null(),
                              "neg_elbo_nats", isfinite(nelbo) ? json_real(nelbo) : json_null(), "nll_source", src,
                              "fd_self", sd.fd, "kid_self", sd.kid, "kid_self_sd", sd.kid_sd, "n_samples",
                              (json_int_t)nf, "sampling", tokens ? lt_cli_sample_json(&smp) : json_null());
        json_object_set_new(o, "kid_self_se", isfinite(sd.kid_se) ? json_real(sd.kid_se) : json_null());
        json_decref(rc);
        json_array_append_new(rows, o);
    }
    int code = 0;
    if (st) {
        code = lt_cli_error(st);
    } else if (json) {
        json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:O}", "encoder", enc, "encoder_sha256",
                              e.sha256, "feature_size", (json_int_t)d, "real", real ? real : "(the encoder run's data)",
                              "n_real", (json_int_t)nr, "n", (json_int_t)n, "seed", (json_int_t)seed, "kid_subsets",
                              (json_int_t)subsets, "runs", rows);
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        printf("%s\n", s);
        free(s);
        json_decref(o);
    } else {
        printf("FD_self / KID_self in the features of %s (%s, %lld dims, sha256 %s); real: %lld test images of %s. "
               "Not FIDs: comparable only under this encoder.\n",
               enc, e.m->vt->name, (long long)d, e.sha256, (long long)nr, real ? real : "its data");
        printf("%-32s %-8s %-10s %12s %12s %12s %14s %10s\n", "run", "model", "binarize", "NLL nats", "-ELBO nats",
               "FD_self", "KID_self", "± s.e.");
        for (size_t k = 0; k < json_array_size(rows); k++) {
            json_t *o = json_array_get(rows, k);
            char a[32] = "—", b[32] = "—";
            json_t *v = json_object_get(o, "nll_nats"), *w = json_object_get(o, "neg_elbo_nats");
            if (json_is_number(v)) snprintf(a, sizeof a, "%.3f", json_number_value(v));
            if (json_is_number(w)) snprintf(b, sizeof b, "%.3f", json_number_value(w));
            char e[32] = "—";
            json_t *u = json_object_get(o, "kid_self_se");
            if (json_is_number(u)) snprintf(e, sizeof e, "%.6f", json_number_value(u));
            printf("%-32s %-8s %-10s %12s %12s %12.4f %14.6f %10s\n", json_string_value(json_object_get(o, "run")),
                   json_string_value(json_object_get(o, "model")), json_string_value(json_object_get(o, "binarize")), a,
                   b, json_number_value(json_object_get(o, "fd_self")), json_number_value(json_object_get(o, "kid_self")),
                   e);
        }
        printf("NLL: test split, nats per image (eval.json, or computed with the default estimator); binary data "
               "only compares with binary data.\n");
        char how[96];
        lt_cli_sample_text(&smp, how, sizeof how);
        if (any_tokens) printf("Samples of priors over codes (gpt) drawn with %s.\n", how);
    }
    json_decref(rows);
    lt_free(fr);
    lt_free(ff);
    if (e.m) lt_cli_encoder_close(&e);
    lt_free(runs);
    return code;
}
