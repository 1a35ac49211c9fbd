/* Run directories and checkpoints (see rundir.h). */
#include "train/rundir.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "io/safetensors.h"

#define LTI_CKPT_FORMAT "latent-checkpoint-1"

lt_status lt_run_mkdir(const char *dir) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0755) && errno != EEXIST)
                return lt_fail(LT_ERR_IO, "cannot create directory %s: %s", buf, strerror(errno));
            *p = c;
            if (!c) break;
        }
    }
    struct stat sb;
    if (stat(dir, &sb) || !S_ISDIR(sb.st_mode)) return lt_fail(LT_ERR_IO, "%s exists and is not a directory", dir);
    return LT_OK;
}

/* Writes n bytes to PATH via PATH.tmp + fsync + rename. */
static lt_status lti_write_atomic(const char *path, const char *bytes, size_t n) {
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return lt_fail(LT_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
    int bad = fwrite(bytes, 1, n, f) != n;
    bad |= fflush(f) != 0;
    bad |= fsync(fileno(f)) != 0;
    int e = errno;
    bad |= fclose(f) != 0;
    if (bad) {
        remove(tmp);
        return lt_fail(LT_ERR_IO, "cannot write %s: %s", path, strerror(e));
    }
    if (rename(tmp, path)) {
        e = errno;
        remove(tmp);
        return lt_fail(LT_ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(e));
    }
    return LT_OK;
}

lt_status lt_run_write_json(const char *path, const json_t *v) {
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    if (!s) return lt_fail(LT_ERR_NOMEM, "cannot serialize %s", path);
    size_t n = strlen(s);
    char *t = lt_malloc(n + 2);
    if (!t) { free(s); return lt_fail(LT_ERR_NOMEM, "cannot serialize %s", path); }
    memcpy(t, s, n);
    free(s); /* jansson allocates with malloc */
    t[n] = '\n';
    t[n + 1] = 0;
    lt_status st = lti_write_atomic(path, t, n + 1);
    lt_free(t);
    return st;
}

lt_status lt_run_read_json(const char *path, json_t **out) {
    *out = NULL;
    if (access(path, F_OK)) return lt_fail(LT_ERR_ARG, "%s: %s", path, strerror(errno));
    json_error_t err;
    json_t *v = json_load_file(path, 0, &err);
    if (!v) return lt_fail(LT_ERR_FORMAT, "%s line %d: bad JSON: %s", path, err.line, err.text);
    if (!json_is_object(v)) {
        json_decref(v);
        return lt_fail(LT_ERR_FORMAT, "%s: expected a JSON object", path);
    }
    *out = v;
    return LT_OK;
}

lt_status lt_run_append_metrics(const char *run_dir, int64_t epoch, const char *line) {
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.jsonl", run_dir);
    size_t cap = strlen(line) + 2, n = 0;
    char *out = NULL;
    FILE *f = fopen(path, "rb");
    char *old = NULL;
    long old_n = 0;
    if (f) {
        if (fseek(f, 0, SEEK_END) == 0 && (old_n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
            old = lt_malloc((size_t)old_n + 1);
            if (!old) { fclose(f); return lt_fail(LT_ERR_NOMEM, "reading %s", path); }
            old_n = (long)fread(old, 1, (size_t)old_n, f);
            old[old_n] = 0;
        }
        fclose(f);
    }
    cap += (size_t)old_n;
    out = lt_malloc(cap + 1);
    if (!out) { lt_free(old); return lt_fail(LT_ERR_NOMEM, "writing %s", path); }
    for (char *p = old, *e; p && *p; p = e) {
        e = strchr(p, '\n');
        e = e ? e + 1 : p + strlen(p);
        json_t *v = json_loadb(p, (size_t)(e - p), 0, NULL);
        json_t *ep = v ? json_object_get(v, "epoch") : NULL;
        int keep = ep && json_is_integer(ep) && json_integer_value(ep) < epoch;
        json_decref(v);
        if (keep) {
            memcpy(out + n, p, (size_t)(e - p));
            n += (size_t)(e - p);
            if (out[n - 1] != '\n') out[n++] = '\n';
        }
    }
    n += (size_t)sprintf(out + n, "%s\n", line);
    lt_status st = lti_write_atomic(path, out, n);
    lt_free(old);
    lt_free(out);
    return st;
}

/* ---- checkpoints ---- */

static void lti_fmt_rng(char *buf, size_t cap, const lt_rng *r) {
    snprintf(buf, cap, "%llu:%llu", (unsigned long long)r->key, (unsigned long long)r->counter);
}

static int lti_parse_rng(const char *s, lt_rng *r) {
    unsigned long long k, c;
    if (!s || sscanf(s, "%llu:%llu", &k, &c) != 2) return 0;
    r->key = k;
    r->counter = c;
    return 1;
}

lt_status lt_checkpoint_save(const char *path, const lt_model *m, const lt_optim *o, const lt_train_state *s,
                             const double *class_prior) {
    int64_t n = m->params.n + m->buffers.n + 2;
    lt_st_entry *e = lt_calloc((size_t)n, sizeof *e);
    char *names = lt_malloc((size_t)n * (LT_PARAM_NAME_MAX + 8));
    if (!e || !names) {
        lt_free(e);
        lt_free(names);
        return lt_fail(LT_ERR_NOMEM, "saving %s", path);
    }
    int64_t k = 0;
    for (int pass = 0; pass < 2; pass++) {
        const lt_params *p = pass ? &m->buffers : &m->params;
        for (int64_t i = 0; i < p->n; i++, k++) {
            char *nm = names + k * (LT_PARAM_NAME_MAX + 8);
            snprintf(nm, LT_PARAM_NAME_MAX + 8, "%s.%s", pass ? "buffer" : "param", p->items[i]->name);
            const lt_tensor *t = &p->items[i]->t;
            e[k] = (lt_st_entry){.name = nm, .dtype = LT_ST_F32, .ndim = t->ndim, .data = t->data};
            memcpy(e[k].shape, t->shape, sizeof t->shape);
        }
    }
    if (o) {
        e[k++] = (lt_st_entry){.name = "optim.m", .dtype = LT_ST_F32, .ndim = 1, .shape = {o->n}, .data = o->m};
        if (o->v)
            e[k++] = (lt_st_entry){.name = "optim.v", .dtype = LT_ST_F32, .ndim = 1, .shape = {o->n}, .data = o->v};
    }
    char *cfg = json_dumps(m->config, JSON_COMPACT | JSON_SORT_KEYS);
    char *prior = NULL;
    if (class_prior && m->n_classes > 0) {
        json_t *a = json_array();
        for (int64_t c = 0; c < m->n_classes; c++) json_array_append_new(a, json_real(class_prior[c]));
        prior = json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(17));
        json_decref(a);
    }
    char v[12][64];
    lt_st_kv meta[20];
    int nm = 0;
    meta[nm++] = (lt_st_kv){"format", LTI_CKPT_FORMAT};
    meta[nm++] = (lt_st_kv){"model", m->vt->name};
    meta[nm++] = (lt_st_kv){"config", cfg ? cfg : "{}"};
    lti_fmt_rng(v[0], sizeof v[0], &m->rng);
    meta[nm++] = (lt_st_kv){"model_rng", v[0]};
    if (prior) meta[nm++] = (lt_st_kv){"class_prior", prior};
    if (o) {
        snprintf(v[1], 64, "%lld", (long long)o->step);
        meta[nm++] = (lt_st_kv){"optim_step", v[1]};
        snprintf(v[2], 64, "%d", (int)o->cfg.kind);
        meta[nm++] = (lt_st_kv){"optim_kind", v[2]};
    }
    if (s) {
        snprintf(v[3], 64, "%lld", (long long)s->epoch);
        meta[nm++] = (lt_st_kv){"epoch", v[3]};
        snprintf(v[4], 64, "%lld", (long long)s->step_in_epoch);
        meta[nm++] = (lt_st_kv){"step_in_epoch", v[4]};
        snprintf(v[5], 64, "%lld", (long long)s->global_step);
        meta[nm++] = (lt_st_kv){"global_step", v[5]};
        snprintf(v[6], 64, "%.17g", s->loss_sum);
        meta[nm++] = (lt_st_kv){"loss_sum", v[6]};
        snprintf(v[7], 64, "%.17g", s->best_valid);
        meta[nm++] = (lt_st_kv){"best_valid", v[7]};
        snprintf(v[8], 64, "%lld", (long long)s->best_epoch);
        meta[nm++] = (lt_st_kv){"best_epoch", v[8]};
        snprintf(v[9], 64, "%lld", (long long)s->bad_epochs);
        meta[nm++] = (lt_st_kv){"bad_epochs", v[9]};
        snprintf(v[10], 64, "%.6f", s->seconds);
        meta[nm++] = (lt_st_kv){"seconds", v[10]};
        lti_fmt_rng(v[11], sizeof v[11], &s->rng);
        meta[nm++] = (lt_st_kv){"train_rng", v[11]};
    }
    lt_status st = cfg ? lt_safetensors_write(path, e, k, meta, nm) : lt_fail(LT_ERR_NOMEM, "saving %s", path);
    free(cfg);
    free(prior);
    lt_free(e);
    lt_free(names);
    return st;
}

lt_status lt_checkpoint_peek(const char *path, char *model_name, int cap, json_t **config) {
    *config = NULL;
    lt_st_file f;
    if (access(path, F_OK)) return lt_fail(LT_ERR_ARG, "%s: no checkpoint (%s)", path, strerror(errno));
    lt_status st = lt_safetensors_read(path, &f);
    if (st) return st;
    const char *fmt = lt_safetensors_meta(&f, "format"), *name = lt_safetensors_meta(&f, "model"),
               *cfg = lt_safetensors_meta(&f, "config");
    if (!fmt || strcmp(fmt, LTI_CKPT_FORMAT) || !name || !cfg) {
        st = lt_fail(LT_ERR_FORMAT, "%s: expected a latent checkpoint (metadata format=%s, model, config), found %s",
                     path, LTI_CKPT_FORMAT, fmt ? fmt : "no format key");
    } else {
        json_error_t err;
        *config = json_loads(cfg, 0, &err);
        if (!*config || !json_is_object(*config))
            st = lt_fail(LT_ERR_FORMAT, "%s: metadata 'config' is not a JSON object: %s", path, err.text);
        snprintf(model_name, (size_t)cap, "%s", name);
    }
    lt_safetensors_close(&f);
    if (st && *config) {
        json_decref(*config);
        *config = NULL;
    }
    return st;
}

static lt_status lti_load_f32(const char *path, const lt_st_file *f, const char *name, int ndim, const int64_t *shape,
                              float *dst) {
    const lt_st_entry *e = lt_safetensors_find(f, name);
    if (!e) return lt_fail(LT_ERR_FORMAT, "%s: expected tensor '%s', found none", path, name);
    int64_t n = 1;
    int same = e->dtype == LT_ST_F32 && e->ndim == ndim;
    for (int i = 0; i < ndim; i++) {
        same = same && e->shape[i] == shape[i];
        n *= shape[i];
    }
    if (!same) {
        char a[96] = "", b[96] = "";
        for (int i = 0; i < ndim; i++) snprintf(a + strlen(a), sizeof a - strlen(a), "%s%lld", i ? "," : "", (long long)shape[i]);
        for (int i = 0; i < e->ndim; i++) snprintf(b + strlen(b), sizeof b - strlen(b), "%s%lld", i ? "," : "", (long long)e->shape[i]);
        return lt_fail(LT_ERR_FORMAT, "%s: tensor '%s': expected f32 (%s), found %s(%s)", path, name, a,
                       e->dtype == LT_ST_F32 ? "f32" : "non-f32 ", b);
    }
    memcpy(dst, e->data, (size_t)n * sizeof(float));
    return LT_OK;
}

static lt_status lti_meta_i64(const char *path, const lt_st_file *f, const char *key, int64_t *out) {
    const char *s = lt_safetensors_meta(f, key);
    char *end;
    if (!s) return lt_fail(LT_ERR_FORMAT, "%s: metadata '%s' missing", path, key);
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s) return lt_fail(LT_ERR_FORMAT, "%s: metadata '%s': expected an integer, found '%s'", path, key, s);
    *out = v;
    return LT_OK;
}

