/* A perceptual distance without learned weights (LPIPS-style; Zhang et al. 2018 with its
 * per-channel weights all equal): compare two images through a frozen encoder's
 * activations at several depths ("taps").
 *
 * For taps l = 1..L with activations fx_l, fy_l (N, C_l, H_l, W_l) of images x and y:
 *   f̂ = f / sqrt(Σ_c f² + eps)            unit-normalized over channels per position
 *   d_l(n) = mean over c, h, w of (f̂x_l − f̂y_l)²
 *   d(n)   = (1/L) Σ_l d_l(n)
 * so 0 <= d_l <= 4/C_l (unit vectors are at most 2 apart), d = 0 for identical activations,
 * and every tap weighs the same whatever its spatial size. eps = LT_NN_PERCEPTUAL_EPS keeps the gradient finite where a
 * position's activations are all zero. Everything is recorded on g with ordinary ops:
 * gradients flow to whichever of fx, fy require them (and from there to the images), and
 * to nothing else. Freezing the encoder (its parameters not requiring gradients, eval
 * mode) is the caller's part: lt_nn_perceptual (after the encoder module) and the models
 * layer's loader (models/frozen_encoder.h) do it. */
#ifndef LT_NN_PERCEPTUAL_H
#define LT_NN_PERCEPTUAL_H

#include "core/graph.h"
#include "core/params.h"

#define LT_NN_PERCEPTUAL_EPS 1e-10f
#define LT_NN_PERCEPTUAL_MAX_TAPS 8

/* fx[l], fy[l] (N, C_l, H_l, W_l), same shape pairwise, same N across taps -> (N).
 * NULL with g's error set (LT_ERR_SHAPE naming the tap) on mismatched shapes or
 * n_taps outside 1..LT_NN_PERCEPTUAL_MAX_TAPS. */
lt_tensor *lt_nn_perceptual_taps(lt_graph *g, int n_taps, lt_tensor *const *fx, lt_tensor *const *fy);

struct lt_nn_resnet; /* nn/nn.h */

/* Marks every tensor of p as not requiring gradients: backward then never writes into
 * them (their nodes pass gradients through to the inputs only). */
void lt_nn_freeze(lt_params *p);

/* The distance through a frozen encoder (the small ResNet of nn/nn.h, its stage outputs as
 * the taps): x, y (N, C, H, W) in the encoder's input range -> (N). Runs the encoder in eval
 * mode (BatchNorm's running statistics, nothing updated) and restores g->training.
 * Gradients reach x and y (where they require them), never the encoder: its parameters must
 * be frozen (lt_nn_freeze on their block; models/frozen_encoder.h does it) — an encoder whose
 * stem weight requires gradients is LT_ERR_ARG. */
lt_tensor *lt_nn_perceptual(lt_graph *g, struct lt_nn_resnet *enc, lt_tensor *x, lt_tensor *y);

#endif
