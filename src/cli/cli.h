/* The CLI: one function per command, registered in main.c. Only the CLI prints
 * and chooses exit codes (0 ok, 1 runtime failure, 2 bad input or usage). */
#ifndef LT_CLI_H
#define LT_CLI_H

#include "core/status.h"

typedef int (*lt_cmd_fn)(int argc, char **argv); /* argv[0] is the command name */

typedef struct lt_cmd {
    const char *name;
    const char *summary;
    lt_cmd_fn run;
} lt_cmd;

/* Prints "latent: <message>" to stderr and returns the exit code for s. */
int lt_cli_error(lt_status s);
/* Prints "latent <cmd>: usage error: ..." and returns 2. */
int lt_cli_usage(const char *cmd, const char *fmt, ...) LT_PRINTF(2, 3);
/* --checkpoint NAME: 0 for best, last or epoch-NNN (a periodic checkpoint, see
 * train/trainer.h); otherwise prints the usage error and returns 2. */
int lt_cli_checkpoint_name(const char *cmd, const char *which);

int lt_cmd_version(int argc, char **argv);
int lt_cmd_gradcheck(int argc, char **argv);
int lt_cmd_train(int argc, char **argv);
int lt_cmd_eval(int argc, char **argv);
int lt_cmd_sample(int argc, char **argv);
int lt_cmd_reconstruct(int argc, char **argv);   /* cmd_latent.c */
int lt_cmd_interpolate(int argc, char **argv);   /* cmd_latent.c */
int lt_cmd_estimators(int argc, char **argv);
int lt_cmd_features(int argc, char **argv);
int lt_cmd_tfrecord(int argc, char **argv);
int lt_cmd_report(int argc, char **argv);
int lt_cmd_encode(int argc, char **argv);        /* cmd_codes.c */
int lt_cmd_decode(int argc, char **argv);        /* cmd_codes.c */
int lt_cmd_probe(int argc, char **argv);
int lt_cmd_fd(int argc, char **argv);
int lt_cmd_compare(int argc, char **argv);

#endif
