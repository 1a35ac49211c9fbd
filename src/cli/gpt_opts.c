/* latent train's gpt options (see gpt_opts.h). */
#include "cli/gpt_opts.h"

#include <limits.h>
#include <stdlib.h>

#include "cli/args.h"
#include "cli/cli.h"

int lt_cli_gpt_opt(const char *cmd, int argc, char **argv, int *i, json_t *mc) {
    static const lt_cli_opt opts[] = {
        {"--layers", "layers", LT_OPT_INT, 1, 48, 0, NULL},
        {"--heads", "heads", LT_OPT_INT, 1, 256, 0, NULL},
        {"--width", "d_model", LT_OPT_INT, 1, 1 << 14, 0, NULL},
        {"--dropout", "dropout", LT_OPT_REAL, 0, 0.99, LT_OPT_OPEN_HI, NULL}};
    int r;
    const char *s;
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
    return lt_cli_opts(cmd, argc, argv, i, opts, sizeof opts / sizeof opts[0], mc);
}
