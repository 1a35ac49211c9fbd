/* Helper of tests/test_safetensors_torch.sh: writes a known checkpoint, or
 * checks one that PyTorch wrote. The expected values are defined here and,
 * independently, in the script's python.
 *   st_tool write PATH   tensors w F32 (3,4) = 0.25·i - 1, idx I64 (5), u U8 (6); metadata
 *   st_tool check PATH   expects a F32 (2,3) = 0.5·i - 1, b I64 (4), c U8 (3), metadata author=torch */
#include <stdio.h>
#include <string.h>

#include "io/safetensors.h"

static int fail(const char *what) {
    fprintf(stderr, "st_tool: %s\n", what);
    return 1;
}

static int write_file(const char *path) {
    float w[12];                                          /* (3,4) */
    for (int i = 0; i < 12; i++) w[i] = 0.25f * (float)i - 1.0f;
    int64_t idx[5] = {-7, 0, 1, (int64_t)1 << 40, 123456789};  /* (5) */
    unsigned char u[6] = {0, 1, 127, 128, 254, 255};     /* (6) */
    lt_st_entry e[] = {{"w", LT_ST_F32, 2, {3, 4}, w}, {"idx", LT_ST_I64, 1, {5}, idx}, {"u", LT_ST_U8, 1, {6}, u}};
    lt_st_kv meta[] = {{"model", "mlp"}, {"step", "7"}};
    if (lt_safetensors_write(path, e, 3, meta, 2)) return fail(lt_error_message());
    return 0;
}

static int check_entry(const lt_st_file *f, const char *name, lt_st_dtype dt, int ndim, const int64_t *shape,
                       const void *want, size_t bytes) {
    const lt_st_entry *e = lt_safetensors_find(f, name);
    if (!e) return fail(name);
    if (e->dtype != dt || e->ndim != ndim) return fail("dtype or rank differs");
    for (int d = 0; d < ndim; d++)
        if (e->shape[d] != shape[d]) return fail("shape differs");
    if (memcmp(e->data, want, bytes) != 0) return fail("values differ");
    return 0;
}

static int check_file(const char *path) {
    lt_st_file f;
    if (lt_safetensors_read(path, &f)) return fail(lt_error_message());
    float a[6];                                           /* (2,3) */
    for (int i = 0; i < 6; i++) a[i] = 0.5f * (float)i - 1.0f;
    int64_t b[4] = {-3, 0, (int64_t)1 << 40, 9};          /* (4) */
    unsigned char c[3] = {1, 2, 255};                     /* (3) */
    int bad = f.n != 3 || check_entry(&f, "a", LT_ST_F32, 2, (int64_t[]){2, 3}, a, sizeof a) ||
              check_entry(&f, "b", LT_ST_I64, 1, (int64_t[]){4}, b, sizeof b) ||
              check_entry(&f, "c", LT_ST_U8, 1, (int64_t[]){3}, c, sizeof c);
    const char *author = lt_safetensors_meta(&f, "author");
    if (!bad && (!author || strcmp(author, "torch") != 0)) bad = fail("metadata author differs");
    lt_safetensors_close(&f);
    if (!bad) printf("st_tool: %s matches\n", path);
    return bad;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "write") == 0) return write_file(argv[2]);
    if (argc == 3 && strcmp(argv[1], "check") == 0) return check_file(argv[2]);
    fprintf(stderr, "usage: st_tool write|check PATH\n");
    return 2;
}
