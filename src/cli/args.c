/* Option parsing helpers (see args.h). */
#include "cli/args.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int lt_arg_str(const char *cmd, int argc, char **argv, int *i, const char *name, const char **out) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n)) return 0;
    if (a[n] == '=') {
        *out = a + n + 1;
        return 1;
    }
    if (a[n]) return 0;
    if (*i + 1 >= argc) {
        lt_cli_usage(cmd, "option %s needs a value", name);
        return -1;
    }
    *out = argv[++*i];
    return 1;
}

int lt_arg_i64(const char *cmd, int argc, char **argv, int *i, const char *name, int64_t lo, int64_t hi, int64_t *out) {
    const char *s;
    int r = lt_arg_str(cmd, argc, argv, i, name, &s);
    if (r <= 0) return r;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        lt_cli_usage(cmd, "%s %s: expected an integer in %lld..%lld", name, s, (long long)lo, (long long)hi);
        return -1;
    }
    *out = v;
    return 1;
}

int lt_arg_f64(const char *cmd, int argc, char **argv, int *i, const char *name, double *out) {
    const char *s;
    int r = lt_arg_str(cmd, argc, argv, i, name, &s);
    if (r <= 0) return r;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) {
        lt_cli_usage(cmd, "%s %s: expected a number", name, s);
        return -1;
    }
    *out = v;
    return 1;
}

int lt_arg_flag(char **argv, int i, const char *name) { return !strcmp(argv[i], name); }

/* Whether v is one of the '|'-separated choices. */
static int lti_choice(const char *choices, const char *v) {
    const size_t n = strlen(v);
    for (const char *p = choices; p;) {
        const char *e = strchr(p, '|');
        const size_t k = e ? (size_t)(e - p) : strlen(p);
        if (k == n && !strncmp(p, v, n)) return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

int lt_cli_opts(const char *cmd, int argc, char **argv, int *i, const lt_cli_opt *t, size_t n, json_t *mc) {
    for (size_t k = 0; k < n; k++) {
        const lt_cli_opt *o = &t[k];
        int r;
        if (o->kind == LT_OPT_INT) {
            int64_t v;
            char buf[32];
            if ((r = lt_arg_i64(cmd, argc, argv, i, o->flag, (int64_t)o->lo, (int64_t)o->hi, &v)) <= 0) {
                if (r < 0) return r;
                continue;
            }
            snprintf(buf, sizeof buf, "%lld", (long long)v);
            if (o->choices && !lti_choice(o->choices, buf))
                return lt_cli_usage(cmd, "%s %s: expected one of %s", o->flag, buf, o->choices), -1;
            json_object_set_new(mc, o->key, json_integer(v));
            return 1;
        }
        if (o->kind == LT_OPT_REAL) {
            double f;
            if ((r = lt_arg_f64(cmd, argc, argv, i, o->flag, &f)) <= 0) {
                if (r < 0) return r;
                continue;
            }
            const int lo_ok = o->open & LT_OPT_OPEN_LO ? f > o->lo : f >= o->lo;
            const int hi_ok = o->open & LT_OPT_OPEN_HI ? f < o->hi : f <= o->hi;
            if (!lo_ok || !hi_ok)
                return lt_cli_usage(cmd, "%s %g: expected a number in %c%g, %g%c", o->flag, f,
                                    o->open & LT_OPT_OPEN_LO ? '(' : '[', o->lo, o->hi,
                                    o->open & LT_OPT_OPEN_HI ? ')' : ']'), -1;
            json_object_set_new(mc, o->key, json_real(f));
            return 1;
        }
        const char *s;
        if ((r = lt_arg_str(cmd, argc, argv, i, o->flag, &s)) <= 0) {
            if (r < 0) return r;
            continue;
        }
        if (o->choices && !lti_choice(o->choices, s))
            return lt_cli_usage(cmd, "%s %s: expected one of %s", o->flag, s, o->choices), -1;
        json_object_set_new(mc, o->key, json_string(s));
        return 1;
    }
    return 0;
}
