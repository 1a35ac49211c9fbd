/* Decoding JPEG (libjpeg-turbo) and PNG (libpng) files into planar bytes.
 *
 * Pixels match PIL's Image.open(f) in mode "L" or "RGB" (and TensorFlow's
 * decode_jpeg / decode_png with their defaults): the JPEG decoder runs with
 * libjpeg's defaults, which both use (islow integer DCT, fancy upsampling).
 *   JPEG  1 component -> 1 channel (grey); 3 components (YCbCr or RGB) -> 3 (RGB);
 *         CMYK/YCCK is refused. Every libjpeg warning (e.g. "Premature end of
 *         JPEG file", corrupt data) is an error: a truncated file never decodes to
 *         a half-grey image.
 *   PNG   grey (any depth, with or without alpha) -> 1 channel; palette, RGB, RGBA
 *         -> 3. Alpha and tRNS are dropped (as PIL's convert("RGB") does), 16-bit
 *         samples keep their high byte, 1/2/4-bit grey is scaled to 0..255.
 *         libpng's warnings (ancillary chunks it drops) do not stop decoding; its
 *         errors (CRC of a critical chunk, bad zlib data, missing data) do.
 * The format is recognised by the file's first bytes, not its name.
 *
 * The library's errors never print and never exit: libjpeg's error_exit and
 * libpng's error callback longjmp back into the decoder. */
#ifndef LT_IMAGE_H
#define LT_IMAGE_H

#include <stdint.h>

#include "core/status.h"

typedef enum lt_image_format { LT_IMAGE_UNKNOWN = 0, LT_IMAGE_JPEG, LT_IMAGE_PNG } lt_image_format;

typedef struct lt_image {
    uint8_t *data;      /* (c, h, w) planar bytes; owned, lt_free'd by lt_image_free */
    int64_t c, h, w;
} lt_image;

/* JPEG (FF D8 FF), PNG (89 'PNG' 0D 0A 1A 0A) or unknown, from the first bytes. */
lt_image_format lt_image_sniff(const uint8_t *p, int64_t len);
/* "JPEG", "PNG", "unknown". */
const char *lt_image_format_name(lt_image_format f);

/* Decodes len bytes; errors are LT_ERR_FORMAT and begin with `name` (a file or a
 * record), e.g. "x.jpg: corrupt JPEG: Premature end of JPEG file". */
lt_status lt_image_decode(const uint8_t *p, int64_t len, const char *name, lt_image *out);
void lt_image_free(lt_image *im);

/* The whole file into *data (lt_malloc'ed, *len bytes). A missing file is
 * LT_ERR_ARG, a read error LT_ERR_IO. */
lt_status lt_file_read_all(const char *path, uint8_t **data, int64_t *len);

#endif
