/* Status codes and the error message of the calling thread.
 * The library never prints and never exits: a failing function returns a
 * non-zero lt_status and leaves a one-line human-readable message (what, where,
 * expected vs found) that the CLI prints. The message buffer is thread-local
 * and owned by the library; copy it if you need it past the next failing call. */
#ifndef LT_STATUS_H
#define LT_STATUS_H

typedef enum lt_status {
    LT_OK = 0,
    LT_ERR_NOMEM,    /* an allocation failed */
    LT_ERR_IO,       /* open/read/write/rename failed (runtime) */
    LT_ERR_FORMAT,   /* a file or record is malformed (bad input) */
    LT_ERR_ARG,      /* a bad argument or configuration (bad input/usage) */
    LT_ERR_SHAPE,    /* tensor shapes do not fit the op (programmer or config) */
    LT_ERR_NUMERIC,  /* NaN/Inf where a finite value is required */
    LT_ERR_INTERRUPTED, /* stopped by a signal; state was saved */
    LT_ERR_INTERNAL,
    LT_STATUS_COUNT
} lt_status;

#if defined(__GNUC__)
#define LT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LT_PRINTF(a, b)
#endif

/* Sets the thread's message and returns code, so callers can `return lt_fail(...)`. */
lt_status lt_fail(lt_status code, const char *fmt, ...) LT_PRINTF(2, 3);
/* Prefixes the current message with more context ("loading X: " + old). Returns code. */
lt_status lt_fail_context(lt_status code, const char *fmt, ...) LT_PRINTF(2, 3);
const char *lt_error_message(void);
void lt_error_clear(void);
const char *lt_status_name(lt_status s);
/* 2 for bad input or usage, 1 for runtime failures, 0 for LT_OK (the CLI contract). */
int lt_status_exit_code(lt_status s);

#endif
