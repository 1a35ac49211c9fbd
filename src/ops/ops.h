/* The ops: what models call, the way a PyTorch user calls torch.
 *
 * Every op takes the graph first and returns a new tensor from the graph's
 * arena (valid until lt_graph_reset), or NULL after setting the graph's sticky
 * error; an op given a NULL input returns NULL. Inputs are never modified.
 * Shapes are in comments as (dims). Broadcasting follows NumPy: shapes are
 * right-aligned and a dimension of 1 stretches. Float ops need LT_F32 inputs;
 * index arguments are LT_I64 tensors. Ownership: see core/graph.h. */
#ifndef LT_OPS_H
#define LT_OPS_H

#include "core/graph.h"
#include "ops/op.h"

/* ---- matmul.c ---- */
/* a (M,K) or (B,M,K) [(K,M) / (B,K,M) when trans_a]; b (K,N) or (B,K,N)
 * [(N,K)... when trans_b]; a 2-D operand is shared across the batch. -> (M,N) or (B,M,N) */
lt_tensor *lt_matmul(lt_graph *g, lt_tensor *a, lt_tensor *b, int trans_a, int trans_b);
/* x (N,I), w (O,I), bias (O) or NULL -> (N,O) = x·wᵀ + bias */
lt_tensor *lt_linear(lt_graph *g, lt_tensor *x, lt_tensor *w, lt_tensor *bias);
/* As lt_linear with w ⊙ mask, mask (O,I) constant 0/1. The masked weight is
 * cached in the arena once per step, and its gradient is masked in backward. */
lt_tensor *lt_masked_linear(lt_graph *g, lt_tensor *x, lt_tensor *w, const lt_tensor *mask, lt_tensor *bias);
/* res (N,O) + x·wᵀ + bias: a residual connection's add fused into its linear (the sum is
 * the only (N,O) tensor kept) */
lt_tensor *lt_linear_add(lt_graph *g, lt_tensor *x, lt_tensor *w, lt_tensor *bias, lt_tensor *res);

/* ---- binary.c (broadcasting) ---- */
lt_tensor *lt_add(lt_graph *g, lt_tensor *a, lt_tensor *b);
lt_tensor *lt_sub(lt_graph *g, lt_tensor *a, lt_tensor *b);
lt_tensor *lt_mul(lt_graph *g, lt_tensor *a, lt_tensor *b);
lt_tensor *lt_div(lt_graph *g, lt_tensor *a, lt_tensor *b);

/* ---- unary.c (elementwise, same shape out) ---- */
lt_tensor *lt_add_scalar(lt_graph *g, lt_tensor *a, float s);
lt_tensor *lt_mul_scalar(lt_graph *g, lt_tensor *a, float s);
lt_tensor *lt_neg(lt_graph *g, lt_tensor *a);
lt_tensor *lt_exp(lt_graph *g, lt_tensor *a);
lt_tensor *lt_log(lt_graph *g, lt_tensor *a);
lt_tensor *lt_log1p(lt_graph *g, lt_tensor *a);
lt_tensor *lt_sqrt(lt_graph *g, lt_tensor *a);
lt_tensor *lt_pow(lt_graph *g, lt_tensor *a, float p);          /* a^p */
lt_tensor *lt_abs(lt_graph *g, lt_tensor *a);
lt_tensor *lt_clamp(lt_graph *g, lt_tensor *a, float lo, float hi); /* grad 0 outside [lo,hi] */
lt_tensor *lt_sigmoid(lt_graph *g, lt_tensor *a);
lt_tensor *lt_tanh(lt_graph *g, lt_tensor *a);
lt_tensor *lt_relu(lt_graph *g, lt_tensor *a);
lt_tensor *lt_leaky_relu(lt_graph *g, lt_tensor *a, float slope);
lt_tensor *lt_softplus(lt_graph *g, lt_tensor *a);
lt_tensor *lt_gelu(lt_graph *g, lt_tensor *a);                  /* tanh approximation */
lt_tensor *lt_silu(lt_graph *g, lt_tensor *a);                  /* x·sigmoid(x) (swish) */

