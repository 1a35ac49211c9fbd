/* SimCLR (Chen et al. 2020): an encoder f (the small ResNet of nn/nn.h), a projection head
 * g = Linear(d, h) → ReLU → Linear(h, p) (the paper's v1 head), and NT-Xent over the two
 * augmented views of every example of a batch (ops.h lt_nt_xent: the other 2n−2 rows are the
 * negatives). docs/ssl.md.
 *
 * Config keys: the encoder's "enc_width" (32), "enc_stages" (3), "enc_blocks" (2), "enc_norm"
 * batch|group (batch); "proj_hidden" h (0 = d, the encoder's feature size, as the paper), "proj_dim" p
 * (128), "temperature" tau (0.5). Names: "encoder.*" (torchvision's ResNet tree),
 * "projector.0.*", "projector.2.*".
 *
 * views = 2: the trainer hands loss() 2n rows, row v·n + i = view v of example i. The loss is
 * the mean NT-Xent over the 2n rows (nats). There is no likelihood and no sampler (log_prob,
 * sample NULL): validation is the same loss on views of the validation split (train/views.h).
 * features: the encoder's pooled output h = f(x) (n, d), in eval mode, before the projection
 * head (the representation SimCLR probes; the head's output keeps less of it). */
#include <string.h>

#include "core/alloc.h"
#include "models/internal.h"
#include "models/latent_internal.h"
#include "models/ssl_internal.h"
#include "ops/ops.h"

typedef struct lti_simclr {
    lt_nn_resnet enc;
    lt_nn_mlp proj;
    float tau;
} lti_simclr;

static lt_status simclr_create(lt_model *m) {
    lti_simclr *s = lt_calloc(1, sizeof *s);
    if (!s) return lt_fail(LT_ERR_NOMEM, "out of memory creating simclr");
    m->impl = s;
    lt_nn_resnet_opts o;
    int64_t ph, pd;
    double tau;
    lt_status st;
    if ((st = lti_ssl_encoder_opts(m, &o)) || (st = lti_cfg_int(m, "proj_hidden", 0, 0, 1 << 16, &ph)) ||
        (st = lti_cfg_int(m, "proj_dim", 128, 1, 1 << 16, &pd)) ||
        (st = lti_cfg_real(m, "temperature", 0.5, 1e-3, 100, &tau)))
        return st;
    s->tau = (float)tau;
    lt_nn nn = {&m->params, &m->buffers};
    if ((st = lt_nn_resnet_declare(&s->enc, &nn, "encoder", &o))) return st;
    const int64_t d = lt_nn_resnet_dim(&s->enc), sizes[3] = {d, ph > 0 ? ph : d, pd};
    if ((st = lt_nn_mlp_declare(&s->proj, &nn, "projector", sizes, 2, LT_NN_RELU)) ||
        (st = lt_params_finalize(&m->params)) || (st = lt_params_finalize(&m->buffers)))
        return st;
    lt_nn_resnet_reset(&s->enc, &m->rng);
    lt_nn_mlp_reset(&s->proj, &m->rng);
    return LT_OK;
}

static lt_status simclr_loss(lt_model *m, lt_graph *g, const lt_batch *b, lt_tensor **loss) {
    lti_simclr *s = m->impl;
    if (b->dim != m->dim)
        return lt_fail(LT_ERR_SHAPE, "model 'simclr' has %lld inputs, the batch has %lld", (long long)m->dim,
                       (long long)b->dim);
    if (b->n < 4 || b->n % 2)
        return lt_fail(LT_ERR_ARG, "model 'simclr': a batch of %lld rows; it needs two views of at least two examples "
                       "(2n rows, n >= 2)", (long long)b->n);
    lt_tensor *h = lt_nn_resnet_forward(g, &s->enc, lti_ssl_images(g, m, b), NULL); /* (2n, d) */
    lt_tensor *z = lt_nn_mlp_forward(g, &s->proj, h);                                /* (2n, p) */
    *loss = lt_mean(g, lt_nt_xent(g, z, s->tau), LT_AXIS_ALL, 0);
    return lt_graph_status(g);
}

/* NT-Xent's negatives are the other rows of the whole batch; there is no all-gather of the
 * projections (with the gradient scattered back), and the default encoder's BatchNorm would
 * normalize with each rank's own statistics: not supported over ranks. */
static int simclr_coupling(const lt_model *m, int64_t steps, const char **why) {
    (void)steps;
    const lti_simclr *s = m->impl;
    *why = s->enc.o.norm == LT_NN_NORM_BATCH
               ? "NT-Xent takes its negatives from the whole batch and the encoder's BatchNorm (--enc-norm batch) its "
                 "statistics, which data-parallel training does not gather (no all-gather, no synchronized BatchNorm); "
                 "run with one rank"
               : "NT-Xent takes its negatives from the whole batch, which data-parallel training does not gather (no "
                 "all-gather of the projections); run with one rank";
    return LT_MODEL_COUPLING_WHOLE;
}

static int64_t simclr_feature_size(const lt_model *m) { return lt_nn_resnet_dim(&((const lti_simclr *)m->impl)->enc); }

static lt_status simclr_features(lt_model *m, lt_graph *g, const lt_batch *b, float *out) {
    lti_simclr *s = m->impl;
    if (b->dim != m->dim)
        return lt_fail(LT_ERR_SHAPE, "model 'simclr' has %lld inputs, the batch has %lld", (long long)m->dim,
                       (long long)b->dim);
    const int grad = lt_graph_set_grad(g, 0), training = g->training;
    g->training = 0;
    lt_tensor *h = lt_nn_resnet_forward(g, &s->enc, lti_ssl_images(g, m, b), NULL); /* (n, d) */
    g->training = training;
    lt_graph_set_grad(g, grad);
    lt_status st = lt_graph_status(g);
    if (!st) memcpy(out, h->data, sizeof(float) * (size_t)lt_numel(h));
    return st;
}

static void simclr_destroy(lt_model *m) {
    lt_free(m->impl);
    m->impl = NULL;
}

static const char *const simclr_keys[] = {LTI_SSL_ENCODER_KEYS, "proj_hidden", "proj_dim", "temperature", NULL};

const lt_model_vtable lti_model_simclr = {
    .name = "simclr",
    .config_keys = simclr_keys,
    .create = simclr_create,
    .loss = simclr_loss,
    .destroy = simclr_destroy,
    .continuous = 1,
    .feature_size = simclr_feature_size,
    .features = simclr_features,
    .views = 2,
    .coupling = simclr_coupling,
};
