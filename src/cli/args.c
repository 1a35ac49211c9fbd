/* Option parsing helpers (see args.h). */
#include "cli/args.h"

#include <errno.h>
#include <math.h>
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