static lt_status lti_meta_f64(const char *path, const lt_st_file *f, const char *key, double *out) {
    const char *s = lt_safetensors_meta(f, key);
    char *end;
    if (!s) return lt_fail(LT_ERR_FORMAT, "%s: metadata '%s' missing", path, key);
    *out = strtod(s, &end);
    if (*end || end == s) return lt_fail(LT_ERR_FORMAT, "%s: metadata '%s': expected a number, found '%s'", path, key, s);
    return LT_OK;
}

lt_status lt_checkpoint_load(const char *path, lt_model *m, lt_optim *o, lt_train_state *s, double *class_prior) {
    lt_st_file f;
    if (access(path, F_OK)) return lt_fail(LT_ERR_ARG, "%s: no checkpoint (%s)", path, strerror(errno));
    lt_status st = lt_safetensors_read(path, &f);
    if (st) return st;
    char nm[LT_PARAM_NAME_MAX + 8];
    for (int pass = 0; pass < 2 && !st; pass++) {
        const lt_params *p = pass ? &m->buffers : &m->params;
        for (int64_t i = 0; i < p->n && !st; i++) {
            snprintf(nm, sizeof nm, "%s.%s", pass ? "buffer" : "param", p->items[i]->name);
            const lt_tensor *t = &p->items[i]->t;
            st = lti_load_f32(path, &f, nm, t->ndim, t->shape, t->data);
        }
    }
    if (!st && !lti_parse_rng(lt_safetensors_meta(&f, "model_rng"), &m->rng))
        st = lt_fail(LT_ERR_FORMAT, "%s: metadata 'model_rng' missing or malformed", path);
    if (!st && o) {
        int64_t kind = -1;
        st = lti_meta_i64(path, &f, "optim_kind", &kind);
        if (!st && kind != (int64_t)o->cfg.kind)
            st = lt_fail(LT_ERR_FORMAT, "%s: optimizer state is for optimizer kind %lld, the run uses %d", path,
                         (long long)kind, (int)o->cfg.kind);
        if (!st) st = lti_meta_i64(path, &f, "optim_step", &o->step);
        if (!st) st = lti_load_f32(path, &f, "optim.m", 1, &o->n, o->m);
        if (!st && o->v) st = lti_load_f32(path, &f, "optim.v", 1, &o->n, o->v);
    }
    if (!st && s) {
        memset(s, 0, sizeof *s);
        if (!st) st = lti_meta_i64(path, &f, "epoch", &s->epoch);
        if (!st) st = lti_meta_i64(path, &f, "step_in_epoch", &s->step_in_epoch);
        if (!st) st = lti_meta_i64(path, &f, "global_step", &s->global_step);
        if (!st) st = lti_meta_f64(path, &f, "loss_sum", &s->loss_sum);
        if (!st) st = lti_meta_f64(path, &f, "best_valid", &s->best_valid);
        if (!st) st = lti_meta_i64(path, &f, "best_epoch", &s->best_epoch);
        if (!st) st = lti_meta_i64(path, &f, "bad_epochs", &s->bad_epochs);
        if (!st) st = lti_meta_f64(path, &f, "seconds", &s->seconds);
        if (!st && !lti_parse_rng(lt_safetensors_meta(&f, "train_rng"), &s->rng))
            st = lt_fail(LT_ERR_FORMAT, "%s: metadata 'train_rng' missing or malformed", path);
    }
    if (!st && class_prior && m->n_classes > 0) {
        const char *pr = lt_safetensors_meta(&f, "class_prior");
        json_t *a = pr ? json_loads(pr, 0, NULL) : NULL;
        if (!a || !json_is_array(a) || (int64_t)json_array_size(a) != m->n_classes) {
            st = lt_fail(LT_ERR_FORMAT, "%s: metadata 'class_prior': expected an array of %lld numbers", path,
                         (long long)m->n_classes);
        } else {
            for (int64_t c = 0; c < m->n_classes; c++) class_prior[c] = json_number_value(json_array_get(a, (size_t)c));
        }
        json_decref(a);
    }
    lt_safetensors_close(&f);
    return st;
}

lt_status lt_checkpoint_open_model(const char *run_dir, const char *which, lt_model **out, double **prior) {
    *out = NULL;
    if (prior) *prior = NULL;
    char path[4200], name[64];
    snprintf(path, sizeof path, "%s/checkpoints/%s.safetensors", run_dir, which);
    json_t *cfg;
    lt_status st = lt_checkpoint_peek(path, name, sizeof name, &cfg);
    if (st) return st;
    lt_model *m;
    st = lt_model_create(name, cfg, &m);
    json_decref(cfg);
    if (st) return lt_fail_context(LT_ERR_FORMAT, "%s: ", path);
    double *pr = NULL;
    if (prior && m->n_classes > 0 && !(pr = lt_calloc((size_t)m->n_classes, sizeof *pr))) st = LT_ERR_NOMEM;
    if (!st) st = lt_checkpoint_load(path, m, NULL, NULL, pr);
    if (st) {
        lt_free(pr);
        lt_model_destroy(m);
        return st;
    }
    *out = m;
    if (prior) *prior = pr;
    return LT_OK;
}
