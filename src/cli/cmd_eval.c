/* latent eval RUN: NLL (and Bayes classification accuracy) of a trained run on a split,
 * and the model's own named metrics when it has them (vqvae: mse, psnr, normalized_mse,
 * usage, dead_codes, perplexity, commitment, codebook_loss).
 * The result is also recorded in RUN/eval.json under the split's name (for
 * latent report), unless --data points the run at other data. Latent-variable
 * models: --iw K importance samples for nll_nats; "neg_elbo_nats" is the
 * negative ELBO (comparable with nll_nats, which it bounds from above), also printed
 * as "elbo_nats", the key the command-line contract (DESIGN.md) names for the bound.
 * A prior over a binary stage one's codes: --bound adds the two-stage bound on the split's
 * images, −log p(x) ≤ −log p(x|z_q) − log p(z_q) ("bound_nats", "bound_stderr",
 * "recon_nats", "prior_nats"; train/rundata.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "core/alloc.h"
#include "core/threads.h"
#include "train/evaluate.h"
#include "train/rundata.h"
#include "train/rundir.h"

static void lti_usage(FILE *f) {
    fprintf(f, "usage: latent eval RUN [--split valid|test] [--masks K] [--iw K] [--classify] [--json]\n"
               "                [--checkpoint best|last|epoch-NNN] [--data DIR] [--batch B] [--threads T]\n"
               "                [--bound (a prior over a binary stage one's codes: -log p(x|z_q) - log p(z_q))]\n");
}

int lt_cmd_eval(int argc, char **argv) {
    static const char *cmd = "eval";
    const char *run = NULL, *split_s = "test", *which = "best", *data_dir = NULL;
    int64_t masks = 0, batch = 100, threads = 0, iw = 0;
    int json = 0, classify = 0, bound = 0, r;
    for (int i = 1; i < argc; i++) {
        if (lt_arg_flag(argv, i, "--help") || lt_arg_flag(argv, i, "-h")) { lti_usage(stdout); return 0; }
        if (lt_arg_flag(argv, i, "--json")) { json = 1; continue; }
        if (lt_arg_flag(argv, i, "--classify")) { classify = 1; continue; }
        if (lt_arg_flag(argv, i, "--bound")) { bound = 1; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--split", &split_s))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--checkpoint", &which))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--data", &data_dir))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--masks", 1, 1 << 20, &masks))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--iw", 1, 1 << 24, &iw))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--batch", 1, 100000, &batch))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--threads", 1, 1024, &threads))) { if (r < 0) return 2; continue; }
        if (argv[i][0] == '-' || run) return lt_cli_usage(cmd, "unexpected argument '%s' (see latent eval --help)", argv[i]);
        run = argv[i];
    }
    if (!run) return lt_cli_usage(cmd, "which run? latent eval RUN");
    int split = lt_split_parse(split_s);
    if (split < 0) return lt_cli_usage(cmd, "--split %s: expected train, valid or test", split_s);
    if (lt_cli_checkpoint_name(cmd, which)) return 2;
    if (threads > 0) lt_threads_set((int)threads);
    const int own_data = data_dir == NULL;

    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", run);
    json_t *cfg = NULL;
    lt_model *m = NULL;
    double *prior = NULL;
    lt_dataset data;
    memset(&data, 0, sizeof data);
    lt_graph g;
    int g_ready = 0, code;
    lt_status st = lt_run_read_json(path, &cfg);
    if (!st) st = lt_checkpoint_open_model(run, which, &m, &prior);
    const char *bin = cfg ? json_string_value(json_object_get(cfg, "binarize")) : NULL;
    if (!st && (!bin || lt_binarize_parse(bin) < 0))
        st = lt_fail(LT_ERR_FORMAT, "%s: 'binarize' missing or unknown", path);
    if (!data_dir && cfg) data_dir = json_string_value(json_object_get(cfg, "data"));
    if (!st && !data_dir) st = lt_fail(LT_ERR_FORMAT, "%s: 'data' missing (or give --data DIR)", path);
    json_t *lim = cfg ? json_object_get(cfg, "limit") : NULL;
    const char *features = cfg ? json_string_value(json_object_get(cfg, "features")) : NULL;
    if (!st) st = lt_rundata_open(data_dir, features, json_is_integer(lim) ? json_integer_value(lim) : 0, &data);
    if (!st && !(st = lt_graph_init(&g, (size_t)1 << 20))) g_ready = 1;
    lt_eval_result res;
    double elbo = 0, elbo_se = 0; /* models with a bound: mean ELBO and its standard error */
    const char *mnames[LT_EVAL_MAX_METRICS]; /* the model's own metrics (vqvae: mse, psnr, usage, ...) */
    double mvals[LT_EVAL_MAX_METRICS];
    int nm = 0;
    if (!st) {
        json_t *seed = json_object_get(cfg, "seed");
        lt_eval_data ed = {&data, (lt_split_id)split, (lt_binarize)lt_binarize_parse(bin),
                           json_is_integer(seed) ? (uint64_t)json_integer_value(seed) : 0, batch};
        lt_eval_opts eo = {(int)masks, (int)iw}; /* iw: importance samples of latent models */
        st = classify ? lt_evaluate_classify(m, &g, &ed, &eo, prior, &res) : lt_evaluate_nll(m, &g, &ed, &eo, &res);
        if (!st && m->vt->elbo) st = lt_evaluate_elbo(m, &g, &ed, &eo, &elbo, &elbo_se);
        if (!st) st = lt_evaluate_metrics(m, &g, &ed, mnames, mvals, LT_EVAL_MAX_METRICS, &nm);
    }
    lt_rundata_bound_result br = {0};
    if (!st && bound) {
        json_t *s1 = json_object_get(m->config, "stage1");
        if (!m->vt->tokens || !json_is_string(s1))
            st = lt_fail(LT_ERR_ARG, "--bound: model '%s' of %s is not a prior with a stage-one run (train a gpt "
                         "with --codes-of RUN or --stage1 RUN)", m->vt->name, run);
        else
            st = lt_rundata_bound(m, json_string_value(s1), (lt_split_id)split,
                                  json_is_integer(lim) ? json_integer_value(lim) : 0, batch, &br);
    }
    if (st) {
        code = lt_cli_error(st);
    } else {
        json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:f, s:f, s:f}", "model", m->vt->name, "split", split_s,
                              "checkpoint", which, "examples", (json_int_t)res.examples, "nll_nats", res.nll_nats,
                              "nll_stderr", res.nll_stderr, "bits_per_dim", res.bits_per_dim);
        if (masks) json_object_set_new(o, "masks", json_integer(masks));
        double uni = 0; /* token models: nll_nats is per code grid, bits_per_dim per code */
        if (m->vt->tokens && !lt_evaluate_unigram_entropy(&data, (lt_split_id)split, &uni)) {
            json_object_set_new(o, "codes_per_grid", json_integer(m->dim));
            json_object_set_new(o, "bits_per_code", json_real(res.bits_per_dim));
            json_object_set_new(o, "unigram_entropy_bits", json_real(uni / log(2.0)));
            json_object_set_new(o, "unigram_entropy_nats", json_real(uni * (double)m->dim)); /* per grid */
        }
        if (m->vt->elbo) {
            if (iw) json_object_set_new(o, "iw_samples", json_integer(iw));
            json_object_set_new(o, "neg_elbo_nats", json_real(-elbo)); /* positive, as nll_nats */
            json_object_set_new(o, "elbo_nats", json_real(-elbo));     /* the contract's name, same scale */
            json_object_set_new(o, "neg_elbo_stderr", json_real(elbo_se));
        }
        for (int k = 0; k < nm; k++) json_object_set_new(o, mnames[k], json_real(mvals[k])); /* NaN: null */
        if (bound) {
            json_object_set_new(o, "bound_nats", json_real(br.bound_nats));
            json_object_set_new(o, "bound_stderr", json_real(br.bound_stderr));
            json_object_set_new(o, "recon_nats", json_real(br.recon_nats));
            json_object_set_new(o, "prior_nats", json_real(br.prior_nats));
            json_object_set_new(o, "bound_examples", json_integer(br.examples));
        }
        if (m->n_classes > 0) json_object_set_new(o, "given_label", json_true()); /* nll is -log p(x|y) */
        if (classify) {
            json_object_set_new(o, "accuracy", json_real(res.accuracy));
            json_object_set_new(o, "marginal_nll_nats", json_real(res.marginal_nll_nats));
        }
        if (json) {
            char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
            printf("%s\n", s);
            free(s);
        } else {
            printf("%s on %s (%lld examples, %s checkpoint): NLL %.3f ± %.3f nats, %.4f bits/dim\n", m->vt->name,
                   split_s, (long long)res.examples, which, res.nll_nats, res.nll_stderr, res.bits_per_dim);
            if (m->vt->tokens)
                printf("codes: %.4f bits per code (%lld per grid); their unigram entropy %.4f bits per code\n",
                       res.bits_per_dim, (long long)m->dim, uni / log(2.0));
            if (m->vt->elbo)
                printf("negative ELBO %.3f ± %.3f nats (the NLL is importance-sampled with %lld samples)\n", -elbo,
                       elbo_se, (long long)(iw ? iw : 10));
            for (int k = 0; k < nm; k++) printf("%s %.6g%s", mnames[k], mvals[k], k + 1 < nm ? ", " : "\n");
            if (bound)
                printf("bound -log p(x) <= -log p(x|z_q) - log p(z_q) = %.3f + %.3f = %.3f ± %.3f nats (%lld images)\n",
                       br.recon_nats, br.prior_nats, br.bound_nats, br.bound_stderr, (long long)br.examples);
            if (classify)
                printf("Bayes classification accuracy %.2f%%; marginal NLL -log Σ p(x|y)p(y) %.3f nats\n",
                       100 * res.accuracy, res.marginal_nll_nats);
        }
        if (own_data) { /* RUN/eval.json: {"test": {...}, "valid": {...}}, rewritten atomically */
            json_t *all = NULL;
            snprintf(path, sizeof path, "%s/eval.json", run);
            if (lt_run_read_json(path, &all) == LT_ERR_FORMAT) lt_error_clear(); /* a broken file is replaced */
            if (!all) all = json_object();
            json_object_set(all, split_s, o);
            if (lt_run_write_json(path, all))
                fprintf(stderr, "latent eval: warning: result not recorded: %s\n", lt_error_message());
            json_decref(all);
        }
        json_decref(o);
        code = 0;
    }
    if (g_ready) lt_graph_free(&g);
    lt_dataset_free(&data);
    lt_free(prior);
    lt_model_destroy(m);
    json_decref(cfg);
    return code;
}
