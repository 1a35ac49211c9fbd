/* The frozen trunk and its memo (vq_trunk.h). */
#include "models/vq_trunk.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "io/safetensors.h"

lt_status lti_vq_trunk_load(const char *run, lt_params *p, const char *prefix, const char *skip) {
    char path[4200];
    snprintf(path, sizeof path, "%s/checkpoints/best.safetensors", run);
    if (access(path, F_OK)) snprintf(path, sizeof path, "%s/checkpoints/last.safetensors", run);
    if (access(path, F_OK)) return lt_fail(LT_ERR_ARG, "trunk_from %s: no checkpoints/best.safetensors or last.safetensors", run);
    lt_st_file f;
    lt_status st = lt_safetensors_read(path, &f);
    if (st) return st;
    const char *mn = lt_safetensors_meta(&f, "model");
    if (!mn || strcmp(mn, "vqvae")) st = lt_fail(LT_ERR_FORMAT, "%s: a checkpoint of model '%s', expected vqvae", path, mn ? mn : "(none)");
    for (int64_t i = 0; !st && i < p->n; i++) {
        lt_param *q = p->items[i];
        if (skip && !strncmp(q->name, skip, strlen(skip))) continue;
        char key[LT_PARAM_NAME_MAX + 16], a[64], b[64];
        snprintf(key, sizeof key, "%s%s", prefix, q->name);
        const lt_st_entry *s = lt_safetensors_find(&f, key);
        lt_tensor got = lt_tensor_wrap(NULL, s ? s->ndim : 0, s ? s->shape : NULL);
        if (!s) st = lt_fail(LT_ERR_FORMAT, "%s: tensor '%s' missing (the trunk needs it)", path, key);
        else if (s->dtype != LT_ST_F32 || !lt_tensor_same_shape(&q->t, &got))
            st = lt_fail(LT_ERR_FORMAT, "%s: tensor '%s' is %s %s, expected F32 %s", path, key, s->dtype == LT_ST_F32 ? "F32" : "not F32",
                         lt_shape_str(&got, a, sizeof a), lt_shape_str(&q->t, b, sizeof b));
        else {
            memcpy(q->t.data, s->data, sizeof(float) * (size_t)lt_numel(&q->t));
            q->t.requires_grad = 0;
        }
    }
    lt_safetensors_close(&f);
    return st;
}

void lti_vq_memo_init(lti_vq_memo *m, int64_t dim, int64_t hw) {
    *m = (lti_vq_memo){.dim = dim, .hw = hw, .bytes = (dim + 7) / 8};
}

static void memo_pack(const lti_vq_memo *m, const float *x, unsigned char *out) {
    memset(out, 0, (size_t)m->bytes);
    for (int64_t j = 0; j < m->dim; j++)
        if (x[j] != 0.0f) out[j >> 3] |= (unsigned char)(1u << (j & 7));
}

static uint64_t memo_hash(const unsigned char *b, int64_t n) { /* FNV-1a */
    uint64_t h = 1469598103934665603ULL;
    for (int64_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}

/* the slot of packed image b: its entry's or the empty one where it would go */
static int64_t memo_slot(const lti_vq_memo *m, const unsigned char *b) {
    int64_t s = (int64_t)(memo_hash(b, m->bytes) & (uint64_t)(m->tcap - 1));
    while (m->table[s] && memcmp(m->bits + (m->table[s] - 1) * m->bytes, b, (size_t)m->bytes))
        s = (s + 1) & (m->tcap - 1);
    return s;
}

int64_t lti_vq_memo_find(const lti_vq_memo *m, const float *x) {
    if (!m->n) return -1;
    unsigned char b[m->bytes];
    memo_pack(m, x, b);
    return m->table[memo_slot(m, b)] - 1;
}

static lt_status memo_grow(lti_vq_memo *m) {
    const int64_t cap = m->cap ? 2 * m->cap : 1024, tcap = 4 * cap;
    unsigned char *bits = lt_realloc(m->bits, (size_t)(cap * m->bytes));
    if (bits) m->bits = bits;
    float *lg = bits ? lt_realloc(m->logits, sizeof(float) * (size_t)(cap * m->dim)) : NULL;
    if (lg) m->logits = lg;
    int64_t *cd = lg ? lt_realloc(m->codes, sizeof(int64_t) * (size_t)(cap * m->hw)) : NULL;
    if (cd) m->codes = cd;
    float *cm = cd ? lt_realloc(m->commit, sizeof(float) * (size_t)cap) : NULL;
    if (cm) m->commit = cm;
    int64_t *t = cm ? lt_calloc((size_t)tcap, sizeof(int64_t)) : NULL;
    if (!t) return lt_fail(LT_ERR_NOMEM, "out of memory growing the trunk memo to %lld images", (long long)cap);
    lt_free(m->table);
    m->table = t;
    m->cap = cap;
    m->tcap = tcap;
    for (int64_t i = 0; i < m->n; i++) m->table[memo_slot(m, m->bits + i * m->bytes)] = i + 1;
    return LT_OK;
}

lt_status lti_vq_memo_add(lti_vq_memo *m, const float *x, const float *logits, const int64_t *codes, float commit) {
    lt_status st;
    if (m->n == m->cap && (st = memo_grow(m))) return st;
    unsigned char *b = m->bits + m->n * m->bytes;
    memo_pack(m, x, b);
    const int64_t s = memo_slot(m, b);
    if (m->table[s]) return LT_OK; /* already there */
    memcpy(m->logits + m->n * m->dim, logits, sizeof(float) * (size_t)m->dim);
    memcpy(m->codes + m->n * m->hw, codes, sizeof(int64_t) * (size_t)m->hw);
    m->commit[m->n] = commit;
    m->table[s] = ++m->n;
    return LT_OK;
}

void lti_vq_memo_free(lti_vq_memo *m) {
    lt_free(m->table);
    lt_free(m->bits);
    lt_free(m->logits);
    lt_free(m->codes);
    lt_free(m->commit);
    *m = (lti_vq_memo){0};
}
