/* libFuzzer target: TFRecord framing read from memory.
 * Byte 0 picks the options (compression, CRC checking, skip budget); the rest is
 * the file. Beyond "no crash, no UB, no leak", every record read from an
 * uncompressed stream with CRCs checked must re-frame to the exact input bytes. */
#include <stdint.h>
#include <string.h>

#include "data/tfrecord.h"

/* tests/test_fuzz_corpus.c includes this file under another entry name to replay the corpora. */
#ifndef LT_FUZZ_ENTRY
#define LT_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif
int LT_FUZZ_ENTRY(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static const lt_tfr_compression comp[4] = {LT_TFR_NONE, LT_TFR_ZLIB, LT_TFR_GZIP, LT_TFR_AUTO};
    lt_tfr_options o;
    lt_tfr_options_default(&o);
    o.compression = comp[data[0] & 3];
    o.verify_crc = !(data[0] & 4);
    o.skip_corrupt = (data[0] >> 3) & 3;
    o.max_record = 1 << 20;
    const uint8_t *file = data + 1;
    int64_t len = (int64_t)size - 1;
    lt_tfr_reader *r = NULL;
    if (lt_tfr_reader_open_mem(&r, "fuzz", file, len, &o)) return 0;
    int check = lt_tfr_reader_compression(r) == LT_TFR_NONE && o.verify_crc;
    for (int n = 0; n < 100000; n++) {
        lt_tfr_record rec;
        int have = 0;
        if (lt_tfr_reader_next(r, &rec, &have) || !have) break;
        if (rec.len < 0 || (check && (rec.offset < 0 || rec.offset + 16 + rec.len > len))) __builtin_trap();
        if (check) {
            uint8_t head[12], foot[4];
            lt_tfr_frame(head, foot, rec.data, (uint64_t)rec.len);
            if (memcmp(head, file + rec.offset, 12) || memcmp(rec.data, file + rec.offset + 12, (size_t)rec.len) ||
                memcmp(foot, file + rec.offset + 12 + rec.len, 4))
                __builtin_trap();
        }
    }
    lt_tfr_reader_close(r);
    return 0;
}
