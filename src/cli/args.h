/* Small strict option parsing shared by the commands: "--name VALUE" or
 * "--name=VALUE"; numbers must parse completely. Each returns 1 when argv[*i]
 * is the option (advancing *i past its value), 0 when it is not, and -1 after
 * printing a usage error (the caller returns 2). */
#ifndef LT_CLI_ARGS_H
#define LT_CLI_ARGS_H

#include <stdint.h>

int lt_arg_str(const char *cmd, int argc, char **argv, int *i, const char *name, const char **out);
int lt_arg_i64(const char *cmd, int argc, char **argv, int *i, const char *name, int64_t lo, int64_t hi, int64_t *out);
int lt_arg_f64(const char *cmd, int argc, char **argv, int *i, const char *name, double *out);
/* A flag without a value. */
int lt_arg_flag(char **argv, int i, const char *name);

#endif
