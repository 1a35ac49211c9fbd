/* latent train's gpt options (see gpt_opts.h). */
#include "cli/gpt_opts.h"

#include <limits.h>
#include <stdlib.h>

#include "cli/args.h"
#include "cli/cli.h"

int lt_cli_gpt_opt(const char *cmd, int argc, char **argv, int *i, json_t *mc) {
    static const struct { const char *flag, *key; int64_t hi; } ints[] = {
        {"--layers", "layers", 48}, {"--heads", "heads", 256}, {"--width", "d_model", 1 << 14}};
    int r;
    int64_t v;
    double f;
    const char *s;
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
        if ((r = lt_arg_i64(cmd, argc, argv, i, ints[k].flag, 1, ints[k].hi, &v))) {
            if (r > 0) json_object_set_new(mc, ints[k].key, json_integer(v));
            return r;
        }
    if ((r = lt_arg_f64(cmd, argc, argv, i, "--dropout", &f))) {
        if (r < 0) return r;
        if (!(f >= 0 && f < 0.99)) {
            lt_cli_usage(cmd, "--dropout %g: expected a probability in [0, 0.99)", f);
            return -1;
        }
        json_object_set_new(mc, "dropout", json_real(f));
        return 1;
    }
    if (lt_arg_flag(argv, *i, "--tie")) {
        json_object_set_new(mc, "tie", json_true());
        return 1;
    }
    if ((r = lt_arg_str(cmd, argc, argv, i, "--stage1", &s))) {
        if (r < 0) return r;
        char abs[PATH_MAX];
        if (!realpath(s, abs)) {
            lt_cli_usage(cmd, "--stage1 %s: no such run directory", s);
            return -1;
        }
        json_object_set_new(mc, "stage1", json_string(abs));
        return 1;
    }
    return 0;
}
