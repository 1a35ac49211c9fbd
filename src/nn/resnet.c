/* The small ResNet encoder: stem, stages of BasicBlocks, global average pooling
 * (conventions: nn/nn.h; the torch module tree is torchvision's ResNet). */
#include "nn/internal.h"
#include "ops/ops.h"

enum { LTI_RESNET_GROUPS = 8 };

lt_nn_resnet_opts lt_nn_resnet_opts_default(void) {
    return (lt_nn_resnet_opts){.in_ch = 1, .width = 32, .stages = 3, .blocks = 2, .norm = LT_NN_NORM_BATCH};
}

static lt_status lti_norm2d_declare(lt_nn_norm2d *m, const lt_nn *nn, const char *prefix, lt_nn_norm_kind kind,
                                    int64_t C) {
    *m = (lt_nn_norm2d){.kind = kind};
    return kind == LT_NN_NORM_GROUP ? lt_nn_group_norm_declare(&m->gn, nn, prefix, LTI_RESNET_GROUPS, C, 1e-5f, 1)
                                    : lt_nn_batch_norm_declare(&m->bn, nn, prefix, C, 1e-5f, 0.1f, 1);
}

static void lti_norm2d_reset(lt_nn_norm2d *m) {
    if (m->kind == LT_NN_NORM_GROUP) lt_nn_norm_reset(&m->gn);
    else lt_nn_batch_norm_reset(&m->bn);
}

static lt_tensor *lti_norm2d_forward(lt_graph *g, lt_nn_norm2d *m, lt_tensor *x) {
    return m->kind == LT_NN_NORM_GROUP ? lt_nn_norm_forward(g, &m->gn, x) : lt_nn_batch_norm_forward(g, &m->bn, x);
}

/* relu(norm(x) + res), res NULL or of x's shape: BatchNorm fuses it into one op (one pass over
 * memory each way instead of three), GroupNorm runs the ops one by one */
static lt_tensor *lti_norm2d_relu(lt_graph *g, lt_nn_norm2d *m, lt_tensor *x, lt_tensor *res) {
    if (m->kind == LT_NN_NORM_BATCH) return lt_nn_batch_norm_relu_forward(g, &m->bn, x, res);
    lt_tensor *h = lt_nn_norm_forward(g, &m->gn, x);
    return lt_relu(g, res ? lt_add(g, h, res) : h);
}

static lt_status lti_block_declare(lt_nn_basic_block *b, const lt_nn *nn, const char *prefix, int64_t in, int64_t out,
                                   int stride, lt_nn_norm_kind kind) {
    char p[LT_NN_NAME_MAX];
    lt_status st;
    *b = (lt_nn_basic_block){0};
    if ((st = lt_nn_join(p, prefix, "conv1")) || (st = lt_nn_conv2d_declare(&b->conv1, nn, p, in, out, 3, stride, 1, 0)) ||
        (st = lt_nn_join(p, prefix, "bn1")) || (st = lti_norm2d_declare(&b->bn1, nn, p, kind, out)) ||
        (st = lt_nn_join(p, prefix, "conv2")) || (st = lt_nn_conv2d_declare(&b->conv2, nn, p, out, out, 3, 1, 1, 0)) ||
        (st = lt_nn_join(p, prefix, "bn2")) || (st = lti_norm2d_declare(&b->bn2, nn, p, kind, out)))
        return st;
    if (stride == 1 && in == out) return LT_OK;
    if ((st = lt_nn_join(p, prefix, "downsample.0")) || (st = lt_nn_conv2d_declare(&b->down, nn, p, in, out, 1, stride, 0, 0)) ||
        (st = lt_nn_join(p, prefix, "downsample.1")) || (st = lti_norm2d_declare(&b->down_norm, nn, p, kind, out)))
        return st;
    return LT_OK;
}

