/* The nn layer: modules a model file composes the way torch code composes torch.nn.
 *
 * The convention (every module here follows it; a new module should too):
 *  - A module is a plain struct: its hyper-parameters, lt_tensor pointers returned by
 *    lt_params_add (valid after lt_params_finalize) and its child modules by value. It
 *    owns nothing: the tensors belong to the model's lt_params (see core/params.h).
 *  - lt_nn_<mod>_declare(&mod, nn, prefix, hyper-parameters...) adds its parameters to
 *    nn->params and its buffers (BatchNorm's running statistics) to nn->buffers, named
 *    exactly as PyTorch's state_dict names the same module tree under `prefix`
 *    ("encoder.blocks.0.conv1.weight", "norm.running_mean"; prefix "" or NULL: top
 *    level). Build child prefixes with lt_nn_join. Call it before lt_params_finalize.
 *    Fails (duplicate or too long name, bad hyper-parameter) with the message set.
 *  - lt_nn_<mod>_reset(&mod, rng) after finalize sets the values as PyTorch's
 *    reset_parameters does (same distributions; not torch's random stream):
 *      Linear, Conv2d: weight and bias U(±1/√fan_in) (kaiming_uniform(a=√5));
 *        fan_in = in·k·k for Conv2d, out·k·k for ConvTranspose2d (torch reads it from
 *        the weight's dim 1);
 *      GroupNorm, LayerNorm, BatchNorm: weight 1, bias 0; running mean 0, var 1, count 0;
 *      Embedding: N(0, 1);
 *      MultiheadAttention: in_proj_weight xavier_uniform U(±√(6/(C+3C))), biases 0,
 *        out_proj.weight as Linear.
 *    Draws come from rng in declaration order (weight before bias, children in order).
 *  - lt_nn_<mod>_forward(g, &mod, x, ...) records on g and returns a tensor of g (NULL
 *    with g's sticky error, as every op). The mode is g->training, as module.train() /
 *    eval() in torch: it switches dropout (which then needs g->rng) and BatchNorm's
 *    statistics. BatchNorm's forward in training mode updates its buffers in place.
 *
 * BatchNorm's num_batches_tracked, an int64 scalar in torch, is an F32 buffer of shape ()
 * here (exact to 2^24 steps): torch's load_state_dict copies it into its int64 buffer
 * (copy_ casts), so a latent checkpoint, with its "param."/"buffer." prefixes dropped,
 * loads with strict=True. */
#ifndef LT_NN_H
#define LT_NN_H

#include <stdint.h>

#include "core/graph.h"
#include "core/params.h"
#include "core/rng.h"

#define LT_NN_NAME_MAX LT_PARAM_NAME_MAX

struct lt_kv_cache; /* ops/ops.h */

/* Where modules declare their tensors. Not owned. */
typedef struct lt_nn {
    lt_params *params;  /* trained */
    lt_params *buffers; /* saved, not trained; may be NULL when no module has buffers */
} lt_nn;

/* out = "prefix.<fmt...>", or "<fmt...>" when prefix is NULL or "". LT_ERR_ARG (message set)
 * when the name does not fit LT_NN_NAME_MAX. e.g. lt_nn_join(p, "encoder", "blocks.%d", i). */
lt_status lt_nn_join(char out[LT_NN_NAME_MAX], const char *prefix, const char *fmt, ...) LT_PRINTF(3, 4);

/* Activations by name, for modules that take one. */
typedef enum lt_nn_act { LT_NN_IDENTITY = 0, LT_NN_RELU, LT_NN_GELU /* tanh approximation */, LT_NN_SILU, LT_NN_TANH } lt_nn_act;
lt_tensor *lt_nn_act_forward(lt_graph *g, lt_nn_act act, lt_tensor *x);

/* A random orthogonal weight (nn/init.c), as torch.nn.init.orthogonal_ and the MADE authors'
 * "Orthogonal" initializer: w (rows, cols) gets orthonormal rows (rows <= cols) or columns
 * (rows > cols), times gain, Haar-distributed, from rng (Gaussian draws, QR by LAPACK). */
lt_status lt_nn_init_orthogonal(lt_rng *rng, lt_tensor *w, float gain);

/* ---- layers (nn/layers.c) ---- */

/* torch.nn.Linear(in, out, bias): "weight" (out,in), "bias" (out) */
typedef struct lt_nn_linear {
    int64_t in, out;
    lt_tensor *weight; /* (out, in) */
    lt_tensor *bias;   /* (out) or NULL */
} lt_nn_linear;
lt_status lt_nn_linear_declare(lt_nn_linear *m, const lt_nn *nn, const char *prefix, int64_t in, int64_t out, int bias);
void lt_nn_linear_reset(lt_nn_linear *m, lt_rng *rng);
/* x (..., in) -> (..., out) */
lt_tensor *lt_nn_linear_forward(lt_graph *g, const lt_nn_linear *m, lt_tensor *x);

