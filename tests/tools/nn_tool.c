/* Helper of tests/test_nn_torch.sh: builds two networks from nn modules, saves their
 * initial weights as a latent checkpoint, and runs them on inputs PyTorch wrote, in
 * training mode and then in eval mode, writing the outputs and the gradients of Σ r·y
 * for the float input and every parameter, for PyTorch to compare with its own stock
 * modules loaded from the checkpoint.
 *   conv: Conv2d(3,16,4,2,1) → BatchNorm2d → ReLU → res block (VQ-VAE) → ResnetBlock
 *         16→24 (taming, GroupNorm 4 groups) → AttnBlock (taming) → Downsample(k3) → GroupNorm → SiLU →
 *         Upsample → ConvTranspose2d(16,3,4,2,1); x (4,3,12,12)
 *   tf:   Embedding(11,16)(idx) + x → TransformerEncoderLayer(16, 4 heads, ff 64, causal)
 *         → the same layer non-causal → LayerNorm → MLP 16→32→5 (GELU); idx (2,7), x (2,7,16)
 *   resnet_grey:   the small ResNet encoder (nn/resnet.c), BatchNorm, width 8, 3 stages of 2
 *                  BasicBlocks; x (4,1,28,28) -> pooled (4,32), plus its taps "tap.<s>"
 *   resnet_colour: the same with GroupNorm, width 8, 2 stages of 1 block; x (4,3,32,32) -> (4,16)
 *   nn_tool DIR   reads DIR/<net>_in.safetensors ("x", "r", tf: "idx" I64); writes
 *                 DIR/<net>_init.safetensors (checkpoint before the step),
 *                 DIR/<net>_after.safetensors (after the training-mode step: running stats),
 *                 DIR/<net>_{train,eval}.safetensors ("y", "x.grad", "grad.<param>"). */
#include <stdio.h>
#include <string.h>

#include "autograd/backward.h"
#include "core/alloc.h"
#include "io/safetensors.h"
#include "nn/nn.h"
#include "ops/ops.h"
#include "train/checkpoint.h"

typedef struct {
    lt_nn_conv2d conv_in;
    lt_nn_batch_norm bn;
    lt_nn_res_block block0;
    lt_nn_resnet_block block1;
    lt_nn_attn_block attn;
    lt_nn_resample down, up;
    lt_nn_norm norm;
    lt_nn_conv_transpose2d deconv;
} conv_net;

typedef struct {
    lt_nn_embedding tok;
    lt_nn_transformer_block layer[2];
    lt_nn_norm ln_f;
    lt_nn_mlp head;
} tf_net;

static lt_status conv_declare(conv_net *n, const lt_nn *nn) {
    lt_status st;
    if ((st = lt_nn_conv2d_declare(&n->conv_in, nn, "conv_in", 3, 16, 4, 2, 1, 1)) ||
        (st = lt_nn_batch_norm_declare(&n->bn, nn, "bn", 16, 1e-5f, 0.1f, 1)) ||
        (st = lt_nn_res_block_declare(&n->block0, nn, "blocks.0", 16, 8)) ||
        (st = lt_nn_resnet_block_declare(&n->block1, nn, "blocks.1", 16, 24, 4, 1e-6f, 0.0f)) ||
        (st = lt_nn_attn_block_declare(&n->attn, nn, "attn", 24, 4, 1e-6f)) ||
        (st = lt_nn_downsample_declare(&n->down, nn, "down", 24, 24, 3)) ||
        (st = lt_nn_group_norm_declare(&n->norm, nn, "norm", 4, 24, 1e-5f, 1)) ||
        (st = lt_nn_upsample_declare(&n->up, nn, "up", 24, 16)) ||
        (st = lt_nn_conv_transpose2d_declare(&n->deconv, nn, "deconv", 16, 3, 4, 2, 1, 1)))
        return st;
    return LT_OK;
}

