/* Broadcasting elementwise binary ops: add, sub, mul, div.
 *
 * One kernel serves all four ops, the forward and both gradients. The output
 * shape is the NumPy broadcast of the inputs; the index space is then
 * coalesced (dims of extent 1 dropped, adjacent dims merged when both inputs
 * walk them contiguously or both broadcast them), which turns equal shapes
 * into one flat loop and (N,D) op (D) into N rows of D. The loop runs over
 * rows; the innermost dim has element stride 1 or 0 in each input, and the
 * common stride pairs get their own compiled loop (constant strides let the
 * compiler vectorize). A flat index space is cut into blocks so that OpenMP
 * has rows to share. Backward writes the gradient of one input at that
 * input's offsets: rows run in parallel only when no two rows write the
 * same place (the input has no broadcast dim outside the innermost). */
#include <string.h>

#include "ops/internal.h"

#define LTI_INLINE static inline __attribute__((always_inline))
#define LTI_BLOCK 8192     /* elements per row when the index space is flat */
#define LTI_PAR_MIN 32768  /* below this many elements threads cost more than they give */

enum { LTI_ADD, LTI_SUB, LTI_MUL, LTI_DIV };            /* op - LT_OP_ADD */
enum { LTI_FWD, LTI_GRAD_A, LTI_GRAD_B };                /* what the kernel computes */

/* The coalesced index space: rows = Π shape[0..nd-2], each row `inner` long
 * (the last row of a flat space may be shorter: `total` bounds it). */
typedef struct {
    int nd;
    int64_t shape[LT_MAX_DIMS];
    int64_t sa[LT_MAX_DIMS], sb[LT_MAX_DIMS]; /* element strides, 0 where broadcast */
    int64_t rows, inner, total;
} lti_bcast;

static const char *const lti_bin_names[] = {"add", "sub", "mul", "div"};

/* out shape into `shape`/`*nd`; 0 if a and b do not broadcast. */
static int lti_bcast_shape(const lt_tensor *a, const lt_tensor *b, int64_t *shape, int *nd) {
    *nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    for (int d = 0; d < *nd; d++) {
        int da = d - (*nd - a->ndim), db = d - (*nd - b->ndim);
        int64_t x = da >= 0 ? a->shape[da] : 1, y = db >= 0 ? b->shape[db] : 1;
        if (x != y && x != 1 && y != 1) return 0;
        shape[d] = x == 1 ? y : x;
    }
    return 1;
}

/* Strides of t right-aligned to out (nd dims), 0 on broadcast dims. */
static void lti_bcast_strides(const lt_tensor *t, int nd, const int64_t *oshape, int64_t *s) {
    int64_t st = 1;
    for (int d = nd - 1; d >= 0; d--) {
        int dt = d - (nd - t->ndim);
        int64_t ext = dt >= 0 ? t->shape[dt] : 1;
        s[d] = (ext == 1 && oshape[d] != 1) ? 0 : st;
        st *= ext;
    }
}

static void lti_bcast_plan(lti_bcast *bc, const lt_tensor *a, const lt_tensor *b, int nd, const int64_t *oshape) {
    int64_t sa[LT_MAX_DIMS], sb[LT_MAX_DIMS];
    lti_bcast_strides(a, nd, oshape, sa);
    lti_bcast_strides(b, nd, oshape, sb);
    bc->nd = 0;
    bc->total = 1;
    for (int d = 0; d < nd; d++) {
        bc->total *= oshape[d];
        if (oshape[d] == 1) continue;
        int k = bc->nd - 1;
        /* merge into the previous dim when both inputs continue it seamlessly */
        if (k >= 0 && sa[d] * oshape[d] == bc->sa[k] && sb[d] * oshape[d] == bc->sb[k]) {
            bc->shape[k] *= oshape[d];
            bc->sa[k] = sa[d];
            bc->sb[k] = sb[d];
            continue;
        }
        bc->shape[bc->nd] = oshape[d];
        bc->sa[bc->nd] = sa[d];
        bc->sb[bc->nd] = sb[d];
        bc->nd++;
    }
    if (bc->nd == 0) { /* a single element */
        bc->nd = 1;
        bc->shape[0] = 1;
        bc->sa[0] = bc->sb[0] = 0;
    }
    if (bc->nd == 1) { /* flat: cut into blocks, a 2-D space of (blocks, LTI_BLOCK) */
        int64_t n = bc->shape[0];
        bc->nd = 2;
        bc->shape[1] = n < LTI_BLOCK ? n : LTI_BLOCK;
        bc->shape[0] = bc->shape[1] ? (n + bc->shape[1] - 1) / bc->shape[1] : 0;
        bc->sa[1] = bc->sa[0];
        bc->sb[1] = bc->sb[0];
        bc->sa[0] *= bc->shape[1];
        bc->sb[0] *= bc->shape[1];
    }
    bc->inner = bc->shape[bc->nd - 1];
    bc->rows = 1;
    for (int d = 0; d < bc->nd - 1; d++) bc->rows *= bc->shape[d];
}

