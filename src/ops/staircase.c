/* A linear layer whose masked weight is a staircase: MADE's masks (Germain et al. 2015)
 * with the units of each layer sorted by degree. Unit i of a layer sees unit j of the
 * layer below iff m(j) <= m(i) (< for the output), so once both layers are sorted by
 * degree row i of W ⊙ M keeps a prefix of its columns, of length len[i], and the rest is
 * zero: about half of every product multiplies zeros.
 *
 *     y = x · (W ⊙ M)ᵀ + b,  M[rows[i], cols[j]] = (j < len[i])
 *
 * is computed in row blocks of the permuted weight: block r (rows [r0, r1)) multiplies
 * only its first P_r = max len columns, one GEMM each way (forward y, backward dx, dW),
 * so the zeros past P_r are skipped and the zeros inside the block's step are multiplied
 * (the price of keeping every GEMM large enough for BLAS). With several threads the
 * blocks run in parallel, each a single-threaded GEMM, so a layer costs one parallel
 * region each way rather than one per block (each a barrier, slow on a busy machine). x and y stay in the caller's
 * order: x's columns are gathered into the staircase's order once per call, y's rows
 * scattered back, each O(N·(I+O)) against the GEMMs' O(N·I·O).
 * Saved for backward (arena): the gathered x and the permuted masked weight blocks.
 * Packing the blocks reads the whole weight: for several products with unchanged weights
 * (sampling, a product per pixel) lt_staircase_pack_new packs them once, and
 * lt_staircase_linear_packed multiplies with those. */
#include <string.h>

#include <omp.h>

#include "core/alloc.h"
#include "ops/internal.h"

/* Blocks per layer: at most this many, each of at least LTI_STAIR_MIN_ROWS rows (so each
 * GEMM keeps a dimension of >= 128 next to the batch). With a uniform staircase the
 * multiplied zeros are about 1/(2·blocks) of the dense product. */
#define LTI_STAIR_MAX_BLOCKS 16
#define LTI_STAIR_MIN_ROWS 128
/* Below this many multiply-adds a layer's blocks run one after another (BLAS may thread each). */
#define LTI_STAIR_PAR_MACS 4000000

typedef struct lti_stair_saved {
    const lt_staircase *s;
    float *xs;        /* (N,I) x with its columns in the staircase's order */
    float *wb;        /* the blocks: block r is (r1 - r0, P_r), contiguous, one after another */
    int64_t nb, nw;   /* blocks, floats in wb */
    int cols_id;      /* cols is the identity (a raster ordering's inputs): rows copy and add whole */
    int64_t r0[LTI_STAIR_MAX_BLOCKS + 1]; /* block r = rows [r0[r], r0[r+1]) */
    int64_t P[LTI_STAIR_MAX_BLOCKS];      /* columns multiplied by block r */
    int64_t off[LTI_STAIR_MAX_BLOCKS];    /* block r's offset in wb */
} lti_stair_saved;

/* The block layout of s: nb, r0, P, off, nw, cols_id (not s, xs, wb). */
static void lti_stair_layout(const lt_staircase *s, lti_stair_saved *sv) {
    const int64_t I = s->n_in, O = s->n_out;
    sv->cols_id = 1;
    for (int64_t j = 0; j < I && sv->cols_id; j++) sv->cols_id = s->cols[j] == j;
    sv->nb = O / LTI_STAIR_MIN_ROWS;
    sv->nb = sv->nb < 1 ? 1 : (sv->nb > LTI_STAIR_MAX_BLOCKS ? LTI_STAIR_MAX_BLOCKS : sv->nb);
    int64_t nw = 0;
    for (int64_t r = 0; r <= sv->nb; r++) sv->r0[r] = O * r / sv->nb;
    for (int64_t r = 0; r < sv->nb; r++) {
        sv->P[r] = 0;
        for (int64_t i = sv->r0[r]; i < sv->r0[r + 1]; i++) sv->P[r] = s->len[i] > sv->P[r] ? s->len[i] : sv->P[r];
        sv->off[r] = nw;
        nw += (sv->r0[r + 1] - sv->r0[r]) * sv->P[r];
    }
    sv->nw = nw;
}

