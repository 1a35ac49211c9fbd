/* See image_cells.h. */
#include "data/image_cells.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "data/image.h"

static int lti_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* the PNG file names of dir, sorted, into *names (*k of them; lt_free each and the array) */
static lt_status lti_list_png(const char *dir, char ***names, int64_t *k) {
    *names = NULL;
    *k = 0;
    DIR *d = opendir(dir);
    if (!d) return lt_fail(LT_ERR_ARG, "%s: cannot open folder (%s)", dir, strerror(errno));
    int64_t cap = 0;
    lt_status st = LT_OK;
    for (struct dirent *e; !st && (e = readdir(d));) {
        const size_t L = strlen(e->d_name);
        if (L < 5 || strcmp(e->d_name + L - 4, ".png")) continue;
        if (*k == cap) {
            cap = cap ? 2 * cap : 16;
            char **nn = lt_malloc(sizeof(char *) * (size_t)cap);
            if (!nn) { st = lt_fail(LT_ERR_NOMEM, "file list of %s", dir); break; }
            if (*k) memcpy(nn, *names, sizeof(char *) * (size_t)*k);
            lt_free(*names);
            *names = nn;
        }
        char *s = lt_malloc(L + 1);
        if (!s) { st = lt_fail(LT_ERR_NOMEM, "file list of %s", dir); break; }
        memcpy(s, e->d_name, L + 1);
        (*names)[(*k)++] = s;
    }
    closedir(d);
    if (!st && *k == 0) st = lt_fail(LT_ERR_ARG, "%s: no .png files", dir);
    if (!st) qsort(*names, (size_t)*k, sizeof(char *), lti_cmp);
    return st;
}

lt_status lt_image_cells_load(const char *dir, int64_t c, int64_t h, int64_t w, int64_t max, float **out, int64_t *n) {
    *out = NULL;
    *n = 0;
    char **names;
    int64_t k, cap = 0;
    lt_status st = lti_list_png(dir, &names, &k);
    const int64_t D = c * h * w;
    for (int64_t f = 0; !st && f < k && (max <= 0 || *n < max); f++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, names[f]);
        uint8_t *bytes = NULL;
        int64_t len = 0;
        lt_image im = {0};
        if ((st = lt_file_read_all(path, &bytes, &len)) || (st = lt_image_decode(bytes, len, path, &im))) {
            lt_free(bytes);
            break;
        }
        lt_free(bytes);
        int64_t cols = 1, rows = 1, grid = 0;
        if (im.c != c) {
            st = lt_fail(LT_ERR_FORMAT, "%s: %lld channels, the encoder reads %lld", path, (long long)im.c, (long long)c);
        } else if (im.h == h && im.w == w) {
            grid = 0;
        } else if (im.w > w && im.h > h && (im.w - 1) % (w + 1) == 0 && (im.h - 1) % (h + 1) == 0) {
            grid = 1;
            cols = (im.w - 1) / (w + 1);
            rows = (im.h - 1) / (h + 1);
        } else {
            st = lt_fail(LT_ERR_FORMAT, "%s: %lldx%lld is neither a %lldx%lld image nor a grid of them with 1-pixel gaps",
                         path, (long long)im.w, (long long)im.h, (long long)w, (long long)h);
        }
        for (int64_t cell = 0; !st && cell < rows * cols && (max <= 0 || *n < max); cell++) {
            const int64_t oy = grid ? 1 + (cell / cols) * (h + 1) : 0, ox = grid ? 1 + (cell % cols) * (w + 1) : 0;
            if (*n == cap) {
                cap = cap ? 2 * cap : 256;
                float *nx = lt_malloc(sizeof(float) * (size_t)(cap * D));
                if (!nx) { st = lt_fail(LT_ERR_NOMEM, "%lld images from %s", (long long)cap, dir); break; }
                if (*n) memcpy(nx, *out, sizeof(float) * (size_t)(*n * D));
                lt_free(*out);
                *out = nx;
            }
            float *dst = *out + *n * D;
            int any = 0;
            for (int64_t ch = 0; ch < c; ch++)
                for (int64_t i = 0; i < h; i++)
                    for (int64_t j = 0; j < w; j++) {
                        const uint8_t b = im.data[(ch * im.h + oy + i) * im.w + ox + j];
                        any |= b;
                        dst[(ch * h + i) * w + j] = (float)b / 255.0f;
                    }
            if (grid && !any && cell / cols == rows - 1) continue; /* a padding cell of the last row */
            (*n)++;
        }
        lt_image_free(&im);
    }
    for (int64_t i = 0; i < k; i++) lt_free(names[i]);
    lt_free(names);
    if (st) {
        lt_free(*out);
        *out = NULL;
        *n = 0;
    }
    return st;
}
