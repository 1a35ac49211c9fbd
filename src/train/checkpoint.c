/* Checkpoint helpers (see checkpoint.h). */
#include "train/checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

#define LTI_NAME_CAP (LT_PARAM_NAME_MAX + 8)

static const char *lti_kind_names[] = {"sgd", "adam", "adamw", "adagrad"};

static const char *lti_reserved[] = {"optim_kind", "optim_step", "rng"};

lt_status lt_ckpt_save(const char *path, const lt_ckpt *c, const lt_st_kv *meta, int64_t n_meta) {
    for (int64_t i = 0; i < n_meta; i++)
        for (int r = 0; r < 3; r++)
            if (meta[i].key && strcmp(meta[i].key, lti_reserved[r]) == 0)
                return lt_fail(LT_ERR_ARG, "%s: metadata key '%s' is reserved for the checkpoint itself", path,
                               meta[i].key);
    int64_t np = c->params ? c->params->n : 0, nb = c->buffers ? c->buffers->n : 0;
    int64_t cap = np + nb + 2 + 2 * (int64_t)c->n_more;
    lt_st_entry *e = lt_calloc((size_t)cap, sizeof *e);
    char *names = lt_malloc((size_t)cap * LTI_NAME_CAP);
    lt_st_kv *kv = lt_calloc((size_t)n_meta + 3 + 2 * (size_t)c->n_more, sizeof *kv);
    /* per more optimizer: its kind key, its step key and the step's digits */
    char *more_meta = lt_calloc((size_t)c->n_more + 1, 3 * LTI_NAME_CAP);
    if (!more_meta) {
        lt_free(e); lt_free(names); lt_free(kv);
        return lt_fail(LT_ERR_NOMEM, "%s: out of memory saving a checkpoint", path);
    }
    if (!e || !names || !kv) {
        lt_free(e); lt_free(names); lt_free(kv);
        return lt_fail(LT_ERR_NOMEM, "%s: out of memory saving a checkpoint", path);
    }
    int64_t k = 0;
    for (int pass = 0; pass < 2; pass++) {
        const lt_params *p = pass ? c->buffers : c->params;
        for (int64_t i = 0; p && i < p->n; i++, k++) {
            char *nm = names + k * LTI_NAME_CAP;
            snprintf(nm, LTI_NAME_CAP, "%s.%s", pass ? "buffer" : "param", p->items[i]->name);
            const lt_tensor *t = &p->items[i]->t;
            e[k] = (lt_st_entry){.name = nm, .dtype = LT_ST_F32, .ndim = t->ndim, .data = t->data};
            memcpy(e[k].shape, t->shape, sizeof t->shape);
        }
    }
    char step[32], rng[64];
    int64_t nk = 0;
    for (int64_t i = 0; i < n_meta; i++) kv[nk++] = meta[i];
    const lt_optim *o = c->optim;
    if (o) {
        if (o->m) e[k++] = (lt_st_entry){.name = "optim.m", .dtype = LT_ST_F32, .ndim = 1, .shape = {o->n}, .data = o->m};
        if (o->v) e[k++] = (lt_st_entry){.name = "optim.v", .dtype = LT_ST_F32, .ndim = 1, .shape = {o->n}, .data = o->v};
        snprintf(step, sizeof step, "%lld", (long long)o->step);
        kv[nk++] = (lt_st_kv){"optim_kind", lti_kind_names[o->cfg.kind]};
        kv[nk++] = (lt_st_kv){"optim_step", step};
    }
    /* the tensor names of the more optimizers live in names, their metadata in more_meta */
    for (int j = 0; j < c->n_more; j++) {
        const lt_optim *q = c->more[j];
        char *base = names + k * LTI_NAME_CAP, *nv = names + (k + 1) * LTI_NAME_CAP;
        snprintf(base, LTI_NAME_CAP, "optim.%s.m", c->more_names[j]);
        snprintf(nv, LTI_NAME_CAP, "optim.%s.v", c->more_names[j]);
        if (q->m) e[k++] = (lt_st_entry){.name = base, .dtype = LT_ST_F32, .ndim = 1, .shape = {q->n}, .data = q->m};
        if (q->v) e[k++] = (lt_st_entry){.name = nv, .dtype = LT_ST_F32, .ndim = 1, .shape = {q->n}, .data = q->v};
        char *key = more_meta + (size_t)j * 3 * LTI_NAME_CAP, *skey = key + LTI_NAME_CAP, *sval = skey + LTI_NAME_CAP;
        snprintf(key, LTI_NAME_CAP, "optim_kind.%s", c->more_names[j]);
        snprintf(skey, LTI_NAME_CAP, "optim_step.%s", c->more_names[j]);
        snprintf(sval, LTI_NAME_CAP, "%lld", (long long)q->step);
        kv[nk++] = (lt_st_kv){key, lti_kind_names[q->cfg.kind]};
        kv[nk++] = (lt_st_kv){skey, sval};
    }
    if (c->rng) {
        snprintf(rng, sizeof rng, "%llu:%llu", (unsigned long long)c->rng->key, (unsigned long long)c->rng->counter);
        kv[nk++] = (lt_st_kv){"rng", rng};
    }
    lt_status st = lt_safetensors_write(path, e, k, kv, nk);
    lt_free(e);
    lt_free(names);
    lt_free(kv);
    lt_free(more_meta);
    return st;
}

