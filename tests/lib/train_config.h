/* The lt_train_config the trainer tests start from (test_trainer.c, test_vqgan.c): the run
 * directory dir/run, the model and its config, the data directory, 3 epochs and the given
 * batch, learning rate and seed; everything else zero, for the test to set. Header only,
 * like test_util.h: each test file is its own executable. */
#ifndef LT_TEST_TRAIN_CONFIG_H
#define LT_TEST_TRAIN_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "train/trainer.h"

/* run_dir points into one of 8 rotating buffers, so a test may hold a few configs at once */
static inline lt_train_config test_train_config(const char *dir, const char *run, const char *model, json_t *mc,
                                                const char *data, int64_t batch, double lr, uint64_t seed) {
    static char path[8][512];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, sizeof path[0], "%s/%s", dir, run);
    lt_train_config c = {0};
    c.run_dir = p;
    c.model = model;
    c.model_config = mc;
    c.data = data;
    c.batch = batch;
    c.lr = lr;
    c.epochs = 3;
    c.seed = seed;
    return c;
}

#endif
