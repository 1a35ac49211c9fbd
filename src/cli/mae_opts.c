/* latent train's masked-autoencoder options (see mae_opts.h). */
#include "cli/mae_opts.h"

#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"

int lt_cli_mae_opt(const char *cmd, int argc, char **argv, int *i, json_t *mc) {
    int r;
    int64_t v;
    double f;
    const char *s;
    static const struct { const char *flag, *key; int64_t lo, hi; } ints[] = {
        {"--patch", "patch", 1, 1 << 16}, {"--dec-width", "dec_width", 1, 1 << 16}, {"--enc-width", "enc_width", 1, 4096},
        {"--enc-stages", "stages", 1, 5}, {"--enc-blocks", "blocks", 1, 8}};
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
        if ((r = lt_arg_i64(cmd, argc, argv, i, ints[k].flag, ints[k].lo, ints[k].hi, &v))) {
            if (r > 0) json_object_set_new(mc, ints[k].key, json_integer(v));
            return r;
        }
    if ((r = lt_arg_str(cmd, argc, argv, i, "--enc-norm", &s))) {
        if (r > 0 && strcmp(s, "batch") && strcmp(s, "group"))
            return lt_cli_usage(cmd, "--enc-norm %s: expected batch or group", s), -1;
        if (r > 0) json_object_set_new(mc, "norm", json_string(s));
        return r;
    }
    static const struct { const char *flag, *key; double lo, hi; int lo_open; } reals[] = {
        {"--mask-ratio", "mask_ratio", 0, 1, 1}, {"--noise-std", "noise_std", 0, 1e3, 1}};
    for (size_t k = 0; k < sizeof reals / sizeof reals[0]; k++)
        if ((r = lt_arg_f64(cmd, argc, argv, i, reals[k].flag, &f))) {
            if (r > 0 && !(f > reals[k].lo && f <= reals[k].hi))
                return lt_cli_usage(cmd, "%s %g: expected a number in (%g, %g]", reals[k].flag, f, reals[k].lo,
                                    reals[k].hi), -1;
            if (r > 0) json_object_set_new(mc, reals[k].key, json_real(f));
            return r;
        }
    if ((r = lt_arg_str(cmd, argc, argv, i, "--corrupt", &s))) {
        if (r > 0 && strcmp(s, "mask") && strcmp(s, "noise"))
            return lt_cli_usage(cmd, "--corrupt %s: expected mask or noise", s), -1;
        if (r > 0) json_object_set_new(mc, "corrupt", json_string(s));
        return r;
    }
    if ((r = lt_arg_str(cmd, argc, argv, i, "--pix-loss", &s))) {
        if (r > 0 && strcmp(s, "norm") && strcmp(s, "raw"))
            return lt_cli_usage(cmd, "--pix-loss %s: expected norm or raw", s), -1;
        if (r > 0) json_object_set_new(mc, "norm_pix", json_boolean(!strcmp(s, "norm")));
        return r;
    }
    return 0;
}