/* "(3,4)" */
static const char *lti_shape(char *buf, int ndim, const int64_t *shape) {
    int n = snprintf(buf, 96, "(");
    for (int i = 0; i < ndim; i++) n += snprintf(buf + n, (size_t)(96 - n), "%s%lld", i ? "," : "", (long long)shape[i]);
    snprintf(buf + n, (size_t)(96 - n), ")");
    return buf;
}

/* The file's entry for `name`, checked to be F32 with the given shape. */
static lt_status lti_expect(const char *path, const lt_st_file *f, const char *name, int ndim, const int64_t *shape,
                            const lt_st_entry **out) {
    const lt_st_entry *e = lt_safetensors_find(f, name);
    char a[96], b[96];
    if (!e) return lt_fail(LT_ERR_FORMAT, "%s: tensor '%s' %s is missing from the checkpoint", path, name,
                           lti_shape(a, ndim, shape));
    int same = e->dtype == LT_ST_F32 && e->ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = e->shape[i] == shape[i];
    if (!same)
        return lt_fail(LT_ERR_FORMAT, "%s: tensor '%s' is %s %s in the checkpoint, the model expects F32 %s", path,
                       name, e->dtype == LT_ST_F32 ? "F32" : e->dtype == LT_ST_I64 ? "I64" : "U8",
                       lti_shape(a, e->ndim, e->shape), lti_shape(b, ndim, shape));
    *out = e;
    return LT_OK;
}

static int lti_parse_u64(const char *s, char stop, unsigned long long *v, const char **end) {
    if (!s || *s < '0' || *s > '9') return 0;
    char *e;
    errno = 0;
    *v = strtoull(s, &e, 10);
    if (errno || *e != stop) return 0;
    *end = e;
    return 1;
}

/* Checks everything; records the source of every copy in src (params then buffers, then m, v of
 * each optimizer) and each optimizer's step in step[0..n_more]. */
