/* TFRecord file sets (globs, shard names, lists), record indexes, and datasets that
 * walk a file set in seeded order through a shuffle buffer, optionally reading only one
 * worker's contiguous share of the records. */
#define _DEFAULT_SOURCE /* glob, lstat */
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "data/tfrecord.h"

/* ------------------------------------------------------------------ file sets */

void lt_tfr_files_init(lt_tfr_files *f) { memset(f, 0, sizeof *f); }

void lt_tfr_files_free(lt_tfr_files *f) {
    for (int64_t i = 0; i < f->n; i++) lt_free(f->paths[i]);
    lt_free(f->paths);
    lt_tfr_files_init(f);
}

static lt_status lti_files_push(lt_tfr_files *f, const char *path) {
    if (f->n == f->cap) {
        int64_t ncap = f->cap ? 2 * f->cap : 16;
        char **np = lt_realloc(f->paths, (size_t)ncap * sizeof *np);
        if (!np) return lt_fail(LT_ERR_NOMEM, "no memory for a file list");
        f->paths = np;
        f->cap = ncap;
    }
    if (!(f->paths[f->n] = lt_strdup(path))) return lt_fail(LT_ERR_NOMEM, "no memory for a file list");
    f->n++;
    return LT_OK;
}

int lt_tfr_shard_name(char *buf, size_t cap, const char *prefix, int64_t shard, int64_t shards) {
    return snprintf(buf, cap, "%s-%05lld-of-%05lld", prefix, (long long)shard, (long long)shards);
}

/* NAME-iiiii-of-nnnnn (at least 5 digits each): the prefix length, i and n. */
static int lti_parse_shard(const char *path, size_t *prefix_len, int64_t *i, int64_t *n) {
    size_t len = strlen(path), e = len, d;
    for (d = 0; e > 0 && path[e - 1] >= '0' && path[e - 1] <= '9'; e--) d++;
    if (d < 5 || e < 4 || strncmp(path + e - 4, "-of-", 4)) return 0;
    *n = strtoll(path + e, NULL, 10);
    e -= 4;
    for (d = 0; e > 0 && path[e - 1] >= '0' && path[e - 1] <= '9'; e--) d++;
    if (d < 5 || e < 1 || path[e - 1] != '-') return 0;
    *i = strtoll(path + e, NULL, 10);
    *prefix_len = e - 1;
    return *n > 0;
}

typedef struct lti_shard {
    const char *path;
    size_t plen;
    int64_t i, n;
} lti_shard;

