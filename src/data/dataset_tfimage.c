/* "tfrecord:PATTERN" without a feature spec: tf.Examples in the TF-Slim / TFDS
 * image convention, decoded once at load (see dataset.h, docs/data.md):
 *   image/encoded (or image)   bytes: one JPEG or PNG file (required)
 *   image/format               bytes: "jpeg"/"jpg"/"png", any case (optional;
 *                              must name what the bytes are)
 *   image/class/label or label int64: the class, 0..255 (optional; the split's
 *                              first record decides whether the split has labels)
 *   image/height, image/width, image/channels   int64 (optional; must match the
 *                              decoded image) */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "data/dataset_internal.h"
#include "data/example.h"
#include "data/image.h"
#include "data/tfrecord.h"

typedef struct lti_tfimg {
    lti_images acc;
    lt_example ex;
    int labels;        /* -1 undecided, 0, 1 */
    char name[4300];   /* "file F record R offset O" of the record at hand */
} lti_tfimg;

static const lt_ex_feature *lti_get(const lt_example *ex, const char *a, const char *b) {
    const lt_ex_feature *f = lt_example_get(ex, a);
    return f || !b ? f : lt_example_get(ex, b);
}

/* An optional int64 geometry feature must equal the decoded value. */
static lt_status lti_check_dim(const lt_example *ex, const char *key, int64_t found) {
    const lt_ex_feature *f = lt_example_get(ex, key);
    int64_t v = 0;
    if (!f) return LT_OK;
    if (f->kind != LT_EX_INT64 || f->count != 1 || (lt_ex_feature_int64s(f, &v, 1), v != found))
        return lt_fail(LT_ERR_FORMAT, "feature '%s' says %lld, the decoded image has %lld", key,
                       f->kind == LT_EX_INT64 && f->count == 1 ? (long long)v : -1LL, (long long)found);
    return LT_OK;
}

static lt_status lti_take(lti_tfimg *L, const lt_tfr_record *rec) {
    lt_status st = lt_example_parse(&L->ex, rec->data, rec->len);
    if (st) return st;
    const lt_ex_feature *enc = lti_get(&L->ex, "image/encoded", "image");
    if (!enc || enc->kind != LT_EX_BYTES || enc->count != 1)
        return lt_fail(LT_ERR_FORMAT, "expected one bytes value 'image/encoded' (or 'image') holding a JPEG or PNG (the "
                       "TF-Slim image convention), found %s; a record of another layout needs a feature spec (--features SPEC.json)",
                       enc ? lt_ex_kind_name(enc->kind) : "none");
    lt_ex_bytes img;
    lt_ex_feature_bytes(enc, &img, 1);
    const lt_image_format got = lt_image_sniff(img.data, img.len);
    const lt_ex_feature *fmt = lt_example_get(&L->ex, "image/format");
    if (fmt) {
        lt_ex_bytes v = {0};
        if (fmt->kind == LT_EX_BYTES && fmt->count == 1) lt_ex_feature_bytes(fmt, &v, 1);
        const int jpeg = v.len == 4 ? !strncasecmp((const char *)v.data, "jpeg", 4)
                                    : v.len == 3 && !strncasecmp((const char *)v.data, "jpg", 3);
        const int png = v.len == 3 && !strncasecmp((const char *)v.data, "png", 3);
        if (!(jpeg && got == LT_IMAGE_JPEG) && !(png && got == LT_IMAGE_PNG))
            return lt_fail(LT_ERR_FORMAT, "feature 'image/format' is '%.*s', the image/encoded bytes are %s", (int)v.len,
                           v.data ? (const char *)v.data : "", lt_image_format_name(got));
    }
    lt_image im;
    if ((st = lt_image_decode(img.data, img.len, "image/encoded", &im))) return st;
    st = lti_check_dim(&L->ex, "image/height", im.h);
    if (!st) st = lti_check_dim(&L->ex, "image/width", im.w);
    if (!st) st = lti_check_dim(&L->ex, "image/channels", im.c);
    if (!st) st = lti_images_add(&L->acc, &im, "image/encoded");
    lt_image_free(&im);
    if (st) return st;
    const lt_ex_feature *lab = lti_get(&L->ex, "image/class/label", "label");
    if (L->labels < 0) L->labels = lab != NULL;
    int64_t y = 0;
    if (L->labels && (!lab || lab->kind != LT_EX_INT64 || lab->count != 1))
        return lt_fail(LT_ERR_FORMAT, "feature 'image/class/label' (or 'label'): expected one int64 value (the split's "
                       "first record has a label), found %s", lab ? lt_ex_kind_name(lab->kind) : "none");
    if (!L->labels && lab) return lt_fail(LT_ERR_FORMAT, "a class label is present, but the split's first record has none");
    if (L->labels && (lt_ex_feature_int64s(lab, &y, 1), y < 0 || y > 255))
        return lt_fail(LT_ERR_FORMAT, "class label: expected 0..255, found %lld", (long long)y);
    return L->labels ? lti_images_label(&L->acc, (uint8_t)y) : LT_OK;
}

/* lti_take with the record's place in front of any error. */
static lt_status lti_take_at(void *ud, const lt_tfr_record *rec) {
    lt_status st = lti_take(ud, rec);
    if (st) lt_fail_context(st, "file %s record %lld offset %lld: ", rec->file, (long long)rec->index, (long long)rec->offset);
    return st;
}

static lt_status lti_split(lti_tfimg *L, lt_split_id s, const char *spec, int64_t limit) {
    lt_status st = lti_read_records(L->acc.d, s, spec, limit, &L->acc.n, lti_take_at, L);
    if (!st && L->acc.n == 0) st = lt_fail(LT_ERR_FORMAT, "no records");
    return st;
}

lt_status lti_open_tfimage(const char *source, const char *pattern, int64_t limit, lt_dataset *d) {
    lti_tfimg L;
    memset(&L, 0, sizeof L);
    lt_example_init(&L.ex);
    lt_status st = LT_OK;
    for (int s = 0; s < LT_SPLIT_COUNT && !st; s++) {
        char spec[4096];
        if (lti_reopen_skips(d, (lt_split_id)s)) continue;
        if (lti_split_pattern(pattern, (lt_split_id)s, spec, sizeof spec)) {
            st = lt_fail(LT_ERR_ARG, "data source %s: pattern too long", source);
            break;
        }
        L.acc = (lti_images){.d = d};
        L.labels = -1;
        st = lti_split(&L, (lt_split_id)s, spec, limit);
        if (!st) lti_images_commit(&L.acc, (lt_split_id)s, L.labels == 1);
        lti_images_free(&L.acc);
        if (st)
            lt_fail_context(st, "data source %s split %s (%s): ", source, lt_split_name((lt_split_id)s), spec);
    }
    lt_example_free(&L.ex);
    if (!st) lti_dataset_finish(d);
    return st;
}
