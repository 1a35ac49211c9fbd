/* JPEG and PNG decoding (see image.h). Both libraries report errors by calling
 * back into us; the callbacks format the message and longjmp to the setjmp in
 * the decoder, which frees what it holds. Whatever a decoder assigns after its
 * setjmp and still needs after a longjmp is volatile-qualified. */
#include "data/image.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "core/alloc.h"

lt_image_format lt_image_sniff(const uint8_t *p, int64_t len) {
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
    if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff) return LT_IMAGE_JPEG;
    if (len >= 8 && !memcmp(p, png_magic, 8)) return LT_IMAGE_PNG;
    return LT_IMAGE_UNKNOWN;
}

const char *lt_image_format_name(lt_image_format f) {
    return f == LT_IMAGE_JPEG ? "JPEG" : f == LT_IMAGE_PNG ? "PNG" : "unknown";
}

void lt_image_free(lt_image *im) {
    if (!im) return;
    lt_free(im->data);
    memset(im, 0, sizeof *im);
}

/* Interleaved rows (h, w, c) into the image's planes (c, h, w). */
static void lti_planar(const uint8_t *hwc, lt_image *im) {
    const int64_t c = im->c, hw = im->h * im->w;
    if (c == 1) {
        memcpy(im->data, hwc, (size_t)hw);
        return;
    }
    for (int64_t i = 0; i < hw; i++)
        for (int64_t k = 0; k < c; k++) im->data[k * hw + i] = hwc[i * c + k];
}

static lt_status lti_alloc_image(lt_image *im, int64_t c, int64_t h, int64_t w, const char *name) {
    im->c = c;
    im->h = h;
    im->w = w;
    im->data = lt_malloc((size_t)(c * h * w));
    if (!im->data)
        return lt_fail(LT_ERR_NOMEM, "%s: cannot allocate a %lldx%lld image", name, (long long)w, (long long)h);
    return LT_OK;
}

/* ------------------------------------------------------------------ JPEG */

typedef struct lti_jerr {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
} lti_jerr;

static void lti_jpeg_exit(j_common_ptr c) {
    lti_jerr *e = (lti_jerr *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jb, 1);
}

/* Level -1 is a warning (corrupt or truncated data): an error here. Trace
 * messages (level >= 0) are dropped. */
static void lti_jpeg_emit(j_common_ptr c, int level) {
    if (level < 0) lti_jpeg_exit(c);
}

static lt_status lti_decode_jpeg(const uint8_t *p, int64_t len, const char *name, lt_image *out) {
    struct jpeg_decompress_struct cinfo;
    lti_jerr err;
    uint8_t *volatile hwc = NULL;
    volatile lt_status st = LT_OK;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = lti_jpeg_exit;
    err.pub.emit_message = lti_jpeg_emit;
    err.msg[0] = 0;
    if (setjmp(err.jb)) {
        jpeg_destroy_decompress(&cinfo);
        lt_free(hwc);
        lt_image_free(out);
        return lt_fail(LT_ERR_FORMAT, "%s: corrupt JPEG: %s", name, err.msg);
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, p, (unsigned long)len);
    jpeg_read_header(&cinfo, TRUE);
    volatile int c = 0;
    if (cinfo.num_components == 1) {
        cinfo.out_color_space = JCS_GRAYSCALE;
        c = 1;
    } else if (cinfo.num_components == 3) {
        cinfo.out_color_space = JCS_RGB;
        c = 3;
    } else {
        st = lt_fail(LT_ERR_FORMAT, "%s: expected a JPEG with 1 (grey) or 3 (colour) components, found %d (CMYK?)", name,
                     cinfo.num_components);
    }
    /* libjpeg's defaults, as PIL and TensorFlow decode: JDCT_ISLOW, fancy upsampling. */
    if (!st) {
        jpeg_start_decompress(&cinfo);
        const int64_t h = cinfo.output_height, w = cinfo.output_width, stride = w * c;
        hwc = lt_malloc((size_t)(h * stride));
        st = hwc ? lti_alloc_image(out, c, h, w, name) : lt_fail(LT_ERR_NOMEM, "%s: out of memory", name);
        while (!st && cinfo.output_scanline < cinfo.output_height) {
            JSAMPROW row = hwc + (int64_t)cinfo.output_scanline * stride;
            jpeg_read_scanlines(&cinfo, &row, 1);
        }
        if (!st) {
            jpeg_finish_decompress(&cinfo);
            lti_planar(hwc, out);
        }
    }
    jpeg_destroy_decompress(&cinfo);
    lt_free(hwc);
    if (st) lt_image_free(out);
    return st;
}

