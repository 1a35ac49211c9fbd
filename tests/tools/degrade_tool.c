/* degrade_tool SRC SPLIT N MODE LEVEL OUT.png: the first N images of a data source's split,
 * degraded, as one PNG grid (io/png.h) for `latent fd --fake DIR` in tests/test_probe_fd.sh.
 * MODE noise: Gaussian noise of standard deviation LEVEL added, clamped to [0, 1] (seed 1);
 * MODE blur: LEVEL passes of a 3x3 box blur (edges clamped). LEVEL 0 writes the images as they are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "io/png.h"

static void blur(float *x, float *t, int64_t c, int64_t h, int64_t w) {
    for (int64_t k = 0; k < c; k++)
        for (int64_t i = 0; i < h; i++)
            for (int64_t j = 0; j < w; j++) {
                double s = 0;
                for (int di = -1; di <= 1; di++)
                    for (int dj = -1; dj <= 1; dj++) {
                        int64_t a = i + di < 0 ? 0 : i + di >= h ? h - 1 : i + di;
                        int64_t b = j + dj < 0 ? 0 : j + dj >= w ? w - 1 : j + dj;
                        s += x[(k * h + a) * w + b];
                    }
                t[(k * h + i) * w + j] = (float)(s / 9);
            }
    memcpy(x, t, sizeof(float) * (size_t)(c * h * w));
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: degrade_tool SRC train|valid|test N noise|blur LEVEL OUT.png\n");
        return 2;
    }
    const int s = lt_split_parse(argv[2]);
    const int64_t n = atoll(argv[3]);
    const double level = atof(argv[5]);
    lt_dataset d;
    if (s < 0 || n < 1 || lt_dataset_open_source(argv[1], NULL, 0, &d)) {
        fprintf(stderr, "degrade_tool: %s\n", s < 0 || n < 1 ? "bad split or N" : lt_error_message());
        return 2;
    }
    if (d.split[s].n < n) {
        fprintf(stderr, "degrade_tool: the split has %lld images\n", (long long)d.split[s].n);
        return 2;
    }
    const int64_t D = d.dim;
    float *x = lt_malloc(sizeof(float) * (size_t)(n * D)), *t = lt_malloc(sizeof(float) * (size_t)D);
    int64_t *idx = lt_malloc(sizeof(int64_t) * (size_t)n);
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    lt_dataset_batch(&d, (lt_split_id)s, idx, n, LT_BINARIZE_NONE, 0, 0, x, NULL);
    lt_rng r;
    lt_rng_seed(&r, 1);
    for (int64_t i = 0; i < n; i++) {
        float *xi = x + i * D;
        if (!strcmp(argv[4], "noise")) {
            for (int64_t j = 0; j < D; j++) {
                float e;
                lt_rng_fill_normal(&r, &e, 1, 0, (float)level);
                const float v = xi[j] + e;
                xi[j] = v < 0 ? 0 : v > 1 ? 1 : v;
            }
        } else {
            for (int k = 0; k < (int)level; k++) blur(xi, t, d.channels, d.height, d.width);
        }
    }
    int code = lt_png_write_grid(argv[6], x, n, d.channels, d.height, d.width, 0) ? 1 : 0;
    if (code) fprintf(stderr, "degrade_tool: %s\n", lt_error_message());
    lt_free(x);
    lt_free(t);
    lt_free(idx);
    lt_dataset_free(&d);
    return code;
}