/* torch.nn.Conv2d(in, out, kernel, stride, padding, bias): "weight" (out,in,k,k), "bias" (out) */
typedef struct lt_nn_conv2d {
    int64_t in, out;
    int kernel, stride, pad;
    lt_tensor *weight; /* (out, in, k, k) */
    lt_tensor *bias;   /* (out) or NULL */
} lt_nn_conv2d;
lt_status lt_nn_conv2d_declare(lt_nn_conv2d *m, const lt_nn *nn, const char *prefix, int64_t in, int64_t out,
                               int kernel, int stride, int pad, int bias);
void lt_nn_conv2d_reset(lt_nn_conv2d *m, lt_rng *rng);
/* x (N,in,H,W) -> (N,out,(H+2p-k)/s+1,...) */
lt_tensor *lt_nn_conv2d_forward(lt_graph *g, const lt_nn_conv2d *m, lt_tensor *x);

/* torch.nn.ConvTranspose2d(in, out, kernel, stride, padding, bias) (output_padding 0):
 * "weight" (in,out,k,k), "bias" (out) */
typedef lt_nn_conv2d lt_nn_conv_transpose2d;
lt_status lt_nn_conv_transpose2d_declare(lt_nn_conv_transpose2d *m, const lt_nn *nn, const char *prefix, int64_t in,
                                         int64_t out, int kernel, int stride, int pad, int bias);
void lt_nn_conv_transpose2d_reset(lt_nn_conv_transpose2d *m, lt_rng *rng);
/* x (N,in,H,W) -> (N,out,(H-1)s-2p+k,...) */
lt_tensor *lt_nn_conv_transpose2d_forward(lt_graph *g, const lt_nn_conv_transpose2d *m, lt_tensor *x);

/* torch.nn.Embedding(num, dim): "weight" (num,dim) */
typedef struct lt_nn_embedding {
    int64_t num, dim;
    lt_tensor *weight; /* (num, dim) */
} lt_nn_embedding;
lt_status lt_nn_embedding_declare(lt_nn_embedding *m, const lt_nn *nn, const char *prefix, int64_t num, int64_t dim);
void lt_nn_embedding_reset(lt_nn_embedding *m, lt_rng *rng);
/* idx LT_I64 (...) -> (..., dim); idx must stay alive until backward */
lt_tensor *lt_nn_embedding_forward(lt_graph *g, const lt_nn_embedding *m, const lt_tensor *idx);

/* ---- normalization (nn/norms.c) ---- */

/* torch.nn.GroupNorm(groups, C, eps, affine) and torch.nn.LayerNorm(C, eps,
 * elementwise_affine): "weight" (C), "bias" (C) when affine. */
typedef struct lt_nn_norm {
    int64_t channels;
    int groups;        /* GroupNorm; 0 for LayerNorm */
    float eps;
    lt_tensor *weight; /* (C) or NULL */
    lt_tensor *bias;   /* (C) or NULL */
} lt_nn_norm;
lt_status lt_nn_group_norm_declare(lt_nn_norm *m, const lt_nn *nn, const char *prefix, int groups, int64_t C,
                                   float eps, int affine);
lt_status lt_nn_layer_norm_declare(lt_nn_norm *m, const lt_nn *nn, const char *prefix, int64_t C, float eps,
                                   int affine);
void lt_nn_norm_reset(lt_nn_norm *m);
/* GroupNorm: x (N,C,...); LayerNorm: x (...,C) normalized over the last axis. Same shape out. */
lt_tensor *lt_nn_norm_forward(lt_graph *g, const lt_nn_norm *m, lt_tensor *x);
/* silu(norm(x)); a GroupNorm's by the fused op (the normalized tensor is never stored) */
lt_tensor *lt_nn_norm_silu_forward(lt_graph *g, const lt_nn_norm *m, lt_tensor *x);

/* torch.nn.BatchNorm1d/2d(C, eps, momentum, affine), track_running_stats: "weight",
 * "bias" (C) when affine; buffers "running_mean", "running_var" (C), "num_batches_tracked" ().
 * Training (g->training): batch statistics, then running = (1−momentum)·running +
 * momentum·batch (the unbiased variance for running_var) and the count + 1, as torch.
 * Eval: the running statistics. */
typedef struct lt_nn_batch_norm {
    int64_t channels;
    float eps, momentum;
    lt_tensor *weight, *bias;            /* (C) or NULL */
    lt_tensor *running_mean, *running_var; /* (C), buffers */
    lt_tensor *num_batches_tracked;      /* (), buffer */
} lt_nn_batch_norm;
lt_status lt_nn_batch_norm_declare(lt_nn_batch_norm *m, const lt_nn *nn, const char *prefix, int64_t C, float eps,
                                   float momentum, int affine);
void lt_nn_batch_norm_reset(lt_nn_batch_norm *m);
/* x (N,C,...) -> same shape */
lt_tensor *lt_nn_batch_norm_forward(lt_graph *g, lt_nn_batch_norm *m, lt_tensor *x);
/* relu(BatchNorm(x) + res), res NULL or of x's shape: one fused op (lt_batch_norm_relu) */
lt_tensor *lt_nn_batch_norm_relu_forward(lt_graph *g, lt_nn_batch_norm *m, lt_tensor *x, lt_tensor *res);

