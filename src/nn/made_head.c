/* The autoregressive Bernoulli head: a conditioned one-hidden-layer MADE (nn/nn.h). */
#include <math.h>
#include <string.h>

#include "nn/internal.h"
#include "ops/ops.h"

lt_status lt_nn_made_head_declare(lt_nn_made_head *m, const lt_nn *nn, const char *prefix, int64_t D, int64_t H,
                                  int64_t Cc) {
    lt_status st;
    if ((st = lti_nn_check("MadeHead", prefix, "D", D, 2)) || (st = lti_nn_check("MadeHead", prefix, "H", H, 1)) ||
        (st = lti_nn_check("MadeHead", prefix, "Cc", Cc, 1)))
        return st;
    *m = (lt_nn_made_head){.D = D, .H = H, .Cc = Cc};
    if (!(m->W = lti_nn_add(nn->params, prefix, "W", 2, (int64_t[]){H, D})) ||
        !(m->Wc = lti_nn_add(nn->params, prefix, "Wc", 2, (int64_t[]){H, Cc})) ||
        !(m->b = lti_nn_add(nn->params, prefix, "b", 1, &H)) ||
        !(m->Wout = lti_nn_add(nn->params, prefix, "Wout", 2, (int64_t[]){D, H})) ||
        !(m->bout = lti_nn_add(nn->params, prefix, "bout", 1, &D)) ||
        !(m->A = lti_nn_add(nn->params, prefix, "A", 2, (int64_t[]){D, D})))
        return LT_ERR_ARG;
    return LT_OK;
}

void lt_nn_made_head_reset(lt_nn_made_head *m, lt_rng *rng) {
    lti_nn_uniform(rng, m->W, 1.0f / sqrtf((float)m->D));
    lti_nn_uniform(rng, m->Wc, 1.0f / sqrtf((float)m->Cc));
    lti_nn_uniform(rng, m->b, 1.0f / sqrtf((float)m->D));
    lti_nn_fill(m->Wout, 0.0f);
    lti_nn_fill(m->bout, 0.0f);
    lti_nn_fill(m->A, 0.0f);
}

/* hidden unit k's degree: 1 + ⌊k (D−1) / H⌋, nondecreasing in k */
static int64_t head_degree(const lt_nn_made_head *m, int64_t k) { return 1 + k * (m->D - 1) / m->H; }

/* The three staircases (W, Wout, A) in g's arena: natural order, so rows and columns are
 * the identity; W's row k keeps x_<m_k, Wout's row d the hidden units with m_k <= d, A's row d x_<d. */
static lt_staircase *head_staircases(lt_graph *g, const lt_nn_made_head *m) {
    const int64_t D = m->D, H = m->H, N = D > H ? D : H;
    lt_staircase *s = lt_graph_alloc(g, sizeof *s * 3);
    int64_t *id = lt_graph_alloc(g, sizeof(int64_t) * (size_t)(N + H + 2 * D)); /* identity (N), lengths H + D + D */
    if (!s || !id) return NULL;
    for (int64_t i = 0; i < N; i++) id[i] = i;
    int64_t *lw = id + N, *lo = lw + H, *la = lo + D;
    for (int64_t k = 0; k < H; k++) lw[k] = head_degree(m, k);
    for (int64_t d = 0, k = 0; d < D; d++) {
        while (k < H && head_degree(m, k) <= d) k++;
        lo[d] = k;
        la[d] = d;
    }
    s[0] = (lt_staircase){H, D, id, id, lw};
    s[1] = (lt_staircase){D, H, id, id, lo};
    s[2] = (lt_staircase){D, D, id, id, la};
    return s;
}

lt_tensor *lt_nn_made_head_forward(lt_graph *g, const lt_nn_made_head *m, lt_tensor *x, lt_tensor *c) {
    lt_staircase *s = head_staircases(g, m);
    if (!s) return NULL;
    lt_tensor *pre = lt_add(g, lt_staircase_linear(g, x, m->W, &s[0], m->b), lt_linear(g, c, m->Wc, NULL)); /* (n,H) */
    lt_tensor *y = lt_staircase_linear(g, lt_relu(g, pre), m->Wout, &s[1], m->bout);                    /* (n,D) */
    return lt_add(g, y, lt_staircase_linear(g, x, m->A, &s[2], NULL));
}

lt_status lt_nn_made_head_sample(lt_graph *g, const lt_nn_made_head *m, lt_tensor *c, const float *base, lt_rng *rng,
                                 int64_t n, float *out) {
    const int64_t D = m->D, H = m->H;
    int grad = lt_graph_set_grad(g, 0);
    lt_tensor *a = lt_linear(g, c, m->Wc, m->b); /* (n,H) the hidden pre-activation with x = 0 */
    lt_graph_set_grad(g, grad);
    lt_status st = lt_graph_status(g);
    if (st) return st;
    memset(out, 0, sizeof(float) * (size_t)(n * D));
    const float *W = m->W->data, *Wo = m->Wout->data, *A = m->A->data;
    for (int64_t d = 0; d < D; d++) {
        int64_t seen = 0; /* hidden units with m_k <= d: a prefix */
        while (seen < H && head_degree(m, seen) <= d) seen++;
        for (int64_t i = 0; i < n; i++) {
            float *ai = a->data + i * H, *xi = out + i * D;
            double v = (double)m->bout->data[d] + (base ? base[i * D + d] : 0.0);
            for (int64_t k = 0; k < seen; k++) v += (double)Wo[d * H + k] * (ai[k] > 0.0f ? ai[k] : 0.0f);
            for (int64_t j = 0; j < d; j++) v += (double)A[d * D + j] * xi[j];
            const double p = 1.0 / (1.0 + exp(-v));
            if (lt_rng_uniform(rng) < p) {
                xi[d] = 1.0f;
                for (int64_t k = seen; k < H; k++) /* units that see x_d: m_k > d */
                    ai[k] += W[k * D + d];
            }
        }
    }
    return LT_OK;
}
