/* latent train's VQ-VAE options (see vq_opts.h). */
#include "cli/vq_opts.h"

#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"

int lt_cli_vq_opt(const char *cmd, int argc, char **argv, int *i, json_t *mc) {
    static const struct { const char *flag, *key; int64_t lo, hi; } ints[] = {
        {"--res-blocks", "res_blocks", 0, 16}, {"--res-hidden", "res_hidden", 1, 1 << 16},
        {"--codes", "codes", 2, 1 << 24}, {"--code-dim", "code_dim", 1, 1 << 16}, {"--downsample", "downsample", 2, 8}};
    static const struct { const char *flag, *key; double lo, hi; } reals[] = {
        {"--beta", "beta", 0, 1e6}, {"--decay", "decay", 1e-6, 1 - 1e-9}, {"--restart-threshold", "restart_threshold", 0, 1e9}};
    static const struct { const char *flag, *key, *a, *b, *c; } strs[] = { /* c: a third choice or NULL */
        {"--codebook", "codebook", "ema", "plain", "none"}, {"--codebook-init", "codebook_init", "random", "kmeans", NULL}};
    int r;
    int64_t v;
    double f;
    const char *s;
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
        if ((r = lt_arg_i64(cmd, argc, argv, i, ints[k].flag, ints[k].lo, ints[k].hi, &v))) {
            if (r > 0 && !strcmp(ints[k].key, "downsample") && v != 2 && v != 4 && v != 8)
                return lt_cli_usage(cmd, "--downsample %lld: expected 2, 4 or 8", (long long)v), -1;
            if (r > 0) json_object_set_new(mc, ints[k].key, json_integer(v));
            return r;
        }
    for (size_t k = 0; k < sizeof reals / sizeof reals[0]; k++)
        if ((r = lt_arg_f64(cmd, argc, argv, i, reals[k].flag, &f))) {
            if (r > 0 && !(f >= reals[k].lo && f <= reals[k].hi))
                return lt_cli_usage(cmd, "%s %g: expected %g..%g", reals[k].flag, f, reals[k].lo, reals[k].hi), -1;
            if (r > 0) json_object_set_new(mc, reals[k].key, json_real(f));
            return r;
        }
    for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++)
        if ((r = lt_arg_str(cmd, argc, argv, i, strs[k].flag, &s))) {
            if (r > 0 && strcmp(s, strs[k].a) && strcmp(s, strs[k].b) && !(strs[k].c && !strcmp(s, strs[k].c)))
                return lt_cli_usage(cmd, "%s %s: expected %s%s%s or %s", strs[k].flag, s, strs[k].a, strs[k].c ? ", " : "",
                                    strs[k].c ? strs[k].b : "", strs[k].c ? strs[k].c : strs[k].b), -1;
            if (r > 0) json_object_set_new(mc, strs[k].key, json_string(s));
            return r;
        }
    return 0;
}
