/* The process group of a data-parallel run (docs/distributed.md).
 *
 * With MPI (latent built with OpenMPI found by pkg-config, and the process started by an
 * MPI launcher: mpirun/mpiexec, srun) the group is MPI_COMM_WORLD; otherwise it is this
 * process alone and every collective is a no-op, so the trainer has one code path. MPI is
 * initialized on the first lt_comm_world() and finalized by lt_comm_finalize(); a NULL
 * lt_comm means the single process everywhere.
 *
 * Errors: MPI's own failures abort the whole job (MPI_ERRORS_ARE_FATAL). A failure of
 * this process that the others cannot see ends the job through lt_comm_abort (the CLI
 * prints the reason with the rank first); a failure every rank learns of, through
 * lt_comm_agree or by construction (an interruption, a NaN in the reduced loss), is
 * returned on every rank, marked agreed, and printed once by rank 0. */
#ifndef LT_COMM_H
#define LT_COMM_H

#include <stdint.h>

#include "core/status.h"

typedef struct lt_comm lt_comm;

/* The world group (owned by the library; the same pointer on every call). */
lt_status lt_comm_world(lt_comm **out);
/* Ends MPI if lt_comm_world started it (after the last collective). */
void lt_comm_finalize(void);
/* Ends every rank of the job at once with exit code `code` (the single process: exit). */
void lt_comm_abort(lt_comm *c, int code);

int lt_comm_rank(const lt_comm *c);
int lt_comm_size(const lt_comm *c);
/* Ranks sharing this node (their threads share its cores). */
int lt_comm_local_size(const lt_comm *c);
/* 1 when latent was built with MPI; lt_comm_library names it ("Open MPI v4.1.4, ..."). */
int lt_comm_have_mpi(void);
const char *lt_comm_library(void);

/* In-place sums over all ranks (every rank gets the same values). */
lt_status lt_comm_sum_f32(lt_comm *c, float *buf, int64_t n);
lt_status lt_comm_sum_f64(lt_comm *c, double *buf, int64_t n);
/* Nonblocking in-place sum of n floats (n <= 2^30), started now and left pending: the buffer is
 * not to be touched until lt_comm_wait_all. Every rank starts the same sums in the same order
 * (MPI matches collectives by order). lt_comm_progress lets pending sums advance (Open MPI
 * moves them only inside MPI calls); lt_comm_wait_all completes all of them. */
lt_status lt_comm_isum_f32(lt_comm *c, float *buf, int64_t n);
void lt_comm_progress(lt_comm *c);
lt_status lt_comm_wait_all(lt_comm *c);
/* root's bytes to every rank. */
lt_status lt_comm_bcast(lt_comm *c, void *buf, int64_t bytes, int root);
/* Every rank passes its status; if any failed, every rank returns the lowest failing rank's
 * code with its message prefixed "rank R of N: ", and the group is marked agreed. */
lt_status lt_comm_agree(lt_comm *c, lt_status st);
/* Whether the failure being returned is known to every rank (set by lt_comm_agree and by
 * callers that fail on reduced values). */
void lt_comm_set_agreed(lt_comm *c, int agreed);
int lt_comm_agreed(const lt_comm *c);

#endif