/* ---- blocks (nn/blocks.c) ---- */

/* The VQ-VAE residual block (van den Oord et al. 2017):
 * x + conv2(relu(conv1(relu(x)))), conv1 3×3 pad 1 C→hidden, conv2 1×1 hidden→C. */
typedef struct lt_nn_res_block {
    lt_nn_conv2d conv1, conv2;
} lt_nn_res_block;
lt_status lt_nn_res_block_declare(lt_nn_res_block *m, const lt_nn *nn, const char *prefix, int64_t C, int64_t hidden);
void lt_nn_res_block_reset(lt_nn_res_block *m, lt_rng *rng);
lt_tensor *lt_nn_res_block_forward(lt_graph *g, const lt_nn_res_block *m, lt_tensor *x);

/* taming-transformers' ResnetBlock (VQGAN): h = conv1(silu(norm1(x))),
 * h = conv2(dropout(silu(norm2(h)))), out = shortcut(x) + h; norms GroupNorm(groups, eps),
 * convs 3×3 pad 1, "nin_shortcut" a 1×1 conv when in != out (else identity). */
typedef struct lt_nn_resnet_block {
    int64_t in, out;
    float dropout;
    lt_nn_norm norm1, norm2;
    lt_nn_conv2d conv1, conv2, nin_shortcut; /* nin_shortcut.weight NULL when in == out */
} lt_nn_resnet_block;
lt_status lt_nn_resnet_block_declare(lt_nn_resnet_block *m, const lt_nn *nn, const char *prefix, int64_t in,
                                     int64_t out, int groups, float eps, float dropout);
void lt_nn_resnet_block_reset(lt_nn_resnet_block *m, lt_rng *rng);
lt_tensor *lt_nn_resnet_block_forward(lt_graph *g, const lt_nn_resnet_block *m, lt_tensor *x);

/* taming-transformers' AttnBlock (VQGAN): single-head self-attention over the H·W
 * positions: h = norm(x) (GroupNorm(groups, eps)), q, k, v = 1×1 convs of h, out = x +
 * proj_out(softmax(qᵀk/√C)·v). Names "norm", "q", "k", "v", "proj_out". */
typedef struct lt_nn_attn_block {
    lt_nn_norm norm;
    lt_nn_conv2d q, k, v, proj_out;
} lt_nn_attn_block;
lt_status lt_nn_attn_block_declare(lt_nn_attn_block *m, const lt_nn *nn, const char *prefix, int64_t C, int groups,
                                   float eps);
void lt_nn_attn_block_reset(lt_nn_attn_block *m, lt_rng *rng);
/* x (N,C,H,W) -> same shape */
lt_tensor *lt_nn_attn_block_forward(lt_graph *g, const lt_nn_attn_block *m, lt_tensor *x);

/* Down-sampling by 2: "conv", a Conv2d(in, out, kernel, stride 2, pad (kernel-1)/2)
 * (kernel 4: VQ-VAE's; kernel 3). Up-sampling by 2: nearest ×2, then "conv" a
 * Conv2d(in, out, 3, 1, 1) (taming's Upsample). */
typedef struct lt_nn_resample {
    int up;
    lt_nn_conv2d conv;
} lt_nn_resample;
lt_status lt_nn_downsample_declare(lt_nn_resample *m, const lt_nn *nn, const char *prefix, int64_t in, int64_t out,
                                   int kernel);
lt_status lt_nn_upsample_declare(lt_nn_resample *m, const lt_nn *nn, const char *prefix, int64_t in, int64_t out);
void lt_nn_resample_reset(lt_nn_resample *m, lt_rng *rng);
/* x (N,in,H,W) -> (N,out,H/2,W/2) or (N,out,2H,2W) */
lt_tensor *lt_nn_resample_forward(lt_graph *g, const lt_nn_resample *m, lt_tensor *x);

/* An MLP as torch.nn.Sequential(Linear, act, Linear, act, ..., Linear): layer l is
 * named "<2l>" ("0.weight", "2.weight", ...); sizes[0] -> ... -> sizes[n], the
 * activation between layers, none after the last. */
#define LT_NN_MLP_MAX 8
typedef struct lt_nn_mlp {
    int n;
    lt_nn_act act;
    lt_nn_linear layer[LT_NN_MLP_MAX];
} lt_nn_mlp;
lt_status lt_nn_mlp_declare(lt_nn_mlp *m, const lt_nn *nn, const char *prefix, const int64_t *sizes, int n,
                            lt_nn_act act);
void lt_nn_mlp_reset(lt_nn_mlp *m, lt_rng *rng);
/* x (..., sizes[0]) -> (..., sizes[n]) */
lt_tensor *lt_nn_mlp_forward(lt_graph *g, const lt_nn_mlp *m, lt_tensor *x);

