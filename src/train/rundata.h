/* Data sources by name for the commands that train or evaluate a run: every source
 * lt_dataset_open_source reads, plus "codes-of:RUN", the code grids of a frozen
 * stage-one run (a model with code_grid and encode: vqvae), made when the source is
 * opened instead of read from files written by `latent encode`.
 *
 * codes-of:RUN opens RUN's best checkpoint and RUN's data as its config.json says (data,
 * features, binarization, seed; the model's value range; never its augmentation), and
 * encodes every image of the three splits once, in order, batch by batch, with the
 * model's encode (evaluation mode, no gradients). The result is a token source as
 * dataset.h describes: (n, h·w) codes per split, vocab = the stage one's K (not 1 + the
 * largest code seen), the split's labels and n_classes kept, channels 1, binary 0.
 * `limit` > 0 keeps the first `limit` images of each split (the stage one's own limit is
 * not applied: the prior may see more of the data than the stage one trained on). */
#ifndef LT_RUNDATA_H
#define LT_RUNDATA_H

#include <stdint.h>

#include "core/status.h"
#include "data/dataset.h"
#include "models/model.h"

#define LT_RUNDATA_CODES_OF "codes-of:"

/* `source` as above into *out (freed with lt_dataset_free; zeroed on failure). A
 * feature spec with codes-of: is LT_ERR_ARG. Errors name the stage-one run. */
lt_status lt_rundata_open(const char *source, const char *features, int64_t limit, lt_dataset *out);

/* The codes-of:RUN source itself (RUN a run directory). */
lt_status lt_rundata_codes_of(const char *run, int64_t limit, lt_dataset *out);

/* Stage-one run RUN opened: its best model (*m, with code_grid: an h×w grid of K codes) and its
 * images (*img, first `limit` per split when > 0) with the batch options it was trained with
 * (*o: binarization, seed, the model's range, no augmentation). On failure *img is freed and
 * *m may still be set: the caller destroys it. */
lt_status lt_rundata_stage1(const char *run, int64_t limit, lt_model **m, lt_dataset *img, lt_batch_opts *o,
                            int64_t *h, int64_t *w, int64_t *K);

/* The bound of the two stages on binary data, per image x of a split of the stage one's data:
 *   −log p(x) ≤ −log p(x|z_q(x)) − log p(z_q(x)),
 * the stage one's Bernoulli decoder and `prior`'s NLL of the codes (labels given to a
 * class-conditional prior), in nats; means over the split and the standard error of the
 * paired sum. */
typedef struct lt_rundata_bound_result {
    int64_t examples;
    double bound_nats, bound_stderr;  /* mean of −log p(x|z_q) − log p(z_q) */
    double recon_nats;                /* mean −log p(x|z_q) */
    double prior_nats;                /* mean −log p(z_q) under the prior */
} lt_rundata_bound_result;
/* prior: a token model over stage-one run RUN's codes; LT_ERR_ARG when RUN's decoder is not
 * Bernoulli (config "binary" false: no discrete likelihood) or its grid is not the prior's. */
lt_status lt_rundata_bound(lt_model *prior, const char *run, lt_split_id split, int64_t limit, int64_t batch,
                           lt_rundata_bound_result *out);

#endif
