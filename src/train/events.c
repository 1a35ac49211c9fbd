/* TensorBoard event files (see events.h). Messages are encoded into one
 * growable buffer: a nested message is written body first and its length
 * varint slid in front when it closes (events are small; one memmove per level). */
#include "train/events.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"
#include "data/tfrecord.h"

enum { LTI_WT_VARINT = 0, LTI_WT_I64 = 1, LTI_WT_LEN = 2, LTI_WT_I32 = 5 };
enum { LTI_DT_STRING = 7 };

struct lt_events {
    FILE *f;
    char *path;       /* owned */
    uint8_t *buf;     /* (cap) the message being encoded */
    int64_t len, cap;
    int64_t open[6];  /* body starts of the nested messages now open */
    int depth;
    int nomem;        /* an allocation failed while encoding this message */
    lt_status err;    /* the first write error (sticky) */
};

static double lti_wall_time(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + 1e-6 * (double)tv.tv_usec;
}

/* ---- protobuf encoding ---- */

static int lti_reserve(lt_events *ev, int64_t n) {
    if (ev->nomem) return 0;
    if (ev->len + n <= ev->cap) return 1;
    int64_t cap = ev->cap ? ev->cap : 256;
    while (cap < ev->len + n) cap *= 2;
    uint8_t *b = lt_realloc(ev->buf, (size_t)cap);
    if (!b) {
        ev->nomem = 1;
        return 0;
    }
    ev->buf = b;
    ev->cap = cap;
    return 1;
}

static int lti_varint_size(uint64_t v) {
    int n = 1;
    while (v >= 0x80) { v >>= 7; n++; }
    return n;
}

static void lti_varint(lt_events *ev, uint64_t v) {
    if (!lti_reserve(ev, 10)) return;
    while (v >= 0x80) { ev->buf[ev->len++] = (uint8_t)(v | 0x80); v >>= 7; }
    ev->buf[ev->len++] = (uint8_t)v;
}

static void lti_key(lt_events *ev, uint32_t field, int wt) { lti_varint(ev, (uint64_t)field << 3 | (uint64_t)wt); }

static void lti_raw(lt_events *ev, const void *p, int64_t n) {
    if (!lti_reserve(ev, n)) return;
    if (n) memcpy(ev->buf + ev->len, p, (size_t)n);
    ev->len += n;
}

static void lti_bytes(lt_events *ev, uint32_t field, const void *p, int64_t n) {
    lti_key(ev, field, LTI_WT_LEN);
    lti_varint(ev, (uint64_t)n);
    lti_raw(ev, p, n);
}

static void lti_string(lt_events *ev, uint32_t field, const char *s) { lti_bytes(ev, field, s, (int64_t)strlen(s)); }

/* Little-endian fixed-width values (protobuf's double and float). */
static void lti_fixed(lt_events *ev, uint32_t field, uint64_t bits, int bytes) {
    uint8_t b[8];
    for (int i = 0; i < bytes; i++) b[i] = (uint8_t)(bits >> (8 * i));
    lti_key(ev, field, bytes == 8 ? LTI_WT_I64 : LTI_WT_I32);
    lti_raw(ev, b, bytes);
}

static void lti_double(lt_events *ev, uint32_t field, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    lti_fixed(ev, field, u, 8);
}

static void lti_float(lt_events *ev, uint32_t field, float v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    lti_fixed(ev, field, u, 4);
}

static void lti_begin(lt_events *ev, uint32_t field) {
    lti_key(ev, field, LTI_WT_LEN);
    if (ev->depth == (int)(sizeof ev->open / sizeof ev->open[0])) { ev->nomem = 1; return; } /* never: fixed nesting */
    ev->open[ev->depth++] = ev->len;
}

static void lti_end(lt_events *ev) {
    if (ev->depth == 0 || ev->nomem) return;
    int64_t start = ev->open[--ev->depth], body = ev->len - start;
    int k = lti_varint_size((uint64_t)body);
    if (!lti_reserve(ev, k)) return;
    memmove(ev->buf + start + k, ev->buf + start, (size_t)body);
    int64_t save = ev->len;
    ev->len = start;
    lti_varint(ev, (uint64_t)body);
    ev->len = save + k;
}

/* Event { wall_time, step, summary { value { tag ... } } }: opens Event.summary
 * and Summary.value and writes the tag; the caller adds the value and calls lti_finish. */
static void lti_start_value(lt_events *ev, int64_t step, const char *tag) {
    ev->len = 0;
    ev->depth = 0;
    ev->nomem = 0;
    lti_double(ev, 1, lti_wall_time());
    if (step) { lti_key(ev, 2, LTI_WT_VARINT); lti_varint(ev, (uint64_t)step); }
    lti_begin(ev, 5); /* Event.summary */
    lti_begin(ev, 1); /* Summary.value */
    lti_string(ev, 1, tag);
}

