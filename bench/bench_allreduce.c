/* All-reduce time against its payload: the in-place float sum the data-parallel trainer does
 * over the gradient block each step (train/comm.h), for payloads from 4 KiB to 64 MiB and the
 * gradient of MADE 784-500-784 (785,296 floats: the trainer's payload). Run it under mpirun (bench/run_mpi.sh); alone
 * it says so and exits 0. Per payload: the median of `reps` timed calls after 3 warm-ups, the
 * algorithm bandwidth bytes/time and the bus bandwidth 2(N-1)/N · bytes/time (what a ring
 * all-reduce moves per rank). */
#include <stdio.h>
#include <stdlib.h>

#include "common.h"
#include "core/alloc.h"
#include "train/comm.h"

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(void) {
    lt_comm *c;
    if (lt_comm_world(&c)) ltb_die("bench_allreduce", NULL);
    const int R = lt_comm_size(c), me = lt_comm_rank(c);
    if (R < 2) {
        printf("bench_allreduce: one process (MPI %s); run it under mpirun -np 2 (bench/run_mpi.sh)\n",
               lt_comm_have_mpi() ? "built in" : "not built in");
        lt_comm_finalize();
        return 0;
    }
    const int64_t made = 785296; /* MADE 784-500-784: params.total, the trainer's payload (W, V, b, c + padding) */
    int64_t sizes[16], ns = 0;
    for (int64_t n = 1024; n <= 16 << 20; n *= 4) sizes[ns++] = n;
    sizes[ns++] = made;
    float *buf = lt_malloc((size_t)(16 << 20) * sizeof *buf);
    double t[200];
    if (!buf) return 1;
    if (me == 0) printf("ranks %d; payload_bytes median_us algbw_GBps busbw_GBps\n", R);
    for (int64_t s = 0; s < ns; s++) {
        const int64_t n = sizes[s];
        const int reps = n >= (4 << 20) ? 20 : 200;
        for (int64_t i = 0; i < n; i++) buf[i] = 1e-3f * (float)(i % 1000);
        for (int r = 0; r < 3 + reps; r++) {
            const double t0 = ltb_now();
            if (lt_comm_sum_f32(c, buf, n)) return 1;
            if (r >= 3) t[r - 3] = ltb_now() - t0;
        }
        /* rank 0 reports the slowest rank's median */
        qsort(t, (size_t)reps, sizeof *t, cmp);
        double med = t[reps / 2];
        double all[1] = {med};
        double *mx = lt_malloc((size_t)R * sizeof *mx);
        for (int r = 0; r < R; r++) mx[r] = r == me ? med : 0;
        lt_comm_sum_f64(c, mx, R);
        for (int r = 0; r < R; r++) all[0] = mx[r] > all[0] ? mx[r] : all[0];
        lt_free(mx);
        const double bytes = (double)n * sizeof(float);
        if (me == 0)
            printf("%s%12.0f %10.1f %8.3f %8.3f\n", n == made ? "MADE 784-500-784 gradient: " : "", bytes,
                   all[0] * 1e6, bytes / all[0] * 1e-9, 2.0 * (R - 1) / R * bytes / all[0] * 1e-9);
    }
    lt_free(buf);
    lt_comm_finalize();
    return 0;
}