/* ---- a small ResNet encoder (nn/resnet.c) ---- */

/* torchvision's ResNet with BasicBlocks, shrunk for 28×28 and 32×32 images (the CIFAR
 * variant of He et al. 2016, §4.2): a 3×3 stem conv (stride 1, no max-pool), `stages`
 * stages of `blocks` BasicBlocks each, stage s with width·2^s channels, stride 2 in the
 * first block of every stage after the first, then global average pooling. A BasicBlock is
 * relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), convs 3×3 without bias; the shortcut is
 * "downsample" = Sequential(Conv2d 1×1 stride s without bias, norm) where the shape changes,
 * else the identity.
 * Norm: BatchNorm2d (eps 1e-5, momentum 0.1; the default: SimCLR's encoder, and a linear probe
 * of its features is what the papers report) or GroupNorm(8 groups, eps 1e-5; width must be a
 * multiple of 8) (no train/eval difference, independent of the batch). Both are named "bn1", "bn2", "downsample.1", as torchvision names a
 * norm_layer whatever its kind.
 * Names (torchvision's): "conv1.weight", "bn1.*", "layer<s+1>.<b>.conv1.weight",
 * "layer<s+1>.<b>.bn1.*", ".conv2", ".bn2", ".downsample.0.weight", ".downsample.1.*".
 * Shapes: x (N, in_ch, H, W) with H, W >= 2^(stages-1); stage s's output (N, width·2^s, H_s, W_s),
 * H_0 = H, H_{s+1} = ceil(H_s / 2) (28 → 14 → 7, 32 → 16 → 8); the pooled features
 * (N, lt_nn_resnet_dim(m)) = (N, width·2^(stages-1)).
 * Initialization (reset): convs as torch's Conv2d default (kaiming_uniform(a=√5)), norms
 * weight 1, bias 0; zero_init_residual off. */
typedef enum lt_nn_norm_kind { LT_NN_NORM_BATCH = 0, LT_NN_NORM_GROUP } lt_nn_norm_kind;

/* One norm of either kind ("bn1" in torchvision's naming), over (N, C, H, W). */
typedef struct lt_nn_norm2d {
    lt_nn_norm_kind kind;
    lt_nn_batch_norm bn; /* kind BATCH */
    lt_nn_norm gn;       /* kind GROUP */
} lt_nn_norm2d;

typedef struct lt_nn_basic_block {
    lt_nn_conv2d conv1, conv2, down;  /* down.weight NULL: identity shortcut */
    lt_nn_norm2d bn1, bn2, down_norm;
} lt_nn_basic_block;

#define LT_NN_RESNET_MAX_STAGES 5
#define LT_NN_RESNET_MAX_BLOCKS 8
typedef struct lt_nn_resnet_opts {
    int64_t in_ch;   /* image channels: 1 grey, 3 colour */
    int64_t width;   /* stem and first stage channels (32) */
    int stages;      /* 1..LT_NN_RESNET_MAX_STAGES (3) */
    int blocks;      /* BasicBlocks per stage, 1..LT_NN_RESNET_MAX_BLOCKS (2) */
    lt_nn_norm_kind norm; /* BATCH (default) or GROUP */
} lt_nn_resnet_opts;
lt_nn_resnet_opts lt_nn_resnet_opts_default(void); /* in_ch 1, width 32, 3 stages, 2 blocks, BatchNorm */

typedef struct lt_nn_resnet {
    lt_nn_resnet_opts o;
    lt_nn_conv2d conv1;
    lt_nn_norm2d bn1;
    lt_nn_basic_block block[LT_NN_RESNET_MAX_STAGES][LT_NN_RESNET_MAX_BLOCKS]; /* [stage][block] */
} lt_nn_resnet;

/* What one forward returns; all tensors of g (valid until g is reset). */
typedef struct lt_nn_resnet_out {
    lt_tensor *pooled;                          /* (N, width·2^(stages-1)): the feature vector */
    int n_taps;                                 /* = stages */
    lt_tensor *taps[LT_NN_RESNET_MAX_STAGES];   /* taps[s]: stage s's output (N, width·2^s, H_s, W_s),
                                                 * after its last block's ReLU (the perceptual
                                                 * distance's depths) */
} lt_nn_resnet_out;

lt_status lt_nn_resnet_declare(lt_nn_resnet *m, const lt_nn *nn, const char *prefix, const lt_nn_resnet_opts *o);
void lt_nn_resnet_reset(lt_nn_resnet *m, lt_rng *rng);
/* Channels of the pooled features: width·2^(stages-1). */
int64_t lt_nn_resnet_dim(const lt_nn_resnet *m);
/* x (N, in_ch, H, W) -> out. Fills out->pooled and out->taps; returns out->pooled (NULL with g's
 * sticky error). out may be NULL when only the pooled vector is wanted. Mode g->training
 * (BatchNorm: batch statistics and running-average updates in training mode, the running
 * statistics in eval mode; GroupNorm ignores it). Gradients flow to x and the parameters
 * through every tap and the pooled output. */