/* Closes the open messages and appends the Event as one TFRecord. */
static lt_status lti_finish(lt_events *ev) {
    while (ev->depth > 0 && !ev->nomem) lti_end(ev);
    if (ev->err) return ev->err;
    if (ev->nomem) return lt_fail(LT_ERR_NOMEM, "%s: no memory for a %lld-byte event", ev->path, (long long)ev->len);
    uint8_t head[12], foot[4];
    lt_tfr_frame(head, foot, ev->buf, (uint64_t)ev->len);
    if (fwrite(head, 1, 12, ev->f) != 12 || fwrite(ev->buf, 1, (size_t)ev->len, ev->f) != (size_t)ev->len ||
        fwrite(foot, 1, 4, ev->f) != 4)
        ev->err = lt_fail(LT_ERR_IO, "%s: cannot write an event: %s", ev->path, strerror(errno));
    return ev->err;
}

/* ---- the file ---- */

lt_status lt_events_open(const char *dir, lt_events **out) {
    *out = NULL;
    char host[256] = "localhost";
    if (gethostname(host, sizeof host - 1) || !host[0]) snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = 0;
    for (char *p = host; *p; p++) /* one path component, whatever the host is called */
        if (*p == '/' || *p < ' ') *p = '_';
    const long long now = (long long)time(NULL);
    size_t cap = strlen(dir) + strlen(host) + 64;
    lt_events *ev = lt_calloc(1, sizeof *ev);
    char *path = lt_malloc(cap);
    if (!ev || !path) {
        lt_free(ev);
        lt_free(path);
        return lt_fail(LT_ERR_NOMEM, "opening an event file in %s", dir);
    }
    ev->path = path;
    int fd = -1;
    for (int k = 0; k < 1000 && fd < 0; k++) {
        if (k == 0) snprintf(path, cap, "%s/events.out.tfevents.%010lld.%s", dir, now, host);
        else snprintf(path, cap, "%s/events.out.tfevents.%010lld.%s.%d", dir, now, host, k);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0 || !(ev->f = fdopen(fd, "wb"))) {
        lt_status st = lt_fail(LT_ERR_IO, "cannot create %s: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        lt_free(path);
        lt_free(ev);
        return st;
    }
    ev->len = 0;
    ev->depth = 0;
    lti_double(ev, 1, lti_wall_time());
    lti_string(ev, 3, "brain.Event:2");
    lt_status st = lti_finish(ev);
    if (!st) st = lt_events_flush(ev);
    if (st) {
        lt_events_close(ev);
        return st;
    }
    *out = ev;
    return LT_OK;
}

const char *lt_events_path(const lt_events *ev) { return ev->path; }

lt_status lt_events_scalar(lt_events *ev, int64_t step, const char *tag, double value) {
    lti_start_value(ev, step, tag);
    lti_float(ev, 2, (float)value);
    return lti_finish(ev);
}

lt_status lt_events_image(lt_events *ev, int64_t step, const char *tag, const void *png, int64_t len,
                          int64_t height, int64_t width, int colorspace) {
    lti_start_value(ev, step, tag);
    lti_begin(ev, 4); /* Value.image */
    lti_key(ev, 1, LTI_WT_VARINT);
    lti_varint(ev, (uint64_t)height);
    lti_key(ev, 2, LTI_WT_VARINT);
    lti_varint(ev, (uint64_t)width);
    lti_key(ev, 3, LTI_WT_VARINT);
    lti_varint(ev, (uint64_t)colorspace);
    lti_bytes(ev, 4, png, len);
    lti_end(ev);
    return lti_finish(ev);
}

lt_status lt_events_text(lt_events *ev, int64_t step, const char *tag, const char *markdown) {
    lti_start_value(ev, step, tag);
    lti_begin(ev, 8); /* Value.tensor: a rank-0 DT_STRING tensor */
    lti_key(ev, 1, LTI_WT_VARINT);
    lti_varint(ev, LTI_DT_STRING);
    lti_begin(ev, 2); /* tensor_shape: no dims */
    lti_end(ev);
    lti_string(ev, 8, markdown);
    lti_end(ev);
    lti_begin(ev, 9); /* Value.metadata (fields in number order, as Google's runtime writes them) */
    lti_begin(ev, 1); /* SummaryMetadata.plugin_data */
    lti_string(ev, 1, "text");
    lti_end(ev);
    lti_end(ev);
    return lti_finish(ev);
}

lt_status lt_events_flush(lt_events *ev) {
    if (ev->err) return ev->err;
    if (fflush(ev->f)) ev->err = lt_fail(LT_ERR_IO, "%s: cannot write events: %s", ev->path, strerror(errno));
    return ev->err;
}

lt_status lt_events_close(lt_events *ev) {
    if (!ev) return LT_OK;
    lt_status st = ev->err;
    if (ev->f && fclose(ev->f) && !st) st = lt_fail(LT_ERR_IO, "%s: cannot close: %s", ev->path, strerror(errno));
    lt_free(ev->buf);
    lt_free(ev->path);
    lt_free(ev);
    return st;
}
