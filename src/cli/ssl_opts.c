/* latent train's self-supervised options (see ssl_opts.h). */
#include "cli/ssl_opts.h"

#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"

int lt_cli_ssl_opt(const char *cmd, int argc, char **argv, int *i, json_t *mc) {
    static const struct { const char *flag, *key; int64_t lo, hi; } ints[] = {
        {"--enc-width", "enc_width", 1, 4096}, {"--enc-stages", "enc_stages", 1, 5}, {"--enc-blocks", "enc_blocks", 1, 8},
        {"--proj-hidden", "proj_hidden", 1, 1 << 16}, {"--proj-dim", "proj_dim", 1, 1 << 16}};
    int r;
    int64_t v;
    double f;
    const char *s;
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
        if ((r = lt_arg_i64(cmd, argc, argv, i, ints[k].flag, ints[k].lo, ints[k].hi, &v))) {
            if (r > 0) json_object_set_new(mc, ints[k].key, json_integer(v));
            return r;
        }
    if ((r = lt_arg_f64(cmd, argc, argv, i, "--temperature", &f))) {
        if (r > 0 && !(f >= 1e-3 && f <= 100))
            return lt_cli_usage(cmd, "--temperature %g: expected 0.001..100 (0.1-0.5 typical)", f), -1;
        if (r > 0) json_object_set_new(mc, "temperature", json_real(f));
        return r;
    }
    if ((r = lt_arg_str(cmd, argc, argv, i, "--enc-norm", &s))) {
        if (r > 0 && strcmp(s, "batch") && strcmp(s, "group"))
            return lt_cli_usage(cmd, "--enc-norm %s: expected batch or group", s), -1;
        if (r > 0) json_object_set_new(mc, "enc_norm", json_string(s));
        return r;
    }
    return 0;
}