lt_tensor *lt_nn_resnet_forward(lt_graph *g, lt_nn_resnet *m, lt_tensor *x, lt_nn_resnet_out *out);

/* ---- attention (nn/transformer.c) ---- */

/* torch.nn.MultiheadAttention(C, heads, bias=True, batch_first=True) used as
 * self-attention: "in_proj_weight" (3C,C), "in_proj_bias" (3C), "out_proj.weight" (C,C),
 * "out_proj.bias" (C). No dropout on the attention weights. */
typedef struct lt_nn_mha {
    int64_t dim;
    int heads;
    lt_tensor *in_proj_weight; /* (3C, C): rows [q | k | v], head h's rows h·Dh.. within each */
    lt_tensor *in_proj_bias;   /* (3C) */
    lt_nn_linear out_proj;
} lt_nn_mha;
lt_status lt_nn_mha_declare(lt_nn_mha *m, const lt_nn *nn, const char *prefix, int64_t dim, int heads);
void lt_nn_mha_reset(lt_nn_mha *m, lt_rng *rng);
/* x (B,T,C) -> (B,T,C); causal: position i attends to j <= i */
lt_tensor *lt_nn_mha_forward(lt_graph *g, const lt_nn_mha *m, lt_tensor *x, int causal);
/* Causal decoding one position at a time (sampling): x (B,C) at position cache->len -> (B,C),
 * that position's row of the causal forward; appends its key and value to the cache
 * (lt_kv_cache_init(cache, B, T_max, C, heads), one per layer; ops/ops.h). Records no
 * gradients through the attention. */
lt_tensor *lt_nn_mha_step(lt_graph *g, const lt_nn_mha *m, struct lt_kv_cache *cache, lt_tensor *x);

/* The pre-LN transformer block, torch.nn.TransformerEncoderLayer(C, heads,
 * dim_feedforward=ff, dropout, activation=gelu(approximate='tanh'), batch_first=True,
 * norm_first=True): x += dropout(self_attn(norm1(x))); x += dropout(linear2(dropout(
 * gelu(linear1(norm2(x)))))). Names "norm1", "self_attn.*", "norm2", "linear1",
 * "linear2"; LayerNorm eps 1e-5. causal: the torch layer called with the square
 * subsequent mask. torch also drops out attention weights; this block does not (equal
 * to torch for dropout 0 or in eval mode). */
typedef struct lt_nn_transformer_block {
    float dropout;
    int causal;
    lt_nn_norm norm1, norm2;
    lt_nn_mha self_attn;
    lt_nn_linear linear1, linear2;
} lt_nn_transformer_block;
lt_status lt_nn_transformer_block_declare(lt_nn_transformer_block *m, const lt_nn *nn, const char *prefix,
                                          int64_t dim, int heads, int64_t ff, float dropout, int causal);
void lt_nn_transformer_block_reset(lt_nn_transformer_block *m, lt_rng *rng);
/* x (B,T,C) -> (B,T,C) */
lt_tensor *lt_nn_transformer_block_forward(lt_graph *g, const lt_nn_transformer_block *m, lt_tensor *x);
/* A causal block, one position: x (B,C) -> (B,C), with the layer's cache as lt_nn_mha_step. */
lt_tensor *lt_nn_transformer_block_step(lt_graph *g, const lt_nn_transformer_block *m, struct lt_kv_cache *cache,
                                        lt_tensor *x);

/* ---- vector quantization (nn/quantize.c) ---- */

