/* NLL and Bayes classification over a split (see evaluate.h). */
#include "train/evaluate.h"

#include <math.h>
#include <string.h>

#include "core/alloc.h"

static lt_status lti_check(const lt_model *m, const lt_eval_data *d, int64_t first, int64_t end) {
    const lt_split *sp = &d->data->split[d->split];
    if (d->data->dim != m->dim || d->data->height != m->height || d->data->width != m->width)
        return lt_fail(LT_ERR_ARG, "data has %lldx%lld images (%lld pixels), the model expects %lld pixels (%lldx%lld)",
                       (long long)d->data->height, (long long)d->data->width, (long long)d->data->dim,
                       (long long)m->dim, (long long)m->height, (long long)m->width);
    if (sp->n < 1) return lt_fail(LT_ERR_ARG, "split '%s' has no examples", lt_split_name(d->split));
    if (first < 0 || end <= first || end > sp->n)
        return lt_fail(LT_ERR_ARG, "examples %lld..%lld of split '%s': it has %lld", (long long)first, (long long)end,
                       lt_split_name(d->split), (long long)sp->n);
    if (!!m->vt->tokens != (d->data->vocab > 0))
        return lt_fail(LT_ERR_ARG, m->vt->tokens ? "model '%s' reads code grids; the data holds images"
                                                 : "model '%s' reads pixels; the data holds code grids", m->vt->name);
    if (m->vt->tokens && d->data->vocab > m->vocab)
        return lt_fail(LT_ERR_ARG, "data has codes up to %lld, model '%s' has %lld", (long long)d->data->vocab - 1,
                       m->vt->name, (long long)m->vocab);
    if (m->n_classes > 0 && !sp->labels)
        return lt_fail(LT_ERR_ARG, "model '%s' is class-conditional but split '%s' has no labels", m->vt->name,
                       lt_split_name(d->split));
    if (m->n_classes > 0 && d->data->n_classes > m->n_classes)
        return lt_fail(LT_ERR_ARG, "data has %lld classes, the model was trained with %lld",
                       (long long)d->data->n_classes, (long long)m->n_classes);
    return LT_OK;
}

/* Examples [start, start + n) of the split into x (n, D) and y (n), via idx (n), and for
 * a token model their codes into tok (n, D); the model's view of them (labels only for a
 * class-conditional model). */
static lt_batch lti_load(const lt_model *m, const lt_eval_data *d, int64_t start, int64_t n, int64_t *idx, float *x,
                         int64_t *y, int64_t *tok) {
    for (int64_t i = 0; i < n; i++) idx[i] = start + i;
    lt_batch_opts bo = {d->binarize, d->seed, 0, (lt_range)m->vt->range, NULL}; /* never augmented */
    lt_dataset_batch_opts(d->data, d->split, idx, n, &bo, x, y);
    if (tok) lt_dataset_tokens(d->data, d->split, idx, n, tok);
    return (lt_batch){x, m->n_classes > 0 ? y : NULL, n, m->dim, tok};
}

/* The mean of count values and its standard error, from their sum and sum of squares. */
static void lti_mean_stderr(double sum, double sumsq, int64_t count, double *mean, double *se) {
    const double n = (double)count, mu = sum / n, var = n > 1 ? (sumsq - n * mu * mu) / (n - 1) : 0.0;
    *mean = mu;
    *se = sqrt(var > 0 ? var / n : 0.0);
}

/* Runs log_prob over the split; per batch calls fn(batch x/y, log p(x|y_true)). With
 * all_classes, lp gets (B, n_classes) values: log p(x | y=c) for every c. */
