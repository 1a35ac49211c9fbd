/* The encoder configuration the self-supervised models share (ssl_internal.h). */
#include <string.h>

#include "models/internal.h"
#include "models/latent_internal.h"
#include "models/ssl_internal.h"
#include "ops/ops.h"

lt_status lti_ssl_encoder_opts(const lt_model *m, lt_nn_resnet_opts *o) {
    *o = lt_nn_resnet_opts_default();
    int64_t width, stages, blocks;
    const char *norm;
    lt_status st;
    if ((st = lti_cfg_int(m, "enc_width", 32, 1, 4096, &width)) ||
        (st = lti_cfg_int(m, "enc_stages", 3, 1, LT_NN_RESNET_MAX_STAGES, &stages)) ||
        (st = lti_cfg_int(m, "enc_blocks", 2, 1, LT_NN_RESNET_MAX_BLOCKS, &blocks)) ||
        (st = lti_cfg_str(m, "enc_norm", "batch", &norm)))
        return st;
    if (strcmp(norm, "batch") && strcmp(norm, "group"))
        return lt_fail(LT_ERR_ARG, "model '%s': enc_norm '%s', expected batch or group", m->vt->name, norm);
    if (!strcmp(norm, "group") && width % 8)
        return lt_fail(LT_ERR_ARG, "model '%s': enc_norm group needs an enc_width divisible by its 8 groups, got %lld",
                       m->vt->name, (long long)width);
    if (m->height < (1 << (stages - 1)) || m->width < (1 << (stages - 1)))
        return lt_fail(LT_ERR_ARG, "model '%s': %lldx%lld images are too small for %lld stages", m->vt->name,
                       (long long)m->height, (long long)m->width, (long long)stages);
    o->in_ch = m->channels > 0 ? m->channels : 1;
    o->width = width;
    o->stages = (int)stages;
    o->blocks = (int)blocks;
    o->norm = strcmp(norm, "group") ? LT_NN_NORM_BATCH : LT_NN_NORM_GROUP;
    return LT_OK;
}

lt_tensor *lti_ssl_images(lt_graph *g, const lt_model *m, const lt_batch *b) {
    return lt_reshape(g, lti_batch_x(g, b), 4, (int64_t[]){b->n, m->channels > 0 ? m->channels : 1, m->height, m->width});
}
