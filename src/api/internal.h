/* The public interface's (include/latent/) implementation: a thin layer over
 * train/, models/, data/ and io/ that turns their types into the opaque handles and
 * plain structs of the installed headers. Only the LT_API functions leave
 * liblatent.so (the build hides everything else: -fvisibility=hidden plus
 * src/api/latent.map). */
#ifndef LT_API_INTERNAL_H
#define LT_API_INTERNAL_H

#include "core/status.h"
#include "data/dataset.h"
#include "latent/latent.h"

struct lt_source {
    lt_dataset d;
};

/* "train"/"valid"/"test" → split, or LT_ERR_ARG naming the function. */
lt_status lti_api_split(const char *fn, const char *split, lt_split_id *out);

#endif
