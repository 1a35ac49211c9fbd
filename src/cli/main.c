/* latent — entry point and command table. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/threads.h"

static const lt_cmd lti_cmds[] = {
    {"version", "print version, BLAS core and thread count", lt_cmd_version},
    {"gradcheck", "finite-difference gradient check of every op", lt_cmd_gradcheck},
    {"train", "train a model on a data source into a run directory", lt_cmd_train},
    {"eval", "NLL (and Bayes classification accuracy) of a run on a split", lt_cmd_eval},
    {"sample", "a PNG grid of samples from a run", lt_cmd_sample},
    {"reconstruct", "test images beside their reconstructions (vae, gsvae)", lt_cmd_reconstruct},
    {"interpolate", "decodings along lines between test images' latent means (vae, gsvae)", lt_cmd_interpolate},
    {"estimators", "gradient estimators' variance and bias on toys with exact gradients", lt_cmd_estimators},
    {"report", "one HTML page comparing runs: curves, samples, a table", lt_cmd_report},
    {"features", "apply a feature-column spec to TFRecord files of tf.Examples", lt_cmd_features},
    {"tfrecord", "convert IDX to TFRecord; cat, index and verify TFRecord files", lt_cmd_tfrecord},
    {"encode", "a split's discrete code grids as TFRecord tf.Examples (vqvae)", lt_cmd_encode},
    {"decode", "a PNG grid of code grids from TFRecord files decoded (vqvae)", lt_cmd_decode},
    {"probe", "linear and k-NN probes of a run's features, beside raw pixels and random init", lt_cmd_probe},
    {"fd", "FD_self and KID_self of two image sets in an encoder run's feature space", lt_cmd_fd},
    {"compare", "runs side by side: test NLL and FD_self / KID_self of their samples", lt_cmd_compare},
};

int lt_cli_error(lt_status s) {
    fprintf(stderr, "latent: %s\n", lt_error_message());
    return lt_status_exit_code(s);
}

int lt_cli_usage(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "latent %s: usage error: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    return 2;
}

int lt_cli_checkpoint_name(const char *cmd, const char *which) {
    if (!strcmp(which, "best") || !strcmp(which, "last")) return 0;
    size_t n = strlen(which);
    if (n > 6 && n <= 16 && !strncmp(which, "epoch-", 6) && strspn(which + 6, "0123456789") == n - 6) return 0;
    return lt_cli_usage(cmd, "--checkpoint %s: expected best, last or epoch-NNN (a periodic checkpoint of the run)",
                        which);
}

static void lti_help(FILE *f) {
    fprintf(f, "usage: latent <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof lti_cmds / sizeof lti_cmds[0]; i++)
        fprintf(f, "  %-12s %s\n", lti_cmds[i].name, lti_cmds[i].summary);
    fprintf(f, "\n'latent <command> --help' for a command's options. Threads: --threads N or LATENT_THREADS.\n");
}

int main(int argc, char **argv) {
    lt_threads_set(0);
    if (argc < 2) { lti_help(stderr); return 2; }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) return lt_cmd_version(argc - 1, argv + 1);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) { lti_help(stdout); return 0; }
    for (size_t i = 0; i < sizeof lti_cmds / sizeof lti_cmds[0]; i++)
        if (!strcmp(argv[1], lti_cmds[i].name)) return lti_cmds[i].run(argc - 1, argv + 1);
    fprintf(stderr, "latent: unknown command '%s'\n", argv[1]);
    lti_help(stderr);
    return 2;
}
