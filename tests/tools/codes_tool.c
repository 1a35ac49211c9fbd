/* Helper of tests/test_gpt.sh: writes code-grid TFRecord sets (the token source of
 * data/dataset_codes.c) with a known distribution.
 *   codes_tool toy PREFIX N H W K [labels]
 *       PREFIX-{train,valid,test}-0.tfrecord, N grids each (valid and test N/2): with
 *       labels, example i has class y = i mod 2, else y = 0; c_0 = 4y + u with u uniform
 *       in 0..3 and c_t = (c_{t-1} + 1 + y) mod K: entropy ln 4 nats per grid given y
 *       (ln 8 without the label when labelled). K >= 8.
 *   codes_tool bad PREFIX grid|negative|nocodes
 *       a valid train/valid/test set whose valid split's second record has another grid
 *       size, a negative code, or no 'codes' feature.
 * Errors: the library's message on stderr, exit 2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "data/example.h"
#include "data/tfrecord.h"

static int lti_err(void) {
    fprintf(stderr, "codes_tool: %s\n", lt_error_message());
    return 2;
}

static int lti_toy(const char *prefix, int64_t N, int64_t H, int64_t W, int64_t K, int labels) {
    const int64_t T = H * W;
    int64_t *c = malloc((size_t)(N * T) * sizeof *c), *y = malloc((size_t)N * sizeof *y);
    lt_rng r;
    lt_rng_seed(&r, 42);
    const char *names[3] = {"train", "valid", "test"};
    for (int s = 0; s < 3; s++) {
        const int64_t n = s ? (N / 2 > 0 ? N / 2 : 1) : N;
        for (int64_t i = 0; i < n; i++) {
            y[i] = labels ? i % 2 : 0;
            c[i * T] = 4 * y[i] + (int64_t)lt_rng_below(&r, 4);
            for (int64_t t = 1; t < T; t++) c[i * T + t] = (c[i * T + t - 1] + 1 + y[i]) % K;
        }
        char path[4200];
        snprintf(path, sizeof path, "%s-%s-0.tfrecord", prefix, names[s]);
        if (lt_codes_write(path, c, n, H, W, labels ? y : NULL)) return lti_err();
    }
    free(c);
    free(y);
    return 0;
}

static int lti_bad(const char *prefix, const char *kind) {
    if (lti_toy(prefix, 4, 2, 2, 8, 0)) return 2;
    char path[4200];
    snprintf(path, sizeof path, "%s-valid-0.tfrecord", prefix);
    lt_tfr_writer *w;
    lt_ex_builder b;
    lt_ex_builder_init(&b);
    if (lt_tfr_writer_open(&w, path, LT_TFR_NONE, -1)) return lti_err();
    for (int i = 0; i < 2; i++) {
        int64_t codes[6] = {1, 2, 3, 4, 5, 6}, h = 2, wd = 2;
        if (i == 1 && !strcmp(kind, "grid")) h = 3, wd = 2;
        if (i == 1 && !strcmp(kind, "negative")) codes[2] = -5;
        lt_ex_builder_begin(&b, 0);
        if (!(i == 1 && !strcmp(kind, "nocodes"))) lt_ex_builder_int64s(&b, "codes", codes, h * wd);
        else lt_ex_builder_floats(&b, "other", (float[]){1.0f}, 1);
        lt_ex_builder_int64s(&b, "codes/height", &h, 1);
        lt_ex_builder_int64s(&b, "codes/width", &wd, 1);
        const uint8_t *data;
        int64_t len;
        if (lt_ex_builder_finish(&b, &data, &len) || lt_tfr_writer_write(w, data, len)) return lti_err();
    }
    lt_ex_builder_free(&b);
    return lt_tfr_writer_close(w) ? lti_err() : 0;
}

int main(int argc, char **argv) {
    if (argc >= 7 && !strcmp(argv[1], "toy"))
        return lti_toy(argv[2], atoll(argv[3]), atoll(argv[4]), atoll(argv[5]), atoll(argv[6]),
                       argc > 7 && !strcmp(argv[7], "labels"));
    if (argc == 4 && !strcmp(argv[1], "bad")) return lti_bad(argv[2], argv[3]);
    fprintf(stderr, "usage: codes_tool toy PREFIX N H W K [labels] | codes_tool bad PREFIX grid|negative|nocodes\n");
    return 2;
}