/* ------------------------------------------------------------------ PNG */

typedef struct lti_png_src {
    const uint8_t *p;
    size_t len, pos;
    jmp_buf jb;
    char msg[256];
} lti_png_src;

static void lti_png_error(png_structp png, png_const_charp msg) {
    lti_png_src *s = png_get_error_ptr(png);
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    longjmp(s->jb, 1);
}

static void lti_png_warning(png_structp png, png_const_charp msg) {
    (void)png; /* ancillary chunks dropped; the pixels are unaffected */
    (void)msg;
}

static void lti_png_read(png_structp png, png_bytep dst, size_t n) {
    lti_png_src *s = png_get_io_ptr(png);
    if (n > s->len - s->pos) png_error(png, "unexpected end of file (truncated)");
    memcpy(dst, s->p + s->pos, n);
    s->pos += n;
}

static lt_status lti_decode_png(const uint8_t *p, int64_t len, const char *name, lt_image *out) {
    lti_png_src src;
    memset(&src, 0, sizeof src);
    src.p = p;
    src.len = (size_t)len;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, lti_png_error, lti_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *volatile hwc = NULL;
    png_bytep *volatile rows = NULL;
    if (!info) {
        png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
        return lt_fail(LT_ERR_NOMEM, "%s: cannot create a PNG reader", name);
    }
    if (setjmp(src.jb)) {
        png_destroy_read_struct(&png, &info, NULL);
        lt_free(hwc);
        lt_free(rows);
        lt_image_free(out);
        return lt_fail(LT_ERR_FORMAT, "%s: corrupt PNG: %s", name, src.msg);
    }
    png_set_read_fn(png, &src, lti_png_read);
    png_read_info(png, info);
    const int type = png_get_color_type(png, info);
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY) png_set_expand_gray_1_2_4_to_8(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    const int64_t h = png_get_image_height(png, info), w = png_get_image_width(png, info);
    const int c = png_get_channels(png, info);
    lt_status st = LT_OK;
    if ((c != 1 && c != 3) || png_get_bit_depth(png, info) != 8)
        st = lt_fail(LT_ERR_FORMAT, "%s: PNG colour type %d decodes to %d channels of %d bits, expected 1 or 3 of 8", name,
                     type, c, png_get_bit_depth(png, info));
    if (!st) {
        hwc = lt_malloc((size_t)(h * w * c));
        rows = lt_malloc((size_t)h * sizeof *rows);
        st = hwc && rows ? lti_alloc_image(out, c, h, w, name) : lt_fail(LT_ERR_NOMEM, "%s: out of memory", name);
    }
    if (!st) {
        for (int64_t i = 0; i < h; i++) rows[i] = hwc + i * w * c;
        png_read_image(png, rows);
        png_read_end(png, NULL);
        lti_planar(hwc, out);
    }
    png_destroy_read_struct(&png, &info, NULL);
    lt_free(hwc);
    lt_free(rows);
    if (st) lt_image_free(out);
    return st;
}

lt_status lt_image_decode(const uint8_t *p, int64_t len, const char *name, lt_image *out) {
    memset(out, 0, sizeof *out);
    switch (lt_image_sniff(p, len)) {
    case LT_IMAGE_JPEG: return lti_decode_jpeg(p, len, name, out);
    case LT_IMAGE_PNG: return lti_decode_png(p, len, name, out);
    default: break;
    }
    return lt_fail(LT_ERR_FORMAT, "%s: expected a JPEG (FF D8 FF) or PNG (89 50 4E 47) image, found %s", name,
                   len >= 4 ? "other bytes" : "fewer than 4 bytes");
}

lt_status lt_file_read_all(const char *path, uint8_t **data, int64_t *len) {
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return lt_fail(e == ENOENT ? LT_ERR_ARG : LT_ERR_IO, "%s: cannot open: %s", path, strerror(e));
    }
    long n = fseek(f, 0, SEEK_END) ? -1 : ftell(f);
    uint8_t *buf = n >= 0 ? lt_malloc((size_t)n + 1) : NULL;
    int ok = buf && fseek(f, 0, SEEK_SET) == 0 && fread(buf, 1, (size_t)n, f) == (size_t)n;
    int e = errno;
    fclose(f);
    if (!ok) {
        lt_free(buf);
        if (n >= 0 && !buf) return lt_fail(LT_ERR_NOMEM, "%s: cannot allocate %ld bytes", path, n);
        return lt_fail(LT_ERR_IO, "%s: cannot read: %s", path, e ? strerror(e) : "short read");
    }
    *data = buf;
    *len = n;
    return LT_OK;
}
