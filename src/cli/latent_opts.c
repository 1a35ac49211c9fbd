/* latent train's latent-variable model options (see latent_opts.h). The model checks the
 * values (its config parser names the allowed ones). */
#include "cli/latent_opts.h"

#include <math.h>

#include "cli/args.h"

int lt_cli_latent_opt(const char *cmd, int argc, char **argv, int *i, json_t *mc) {
    static const lt_cli_opt opts[] = {
        {"--latent", "latent", LT_OPT_INT, 1, 1 << 30, 0, NULL},
        {"--iw", "iw", LT_OPT_INT, 1, 1 << 30, 0, NULL},
        {"--classes", "classes", LT_OPT_INT, 1, 1 << 30, 0, NULL},
        {"--anneal-every", "anneal_every", LT_OPT_INT, 1, 1 << 30, 0, NULL},
        {"--baseline-hidden", "baseline_hidden", LT_OPT_INT, 1, 1 << 30, 0, NULL},
        {"--kl-warmup", "kl_warmup", LT_OPT_INT, 1, 1 << 30, 0, NULL},
        {"--tau0", "tau0", LT_OPT_REAL, -HUGE_VAL, HUGE_VAL, 0, NULL},
        {"--tau-min", "tau_min", LT_OPT_REAL, -HUGE_VAL, HUGE_VAL, 0, NULL},
        {"--anneal-rate", "anneal_rate", LT_OPT_REAL, -HUGE_VAL, HUGE_VAL, 0, NULL},
        {"--activation", "activation", LT_OPT_STR, 0, 0, 0, NULL},
        {"--latent-type", "latent_type", LT_OPT_STR, 0, 0, 0, NULL},
        {"--estimator", "estimator", LT_OPT_STR, 0, 0, 0, NULL}};
    return lt_cli_opts(cmd, argc, argv, i, opts, sizeof opts / sizeof opts[0], mc);
}