/* The VQ-VAE bottleneck (van den Oord et al. 2017) with the options of later work.
 * z_e (N,D,H,W) -> each D-vector replaced by its nearest codebook row (squared distance,
 * ties to the lower index); z_q = z_e + sg(e − z_e) (straight-through: e's value, the
 * gradient at z_q passed to z_e unchanged).
 * Losses, each a mean over the N·H·W·D elements:
 *   codebook   ‖sg(z_e) − e‖²  moves the codes toward the encodings (plain codebook only);
 *   commitment ‖z_e − sg(e)‖²  keeps the encoder near its codes, weighted by beta (0.25).
 * loss = codebook + beta·commitment (plain), beta·commitment (ema). taming-transformers'
 * legacy VectorQuantizer computes beta·codebook + commitment: beta on the wrong term (its
 * issue #46); this module follows the paper.
 * ema: the codebook is a buffer moved by exponential moving averages instead of gradients
 * (the paper's appendix; Sonnet's VectorQuantizerEMA, whose averages are zero-debiased):
 * with n_k the count and s_k the sum of the encodings assigned to code k in the batch, step t,
 *   cluster_size ← decay·cluster_size + (1−decay)·n,   embed_avg ← decay·embed_avg + (1−decay)·s,
 *   N_k = cluster_size_k / (1 − decay^t),  S_k = embed_avg_k / (1 − decay^t)   (debiased),
 *   c_k = (N_k + eps) / (Σ N + K·eps) · Σ N   (Laplace smoothing),   embedding_k = S_k / c_k.
 * The accumulators and t ("ema_steps") start at 0, so after the first step a used code is
 * the mean of its encodings and an unused one moves to 0, near the encodings (as Sonnet).
 * Dead-code restart (restart_threshold > 0): usage ← decay·usage + (1−decay)·n; a code whose
 * usage falls below the threshold gets a random encoder output of the current batch (drawn
 * from g->rng, else the module's rng), its usage set to the threshold (ema: its debiased
 * count 1 and sum that encoding).
 * kmeans: on the first training batch the codebook is set by k-means (k-means++ seeding from
 * the batch's encodings, then 10 Lloyd iterations; an empty cluster keeps its centre);
 * buffer "initialized" records that it happened (checkpointed: a resumed run does not redo it).
 * Training-only updates (EMA, restart, k-means) happen in forward when g->training, as
 * BatchNorm's running statistics; they change the tensors in place. Data-parallel (g->group,
 * with g->part this process's rows of the batch): they see the whole batch as one process
 * does: the counts and sums are summed over the group, a restart draws an index of the whole
 * batch and the process holding that encoding supplies it, k-means runs on the gathered
 * encodings; every process then holds the same codebook.
 * Names: "embedding.weight" (K,D) (a parameter, or a buffer with ema), buffers "cluster_size"
 * (K), "embed_avg" (K,D), "ema_steps" () (ema), "usage" (K) (restart), "initialized" () (kmeans).
 * cosine: z_e's vectors and the codebook's rows are l2-normalized (x/max(‖x‖, 1e-12), in the
 * graph, so gradients flow through the normalization) before everything above: nearest
 * code by angle, z_q of unit length; the EMA, restart and k-means work on the normalized
 * encodings and lookup returns normalized codes.
 * Initialization: plain U(±1/K) (taming), ema N(0,1) (Sonnet). */
typedef struct lt_nn_vq_opts {
    int ema;                 /* 0: codebook loss; 1: EMA codebook */
    float beta;              /* commitment weight (0.25) */
    float decay;             /* EMA decay (0.99), also for usage */
    float eps;               /* Laplace smoothing (1e-5) */
    float restart_threshold; /* > 0: restart codes whose usage (EMA of counts per batch) is below */
    int kmeans;              /* k-means initialization on the first training batch */
    int cosine;              /* l2-normalized codes: encodings and codes scaled to unit length
                              * before the search, the losses and z_q (ViT-VQGAN's cosine codes) */
} lt_nn_vq_opts;
lt_nn_vq_opts lt_nn_vq_opts_default(void);

typedef struct lt_nn_vq {
    int64_t K, D;
    lt_nn_vq_opts o;
    lt_tensor *embedding;    /* (K, D) */
    lt_tensor *cluster_size; /* (K) ema, else NULL */
    lt_tensor *embed_avg;    /* (K, D) ema, else NULL */
    lt_tensor *ema_steps;    /* () ema: EMA steps taken (debiasing), else NULL */
    lt_tensor *usage;        /* (K) restart, else NULL */
    lt_tensor *initialized;  /* () kmeans, else NULL */
    lt_rng rng;              /* restart/k-means draws when g->rng is NULL; seeded by reset */
} lt_nn_vq;

typedef struct lt_nn_vq_out {
    lt_tensor *z_q;          /* (N,D,H,W): e's values, gradient to z_e */
    lt_tensor *codes;        /* LT_I64 (N,H,W) */
    lt_tensor *loss;         /* () codebook + beta·commitment, or beta·commitment (ema) */
    lt_tensor *commitment;   /* () mean ‖z_e − sg(e)‖², unweighted */
    lt_tensor *codebook;     /* () mean ‖sg(z_e) − e‖² (ema: the value, no gradient) */
    int64_t restarted;       /* codes restarted by this call */
} lt_nn_vq_out;

lt_status lt_nn_vq_declare(lt_nn_vq *m, const lt_nn *nn, const char *prefix, int64_t K, int64_t D,
                           const lt_nn_vq_opts *o);
void lt_nn_vq_reset(lt_nn_vq *m, lt_rng *rng);
/* z_e (N,D,H,W) -> out (tensors of g). Fails with g's sticky error. */
lt_status lt_nn_vq_forward(lt_graph *g, lt_nn_vq *m, lt_tensor *z_e, lt_nn_vq_out *out);
/* codes LT_I64 (N,H,W) -> their codes (N,D,H,W), no gradient. An index outside [0,K) is LT_ERR_ARG. */
lt_tensor *lt_nn_vq_lookup(lt_graph *g, const lt_nn_vq *m, const lt_tensor *codes);
/* The training-time updates on their own (forward calls them): an EMA step and the restart
 * for encodings x (M,D) assigned to idx (M). Exposed for tests. */
void lt_nn_vq_ema_update(lt_nn_vq *m, const float *x, const int64_t *idx, int64_t M);
int64_t lt_nn_vq_restart(lt_nn_vq *m, lt_rng *r, const float *x, const int64_t *idx, int64_t M);
/* 1 when training updates the codebook from batch statistics (ema, restart or kmeans): under
 * data parallelism forward then sums over g->group. */
