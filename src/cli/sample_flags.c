/* See sample_flags.h. */
#include "cli/sample_flags.h"

#include <math.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "models/model.h"
#include "train/rundir.h"

int lt_cli_sample_flag(const char *cmd, int argc, char **argv, int *i, lt_cli_sampling *s) {
    int r;
    if ((r = lt_arg_i64(cmd, argc, argv, i, "--top-k", 0, 1 << 24, &s->top_k))) {
        s->given += r > 0;
        return r;
    }
    if ((r = lt_arg_f64(cmd, argc, argv, i, "--temperature", &s->temperature))) {
        if (r < 0) return r;
        if (!(s->temperature > 0) || !isfinite(s->temperature)) {
            lt_cli_usage(cmd, "--temperature %g: expected a positive number", s->temperature);
            return -1;
        }
        s->given++;
        return 1;
    }
    if ((r = lt_arg_f64(cmd, argc, argv, i, "--top-p", &s->top_p))) {
        if (r < 0) return r;
        if (!(s->top_p > 0 && s->top_p <= 1)) {
            lt_cli_usage(cmd, "--top-p %g: expected a probability in (0, 1]", s->top_p);
            return -1;
        }
        s->given++;
        return 1;
    }
    return 0;
}

int lt_cli_sample_vocab(const char *cmd, const lt_cli_sampling *s, int64_t vocab) {
    if (s->top_k > vocab)
        return lt_cli_usage(cmd, "--top-k %lld: the model has %lld codes", (long long)s->top_k, (long long)vocab);
    return 0;
}

int lt_cli_sample_run(const char *cmd, const char *run, const char *which, const lt_cli_sampling *s, int *tokens) {
    char path[4200], name[64] = "";
    struct stat sb;
    *tokens = 0;
    snprintf(path, sizeof path, "%s/checkpoints/%s.safetensors", run, which);
    if (stat(path, &sb) != 0) {
        if (!s->given) return 0;
        return lt_cli_usage(cmd, "--temperature, --top-k and --top-p apply to the samples of a prior over codes (gpt); "
                                 "%s is no run (no %s)", run, path);
    }
    json_t *cfg = NULL;
    lt_status st = lt_checkpoint_peek(path, name, sizeof name, &cfg);
    if (st) return lt_cli_error(st);
    const lt_model_vtable *vt = lt_model_find(name);
    const json_t *v = json_object_get(cfg, "vocab");
    const int64_t vocab = json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
    json_decref(cfg);
    *tokens = vt && vt->tokens;
    if (!*tokens && s->given)
        return lt_cli_usage(cmd, "--temperature, --top-k and --top-p apply to the samples of a prior over codes (gpt), "
                                 "not to run %s of model '%s'", run, name);
    return *tokens && vocab > 0 ? lt_cli_sample_vocab(cmd, s, vocab) : 0;
}

lt_sample_opts lt_cli_sample_opts(const lt_cli_sampling *s) {
    lt_sample_opts o = {(float)s->temperature, s->top_k, (float)s->top_p};
    return o;
}

void lt_cli_sample_text(const lt_cli_sampling *s, char *buf, size_t cap) {
    char k[32] = "all";
    if (s->top_k > 0) snprintf(k, sizeof k, "%lld", (long long)s->top_k);
    snprintf(buf, cap, "temperature %g, top-k %s, top-p %g", s->temperature, k, s->top_p);
}

json_t *lt_cli_sample_json(const lt_cli_sampling *s) {
    return json_pack("{s:f, s:I, s:f}", "temperature", s->temperature, "top_k", (json_int_t)s->top_k, "top_p",
                     s->top_p);
}
