/* An HTML report comparing run directories: one self-contained file (inline
 * SVG charts, images as base64 data URIs, no scripts, nothing fetched) with
 *  - one chart per metric of metrics.jsonl (training loss, validation NLL,
 *    validation bits/dim) by epoch, every run on the same axes, a colour per
 *    run, ticks, axis labels and a legend;
 *  - the latest sample grid of each run (samples/epoch-NNN.png, highest NNN);
 *  - a table with a row per run: model, the model's own settings, optimizer,
 *    learning rate, batch, epochs done of planned, training time, best
 *    validation NLL (and its epoch), test NLL where `latent eval` recorded one
 *    in RUN/eval.json.
 * A run directory must hold config.json; metrics.jsonl may be absent (a run
 * that has not finished an epoch). The file is written atomically. */
#ifndef LT_REPORT_H
#define LT_REPORT_H

#include <stdint.h>

#include "core/status.h"

/* Reads the n run directories and writes the report to out_path. title may be
 * NULL ("latent runs"). LT_ERR_ARG for a directory that is not a run (the
 * message names it), LT_ERR_FORMAT for a malformed file in one. */
lt_status lt_report_write(const char *const *runs, int64_t n, const char *out_path, const char *title);

#endif
