/* Helper of tests/test_images.sh: latent's decoded pixels for Python to compare.
 *   img_tool decode FILE...       per file: "c h w\n" then c*h*w planar bytes (stdout)
 *   img_tool dump SOURCE OUT      every split of a data source (no feature spec):
 *                                 per split "split n c h w\n", n*c*h*w bytes, n labels
 *                                 (255 when the split has none), then the class names
 *                                 one a line ("classes K\n" first)
 *   img_tool grid OUT.png         a 3-channel grid of 6 images 5x7 of known values
 * Errors: the library's message on stderr, exit 2. */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "data/dataset.h"
#include "data/image.h"
#include "io/png.h"

static int lti_err(void) {
    fprintf(stderr, "img_tool: %s\n", lt_error_message());
    return 2;
}

static int lti_decode(int argc, char **argv) {
    for (int i = 2; i < argc; i++) {
        uint8_t *b;
        int64_t n;
        lt_image im;
        if (lt_file_read_all(argv[i], &b, &n)) return lti_err();
        lt_status st = lt_image_decode(b, n, argv[i], &im);
        lt_free(b);
        if (st) return lti_err();
        printf("%lld %lld %lld\n", (long long)im.c, (long long)im.h, (long long)im.w);
        fwrite(im.data, 1, (size_t)(im.c * im.h * im.w), stdout);
        lt_image_free(&im);
    }
    return 0;
}

static int lti_dump(const char *source, const char *out) {
    lt_dataset d;
    if (lt_dataset_open_source(source, NULL, 0, &d)) return lti_err();
    FILE *f = fopen(out, "wb");
    if (!f) return 2;
    for (int s = 0; s < LT_SPLIT_COUNT; s++) {
        const lt_split *sp = &d.split[s];
        fprintf(f, "%s %lld %lld %lld %lld\n", lt_split_name((lt_split_id)s), (long long)sp->n, (long long)d.channels,
                (long long)d.height, (long long)d.width);
        fwrite(sp->images, 1, (size_t)(sp->n * d.dim), f);
        for (int64_t i = 0; i < sp->n; i++) fputc(sp->labels ? sp->labels[i] : 255, f);
    }
    fprintf(f, "classes %lld\n", (long long)(d.class_names ? d.n_classes : 0));
    for (int64_t i = 0; d.class_names && i < d.n_classes; i++) fprintf(f, "%s\n", d.class_names[i]);
    fclose(f);
    lt_dataset_free(&d);
    return 0;
}

/* Value of channel c, row y, column x of image k: a pattern Python recomputes. */
static float lti_grid_value(int k, int c, int y, int x) { return (float)((k * 50 + c * 70 + y * 13 + x * 29) % 256) / 255.0f; }

static int lti_grid(const char *out) {
    enum { N = 6, C = 3, H = 5, W = 7 };
    static float img[N * C * H * W]; /* (N, C, H, W) */
    for (int k = 0; k < N; k++)
        for (int c = 0; c < C; c++)
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) img[((k * C + c) * H + y) * W + x] = lti_grid_value(k, c, y, x);
    return lt_png_write_grid(out, img, N, C, H, W, 3) ? lti_err() : 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "decode")) return lti_decode(argc, argv);
    if (argc == 4 && !strcmp(argv[1], "dump")) return lti_dump(argv[2], argv[3]);
    if (argc == 3 && !strcmp(argv[1], "grid")) return lti_grid(argv[2]);
    fprintf(stderr, "usage: img_tool decode FILE... | dump SOURCE OUT | grid OUT.png\n");
    return 2;
}