static int lti_shard_cmp(const void *a, const void *b) {
    const lti_shard *x = a, *y = b;
    size_t m = x->plen < y->plen ? x->plen : y->plen;
    int c = memcmp(x->path, y->path, m);
    if (c) return c;
    if (x->plen != y->plen) return x->plen < y->plen ? -1 : 1;
    if (x->n != y->n) return x->n < y->n ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Every shard-named path in paths[0, m) must belong to a complete set 0..n-1. */
static lt_status lti_check_shards(const char *spec, char **paths, int64_t m) {
    lti_shard *s = lt_malloc((size_t)(m ? m : 1) * sizeof *s);
    if (!s) return lt_fail(LT_ERR_NOMEM, "no memory");
    int64_t k = 0;
    for (int64_t j = 0; j < m; j++)
        if (lti_parse_shard(paths[j], &s[k].plen, &s[k].i, &s[k].n)) s[k++].path = paths[j];
    qsort(s, (size_t)k, sizeof *s, lti_shard_cmp);
    lt_status st = LT_OK;
    for (int64_t a = 0; a < k && !st;) {
        int64_t b = a, expect = 0;
        while (b < k && s[b].plen == s[a].plen && !memcmp(s[b].path, s[a].path, s[a].plen) && s[b].n == s[a].n) b++;
        for (int64_t j = a; j < b && !st; j++) {
            if (s[j].i > expect || s[j].i >= s[j].n) break;
            if (s[j].i == expect) expect++;
        }
        if (expect < s[a].n) {
            char miss[4096];
            lt_tfr_shard_name(miss, sizeof miss, "", expect, s[a].n);
            st = lt_fail(LT_ERR_ARG, "'%s': shard set %.*s-*-of-%05lld is incomplete: %.*s%s is missing", spec,
                         (int)s[a].plen, s[a].path, (long long)s[a].n, (int)s[a].plen, s[a].path, miss);
        }
        a = b;
    }
    lt_free(s);
    return st;
}

static int lti_has_suffix(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

lt_status lt_tfr_files_add(lt_tfr_files *f, const char *spec) {
    struct stat sb;
    lt_status st = LT_OK;
    if (strpbrk(spec, "*?[")) {
        glob_t g;
        int rc = glob(spec, 0, NULL, &g);
        if (rc == GLOB_NOMATCH) return lt_fail(LT_ERR_ARG, "'%s': no file matches", spec);
        if (rc != 0) return lt_fail(LT_ERR_IO, "'%s': glob failed", spec);
        int64_t first = f->n;
        int want_index = lti_has_suffix(spec, ".index");
        for (size_t j = 0; j < g.gl_pathc && !st; j++) /* indexes sit next to data files */
            if (want_index || !lti_has_suffix(g.gl_pathv[j], ".index")) st = lti_files_push(f, g.gl_pathv[j]);
        globfree(&g);
        if (!st && f->n == first) st = lt_fail(LT_ERR_ARG, "'%s': only index files match", spec);
        if (!st) st = lti_check_shards(spec, f->paths + first, f->n - first);
        return st;
    }
    const char *at = strrchr(spec, '@');
    if (at && at[1] && strspn(at + 1, "0123456789") == strlen(at + 1)) {
        int64_t n = strtoll(at + 1, NULL, 10);
        if (n <= 0 || n > 99999) return lt_fail(LT_ERR_ARG, "'%s': shard count must be 1..99999", spec);
        char prefix[4096], name[4200];
        snprintf(prefix, sizeof prefix, "%.*s", (int)(at - spec), spec);
        for (int64_t i = 0; i < n && !st; i++) {
            lt_tfr_shard_name(name, sizeof name, prefix, i, n);
            if (stat(name, &sb) != 0)
                return lt_fail(LT_ERR_ARG, "'%s': shard %s is missing: %s", spec, name, strerror(errno));
            st = lti_files_push(f, name);
        }
        return st;
    }
    if (stat(spec, &sb) != 0) return lt_fail(LT_ERR_ARG, "file %s: %s", spec, strerror(errno));
    if (S_ISDIR(sb.st_mode)) return lt_fail(LT_ERR_ARG, "file %s: is a directory (use a glob such as DIR/*)", spec);
    return lti_files_push(f, spec);
}

void lt_tfr_files_shuffle(lt_tfr_files *f, uint64_t seed) {
    if (f->n < 2) return;
    int64_t *perm = lt_malloc((size_t)f->n * sizeof *perm);
    char **np = lt_malloc((size_t)f->n * sizeof *np);
    if (perm && np) {
        lt_rng r;
        lt_rng_seed(&r, seed);
        lt_rng_permutation(&r, perm, f->n);
        for (int64_t i = 0; i < f->n; i++) np[i] = f->paths[perm[i]];
        memcpy(f->paths, np, (size_t)f->n * sizeof *np);
    } /* out of memory: the order stays as it was (documented nowhere else: keep it rare) */
    lt_free(perm);
    lt_free(np);
}

/* ------------------------------------------------------------------ indexes */

void lt_tfr_split(int64_t n, int64_t worker, int64_t workers, int64_t *begin, int64_t *end) {
    if (workers < 1) workers = 1;
    *begin = n / workers * worker + (worker < n % workers ? worker : n % workers);
    *end = *begin + n / workers + (worker < n % workers ? 1 : 0);
}

void lt_tfr_index_free(lt_tfr_index *idx) {
    lt_free(idx->offset);
    lt_free(idx->length);
    memset(idx, 0, sizeof *idx);
}

static lt_status lti_index_push(lt_tfr_index *idx, int64_t *cap, int64_t off, int64_t len) {
    if (idx->n == *cap) {
        int64_t ncap = *cap ? 2 * *cap : 1024;
        int64_t *a = lt_realloc(idx->offset, (size_t)ncap * sizeof *a);
        if (a) idx->offset = a;
        int64_t *b = a ? lt_realloc(idx->length, (size_t)ncap * sizeof *b) : NULL;
        if (!b) return lt_fail(LT_ERR_NOMEM, "no memory for an index of %lld records", (long long)ncap);
        idx->length = b;
        *cap = ncap;
    }
    idx->offset[idx->n] = off;
    idx->length[idx->n] = len;
    idx->n++;
    return LT_OK;
}

lt_status lt_tfr_index_build(const char *path, const lt_tfr_options *opt, lt_tfr_index *out) {
    memset(out, 0, sizeof *out);
    lt_tfr_reader *r;
    lt_status st = lt_tfr_reader_open(&r, path, opt);
    if (st) return st;
    int64_t cap = 0;
    for (;;) {
        lt_tfr_record rec;
        int have;
        if ((st = lt_tfr_reader_next(r, &rec, &have)) || !have) break;
        if ((st = lti_index_push(out, &cap, rec.offset, rec.len))) break;
    }
    lt_tfr_reader_close(r);
    if (st) lt_tfr_index_free(out);
    return st;
}

lt_status lt_tfr_index_save(const lt_tfr_index *idx, const char *index_path) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", index_path, (long)getpid());
    FILE *fp = fopen(tmp, "w");
    if (!fp) return lt_fail(LT_ERR_IO, "file %s: cannot create: %s", tmp, strerror(errno));
    fprintf(fp, "# tfrecord index v1: offset length per record (offset of the header in the uncompressed stream, "
                "length of the data)\n");
    for (int64_t i = 0; i < idx->n; i++) fprintf(fp, "%lld %lld\n", (long long)idx->offset[i], (long long)idx->length[i]);
    int bad = ferror(fp);
    if (fclose(fp) != 0 || bad || rename(tmp, index_path) != 0) {
        lt_status st = lt_fail(LT_ERR_IO, "file %s: cannot write: %s", index_path, strerror(errno));
        unlink(tmp);
        return st;
    }
    return LT_OK;
}

lt_status lt_tfr_index_load(const char *index_path, lt_tfr_index *out) {
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(index_path, "r");
    if (!fp) return lt_fail(errno == ENOENT ? LT_ERR_ARG : LT_ERR_IO, "file %s: cannot open: %s", index_path,
                            strerror(errno));
    char line[256];
    int64_t cap = 0, lineno = 0, next_min = 0;
    lt_status st = LT_OK;
    while (!st && fgets(line, sizeof line, fp)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n') continue;
        long long off, len;
        char extra;
        if (sscanf(line, "%lld %lld %c", &off, &len, &extra) != 2 || off < next_min || len < 0)
            st = lt_fail(LT_ERR_FORMAT, "file %s line %lld: expected \"offset length\" with offsets increasing past the "
                         "previous record, found '%.*s'", index_path, (long long)lineno,
                         (int)strcspn(line, "\n"), line);
        else {
            st = lti_index_push(out, &cap, off, len);
            next_min = off + len + 16;
        }
    }
    fclose(fp);
    if (st) lt_tfr_index_free(out);
    return st;
}

/* ------------------------------------------------------------------ datasets */

typedef struct lti_piece {
    int64_t file;
    int64_t first, offset; /* first record (number and header offset) */
    int64_t count;         /* records to read; -1: to the end */
} lti_piece;

typedef struct lti_slot {
    uint8_t *data; /* owned */
    int64_t cap;
    lt_tfr_record rec;
} lti_slot;

struct lt_tfr_dataset {
    lt_tfr_dataset_options o;
    lt_tfr_files files;
    lti_piece *pieces; /* (npieces) in file order */
    int64_t npieces;
    int64_t *order;    /* (npieces) this epoch's order */
    int64_t next_piece;
    lt_tfr_reader *cur;
    const char *cur_path;
    int64_t cur_left;
    int64_t skipped;   /* across closed readers */
    lti_slot *slots;   /* (shuffle_buffer) */
    int64_t filled;
    lti_slot out;
    int input_done;
    lt_rng draw;
    int64_t epoch;
};

void lt_tfr_dataset_options_default(lt_tfr_dataset_options *o) {
    memset(o, 0, sizeof *o);
    lt_tfr_options_default(&o->reader);
    o->workers = 1;
}

static lt_status lti_dataset_order(lt_tfr_dataset *d) {
    for (int64_t i = 0; i < d->npieces; i++) d->order[i] = i;
    lt_rng base;
    lt_rng_seed(&base, d->o.seed);
    if (d->o.shuffle_files && d->npieces > 1) {
        lt_rng r = lt_rng_fork(&base, (uint64_t)d->epoch * 2);
        lt_rng_permutation(&r, d->order, d->npieces);
    }
    d->draw = lt_rng_fork(&base, (uint64_t)d->epoch * 2 + 1);
    d->next_piece = 0;
    d->filled = 0;
    d->input_done = 0;
    return LT_OK;
}

/* A worker's share: needs each file's record count, from FILE.index or a scan. */
static lt_status lti_dataset_split(lt_tfr_dataset *d) {
    int64_t nf = d->files.n, total = 0;
    lt_tfr_index *idx = lt_calloc((size_t)(nf ? nf : 1), sizeof *idx);
    if (!idx) return lt_fail(LT_ERR_NOMEM, "no memory");
    lt_status st = LT_OK;
    for (int64_t i = 0; i < nf && !st; i++) {
        char ipath[4200];
        snprintf(ipath, sizeof ipath, "%s.index", d->files.paths[i]);
        st = access(ipath, R_OK) == 0 ? lt_tfr_index_load(ipath, &idx[i])
                                       : lt_tfr_index_build(d->files.paths[i], &d->o.reader, &idx[i]);
        total += idx[i].n;
    }
    int64_t b, e, start = 0;
    lt_tfr_split(total, d->o.worker, d->o.workers, &b, &e);
    for (int64_t i = 0; i < nf && !st; i++) {
        int64_t lo = b > start ? b - start : 0, hi = e - start < idx[i].n ? e - start : idx[i].n;
        if (lo < hi) d->pieces[d->npieces++] = (lti_piece){i, lo, idx[i].offset[lo], hi - lo};
        start += idx[i].n;
    }
    for (int64_t i = 0; i < nf; i++) lt_tfr_index_free(&idx[i]);
    lt_free(idx);
    return st;
}

lt_status lt_tfr_dataset_open(lt_tfr_dataset **out, const lt_tfr_files *files, const lt_tfr_dataset_options *o) {
    *out = NULL;
    if (o->workers > 1 && (o->worker < 0 || o->worker >= o->workers))
        return lt_fail(LT_ERR_ARG, "worker %lld is not in 0..%lld", (long long)o->worker, (long long)o->workers - 1);
    lt_tfr_dataset *d = lt_calloc(1, sizeof *d);
    if (!d) return lt_fail(LT_ERR_NOMEM, "no memory for a dataset");
    d->o = *o;
    lt_status st = LT_OK;
    for (int64_t i = 0; i < files->n && !st; i++) st = lti_files_push(&d->files, files->paths[i]);
    int64_t nf = files->n ? files->n : 1, ns = o->shuffle_buffer > 1 ? o->shuffle_buffer : 0;
    if (!st && (!(d->pieces = lt_calloc((size_t)nf, sizeof *d->pieces)) ||
                !(d->order = lt_calloc((size_t)nf, sizeof *d->order)) ||
                (ns && !(d->slots = lt_calloc((size_t)ns, sizeof *d->slots)))))
        st = lt_fail(LT_ERR_NOMEM, "no memory for a dataset");
    if (!st && o->workers > 1) st = lti_dataset_split(d);
    else if (!st) {
        for (int64_t i = 0; i < files->n; i++) d->pieces[i] = (lti_piece){i, 0, 0, -1};
        d->npieces = files->n;
    }
    if (!st) st = lti_dataset_order(d);
    if (st) { lt_tfr_dataset_close(d); return st; }
    *out = d;
    return LT_OK;
}

/* The next record of the input (file order, no shuffle buffer). */
static lt_status lti_pull(lt_tfr_dataset *d, lt_tfr_record *rec, int *have) {
    lt_status st;
    *have = 0;
    for (;;) {
        if (!d->cur) {
            if (d->next_piece == d->npieces) { d->input_done = 1; return LT_OK; }
            const lti_piece *p = &d->pieces[d->order[d->next_piece++]];
            lt_tfr_options ro = d->o.reader;
            ro.skip_corrupt = ro.skip_corrupt > d->skipped ? ro.skip_corrupt - d->skipped : 0;
            d->cur_path = d->files.paths[p->file];
            if ((st = lt_tfr_reader_open(&d->cur, d->cur_path, &ro))) return st;
            if (p->first > 0 && (st = lt_tfr_reader_seek(d->cur, p->offset, p->first))) return st;
            d->cur_left = p->count;
        }
        int got = 0;
        if (d->cur_left != 0) {
            if ((st = lt_tfr_reader_next(d->cur, rec, &got))) return st;
            if (!got && d->cur_left > 0)
                return lt_fail(LT_ERR_FORMAT, "file %s: ended %lld records before its index said; is FILE.index stale?",
                               d->cur_path, (long long)d->cur_left);
        }
        if (got) {
            if (d->cur_left > 0) d->cur_left--;
            *have = 1;
            return LT_OK;
        }
        d->skipped += lt_tfr_reader_skipped(d->cur);
        lt_tfr_reader_close(d->cur);
        d->cur = NULL;
    }
}

lt_status lt_tfr_dataset_next(lt_tfr_dataset *d, lt_tfr_record *rec, int *have) {
    lt_status st;
    if (!d->slots) return lti_pull(d, rec, have);
    while (d->filled < d->o.shuffle_buffer && !d->input_done) {
        lt_tfr_record in;
        int got;
        if ((st = lti_pull(d, &in, &got))) return st;
        if (!got) break;
        lti_slot *s = &d->slots[d->filled];
        if (s->cap < in.len) {
            uint8_t *nb = lt_realloc(s->data, (size_t)in.len);
            if (!nb) return lt_fail(LT_ERR_NOMEM, "no memory for a %lld-byte record in the shuffle buffer",
                                    (long long)in.len);
            s->data = nb;
            s->cap = in.len;
        }
        memcpy(s->data, in.data, (size_t)in.len);
        s->rec = in;
        s->rec.data = s->data;
        d->filled++;
    }
    *have = 0;
    if (d->filled == 0) return LT_OK;
    int64_t j = (int64_t)lt_rng_below(&d->draw, (uint64_t)d->filled);
    lti_slot t = d->out; /* hand slot j out; its buffer stays valid until the next call */
    d->out = d->slots[j];
    d->slots[j] = d->slots[d->filled - 1];
    d->slots[d->filled - 1] = t;
    d->filled--;
    *rec = d->out.rec;
    *have = 1;
    return LT_OK;
}

lt_status lt_tfr_dataset_rewind(lt_tfr_dataset *d) {
    if (d->cur) {
        lt_tfr_reader_close(d->cur);
        d->cur = NULL;
    }
    d->skipped = 0;
    d->epoch++;
    return lti_dataset_order(d);
}

void lt_tfr_dataset_close(lt_tfr_dataset *d) {
    if (!d) return;
    lt_tfr_reader_close(d->cur);
    if (d->slots)
        for (int64_t i = 0; i < d->o.shuffle_buffer; i++) lt_free(d->slots[i].data);
    lt_free(d->out.data);
    lt_free(d->slots);
    lt_free(d->pieces);
    lt_free(d->order);
    lt_tfr_files_free(&d->files);
    lt_free(d);
}
