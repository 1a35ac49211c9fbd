/* Batches of views and a views model's validation loss (views.h). */
#include "train/views.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"

int lt_model_views(const lt_model *m) { return m->vt->views > 1 ? m->vt->views : 1; }

void lt_views_batch(const lt_dataset *d, lt_split_id s, const int64_t *idx, int64_t n, const lt_batch_opts *o,
                    int views, int any_split, float *x, int64_t *y) {
    for (int v = 0; v < views; v++)
        lt_dataset_batch_view(d, s, idx, n, o, v, any_split, x + (int64_t)v * n * d->dim, v == 0 ? y : NULL);
}

lt_status lt_evaluate_views_loss(lt_model *m, lt_graph *g, const lt_eval_data *d, const lt_augment *aug,
                                 lt_eval_result *out) {
    const lt_split *sp = &d->data->split[d->split];
    const int64_t N = sp->n, D = d->data->dim;
    int64_t B = d->batch > 0 ? d->batch : 256;
    if (B > N) B = N;
    const int V = lt_model_views(m);
    memset(out, 0, sizeof *out);
    if (N < 2) return lt_fail(LT_ERR_ARG, "split '%s' has %lld examples; the loss needs 2", lt_split_name(d->split), (long long)N);
    if (D != m->dim) return lt_fail(LT_ERR_ARG, "data has %lld values per example, the model expects %lld", (long long)D, (long long)m->dim);
    float *x = lt_malloc(sizeof(float) * (size_t)(V * B * D)); /* (V·B, D) */
    int64_t *idx = lt_malloc(sizeof(int64_t) * (size_t)B), *y = lt_malloc(sizeof(int64_t) * (size_t)B);
    lt_status st = x && idx && y ? LT_OK : lt_fail(LT_ERR_NOMEM, "validation buffers for %lld examples", (long long)B);
    const lt_batch_opts bo = {d->binarize, d->seed, 0, (lt_range)m->vt->range, aug};
    const int grad = lt_graph_set_grad(g, 0), training = g->training;
    g->training = 0;
    double sum = 0, sumsq = 0;
    int64_t batches = 0, seen = 0;
    for (int64_t start = 0; !st && start + B <= N; start += B) { /* whole batches: the loss depends on their size */
        const int64_t n = B;
        for (int64_t i = 0; i < n; i++) idx[i] = start + i;
        lt_views_batch(d->data, d->split, idx, n, &bo, V, 1, x, y);
        lt_batch b = {x, m->n_classes > 0 ? y : NULL, V * n, D, NULL};
        lt_tensor *loss = NULL;
        st = m->vt->loss(m, g, &b, &loss);
        if (!st) st = lt_graph_status(g);
        if (!st) {
            const double l = loss->data[0];
            sum += l;
            sumsq += l * l;
            batches++;
            seen += n;
        }
        lt_graph_reset(g);
    }
    g->training = training;
    lt_graph_set_grad(g, grad);
    lt_free(x);
    lt_free(idx);
    lt_free(y);
    if (st) return st;
    const double k = (double)batches, mu = sum / k;
    const double var = k > 1 ? (sumsq - k * mu * mu) / (k - 1) : 0;
    out->examples = seen;
    out->nll_nats = mu;
    out->nll_stderr = sqrt(var > 0 ? var / k : 0);
    return LT_OK;
}