/* block r of w ⊙ M, its rows and columns in the staircase's order, into sv->wb */
static void lti_stair_pack_block(const lti_stair_saved *sv, const lt_staircase *s, const float *w, int64_t r) {
    const int64_t a = sv->r0[r], P = sv->P[r], I = s->n_in;
    for (int64_t i = a; i < sv->r0[r + 1]; i++) {
        float *dst = sv->wb + sv->off[r] + (i - a) * P;
        const float *src = w + s->rows[i] * I;
        if (sv->cols_id) memcpy(dst, src, sizeof(float) * (size_t)s->len[i]);
        else
            for (int64_t j = 0; j < s->len[i]; j++) dst[j] = src[s->cols[j]];
        memset(dst + s->len[i], 0, sizeof(float) * (size_t)(P - s->len[i]));
    }
}

struct lt_staircase_pack {
    lti_stair_saved sv; /* its layout and wb (owned); s and xs unused */
    const lt_staircase *s;
    const float *w;     /* the weights packed (to catch a pack used with another tensor) */
};

int64_t lt_staircase_macs(const lt_staircase *s, int64_t N) {
    int64_t nb = s->n_out / LTI_STAIR_MIN_ROWS, total = 0;
    nb = nb < 1 ? 1 : (nb > LTI_STAIR_MAX_BLOCKS ? LTI_STAIR_MAX_BLOCKS : nb);
    for (int64_t r = 0; r < nb; r++) {
        int64_t a = s->n_out * r / nb, b = s->n_out * (r + 1) / nb, P = 0;
        for (int64_t i = a; i < b; i++) P = s->len[i] > P ? s->len[i] : P;
        total += (b - a) * P;
    }
    return total * N;
}

/* The staircase must be two permutations and lengths in [0, I]: a repeated index would
 * silently lose a gradient. O(O + I), against the GEMMs' O(N·O·I). seen: max(O, I) bytes. */
static lt_status lti_stair_check(const lt_staircase *s, char *seen) {
    for (int pass = 0; pass < 2; pass++) {
        const int64_t n = pass ? s->n_in : s->n_out, *p = pass ? s->cols : s->rows;
        memset(seen, 0, (size_t)n);
        for (int64_t i = 0; i < n; i++) {
            if (p[i] < 0 || p[i] >= n || seen[p[i]])
                return lt_fail(LT_ERR_ARG, "staircase_linear: %s is not a permutation of 0..%lld (entry %lld = %lld)",
                               pass ? "cols" : "rows", (long long)n - 1, (long long)i, (long long)p[i]);
            seen[p[i]] = 1;
        }
    }
    for (int64_t i = 0; i < s->n_out; i++)
        if (s->len[i] < 0 || s->len[i] > s->n_in)
            return lt_fail(LT_ERR_ARG, "staircase_linear: len[%lld] = %lld is outside [0, %lld]", (long long)i,
                           (long long)s->len[i], (long long)s->n_in);
    return LT_OK;
}

static int lti_stair_valid(lt_graph *g, const lt_staircase *s) {
    char *seen = lt_graph_alloc(g, (size_t)(s->n_out > s->n_in ? s->n_out : s->n_in));
    if (!seen) return 0;
    const lt_status st = lti_stair_check(s, seen);
    if (st) lti_graph_fail(g, st, "%s", lt_error_message());
    return !st;
}