static lt_status lti_sweep(lt_model *m, lt_graph *g, const lt_eval_data *d, const lt_eval_opts *o, int all_classes,
                           const double *prior, int64_t first, int64_t end, lt_eval_result *out) {
    if (!m->vt->log_prob)
        return lt_fail(LT_ERR_ARG, "model '%s' has no likelihood to evaluate (a self-supervised encoder: its "
                       "validation loss is in metrics.jsonl; probe its features)", m->vt->name);
    lt_status st = lti_check(m, d, first, end);
    if (st) return st;
    const int64_t B = d->batch > 0 ? d->batch : 100, D = m->dim, C = all_classes ? m->n_classes : 1;
    float *x = lt_malloc((size_t)(B * D) * sizeof *x);          /* (B, D) */
    int64_t *y = lt_malloc((size_t)B * sizeof *y);              /* (B) true labels */
    int64_t *yc = lt_malloc((size_t)B * sizeof *yc);            /* (B) label tried */
    int64_t *idx = lt_malloc((size_t)B * sizeof *idx);          /* (B) */
    double *lp = lt_malloc((size_t)(B * (C + 1)) * sizeof *lp); /* (C+1, B) */
    int64_t *tok = m->vt->tokens ? lt_malloc((size_t)(B * D) * sizeof *tok) : NULL; /* (B, D) codes */
    if (!x || !y || !yc || !idx || !lp || (m->vt->tokens && !tok)) st = lt_fail(LT_ERR_NOMEM, "evaluation buffers for batch %lld", (long long)B);
    double sum = 0, sumsq = 0, msum = 0;
    int64_t correct = 0;
    int grad = lt_graph_set_grad(g, 0);
    for (int64_t start = first; !st && start < end; start += B) {
        int64_t n = end - start < B ? end - start : B;
        lt_batch b = lti_load(m, d, start, n, idx, x, y, tok);
        st = m->vt->log_prob(m, g, &b, o, lp);
        lt_graph_reset(g);
        for (int64_t c = 0; !st && c < (all_classes ? C : 0); c++) {
            for (int64_t i = 0; i < n; i++) yc[i] = c;
            lt_batch bc = {x, yc, n, D, tok};
            st = m->vt->log_prob(m, g, &bc, o, lp + (c + 1) * B);
            lt_graph_reset(g);
        }
        for (int64_t i = 0; !st && i < n; i++) {
            if (!isfinite(lp[i])) {
                st = lt_fail(LT_ERR_NUMERIC, "split '%s' example %lld: log-likelihood is %g", lt_split_name(d->split),
                             (long long)(start + i), lp[i]);
                break;
            }
            sum += -lp[i];
            sumsq += lp[i] * lp[i];
            if (!all_classes) continue;
            /* log p(x, y=c) = log p(x|c) + log p(c); argmax → class, log-sum-exp → marginal */
            double best = -HUGE_VAL, mx = -HUGE_VAL;
            int64_t arg = 0;
            for (int64_t c = 0; c < C; c++) {
                double v = lp[(c + 1) * B + i] + (prior[c] > 0 ? log(prior[c]) : -HUGE_VAL);
                if (v > best) { best = v; arg = c; }
                if (v > mx) mx = v;
            }
            double se = 0;
            for (int64_t c = 0; c < C; c++) {
                double v = lp[(c + 1) * B + i] + (prior[c] > 0 ? log(prior[c]) : -HUGE_VAL);
                se += exp(v - mx);
            }
            msum += -(mx + log(se));
            correct += arg == y[i];
        }
    }
    lt_graph_set_grad(g, grad);
    lt_free(x);
    lt_free(y);
    lt_free(yc);
    lt_free(tok);
    lt_free(idx);
    lt_free(lp);
    if (st) return st;
    const double n = (double)(end - first);
    memset(out, 0, sizeof *out);
    out->examples = end - first;
    lti_mean_stderr(sum, sumsq, end - first, &out->nll_nats, &out->nll_stderr);
    out->bits_per_dim = out->nll_nats / ((double)D * log(2.0));
    if (all_classes) {
        out->accuracy = (double)correct / n;
        out->marginal_nll_nats = msum / n;
    }
    return LT_OK;
}

lt_status lt_evaluate_nll(lt_model *m, lt_graph *g, const lt_eval_data *d, const lt_eval_opts *o, lt_eval_result *out) {
    return lti_sweep(m, g, d, o, 0, NULL, 0, d->data->split[d->split].n, out);
}

lt_status lt_evaluate_nll_part(lt_model *m, lt_graph *g, const lt_eval_data *d, const lt_eval_opts *o, int64_t first,
                               int64_t count, lt_eval_result *out) {
    return lti_sweep(m, g, d, o, 0, NULL, first, first + count, out);
}

lt_status lt_evaluate_classify(lt_model *m, lt_graph *g, const lt_eval_data *d, const lt_eval_opts *o,
                               const double *prior, lt_eval_result *out) {
    if (m->n_classes < 1)
        return lt_fail(LT_ERR_ARG, "--classify needs a class-conditional model (train with --conditional); '%s' is not",
                       m->vt->name);
    if (!prior) return lt_fail(LT_ERR_ARG, "--classify needs the class prior saved with the model");
    return lti_sweep(m, g, d, o, 1, prior, 0, d->data->split[d->split].n, out);
}

lt_status lt_evaluate_unigram_entropy(const lt_dataset *d, lt_split_id s, double *nats_per_code) {
    const int64_t m = d->split[s].n * d->dim;
    if (d->vocab < 1 || !d->store_tokens[s]) return lt_fail(LT_ERR_ARG, "unigram entropy: the data holds no code grids");
    if (m < 1) return lt_fail(LT_ERR_ARG, "unigram entropy: split '%s' has no examples", lt_split_name(s));
    int64_t *count = lt_calloc((size_t)d->vocab, sizeof *count);
    if (!count) return lt_fail(LT_ERR_NOMEM, "unigram counts for %lld codes", (long long)d->vocab);
    for (int64_t i = 0; i < m; i++) count[d->store_tokens[s][i]]++;
    double h = 0;
    for (int64_t k = 0; k < d->vocab; k++)
        if (count[k]) h -= (double)count[k] / (double)m * log((double)count[k] / (double)m);
    lt_free(count);
    *nats_per_code = h;
    return LT_OK;
}

