/* latent train's masked-autoencoder options (mae), each stored under its model config key:
 * --mask-ratio X (mask_ratio, in (0,1]), --patch N (patch), --corrupt mask|noise (corrupt),
 * --noise-std X (noise_std), --pix-loss norm|raw (norm_pix true/false), --dec-width N
 * (dec_width); the encoder's, SimCLR's flags: --enc-width N (enc_width), --enc-stages N (stages),
 * --enc-blocks N (blocks), --enc-norm batch|group (norm). Returns as the lt_arg_* functions: 1
 * consumed, 0 not this option, -1 usage error printed. */
#ifndef LT_CLI_MAE_OPTS_H
#define LT_CLI_MAE_OPTS_H
#include <jansson.h>
int lt_cli_mae_opt(const char *cmd, int argc, char **argv, int *i, json_t *model_config);
#define LT_CLI_MAE_USAGE                                                                                         \
    "mae:       --enc-width 32  --enc-stages 3  --enc-blocks 2  --enc-norm batch|group (the SimCLR encoder)\n"       \
    "           --mask-ratio X (0.75)  --patch P (4)  --corrupt mask|noise (mask)  --noise-std X (0.5)\n"       \
    "           --pix-loss norm|raw (norm: each patch's pixels standardized)  --dec-width N (64); docs/mae.md\n"
#endif