/* with pk: its blocks, packed from w and s; else packed here, into the arena */
static lt_tensor *lti_stair_linear(lt_graph *g, lt_tensor *x, lt_tensor *w, const lt_staircase *s,
                                   const lt_staircase_pack *pk, lt_tensor *bias) {
    if (!lti_check_f32(g, "staircase_linear", x) || !lti_check_f32(g, "staircase_linear", w)) return NULL;
    if (bias && !lti_check_f32(g, "staircase_linear", bias)) return NULL;
    if (x->ndim != 2 || w->ndim != 2 || !s || w->shape[0] != s->n_out || w->shape[1] != s->n_in || x->shape[1] != s->n_in ||
        (bias && (bias->ndim != 1 || bias->shape[0] != s->n_out))) {
        char s1[64], s2[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "staircase_linear: x %s and w %s do not fit a (%lld,%lld) staircase",
                       lt_shape_str(x, s1, 64), lt_shape_str(w, s2, 64), s ? (long long)s->n_out : -1LL,
                       s ? (long long)s->n_in : -1LL);
        return NULL;
    }
    if (pk && pk->w != w->data) {
        lti_graph_fail(g, LT_ERR_ARG, "staircase_linear: the packed blocks are of another weight tensor");
        return NULL;
    }
    if (!pk && !lti_stair_valid(g, s)) return NULL; /* a pack's staircase was checked when packed */
    const int64_t N = x->shape[0], I = s->n_in, O = s->n_out;
    lti_stair_saved *sv = lt_graph_alloc(g, sizeof *sv);
    lt_tensor *y = lt_graph_new(g, LT_F32, 2, (int64_t[]){N, O});
    float *xs = lt_graph_alloc(g, sizeof(float) * (size_t)(N * I)); /* (N,I) */
    float *ys = lt_graph_alloc(g, sizeof(float) * (size_t)(N * O)); /* (N,O) rows in staircase order */
    if (!sv || !y || !xs || !ys) return NULL;
    if (pk) *sv = pk->sv;
    else lti_stair_layout(s, sv);
    sv->s = s;
    sv->xs = xs;
    const int64_t nw = sv->nw;
    if (!pk && !(sv->wb = lt_graph_alloc(g, sizeof(float) * (size_t)(nw > 0 ? nw : 1)))) return NULL;
    #pragma omp parallel for schedule(static) if (N * I > 100000)
    for (int64_t n = 0; n < N; n++)
        for (int64_t j = 0; j < I; j++) xs[n * I + j] = x->data[n * I + s->cols[j]];
    /* one parallel region: each thread gathers and multiplies whole blocks (BLAS runs
     * single-threaded inside it), largest first; no barrier per block */
    #pragma omp parallel for schedule(dynamic, 1) if (sv->nb > 1 && N * nw > LTI_STAIR_PAR_MACS)
    for (int64_t rr = 0; rr < sv->nb; rr++) {
        const int64_t r = sv->nb - 1 - rr, a = sv->r0[r], P = sv->P[r];
        if (!pk) lti_stair_pack_block(sv, s, w->data, r);
        if (P > 0) {
            lti_gemm(0, 1, N, sv->r0[r + 1] - a, P, 1.0f, xs, I, sv->wb + sv->off[r], P, 0.0f, ys + a, O);
        } else {
            for (int64_t n = 0; n < N; n++) memset(ys + n * O + a, 0, sizeof(float) * (size_t)(sv->r0[r + 1] - a));
        }
    }
    #pragma omp parallel for schedule(static) if (N * O > 100000)
    for (int64_t n = 0; n < N; n++)
        for (int64_t i = 0; i < O; i++)
            y->data[n * O + s->rows[i]] = ys[n * O + i] + (bias ? bias->data[s->rows[i]] : 0.0f);
    lti_node *nd = lti_graph_record(g, LT_OP_STAIRCASE_LINEAR, y, 3, (lt_tensor *[]){x, w, bias});
    if (nd) nd->saved = sv;
    return y;
}

lt_tensor *lt_staircase_linear(lt_graph *g, lt_tensor *x, lt_tensor *w, const lt_staircase *s, lt_tensor *bias) {
    return lti_stair_linear(g, x, w, s, NULL, bias);
}

lt_tensor *lt_staircase_linear_packed(lt_graph *g, lt_tensor *x, lt_tensor *w, const lt_staircase_pack *p,
                                      lt_tensor *bias) {
    if (!p) {
        lti_graph_fail(g, LT_ERR_ARG, "staircase_linear: no packed blocks");
        return NULL;
    }
    return lti_stair_linear(g, x, w, p->s, p, bias);
}

lt_status lt_staircase_pack_new(const lt_tensor *w, const lt_staircase *s, lt_staircase_pack **out) {
    *out = NULL;
    if (w->dtype != LT_F32 || w->ndim != 2 || w->shape[0] != s->n_out || w->shape[1] != s->n_in)
        return lt_fail(LT_ERR_SHAPE, "staircase pack: the weight is not a float (%lld,%lld) matrix", (long long)s->n_out,
                       (long long)s->n_in);
    char *seen = lt_malloc((size_t)(s->n_out > s->n_in ? s->n_out : s->n_in) + 1);
    lt_status st = seen ? lti_stair_check(s, seen) : lt_fail(LT_ERR_NOMEM, "staircase pack");
    lt_free(seen);
    if (st) return st;
    lt_staircase_pack *p = lt_calloc(1, sizeof *p);
    if (!p) return lt_fail(LT_ERR_NOMEM, "staircase pack");
    lti_stair_layout(s, &p->sv);
    p->s = s;
    p->w = w->data;
    if (!(p->sv.wb = lt_malloc(sizeof(float) * (size_t)(p->sv.nw > 0 ? p->sv.nw : 1)))) {
        st = lt_fail(LT_ERR_NOMEM, "staircase pack of %lld floats", (long long)p->sv.nw);
        lt_free(p);
        return st;
    }
    #pragma omp parallel for schedule(dynamic, 1) if (p->sv.nb > 1 && p->sv.nw > LTI_STAIR_PAR_MACS / 16)
    for (int64_t r = 0; r < p->sv.nb; r++) lti_stair_pack_block(&p->sv, s, w->data, r);
    *out = p;
    return LT_OK;
}

