/* TensorBoard event files, written without TensorFlow.
 *
 * A run directory gets events.out.tfevents.<unix time>.<host> (a ".N" suffix
 * when that name is taken, e.g. a resume within the same second): a TFRecord
 * stream (uncompressed framing: length, masked CRC32C, data, masked CRC32C) of
 * serialized tensorflow.Event messages. The first record carries
 * file_version "brain.Event:2", which also tells TensorBoard to drop events a
 * crashed session logged past the step a resumed one restarts from.
 *
 * Field numbers (tensorflow/core/framework/{summary,tensor,tensor_shape}.proto
 * and util/event.proto):
 *   Event            wall_time 1 (double), step 2 (int64), file_version 3, summary 5
 *   Summary          value 1 (repeated Value)
 *   Summary.Value    tag 1, simple_value 2 (float), image 4, tensor 8, metadata 9
 *   Summary.Image    height 1, width 2, colorspace 3, encoded_image_string 4
 *   TensorProto      dtype 1 (DT_STRING = 7), tensor_shape 2, string_val 8
 *   TensorShapeProto dim 2 (Dim: size 1)
 *   SummaryMetadata  plugin_data 1 (PluginData: plugin_name 1, content 2)
 * Text goes the way TensorBoard's text plugin reads it: a rank-0 DT_STRING
 * tensor with metadata.plugin_data.plugin_name = "text" (Markdown).
 *
 * Why this lives in train/ and not io/: an event file is a TFRecord stream,
 * and data/ already owns the TFRecord framing and CRC32C (tfrecord.h's
 * lt_tfr_frame). io/ may use only core, so an io/ writer would need a second
 * copy of the CRC or the CRC moved under core/ for one caller; train/ may use
 * data/ and is the only writer of event files. lt_tfr_writer itself does not
 * fit: it publishes its file by rename on close, while an event file must be
 * readable as it grows (TensorBoard tails it), so records are appended to the
 * final name and flushed at the points the caller chooses (after each epoch).
 *
 * Ownership: lt_events_open returns a writer that lt_events_close frees. The
 * writer keeps one growable message buffer: logging a scalar allocates
 * nothing once the buffer has grown to the largest message so far. */
#ifndef LT_EVENTS_H
#define LT_EVENTS_H

#include <stdint.h>

#include "core/status.h"

typedef struct lt_events lt_events;

/* Creates DIR/events.out.tfevents.<time>.<host>[.N] and writes the
 * file_version event (flushed). */
lt_status lt_events_open(const char *dir, lt_events **out);
/* The file's path (owned by the writer). */
const char *lt_events_path(const lt_events *ev);

/* One Event with one Summary.Value each. Steps are the caller's global steps. */
lt_status lt_events_scalar(lt_events *ev, int64_t step, const char *tag, double value);
/* An encoded image (PNG bytes) of width x height; colorspace 1 grey, 3 RGB, 4 RGBA. */
lt_status lt_events_image(lt_events *ev, int64_t step, const char *tag, const void *png, int64_t len,
                          int64_t height, int64_t width, int colorspace);
/* Markdown text for the text plugin. */
lt_status lt_events_text(lt_events *ev, int64_t step, const char *tag, const char *markdown);

/* Pushes buffered records to the file so a watching TensorBoard sees them. */
lt_status lt_events_flush(lt_events *ev);
/* Flushes, closes and frees (NULL is a no-op). Returns the first write error. */
lt_status lt_events_close(lt_events *ev);

#endif
