/* libFuzzer target: feature specs (JSON) and, for every accepted spec, the whole
 * pipeline on a few fixed examples: transform, dense rows with initialized
 * embedding tables. Specs naming device or proc files are skipped (a
 * vocabulary_file of /dev/zero would only test the fuzzer's patience), as are
 * specs whose tables or rows exceed a few million floats. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/features.h"

#define S(str) {(const uint8_t *)(str), (int64_t)sizeof(str) - 1}
static const float fv[4] = {35.0f, -1.5f, 1e30f, 0.25f};
static const int64_t iv[4] = {7, -3, 0, INT64_MAX};
static const lt_ex_bytes bv[4] = {S("Hello"), S("red"), S(""), S("TensorFlow")};

/* Row r: keys of the form <kind letter><digit> plus the names used in the seed specs;
 * what a key holds depends on its first letter and the row, so every type meets every
 * kind of value sooner or later. */
static lt_status lookup(void *ud, int64_t row, const char *key, lt_fvalues *out) {
    (void)ud;
    memset(out, 0, sizeof *out);
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = key; *p; p++) h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    h += (uint64_t)row * 0x9e3779b97f4a7c15ULL;
    int n = (int)(h >> 8 & 3) + (row == 0); /* 0..4 values */
    switch (h & 3) {
    case 0: return LT_OK; /* absent */
    case 1: out->kind = LT_EX_FLOAT; out->f = fv; break;
    case 2: out->kind = LT_EX_INT64; out->i = iv; break;
    default: out->kind = LT_EX_BYTES; out->b = bv; break;
    }
    out->n = n > 4 ? 4 : n;
    return LT_OK;
}

/* tests/test_fuzz_corpus.c includes this file under another entry name to replay the corpora. */
#ifndef LT_FUZZ_ENTRY
#define LT_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif
int LT_FUZZ_ENTRY(const uint8_t *data, size_t size) {
    if (memmem(data, size, "/dev", 4) || memmem(data, size, "/proc", 5) || memmem(data, size, "/sys", 4)) return 0;
    lt_features *f = NULL;
    if (lt_features_parse((const char *)data, size, "fuzz/corpus/feature_spec", &f)) return 0;
    int64_t floats = 0;
    lt_params p;
    lt_params_init(&p);
    if (lt_features_declare_params(f, &p)) goto done;
    for (int64_t t = 0; t < lt_features_ntables(f); t++) floats += lt_numel(lt_features_table(f, t));
    if (floats > (1 << 22) || lt_features_width(f) > (1 << 20)) goto done;
    if (lt_params_finalize(&p)) goto done;
    lt_rng rng;
    lt_rng_seed(&rng, 1);
    lt_features_init_params(f, &rng);
    lt_feature_batch b;
    lt_feature_batch_init(&b);
    if (lt_features_transform(f, lookup, NULL, 3, &b) == LT_OK) {
        float *out = malloc(sizeof(float) * (size_t)(3 * lt_features_width(f) + 1));
        if (out && lt_features_dense(f, &b, out)) __builtin_trap(); /* tables exist: must succeed */
        free(out);
    }
    lt_feature_batch_free(&b);
done:
    lt_params_free(&p);
    lt_features_free(f);
    return 0;
}
