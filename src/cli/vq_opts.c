/* latent train's VQ-VAE options (see vq_opts.h). */
#include "cli/vq_opts.h"

#include "cli/args.h"

int lt_cli_vq_opt(const char *cmd, int argc, char **argv, int *i, json_t *mc) {
    static const lt_cli_opt opts[] = {
        {"--res-blocks", "res_blocks", LT_OPT_INT, 0, 16, 0, NULL},
        {"--res-hidden", "res_hidden", LT_OPT_INT, 1, 1 << 16, 0, NULL},
        {"--codes", "codes", LT_OPT_INT, 2, 1 << 24, 0, NULL},
        {"--code-dim", "code_dim", LT_OPT_INT, 1, 1 << 16, 0, NULL},
        {"--downsample", "downsample", LT_OPT_INT, 2, 8, 0, "2|4|8"},
        {"--beta", "beta", LT_OPT_REAL, 0, 1e6, 0, NULL},
        {"--decay", "decay", LT_OPT_REAL, 0, 1, LT_OPT_OPEN_LO | LT_OPT_OPEN_HI, NULL},
        {"--restart-threshold", "restart_threshold", LT_OPT_REAL, 0, 1e9, 0, NULL},
        {"--codebook", "codebook", LT_OPT_STR, 0, 0, 0, "ema|plain|none"}, /* none: the continuous autoencoder */
        {"--codebook-init", "codebook_init", LT_OPT_STR, 0, 0, 0, "random|kmeans"},
        {"--decoder", "decoder", LT_OPT_STR, 0, 0, 0, "conv|made|nade"}, /* made, nade: autoregressive, binary data */
        {"--ar-hidden", "ar_hidden", LT_OPT_INT, 1, 1 << 16, 0, NULL},
        {"--trunk-from", "trunk_from", LT_OPT_STR, 0, 0, 0, NULL}}; /* a run: train only the head on its frozen trunk */
    return lt_cli_opts(cmd, argc, argv, i, opts, sizeof opts / sizeof opts[0], mc);
}
