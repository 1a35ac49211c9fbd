/* --temperature T, --top-k K, --top-p P: how a token model (gpt) draws its codes
 * (dist/sampling.h), one parser and one record of it for latent sample, fd and compare, so
 * that every figure made from samples says how they were drawn. */
#ifndef LT_CLI_SAMPLE_FLAGS_H
#define LT_CLI_SAMPLE_FLAGS_H

#include <stdint.h>

#include <jansson.h>

#include "dist/sampling.h"

/* The flags as given (doubles, so that the record says 0.9 and not 0.899999976). */
typedef struct lt_cli_sampling {
    double temperature; /* > 0, default 1 */
    int64_t top_k;      /* >= 0, 0 = all */
    double top_p;       /* in (0, 1], 1 = all */
    int given;          /* how many of the three flags were given */
} lt_cli_sampling;

#define LT_CLI_SAMPLING_DEFAULT {1.0, 0, 1.0, 0}

/* argv[*i] as one of the three flags, checked: as the lt_arg_* of cli/args.h (1 consumed, 0
 * not one of them, -1 after printing the usage error; the caller returns 2). */
int lt_cli_sample_flag(const char *cmd, int argc, char **argv, int *i, lt_cli_sampling *s);

/* 0 when s fits a token model of vocab codes; else prints the usage error and returns 2. */
int lt_cli_sample_vocab(const char *cmd, const lt_cli_sampling *s, int64_t vocab);

/* Given flags against run RUN's `which` checkpoint (read without building the model): 0 when
 * RUN is a token model whose vocabulary fits s, and *tokens = 1; *tokens = 0 for a run of
 * another model or a path that is no run (then 0 when no flag was given, else the usage
 * error, exit 2, naming what the flags apply to); 1 after printing a runtime error. */
int lt_cli_sample_run(const char *cmd, const char *run, const char *which, const lt_cli_sampling *s, int *tokens);

lt_sample_opts lt_cli_sample_opts(const lt_cli_sampling *s);
/* "temperature 0.9, top-k all, top-p 1" into buf. */
void lt_cli_sample_text(const lt_cli_sampling *s, char *buf, size_t cap);
/* {"temperature": T, "top_k": K (0 = all), "top_p": P} (new reference). */
json_t *lt_cli_sample_json(const lt_cli_sampling *s);

#endif
