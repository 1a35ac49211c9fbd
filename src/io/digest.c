/* See digest.h. */
#include "io/digest.h"

#include <errno.h>
#include <nettle/sha2.h>
#include <stdio.h>
#include <string.h>

lt_status lt_sha256_file(const char *path, char hex[65]) {
    hex[0] = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return lt_fail(errno == ENOENT ? LT_ERR_ARG : LT_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
    struct sha256_ctx c;
    sha256_init(&c);
    unsigned char buf[1 << 16];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0) sha256_update(&c, k, buf);
    const int bad = ferror(f);
    fclose(f);
    if (bad) return lt_fail(LT_ERR_IO, "%s: read error while hashing", path);
    unsigned char d[SHA256_DIGEST_SIZE];
    sha256_digest(&c, sizeof d, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return LT_OK;
}
