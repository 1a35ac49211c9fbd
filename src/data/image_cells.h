/* Images for sample metrics from a folder of PNG files (`latent fd --fake DIR`): each file is
 * one image of the expected size, or a grid of them as `latent sample` and io/png.h write it
 * (cells of h×w with a 1-pixel gap around and between them). */
#ifndef LT_IMAGE_CELLS_H
#define LT_IMAGE_CELLS_H

#include <stdint.h>

#include "core/status.h"

/* Reads DIR's *.png files in name order and cuts them into (c, h, w) images, values byte/255,
 * into *out ((*n, c·h·w), lt_malloc'ed), at most max images (0 = all). In a grid's last row,
 * cells that are all zero are padding (io/png.h fills a grid's missing cells with black) and
 * are skipped. LT_ERR_ARG for a missing folder or one without PNG files; LT_ERR_FORMAT,
 * naming the file, for a PNG whose channels differ from c or whose size is neither h×w nor a
 * grid of h×w cells. */
lt_status lt_image_cells_load(const char *dir, int64_t c, int64_t h, int64_t w, int64_t max, float **out, int64_t *n);

#endif