static void conv_reset(conv_net *n, lt_rng *r) {
    lt_nn_conv2d_reset(&n->conv_in, r);
    lt_nn_batch_norm_reset(&n->bn);
    lt_nn_res_block_reset(&n->block0, r);
    lt_nn_resnet_block_reset(&n->block1, r);
    lt_nn_attn_block_reset(&n->attn, r);
    lt_nn_resample_reset(&n->down, r);
    lt_nn_norm_reset(&n->norm);
    lt_nn_resample_reset(&n->up, r);
    lt_nn_conv_transpose2d_reset(&n->deconv, r);
    /* torch's fresh norms are the identity; random affines make the check see them */
    lt_rng_fill_uniform(r, n->bn.weight->data, 16, 0.5f, 1.5f);
    lt_rng_fill_uniform(r, n->bn.bias->data, 16, -0.5f, 0.5f);
    lt_rng_fill_uniform(r, n->norm.weight->data, 24, 0.5f, 1.5f);
    lt_rng_fill_uniform(r, n->block1.norm2.bias->data, 24, -0.5f, 0.5f);
}

static lt_tensor *conv_forward(lt_graph *g, conv_net *n, lt_tensor *x) {
    lt_tensor *h = lt_relu(g, lt_nn_batch_norm_forward(g, &n->bn, lt_nn_conv2d_forward(g, &n->conv_in, x)));
    h = lt_nn_resnet_block_forward(g, &n->block1, lt_nn_res_block_forward(g, &n->block0, h));
    h = lt_nn_attn_block_forward(g, &n->attn, h);
    h = lt_silu(g, lt_nn_norm_forward(g, &n->norm, lt_nn_resample_forward(g, &n->down, h)));
    return lt_nn_conv_transpose2d_forward(g, &n->deconv, lt_nn_resample_forward(g, &n->up, h));
}

static lt_status resnet_declare(lt_nn_resnet *n, const lt_nn *nn, int colour) {
    lt_nn_resnet_opts o = lt_nn_resnet_opts_default();
    o.width = 8;
    if (colour) {
        o.in_ch = 3;
        o.stages = 2;
        o.blocks = 1;
        o.norm = LT_NN_NORM_GROUP;
    }
    return lt_nn_resnet_declare(n, nn, NULL, &o);
}

/* torch's fresh norms are the identity: random affines (every weight, then every bias) */
static void resnet_reset(lt_nn_resnet *n, lt_params *P, lt_rng *r) {
    lt_nn_resnet_reset(n, r);
    for (int64_t i = 0; i < P->n; i++) {
        const char *name = P->items[i]->name;
        lt_tensor *t = &P->items[i]->t;
        if (t->ndim != 1) continue;
        const int w = strstr(name, ".weight") != NULL;
        lt_rng_fill_uniform(r, t->data, lt_numel(t), w ? 0.5f : -0.5f, w ? 1.5f : 0.5f);
    }
}

static lt_status tf_declare(tf_net *n, const lt_nn *nn) {
    lt_status st;
    if ((st = lt_nn_embedding_declare(&n->tok, nn, "tok", 11, 16)) ||
        (st = lt_nn_transformer_block_declare(&n->layer[0], nn, "layers.0", 16, 4, 64, 0.0f, 1)) ||
        (st = lt_nn_transformer_block_declare(&n->layer[1], nn, "layers.1", 16, 4, 64, 0.0f, 0)) ||
        (st = lt_nn_layer_norm_declare(&n->ln_f, nn, "ln_f", 16, 1e-5f, 1)) ||
        (st = lt_nn_mlp_declare(&n->head, nn, "head", (int64_t[]){16, 32, 5}, 2, LT_NN_GELU)))
        return st;
    return LT_OK;
}

static void tf_reset(tf_net *n, lt_rng *r) {
    lt_nn_embedding_reset(&n->tok, r);
    for (int l = 0; l < 2; l++) {
        lt_nn_transformer_block_reset(&n->layer[l], r);
        /* zero biases and unit norms hide mistakes: make them random */
        lt_rng_fill_uniform(r, n->layer[l].self_attn.in_proj_bias->data, 48, -0.5f, 0.5f);
        lt_rng_fill_uniform(r, n->layer[l].self_attn.out_proj.bias->data, 16, -0.5f, 0.5f);
        lt_rng_fill_uniform(r, n->layer[l].norm1.weight->data, 16, 0.5f, 1.5f);
        lt_rng_fill_uniform(r, n->layer[l].norm2.bias->data, 16, -0.5f, 0.5f);
    }
    lt_nn_norm_reset(&n->ln_f);
    lt_nn_mlp_reset(&n->head, r);
}

