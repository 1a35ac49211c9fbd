/* Helper of tests/test_torch_ops.sh: runs conv2d, conv_transpose2d, group_norm,
 * layer_norm, causal_softmax, attention, gelu, linear_add, nt_xent, batch_norm, batch_norm_relu and group_norm_silu on inputs PyTorch wrote, and writes the outputs
 * and the gradients of Σ r·y back for PyTorch to compare.
 *   ops_tool DIR   for each case NAME: reads DIR/NAME.in = the inputs then r, raw
 *                  float32, shapes fixed below (and, independently, in the script);
 *                  writes DIR/NAME.out = y, then the gradient of every input. */
#include <stdio.h>
#include <string.h>

#include "autograd/backward.h"
#include "ops/ops.h"

typedef struct {
    const char *name;
    int nin;
    int ndim[4];
    int64_t shape[4][4];
} tool_case;

static const tool_case CASES[] = {
    {"conv2d", 3, {4, 4, 1}, {{2, 3, 9, 8}, {4, 3, 3, 2}, {4}}},           /* stride 2 pad 1 */
    {"conv_transpose2d", 3, {4, 4, 1}, {{2, 4, 5, 4}, {4, 3, 4, 4}, {3}}}, /* stride 2 pad 1 */
    {"group_norm", 3, {4, 1, 1}, {{2, 6, 5, 4}, {6}, {6}}},                /* 3 groups, eps 1e-5 */
    {"layer_norm", 3, {3, 1, 1}, {{3, 4, 7}, {7}, {7}}},                   /* eps 1e-5 */
    {"causal_softmax", 1, {3}, {{2, 5, 5}}},
    {"attention_causal", 1, {3}, {{2, 7, 36}}}, /* 3 heads, causal */
    {"attention_full", 1, {3}, {{3, 5, 24}}},   /* 2 heads */
    {"attention_long", 1, {3}, {{1, 70, 24}}},  /* 4 heads, causal */
    {"gelu", 1, {2}, {{8, 100}}},               /* of 6·x: x in [-6, 6] */
    {"conv2d_k3", 3, {4, 4, 1}, {{9, 3, 7, 9}, {17, 3, 3, 3}, {17}}},           /* stride 1 pad 1 */
    {"conv_transpose2d_c3", 3, {4, 4, 1}, {{9, 33, 5, 4}, {33, 3, 4, 4}, {3}}}, /* stride 2 pad 1 */
    {"linear_add", 4, {2, 2, 1, 2}, {{9, 7}, {5, 7}, {5}, {9, 5}}}, /* x, w, bias, res */
    {"nt_xent", 1, {2}, {{10, 6}}}, /* 5 examples × 2 views, tau 0.5 */
    {"conv2d_wino", 3, {4, 4, 1}, {{5, 20, 7, 7}, {18, 20, 3, 3}, {18}}}, /* stride 1 pad 1: Winograd */
    {"batch_norm", 3, {4, 1, 1}, {{6, 4, 5, 3}, {4}, {4}}},                        /* batch statistics, eps 1e-5 */
    {"batch_norm_relu", 4, {4, 1, 1, 4}, {{4, 5, 3, 3}, {5}, {5}, {4, 5, 3, 3}}}, /* relu(bn(x) + res) */
    {"group_norm_silu", 3, {4, 1, 1}, {{3, 8, 6, 5}, {8}, {8}}},                   /* 4 groups, eps 1e-6 */
    {"batch_norm_wide", 3, {4, 1, 1}, {{3, 4, 6, 6}, {4}, {4}}},                   /* planes of 36 */
};

