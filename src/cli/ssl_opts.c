/* latent train's self-supervised options (see ssl_opts.h). */
#include "cli/ssl_opts.h"

#include "cli/args.h"

int lt_cli_ssl_opt(const char *cmd, int argc, char **argv, int *i, json_t *mc) {
    static const lt_cli_opt opts[] = {
        {"--enc-width", "enc_width", LT_OPT_INT, 1, 4096, 0, NULL},
        {"--enc-stages", "enc_stages", LT_OPT_INT, 1, 5, 0, NULL},
        {"--enc-blocks", "enc_blocks", LT_OPT_INT, 1, 8, 0, NULL},
        {"--proj-hidden", "proj_hidden", LT_OPT_INT, 1, 1 << 16, 0, NULL},
        {"--proj-dim", "proj_dim", LT_OPT_INT, 1, 1 << 16, 0, NULL},
        {"--temperature", "temperature", LT_OPT_REAL, 1e-3, 100, 0, NULL}, /* 0.1-0.5 typical */
        {"--enc-norm", "enc_norm", LT_OPT_STR, 0, 0, 0, "batch|group"}};
    return lt_cli_opts(cmd, argc, argv, i, opts, sizeof opts / sizeof opts[0], mc);
}
