#include <stdio.h>

#include "cli/cli.h"
#include "core/threads.h"

int lt_cmd_version(int argc, char **argv) {
    (void)argc; (void)argv;
    printf("latent %s (OpenBLAS core %s, %d threads)\n", LT_VERSION, lt_blas_corename(), lt_threads_get());
    return 0;
}
