/* latent train's adversarial options (vqgan; docs/vqgan.md), each stored under its model
 * config key: --disc-start N, --disc-weight X (0.8), --disc-hidden N (64), --disc-layers N,
 * --gan-loss hinge|non_saturating, --codebook-weight X, --guard-steps N (0: off),
 * --norm-groups N, --no-attn, --perceptual RUN (a simclr or mae run whose frozen encoder
 * gives the perceptual distance; stored as an absolute path), --perceptual-weight X; and the trainer's optimizer-group overrides
 * --group NAME:KEY=VALUE[,KEY=VALUE...] (KEY lr, beta1, beta2, weight_decay: numbers;
 * schedule, optimizer: words) into `groups` (config.json "groups"). Returns as the lt_arg_*
 * functions: 1 consumed, 0 not this option, -1 usage error printed. */
#ifndef LT_CLI_GAN_OPTS_H
#define LT_CLI_GAN_OPTS_H
#include <jansson.h>
int lt_cli_gan_opt(const char *cmd, int argc, char **argv, int *i, json_t *model_config, json_t *groups);
#define LT_CLI_GAN_USAGE                                                                                          \
    "vqgan:     --hidden 64  --res-blocks 1  --codes K (512)  --code-dim D (64)  --downsample 2|4|8 (4)  --no-attn\n" \
    "           --norm-groups N (32; 8 below 64 channels)  --codebook plain|ema (plain)  --beta X (0.25)\n"          \
    "           --disc-start N (2000)  --disc-weight X (0.8)  --disc-hidden N (64)  --disc-layers N (2 up to 32x32)\n" \
    "           --gan-loss hinge|non_saturating  --codebook-weight X (1)  --guard-steps N (1000; 0 off)\n"           \
    "           --perceptual RUN (simclr/mae run: its frozen encoder's distance; none: the term is off)  --perceptual-weight X (1)\n" \
    "groups:    --group NAME:lr=X,beta1=X,beta2=X,schedule=S,optimizer=O (a model's optimizer group, e.g. discriminator)\n"
#endif
