/* Gradient-check cases for conv.c: batch > 1, several channels, odd and non-square
 * sizes and kernels, stride 1 and 2, padding 0 and 1, with and without bias. */
#include "autograd/gradcheck.h"
#include "ops/ops.h"

/* inner: x is an intermediate (2·x), whose gradient the conv writes instead of adding to it
 * (graph.h lti_grad_out); a leaf x has its own buffer, which the conv adds to */
typedef struct {
    int transpose, stride, pad, bias;
    int64_t x[4], w[4];
    int inner;
} lti_conv_arg;

static lt_tensor *lti_conv(lt_graph *g, lt_tensor *const *in, const void *arg) {
    const lti_conv_arg *a = arg;
    lt_tensor *b = a->bias ? in[2] : NULL, *x = a->inner ? lt_mul_scalar(g, in[0], 2.0f) : in[0];
    return a->transpose ? lt_conv_transpose2d(g, x, in[1], b, a->stride, a->pad)
                        : lt_conv2d(g, x, in[1], b, a->stride, a->pad);
}

static lt_status lti_conv_case(lt_rng *rng, lt_gc_result *res, lti_conv_arg a) {
    lt_gc_pool p = {0};
    int64_t nb = a.transpose ? a.w[1] : a.w[0];
    lt_tensor *in[3] = {lt_gc_pool_f32(&p, rng, 4, a.x, -1, 1, 0), lt_gc_pool_f32(&p, rng, 4, a.w, -1, 1, 0),
                        lt_gc_pool_f32(&p, rng, 1, &nb, -1, 1, 0)};
    lt_status st = lt_gradcheck(lti_conv, &a, a.bias ? 3 : 2, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}

static lt_status lti_c_s2p1(lt_rng *r, lt_gc_result *s) {
    return lti_conv_case(r, s, (lti_conv_arg){0, 2, 1, 1, {2, 3, 7, 6}, {4, 3, 3, 2}, 0});
}
static lt_status lti_c_s1p0(lt_rng *r, lt_gc_result *s) {
    return lti_conv_case(r, s, (lti_conv_arg){0, 1, 0, 0, {2, 2, 5, 5}, {3, 2, 3, 3}, 0});
}
static lt_status lti_c_s1p1(lt_rng *r, lt_gc_result *s) {
    return lti_conv_case(r, s, (lti_conv_arg){0, 1, 1, 1, {1, 3, 4, 5}, {2, 3, 1, 3}, 0});
}
static lt_status lti_c_s2k4(lt_rng *r, lt_gc_result *s) {
    return lti_conv_case(r, s, (lti_conv_arg){0, 2, 1, 1, {2, 2, 8, 7}, {3, 2, 4, 4}, 0});
}
static lt_status lti_t_s2p1(lt_rng *r, lt_gc_result *s) {
    return lti_conv_case(r, s, (lti_conv_arg){1, 2, 1, 1, {2, 3, 4, 3}, {3, 2, 3, 4}, 0});
}
static lt_status lti_t_s1p0(lt_rng *r, lt_gc_result *s) {
    return lti_conv_case(r, s, (lti_conv_arg){1, 1, 0, 0, {1, 2, 3, 3}, {2, 3, 2, 2}, 0});
}
static lt_status lti_t_s2k4(lt_rng *r, lt_gc_result *s) {
    return lti_conv_case(r, s, (lti_conv_arg){1, 2, 1, 1, {2, 2, 3, 3}, {2, 3, 4, 4}, 0});
}
/* Batches over two of the kernels' dw chunks, channel counts off their 16-lane blocks */
static lt_status lti_c_chunks(lt_rng *r, lt_gc_result *s) {
    return lti_conv_case(r, s, (lti_conv_arg){0, 1, 1, 1, {9, 3, 3, 4}, {17, 3, 3, 3}, 0});
}
static lt_status lti_t_chunks(lt_rng *r, lt_gc_result *s) {
    return lti_conv_case(r, s, (lti_conv_arg){1, 2, 1, 1, {9, 17, 2, 2}, {17, 1, 4, 4}, 0});
}
/* 16 channels each side, stride 1, 3x3: forward and dx by Winograd F(2x2, 3x3) */
static lt_status lti_c_wino(lt_rng *r, lt_gc_result *s) {
    return lti_conv_case(r, s, (lti_conv_arg){0, 1, 1, 1, {2, 16, 5, 4}, {16, 16, 3, 3}, 0});
}

typedef struct { int pool, k, stride; } lti_resample_arg; /* pool 0: upsample by k */

static lt_tensor *lti_resample(lt_graph *g, lt_tensor *const *in, const void *arg) {
    const lti_resample_arg *a = arg;
    return a->pool ? lt_avg_pool2d(g, in[0], a->k, a->stride) : lt_upsample_nearest(g, in[0], a->k);
}

static lt_status lti_resample_case(lt_rng *rng, lt_gc_result *res, lti_resample_arg a, const int64_t *shape) {
    lt_gc_pool p = {0};
    lt_tensor *in[1] = {lt_gc_pool_f32(&p, rng, 4, shape, -1, 1, 0)};
    lt_status st = lt_gradcheck(lti_resample, &a, 1, in, NULL, rng, res);
    lt_gc_pool_free(&p);
    return st;
}
static lt_status lti_up2(lt_rng *r, lt_gc_result *s) {
    return lti_resample_case(r, s, (lti_resample_arg){0, 2, 0}, (int64_t[]){2, 3, 3, 2});
}
static lt_status lti_up3(lt_rng *r, lt_gc_result *s) {
    return lti_resample_case(r, s, (lti_resample_arg){0, 3, 0}, (int64_t[]){1, 2, 2, 3});
}
static lt_status lti_pool22(lt_rng *r, lt_gc_result *s) {
    return lti_resample_case(r, s, (lti_resample_arg){1, 2, 2}, (int64_t[]){2, 2, 7, 6});
}
static lt_status lti_pool32(lt_rng *r, lt_gc_result *s) {
    return lti_resample_case(r, s, (lti_resample_arg){1, 3, 2}, (int64_t[]){2, 3, 7, 8});
}
/* dx written into a fresh buffer: each way of computing it (col2im, flipped kernel, Winograd,
 * phases, convT's forward kernel) */
static lt_status lti_c_s2p1_in(lt_rng *r, lt_gc_result *s) {
    return lti_conv_case(r, s, (lti_conv_arg){0, 2, 1, 1, {2, 3, 7, 6}, {4, 3, 3, 2}, 1});
}
static lt_status lti_c_s1p0_in(lt_rng *r, lt_gc_result *s) {
    return lti_conv_case(r, s, (lti_conv_arg){0, 1, 0, 0, {2, 2, 5, 5}, {3, 2, 3, 3}, 1});
}
static lt_status lti_c_wino_in(lt_rng *r, lt_gc_result *s) {
    return lti_conv_case(r, s, (lti_conv_arg){0, 1, 1, 1, {2, 16, 5, 4}, {16, 16, 3, 3}, 1});
}
static lt_status lti_c_phases_in(lt_rng *r, lt_gc_result *s) {
    return lti_conv_case(r, s, (lti_conv_arg){0, 2, 1, 0, {2, 16, 5, 5}, {4, 16, 3, 3}, 1});
}
static lt_status lti_t_s2p1_in(lt_rng *r, lt_gc_result *s) {
    return lti_conv_case(r, s, (lti_conv_arg){1, 2, 1, 1, {2, 3, 4, 3}, {3, 2, 3, 4}, 1});
}

const lt_gc_case lti_gc_cases_conv[] = {
    {"conv2d", "x (2,3,7,6) w (4,3,3,2) +b, stride 2 pad 1", lti_c_s2p1},
    {"conv2d", "x (2,2,5,5) w (3,2,3,3), stride 1 pad 0", lti_c_s1p0},
    {"conv2d", "x (1,3,4,5) w (2,3,1,3) +b, stride 1 pad 1", lti_c_s1p1},
    {"conv2d", "x (2,2,8,7) w (3,2,4,4) +b, stride 2 pad 1", lti_c_s2k4},
    {"conv_transpose2d", "x (2,3,4,3) w (3,2,3,4) +b, stride 2 pad 1", lti_t_s2p1},
    {"conv_transpose2d", "x (1,2,3,3) w (2,3,2,2), stride 1 pad 0", lti_t_s1p0},
    {"conv_transpose2d", "x (2,2,3,3) w (2,3,4,4) +b, stride 2 pad 1", lti_t_s2k4},
    {"conv2d", "x (9,3,3,4) w (17,3,3,3) +b, stride 1 pad 1", lti_c_chunks},
    {"conv_transpose2d", "x (9,17,2,2) w (17,1,4,4) +b, stride 2 pad 1", lti_t_chunks},
    {"conv2d", "x (2,16,5,4) w (16,16,3,3) +b, stride 1 pad 1 (Winograd)", lti_c_wino},
    {"conv2d", "x 2·(2,3,7,6) w (4,3,3,2) +b, stride 2 pad 1, dx written", lti_c_s2p1_in},
    {"conv2d", "x 2·(2,2,5,5) w (3,2,3,3), stride 1 pad 0, dx written", lti_c_s1p0_in},
    {"conv2d", "x 2·(2,16,5,4) w (16,16,3,3) +b, Winograd, dx written", lti_c_wino_in},
    {"conv2d", "x 2·(2,16,5,5) w (4,16,3,3), stride 2, phases, dx written", lti_c_phases_in},
    {"conv_transpose2d", "x 2·(2,3,4,3) w (3,2,3,4) +b, stride 2 pad 1, dx written", lti_t_s2p1_in},
    {"upsample_nearest", "(2,3,3,2) factor 2", lti_up2},
    {"upsample_nearest", "(1,2,2,3) factor 3", lti_up3},
    {"avg_pool2d", "(2,2,7,6) k 2 stride 2", lti_pool22},
    {"avg_pool2d", "(2,3,7,8) k 3 stride 2", lti_pool32},
    {0},
};