/* ---- reduce.c ---- axis may be negative (from the end); LT_AXIS_ALL reduces everything. */
#define LT_AXIS_ALL 99
lt_tensor *lt_sum(lt_graph *g, lt_tensor *a, int axis, int keepdim);
lt_tensor *lt_mean(lt_graph *g, lt_tensor *a, int axis, int keepdim);
lt_tensor *lt_max(lt_graph *g, lt_tensor *a, int axis, int keepdim); /* grad to the first argmax */
lt_tensor *lt_logsumexp(lt_graph *g, lt_tensor *a, int axis, int keepdim);
lt_tensor *lt_softmax(lt_graph *g, lt_tensor *a, int axis);
lt_tensor *lt_log_softmax(lt_graph *g, lt_tensor *a, int axis);

/* ---- loss.c ---- per-example results: summed over all dims but the first */
/* logits, target (N,...) -> (N): Σ BCE(sigmoid(logits), target); target constant in [0,1] */
lt_tensor *lt_bce_with_logits(lt_graph *g, lt_tensor *logits, const lt_tensor *target);
/* logits (N,C), labels LT_I64 (N) -> (N): -log softmax(logits)[label] */
lt_tensor *lt_cross_entropy(lt_graph *g, lt_tensor *logits, const lt_tensor *labels);
/* mu, logvar (N,Z) -> (N): KL(N(mu, e^logvar) || N(0, I)) */
lt_tensor *lt_kl_std_normal(lt_graph *g, lt_tensor *mu, lt_tensor *logvar);
/* all (N,Z) -> (N): KL(N(mu1, e^lv1) || N(mu2, e^lv2)) */
lt_tensor *lt_kl_normal(lt_graph *g, lt_tensor *mu1, lt_tensor *lv1, lt_tensor *mu2, lt_tensor *lv2);

/* ---- shape.c ---- */
/* one entry of shape may be -1 (inferred); the result is a copy-free view: it shares a's data */
lt_tensor *lt_reshape(lt_graph *g, lt_tensor *a, int ndim, const int64_t *shape);
lt_tensor *lt_permute(lt_graph *g, lt_tensor *a, const int *perm);
lt_tensor *lt_transpose(lt_graph *g, lt_tensor *a, int d0, int d1);
lt_tensor *lt_slice(lt_graph *g, lt_tensor *a, int axis, int64_t start, int64_t len);
lt_tensor *lt_concat(lt_graph *g, int n, lt_tensor *const *ts, int axis);
/* table (V,E), idx LT_I64 (...) -> (..., E); backward scatter-adds into table. An index outside
 * [0,V) is LT_ERR_ARG. idx must stay alive until backward. */
lt_tensor *lt_embedding(lt_graph *g, lt_tensor *table, const lt_tensor *idx);

/* ---- conv.c ---- NCHW; dilation 1 */
/* x (N,C,H,W), w (O,C,KH,KW), bias (O)|NULL -> (N,O,H',W') */
lt_tensor *lt_conv2d(lt_graph *g, lt_tensor *x, lt_tensor *w, lt_tensor *bias, int stride, int pad);
/* x (N,C,H,W), w (C,O,KH,KW) (PyTorch layout), bias (O)|NULL -> (N,O,(H-1)s-2p+KH, ...) */
lt_tensor *lt_conv_transpose2d(lt_graph *g, lt_tensor *x, lt_tensor *w, lt_tensor *bias, int stride, int pad);
lt_tensor *lt_upsample_nearest(lt_graph *g, lt_tensor *x, int factor); /* (N,C,H,W) -> (N,C,fH,fW) */
lt_tensor *lt_avg_pool2d(lt_graph *g, lt_tensor *x, int k, int stride);

