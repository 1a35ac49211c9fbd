/* Text drawn into float images (the plots latent writes) with stb_easy_font's bitmap
 * font: ASCII, about 6 px a character and 12 px a line at scale 1, each font pixel a
 * scale × scale block. Drawing allocates nothing and clips at the image's edges;
 * characters outside ASCII 32..126 take a blank cell's width. */
#ifndef LT_TEXT_H
#define LT_TEXT_H

#include <stdint.h>

/* The drawn width and height of s in image pixels (0 for ""). */
int64_t lt_text_width(const char *s, int scale);
int64_t lt_text_height(int scale);

/* Draws s with its top-left corner at (x, y) into img (c, H, W) in color (c). */
void lt_text_draw(float *img, int64_t c, int64_t H, int64_t W, int64_t x, int64_t y, int scale, const float *color,
                  const char *s);

#endif
