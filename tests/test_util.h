/* Helpers shared by the cmocka tests (header only: every tests/test_*.c is its own
 * executable, so these are static inline and need no library target). Include after
 * <cmocka.h> and, for test_idx_open, <zlib.h>. */
#ifndef LT_TEST_UTIL_H
#define LT_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* A fresh directory /tmp/lt_<stem>_XXXXXX in dir[cap]: 0, or -1 (a failed group setup). */
static inline int test_tmpdir(char *dir, size_t cap, const char *stem) {
    snprintf(dir, cap, "/tmp/lt_%s_XXXXXX", stem);
    return mkdtemp(dir) ? 0 : -1;
}

/* Removes dir and everything under it: 0, or -1. */
static inline int test_rmtree(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* "dir/name" in one of 4 rotating buffers, so a call may hold a few paths at once. */
static inline const char *test_path(const char *dir, const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* The largest |G_ij - gain2 δ_ij| over the Gram matrix of w's rows (r <= k) or columns
 * (r > k), w being (r, k) row-major: ~0 for an orthogonal matrix of gain² gain2. */
static inline double test_orthonormal_error(const float *w, int64_t r, int64_t k, double gain2) {
    const int64_t n = r < k ? r : k, len = r < k ? k : r;
    double worst = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) {
            double d = 0;
            for (int64_t u = 0; u < len; u++)
                d += r < k ? (double)w[i * k + u] * w[j * k + u] : (double)w[u * k + i] * w[u * k + j];
            d = d - (i == j ? gain2 : 0.0);
            if (d < 0) d = -d;
            if (d > worst) worst = d;
        }
    return worst;
}

#ifdef ZLIB_H
/* Opens path as a gzip IDX file of unsigned bytes and writes its header: n images h x w
 * (idx3), or with h == 0 n labels (idx1). The caller writes the n * h * w (or n) bytes
 * and gzcloses it. */
static inline gzFile test_idx_open(const char *path, int64_t n, int h, int w) {
    gzFile f = gzopen(path, "wb1");
    assert_non_null(f);
    unsigned char head[16] = {0, 0, 8, h ? 3 : 1, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
                              (unsigned char)(n >> 8), (unsigned char)n, 0, 0, 0, (unsigned char)h, 0, 0, 0,
                              (unsigned char)w};
    gzwrite(f, head, h ? 16 : 8);
    return f;
}
#endif

#endif
