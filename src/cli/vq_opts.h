/* latent train's VQ-VAE options (vqvae), each stored under its model config key:
 * --res-blocks N, --res-hidden N, --codes K (>= 2), --code-dim D, --downsample 2|4|8,
 * --codebook ema|plain|none, --beta X, --decay X, --restart-threshold X, --codebook-init
 * random|kmeans, --decoder conv|made|nade, --ar-hidden H (--cosine-codes is a plain flag in cmd_train.c). Returns as the lt_arg_* functions: 1 consumed, 0 not this option, -1 usage
 * error printed. */
#ifndef LT_CLI_VQ_OPTS_H
#define LT_CLI_VQ_OPTS_H
#include <jansson.h>
int lt_cli_vq_opt(const char *cmd, int argc, char **argv, int *i, json_t *model_config);
#define LT_CLI_VQ_USAGE                                                                                       \
    "vqvae:     --hidden 128  --res-blocks 2  --res-hidden 32  --codes K (512)  --code-dim D (64)  --downsample 2|4|8 (4)\n" \
    "           --codebook ema|plain|none (ema; none: the continuous autoencoder, no quantizer)  --beta X (0.25)\n" \
    "           --decay X (0.99)  --restart-threshold X (0: off)  --codebook-init random|kmeans  --cosine-codes (l2-normalized codes)\n" \
    "           --decoder conv|made|nade (conv; made, nade: autoregressive over the pixels, binary data)  --ar-hidden H (500)\n" \
    "           --trunk-from RUN (made, nade: train only the head, on RUN's frozen encoder, codebook and conv decoder)\n"
#endif
