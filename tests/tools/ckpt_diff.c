/* ckpt_diff A B: compares two checkpoints' trained parameters (param.*) and buffers (buffer.*:
 * a VQ codebook's EMA state, ...), tensor by tensor. Prints the largest relative difference
 * max|a − b| / max|b| over the tensors and how many of each kind it compared, and exits 0;
 * with --exact, exits 1 unless every F32 tensor (parameters and optimizer state) is
 * bit-identical. Exit 2 when the files do not hold the same tensors. For tests/test_mpi.sh. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "io/safetensors.h"

static int64_t numel(const lt_st_entry *e) {
    int64_t n = 1;
    for (int i = 0; i < e->ndim; i++) n *= e->shape[i];
    return n;
}

int main(int argc, char **argv) {
    const int exact = argc == 4 && !strcmp(argv[1], "--exact");
    if (argc != 3 + exact) {
        fprintf(stderr, "usage: ckpt_diff [--exact] A.safetensors B.safetensors\n");
        return 2;
    }
    lt_st_file a, b;
    if (lt_safetensors_read(argv[1 + exact], &a) || lt_safetensors_read(argv[2 + exact], &b)) {
        fprintf(stderr, "ckpt_diff: %s\n", lt_error_message());
        return 2;
    }
    double worst = 0;
    int differ = 0, code = 0, np = 0, nb = 0;
    for (int64_t i = 0; i < a.n && !code; i++) {
        const lt_st_entry *x = &a.entries[i], *y = lt_safetensors_find(&b, x->name);
        if (x->dtype != LT_ST_F32) continue;
        if (!y || y->dtype != LT_ST_F32 || numel(y) != numel(x)) {
            fprintf(stderr, "ckpt_diff: tensor %s differs in presence, type or size\n", x->name);
            code = 2;
            break;
        }
        const int64_t n = numel(x);
        const float *p = x->data, *q = y->data;
        differ |= memcmp(p, q, (size_t)n * sizeof *p) != 0;
        if (strncmp(x->name, "param.", 6) && strncmp(x->name, "buffer.", 7)) continue;
        if (x->name[0] == 'p') np++;
        else nb++;
        double d = 0, m = 0;
        for (int64_t k = 0; k < n; k++) {
            d = fmax(d, fabs((double)p[k] - q[k]));
            m = fmax(m, fabs((double)q[k]));
        }
        if (m > 0 && d / m > worst) worst = d / m;
        if (m == 0 && d > 0) worst = INFINITY;
    }
    if (!code) printf("max_rel %.3g%s (%d params, %d buffers)\n", worst, differ ? "" : " identical", np, nb);
    lt_safetensors_close(&a);
    lt_safetensors_close(&b);
    return code ? code : exact && differ ? 1 : 0;
}
