"""Parses latent's TensorBoard event files with Google's protobuf runtime.

usage: events_interop.py PB_DIR RUN LOG_EVERY STEPS_PER_EPOCH N_FILES

PB_DIR holds event_pb2.py (protoc --python_out from tests/py/event.proto).
Checks the TFRecord framing (masked CRC32C), that every file starts with
file_version "brain.Event:2", the training scalars' tags, steps and values
against metrics.jsonl and config.json, the per-epoch validation scalars, the
sample grid image (a PNG of the stated size, byte-equal to samples/epoch-NNN.png)
and the configuration as a text-plugin tensor. Exits 1 with a message on the
first mismatch."""
import glob
import json
import math
import os
import struct
import sys
import zlib

import crc32c

sys.path.insert(0, sys.argv[1])
import event_pb2  # noqa: E402

run, log_every, steps_per_epoch, n_files = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])


def fail(msg):
    print("FAIL events: " + msg)
    sys.exit(1)


def masked(data):
    c = crc32c.crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def records(path):
    b = open(path, "rb").read()
    off = 0
    while off < len(b):
        if off + 12 > len(b):
            fail(f"{path}: truncated header at {off}")
        (n,) = struct.unpack_from("<Q", b, off)
        (hc,) = struct.unpack_from("<I", b, off + 8)
        if hc != masked(b[off:off + 8]):
            fail(f"{path}: bad length CRC at {off}")
        data = b[off + 12:off + 12 + n]
        (dc,) = struct.unpack_from("<I", b, off + 12 + n)
        if len(data) != n or dc != masked(data):
            fail(f"{path}: bad data CRC at {off}")
        yield data
        off += 12 + n + 4


