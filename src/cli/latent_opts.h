/* latent train's options for the latent-variable models (vae, gsvae), each
 * stored under its model config key: --latent N, --iw K, --classes K,
 * --activation relu|softplus|tanh, --latent-type categorical|bernoulli,
 * --estimator NAME, --tau0 X, --tau-min X, --anneal-rate X, --anneal-every N,
 * --baseline-hidden N, --kl-warmup N. Returns as the lt_arg_* functions: 1 consumed, 0 not
 * this option, -1 usage error printed. */
#ifndef LT_CLI_LATENT_OPTS_H
#define LT_CLI_LATENT_OPTS_H
#include <jansson.h>
int lt_cli_latent_opt(const char *cmd, int argc, char **argv, int *i, json_t *model_config);
#define LT_CLI_LATENT_USAGE                                                                                    \
    "latent:    --latent N  --iw K  --classes K  --latent-type categorical|bernoulli  --activation relu|softplus|tanh\n" \
    "           --estimator pathwise|score|score-ma|score-nn|st|gumbel|st-gumbel  --tau0 X  --tau-min X\n"      \
    "           --anneal-rate X  --anneal-every N  --baseline-hidden N  --kl-warmup STEPS (vae, iw 1)\n"
#endif
