/* The self-supervised augmentations (SimCLR, Chen et al. 2020, appendix A) on uint8 images
 * (C, H, W), each a small function on bytes, as torchvision applies them to PIL images
 * (every step rounds back to bytes), and the per-example pipeline lt_dataset_batch_view runs
 * for the training split (docs/ssl.md):
 *   crop/flip (dataset.h's, optional) → random resized crop (rrc) → colour jitter (p 0.8) →
 *   random greyscale → Gaussian blur → Gaussian noise.
 * The draws are counter-based: one stream per (seed, epoch, view, example index), so a view's
 * augmentation does not depend on the batch, its order or the thread count. */
#ifndef LT_AUGMENT_H
#define LT_AUGMENT_H

#include <stdint.h>

#include "core/rng.h"
#include "core/status.h"
#include "data/dataset.h"

/* The largest image (C·H·W bytes) the byte pipeline takes (its scratch lives on the stack). */
#define LT_AUG_MAX_DIM (3 * 64 * 64)

/* torchvision's RandomResizedCrop.get_params: up to 10 tries of area fraction U(lo, hi) and
 * log-uniform aspect ratio in [r0, r1], w = round(√(A·r)), h = round(√(A/r)), accepted when it
 * fits, at a uniform offset; else the whole image's central crop with the ratio clamped.
 * Writes the box (top, left, height, width). */
void lt_aug_rrc_box(lt_rng *r, int64_t H, int64_t W, float lo, float hi, float r0, float r1, int64_t box[4]);
/* dst (C,H,W) ← the box of src (C,H,W) resized bilinearly to H×W (half-pixel centres,
 * edges clamped: torch's interpolate(align_corners=False), PIL's bilinear when enlarging). */
void lt_aug_resize_box(const uint8_t *src, int64_t C, int64_t H, int64_t W, const int64_t box[4], uint8_t *dst);
/* PIL's ImageEnhance on img (C,H,W) in place; factor 1 is the identity:
 *   brightness  img·f;
 *   contrast    m + f·(img − m), m the rounded mean of the greyscale image;
 *   saturation  grey + f·(img − grey) per pixel (colour only; no-op for C = 1). */
void lt_aug_brightness(uint8_t *img, int64_t C, int64_t H, int64_t W, float f);
void lt_aug_contrast(uint8_t *img, int64_t C, int64_t H, int64_t W, float f);
void lt_aug_saturation(uint8_t *img, int64_t C, int64_t H, int64_t W, float f);
/* Hue shift by h ∈ [-0.5, 0.5] turns (HSV, as torchvision's adjust_hue); no-op for C = 1. */
void lt_aug_hue(uint8_t *img, int64_t C, int64_t H, int64_t W, float h);
/* Greyscale: every channel ← (299 R + 587 G + 114 B) / 1000 (PIL's "L"); no-op for C = 1. */
void lt_aug_greyscale(uint8_t *img, int64_t C, int64_t H, int64_t W);
/* Separable Gaussian blur of std sigma with a kernel of k taps (odd), reflected borders,
 * as torchvision's GaussianBlur; tmp has C·H·W floats. */
void lt_aug_blur(uint8_t *img, int64_t C, int64_t H, int64_t W, int k, float sigma, float *tmp);
/* img + N(0, (255·std)²) per byte, rounded and clipped to [0, 255]. */
void lt_aug_noise(uint8_t *img, int64_t n, float std, lt_rng *r);
/* The blur's kernel size for an H×W image: the odd number nearest 10% of the side, at least 3. */
int lt_aug_blur_kernel(int64_t H, int64_t W);

/* ColorJitter(0.8s, 0.8s, 0.8s, 0.2s) with probability 0.8 (SimCLR): the four factors from
 * U(max(0, 1 − 0.8s), 1 + 0.8s) (hue U(−0.2s, 0.2s)) applied in a random order. */
void lt_aug_jitter(uint8_t *img, int64_t C, int64_t H, int64_t W, float s, lt_rng *r);

/* 1 when a has any of the byte pipeline's steps (rrc, jitter, grey, blur, noise). */
int lt_augment_bytes(const lt_augment *a);
/* 1 when a does anything at all. */
int lt_augment_active(const lt_augment *a);
/* Whether data d can take a: LT_ERR_ARG naming the source when the byte steps meet a float
 * source or images larger than LT_AUG_MAX_DIM, or crops meet 1-d data. */
lt_status lt_augment_check(const lt_augment *a, const lt_dataset *d, const char *source);
/* The byte pipeline for one example: src (C,H,W) bytes → dst, with the draws of (seed,
 * epoch, view, idx); crop/flip applied first when a has them. */
void lt_augment_bytes_row(const lt_augment *a, const uint8_t *src, int64_t C, int64_t H, int64_t W, uint64_t seed,
                          int64_t epoch, int64_t view, int64_t idx, uint8_t *dst);

#endif