def png_size(png):
    """Decodes a PNG far enough to prove it is one: signature, IHDR, inflated IDAT
    of the size the header implies (8-bit grey or RGB, no interlace)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        fail("image is not a PNG")
    off, idat, w, h, chans, depth = 8, b"", 0, 0, 1, 8
    while off < len(png):
        (n,) = struct.unpack_from(">I", png, off)
        kind, body = png[off + 4:off + 8], png[off + 8:off + 8 + n]
        if zlib.crc32(kind + body) != struct.unpack_from(">I", png, off + 8 + n)[0]:
            fail(f"PNG chunk {kind!r}: bad CRC")
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack_from(">IIBB", body)
            chans = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
        elif kind == b"IDAT":
            idat += body
        off += 12 + n
    raw = zlib.decompress(idat)
    if len(raw) != h * (1 + w * chans * depth // 8):
        fail(f"PNG {w}x{h}: {len(raw)} bytes of pixel data")
    return w, h, chans


cfg = json.load(open(os.path.join(run, "config.json")))
metrics = [json.loads(l) for l in open(os.path.join(run, "metrics.jsonl"))]
files = sorted(glob.glob(os.path.join(run, "events.out.tfevents.*")))
if len(files) != n_files:
    fail(f"expected {n_files} event files in {run}, found {files}")
host = os.uname().nodename
scalars, images, texts = {}, {}, []
for path in files:
    name = os.path.basename(path)
    parts = name.split(".")
    if not (parts[:3] == ["events", "out", "tfevents"] and parts[3].isdigit() and host.startswith(parts[4])):
        fail(f"file name {name}: expected events.out.tfevents.<unix time>.<host>")
    evs = []
    for data in records(path):
        e = event_pb2.Event()
        e.ParseFromString(data)
        if e.SerializeToString() != data:  # our bytes are canonical protobuf
            fail(f"{name}: record does not re-serialize to the same bytes")
        evs.append(e)
    if not evs or evs[0].WhichOneof("what") != "file_version" or evs[0].file_version != "brain.Event:2":
        fail(f"{name}: the first event must carry file_version brain.Event:2, found {evs[:1]}")
    if abs(evs[0].wall_time - int(parts[3])) > 5:
        fail(f"{name}: wall_time {evs[0].wall_time} far from the name's time")
    for e in evs[1:]:
        if e.WhichOneof("what") != "summary" or len(e.summary.value) != 1:
            fail(f"{name}: expected one summary value per event, found {e}")
        v = e.summary.value[0]
        kind = v.WhichOneof("value")
        if kind == "simple_value":
            scalars.setdefault(v.tag, {})[e.step] = v.simple_value
        elif kind == "image":
            images[(v.tag, e.step)] = v.image
        elif kind == "tensor":
            texts.append((e.step, v))
        else:
            fail(f"{name}: unexpected value {kind} for {v.tag}")

epochs = len(metrics)
total = epochs * steps_per_epoch
want_tags = {"train/loss", "train/lr", "train/grad_norm", "train/examples_per_sec", "valid/nll",
             "valid/bits_per_dim", "train/epoch_loss", "epoch"}
has_elbo = "valid_neg_elbo" in metrics[0]  # models with a bound (and an encoder/decoder: reconstructions)
if has_elbo:
    want_tags.add("valid/neg_elbo")
has_temp = "temperature" in metrics[0]  # models with a relaxation temperature
if has_temp:
    want_tags |= {"train/temperature", "valid/temperature"}
if set(scalars) != want_tags:
    fail(f"scalar tags {sorted(scalars)}, expected {sorted(want_tags)}")
log_steps = list(range(log_every, total + 1, log_every))
for tag in ("train/loss", "train/lr", "train/grad_norm", "train/examples_per_sec") + (("train/temperature",) if has_temp else ()):
    if sorted(scalars[tag]) != log_steps:
        fail(f"{tag} at steps {sorted(scalars[tag])}, expected {log_steps}")
    if not all(math.isfinite(x) and x > 0 for x in scalars[tag].values()):
        fail(f"{tag}: expected positive finite values, found {scalars[tag]}")
if any(abs(x - cfg["lr"]) > 1e-6 * cfg["lr"] for x in scalars["train/lr"].values()):
    fail(f"train/lr {scalars['train/lr']} != config lr {cfg['lr']}")
f32 = lambda x: struct.unpack("<f", struct.pack("<f", x))[0]  # noqa: E731
for m in metrics:
    step = m["epoch"] * steps_per_epoch
    for tag, key in (("valid/nll", "valid_nll"), ("valid/bits_per_dim", "valid_bits_per_dim"),
                     ("train/epoch_loss", "train_loss")) + ((("valid/neg_elbo", "valid_neg_elbo"),) if has_elbo else ()) + \
                    ((("valid/temperature", "temperature"),) if has_temp else ()):
        got = scalars[tag].get(step)
        if got is None or abs(got - f32(m[key])) > 1e-5 * abs(m[key]) + 1e-6:
            fail(f"{tag} at step {step}: {got}, metrics.jsonl says {m[key]}")
    if scalars["epoch"].get(step) != m["epoch"]:
        fail(f"epoch scalar at step {step}: {scalars['epoch'].get(step)}")
    if steps_per_epoch % log_every == 0:  # windows tile the epoch: their mean is the epoch's loss
        w = [scalars["train/loss"][s] for s in range(step - steps_per_epoch + log_every, step + 1, log_every)]
        if abs(sum(w) / len(w) - m["train_loss"]) > 1e-4 * m["train_loss"]:
            fail(f"epoch {m['epoch']}: mean of train/loss {w} != train_loss {m['train_loss']}")
    for tag, stem in (("samples", "epoch"), ("reconstructions", "recon-epoch"))[:2 if has_elbo else 1]:
        img = images.get((tag, step))
        if img is None:
            fail(f"no {tag} image at step {step}; images at {sorted(images)}")
        w, h, chans = png_size(img.encoded_image_string)
        if (w, h) != (img.width, img.height) or img.colorspace != {1: 1, 3: 3}[chans]:
            fail(f"image {img.width}x{img.height} colorspace {img.colorspace}, PNG is {w}x{h}x{chans}")
        name = f"{stem}-{m['epoch']:03d}.png"
        if open(os.path.join(run, "samples", name), "rb").read() != img.encoded_image_string:
            fail(f"{tag} image at step {step} differs from samples/{name}")
if len(images) != epochs * (2 if has_elbo else 1):
    fail(f"{len(images)} images for {epochs} epochs")
if len(texts) != n_files:
    fail(f"expected the config as text once per file, found {len(texts)}")
for step, v in texts:
    t = v.tensor
    if v.tag != "config" or v.metadata.plugin_data.plugin_name != "text" or t.dtype != 7 or len(t.string_val) != 1:
        fail(f"text summary: {v}")
    logged = json.loads(t.string_val[0].decode())
    if len(t.tensor_shape.dim) != 0 or {**logged, "epochs": 0} != {**cfg, "epochs": 0}:  # --resume --epochs may change it
        fail(f"text summary at step {step}: not config.json as a rank-0 string: {t.string_val[0][:200]!r}")
print(f"events: ok ({len(files)} files, {sum(len(s) for s in scalars.values())} scalars, {len(images)} images, "
      f"{len(texts)} texts)")