static lt_status lti_validate(const char *path, const lt_ckpt *c, const lt_st_file *f, const lt_st_entry **src,
                              int64_t *step, lt_rng *rng) {
    lt_status st;
    for (int64_t i = 0; i < f->n; i++) {
        const char *n = f->entries[i].name;
        if (strncmp(n, "param.", 6) && strncmp(n, "buffer.", 7) && strncmp(n, "optim.", 6))
            return lt_fail(LT_ERR_FORMAT, "%s: unexpected tensor '%s' (expected param.*, buffer.*, optim.*)", path, n);
    }
    char nm[LTI_NAME_CAP];
    int64_t k = 0;
    for (int pass = 0; pass < 2; pass++) {
        const lt_params *p = pass ? c->buffers : c->params;
        for (int64_t i = 0; p && i < p->n; i++) {
            snprintf(nm, sizeof nm, "%s.%s", pass ? "buffer" : "param", p->items[i]->name);
            const lt_tensor *t = &p->items[i]->t;
            if ((st = lti_expect(path, f, nm, t->ndim, t->shape, &src[k++]))) return st;
        }
    }
    /* Tensors of the file that the model does not have mean a different model. */
    for (int64_t i = 0; i < f->n; i++) {
        const char *n = f->entries[i].name;
        if (c->params && strncmp(n, "param.", 6) == 0 && !lt_params_find(c->params, n + 6))
            return lt_fail(LT_ERR_FORMAT, "%s: the checkpoint has parameter '%s' that the model lacks", path, n + 6);
        if (c->buffers && strncmp(n, "buffer.", 7) == 0 && !lt_params_find(c->buffers, n + 7))
            return lt_fail(LT_ERR_FORMAT, "%s: the checkpoint has buffer '%s' that the model lacks", path, n + 7);
    }
    /* optimizer j: c->optim (j = -1, the plain names) then c->more[j] ("<name>" suffixes) */
    for (int j = -1; j < c->n_more; j++) {
        const lt_optim *o = j < 0 ? c->optim : c->more[j];
        if (!o) continue;
        char kk[LTI_NAME_CAP], sk[LTI_NAME_CAP], mn[LTI_NAME_CAP], vn[LTI_NAME_CAP];
        const char *sfx = j < 0 ? "" : c->more_names[j], *dot = j < 0 ? "" : ".";
        snprintf(kk, sizeof kk, "optim_kind%s%s", dot, sfx);
        snprintf(sk, sizeof sk, "optim_step%s%s", dot, sfx);
        snprintf(mn, sizeof mn, "optim%s%s.m", dot, sfx);
        snprintf(vn, sizeof vn, "optim%s%s.v", dot, sfx);
        const char *kind = lt_safetensors_meta(f, kk), *s = lt_safetensors_meta(f, sk);
        if (!kind) return lt_fail(LT_ERR_FORMAT, "%s: no optimizer state (metadata '%s' missing)", path, kk);
        if (strcmp(kind, lti_kind_names[o->cfg.kind]) != 0)
            return lt_fail(LT_ERR_FORMAT, "%s: optimizer state%s%s is for '%s', the run uses '%s'", path, *sfx ? " of " : "",
                           sfx, kind, lti_kind_names[o->cfg.kind]);
        unsigned long long v;
        const char *end;
        if (!lti_parse_u64(s, 0, &v, &end) || v > INT64_MAX)
            return lt_fail(LT_ERR_FORMAT, "%s: metadata '%s': expected a non-negative integer, found '%s'", path, sk,
                           s ? s : "nothing");
        step[j + 1] = (int64_t)v;
        if (o->m && (st = lti_expect(path, f, mn, 1, &o->n, &src[k++]))) return st;
        if (o->v && (st = lti_expect(path, f, vn, 1, &o->n, &src[k++]))) return st;
    }
    if (c->rng) {
        const char *s = lt_safetensors_meta(f, "rng"), *end;
        unsigned long long key, ctr;
        if (!lti_parse_u64(s, ':', &key, &end) || !lti_parse_u64(end + 1, 0, &ctr, &end))
            return lt_fail(LT_ERR_FORMAT, "%s: metadata 'rng': expected 'key:counter', found '%s'", path,
                           s ? s : "nothing");
        rng->key = key;
        rng->counter = ctr;
    }
    return LT_OK;
}

lt_status lt_ckpt_load(const char *path, const lt_ckpt *c, lt_st_file *file) {
    lt_st_file f;
    if (file) memset(file, 0, sizeof *file);
    lt_status st = lt_safetensors_read(path, &f);
    if (st) return st;
    int64_t cap = (c->params ? c->params->n : 0) + (c->buffers ? c->buffers->n : 0) + 2 + 2 * (int64_t)c->n_more;
    const lt_st_entry **src = lt_calloc((size_t)cap, sizeof *src);
    int64_t *step = lt_calloc((size_t)c->n_more + 1, sizeof *step);
    lt_rng rng = {0, 0};
    if (!src || !step) st = lt_fail(LT_ERR_NOMEM, "%s: out of memory loading a checkpoint", path);
    if (!st) st = lti_validate(path, c, &f, src, step, &rng);
    if (!st && c->check_meta) st = c->check_meta(path, &f, c->ud);
    if (!st) {
        /* Everything checked: now copy. */
        int64_t k = 0;
        for (int pass = 0; pass < 2; pass++) {
            const lt_params *p = pass ? c->buffers : c->params;
            for (int64_t i = 0; p && i < p->n; i++, k++) {
                lt_tensor *t = &p->items[i]->t;
                memcpy(t->data, src[k]->data, (size_t)lt_numel(t) * sizeof(float));
            }
        }
        for (int j = -1; j < c->n_more; j++) {
            lt_optim *o = j < 0 ? c->optim : c->more[j];
            if (!o) continue;
            if (o->m) memcpy(o->m, src[k++]->data, (size_t)o->n * sizeof(float));
            if (o->v) memcpy(o->v, src[k++]->data, (size_t)o->n * sizeof(float));
            o->step = step[j + 1];
        }
        if (c->rng) *c->rng = rng;
    }
    lt_free(src);
    lt_free(step);
    if (st || !file) lt_safetensors_close(&f);
    else *file = f;
    return st;
}
