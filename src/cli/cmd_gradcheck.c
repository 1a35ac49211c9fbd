/* latent gradcheck [--op NAME] [--seed S]: one line per case, exit 1 if any fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autograd/gradcheck.h"
#include "cli/cli.h"

int lt_cmd_gradcheck(int argc, char **argv) {
    const char *only = NULL;
    uint64_t seed = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--op") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--help")) {
            printf("usage: latent gradcheck [--op NAME] [--seed S]\n");
            return 0;
        } else return lt_cli_usage("gradcheck", "unknown option '%s'", argv[i]);
    }
    int64_t n;
    const lt_gc_case *const *cases = lt_gc_cases(&n);
    int failed = 0, ran = 0;
    for (int64_t i = 0; i < n; i++) {
        if (only && strcmp(only, cases[i]->op)) continue;
        lt_rng rng;
        lt_rng_seed(&rng, seed + (uint64_t)i);
        lt_gc_result res;
        lt_status st = cases[i]->run(&rng, &res);
        ran++;
        if (st) {
            printf("%-16s %-40s ERROR %s\n", cases[i]->op, cases[i]->what, lt_error_message());
            failed++;
        } else {
            printf("%-16s %-40s %s  %5lld elems  max abs err %.2e\n", cases[i]->op, cases[i]->what,
                   res.n_failed ? "FAIL" : "ok  ", (long long)res.n_checked, res.max_abs_err);
            if (res.n_failed) { printf("    %s\n", res.worst); failed++; }
        }
    }
    if (only && !ran) return lt_cli_usage("gradcheck", "no gradient check for op '%s'", only);
    printf("gradcheck: %d cases, %d failed\n", ran, failed);
    return failed ? 1 : 0;
}