/* Input offsets of row r. */
static inline void lti_bcast_row(const lti_bcast *bc, int64_t r, int64_t *oa, int64_t *ob) {
    int64_t a = 0, b = 0;
    for (int d = bc->nd - 2; d >= 0; d--) {
        int64_t i = r % bc->shape[d];
        r /= bc->shape[d];
        a += i * bc->sa[d];
        b += i * bc->sb[d];
    }
    *oa = a;
    *ob = b;
}

/* The forward value, or the gradient contribution to a or b, at one element. */
LTI_INLINE float lti_bin_val(int op, int what, float x, float y, float dy) {
    switch (op) {
    case LTI_ADD: return what == LTI_FWD ? x + y : dy;
    case LTI_SUB: return what == LTI_FWD ? x - y : what == LTI_GRAD_A ? dy : -dy;
    case LTI_MUL: return what == LTI_FWD ? x * y : what == LTI_GRAD_A ? dy * y : dy * x;
    default:      return what == LTI_FWD ? x / y : what == LTI_GRAD_A ? dy / y : -dy * x / (y * y);
    }
}

/* One row: the forward writes w[j]; a gradient adds into w at its input's
 * stride (1), or sums the row into w[0] (stride 0: a broadcast innermost dim). */
LTI_INLINE void lti_bin_row(int op, int what, int64_t sa, int64_t sb, int64_t len, const float *a,
                            const float *b, const float *dy, float *w) {
    int64_t sw = what == LTI_FWD ? 1 : what == LTI_GRAD_A ? sa : sb;
    if (what == LTI_FWD) {
        for (int64_t j = 0; j < len; j++) w[j] = lti_bin_val(op, what, a[j * sa], b[j * sb], 0.0f);
    } else if (sw) {
        for (int64_t j = 0; j < len; j++) w[j * sw] += lti_bin_val(op, what, a[j * sa], b[j * sb], dy[j]);
    } else {
        float s = 0.0f;
        for (int64_t j = 0; j < len; j++) s += lti_bin_val(op, what, a[j * sa], b[j * sb], dy[j]);
        w[0] += s;
    }
}

/* Compiles the stride pairs that occur in practice with constant strides. */
LTI_INLINE void lti_bin_row_s(int op, int what, int64_t sa, int64_t sb, int64_t len, const float *a,
                              const float *b, const float *dy, float *w) {
    if (sa == 1 && sb == 1) lti_bin_row(op, what, 1, 1, len, a, b, dy, w);
    else if (sa == 1 && sb == 0) lti_bin_row(op, what, 1, 0, len, a, b, dy, w);
    else if (sa == 0 && sb == 1) lti_bin_row(op, what, 0, 1, len, a, b, dy, w);
    else lti_bin_row(op, what, sa, sb, len, a, b, dy, w);
}

LTI_INLINE void lti_bin_row_w(int op, int what, int64_t sa, int64_t sb, int64_t len, const float *a,
                              const float *b, const float *dy, float *w) {
    switch (what) {
    case LTI_FWD: lti_bin_row_s(op, LTI_FWD, sa, sb, len, a, b, dy, w); break;
    case LTI_GRAD_A: lti_bin_row_s(op, LTI_GRAD_A, sa, sb, len, a, b, dy, w); break;
    default: lti_bin_row_s(op, LTI_GRAD_B, sa, sb, len, a, b, dy, w); break;
    }
}

static void lti_bin_row_any(int op, int what, int64_t sa, int64_t sb, int64_t len, const float *a,
                            const float *b, const float *dy, float *w) {
    switch (op) {
    case LTI_ADD: lti_bin_row_w(LTI_ADD, what, sa, sb, len, a, b, dy, w); break;
    case LTI_SUB: lti_bin_row_w(LTI_SUB, what, sa, sb, len, a, b, dy, w); break;
    case LTI_MUL: lti_bin_row_w(LTI_MUL, what, sa, sb, len, a, b, dy, w); break;
    default: lti_bin_row_w(LTI_DIV, what, sa, sb, len, a, b, dy, w); break;
    }
}

/* Runs the kernel over every row. out (the forward result or dy) is the
 * contiguous output-shaped array; w is where results go (out itself for the
 * forward, else the input's gradient). */
