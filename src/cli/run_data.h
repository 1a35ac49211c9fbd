/* Opening a trained run together with some of its data, for the commands that
 * look at a model on real images (reconstruct, interpolate, estimators --run). */
#ifndef LT_CLI_RUN_DATA_H
#define LT_CLI_RUN_DATA_H

#include <stdint.h>

#include "core/status.h"
#include "data/dataset.h"
#include "models/model.h"

/* RUN's data source opened as its config.json says (data, features, limit), checked against
 * model m's dim, and in *bo the batch options it was trained with (binarization, seed, m's
 * value range; no augmentation). On success the caller frees *data (lt_dataset_free); on
 * failure nothing is left open. */
lt_status lt_cli_run_data(const char *run, const lt_model *m, lt_dataset *data, lt_batch_opts *bo);

/* The model of checkpoint `which` (best|last) of RUN and the first n images of
 * `split` (train|valid|test) of the run's data, binarized as the run was
 * trained and in the model's value range, into *x (n, dim), lt_malloc'ed. On failure *m may still be set and
 * *x may be NULL: the caller frees both (lt_model_destroy, lt_free). */
lt_status lt_cli_open_run(const char *run, const char *which, const char *split, int64_t n, lt_model **m, float **x);

#endif
