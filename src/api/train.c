/* lt_run_train (include/latent/run.h): a JSON object of options → lt_train_config,
 * then train/trainer.h's loop with an epoch callback that can stop it. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/internal.h"
#include "train/trainer.h"

enum lti_kind { LTI_STR, LTI_I64, LTI_F64, LTI_BOOL, LTI_SEED, LTI_BINARIZE, LTI_SAMPLES, LTI_EVAL_MASKS, LTI_OBJECT };

/* One option: its key, how to read it, where it goes in lt_train_config, the smallest
 * value an integer may take, and whether it may come with "resume". */
typedef struct lti_option {
    const char *key;
    enum lti_kind kind;
    size_t offset;
    int64_t min;
    int with_resume;
} lti_option;

#define LTI_AT(f) offsetof(lt_train_config, f)
static const lti_option lti_options[] = {
    {"model", LTI_STR, LTI_AT(model), 0, 0},
    {"model_config", LTI_OBJECT, LTI_AT(model_config), 0, 0},
    {"data", LTI_STR, LTI_AT(data), 0, 0},
    {"features", LTI_STR, LTI_AT(features), 0, 0},
    {"limit", LTI_I64, LTI_AT(limit), 1, 0},
    {"binarize", LTI_BINARIZE, LTI_AT(binarize), 0, 0},
    {"conditional", LTI_BOOL, LTI_AT(conditional), 0, 0},
    {"batch", LTI_I64, LTI_AT(batch), 1, 0},
    {"optimizer", LTI_STR, LTI_AT(optimizer), 0, 0},
    {"lr", LTI_F64, LTI_AT(lr), 0, 0},
    {"weight_decay", LTI_F64, LTI_AT(weight_decay), 0, 0},
    {"l1", LTI_F64, LTI_AT(l1), 0, 0},
    {"schedule", LTI_STR, LTI_AT(schedule), 0, 0},
    {"clip", LTI_F64, LTI_AT(clip), 0, 0},
    {"patience", LTI_I64, LTI_AT(patience), 0, 0},
    {"samples", LTI_SAMPLES, LTI_AT(sample_n), 0, 0},
    {"seed", LTI_SEED, LTI_AT(seed), 0, 0},
    {"eval_masks", LTI_EVAL_MASKS, LTI_AT(eval_masks), 1, 0},
    {"select", LTI_STR, LTI_AT(select), 0, 0},
    {"resume", LTI_BOOL, LTI_AT(resume), 0, 1},
    {"epochs", LTI_I64, LTI_AT(epochs), 1, 1},
    {"log_every", LTI_I64, LTI_AT(log_every), 1, 1},
    {"keep", LTI_I64, LTI_AT(keep), -1, 1},
};

static lt_status lti_type_error(const char *key, const char *want) {
    return lt_fail(LT_ERR_ARG, "lt_run_train: option \"%s\": expected %s", key, want);
}

