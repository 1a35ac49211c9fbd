/* Helper of tests/test_gpt_torch.sh: the logits of a trained gpt run for PyTorch to
 * compare with an equivalent torch module loaded from the same checkpoint.
 *   gpt_tool RUN OUT.safetensors
 * Opens RUN's last checkpoint, draws 3 code grids (seed 7) and labels i mod n_classes,
 * and writes "codes" I64 (3, T), "labels" I64 (3), "logits" F32 (3, T, K) (the full
 * forward) and "cached" F32 (3, T, K) (the KV-cache path). Errors: message, exit 2. */
#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "io/safetensors.h"
#include "models/internal.h"
#include "train/rundir.h"

static int lti_err(void) {
    fprintf(stderr, "gpt_tool: %s\n", lt_error_message());
    return 2;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: gpt_tool RUN OUT.safetensors\n");
        return 2;
    }
    lt_model *m;
    if (lt_checkpoint_open_model(argv[1], "last", &m, NULL)) return lti_err();
    const int64_t n = 3, T = m->dim, K = m->vocab;
    int64_t *codes = malloc((size_t)(n * T) * sizeof *codes), labels[3];
    float *cached = malloc((size_t)(n * T * K) * sizeof *cached);
    lt_rng r;
    lt_rng_seed(&r, 7);
    for (int64_t i = 0; i < n * T; i++) codes[i] = (int64_t)lt_rng_below(&r, (uint64_t)K);
    for (int64_t i = 0; i < n; i++) labels[i] = m->n_classes > 0 ? i % m->n_classes : 0;
    const int64_t *y = m->n_classes > 0 ? labels : NULL;
    lt_graph g;
    if (lt_graph_init(&g, 1 << 20)) return lti_err();
    lt_graph_set_grad(&g, 0);
    lt_tensor *lg = lti_gpt_logits(m, &g, codes, y, n);
    if (!lg || lti_gpt_cached_logits(m, &g, codes, y, n, cached)) return lti_err();
    lt_st_entry e[4] = {{"codes", LT_ST_I64, 2, {n, T}, codes},
                        {"labels", LT_ST_I64, 1, {n}, labels},
                        {"logits", LT_ST_F32, 3, {n, T, K}, lg->data},
                        {"cached", LT_ST_F32, 3, {n, T, K}, cached}};
    if (lt_safetensors_write(argv[2], e, 4, NULL, 0)) return lti_err();
    lt_graph_free(&g);
    free(codes);
    free(cached);
    lt_model_destroy(m);
    return 0;
}
