/* latent train's adversarial and optimizer-group options (see gan_opts.h). */
#include "cli/gan_opts.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/cli.h"

/* "NAME:k=v,k=v" into groups[NAME] */
static int lti_group(const char *cmd, const char *spec, json_t *groups) {
    const char *colon = strchr(spec, ':');
    if (!colon || colon == spec || !colon[1] || colon - spec >= 64)
        return lt_cli_usage(cmd, "--group %s: expected NAME:KEY=VALUE[,KEY=VALUE...]", spec), -1;
    char name[64], kv[256];
    memcpy(name, spec, (size_t)(colon - spec));
    name[colon - spec] = 0;
    json_t *o = json_object_get(groups, name);
    if (!o) json_object_set_new(groups, name, o = json_object());
    for (const char *p = colon + 1; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n >= sizeof kv) return lt_cli_usage(cmd, "--group %s: setting too long", spec), -1;
        memcpy(kv, p, n);
        kv[n] = 0;
        char *eq = strchr(kv, '=');
        if (!eq || eq == kv || !eq[1]) return lt_cli_usage(cmd, "--group %s: '%s' is not KEY=VALUE", spec, kv), -1;
        *eq = 0;
        const char *val = eq + 1;
        if (!strcmp(kv, "schedule") || !strcmp(kv, "optimizer")) {
            json_object_set_new(o, kv, json_string(val));
        } else if (!strcmp(kv, "lr") || !strcmp(kv, "beta1") || !strcmp(kv, "beta2") || !strcmp(kv, "weight_decay")) {
            char *e;
            double f = strtod(val, &e);
            if (*e || e == val || !(f >= 0) || (!strcmp(kv, "lr") && !(f > 0)) || (kv[0] == 'b' && f >= 1))
                return lt_cli_usage(cmd, "--group %s: %s=%s: expected a number (lr > 0, betas in [0,1))", spec, kv, val), -1;
            json_object_set_new(o, kv, json_real(f));
        } else {
            return lt_cli_usage(cmd, "--group %s: unknown key '%s' (lr, beta1, beta2, weight_decay, schedule, optimizer)",
                                spec, kv), -1;
        }
        p += n + (end ? 1 : 0);
    }
    return 1;
}

int lt_cli_gan_opt(const char *cmd, int argc, char **argv, int *i, json_t *mc, json_t *groups) {
    static const lt_cli_opt opts[] = {
        {"--disc-start", "disc_start", LT_OPT_INT, 0, 1e15, 0, NULL},
        {"--disc-hidden", "disc_hidden", LT_OPT_INT, 1, 1 << 16, 0, NULL},
        {"--disc-layers", "disc_layers", LT_OPT_INT, 1, 6, 0, NULL},
        {"--guard-steps", "guard_steps", LT_OPT_INT, 0, 1e15, 0, NULL},
        {"--norm-groups", "norm_groups", LT_OPT_INT, 1, 1 << 16, 0, NULL},
        {"--disc-weight", "disc_weight", LT_OPT_REAL, 0, 1e6, 0, NULL},
        {"--codebook-weight", "codebook_weight", LT_OPT_REAL, 0, 1e6, 0, NULL},
        {"--perceptual-weight", "perceptual_weight", LT_OPT_REAL, 0, 1e6, 0, NULL},
        {"--gan-loss", "gan_loss", LT_OPT_STR, 0, 0, 0, "hinge|non_saturating"}};
    int r;
    const char *s;
    if (lt_arg_flag(argv, *i, "--no-attn")) {
        json_object_set_new(mc, "attn", json_false());
        return 1;
    }
    if ((r = lt_arg_str(cmd, argc, argv, i, "--perceptual", &s))) {
        char abs[PATH_MAX], cfg[PATH_MAX + 16];
        struct stat sb;
        if (r > 0) snprintf(cfg, sizeof cfg, "%s/config.json", s);
        if (r > 0 && (!realpath(s, abs) || stat(cfg, &sb)))
            return lt_cli_usage(cmd, "--perceptual %s: no run directory there (expected RUN/config.json of a simclr or mae run)", s), -1;
        if (r > 0) json_object_set_new(mc, "perceptual", json_string(abs));
        return r;
    }
    if ((r = lt_arg_str(cmd, argc, argv, i, "--group", &s))) return r > 0 ? lti_group(cmd, s, groups) : r;
    return lt_cli_opts(cmd, argc, argv, i, opts, sizeof opts / sizeof opts[0], mc);
}
