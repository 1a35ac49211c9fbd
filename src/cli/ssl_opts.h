/* latent train's self-supervised options (simclr), each stored under its model config key:
 * --enc-width N (enc_width), --enc-stages N (enc_stages), --enc-blocks N (enc_blocks, per stage),
 * --enc-norm batch|group (enc_norm), --proj-hidden N (proj_hidden), --proj-dim N (proj_dim),
 * --temperature T (temperature). (--width belongs to gpt.) Returns as the lt_arg_* functions:
 * 1 consumed, 0 not this option, -1 usage error printed. */
#ifndef LT_CLI_SSL_OPTS_H
#define LT_CLI_SSL_OPTS_H
#include <jansson.h>
int lt_cli_ssl_opt(const char *cmd, int argc, char **argv, int *i, json_t *model_config);
#define LT_CLI_SSL_USAGE                                                                                       \
    "simclr:    --enc-width 32  --enc-stages 3  --enc-blocks 2  --enc-norm batch|group  --proj-hidden N (= features)\n" \
    "           --proj-dim 128  --temperature 0.5  (with --augment simclr or simclr-grey; docs/ssl.md)\n"
#endif