/* Sets one option from v; strings and objects point into the options' JSON. */
static lt_status lti_set(lt_train_config *c, const lti_option *o, json_t *v) {
    void *at = (char *)c + o->offset;
    switch (o->kind) {
    case LTI_STR:
        if (!json_is_string(v)) return lti_type_error(o->key, "a string");
        *(const char **)at = json_string_value(v);
        return LT_OK;
    case LTI_OBJECT:
        if (!json_is_object(v)) return lti_type_error(o->key, "an object");
        *(const json_t **)at = v;
        return LT_OK;
    case LTI_BOOL:
        if (!json_is_boolean(v)) return lti_type_error(o->key, "true or false");
        *(int *)at = json_is_true(v);
        return LT_OK;
    case LTI_F64:
        if (!json_is_number(v) || json_number_value(v) < 0) return lti_type_error(o->key, "a number >= 0");
        if (!strcmp(o->key, "lr") && json_number_value(v) == 0) return lti_type_error(o->key, "a number > 0");
        *(double *)at = json_number_value(v);
        return LT_OK;
    case LTI_BINARIZE: {
        int b = json_is_string(v) ? lt_binarize_parse(json_string_value(v)) : -1;
        if (b < 0) return lti_type_error(o->key, "\"none\", \"threshold\", \"stochastic\" or \"dynamic\"");
        *(int *)at = b;
        return LT_OK;
    }
    default: break;
    }
    if (!json_is_integer(v) || json_integer_value(v) < o->min) {
        char want[64];
        snprintf(want, sizeof want, "an integer >= %lld", (long long)o->min);
        return lti_type_error(o->key, want);
    }
    const int64_t i = json_integer_value(v);
    if (o->kind == LTI_SEED) *(uint64_t *)at = (uint64_t)i;
    else if (o->kind == LTI_SAMPLES && i > 1024) return lti_type_error(o->key, "an integer in 0..1024");
    else if (o->kind == LTI_SAMPLES) *(int64_t *)at = i ? i : -1; /* the trainer's 0 means 64 */
    else if (o->kind == LTI_EVAL_MASKS) *(int *)at = i > 100000 ? 100000 : (int)i;
    else if (!strcmp(o->key, "keep") && i == 0) return lti_type_error(o->key, "an integer >= 1, or -1 (all)");
    else *(int64_t *)at = i;
    return LT_OK;
}

typedef struct lti_train_ctx {
    lt_epoch_fn on_epoch;
    void *ud;
    volatile sig_atomic_t stop;
} lti_train_ctx;

static void lti_on_epoch(void *ud, const lt_epoch_report *r) {
    lti_train_ctx *ctx = ud;
    lt_epoch_info e = {r->epoch, r->epochs, r->train_loss, r->valid_nll, r->valid_stderr, r->valid_bits_per_dim,
                       r->seconds, r->is_best, r->line};
    if (ctx->on_epoch && ctx->on_epoch(ctx->ud, &e)) ctx->stop = 1;
}

int lt_run_train(const char *run_dir, const char *options, lt_epoch_fn on_epoch, void *ud) {
    if (!run_dir || !options) return lt_fail(LT_ERR_ARG, "lt_run_train: run_dir or options is NULL");
    json_error_t err;
    json_t *opts = json_loads(options, 0, &err);
    if (!opts || !json_is_object(opts)) {
        json_decref(opts);
        return lt_fail(LT_ERR_ARG, "lt_run_train: options: expected a JSON object%s%s", opts ? "" : ": ",
                       opts ? "" : err.text);
    }
    lt_train_config c;
    memset(&c, 0, sizeof c);
    c.binarize = -1;
    c.seed = 1;
    c.run_dir = run_dir;
    lt_status st = LT_OK;
    int n_setup = 0; /* options "resume" does not take */
    const char *key;
    json_t *v;
    json_object_foreach(opts, key, v) {
        const lti_option *o = NULL;
        for (size_t i = 0; i < sizeof lti_options / sizeof lti_options[0]; i++)
            if (!strcmp(key, lti_options[i].key)) o = &lti_options[i];
        if (!o) {
            st = lt_fail(LT_ERR_ARG, "lt_run_train: unknown option \"%s\" (see latent/run.h)", key);
            break;
        }
        if ((st = lti_set(&c, o, v))) break;
        n_setup += !o->with_resume;
    }
    if (!st && c.resume && n_setup)
        st = lt_fail(LT_ERR_ARG, "lt_run_train: \"resume\" takes only \"epochs\", \"log_every\" and \"keep\" (the rest "
                                 "comes from %s/config.json)", run_dir);
    if (!st && !c.resume && (!c.model || !c.data))
        st = lt_fail(LT_ERR_ARG, "lt_run_train: options \"model\" and \"data\" are required (or \"resume\": true)");
    if (!st) {
        lti_train_ctx ctx = {on_epoch, ud, 0};
        lt_train_callbacks cb = {&ctx, NULL, NULL, lti_on_epoch};
        c.stop = &ctx.stop;
        st = lt_train(&c, &cb);
    }
    json_decref(opts);
    return st;
}
