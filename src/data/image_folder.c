/* Image folders: scanning the layout and decoding the files (see image_folder.h). */
#include "data/image_folder.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "data/dataset_internal.h"
#include "data/image.h"

enum { LTI_MAX_CLASSES = 256 };

int lt_image_folder_is(const char *dir) {
    char p[4096];
    struct stat sb;
    static const char *const idx[] = {"train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"};
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, idx[i]);
        if (!stat(p, &sb)) return 0;
    }
    snprintf(p, sizeof p, "%s/train", dir);
    return !stat(p, &sb) && S_ISDIR(sb.st_mode);
}

/* A growable list of owned strings. */
typedef struct lti_names {
    char **v;
    int64_t n, cap;
} lti_names;

static void lti_names_free(lti_names *l) {
    for (int64_t i = 0; i < l->n; i++) lt_free(l->v[i]);
    lt_free(l->v);
    memset(l, 0, sizeof *l);
}

static lt_status lti_names_push(lti_names *l, const char *a, const char *b) {
    if (l->n == l->cap) {
        int64_t cap = l->cap ? 2 * l->cap : 64;
        char **v = lt_realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return lt_fail(LT_ERR_NOMEM, "listing files: out of memory");
        l->v = v;
        l->cap = cap;
    }
    size_t la = strlen(a), lb = b ? strlen(b) : 0;
    char *s = lt_malloc(la + lb + 2);
    if (!s) return lt_fail(LT_ERR_NOMEM, "listing files: out of memory");
    memcpy(s, a, la);
    if (b) {
        s[la] = '/';
        memcpy(s + la + 1, b, lb + 1);
    } else {
        s[la] = 0;
    }
    l->v[l->n++] = s;
    return LT_OK;
}

static int lti_strcmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The names in dir (not starting with '.'), sorted by byte order. */
static lt_status lti_list(const char *dir, lti_names *out) {
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d) return lt_fail(LT_ERR_ARG, "%s: cannot open the folder", dir);
    lt_status st = LT_OK;
    for (struct dirent *e; !st && (e = readdir(d));)
        if (e->d_name[0] != '.') st = lti_names_push(out, e->d_name, NULL);
    closedir(d);
    if (st) lti_names_free(out);
    else if (out->n > 1) qsort(out->v, (size_t)out->n, sizeof *out->v, lti_strcmp);
    return st;
}

static int lti_is_dir(const char *path) {
    struct stat sb;
    return !stat(path, &sb) && S_ISDIR(sb.st_mode);
}

static int lti_image_name(const char *name) {
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".jpg") || !strcasecmp(dot, ".jpeg") || !strcasecmp(dot, ".png"));
}

/* The image files of one class folder, as full paths, sorted by name. */
static lt_status lti_class_files(const char *cdir, lti_names *files) {
    lti_names names;
    lt_status st = lti_list(cdir, &names);
    memset(files, 0, sizeof *files);
    for (int64_t i = 0; !st && i < names.n; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", cdir, names.v[i]);
        struct stat sb;
        if (stat(p, &sb)) st = lt_fail(LT_ERR_IO, "%s: cannot stat", p);
        else if (S_ISDIR(sb.st_mode))
            st = lt_fail(LT_ERR_FORMAT, "%s: expected image files in class folder %s, found a nested folder", p, cdir);
        else if (!lti_image_name(names.v[i]))
            st = lt_fail(LT_ERR_FORMAT, "%s: expected a .jpg, .jpeg or .png image, found another file", p);
        else st = lti_names_push(files, cdir, names.v[i]);
    }
    if (!st && files->n == 0)
        st = lt_fail(LT_ERR_FORMAT, "%s: expected at least one .jpg, .jpeg or .png image in the class folder, found none",
                     cdir);
    lti_names_free(&names);
    if (st) lti_names_free(files);
    return st;
}

/* Files [lo[c], hi[c]) of every class c, interleaved by class, into split s. */
static lt_status lti_interleave(lt_image_folder *f, lt_split_id s, lti_names *per_class, const int64_t *lo,
                                const int64_t *hi) {
    int64_t n = 0, most = 0;
    for (int64_t c = 0; c < f->n_classes; c++) {
        n += hi[c] - lo[c];
        if (hi[c] - lo[c] > most) most = hi[c] - lo[c];
    }
    f->paths[s] = lt_calloc((size_t)(n ? n : 1), sizeof(char *));
    f->labels[s] = lt_malloc((size_t)(n ? n : 1));
    if (!f->paths[s] || !f->labels[s]) return lt_fail(LT_ERR_NOMEM, "listing files: out of memory");
    int64_t k = 0;
    for (int64_t r = 0; r < most; r++)
        for (int64_t c = 0; c < f->n_classes; c++) {
            if (lo[c] + r >= hi[c]) continue;
            char **p = &per_class[c].v[lo[c] + r];
            f->paths[s][k] = *p; /* moved: the class list no longer owns it */
            *p = NULL;
            f->labels[s][k++] = (uint8_t)c;
        }
    f->n[s] = k;
    return LT_OK;
}

