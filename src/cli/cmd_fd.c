/* latent fd --encoder RUN --real SRC --fake RUN|SRC|PNG_DIR: FD_self and KID_self, the Fréchet
 * distance and the kernel inception distance's estimator in the feature space of a model trained
 * here (docs/metrics.md). Never called FID: the numbers compare only under the same encoder,
 * whose checkpoint SHA-256 is printed beside them.
 *
 * --json prints one object: encoder, encoder_checkpoint, encoder_sha256, feature_size, real,
 * real_split, fake, fake_kind (samples|png|data|reconstructions), fake_split (data and
 * reconstructions only), n_real, n_fake,
 * fd_self, kid_self, kid_self_se (its standard error; null when a set has < 4 rows),
 * kid_self_sd (standard deviation over subsets), kid_subsets,
 * kid_subset_size, seed; and sampling ({temperature, top_k (0 = all), top_p}) when the fake set
 * is the samples of a prior over codes (gpt), drawn with --temperature/--top-k/--top-p as
 * `latent sample` draws them (the human line says the same). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/fd_sets.h"
#include "cli/sample_flags.h"
#include "core/alloc.h"
#include "core/threads.h"
#include "metrics/metrics.h"
#include "train/features.h"

static void lti_usage(FILE *f) {
    fprintf(f, "usage: latent fd --encoder RUN --real SRC --fake RUN|SRC|PNG_DIR [-n 10000] [--json]\n"
               "                [--real-split test] [--fake-split train] [--seed S] [--kid-subsets 100]\n"
               "                [--kid-size 1000] [--checkpoint best|last|epoch-NNN (the encoder's)] [--threads T]\n"
               "  a prior over codes (gpt) as --fake RUN: [--temperature T (1)] [--top-k K (0 = all)]\n"
               "                [--top-p P (1 = all)], drawn as latent sample draws them\n"
               "  --recon: the fake set is run RUN's reconstructions of its own data's --fake-split (default:\n"
               "           the real split) images, as many as the real ones\n");
}

static int lti_split_arg(const char *cmd, const char *flag, const char *s, lt_split_id *out) {
    const int k = lt_split_parse(s);
    if (k < 0) return lt_cli_usage(cmd, "%s %s: expected train, valid or test", flag, s);
    *out = (lt_split_id)k;
    return 0;
}

int lt_cmd_fd(int argc, char **argv) {
    static const char *cmd = "fd";
    const char *enc = NULL, *real = NULL, *fake = NULL, *rs = "test", *fsp = "train", *which = "best";
    int64_t n = 10000, seed = 1, subsets = 100, ksize = 1000, threads = 0;
    int json = 0, recon = 0, r, fsp_given = 0, tokens = 0;
    lt_cli_sampling smp = LT_CLI_SAMPLING_DEFAULT;
    for (int i = 1; i < argc; i++) {
        if (lt_arg_flag(argv, i, "--help") || lt_arg_flag(argv, i, "-h")) { lti_usage(stdout); return 0; }
        if (lt_arg_flag(argv, i, "--json")) { json = 1; continue; }
        if (lt_arg_flag(argv, i, "--recon")) { recon = 1; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--encoder", &enc))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--real", &real))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--fake", &fake))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--real-split", &rs))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--fake-split", &fsp))) { if (r < 0) return 2; fsp_given = 1; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--checkpoint", &which))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "-n", 2, 10000000, &n))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--seed", 0, INT64_MAX, &seed))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--kid-subsets", 1, 100000, &subsets))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--kid-size", 2, 100000, &ksize))) { if (r < 0) return 2; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--threads", 1, 1024, &threads))) { if (r < 0) return 2; continue; }
        if ((r = lt_cli_sample_flag(cmd, argc, argv, &i, &smp))) { if (r < 0) return 2; continue; }
        return lt_cli_usage(cmd, "unexpected argument '%s' (see latent fd --help)", argv[i]);
    }
    if (!enc || !real || !fake) return lt_cli_usage(cmd, "needs --encoder RUN, --real SRC and --fake RUN|SRC|PNG_DIR");
    if (recon && !fsp_given) fsp = rs; /* reconstructions of the real split's images by default */
    lt_split_id rsplit = LT_SPLIT_TEST, fsplit = LT_SPLIT_TRAIN;
    if (lti_split_arg(cmd, "--real-split", rs, &rsplit) || lti_split_arg(cmd, "--fake-split", fsp, &fsplit)) return 2;
    if (lt_cli_checkpoint_name(cmd, which)) return 2;
    if (recon && smp.given)
        return lt_cli_usage(cmd, "--temperature, --top-k and --top-p draw samples of a prior; --recon has none");
    if (!recon && (r = lt_cli_sample_run(cmd, fake, "best", &smp, &tokens))) return r;
    const lt_sample_opts so = lt_cli_sample_opts(&smp);
    if (threads > 0) lt_threads_set((int)threads);

    lt_cli_encoder e;
    float *fr = NULL, *ff = NULL;
    int64_t nr = 0, nf = 0;
    const char *kind = "";
    lt_sample_distance sd;
    lt_status st = lt_cli_encoder_open(enc, which, &e);
    if (!st) st = lt_cli_source_features(&e, real, rsplit, n, &fr, &nr);
    if (!st && recon) {
        kind = "reconstructions";
        st = lt_cli_recon_features(&e, fake, fsplit, nr, &ff, &nf); /* as many as the real images */
    } else if (!st) {
        st = lt_cli_set_features(&e, fake, fsplit, n, (uint64_t)seed, tokens ? &so : NULL, &ff, &nf, &kind);
    }
    const int64_t d = st ? 0 : lt_features_size(e.m, 0);
    lt_kid_opts ko = {subsets, ksize, (uint64_t)seed};
    if (!st) st = lt_sample_distance_sets(fr, nr, ff, nf, d, &ko, &sd);
    int code = 0;
    if (st) {
        code = lt_cli_error(st);
    } else if (json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:I, s:I, s:f, s:f, s:f, s:I, s:I, s:I}", "encoder",
                              enc, "encoder_checkpoint", which, "encoder_sha256", e.sha256, "feature_size", (json_int_t)d,
                              "real", real, "real_split", rs, "fake", fake, "fake_kind", kind, "n_real", (json_int_t)nr,
                              "n_fake", (json_int_t)nf, "fd_self", sd.fd, "kid_self", sd.kid, "kid_self_sd", sd.kid_sd,
                              "kid_subsets", (json_int_t)sd.kid_subsets, "kid_subset_size",
                              (json_int_t)sd.kid_subset_size, "seed", (json_int_t)seed);
        json_object_set_new(o, "kid_self_se", isfinite(sd.kid_se) ? json_real(sd.kid_se) : json_null());
        if (!strcmp(kind, "data") || recon) json_object_set_new(o, "fake_split", json_string(fsp));
        if (tokens) json_object_set_new(o, "sampling", lt_cli_sample_json(&smp));
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
        printf("%s\n", s);
        free(s);
        json_decref(o);
    } else {
        char se[32] = "n/a (too few rows)";
        if (isfinite(sd.kid_se)) snprintf(se, sizeof se, "%.6f", sd.kid_se);
        printf("FD_self %.4f   KID_self %.6f ± %s (standard error; sd %.6f over %lld subsets of %lld)   encoder %s "
               "(%s, sha256 %s)\n",
               sd.fd, sd.kid, se, sd.kid_sd, (long long)sd.kid_subsets, (long long)sd.kid_subset_size, enc,
               e.m->vt->name, e.sha256);
        char how[128] = "", t[96];
        if (tokens) lt_cli_sample_text(&smp, t, sizeof t), snprintf(how, sizeof how, " (%s)", t);
        printf("real: %lld of %s (%s); fake: %lld %s%s from %s; %lld features. Comparable only under this encoder "
               "checkpoint: not an FID.\n",
               (long long)nr, real, rs, (long long)nf, !strcmp(kind, "data") ? "examples" : kind, how, fake,
               (long long)d);
    }
    lt_free(fr);
    lt_free(ff);
    if (e.m) lt_cli_encoder_close(&e);
    return code;
}