int lt_nn_vq_batch_coupled(const lt_nn_vq *m);
/* k-means on x (M,D) into the codebook (and the EMA state). */
void lt_nn_vq_kmeans(lt_nn_vq *m, lt_rng *r, const float *x, int64_t M, int iters);

/* ---- adversarial training (nn/gan.c; taming-transformers' VQGAN) ---- */

/* The PatchGAN discriminator (pix2pix's NLayerDiscriminator as taming uses it): Conv2d(in,
 * ndf, 4, 2, 1), LeakyReLU 0.2; then n_layers × [Conv2d(4×4, no bias; stride 2 except the
 * last, stride 1), BatchNorm, LeakyReLU 0.2] with channels ndf·min(2^j, 8); then
 * Conv2d(·, 1, 4, 1, 1): one logit per patch. So n_layers stride-2 convs in all. Names as
 * torch.nn.Sequential "main.<i>" (0, 2, 3, 5, 6, ...). reset: taming's weights_init (conv
 * N(0, 0.02), biases 0, BatchNorm weight N(1, 0.02)). */
#define LT_NN_PATCHGAN_MAX 6
typedef struct lt_nn_patchgan {
    int n_layers;
    lt_nn_conv2d conv[LT_NN_PATCHGAN_MAX + 2];
    lt_nn_batch_norm norm[LT_NN_PATCHGAN_MAX + 1]; /* norm[1..n_layers] */
} lt_nn_patchgan;
/* The sizes: 2 stride-2 layers for images up to 32×32, 3 for larger. */
int lt_nn_patchgan_layers(int64_t height, int64_t width);
lt_status lt_nn_patchgan_declare(lt_nn_patchgan *m, const lt_nn *nn, const char *prefix, int64_t in, int64_t ndf,
                                 int n_layers);
void lt_nn_patchgan_reset(lt_nn_patchgan *m, lt_rng *rng);
/* x (N,in,H,W) -> logits (N,1,h,w), one per patch; BatchNorm follows g->training. */
lt_tensor *lt_nn_patchgan_forward(lt_graph *g, lt_nn_patchgan *m, lt_tensor *x);

/* GAN losses over logits of any shape (means over all elements):
 *   hinge: D = ½(mean relu(1 − real) + mean relu(1 + fake)),  G = −mean fake;
 *   non-saturating: D = ½(mean softplus(−real) + mean softplus(fake)),  G = mean softplus(−fake). */
typedef enum lt_nn_gan_loss { LT_NN_GAN_HINGE = 0, LT_NN_GAN_NON_SATURATING = 1 } lt_nn_gan_loss;
lt_tensor *lt_nn_gan_d_loss(lt_graph *g, lt_nn_gan_loss kind, lt_tensor *real, lt_tensor *fake);
lt_tensor *lt_nn_gan_g_loss(lt_graph *g, lt_nn_gan_loss kind, lt_tensor *fake);

/* taming's adaptive weight of the generator's GAN term: with y = conv(h, W) the generator's
 * last layer (`last`, its input h) and d_rec, d_gan the gradients of the reconstruction and
 * GAN losses with respect to y (y's shape),
 *   λ = clamp(‖∇_W L_rec‖ / (‖∇_W L_gan‖ + 1e-4), 0, 1e4) · disc_weight.
 * The two weight gradients come from a probe copy of W on g (the model's gradients are not
 * touched). *rec_norm, *gan_norm (may be NULL) get the two norms. NAN when either is. */
#define LT_NN_LAMBDA_MAX 1e4
double lt_nn_adaptive_weight(lt_graph *g, const lt_nn_conv2d *last, lt_tensor *h, const float *d_rec,
                             const float *d_gan, double disc_weight, double *rec_norm, double *gan_norm);

/* The divergence guard of adversarial training: fires when the discriminator's loss stays
 * within 1e-6 of one value for `steps` consecutive discriminator steps (pinned: D wins
 * outright or has collapsed), or when the unweighted λ sits at its clamp 1e4 for `steps`
 * consecutive steps. steps <= 0: off. update() takes the step's D loss (NAN: D did not run)
 * and λ before disc_weight; returns NULL, or a sentence (held by gd) naming what fired. */
typedef struct lt_nn_gan_guard {
    int64_t steps, pinned, clamped;
    double pinned_at;
    char msg[128];
} lt_nn_gan_guard;
void lt_nn_gan_guard_init(lt_nn_gan_guard *gd, int64_t steps);
const char *lt_nn_gan_guard_update(lt_nn_gan_guard *gd, double d_loss, double lambda_raw);


/* ---- an autoregressive Bernoulli head (nn/made_head.c) ---- */

