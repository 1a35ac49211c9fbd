/* Samples a PNG grid from a trained run directory with the installed liblatent.
 *
 *   cc sample_grid.c $(pkg-config --cflags --libs latent) -o sample_grid
 *   ./sample_grid RUN grid.png [N] [SEED]
 *
 * The same seed gives the same images as `latent sample RUN -n N --seed SEED -o grid.png`. */
#include <latent/latent.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s RUN OUT.png [N] [SEED]\n", argv[0]);
        return 2;
    }
    int64_t n = argc > 3 ? atoll(argv[3]) : 64;
    uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 1;
    lt_run *run;
    if (lt_run_open(argv[1], "best", &run)) {
        fprintf(stderr, "sample_grid: %s\n", lt_last_error());
        return 1;
    }
    lt_run_info info;
    lt_run_describe(run, &info);
    float *x = malloc(sizeof *x * (size_t)(n > 0 ? n : 1) * (size_t)info.dim); /* (n, dim) */
    int st = x ? lt_run_sample(run, n, seed, NULL, x) : LATENT_ERR_NOMEM;
    /* a class-conditional model samples class i mod n_classes: one column per class */
    if (!st) st = lt_png_grid_save(argv[2], x, n, info.channels, info.height, info.width, info.n_classes);
    if (st) fprintf(stderr, "sample_grid: %s\n", x ? lt_last_error() : "out of memory");
    else printf("%lld samples of %s (%lldx%lld) -> %s\n", (long long)n, info.model, (long long)info.height,
                (long long)info.width, argv[2]);
    free(x);
    lt_run_close(run);
    return st ? 1 : 0;
}
