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
#include "train/checkpoint.h"

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

lt_status lt_run_identify(const char *dir, lt_run_id *out) {
    struct stat sb;
    if (stat(dir, &sb)) return lt_fail(LT_ERR_IO, "cannot stat run directory %s: %s", dir, strerror(errno));
    out->dev = (uint64_t)sb.st_dev;
    out->ino = (uint64_t)sb.st_ino;
    return LT_OK;
}

lt_status lt_run_check(const char *dir, const lt_run_id *id) {
    struct stat sb;
    if (stat(dir, &sb))
        return lt_fail(LT_ERR_IO, "run directory %s is gone (%s) since this run started; nothing more written",
                       dir, strerror(errno));
    if ((uint64_t)sb.st_dev != id->dev || (uint64_t)sb.st_ino != id->ino)
        return lt_fail(LT_ERR_IO, "run directory %s was replaced by another directory since this run started "
                       "(inode %llu, was %llu); nothing more written into it", dir,
                       (unsigned long long)sb.st_ino, (unsigned long long)id->ino);
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

lt_status lt_run_write_file(const char *path, const void *bytes, size_t n) { return lti_write_atomic(path, bytes, n); }

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
    lt_optim *one[1] = {(lt_optim *)o};
    return lt_checkpoint_save_groups(path, m, one, NULL, o ? 1 : 0, s, class_prior);
}