/* ---- norm.c ---- */
/* x (N,C,...) , gamma/beta (C) or NULL */
lt_tensor *lt_group_norm(lt_graph *g, lt_tensor *x, int groups, lt_tensor *gamma, lt_tensor *beta, float eps);
/* x (...,C), gamma/beta (C) or NULL: normalizes over the last axis */
lt_tensor *lt_layer_norm(lt_graph *g, lt_tensor *x, lt_tensor *gamma, lt_tensor *beta, float eps);
/* inverted dropout with a mask drawn from g->rng when g->training (LT_ERR_ARG if g->rng is
 * NULL); otherwise returns x itself and records nothing. p in [0,1). */
lt_tensor *lt_dropout(lt_graph *g, lt_tensor *x, float p);
/* x (N,C,...), gamma/beta (C) or NULL; per-channel statistics over N and the spatial dims.
 * mean == var == NULL (training): normalizes with the batch's mean and biased variance
 * (LT_ERR_SHAPE with fewer than 2 values per channel) and, when stats != NULL, writes
 * stats (2C) = the batch mean, then the unbiased variance, for running averages.
 * mean, var (C) given (eval): normalizes with them, held constant; stats is unused. */
lt_tensor *lt_batch_norm(lt_graph *g, lt_tensor *x, const lt_tensor *mean, const lt_tensor *var, lt_tensor *gamma,
                         lt_tensor *beta, float eps, float *stats);
/* relu(batch_norm(x) + res) in one pass over memory each way (the ResNet block's bn-relu and
 * bn-add-relu); res NULL or of x's shape; the rest as lt_batch_norm. */
lt_tensor *lt_batch_norm_relu(lt_graph *g, lt_tensor *x, const lt_tensor *mean, const lt_tensor *var,
                              lt_tensor *gamma, lt_tensor *beta, float eps, float *stats, lt_tensor *res);
/* silu(group_norm(x)) in one pass over memory each way, the normalized tensor never stored
 * (taming-transformers' norm-then-swish); arguments as lt_group_norm. */
lt_tensor *lt_group_norm_silu(lt_graph *g, lt_tensor *x, int groups, lt_tensor *gamma, lt_tensor *beta, float eps);

/* ---- attention.c ---- */
/* scores (...,T,T) -> softmax over the last axis with entries j > i masked out */
lt_tensor *lt_causal_softmax(lt_graph *g, lt_tensor *scores);
/* Multi-head scaled-dot-product self-attention, one op.
 * qkv (B, T, 3C): per position [q | k | v], each C = heads·Dh wide and split into heads of Dh
 * contiguous values (PyTorch's view(B, T, heads, Dh); the packing of nn.MultiheadAttention's
 * in_proj). causal != 0: position t attends to 0..t only. Scale 1/sqrt(Dh).
 * -> (B, T, C): the heads' outputs concatenated (before the output projection). */
lt_tensor *lt_attention(lt_graph *g, lt_tensor *qkv, int heads, int causal);

/* Incremental causal attention for sampling: one cache per attention layer holds the keys
 * and values of the positions decoded so far. Owns k and v (core/alloc.h); not thread-safe. */
typedef struct lt_kv_cache {
    int64_t B, T_max, C;  /* serves qkv (B, 3C) steps, up to T_max positions */
    int heads;            /* C = heads·Dh */
    int64_t len;          /* positions stored; the next step is position len */
    float *k, *v;         /* (B, heads, T_max, Dh) each */
} lt_kv_cache;
lt_status lt_kv_cache_init(lt_kv_cache *c, int64_t B, int64_t T_max, int64_t C, int heads);
void lt_kv_cache_free(lt_kv_cache *c);
static inline void lt_kv_cache_reset(lt_kv_cache *c) { c->len = 0; } /* start a new sequence */
/* qkv (B, 3C) of position c->len -> (B, C): appends its k and v to the cache and attends
 * over positions 0..len (O(len) per token). Equals row len of lt_attention(causal) on the
 * whole sequence. Records nothing (no autograd); LT_ERR_ARG when the cache is full. */
