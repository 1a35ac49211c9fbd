/* Bitmap text (io/text.h): ink stays inside the measured box, clipping at the edges,
 * widths that add up across the chunks the drawing uses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "io/text.h"

enum { H = 40, W = 400 };

/* Counts inked pixels (value 0) of img (1,H,W) inside and outside the box [x0,x1) x [y0,y1). */
static void ink(const float *img, int64_t x0, int64_t y0, int64_t x1, int64_t y1, int64_t *in, int64_t *out) {
    *in = *out = 0;
    for (int64_t y = 0; y < H; y++)
        for (int64_t x = 0; x < W; x++)
            if (img[y * W + x] == 0.0f) (x >= x0 && x < x1 && y >= y0 && y < y1 ? (*in)++ : (*out)++);
}

static void text_stays_in_its_box(void **state) {
    (void)state;
    static float img[H * W];
    const float black = 0.0f;
    const char *s = "Hi, tau 0.5 [log10]";
    for (int scale = 1; scale <= 2; scale++) {
        for (int64_t i = 0; i < H * W; i++) img[i] = 1.0f;
        int64_t w = lt_text_width(s, scale), h = lt_text_height(scale), in, out;
        assert_true(w >= 6 * scale * (int64_t)strlen(s) * 2 / 3 && w <= 7 * scale * (int64_t)strlen(s));
        lt_text_draw(img, 1, H, W, 5, 3, scale, &black, s);
        ink(img, 5, 3, 5 + w, 3 + h, &in, &out);
        assert_int_equal(out, 0);
        assert_true(in > 20 * scale * scale); /* something was drawn */
        assert_true(in < w * h / 2);          /* and not a filled box */
    }
    /* different strings differ */
    static float a[H * W], b[H * W];
    for (int64_t i = 0; i < H * W; i++) a[i] = b[i] = 1.0f;
    lt_text_draw(a, 1, H, W, 0, 0, 1, &black, "score");
    lt_text_draw(b, 1, H, W, 0, 0, 1, &black, "scope");
    assert_true(memcmp(a, b, sizeof a) != 0);
}

static void widths_add_up_across_chunks(void **state) {
    (void)state;
    char longer[61]; /* two chunks, still inside W */
    for (int i = 0; i < 60; i++) longer[i] = (char)('0' + i % 10);
    longer[60] = 0;
    assert_int_equal(lt_text_width(longer, 1), 60 * lt_text_width("0", 1)); /* digits share one advance */
    assert_int_equal(lt_text_width("", 3), 0);
    assert_int_equal(lt_text_width("ab", 2), lt_text_width("a", 2) + lt_text_width("b", 2));
    /* a long string draws past the first chunk: its last digit lands where the width says */
    static float img[H * W];
    const float black = 0.0f;
    for (int64_t i = 0; i < H * W; i++) img[i] = 1.0f;
    lt_text_draw(img, 1, H, W, 0, 0, 1, &black, longer);
    int64_t last = 0;
    for (int64_t y = 0; y < H; y++)
        for (int64_t x = 0; x < W; x++)
            if (img[y * W + x] == 0.0f && x > last) last = x;
    int64_t w = lt_text_width(longer, 1);
    assert_true(last < w && last >= w - lt_text_width("0", 1));
}

static void clipped_at_the_edges(void **state) {
    (void)state;
    static float img[3 * H * W];
    const float rgb[3] = {0.25f, 0.5f, 0.75f};
    for (int64_t i = 0; i < 3 * H * W; i++) img[i] = 1.0f;
    /* partly left of, above, right of and below the image: only what falls inside is drawn
     * (the sanitizer build would catch a write outside) */
    lt_text_draw(img, 3, H, W, -7, -5, 2, rgb, "clipped text");
    lt_text_draw(img, 3, H, W, W - 10, H - 6, 3, rgb, "MW");
    lt_text_draw(img, 3, H, W, W + 5, H + 5, 1, rgb, "outside");
    lt_text_draw(img, 3, H, W, 10, 10, 1, rgb, "\t\x01\x7f\xc3\xa9"); /* control and non-ASCII: blanks */
    int64_t inked = 0;
    for (int64_t i = 0; i < H * W; i++)
        if (img[i] != 1.0f) {
            inked++;
            assert_true(img[i] == 0.25f && img[H * W + i] == 0.5f && img[2 * H * W + i] == 0.75f);
        }
    assert_true(inked > 0);
    assert_int_equal(lt_text_width("\t\x01", 1), 2 * lt_text_width(" ", 1));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(text_stays_in_its_box),
        cmocka_unit_test(widths_add_up_across_chunks),
        cmocka_unit_test(clipped_at_the_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
