/* Bitmap text through stb_easy_font, which turns a string into axis-aligned quads:
 * each quad is filled here as a rectangle of pixels. Strings are drawn a chunk at a
 * time so that the quad buffer stays on the stack. */
#include "io/text.h"

#include <string.h>

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wconversion"
#endif
#include <stb_easy_font.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

enum { LTI_CHUNK = 32, LTI_QUADS_PER_CHAR = 24 }; /* the font's glyphs have at most a dozen segments */

/* stb_easy_font takes char *: a chunk is copied, control characters made blanks. */
static int64_t lti_chunk(const char *s, int64_t n, char *buf) {
    int64_t k = 0;
    for (; k < n && k < LTI_CHUNK && s[k]; k++) buf[k] = (s[k] >= 32 && s[k] < 127) ? s[k] : ' ';
    buf[k] = 0;
    return k;
}

int64_t lt_text_width(const char *s, int scale) {
    char buf[LTI_CHUNK + 1];
    int64_t w = 0, n = (int64_t)strlen(s);
    for (int64_t at = 0; at < n;) {
        int64_t k = lti_chunk(s + at, n - at, buf);
        w += stb_easy_font_width(buf);
        at += k;
    }
    return w * scale;
}

int64_t lt_text_height(int scale) { return 12 * (int64_t)scale; }

void lt_text_draw(float *img, int64_t c, int64_t H, int64_t W, int64_t x, int64_t y, int scale, const float *color,
                  const char *s) {
    char buf[LTI_CHUNK + 1];
    struct { float x, y, z; unsigned char rgba[4]; } v[LTI_CHUNK * LTI_QUADS_PER_CHAR * 4];
    int64_t n = (int64_t)strlen(s), px = 0; /* px: font pixels drawn so far */
    for (int64_t at = 0; at < n;) {
        int64_t k = lti_chunk(s + at, n - at, buf);
        int quads = stb_easy_font_print((float)px, 0.0f, buf, NULL, v, (int)sizeof v);
        for (int q = 0; q < quads; q++) {
            const float *a = &v[4 * q].x, *b = &v[4 * q + 2].x; /* opposite corners */
            int64_t x0 = x + (int64_t)(a[0] * (float)scale), x1 = x + (int64_t)(b[0] * (float)scale);
            int64_t y0 = y + (int64_t)(a[1] * (float)scale), y1 = y + (int64_t)(b[1] * (float)scale);
            if (x0 < 0) x0 = 0;
            if (y0 < 0) y0 = 0;
            if (x1 > W) x1 = W;
            if (y1 > H) y1 = H;
            for (int64_t yy = y0; yy < y1; yy++)
                for (int64_t xx = x0; xx < x1; xx++)
                    for (int64_t ch = 0; ch < c; ch++) img[(ch * H + yy) * W + xx] = color[ch];
        }
        px += stb_easy_font_width(buf);
        at += k;
    }
}
