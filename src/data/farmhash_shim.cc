// The one C++ file of the data layer: FarmHash's Fingerprint64 for C callers.
#include <farmhash.h>

#include "data/fingerprint.h"

extern "C" uint64_t lt_fingerprint64(const void *data, size_t len) {
    return util::Fingerprint64(static_cast<const char *>(data), len);
}
