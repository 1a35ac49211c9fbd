/* An image folder to sharded TFRecord files of TF-Slim image examples (see
 * image_folder.h). Everything is written into a fresh temporary folder next to
 * PREFIX and renamed into place only after the last image was read, decoded and
 * written, so bad input leaves no file behind. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "data/example.h"
#include "data/image.h"
#include "data/image_folder.h"

typedef struct lti_conv {
    char tmp[4096];        /* the temporary folder */
    char dir[4096];        /* PREFIX's folder */
    const char *base;      /* PREFIX's last component */
    char **names;          /* (n) files written into tmp, to be renamed into dir */
    int64_t n, cap;
    lt_ex_builder b;
    int64_t c, h, w;       /* the first image's geometry */
    const char *first;
} lti_conv;

static lt_status lti_note(lti_conv *v, const char *name) {
    if (v->n == v->cap) {
        int64_t cap = v->cap ? 2 * v->cap : 16;
        char **p = lt_realloc(v->names, (size_t)cap * sizeof *p);
        if (!p) return lt_fail(LT_ERR_NOMEM, "convert: out of memory");
        v->names = p;
        v->cap = cap;
    }
    size_t len = strlen(name) + 1;
    if (!(v->names[v->n] = lt_malloc(len))) return lt_fail(LT_ERR_NOMEM, "convert: out of memory");
    memcpy(v->names[v->n++], name, len);
    return LT_OK;
}

/* One image file as a tf.Example, into the writer. */
static lt_status lti_example(lti_conv *v, lt_tfr_writer *w, const char *root, const char *path, int64_t label,
                             const char *cls) {
    uint8_t *bytes;
    int64_t len;
    lt_status st = lt_file_read_all(path, &bytes, &len);
    if (st) return st;
    lt_image im;
    if ((st = lt_image_decode(bytes, len, path, &im))) {
        lt_free(bytes);
        return st;
    }
    if (!v->first) {
        v->c = im.c;
        v->h = im.h;
        v->w = im.w;
        v->first = path;
    } else if (im.c != v->c || im.h != v->h || im.w != v->w) {
        st = lt_fail(LT_ERR_FORMAT, "%s: expected a %lldx%lld image with %lld channel%s like %s, found %lldx%lld with %lld",
                     path, (long long)v->w, (long long)v->h, (long long)v->c, v->c == 1 ? "" : "s", v->first,
                     (long long)im.w, (long long)im.h, (long long)im.c);
    }
    const int png = lt_image_sniff(bytes, len) == LT_IMAGE_PNG;
    const size_t skip = strlen(root) + 1; /* image/filename: the path inside the folder */
    lt_ex_bytes enc = {bytes, len}, fmt = {(const uint8_t *)(png ? "PNG" : "JPEG"), png ? 3 : 4},
                cs = {(const uint8_t *)(im.c == 3 ? "RGB" : "Grayscale"), im.c == 3 ? 3 : 9},
                text = {(const uint8_t *)cls, (int64_t)strlen(cls)},
                fname = {(const uint8_t *)path + skip, (int64_t)(strlen(path) - skip)};
    lt_ex_builder_begin(&v->b, 0);
    if (!st) st = lt_ex_builder_bytes(&v->b, "image/encoded", &enc, 1);
    if (!st) st = lt_ex_builder_bytes(&v->b, "image/format", &fmt, 1);
    if (!st) st = lt_ex_builder_bytes(&v->b, "image/colorspace", &cs, 1);
    if (!st) st = lt_ex_builder_int64s(&v->b, "image/height", &im.h, 1);
    if (!st) st = lt_ex_builder_int64s(&v->b, "image/width", &im.w, 1);
    if (!st) st = lt_ex_builder_int64s(&v->b, "image/channels", &im.c, 1);
    if (!st) st = lt_ex_builder_int64s(&v->b, "image/class/label", &label, 1);
    if (!st) st = lt_ex_builder_bytes(&v->b, "image/class/text", &text, 1);
    if (!st) st = lt_ex_builder_bytes(&v->b, "image/filename", &fname, 1);
    const uint8_t *data;
    int64_t n;
    if (!st && !(st = lt_ex_builder_finish(&v->b, &data, &n))) st = lt_tfr_writer_write(w, data, n);
    lt_image_free(&im);
    lt_free(bytes);
    return st;
}