/* A one-hidden-layer MADE (Germain et al. 2015) over D binary inputs in raster (natural)
 * order with direct input→output connections, conditioned, unmasked, on a context c (n,Cc):
 *   h = relu(W x + Wc c + b),  logit_d = Wout_d·h + A_d·x + bout_d,
 * with W ⊙ M (hidden k sees x_j iff j < m_k), Wout ⊙ M' (logit d sees hidden k iff m_k <= d)
 * and A strictly lower triangular (logit d sees x_j iff j < d): logit d depends on x_<d and
 * c only (logit 0 is bout_0: the caller adds its own per-pixel logits). Hidden degrees m_k = 1 + ⌊k (D−1) / H⌋ in [1, D−1], evenly spread and sorted
 * (made.c draws them at random; fixed ones need no buffer and no seed). The masked products
 * are lt_staircase_linear (made.c's); the staircase arrays live in the graph's arena.
 * Parameters "W" (H,D), "Wc" (H,Cc), "b" (H), "Wout" (D,H), "bout" (D), "A" (D,D).
 * Reset: torch's Linear U(±1/√fan_in) for W, Wc, b; Wout, bout and A zero, so a fresh head
 * adds nothing to its caller's logits. */
typedef struct lt_nn_made_head {
    int64_t D, H, Cc;
    lt_tensor *W, *Wc, *b, *Wout, *bout, *A; /* (H,D), (H,Cc), (H), (D,H), (D), (D,D) */
} lt_nn_made_head;
lt_status lt_nn_made_head_declare(lt_nn_made_head *m, const lt_nn *nn, const char *prefix, int64_t D, int64_t H,
                                  int64_t Cc);
void lt_nn_made_head_reset(lt_nn_made_head *m, lt_rng *rng);
/* x (n,D), c (n,Cc) -> logits (n,D), teacher-forced: one pass for every pixel */
lt_tensor *lt_nn_made_head_forward(lt_graph *g, const lt_nn_made_head *m, lt_tensor *x, lt_tensor *c);
/* Draws out (n,D) pixel by pixel in raster order from Bernoulli(σ(base_d + logit_d)), base
 * (n,D) or NULL added to the logits (a caller's own per-pixel logits). Uniforms come from
 * rng pixel-major, sample-minor (pixel d of sample i is drawn as 1 iff u < p). Incremental:
 * O(n (H + D)) per pixel after one product for W c. Uses g's arena (reset it after). */
lt_status lt_nn_made_head_sample(lt_graph *g, const lt_nn_made_head *m, lt_tensor *c, const float *base, lt_rng *rng,
                                 int64_t n, float *out);

/* ---- an autoregressive Bernoulli head (nn/nade_head.c) ---- */

/* A NADE (Larochelle & Murray 2011) over D binary inputs in raster order, conditioned on a
 * context c (n,Cc) through its initial pre-activation:
 *   a_0 = c_bias + Wc c,  h_d = σ(a_d),  logit_d = b_d + V_d·h_d,  a_{d+1} = a_d + W_d x_d,
 * so logit d depends on x_<d and the context only (logit 0 on the context alone). The
 * teacher-forced pass is the op lt_nade (one tape node, O(D·H) per example).
 * Parameters "W" (D,H), "V" (D,H), "b" (D), "c" (H), "Wc" (H,Cc).
 * Reset as NADE: W, V, Wc ~ N(0, 0.01²), b and c zero. */
typedef struct lt_nn_nade_head {
    int64_t D, H, Cc;
    lt_tensor *W, *V, *b, *c, *Wc; /* (D,H), (D,H), (D), (H), (H,Cc) */
} lt_nn_nade_head;
lt_status lt_nn_nade_head_declare(lt_nn_nade_head *m, const lt_nn *nn, const char *prefix, int64_t D, int64_t H,
                                  int64_t Cc);
void lt_nn_nade_head_reset(lt_nn_nade_head *m, lt_rng *rng);
/* x (n,D), c (n,Cc) -> logits (n,D), teacher-forced */
lt_tensor *lt_nn_nade_head_forward(lt_graph *g, const lt_nn_nade_head *m, lt_tensor *x, lt_tensor *c);
/* Draws out (n,D) from Bernoulli(σ(base_d + logit_d)), base (n,D) or NULL (a caller's own
 * per-pixel logits), one example at a time, pixel by pixel; uniforms from rng sample-major,
 * pixel-minor (pixel d drawn 1 iff u < p). Uses g's arena (reset it after). */
lt_status lt_nn_nade_head_sample(lt_graph *g, const lt_nn_nade_head *m, lt_tensor *c, const float *base, lt_rng *rng,
                                 int64_t n, float *out);
/* One example of any NADE (W, V (D,H), b (D)) drawn pixel by pixel: a (H) holds a_0 on entry
 * and a_D on exit, h (H) is scratch, base (D) or NULL adds to the logits, out (D) gets the
 * pixels; one uniform per pixel, in order. Shared by this head and models/nade.c. */
void lt_nn_nade_draw(const float *W, const float *V, const float *b, int64_t D, int64_t H, float *a, float *h,
                     const float *base, lt_rng *rng, float *out);

#endif
