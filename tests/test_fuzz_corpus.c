/* Replays the fuzz targets' seed corpora (fuzz/corpus/<target>/) and the saved crash
 * inputs (tests/data/fuzz/<target>/) through the same harness code under ctest, so
 * every input a fuzzer ever tripped on stays a regression test (and runs under
 * `make sanitize`). A harness property violation is __builtin_trap: the test dies. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define LT_FUZZ_ENTRY fuzz_tfrecord
#include "../fuzz/fuzz_tfrecord.c"
#undef LT_FUZZ_ENTRY
#define LT_FUZZ_ENTRY fuzz_example
#include "../fuzz/fuzz_example.c"
#undef LT_FUZZ_ENTRY
#define LT_FUZZ_ENTRY fuzz_feature_spec
#include "../fuzz/fuzz_feature_spec.c"
#undef LT_FUZZ_ENTRY

typedef int (*entry_fn)(const uint8_t *, size_t);

/* Feeds every regular file of DIR to fn; returns how many. */
static int replay_dir(const char *dir, entry_fn fn) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "README")) continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        static uint8_t buf[1 << 20];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        uint8_t *copy = malloc(len ? len : 1); /* exact size, so ASan sees overreads */
        assert_non_null(copy);
        memcpy(copy, buf, len);
        fn(copy, len);
        free(copy);
        n++;
    }
    closedir(d);
    return n;
}

static void replay(const char *target, entry_fn fn) {
    char dir[1024];
    snprintf(dir, sizeof dir, "fuzz/corpus/%s", target);
    int seeds = replay_dir(dir, fn);
    snprintf(dir, sizeof dir, "tests/data/fuzz/%s", target);
    int crashes = replay_dir(dir, fn);
    printf("%s: %d seeds, %d regression inputs\n", target, seeds, crashes);
    assert_true(seeds > 0); /* the corpus is committed: its absence is a broken checkout */
}

static void tfrecord_corpus(void **s) { (void)s; replay("tfrecord", fuzz_tfrecord); }
static void example_corpus(void **s) { (void)s; replay("example", fuzz_example); }
static void feature_spec_corpus(void **s) { (void)s; replay("feature_spec", fuzz_feature_spec); }

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tfrecord_corpus),
        cmocka_unit_test(example_corpus),
        cmocka_unit_test(feature_spec_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
