/* latent train's masked-autoencoder options (see mae_opts.h). */
#include "cli/mae_opts.h"

#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"

int lt_cli_mae_opt(const char *cmd, int argc, char **argv, int *i, json_t *mc) {
    static const lt_cli_opt opts[] = {
        {"--patch", "patch", LT_OPT_INT, 1, 1 << 16, 0, NULL},
        {"--dec-width", "dec_width", LT_OPT_INT, 1, 1 << 16, 0, NULL},
        {"--mask-ratio", "mask_ratio", LT_OPT_REAL, 0, 1, LT_OPT_OPEN_LO, NULL},
        {"--noise-std", "noise_std", LT_OPT_REAL, 0, 1e3, LT_OPT_OPEN_LO, NULL},
        {"--corrupt", "corrupt", LT_OPT_STR, 0, 0, 0, "mask|noise"}};
    const char *s;
    int r;
    if ((r = lt_arg_str(cmd, argc, argv, i, "--pix-loss", &s))) { /* stored as the boolean norm_pix */
        if (r > 0 && strcmp(s, "norm") && strcmp(s, "raw"))
            return lt_cli_usage(cmd, "--pix-loss %s: expected norm or raw", s), -1;
        if (r > 0) json_object_set_new(mc, "norm_pix", json_boolean(!strcmp(s, "norm")));
        return r;
    }
    return lt_cli_opts(cmd, argc, argv, i, opts, sizeof opts / sizeof opts[0], mc);
}