lt_tensor *lt_attention_step(lt_graph *g, lt_kv_cache *c, const lt_tensor *qkv);

/* ---- special.c ---- */
/* a view of a's values that does not require a gradient (nothing is recorded) */
lt_tensor *lt_stop_gradient(lt_graph *g, lt_tensor *a);
/* value of a, gradient passed to b unchanged (a and b same shape): the VQ trick */
lt_tensor *lt_straight_through(lt_graph *g, lt_tensor *a, lt_tensor *b);
/* x (N,D), codebook (K,D) -> LT_I64 (N): argmin_k ||x_n - c_k||²; not differentiable */
lt_tensor *lt_argmin_dist(lt_graph *g, const lt_tensor *x, const lt_tensor *codebook);

/* ---- nade.c ---- NADE's hidden layer, one op with a hand-written backward (see nade.c):
 * a_0 = a0, h_d = sigmoid(a_d), logits_d = b_d + V_d·h_d, a_{d+1} = a_d + W_d x_d.
 * x (B,D) constant, a0 (H) or (B,H), W (D,H), V (D,H), b (D) -> logits (B,D) */
lt_tensor *lt_nade(lt_graph *g, const lt_tensor *x, lt_tensor *a0, lt_tensor *W, lt_tensor *V, lt_tensor *b);

/* ---- contrastive.c ---- */
/* NT-Xent (SimCLR, Chen et al. 2020): z (2n, D), rows i and i+n the two views of example i.
 * u = z/max(‖z‖, 1e-12), s_ij = u_i·u_j / tau; per row i, with positive p(i) = (i+n) mod 2n,
 * out_i = −s_{i,p(i)} + log Σ_{j≠i} exp(s_ij) (the other 2n−2 rows are the negatives).
 * -> (2n), per-row losses (the SimCLR loss is their mean). tau > 0. */
lt_tensor *lt_nt_xent(lt_graph *g, lt_tensor *z, float tau);
/* ---- staircase.c ---- a masked linear whose mask is a staircase (MADE's, units sorted by
 * degree): M[rows[i], cols[j]] = (j < len[i]). Only the blocks that can be non-zero are
 * multiplied. The struct and its arrays must stay alive until backward. */
typedef struct lt_staircase {
    int64_t n_out, n_in; /* the weight's shape (O,I) */
    const int64_t *rows; /* (O) a permutation: row i of the staircase is row rows[i] of w */
    const int64_t *cols; /* (I) a permutation: column j of the staircase is column cols[j] of w */
    const int64_t *len;  /* (O) row i keeps columns j < len[i]; nondecreasing for the skipping to pay */
} lt_staircase;
/* x (N,I), w (O,I), bias (O) or NULL -> (N,O) = x·(w ⊙ M)ᵀ + bias, as lt_masked_linear */
lt_tensor *lt_staircase_linear(lt_graph *g, lt_tensor *x, lt_tensor *w, const lt_staircase *s, lt_tensor *bias);
/* multiply-adds of one forward product over N rows (the dense product is N·O·I) */
int64_t lt_staircase_macs(const lt_staircase *s, int64_t N);
/* w ⊙ M's blocks packed once (owned by *out, lt_staircase_pack_free), for several products
 * with unchanged w: lt_staircase_linear_packed skips the packing that reads all of w. w's
 * values must not change while the pack is used; s and w must outlive it. */
typedef struct lt_staircase_pack lt_staircase_pack;
lt_status lt_staircase_pack_new(const lt_tensor *w, const lt_staircase *s, lt_staircase_pack **out);
void lt_staircase_pack_free(lt_staircase_pack *p);
/* lt_staircase_linear with p's blocks (packed from w and p's staircase) */
lt_tensor *lt_staircase_linear_packed(lt_graph *g, lt_tensor *x, lt_tensor *w, const lt_staircase_pack *p,
                                      lt_tensor *bias);

#endif
