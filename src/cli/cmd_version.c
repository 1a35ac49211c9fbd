#include <stdio.h>

#include "cli/cli.h"
#include "core/threads.h"
#include "train/comm.h"

int lt_cmd_version(int argc, char **argv) {
    (void)argc; (void)argv;
    printf("latent %s (OpenBLAS core %s, %d threads)\n", LT_VERSION, lt_blas_corename(), lt_threads_get());
    printf("MPI: %s\n", lt_comm_have_mpi() ? lt_comm_library() : "no (built without MPI; training runs in one process)");
    return 0;
}
