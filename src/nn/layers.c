/* Linear, Conv2d, ConvTranspose2d and Embedding modules (conventions: nn/nn.h). */
#include <math.h>

#include "nn/internal.h"
#include "ops/ops.h"

lt_status lt_nn_linear_declare(lt_nn_linear *m, const lt_nn *nn, const char *prefix, int64_t in, int64_t out, int bias) {
    lt_status st;
    if ((st = lti_nn_check("Linear", prefix, "in", in, 1)) || (st = lti_nn_check("Linear", prefix, "out", out, 1)))
        return st;
    *m = (lt_nn_linear){.in = in, .out = out};
    if (!(m->weight = lti_nn_add(nn->params, prefix, "weight", 2, (int64_t[]){out, in}))) return LT_ERR_ARG;
    if (bias && !(m->bias = lti_nn_add(nn->params, prefix, "bias", 1, &out))) return LT_ERR_ARG;
    return LT_OK;
}

void lt_nn_linear_reset(lt_nn_linear *m, lt_rng *rng) {
    float bound = 1.0f / sqrtf((float)m->in);
    lti_nn_uniform(rng, m->weight, bound);
    lti_nn_uniform(rng, m->bias, bound);
}

lt_tensor *lt_nn_linear_forward(lt_graph *g, const lt_nn_linear *m, lt_tensor *x) {
    if (!x || x->ndim < 2) return lt_linear(g, x, m->weight, m->bias); /* the op reports the shape */
    if (x->ndim == 2) return lt_linear(g, x, m->weight, m->bias);
    int64_t shape[LT_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) shape[d] = x->shape[d];
    shape[x->ndim - 1] = m->out;
    lt_tensor *y = lt_linear(g, lt_reshape(g, x, 2, (int64_t[]){-1, x->shape[x->ndim - 1]}), m->weight, m->bias);
    return lt_reshape(g, y, x->ndim, shape);
}

static lt_status lti_conv_declare(lt_nn_conv2d *m, const lt_nn *nn, const char *prefix, const char *what, int64_t in,
                                  int64_t out, int kernel, int stride, int pad, int bias, int transposed) {
    lt_status st;
    if ((st = lti_nn_check(what, prefix, "in", in, 1)) || (st = lti_nn_check(what, prefix, "out", out, 1)) ||
        (st = lti_nn_check(what, prefix, "kernel", kernel, 1)) || (st = lti_nn_check(what, prefix, "stride", stride, 1)) ||
        (st = lti_nn_check(what, prefix, "padding", pad, 0)))
        return st;
    *m = (lt_nn_conv2d){.in = in, .out = out, .kernel = kernel, .stride = stride, .pad = pad};
    int64_t shape[4] = {transposed ? in : out, transposed ? out : in, kernel, kernel};
    if (!(m->weight = lti_nn_add(nn->params, prefix, "weight", 4, shape))) return LT_ERR_ARG;
    if (bias && !(m->bias = lti_nn_add(nn->params, prefix, "bias", 1, &out))) return LT_ERR_ARG;
    return LT_OK;
}

/* torch's fan_in is the weight's dim 1 times the kernel area, for both kinds of conv. */
static void lti_conv_reset(lt_nn_conv2d *m, lt_rng *rng) {
    float bound = 1.0f / sqrtf((float)(m->weight->shape[1] * m->kernel * m->kernel));
    lti_nn_uniform(rng, m->weight, bound);
    lti_nn_uniform(rng, m->bias, bound);
}

lt_status lt_nn_conv2d_declare(lt_nn_conv2d *m, const lt_nn *nn, const char *prefix, int64_t in, int64_t out,
                               int kernel, int stride, int pad, int bias) {
    return lti_conv_declare(m, nn, prefix, "Conv2d", in, out, kernel, stride, pad, bias, 0);
}
void lt_nn_conv2d_reset(lt_nn_conv2d *m, lt_rng *rng) { lti_conv_reset(m, rng); }
lt_tensor *lt_nn_conv2d_forward(lt_graph *g, const lt_nn_conv2d *m, lt_tensor *x) {
    return lt_conv2d(g, x, m->weight, m->bias, m->stride, m->pad);
}

lt_status lt_nn_conv_transpose2d_declare(lt_nn_conv_transpose2d *m, const lt_nn *nn, const char *prefix, int64_t in,
                                         int64_t out, int kernel, int stride, int pad, int bias) {
    return lti_conv_declare(m, nn, prefix, "ConvTranspose2d", in, out, kernel, stride, pad, bias, 1);
}
void lt_nn_conv_transpose2d_reset(lt_nn_conv_transpose2d *m, lt_rng *rng) { lti_conv_reset(m, rng); }
lt_tensor *lt_nn_conv_transpose2d_forward(lt_graph *g, const lt_nn_conv_transpose2d *m, lt_tensor *x) {
    return lt_conv_transpose2d(g, x, m->weight, m->bias, m->stride, m->pad);
}

lt_status lt_nn_embedding_declare(lt_nn_embedding *m, const lt_nn *nn, const char *prefix, int64_t num, int64_t dim) {
    lt_status st;
    if ((st = lti_nn_check("Embedding", prefix, "num", num, 1)) || (st = lti_nn_check("Embedding", prefix, "dim", dim, 1)))
        return st;
    *m = (lt_nn_embedding){.num = num, .dim = dim};
    return (m->weight = lti_nn_add(nn->params, prefix, "weight", 2, (int64_t[]){num, dim})) ? LT_OK : LT_ERR_ARG;
}

void lt_nn_embedding_reset(lt_nn_embedding *m, lt_rng *rng) {
    lt_rng_fill_normal(rng, m->weight->data, lt_numel(m->weight), 0.0f, 1.0f);
}

lt_tensor *lt_nn_embedding_forward(lt_graph *g, const lt_nn_embedding *m, const lt_tensor *idx) {
    return lt_embedding(g, m->weight, idx);
}
