/* latent train's options for the transformer prior (gpt), each stored under its model
 * config key: --layers N, --heads N, --width C (d_model), --dropout P, --tie (weight
 * tying), --stage1 RUN (the stage-one run whose codes the prior models; recorded as an
 * absolute path). Returns as the lt_arg_* functions: 1 consumed, 0 not this option, -1
 * usage error printed. */
#ifndef LT_CLI_GPT_OPTS_H
#define LT_CLI_GPT_OPTS_H
#include <jansson.h>
int lt_cli_gpt_opt(const char *cmd, int argc, char **argv, int *i, json_t *model_config);
#define LT_CLI_GPT_USAGE                                                                                       \
    "gpt:       --layers N (4)  --heads H (4)  --width C (128)  --dropout P (0)  --tie  --stage1 RUN\n"          \
    "           (--data tfrecord:PREFIX of code grids, e.g. from latent encode; --schedule cosine,warmup:N\n"    \
    "           --optimizer adamw --clip 1 as usual)\n"
#endif
