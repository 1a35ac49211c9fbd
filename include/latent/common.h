/* liblatent's public interface, part 1: status codes, errors, version, threads.
 *
 * Every function that can fail returns an int status: LATENT_OK (0) or one of the
 * LATENT_ERR_* codes, and leaves a one-line message (what, where, expected vs
 * found) that lt_last_error() returns. The library never prints and never exits. */
#ifndef LATENT_COMMON_H
#define LATENT_COMMON_H

#include <stdint.h>

#include "latent/version.h"

#if defined(__GNUC__)
#define LT_API __attribute__((visibility("default")))
#else
#define LT_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define LATENT_OK 0
#define LATENT_ERR_NOMEM 1       /* an allocation failed */
#define LATENT_ERR_IO 2          /* open/read/write/rename failed */
#define LATENT_ERR_FORMAT 3      /* a file or record is malformed (bad input) */
#define LATENT_ERR_ARG 4         /* a bad argument or option (bad input/usage) */
#define LATENT_ERR_SHAPE 5       /* sizes do not fit (e.g. data of another dimension than the model's) */
#define LATENT_ERR_NUMERIC 6     /* NaN/Inf where a finite value is required (a diverged training run) */
#define LATENT_ERR_INTERRUPTED 7 /* training stopped on request; its state was saved */
#define LATENT_ERR_INTERNAL 8

/* The calling thread's message of its last failure. Owned by the library, valid
 * until that thread's next failing call. */
LT_API const char *lt_last_error(void);
/* The library's version, e.g. "0.1.0" (LATENT_VERSION of the build, not of the header). */
LT_API const char *lt_version(void);
/* Threads for OpenBLAS and the OpenMP loops; n <= 0: LATENT_THREADS, else every core. */
LT_API void lt_set_threads(int n);

#ifdef __cplusplus
}
#endif

#endif
