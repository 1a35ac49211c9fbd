/* latent report RUN... -o report.html: one self-contained HTML page comparing runs
 * (train/report.h). */
#include <stdio.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "core/alloc.h"
#include "train/report.h"

static void lti_usage(FILE *f) {
    fprintf(f, "usage: latent report RUN... -o report.html [--title TEXT]\n"
               "  curves of every run on shared axes, the latest sample grid of each, a table of the runs;\n"
               "  one HTML file with everything inlined (no network). Test NLL comes from RUN/eval.json\n"
               "  (written by latent eval RUN).\n");
}

int lt_cmd_report(int argc, char **argv) {
    static const char *cmd = "report";
    const char *out = NULL, *title = NULL;
    const char **runs = lt_calloc((size_t)argc, sizeof *runs);
    if (!runs) return lt_cli_error(lt_fail(LT_ERR_NOMEM, "arguments"));
    int64_t n = 0;
    int r, code = 2;
    for (int i = 1; i < argc; i++) {
        if (lt_arg_flag(argv, i, "--help") || lt_arg_flag(argv, i, "-h")) {
            lti_usage(stdout);
            code = 0;
            goto done;
        }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "-o", &out))) { if (r < 0) goto done; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--out", &out))) { if (r < 0) goto done; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--title", &title))) { if (r < 0) goto done; continue; }
        if (argv[i][0] == '-') {
            lt_cli_usage(cmd, "unknown option '%s' (see latent report --help)", argv[i]);
            goto done;
        }
        runs[n++] = argv[i];
    }
    if (!n || !out) {
        lt_cli_usage(cmd, "%s (latent report RUN... -o report.html)", !n ? "which runs?" : "-o FILE is required");
        goto done;
    }
    lt_status st = lt_report_write(runs, n, out, title);
    if (st) {
        code = lt_cli_error(st);
    } else {
        fprintf(stderr, "latent report: %lld run%s -> %s\n", (long long)n, n == 1 ? "" : "s", out);
        code = 0;
    }
done:
    lt_free(runs);
    return code;
}