/* One split folder: its class folders (all training classes) and their files. */
static lt_status lti_scan_split(lt_image_folder *f, const char *sdir, lt_split_id s, int train) {
    lti_names names;
    lt_status st = lti_list(sdir, &names);
    if (st) return st;
    lti_names *per_class = lt_calloc((size_t)(f->n_classes > 0 ? f->n_classes : names.n + 1), sizeof *per_class);
    if (!per_class) st = lt_fail(LT_ERR_NOMEM, "listing %s: out of memory", sdir);
    if (!st && train) {
        if (names.n == 0) st = lt_fail(LT_ERR_FORMAT, "%s: expected class folders, found none", sdir);
        else if (names.n > LTI_MAX_CLASSES)
            st = lt_fail(LT_ERR_FORMAT, "%s: expected at most %d class folders, found %lld", sdir, LTI_MAX_CLASSES,
                         (long long)names.n);
        if (!st) {
            f->classes = names.v;
            f->n_classes = names.n;
            names.v = NULL;
            names.n = names.cap = 0;
            for (int64_t c = 0; !st && c < f->n_classes; c++) st = lti_names_push(&names, f->classes[c], NULL);
        }
    }
    for (int64_t i = 0; !st && i < names.n; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", sdir, names.v[i]);
        if (!lti_is_dir(p)) {
            st = lt_fail(LT_ERR_FORMAT, "%s: expected class folders in %s, found a file", p, sdir);
            break;
        }
        char **hit = bsearch(&names.v[i], f->classes, (size_t)f->n_classes, sizeof *f->classes, lti_strcmp);
        if (!hit) {
            st = lt_fail(LT_ERR_FORMAT, "%s: expected one of the %lld training classes (%s, ..., %s), found class '%s'", p,
                         (long long)f->n_classes, f->classes[0], f->classes[f->n_classes - 1], names.v[i]);
            break;
        }
        st = lti_class_files(p, &per_class[hit - f->classes]);
    }
    if (!st && !train && names.n == 0) st = lt_fail(LT_ERR_FORMAT, "%s: expected class folders, found none", sdir);
    int64_t *lo = st ? NULL : lt_calloc((size_t)f->n_classes, 2 * sizeof *lo);
    if (!st && !lo) st = lt_fail(LT_ERR_NOMEM, "listing %s: out of memory", sdir);
    if (!st) {
        int64_t *hi = lo + f->n_classes;
        for (int64_t c = 0; c < f->n_classes; c++) hi[c] = per_class[c].n;
        if (train && f->carved) { /* the last tenth of each class (rounded up) is validation */
            for (int64_t c = 0; c < f->n_classes; c++) {
                const int64_t n = per_class[c].n;
                hi[c] = n >= 2 ? n - (n + 9) / 10 : n;
            }
            st = lti_interleave(f, LT_SPLIT_TRAIN, per_class, lo, hi);
            for (int64_t c = 0; c < f->n_classes; c++) {
                lo[c] = hi[c];
                hi[c] = per_class[c].n;
            }
            if (!st) st = lti_interleave(f, LT_SPLIT_VALID, per_class, lo, hi);
        } else {
            st = lti_interleave(f, s, per_class, lo, hi);
        }
    }
    lt_free(lo);
    for (int64_t c = 0; per_class && c < (f->n_classes > 0 ? f->n_classes : 0); c++) {
        for (int64_t i = 0; i < per_class[c].n; i++) lt_free(per_class[c].v[i]); /* NULL once moved */
        lt_free(per_class[c].v);
    }
    lt_free(per_class);
    lti_names_free(&names);
    return st;
}