lt_status lt_checkpoint_save_groups(const char *path, const lt_model *m, lt_optim *const *opts,
                                    const char *const *names, int n_opts, const lt_train_state *s,
                                    const double *class_prior) {
    char *cfg = json_dumps(m->config, JSON_COMPACT | JSON_SORT_KEYS);
    char *prior = NULL;
    if (class_prior && m->n_classes > 0) {
        json_t *a = json_array();
        for (int64_t c = 0; c < m->n_classes; c++) json_array_append_new(a, json_real(class_prior[c]));
        prior = json_dumps(a, JSON_COMPACT | JSON_REAL_PRECISION(17));
        json_decref(a);
    }
    char v[10][64];
    lt_st_kv meta[16];
    int nm = 0;
    meta[nm++] = (lt_st_kv){"format", LTI_CKPT_FORMAT};
    meta[nm++] = (lt_st_kv){"model", m->vt->name};
    meta[nm++] = (lt_st_kv){"config", cfg ? cfg : "{}"};
    if (prior) meta[nm++] = (lt_st_kv){"class_prior", prior};
    if (s) {
        snprintf(v[0], 64, "%lld", (long long)s->epoch);
        meta[nm++] = (lt_st_kv){"epoch", v[0]};
        snprintf(v[1], 64, "%lld", (long long)s->step_in_epoch);
        meta[nm++] = (lt_st_kv){"step_in_epoch", v[1]};
        snprintf(v[2], 64, "%lld", (long long)s->global_step);
        meta[nm++] = (lt_st_kv){"global_step", v[2]};
        snprintf(v[3], 64, "%.17g", s->loss_sum);
        meta[nm++] = (lt_st_kv){"loss_sum", v[3]};
        snprintf(v[4], 64, "%.17g", s->best_valid);
        meta[nm++] = (lt_st_kv){"best_valid", v[4]};
        snprintf(v[5], 64, "%lld", (long long)s->best_epoch);
        meta[nm++] = (lt_st_kv){"best_epoch", v[5]};
        snprintf(v[6], 64, "%lld", (long long)s->bad_epochs);
        meta[nm++] = (lt_st_kv){"bad_epochs", v[6]};
        snprintf(v[7], 64, "%.6f", s->seconds);
        meta[nm++] = (lt_st_kv){"seconds", v[7]};
        lti_fmt_rng(v[8], sizeof v[8], &s->rng);
        meta[nm++] = (lt_st_kv){"train_rng", v[8]};
    }
    /* The model's own RNG (masks, initialization) goes in the generic "rng" slot. */
    lt_model *mm = (lt_model *)m;
    lt_ckpt ck = {&mm->params, &mm->buffers, n_opts > 0 ? opts[0] : NULL, &mm->rng, NULL, NULL,
                  n_opts > 1 ? n_opts - 1 : 0, n_opts > 1 ? opts + 1 : NULL, n_opts > 1 ? names + 1 : NULL};
    lt_status st = cfg ? lt_ckpt_save(path, &ck, meta, nm) : lt_fail(LT_ERR_NOMEM, "saving %s", path);
    free(cfg);
    free(prior);
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

typedef struct lti_load_meta {
    const lt_model *m;
    lt_train_state *s;      /* NULL: not wanted */
    double *class_prior;    /* NULL: not wanted */
    lt_train_state t;       /* parsed here, committed by the caller after the copy */
    double *prior;          /* (n_classes) scratch, parsed here */
    int64_t gstep;          /* -1: none in the file */
} lti_load_meta;

/* Parses the trainer's metadata before the checkpoint copies anything (so a bad
 * file leaves the model untouched). */
static lt_status lti_check_meta(const char *path, const lt_st_file *f, void *ud) {
    lti_load_meta *lm = ud;
    lt_status st = LT_OK;
    if (lm->s) {
        lt_train_state *t = &lm->t;
        memset(t, 0, sizeof *t);
        if (!st) st = lti_meta_i64(path, f, "epoch", &t->epoch);
        if (!st) st = lti_meta_i64(path, f, "step_in_epoch", &t->step_in_epoch);
        if (!st) st = lti_meta_i64(path, f, "global_step", &t->global_step);
        if (!st) st = lti_meta_f64(path, f, "loss_sum", &t->loss_sum);
        if (!st) st = lti_meta_f64(path, f, "best_valid", &t->best_valid);
        if (!st) st = lti_meta_i64(path, f, "best_epoch", &t->best_epoch);
        if (!st) st = lti_meta_i64(path, f, "bad_epochs", &t->bad_epochs);
        if (!st) st = lti_meta_f64(path, f, "seconds", &t->seconds);
        if (!st && !lti_parse_rng(lt_safetensors_meta(f, "train_rng"), &t->rng))
            st = lt_fail(LT_ERR_FORMAT, "%s: metadata 'train_rng' missing or malformed", path);
    }
    lm->gstep = -1;
    if (!st && lm->s) lm->gstep = lm->t.global_step; /* parsed just above */
    else if (!st && lt_safetensors_meta(f, "global_step")) st = lti_meta_i64(path, f, "global_step", &lm->gstep);
    const int64_t C = lm->m->n_classes;
    if (!st && lm->class_prior && C > 0) {
        const char *pr = lt_safetensors_meta(f, "class_prior");
        json_t *a = pr ? json_loads(pr, 0, NULL) : NULL;
        if (!a || !json_is_array(a) || (int64_t)json_array_size(a) != C) {
            st = lt_fail(LT_ERR_FORMAT, "%s: metadata 'class_prior': expected an array of %lld numbers", path,
                         (long long)C);
        } else {
            for (int64_t c = 0; c < C; c++) lm->prior[c] = json_number_value(json_array_get(a, (size_t)c));
        }
        json_decref(a);
    }
    return st;
}

lt_status lt_checkpoint_load(const char *path, lt_model *m, lt_optim *o, lt_train_state *s, double *class_prior) {
    lt_optim *one[1] = {o};
    return lt_checkpoint_load_groups(path, m, one, NULL, o ? 1 : 0, s, class_prior);
}

lt_status lt_checkpoint_load_groups(const char *path, lt_model *m, lt_optim *const *opts, const char *const *names,
                                    int n_opts, lt_train_state *s, double *class_prior) {
    if (access(path, F_OK)) return lt_fail(LT_ERR_ARG, "%s: no checkpoint (%s)", path, strerror(errno));
    lti_load_meta lm = {m, s, class_prior, {0}, NULL, -1};
    if (class_prior && m->n_classes > 0 && !(lm.prior = lt_calloc((size_t)m->n_classes, sizeof *lm.prior)))
        return lt_fail(LT_ERR_NOMEM, "%s: class prior", path);
    lt_ckpt ck = {&m->params, &m->buffers, n_opts > 0 ? opts[0] : NULL, &m->rng, lti_check_meta, &lm,
                  n_opts > 1 ? n_opts - 1 : 0, n_opts > 1 ? opts + 1 : NULL, n_opts > 1 ? names + 1 : NULL};
    lt_status st = lt_ckpt_load(path, &ck, NULL);
    if (!st) {
        if (s) *s = lm.t;
        if (lm.prior) memcpy(class_prior, lm.prior, sizeof(double) * (size_t)m->n_classes);
        /* step-dependent model state (gsvae's temperature) as in the last step taken */
        if (m->vt->on_step && lm.gstep >= 0) m->vt->on_step(m, lm.gstep > 0 ? lm.gstep - 1 : 0);
    }
    lt_free(lm.prior);
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
