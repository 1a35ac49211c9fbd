#include "core/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char lti_msg[1024];

lt_status lt_fail(lt_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(lti_msg, sizeof lti_msg, fmt, ap);
    va_end(ap);
    return code;
}

lt_status lt_fail_context(lt_status code, const char *fmt, ...) {
    char prefix[512], old[sizeof lti_msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, lti_msg, sizeof old);
    snprintf(lti_msg, sizeof lti_msg, "%s%s", prefix, old);
    return code;
}

const char *lt_error_message(void) { return lti_msg[0] ? lti_msg : "no error"; }
void lt_error_clear(void) { lti_msg[0] = 0; }

const char *lt_status_name(lt_status s) {
    static const char *names[LT_STATUS_COUNT] = {"ok", "out of memory", "i/o error", "bad format",
        "bad argument", "shape mismatch", "numeric error", "interrupted", "internal error"};
    return (s >= 0 && s < LT_STATUS_COUNT) ? names[s] : "unknown status";
}

int lt_status_exit_code(lt_status s) {
    switch (s) {
    case LT_OK: return 0;
    case LT_ERR_FORMAT: case LT_ERR_ARG: case LT_ERR_SHAPE: return 2;
    default: return 1;
    }
}