lt_status lt_image_folder_scan(const char *dir, lt_image_folder *out) {
    memset(out, 0, sizeof *out);
    char p[4096];
    if (!lt_image_folder_is(dir))
        return lt_fail(LT_ERR_ARG, "data source %s: expected an image folder with %s/train/<class>/NAME.jpg|png", dir, dir);
    const char *valid = NULL;
    static const char *const valid_names[] = {"valid", "validation", "val"};
    for (int i = 0; i < 3 && !valid; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, valid_names[i]);
        if (lti_is_dir(p)) valid = valid_names[i];
    }
    out->carved = valid == NULL;
    snprintf(p, sizeof p, "%s/train", dir);
    lt_status st = lti_scan_split(out, p, LT_SPLIT_TRAIN, 1);
    if (!st && valid) {
        snprintf(p, sizeof p, "%s/%s", dir, valid);
        st = lti_scan_split(out, p, LT_SPLIT_VALID, 0);
    }
    if (!st) {
        snprintf(p, sizeof p, "%s/test", dir);
        st = lti_is_dir(p) ? lti_scan_split(out, p, LT_SPLIT_TEST, 0)
                           : lt_fail(LT_ERR_ARG, "data source %s: missing %s/ (an image folder needs train/ and test/)",
                                     dir, p);
    }
    if (st) lt_image_folder_free(out);
    return st;
}

void lt_image_folder_free(lt_image_folder *f) {
    for (int64_t i = 0; i < f->n_classes; i++) lt_free(f->classes[i]);
    lt_free(f->classes);
    for (int s = 0; s < LT_SPLIT_COUNT; s++) {
        for (int64_t i = 0; f->paths[s] && i < f->n[s]; i++) lt_free(f->paths[s][i]);
        lt_free(f->paths[s]);
        lt_free(f->labels[s]);
    }
    memset(f, 0, sizeof *f);
}

lt_status lt_image_folder_load(const char *dir, int64_t limit, lt_dataset *d) {
    memset(d, 0, sizeof *d);
    lt_image_folder f;
    lt_status st = lt_image_folder_scan(dir, &f);
    if (st) return st;
    for (int s = 0; s < LT_SPLIT_COUNT && !st; s++) {
        lti_images acc = {.d = d};
        const int64_t n = limit > 0 && f.n[s] > limit ? limit : f.n[s];
        for (int64_t i = 0; i < n && !st; i++) {
            uint8_t *bytes;
            int64_t len;
            lt_image im;
            if ((st = lt_file_read_all(f.paths[s][i], &bytes, &len))) break;
            st = lt_image_decode(bytes, len, f.paths[s][i], &im);
            lt_free(bytes);
            if (!st) st = lti_images_add(&acc, &im, f.paths[s][i]);
            if (!st) st = lti_images_label(&acc, f.labels[s][i]);
            lt_image_free(&im);
        }
        if (!st) lti_images_commit(&acc, (lt_split_id)s, 1);
        lti_images_free(&acc);
    }
    if (!st && !(d->src_source = lt_malloc(strlen(dir) + 1))) st = lt_fail(LT_ERR_NOMEM, "data source name");
    if (!st) strcpy(d->src_source, dir); /* lt_dataset_hold decodes a share again (lti_folder_reopen) */
    if (!st) { /* the class names move to the dataset */
        d->class_names = f.classes;
        d->n_classes = f.n_classes;
        f.classes = NULL;
        f.n_classes = 0;
        lti_dataset_finish(d);
    }
    lt_image_folder_free(&f);
    if (st) lt_dataset_free(d);
    return st;
}

lt_status lti_folder_reopen(const char *dir, lt_split_id s, const int64_t *keep, int64_t n, lt_dataset *out) {
    memset(out, 0, sizeof *out);
    lt_image_folder f;
    lt_status st = lt_image_folder_scan(dir, &f);
    if (st) return st;
    lti_images acc = {.d = out};
    for (int64_t i = 0; i < n && !st; i++) {
        if (keep[i] >= f.n[s]) {
            st = lt_fail(LT_ERR_FORMAT, "data source %s split %s: example %lld is no longer there (%lld files): the "
                         "folder changed since it was opened", dir, lt_split_name(s), (long long)keep[i], (long long)f.n[s]);
            break;
        }
        const char *path = f.paths[s][keep[i]];
        uint8_t *bytes;
        int64_t len;
        lt_image im;
        if ((st = lt_file_read_all(path, &bytes, &len))) break;
        st = lt_image_decode(bytes, len, path, &im);
        lt_free(bytes);
        if (!st) st = lti_images_add(&acc, &im, path);
        lt_image_free(&im);
    }
    if (!st) lti_images_commit(&acc, s, 0);
    lti_images_free(&acc);
    lt_image_folder_free(&f);
    if (st) lt_dataset_free(out);
    return st;
}