static lt_tensor *tf_forward(lt_graph *g, tf_net *n, lt_tensor *x, const lt_tensor *idx) {
    lt_tensor *h = lt_add(g, lt_nn_embedding_forward(g, &n->tok, idx), x);
    h = lt_nn_transformer_block_forward(g, &n->layer[1], lt_nn_transformer_block_forward(g, &n->layer[0], h));
    return lt_nn_mlp_forward(g, &n->head, lt_nn_norm_forward(g, &n->ln_f, h));
}

static int fail(const char *what, const char *msg) {
    fprintf(stderr, "nn_tool %s: %s\n", what, msg);
    return 1;
}

/* DIR/<net>_<what>.safetensors: y, x.grad, then grad.<name> of every parameter */
static lt_status write_result(const char *dir, const char *net, const char *what, const lt_tensor *y,
                              const lt_tensor *x, const lt_params *p, const lt_nn_resnet_out *taps) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s_%s.safetensors", dir, net, what);
    const int nt = taps ? taps->n_taps : 0;
    static char tap_names[LT_NN_RESNET_MAX_STAGES][16];
    lt_st_entry *e = lt_calloc((size_t)(p->n + 2 + nt), sizeof *e);
    char(*names)[LT_PARAM_NAME_MAX + 8] = lt_calloc((size_t)p->n, sizeof *names);
    if (!e || !names) {
        lt_free(e);
        lt_free(names);
        return lt_fail(LT_ERR_NOMEM, "out of memory");
    }
    e[0] = (lt_st_entry){.name = "y", .dtype = LT_ST_F32, .ndim = y->ndim, .data = y->data};
    memcpy(e[0].shape, y->shape, sizeof y->shape);
    e[1] = (lt_st_entry){.name = "x.grad", .dtype = LT_ST_F32, .ndim = x->ndim, .data = x->grad};
    memcpy(e[1].shape, x->shape, sizeof x->shape);
    for (int64_t i = 0; i < p->n; i++) {
        const lt_tensor *t = &p->items[i]->t;
        snprintf(names[i], sizeof names[i], "grad.%s", p->items[i]->name);
        e[i + 2] = (lt_st_entry){.name = names[i], .dtype = LT_ST_F32, .ndim = t->ndim, .data = t->grad};
        memcpy(e[i + 2].shape, t->shape, sizeof t->shape);
    }
    for (int k = 0; k < nt; k++) {
        const lt_tensor *t = taps->taps[k];
        snprintf(tap_names[k], sizeof tap_names[k], "tap.%d", k);
        e[p->n + 2 + k] = (lt_st_entry){.name = tap_names[k], .dtype = LT_ST_F32, .ndim = t->ndim, .data = t->data};
        memcpy(e[p->n + 2 + k].shape, t->shape, sizeof t->shape);
    }
    lt_status st = lt_safetensors_write(path, e, p->n + 2 + nt, NULL, 0);
    lt_free(e);
    lt_free(names);
    return st;
}

static lt_status save_ckpt(const char *dir, const char *net, const char *what, lt_params *p, lt_params *b) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s_%s.safetensors", dir, net, what);
    lt_ckpt c = {.params = p, .buffers = b};
    return lt_ckpt_save(path, &c, NULL, 0);
}

/* The named F32 (or I64) entry with the expected element count, else NULL with a message. */
static const void *input(const lt_st_file *f, const char *name, lt_st_dtype dt, int64_t numel, char *msg) {
    const lt_st_entry *e = lt_safetensors_find(f, name);
    int64_t n = 1;
    for (int d = 0; e && d < e->ndim; d++) n *= e->shape[d];
    if (!e || e->dtype != dt || n != numel) {
        snprintf(msg, 128, "input '%s' missing or not %lld values", name, (long long)numel);
        return NULL;
    }
    return e->data;
}

