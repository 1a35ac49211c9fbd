/* latent train: flags → model config + trainer config; progress on stderr
 * (a bar on a terminal; otherwise a plain line every 30 s and one per epoch;
 * nothing but errors with --quiet), --json epochs on stdout;
 * SIGINT/SIGTERM finish the step, save `last` and exit 130/143.
 * Under mpirun (docs/distributed.md) rank 0 reports; an error every rank knows of is printed
 * once by rank 0, one rank's own failure by that rank, which then ends the job (MPI_Abort). */
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/gan_opts.h"
#include "cli/latent_opts.h"
#include "cli/gpt_opts.h"
#include "cli/vq_opts.h"
#include "cli/ssl_opts.h"
#include "cli/mae_opts.h"
#include "core/threads.h"
#include "data/dataset.h"
#include "train/comm.h"
#include "train/rundata.h"
#include "train/trainer.h"

static volatile sig_atomic_t lti_stop;
static volatile sig_atomic_t lti_signal;

static void lti_on_signal(int sig) {
    lti_signal = sig;
    lti_stop = 1;
}

typedef struct lti_progress {
    int tty, json, quiet;
    double last_draw;
} lti_progress;

static double lti_clock(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void lti_fmt_time(char *buf, size_t cap, double s) {
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, cap, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else snprintf(buf, cap, "%ldm%02lds", t / 60, t % 60);
}

static void lti_on_start(void *ud, const char *run, int64_t start, int64_t epochs, int64_t steps, int64_t n_params) {
    lti_progress *pr = ud;
    pr->last_draw = lti_clock();
    if (pr->quiet) return;
    fprintf(stderr, "latent train: %s, %lld parameters, %lld steps per epoch, epochs %lld..%lld\n", run,
            (long long)n_params, (long long)steps, (long long)start + 1, (long long)epochs);
}

static void lti_on_step(void *ud, const lt_train_progress *p) {
    lti_progress *pr = ud;
    if (pr->quiet) return;
    double now = lti_clock();
    char bar[21], eta[32];
    if (!pr->tty) { /* a log file: a plain line now and then */
        if (now - pr->last_draw < 30 || p->step == p->steps) return;
        pr->last_draw = now;
        lti_fmt_time(eta, sizeof eta, p->eta_s);
        fprintf(stderr, "epoch %lld/%lld step %lld/%lld  loss %.3f  %.0f ex/s  ETA %s\n", (long long)p->epoch,
                (long long)p->epochs, (long long)p->step, (long long)p->steps, p->loss, p->examples_per_s, eta);
        return;
    }
    if (now - pr->last_draw < 0.2 && p->step != p->steps) return; /* at most ~5 redraws a second */
    pr->last_draw = now;
    int fill = (int)(20 * p->step / (p->steps > 0 ? p->steps : 1));
    for (int i = 0; i < 20; i++) bar[i] = i < fill ? '#' : '.';
    bar[20] = 0;
    lti_fmt_time(eta, sizeof eta, p->eta_s);
    fprintf(stderr, "\r\033[Kepoch %lld/%lld [%s] %lld/%lld  loss %.3f  %.0f ex/s  ETA %s", (long long)p->epoch,
            (long long)p->epochs, bar, (long long)p->step, (long long)p->steps, p->loss, p->examples_per_s, eta);
    fflush(stderr);
}

static void lti_on_epoch(void *ud, const lt_epoch_report *r) {
    lti_progress *pr = ud;
    if (pr->tty && !pr->quiet) fprintf(stderr, "\r\033[K");
    if (!pr->quiet)
    {
        char extra[96] = "";
        int k = 0;
        if (r->valid_neg_elbo == r->valid_neg_elbo)
            k += snprintf(extra + k, sizeof extra - (size_t)k, "  -ELBO %.3f", r->valid_neg_elbo);
        if (r->temperature == r->temperature)
            snprintf(extra + k, sizeof extra - (size_t)k, "  tau %.3g", r->temperature);
        if (r->valid_nll != r->valid_nll) { /* --valid-every: not validated this epoch */
            fprintf(stderr, "epoch %lld/%lld  train loss %.3f  (no validation this epoch)  %.0f ex/s  %.1fs\n",
                    (long long)r->epoch, (long long)r->epochs, r->train_loss, r->examples_per_s, r->seconds);
        } else {
            fprintf(stderr, "epoch %lld/%lld  train loss %.3f  valid NLL %.3f ± %.3f nats (%.4f bits/dim)%s%s  %.0f ex/s  %.1fs%s\n",
                (long long)r->epoch, (long long)r->epochs, r->train_loss, r->valid_nll, r->valid_stderr,
                r->valid_bits_per_dim, extra, r->is_best ? " *best*" : "", r->examples_per_s, r->seconds,
                r->stop_early ? "  (early stop: no improvement within patience)" : "");
        }
    }
    if (pr->json) {
        printf("%s\n", r->line);
        fflush(stdout);
    }
}

static void lti_usage(FILE *f) {
    fprintf(f,
            "usage: latent train --model fvsbn|nade|made|vae|gsvae|vqvae|vqgan|gpt|simclr|mae --data DIR|tfrecord:PREFIX --out RUN [options]\n"
            "       latent train --resume RUN [--epochs N] [--valid-every N] [--threads T] [--bucket-mb M] [--json] [--log-every N] [--keep N|all] [--quiet]\n"
            "           --codes-of RUN (gpt: the codes of a vqvae run, encoded when training starts; instead of --data)\n"
            "data:      --binarize none|threshold|stochastic|dynamic  --limit N (first N examples per split)\n"
            "           --augment crop:P,flip (training batches: random crop with P zero pixels of padding, horizontal flip)\n"
            "           --augment simclr|simclr-grey[,rrc:LO,jitter:S,grey:P,blur:P,noise:STD] (docs/ssl.md)\n"
            "           --features SPEC.json (with --data tfrecord:PREFIX or tfrecord:PATTERN-with-{split})\n"
            "model:     --hidden 500[,500...]  --masks K  --order-agnostic  --direct  --orthogonal-init (made)  --conditional\n"
            "training:  --epochs N (10)  --batch B (100)  --optimizer adam|adamw|adagrad|sgd  --lr X (1e-3)\n"
            "           --weight-decay X  --l1 X  --schedule constant|step:SIZE:GAMMA|cosine[:MIN][,warmup:N]  --clip X\n"
            "           --patience P  --seed S  --threads T  --samples N (grid per epoch, 0 = none)\n"
            "           --valid-every N (validate, sample and pick best every N epochs and after the last; 1;\n"
            "           patience stays in epochs)\n"
            "           --select nll|neg_elbo (what picks the best checkpoint and drives --patience; nll)\n"
            "           --eval-masks K (masks averaged for validation)\n"
            "           --bucket-mb M (under mpirun: gradient all-reduce in buckets of M MB started during the\n"
            "           backward sweep; 25; 0 = one all-reduce after it)\n"
            LT_CLI_LATENT_USAGE
            LT_CLI_GPT_USAGE
            LT_CLI_VQ_USAGE
            LT_CLI_SSL_USAGE
            LT_CLI_GAN_USAGE
            LT_CLI_MAE_USAGE
            "output:    --json (one JSON object per epoch on stdout)  --quiet (no progress on stderr)\n"
            "           --log-every N (training scalars to the TensorBoard event file every N steps; 50)\n"
            "           --keep N|all (periodic checkpoints epoch-NNN kept besides the best epoch's; 5)\n");
}

/* "500,500" → [500, 500]; NULL on a malformed list. */
static json_t *lti_hidden(const char *s) {
    json_t *a = json_array();
    while (*s) {
        char *end;
        long long v = strtoll(s, &end, 10);
        if (end == s || v < 1 || v > (1 << 20) || (*end && *end != ',')) {
            json_decref(a);
            return NULL;
        }
        json_array_append_new(a, json_integer(v));
        s = *end ? end + 1 : end;
    }
    if (!json_array_size(a)) {
        json_decref(a);
        return NULL;
    }
    return a;
}

int lt_cmd_train(int argc, char **argv) {
    static const char *cmd = "train";
    lt_train_config c = {0};
    c.binarize = -1;
    c.seed = 1;
    json_t *mc = json_object(), *groups = json_object();
    const char *s = NULL, *resume = NULL, *codes_of = NULL;
    int64_t v, threads = 0;
    double f;
    int json = 0, quiet = 0, r, n_setup = 0; /* n_setup: flags that --resume does not take */
    int code = 2;
    for (int i = 1; i < argc; i++) {
        if (lt_arg_flag(argv, i, "--help") || lt_arg_flag(argv, i, "-h")) {
            lti_usage(stdout);
            json_decref(mc);
            json_decref(groups);
            return 0;
        }
        if (lt_arg_flag(argv, i, "--json")) { json = 1; continue; }
        if (lt_arg_flag(argv, i, "--quiet") || lt_arg_flag(argv, i, "-q")) { quiet = 1; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--log-every", 1, INT64_MAX, &c.log_every))) { if (r < 0) goto out; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--keep", &s))) {
            if (r < 0) goto out;
            char *end;
            long long k = strtoll(s, &end, 10);
            if (!strcmp(s, "all")) c.keep = -1;
            else if (end != s && !*end && k >= 1) c.keep = k;
            else { lt_cli_usage(cmd, "--keep %s: expected a count >= 1 or 'all'", s); goto out; }
            continue;
        }
        if (lt_arg_flag(argv, i, "--order-agnostic")) { json_object_set_new(mc, "order_agnostic", json_true()); n_setup++; continue; }
        if (lt_arg_flag(argv, i, "--cosine-codes")) { json_object_set_new(mc, "cosine", json_true()); n_setup++; continue; }
        if (lt_arg_flag(argv, i, "--direct")) { json_object_set_new(mc, "direct", json_true()); n_setup++; continue; }
        if (lt_arg_flag(argv, i, "--orthogonal-init")) { json_object_set_new(mc, "orthogonal_init", json_true()); n_setup++; continue; }
        if (lt_arg_flag(argv, i, "--conditional")) { c.conditional = 1; n_setup++; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--resume", &resume))) { if (r < 0) goto out; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--out", &c.run_dir))) { if (r < 0) goto out; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--epochs", 1, 1000000, &c.epochs))) { if (r < 0) goto out; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--valid-every", 1, 1000000, &c.valid_every))) { if (r < 0) goto out; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--threads", 1, 1024, &threads))) { if (r < 0) goto out; continue; }
        if ((r = lt_arg_f64(cmd, argc, argv, &i, "--bucket-mb", &f))) {
            if (r < 0) goto out;
            if (!(f >= 0 && f <= 1e6)) { lt_cli_usage(cmd, "--bucket-mb %g: expected megabytes >= 0 (0: one all-reduce)", f); goto out; }
            c.bucket_bytes = f > 0 ? (int64_t)(f * 1048576.0 + 0.5) : -1;
            if (c.bucket_bytes == 0) c.bucket_bytes = 1;
            continue;
        }
        n_setup++;
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--model", &c.model))) { if (r < 0) goto out; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--data", &c.data))) { if (r < 0) goto out; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--codes-of", &codes_of))) { if (r < 0) goto out; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--features", &c.features))) { if (r < 0) goto out; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--augment", &c.augment))) {
            if (r < 0) goto out;
            lt_augment a;
            if (lt_augment_parse(c.augment, &a)) { lt_cli_usage(cmd, "%s", lt_error_message()); goto out; }
            continue;
        }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--binarize", &s))) {
            if (r < 0) goto out;
            if ((c.binarize = lt_binarize_parse(s)) < 0) {
                lt_cli_usage(cmd, "--binarize %s: expected none, threshold, stochastic or dynamic", s);
                goto out;
            }
            continue;
        }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--hidden", &s))) {
            json_t *h = r > 0 ? lti_hidden(s) : NULL;
            if (!h) {
                if (r > 0) lt_cli_usage(cmd, "--hidden %s: expected sizes like 500 or 500,500", s);
                goto out;
            }
            json_object_set_new(mc, "hidden", h);
            continue;
        }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--masks", 1, 1 << 20, &v))) {
            if (r < 0) goto out;
            json_object_set_new(mc, "masks", json_integer(v));
            continue;
        }
        if ((r = lt_cli_latent_opt(cmd, argc, argv, &i, mc))) { if (r < 0) goto out; continue; }
        if ((r = lt_cli_gpt_opt(cmd, argc, argv, &i, mc))) { if (r < 0) goto out; continue; }
        if ((r = lt_cli_vq_opt(cmd, argc, argv, &i, mc))) { if (r < 0) goto out; continue; }
        if ((r = lt_cli_ssl_opt(cmd, argc, argv, &i, mc))) { if (r < 0) goto out; continue; }
        if ((r = lt_cli_gan_opt(cmd, argc, argv, &i, mc, groups))) { if (r < 0) goto out; continue; }
        if ((r = lt_cli_mae_opt(cmd, argc, argv, &i, mc))) { if (r < 0) goto out; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--batch", 1, 1000000, &c.batch))) { if (r < 0) goto out; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--optimizer", &c.optimizer))) { if (r < 0) goto out; continue; }
        if ((r = lt_arg_f64(cmd, argc, argv, &i, "--lr", &c.lr))) {
            if (r < 0) goto out;
            if (c.lr <= 0) { lt_cli_usage(cmd, "--lr %g: expected a positive number", c.lr); goto out; }
            continue;
        }
        if ((r = lt_arg_f64(cmd, argc, argv, &i, "--weight-decay", &c.weight_decay))) { if (r < 0) goto out; continue; }
        if ((r = lt_arg_f64(cmd, argc, argv, &i, "--l1", &c.l1))) { if (r < 0) goto out; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--schedule", &c.schedule))) { if (r < 0) goto out; continue; }
        if ((r = lt_arg_str(cmd, argc, argv, &i, "--select", &c.select))) {
            if (r < 0) goto out;
            if (strcmp(c.select, "nll") && strcmp(c.select, "neg_elbo")) {
                lt_cli_usage(cmd, "--select %s: expected nll or neg_elbo", c.select);
                goto out;
            }
            continue;
        }
        if ((r = lt_arg_f64(cmd, argc, argv, &i, "--clip", &c.clip))) { if (r < 0) goto out; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--patience", 0, 1000000, &c.patience))) { if (r < 0) goto out; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--seed", 0, INT64_MAX, &v))) { if (r < 0) goto out; c.seed = (uint64_t)v; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--limit", 1, INT64_MAX, &c.limit))) { if (r < 0) goto out; continue; }
        if ((r = lt_arg_i64(cmd, argc, argv, &i, "--samples", 0, 1024, &v))) { if (r < 0) goto out; c.sample_n = v ? v : -1; continue; }
        if ((r = lt_arg_f64(cmd, argc, argv, &i, "--eval-masks", &f))) {
            if (r < 0) goto out;
            if (f < 1 || f > 100000 || f != (int)f) { lt_cli_usage(cmd, "--eval-masks %g: expected an integer >= 1", f); goto out; }
            c.eval_masks = (int)f;
            continue;
        }
        lt_cli_usage(cmd, "unknown option '%s' (see latent train --help)", argv[i]);
        goto out;
    }
    char codes_src[PATH_MAX + 16]; /* --codes-of RUN: data "codes-of:/abs/RUN", RUN the stage one */
    if (codes_of) {
        char abs[PATH_MAX];
        if (c.data) { lt_cli_usage(cmd, "--codes-of RUN and --data: give one (the codes of RUN are the data)"); goto out; }
        if (json_object_get(mc, "stage1")) { lt_cli_usage(cmd, "--codes-of RUN is the stage-one run: drop --stage1"); goto out; }
        if (!realpath(codes_of, abs)) { lt_cli_usage(cmd, "--codes-of %s: no such run directory", codes_of); goto out; }
        snprintf(codes_src, sizeof codes_src, "%s%s", LT_RUNDATA_CODES_OF, abs);
        c.data = codes_src;
        json_object_set_new(mc, "stage1", json_string(abs));
    }
    if (resume) {
        if (n_setup || c.run_dir) {
            lt_cli_usage(cmd, "--resume RUN takes only --epochs, --valid-every, --threads, --bucket-mb, --json, --quiet, --log-every and --keep (the rest "
                              "comes from RUN/config.json)");
            goto out;
        }
        c.run_dir = resume;
        c.resume = 1;
    } else if (!c.model || !c.data || !c.run_dir) {
        lt_cli_usage(cmd, "--model, --data and --out are required (or --resume RUN)");
        goto out;
    }
    if (threads > 0) lt_threads_set((int)threads);
    lt_comm *comm = NULL;
    lt_status cst = lt_comm_world(&comm);
    if (cst) {
        code = lt_cli_error(cst);
        goto out;
    }
    const int rank = lt_comm_rank(comm), ranks = lt_comm_size(comm);
    /* Ranks on one node share its cores: by default each takes its share, not all of them. */
    const long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (threads == 0 && !getenv("LATENT_THREADS") && lt_comm_local_size(comm) > 1)
        lt_threads_set(cores / lt_comm_local_size(comm) > 1 ? (int)(cores / lt_comm_local_size(comm)) : 1);
    c.comm = comm;
    c.model_config = mc;
    if (json_object_size(groups)) c.groups = groups;
    if (!resume && !strcmp(c.model, "vqgan") && !json_object_get(mc, "perceptual")) {
        json_object_set_new(mc, "perceptual_weight", json_real(0)); /* config.json says the term is off */
        if (!quiet && rank == 0) fprintf(stderr, "latent train: vqgan without a perceptual term (no --perceptual RUN)\n");
    }
    c.stop = &lti_stop;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = lti_on_signal;
    sa.sa_flags = SA_RESETHAND; /* a second Ctrl-C kills at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    lti_progress pr = {isatty(2), json, quiet, 0};
    lt_train_callbacks cb = {&pr, lti_on_start, lti_on_step, lti_on_epoch};
    lt_status st = lt_train(&c, &cb);
    if (pr.tty && !quiet && rank == 0) fprintf(stderr, "\r\033[K");
    if (st && ranks > 1 && !lt_comm_agreed(comm)) { /* this rank alone failed: the others wait for it */
        fprintf(stderr, "latent: rank %d of %d: %s\n", rank, ranks, lt_error_message());
        lt_comm_abort(comm, lt_status_exit_code(st));
    }
    if (st && rank != 0) {
        code = st == LT_ERR_INTERRUPTED ? (lti_signal == SIGTERM ? 143 : 130) : lt_status_exit_code(st);
    } else if (st == LT_ERR_INTERRUPTED) {
        fprintf(stderr, "latent: %s\n", lt_error_message());
        code = lti_signal == SIGTERM ? 143 : 130;
    } else if (st) {
        code = lt_cli_error(st);
    } else {
        if (!quiet && rank == 0)
            fprintf(stderr, "latent train: done; run %s: config.json, metrics.jsonl, checkpoints/, samples/, "
                            "events.out.tfevents.* (tensorboard --logdir %s)\n", c.run_dir, c.run_dir);
        code = 0;
    }
    lt_comm_finalize();
out:
    json_decref(mc);
    json_decref(groups);
    return code;
}
