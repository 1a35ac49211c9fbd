/* File digests: the SHA-256 (nettle) that names an encoder checkpoint beside every
 * FD_self / KID_self figure (docs/metrics.md). */
#ifndef LT_DIGEST_H
#define LT_DIGEST_H

#include "core/status.h"

/* SHA-256 of the file at path as 64 lowercase hex digits and a NUL into hex.
 * A missing file is LT_ERR_ARG, a read failure LT_ERR_IO; both name the file. */
lt_status lt_sha256_file(const char *path, char hex[65]);

#endif
