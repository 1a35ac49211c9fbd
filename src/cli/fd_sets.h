/* The image sets of `latent fd` and `latent compare` (docs/metrics.md) as features of one
 * encoder run: a data source's split, a run's samples, or a folder of PNG images or grids. */
#ifndef LT_CLI_FD_SETS_H
#define LT_CLI_FD_SETS_H

#include <stdint.h>

#include "core/status.h"
#include "data/dataset.h"
#include "models/model.h"

typedef struct lt_cli_encoder {
    lt_model *m;           /* owned */
    char sha256[65];       /* of its checkpoint file */
    char path[4200];       /* that file */
    lt_batch_opts bo;      /* the run's data conversion (binarization, seed, range) */
    const char *run;
} lt_cli_encoder;

/* Opens RUN's checkpoint `which` as the feature space; LT_ERR_ARG when its model has no
 * features capability. On failure nothing stays open. */
lt_status lt_cli_encoder_open(const char *run, const char *which, lt_cli_encoder *e);
void lt_cli_encoder_close(lt_cli_encoder *e);

/* Features (*n, feature_size) into *f (lt_malloc'ed) of the first n examples (fewer when the
 * split is smaller) of split s of data source src (NULL: the encoder run's own), converted as
 * the encoder run's data. */
lt_status lt_cli_source_features(const lt_cli_encoder *e, const char *src, lt_split_id s, int64_t n, float **f,
                                 int64_t *got);

/* Features of `spec`: a run directory (one with checkpoints/: n samples drawn from seed, a
 * prior over codes drawing with so, NULL: unfiltered; see lt_run_sample_images), a folder of
 * *.png files (images or grids, at most n), or else a data source (split s, first n).
 * *kind: "samples", "png" or "data". */
lt_status lt_cli_set_features(const lt_cli_encoder *e, const char *spec, lt_split_id s, int64_t n, uint64_t seed,
                              const lt_sample_opts *so, float **f, int64_t *got, const char **kind);

/* Features of run RUN's reconstructions (encode, then decode) of the first n images of split s
 * of its own data, converted as it was trained; LT_ERR_ARG when its model cannot encode and
 * decode or makes images of another size than the encoder reads. */
lt_status lt_cli_recon_features(const lt_cli_encoder *e, const char *run, lt_split_id s, int64_t n, float **f,
                                int64_t *got);

#endif