/* which: 0 conv, 1 tf, 2 resnet_grey, 3 resnet_colour */
static int run_net(const char *dir, int which) {
    static const char *const nets[4] = {"conv", "tf", "resnet_grey", "resnet_colour"};
    static const int nds[4] = {4, 3, 4, 4}, ynds[4] = {4, 3, 2, 2};
    static const int64_t xs[4][4] = {{4, 3, 12, 12}, {2, 7, 16, 0}, {4, 1, 28, 28}, {4, 3, 32, 32}};
    static const int64_t ys[4][4] = {{4, 3, 12, 12}, {2, 7, 5, 0}, {4, 32}, {4, 16}};
    const char *net = nets[which];
    char path[1024], msg[128];
    snprintf(path, sizeof path, "%s/%s_in.safetensors", dir, net);
    lt_params P, B;
    lt_params_init(&P);
    lt_params_init(&B);
    lt_nn nn = {&P, &B};
    lt_graph g;
    lt_st_file in = {0};
    lt_rng rng;
    lt_rng_seed(&rng, 11);
    conv_net cn;
    tf_net tn;
    lt_nn_resnet rn;
    int rc = 0;
    lt_status st = lt_graph_init(&g, 0);
    if (!st) st = which == 1 ? tf_declare(&tn, &nn) : which == 0 ? conv_declare(&cn, &nn) : resnet_declare(&rn, &nn, which == 3);
    if (!st && !(st = lt_params_finalize(&P)) && !(st = lt_params_finalize(&B))) {
        if (which == 1) tf_reset(&tn, &rng);
        else if (which == 0) conv_reset(&cn, &rng);
        else resnet_reset(&rn, &P, &rng);
        st = save_ckpt(dir, net, "init", &P, &B);
    }
    if (!st) st = lt_safetensors_read(path, &in);
    if (st) {
        rc = fail(net, lt_error_message());
        goto done;
    }
    const int nd = nds[which];
    lt_tensor xt = lt_tensor_wrap(NULL, nd, xs[which]), yt = lt_tensor_wrap(NULL, ynds[which], ys[which]);
    const float *x0 = input(&in, "x", LT_ST_F32, lt_numel(&xt), msg), *r = input(&in, "r", LT_ST_F32, lt_numel(&yt), msg);
    const int64_t *idx = which == 1 ? input(&in, "idx", LT_ST_I64, 14, msg) : NULL;
    if (!x0 || !r || (which == 1 && !idx)) {
        rc = fail(net, msg);
        goto done;
    }
    for (int mode = 0; mode < 2 && !rc; mode++) { /* 0: training, 1: eval */
        lt_graph_reset(&g);
        lt_params_zero_grad(&P);
        g.training = mode == 0;
        lt_tensor *x = lt_graph_new(&g, LT_F32, nd, xs[which]);
        lt_tensor *gx = lt_graph_zeros(&g, LT_F32, nd, xs[which]);
        lt_tensor *it = which == 1 ? lt_graph_wrap_i64(&g, (int64_t *)idx, 2, (int64_t[]){2, 7}) : NULL;
        if (!x || !gx || (which == 1 && !it)) { rc = fail(net, lt_error_message()); break; }
        memcpy(x->data, x0, sizeof(float) * (size_t)lt_numel(x));
        x->requires_grad = 1;
        x->grad = gx->data;
        lt_nn_resnet_out taps;
        lt_tensor *y = which == 1 ? tf_forward(&g, &tn, x, it)
                       : which == 0 ? conv_forward(&g, &cn, x)
                                    : lt_nn_resnet_forward(&g, &rn, x, &taps);
        if (!y || lt_numel(y) != lt_numel(&yt) || (st = lt_backward_from(&g, y, r)) ||
            (st = write_result(dir, net, mode ? "eval" : "train", y, x, &P, which >= 2 ? &taps : NULL)) ||
            (mode == 0 && (st = save_ckpt(dir, net, "after", &P, &B))))
            rc = fail(net, y ? lt_error_message() : "forward failed or has the wrong shape");
    }
done:
    lt_safetensors_close(&in);
    lt_graph_free(&g);
    lt_params_free(&P);
    lt_params_free(&B);
    return rc;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: nn_tool DIR\n");
        return 2;
    }
    return run_net(argv[1], 0) | run_net(argv[1], 1) | run_net(argv[1], 2) | run_net(argv[1], 3);
}
