/* Small strict option parsing shared by the commands: "--name VALUE" or
 * "--name=VALUE"; numbers must parse completely. Each returns 1 when argv[*i]
 * is the option (advancing *i past its value), 0 when it is not, and -1 after
 * printing a usage error (the caller returns 2). */
#ifndef LT_CLI_ARGS_H
#define LT_CLI_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

int lt_arg_str(const char *cmd, int argc, char **argv, int *i, const char *name, const char **out);
int lt_arg_i64(const char *cmd, int argc, char **argv, int *i, const char *name, int64_t lo, int64_t hi, int64_t *out);
int lt_arg_f64(const char *cmd, int argc, char **argv, int *i, const char *name, double *out);
/* A flag without a value. */
int lt_arg_flag(char **argv, int i, const char *name);

/* One model option of `latent train`: "FLAG VALUE" sets model_config[key]. */
typedef enum { LT_OPT_INT, LT_OPT_REAL, LT_OPT_STR } lt_opt_kind;
enum { LT_OPT_OPEN_LO = 1, LT_OPT_OPEN_HI = 2 }; /* lt_cli_opt.open: REAL bounds excluded */
typedef struct lt_cli_opt {
    const char *flag, *key;
    lt_opt_kind kind;
    double lo, hi;        /* INT, REAL: the accepted range (INT: within int64) */
    int open;             /* REAL: LT_OPT_OPEN_* bits */
    const char *choices;  /* STR, and optionally INT: the accepted values, "a|b|c"; NULL = any */
} lt_cli_opt;
/* argv[*i] against a table of n options: as the lt_arg_* above (1, 0 or -1), the value
 * checked and stored into mc on 1. */
int lt_cli_opts(const char *cmd, int argc, char **argv, int *i, const lt_cli_opt *t, size_t n, json_t *mc);

#endif
