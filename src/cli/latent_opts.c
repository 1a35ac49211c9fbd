/* latent train's latent-variable model options (see latent_opts.h). */
#include "cli/latent_opts.h"

#include "cli/args.h"

int lt_cli_latent_opt(const char *cmd, int argc, char **argv, int *i, json_t *mc) {
    static const struct { const char *flag, *key; } ints[] = {
        {"--latent", "latent"}, {"--iw", "iw"}, {"--classes", "classes"}, {"--anneal-every", "anneal_every"},
        {"--baseline-hidden", "baseline_hidden"}, {"--kl-warmup", "kl_warmup"}};
    static const struct { const char *flag, *key; } reals[] = {
        {"--tau0", "tau0"}, {"--tau-min", "tau_min"}, {"--anneal-rate", "anneal_rate"}};
    static const struct { const char *flag, *key; } strs[] = {
        {"--activation", "activation"}, {"--latent-type", "latent_type"}, {"--estimator", "estimator"}};
    int r;
    int64_t v;
    double f;
    const char *s;
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
        if ((r = lt_arg_i64(cmd, argc, argv, i, ints[k].flag, 1, 1 << 30, &v))) {
            if (r > 0) json_object_set_new(mc, ints[k].key, json_integer(v));
            return r;
        }
    for (size_t k = 0; k < sizeof reals / sizeof reals[0]; k++)
        if ((r = lt_arg_f64(cmd, argc, argv, i, reals[k].flag, &f))) {
            if (r > 0) json_object_set_new(mc, reals[k].key, json_real(f));
            return r;
        }
    for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++)
        if ((r = lt_arg_str(cmd, argc, argv, i, strs[k].flag, &s))) {
            if (r > 0) json_object_set_new(mc, strs[k].key, json_string(s));
            return r;
        }
    return 0;
}
