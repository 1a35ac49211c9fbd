/* PNG image grids (stb_image_write). The file is written to PATH.tmp and
 * renamed over PATH, so a reader never sees half an image. */
#ifndef LT_PNG_H
#define LT_PNG_H

#include <stdint.h>

#include "core/status.h"

/* Writes n images (n, c, h, w) with values in [0,1] (clamped), c = 1 (grey) or 3
 * (RGB), as a grid of `cols` columns (0 = about square) with a 1-pixel gap. */
lt_status lt_png_write_grid(const char *path, const float *images, int64_t n, int64_t c, int64_t h, int64_t w,
                            int64_t cols);
/* The same for values in [lo, hi] (mapped to [0, 1] first: a model of range
 * [-1, 1] passes lo = -1); lt_png_write_grid is lo = 0, hi = 1. */
lt_status lt_png_write_grid_range(const char *path, const float *images, int64_t n, int64_t c, int64_t h, int64_t w,
                                  int64_t cols, float lo, float hi);

#endif
