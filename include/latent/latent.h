/* liblatent: train, evaluate and sample deep generative models on the CPU.
 *
 *   #include <latent/latent.h>          cc prog.c $(pkg-config --cflags --libs latent)
 *
 * The whole public interface: latent/common.h (status codes, errors, threads),
 * latent/data.h (data sources), latent/run.h (training into a run directory, and
 * sampling, evaluating, encoding and decoding with a trained run). Every name is
 * lt_… (types, functions) or LATENT_… (macros); everything else in the library is
 * internal and not exported. */
#ifndef LATENT_LATENT_H
#define LATENT_LATENT_H

#include "latent/common.h"
#include "latent/data.h"
#include "latent/run.h"
#include "latent/version.h"

#endif