lt_status lt_nn_resnet_declare(lt_nn_resnet *m, const lt_nn *nn, const char *prefix, const lt_nn_resnet_opts *o) {
    lt_status st;
    if ((st = lti_nn_check("ResNet", prefix, "in_ch", o->in_ch, 1)) || (st = lti_nn_check("ResNet", prefix, "width", o->width, 1)) ||
        (st = lti_nn_check("ResNet", prefix, "stages", o->stages, 1)) ||
        (st = lti_nn_check("ResNet", prefix, "blocks", o->blocks, 1)))
        return st;
    if (o->stages > LT_NN_RESNET_MAX_STAGES || o->blocks > LT_NN_RESNET_MAX_BLOCKS)
        return lt_fail(LT_ERR_ARG, "nn ResNet '%s': %d stages of %d blocks, expected at most %d of %d",
                       prefix ? prefix : "", o->stages, o->blocks, LT_NN_RESNET_MAX_STAGES, LT_NN_RESNET_MAX_BLOCKS);
    if (o->norm != LT_NN_NORM_BATCH && o->norm != LT_NN_NORM_GROUP)
        return lt_fail(LT_ERR_ARG, "nn ResNet '%s': unknown norm kind %d", prefix ? prefix : "", (int)o->norm);
    *m = (lt_nn_resnet){.o = *o};
    char p[LT_NN_NAME_MAX];
    if ((st = lt_nn_join(p, prefix, "conv1")) || (st = lt_nn_conv2d_declare(&m->conv1, nn, p, o->in_ch, o->width, 3, 1, 1, 0)) ||
        (st = lt_nn_join(p, prefix, "bn1")) || (st = lti_norm2d_declare(&m->bn1, nn, p, o->norm, o->width)))
        return st;
    int64_t in = o->width;
    for (int s = 0; s < o->stages; s++) {
        const int64_t out = o->width << s;
        for (int b = 0; b < o->blocks; b++) {
            if ((st = lt_nn_join(p, prefix, "layer%d.%d", s + 1, b)) ||
                (st = lti_block_declare(&m->block[s][b], nn, p, in, out, s > 0 && b == 0 ? 2 : 1, o->norm)))
                return st;
            in = out;
        }
    }
    return LT_OK;
}

void lt_nn_resnet_reset(lt_nn_resnet *m, lt_rng *rng) {
    lt_nn_conv2d_reset(&m->conv1, rng);
    lti_norm2d_reset(&m->bn1);
    for (int s = 0; s < m->o.stages; s++)
        for (int b = 0; b < m->o.blocks; b++) {
            lt_nn_basic_block *k = &m->block[s][b];
            lt_nn_conv2d_reset(&k->conv1, rng);
            lti_norm2d_reset(&k->bn1);
            lt_nn_conv2d_reset(&k->conv2, rng);
            lti_norm2d_reset(&k->bn2);
            if (k->down.weight) {
                lt_nn_conv2d_reset(&k->down, rng);
                lti_norm2d_reset(&k->down_norm);
            }
        }
}

int64_t lt_nn_resnet_dim(const lt_nn_resnet *m) { return m->o.width << (m->o.stages - 1); }

static lt_tensor *lti_block_forward(lt_graph *g, lt_nn_basic_block *b, lt_tensor *x) {
    lt_tensor *h = lti_norm2d_relu(g, &b->bn1, lt_nn_conv2d_forward(g, &b->conv1, x), NULL);
    lt_tensor *sc = b->down.weight ? lti_norm2d_forward(g, &b->down_norm, lt_nn_conv2d_forward(g, &b->down, x)) : x;
    return lti_norm2d_relu(g, &b->bn2, lt_nn_conv2d_forward(g, &b->conv2, h), sc);
}

lt_tensor *lt_nn_resnet_forward(lt_graph *g, lt_nn_resnet *m, lt_tensor *x, lt_nn_resnet_out *out) {
    if (out) *out = (lt_nn_resnet_out){.n_taps = m->o.stages};
    if (!x || g->status) return NULL;
    if (x->ndim != 4 || x->shape[1] != m->o.in_ch) {
        char s[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "ResNet: want x (N,%lld,H,W), got %s", (long long)m->o.in_ch,
                       lt_shape_str(x, s, 64));
        return NULL;
    }
    lt_tensor *h = lti_norm2d_relu(g, &m->bn1, lt_nn_conv2d_forward(g, &m->conv1, x), NULL);
    for (int s = 0; s < m->o.stages; s++) {
        for (int b = 0; b < m->o.blocks; b++) h = lti_block_forward(g, &m->block[s][b], h);
        if (out) out->taps[s] = h;
    }
    if (!h) return NULL;
    const int64_t N = h->shape[0], C = h->shape[1];
    lt_tensor *pooled = lt_mean(g, lt_reshape(g, h, 3, (int64_t[]){N, C, h->shape[2] * h->shape[3]}), 2, 0);
    if (out) out->pooled = pooled;
    return pooled;
}
