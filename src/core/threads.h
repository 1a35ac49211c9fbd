/* Thread count for OpenBLAS and the library's OpenMP loops. */
#ifndef LT_THREADS_H
#define LT_THREADS_H

/* n <= 0: take LATENT_THREADS from the environment, else the number of cores. */
void lt_threads_set(int n);
int lt_threads_get(void);
/* OpenBLAS's core name (e.g. "Haswell"); leaves OPENBLAS_CORETYPE alone. */
const char *lt_blas_corename(void);

#endif