void lt_staircase_pack_free(lt_staircase_pack *p) {
    if (!p) return;
    lt_free(p->sv.wb);
    lt_free(p);
}

/* dy is gathered into the staircase's row order; then per block
 * dx_s[:, :P] += dy_s[:, rows] · Wb,  dW_block = dy_s[:, rows]ᵀ · x_s[:, :P] (scattered, masked),
 * db += Σ_rows dy. */
void lti_staircase_linear_backward(lt_graph *g, lti_node *nd) {
    const lti_stair_saved *sv = nd->saved;
    const lt_staircase *s = sv->s;
    lt_tensor *x = nd->in[0], *w = nd->in[1], *bias = nd->in[2];
    const int64_t N = x->shape[0], I = s->n_in, O = s->n_out;
    const float *dy = nd->out->grad;
    float *dys = lt_graph_alloc(g, sizeof(float) * (size_t)(N * O)); /* (N,O) */
    if (!dys) return;
    #pragma omp parallel for schedule(static) if (N * O > 100000)
    for (int64_t n = 0; n < N; n++)
        for (int64_t i = 0; i < O; i++) dys[n * O + i] = dy[n * O + s->rows[i]];
    /* dW and dx block by block, blocks in parallel as in forward: block r's dW rows are
     * its own (rows is a permutation); dx sums over blocks, so each thread adds into its own
     * (N,I) buffer, summed after. */
    const int par = sv->nb > 1 && N * sv->nw > LTI_STAIR_PAR_MACS;
    const int nt = par ? omp_get_max_threads() : 1;
    float *dx = x->requires_grad ? lti_grad(g, x) : NULL, *dw = w->requires_grad ? lti_grad(g, w) : NULL;
    float *dxs = dx ? lt_graph_alloc(g, sizeof(float) * (size_t)(nt * N * I)) : NULL; /* (nt,N,I) */
    float *tmp = dw ? lt_graph_alloc(g, sizeof(float) * (size_t)(sv->nw > 0 ? sv->nw : 1)) : NULL; /* the blocks' dW */
    if ((x->requires_grad && (!dx || !dxs)) || (w->requires_grad && (!dw || !tmp))) return;
    if (dxs) memset(dxs, 0, sizeof(float) * (size_t)(nt * N * I));
    #pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (par)
    for (int64_t rr = 0; rr < sv->nb; rr++) {
        const int64_t r = sv->nb - 1 - rr, a = sv->r0[r], P = sv->P[r], nr = sv->r0[r + 1] - a;
        if (P == 0) continue;
        if (dxs)
            lti_gemm(0, 0, N, P, nr, 1.0f, dys + a, O, sv->wb + sv->off[r], P, 1.0f,
                     dxs + (int64_t)omp_get_thread_num() * N * I, I);
        if (!dw) continue;
        float *t = tmp + sv->off[r];
        lti_gemm(1, 0, nr, P, N, 1.0f, dys + a, O, sv->xs, I, 0.0f, t, P);
        for (int64_t i = a; i < a + nr; i++) {
            float *dst = dw + s->rows[i] * I;
            const float *src = t + (i - a) * P;
            if (sv->cols_id)
                for (int64_t j = 0; j < s->len[i]; j++) dst[j] += src[j];
            else
                for (int64_t j = 0; j < s->len[i]; j++) dst[s->cols[j]] += src[j];
        }
    }
    if (dx) {
        #pragma omp parallel for schedule(static) if (N * I > 100000)
        for (int64_t n = 0; n < N; n++)
            for (int64_t j = 0; j < I; j++) {
                float v = 0.0f;
                for (int t = 0; t < nt; t++) v += dxs[(int64_t)t * N * I + n * I + j];
                dx[n * I + s->cols[j]] += v;
            }
    }
    if (bias && bias->requires_grad) {
        float *db = lti_grad(g, bias);
        if (!db) return;
        for (int64_t n = 0; n < N; n++)
            for (int64_t j = 0; j < O; j++) db[j] += dy[n * O + j];
    }
}
