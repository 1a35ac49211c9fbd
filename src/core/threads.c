#include "core/threads.h"

#include <omp.h>
#include <stdlib.h>
#include <unistd.h>

extern void openblas_set_num_threads(int);
extern char *openblas_get_corename(void);

static int lti_threads = 0;

void lt_threads_set(int n) {
    if (n <= 0) {
        const char *e = getenv("LATENT_THREADS");
        n = e ? atoi(e) : 0;
        if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
        if (n <= 0) n = 1;
    }
    lti_threads = n;
    openblas_set_num_threads(n);
    omp_set_num_threads(n);
}

int lt_threads_get(void) {
    if (!lti_threads) lt_threads_set(0);
    return lti_threads;
}

const char *lt_blas_corename(void) { return openblas_get_corename(); }