static lt_status lti_split(lti_conv *v, const lt_image_folder *f, const char *root, lt_split_id s, int64_t shards,
                           lt_tfr_compression comp) {
    char base[4200], name[4400], path[8600];
    snprintf(base, sizeof base, "%s-%s", v->base, lt_split_name(s));
    lt_status st = LT_OK;
    for (int64_t k = 0; k < shards && !st; k++) {
        int64_t lo, hi;
        lt_tfr_split(f->n[s], k, shards, &lo, &hi);
        lt_tfr_shard_name(name, sizeof name, base, k, shards);
        snprintf(path, sizeof path, "%s/%s", v->tmp, name);
        lt_tfr_writer *w;
        if ((st = lt_tfr_writer_open(&w, path, comp, -1))) break;
        for (int64_t i = lo; i < hi && !st; i++)
            st = lti_example(v, w, root, f->paths[s][i], f->labels[s][i], f->classes[f->labels[s][i]]);
        if (st) lt_tfr_writer_abort(w);
        else if (!(st = lt_tfr_writer_close(w))) st = lti_note(v, name);
    }
    return st;
}

/* labels.txt in TF-Slim's format (dataset_utils.write_label_file): "0:airplane". */
static lt_status lti_labels(lti_conv *v, const lt_image_folder *f) {
    char path[4200];
    snprintf(path, sizeof path, "%s/labels.txt", v->tmp);
    FILE *o = fopen(path, "w");
    if (!o) return lt_fail(LT_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    for (int64_t i = 0; i < f->n_classes; i++) fprintf(o, "%lld:%s\n", (long long)i, f->classes[i]);
    if (fclose(o)) return lt_fail(LT_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    return lti_note(v, "labels.txt");
}

lt_status lt_image_folder_to_tfrecord(const char *root, const char *prefix, int64_t shards, lt_tfr_compression comp,
                                      lt_image_convert_report *rep) {
    memset(rep, 0, sizeof *rep);
    lti_conv v;
    memset(&v, 0, sizeof v);
    const char *slash = strrchr(prefix, '/');
    v.base = slash ? slash + 1 : prefix;
    if (!*v.base) return lt_fail(LT_ERR_ARG, "--to %s: expected a PREFIX naming files, not a folder", prefix);
    snprintf(v.dir, sizeof v.dir, "%.*s", slash ? (int)(slash - prefix) : 1, slash ? prefix : ".");
    if (slash == prefix) snprintf(v.dir, sizeof v.dir, "/");
    lt_image_folder f;
    lt_status st = lt_image_folder_scan(root, &f);
    if (st) return st;
    snprintf(v.tmp, sizeof v.tmp, "%s/.%s.tmpXXXXXX", v.dir, v.base);
    if (!mkdtemp(v.tmp)) {
        st = lt_fail(LT_ERR_IO, "%s: cannot create a temporary folder: %s", v.tmp, strerror(errno));
        lt_image_folder_free(&f);
        return st;
    }
    lt_ex_builder_init(&v.b);
    for (int s = 0; s < LT_SPLIT_COUNT && !st; s++)
        if (f.n[s] > 0) st = lti_split(&v, &f, root, (lt_split_id)s, shards, comp);
    if (!st) st = lti_labels(&v, &f);
    char from[8600], to[8600];
    for (int64_t i = 0; !st && i < v.n; i++) { /* everything is written: into place */
        snprintf(from, sizeof from, "%s/%s", v.tmp, v.names[i]);
        snprintf(to, sizeof to, "%s/%s", v.dir, v.names[i]);
        if (rename(from, to)) st = lt_fail(LT_ERR_IO, "cannot rename %s to %s: %s", from, to, strerror(errno));
    }
    for (int64_t i = 0; i < v.n; i++) { /* after an error: the temporaries go */
        snprintf(from, sizeof from, "%s/%s", v.tmp, v.names[i]);
        remove(from);
        lt_free(v.names[i]);
    }
    rmdir(v.tmp);
    if (!st) {
        for (int s = 0; s < LT_SPLIT_COUNT; s++) rep->n[s] = f.n[s];
        rep->channels = v.c;
        rep->height = v.h;
        rep->width = v.w;
        rep->n_classes = f.n_classes;
        snprintf(rep->labels, sizeof rep->labels, "%s/labels.txt", v.dir);
    }
    lt_free(v.names);
    lt_ex_builder_free(&v.b);
    lt_image_folder_free(&f);
    return st;
}