lt_status lt_class_prior(const lt_dataset *d, lt_split_id s, int64_t n_classes, double *prior) {
    const lt_split *sp = &d->split[s];
    if (!sp->labels) return lt_fail(LT_ERR_ARG, "split '%s' has no labels", lt_split_name(s));
    for (int64_t c = 0; c < n_classes; c++) prior[c] = 0;
    for (int64_t i = 0; i < sp->n; i++) {
        if (sp->labels[i] >= n_classes)
            return lt_fail(LT_ERR_ARG, "split '%s' example %lld: label %d, expected < %lld", lt_split_name(s),
                           (long long)i, sp->labels[i], (long long)n_classes);
        prior[sp->labels[i]] += 1;
    }
    for (int64_t c = 0; c < n_classes; c++) prior[c] /= (double)sp->n;
    return LT_OK;
}

lt_status lt_evaluate_elbo(lt_model *m, lt_graph *g, const lt_eval_data *d, const lt_eval_opts *o, double *mean,
                           double *stderr_out) {
    return lt_evaluate_elbo_part(m, g, d, o, 0, d->data->split[d->split].n, mean, stderr_out);
}

lt_status lt_evaluate_elbo_part(lt_model *m, lt_graph *g, const lt_eval_data *d, const lt_eval_opts *o, int64_t first,
                                int64_t count, double *mean, double *stderr_out) {
    if (!m->vt->elbo) return lt_fail(LT_ERR_ARG, "model '%s' has no evidence lower bound", m->vt->name);
    const int64_t end = first + count;
    lt_status st = lti_check(m, d, first, end);
    if (st) return st;
    const int64_t B = d->batch > 0 ? d->batch : 100, D = m->dim;
    float *x = lt_malloc((size_t)(B * D) * sizeof *x); /* (B, D) */
    int64_t *y = lt_malloc((size_t)B * sizeof *y);     /* (B) */
    int64_t *idx = lt_malloc((size_t)B * sizeof *idx); /* (B) */
    double *v = lt_malloc((size_t)B * sizeof *v);      /* (B) per-example ELBO */
    if (!x || !y || !idx || !v) st = lt_fail(LT_ERR_NOMEM, "evaluation buffers for batch %lld", (long long)B);
    double sum = 0, sumsq = 0;
    int grad = lt_graph_set_grad(g, 0);
    for (int64_t start = first; !st && start < end; start += B) {
        int64_t n = end - start < B ? end - start : B;
        lt_batch b = lti_load(m, d, start, n, idx, x, y, NULL); /* token models have no bound */
        st = m->vt->elbo(m, g, &b, o, v);
        lt_graph_reset(g);
        for (int64_t i = 0; !st && i < n; i++) {
            if (!isfinite(v[i]))
                st = lt_fail(LT_ERR_NUMERIC, "split '%s' example %lld: ELBO is %g", lt_split_name(d->split),
                             (long long)(start + i), v[i]);
            sum += v[i];
            sumsq += v[i] * v[i];
        }
    }
    lt_graph_set_grad(g, grad);
    lt_free(x);
    lt_free(y);
    lt_free(idx);
    lt_free(v);
    if (st) return st;
    lti_mean_stderr(sum, sumsq, end - first, mean, stderr_out);
    return LT_OK;
}

lt_status lt_evaluate_metrics(lt_model *m, lt_graph *g, const lt_eval_data *d, const char **names, double *values,
                              int max, int *count) {
    *count = 0;
    if (!m->vt->metrics_begin || !m->vt->metrics_add || !m->vt->metrics_end) return LT_OK;
    const lt_split *sp = &d->data->split[d->split];
    lt_status st = lti_check(m, d, 0, sp->n);
    if (st) return st;
    const int64_t B = d->batch > 0 ? d->batch : 100, D = m->dim;
    float *x = lt_malloc((size_t)(B * D) * sizeof *x); /* (B, D) */
    int64_t *y = lt_malloc((size_t)B * sizeof *y);     /* (B) */
    int64_t *idx = lt_malloc((size_t)B * sizeof *idx); /* (B) */
    if (!x || !y || !idx) st = lt_fail(LT_ERR_NOMEM, "evaluation buffers for batch %lld", (long long)B);
    int grad = lt_graph_set_grad(g, 0);
    if (!st) m->vt->metrics_begin(m);
    for (int64_t start = 0; !st && start < sp->n; start += B) {
        int64_t n = sp->n - start < B ? sp->n - start : B;
        lt_batch b = lti_load(m, d, start, n, idx, x, y, NULL); /* pixel models only */
        st = m->vt->metrics_add(m, g, &b);
        lt_graph_reset(g);
    }
    lt_graph_set_grad(g, grad);
    lt_free(x);
    lt_free(y);
    lt_free(idx);
    if (!st) *count = m->vt->metrics_end(m, names, values, max);
    return st;
}