static lt_tensor *build(lt_graph *g, int c, lt_tensor *const *in) {
    switch (c) {
    case 0: return lt_conv2d(g, in[0], in[1], in[2], 2, 1);
    case 1: return lt_conv_transpose2d(g, in[0], in[1], in[2], 2, 1);
    case 2: return lt_group_norm(g, in[0], 3, in[1], in[2], 1e-5f);
    case 3: return lt_layer_norm(g, in[0], in[1], in[2], 1e-5f);
    case 4: return lt_causal_softmax(g, in[0]);
    case 5: return lt_attention(g, in[0], 3, 1);
    case 6: return lt_attention(g, in[0], 2, 0);
    case 7: return lt_attention(g, in[0], 4, 1);
    case 8: return lt_gelu(g, lt_mul_scalar(g, in[0], 6.0f));
    case 9: return lt_conv2d(g, in[0], in[1], in[2], 1, 1);
    case 10: return lt_conv_transpose2d(g, in[0], in[1], in[2], 2, 1);
    case 11: return lt_linear_add(g, in[0], in[1], in[2], in[3]);
    case 12: return lt_nt_xent(g, in[0], 0.5f);
    case 13: return lt_conv2d(g, in[0], in[1], in[2], 1, 1); /* conv2d_wino */
    case 14: return lt_batch_norm(g, in[0], NULL, NULL, in[1], in[2], 1e-5f, NULL);
    case 15: return lt_batch_norm_relu(g, in[0], NULL, NULL, in[1], in[2], 1e-5f, NULL, in[3]);
    case 16: return lt_group_norm_silu(g, in[0], 4, in[1], in[2], 1e-6f);
    default: return lt_batch_norm(g, in[0], NULL, NULL, in[1], in[2], 1e-5f, NULL); /* batch_norm_wide */
    }
}

static int fail(const char *name, const char *what) {
    fprintf(stderr, "ops_tool %s: %s\n", name, what);
    return 1;
}

static int run_case(const char *dir, int c) {
    const tool_case *k = &CASES[c];
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.in", dir, k->name);
    FILE *f = fopen(path, "rb");
    if (!f) return fail(k->name, "cannot open the input file");
    static float buf[1 << 16];
    float *p = buf;
    size_t got = fread(buf, sizeof(float), 1 << 16, f);
    fclose(f);
    lt_graph g;
    if (lt_graph_init(&g, 0)) return fail(k->name, lt_error_message());
    lt_tensor in[4];
    lt_tensor *ptr[4];
    for (int i = 0; i < k->nin; i++) {
        in[i] = lt_tensor_wrap(p, k->ndim[i], k->shape[i]);
        in[i].requires_grad = 1;
        lt_tensor *gz = lt_graph_zeros(&g, LT_F32, k->ndim[i], k->shape[i]);
        if (!gz) { lt_graph_free(&g); return fail(k->name, lt_error_message()); }
        in[i].grad = gz->data;
        ptr[i] = &in[i];
        p += lt_numel(&in[i]);
    }
    lt_tensor *y = build(&g, c, ptr);
    int rc = 0;
    if (!y) rc = fail(k->name, lt_error_message());
    else if ((size_t)(p - buf) + (size_t)lt_numel(y) != got) rc = fail(k->name, "input file has the wrong size");
    else if (lt_backward_from(&g, y, p)) rc = fail(k->name, lt_error_message());
    if (!rc) {
        snprintf(path, sizeof path, "%s/%s.out", dir, k->name);
        f = fopen(path, "wb");
        if (!f) rc = fail(k->name, "cannot write the output file");
        else {
            fwrite(y->data, sizeof(float), (size_t)lt_numel(y), f);
            for (int i = 0; i < k->nin; i++) fwrite(in[i].grad, sizeof(float), (size_t)lt_numel(&in[i]), f);
            if (fclose(f)) rc = fail(k->name, "write failed");
        }
    }
    lt_graph_free(&g);
    return rc;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: ops_tool DIR\n");
        return 2;
    }
    int rc = 0;
    for (int c = 0; c < (int)(sizeof CASES / sizeof CASES[0]); c++) rc |= run_case(argv[1], c);
    return rc;
}
