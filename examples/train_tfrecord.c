/* Trains a small MADE on TFRecord files of tf.Examples through a feature spec with the
 * installed liblatent, then reports its test NLL.
 *
 *   cc train_tfrecord.c $(pkg-config --cflags --libs latent) -o train_tfrecord
 *   ./train_tfrecord RUN tfrecord:PREFIX SPEC.json [EPOCHS]
 *
 * PREFIX-train-*, PREFIX-valid-*, PREFIX-test-* are what `latent tfrecord convert --to
 * PREFIX` writes; SPEC.json maps a record to the model's input, e.g.
 *   {"columns": [{"type": "numeric_column", "key": "image/raw", "shape": [28, 28], "decode_raw": "uint8"}]}
 * RUN is an ordinary run directory: `latent eval RUN`, `latent sample RUN` work on it. */
#include <latent/latent.h>
#include <stdio.h>
#include <stdlib.h>

static int on_epoch(void *ud, const lt_epoch_info *e) {
    (void)ud;
    printf("epoch %lld/%lld  train loss %.3f  valid NLL %.3f nats%s\n", (long long)e->epoch, (long long)e->epochs,
           e->train_loss, e->valid_nll, e->is_best ? "  (best)" : "");
    return 0; /* non-zero would stop training here */
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s RUN tfrecord:PREFIX SPEC.json [EPOCHS]\n", argv[0]);
        return 2;
    }
    char options[8192];
    snprintf(options, sizeof options,
             "{\"model\": \"made\", \"model_config\": {\"hidden\": [64]}, \"data\": \"%s\", \"features\": \"%s\","
             " \"epochs\": %d, \"batch\": 20, \"lr\": 0.003, \"seed\": 7, \"samples\": 16}",
             argv[2], argv[3], argc > 4 ? atoi(argv[4]) : 5);
    lt_set_threads(0);
    if (lt_run_train(argv[1], options, on_epoch, NULL)) {
        fprintf(stderr, "train_tfrecord: %s\n", lt_last_error());
        return 1;
    }
    /* The best checkpoint on the run's own test split, as `latent eval RUN --split test`. */
    lt_run *run = NULL;
    lt_source *data = NULL;
    lt_run_info info;
    lt_eval_summary test;
    int st = lt_run_open(argv[1], "best", &run);
    if (!st) {
        lt_run_describe(run, &info);
        st = lt_source_open(info.data, info.features, info.limit, &data);
    }
    if (!st) st = lt_run_evaluate(run, data, "test", &test);
    if (st) fprintf(stderr, "train_tfrecord: %s\n", lt_last_error());
    else printf("test NLL %.6f nats (%.4f bits/dim) over %lld examples, %lld parameters\n", test.nll_nats,
                test.bits_per_dim, (long long)test.examples, (long long)info.n_params);
    lt_source_close(data);
    lt_run_close(run);
    return st ? 1 : 0;
}
