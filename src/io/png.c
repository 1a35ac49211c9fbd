/* Image grids through stb_image_write; the one STB_IMAGE_WRITE_IMPLEMENTATION. */
#include "io/png.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

#define STBIW_MALLOC(sz) lt_malloc(sz)
#define STBIW_REALLOC(p, newsz) lt_realloc(p, newsz)
#define STBIW_FREE(p) lt_free(p)
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#endif
#include <stb_image_write.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

lt_status lt_png_write_grid(const char *path, const float *images, int64_t n, int64_t c, int64_t h, int64_t w,
                            int64_t cols) {
    return lt_png_write_grid_range(path, images, n, c, h, w, cols, 0.0f, 1.0f);
}

lt_status lt_png_write_grid_range(const char *path, const float *images, int64_t n, int64_t c, int64_t h, int64_t w,
                                  int64_t cols, float lo, float hi) {
    if (!(hi > lo)) return lt_fail(LT_ERR_ARG, "%s: value range [%g, %g] is empty", path, (double)lo, (double)hi);
    if (n < 1 || (c != 1 && c != 3) || h < 1 || w < 1)
        return lt_fail(LT_ERR_ARG, "%s: cannot write a grid of %lld images of %lldx%lldx%lld", path, (long long)n,
                       (long long)c, (long long)h, (long long)w);
    if (cols <= 0) cols = (int64_t)ceil(sqrt((double)n));
    if (cols > n) cols = n;
    int64_t rows = (n + cols - 1) / cols;
    int64_t gw = cols * (w + 1) + 1, gh = rows * (h + 1) + 1;
    if (gw > 32768 || gh > 32768)
        return lt_fail(LT_ERR_ARG, "%s: a %lldx%lld grid is too large for a PNG", path, (long long)gw, (long long)gh);
    unsigned char *pix = lt_calloc((size_t)(gw * gh * c), 1); /* (gh, gw, c), gaps black */
    if (!pix) return lt_fail(LT_ERR_NOMEM, "%s: cannot allocate a %lldx%lld image", path, (long long)gw, (long long)gh);
    for (int64_t k = 0; k < n; k++) {
        int64_t oy = 1 + (k / cols) * (h + 1), ox = 1 + (k % cols) * (w + 1);
        const float *img = images + k * c * h * w; /* (c, h, w) */
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t i = 0; i < h; i++)
                for (int64_t j = 0; j < w; j++) {
                    float v = (img[(ch * h + i) * w + j] - lo) / (hi - lo); /* exact for [0, 1] */
                    v = v != v ? 0.0f : v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v; /* NaN shows as black */
                    pix[((oy + i) * gw + ox + j) * c + ch] = (unsigned char)lrintf(v * 255.0f);
                }
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    errno = 0;
    int ok = stbi_write_png(tmp, (int)gw, (int)gh, (int)c, pix, (int)(gw * c));
    lt_free(pix);
    if (!ok) {
        int e = errno;
        remove(tmp);
        return lt_fail(LT_ERR_IO, "%s: cannot write PNG: %s", path, e ? strerror(e) : "stb_image_write failed");
    }
    if (rename(tmp, path)) {
        int e = errno;
        remove(tmp);
        return lt_fail(LT_ERR_IO, "%s: cannot rename %s into place: %s", path, tmp, strerror(e));
    }
    return LT_OK;
}