static void lti_bin_run(int op, int what, const lti_bcast *bc, const float *a, const float *b, const float *dy,
                        float *w) {
    int k = bc->nd - 1;
    int64_t sai = bc->sa[k], sbi = bc->sb[k];
    int parallel = bc->total > LTI_PAR_MIN;
    if (what != LTI_FWD) /* gradient rows must not collide */
        for (int d = 0; d < k; d++) parallel &= (what == LTI_GRAD_A ? bc->sa[d] : bc->sb[d]) != 0;
    #pragma omp parallel for schedule(static) if (parallel)
    for (int64_t r = 0; r < bc->rows; r++) {
        int64_t oa, ob, o = r * bc->inner;
        int64_t len = bc->total - o < bc->inner ? bc->total - o : bc->inner;
        lti_bcast_row(bc, r, &oa, &ob);
        float *wr = what == LTI_FWD ? w + o : what == LTI_GRAD_A ? w + oa : w + ob;
        lti_bin_row_any(op, what, sai, sbi, len, a + oa, b + ob, dy ? dy + o : NULL, wr);
    }
}

static lt_tensor *lti_binary(lt_graph *g, lt_op opid, lt_tensor *a, lt_tensor *b) {
    int op = opid - LT_OP_ADD;
    const char *name = lti_bin_names[op];
    if (!lti_check_f32(g, name, a) || !lti_check_f32(g, name, b)) return NULL;
    int64_t shape[LT_MAX_DIMS];
    int nd;
    if (!lti_bcast_shape(a, b, shape, &nd)) {
        char s1[64], s2[64];
        lti_graph_fail(g, LT_ERR_SHAPE, "%s: shapes %s and %s do not broadcast", name, lt_shape_str(a, s1, 64),
                       lt_shape_str(b, s2, 64));
        return NULL;
    }
    lt_tensor *out = lt_graph_new(g, LT_F32, nd, shape); /* broadcast(a, b) */
    if (!out) return NULL;
    lti_bcast bc;
    lti_bcast_plan(&bc, a, b, nd, shape);
    if (bc.total) lti_bin_run(op, LTI_FWD, &bc, a->data, b->data, NULL, out->data);
    lti_graph_record(g, opid, out, 2, (lt_tensor *[]){a, b});
    return out;
}

lt_tensor *lt_add(lt_graph *g, lt_tensor *a, lt_tensor *b) { return lti_binary(g, LT_OP_ADD, a, b); }
lt_tensor *lt_sub(lt_graph *g, lt_tensor *a, lt_tensor *b) { return lti_binary(g, LT_OP_SUB, a, b); }
lt_tensor *lt_mul(lt_graph *g, lt_tensor *a, lt_tensor *b) { return lti_binary(g, LT_OP_MUL, a, b); }
lt_tensor *lt_div(lt_graph *g, lt_tensor *a, lt_tensor *b) { return lti_binary(g, LT_OP_DIV, a, b); }

/* The gradient buffer of input t (what: LTI_GRAD_A or _B); the sum or difference's
 * gradient of an input with out's shape, when nothing was added to it yet, is ±dy itself:
 * written at once (*done), without zeroing the buffer and adding to it. */
static float *lti_bin_grad(lt_graph *g, int op, int what, lt_tensor *t, const lt_tensor *out, int *done) {
    int fresh;
    float *d = lti_grad_out(g, t, &fresh);
    *done = 0;
    if (!d || !fresh) return d;
    const int64_t n = lt_numel(t);
    if (n == lt_numel(out) && (op == LTI_ADD || op == LTI_SUB)) {
        const float s = op == LTI_SUB && what == LTI_GRAD_B ? -1.0f : 1.0f, *dy = out->grad;
        #pragma omp parallel for schedule(static) if (n > LTI_PAR_MIN)
        for (int64_t i = 0; i < n; i++) d[i] = s * dy[i];
        *done = 1;
    } else {
        memset(d, 0, sizeof(float) * (size_t)n);
    }
    return d;
}

/* da += reduce(∂out/∂a · dy) over a's broadcast dims; the same for b. */
static void lti_binary_backward(lt_graph *g, lti_node *n) {
    lt_tensor *a = n->in[0], *b = n->in[1], *out = n->out;
    int op = n->op - LT_OP_ADD, done;
    lti_bcast bc;
    lti_bcast_plan(&bc, a, b, out->ndim, out->shape);
    if (!bc.total) return;
    if (a->requires_grad) {
        float *da = lti_bin_grad(g, op, LTI_GRAD_A, a, out, &done);
        if (!da) return;
        if (!done) lti_bin_run(op, LTI_GRAD_A, &bc, a->data, b->data, out->grad, da);
    }
    if (b->requires_grad) {
        float *db = lti_bin_grad(g, op, LTI_GRAD_B, b, out, &done);
        if (!db) return;
        if (!done) lti_bin_run(op, LTI_GRAD_B, &bc, a->data, b->data, out->grad, db);
    }
}

void lti_add_backward(lt_graph *g, lti_node *n) { lti_binary_backward(g, n); }
void lti_sub_backward(lt_graph *g, lti_node *n) { lti_binary_backward(g, n); }
void lti_mul_backward(lt_graph *g, lti_node *n) { lti_binary_backward(g, n); }
void lti_div_backward(lt_graph *g, lti_node *n) { lti_binary_backward(g, n); }
