#!/bin/bash
# Colour images on real data: 70 CIFAR-10 JPEGs unpacked by name from
# ../shared/data/cifar10-jpeg (skipped when it is absent), read as an image folder and
# as TF-Slim TFRecords written by `latent tfrecord convert`, with every decoded pixel
# equal to python3-pil's Image.open(f).convert('RGB'); the bad inputs a user meets
# (exit 2, one line naming the file, nothing written); a colour grid read back by PIL;
# and a 1-epoch `latent train --model vae` on the folder with --augment, colour
# sample/reconstruction grids whose originals are the validation images.
set -euo pipefail
: "${LATENT:?}" "${LT_SOURCE_DIR:?}"
. "$LT_SOURCE_DIR/tests/lib/python.sh"
# the project's shared data: beside the checkout (../shared), or beside a worktree's parent
tar=""
for s in "${LT_SHARED_DIR:-}" "$LT_SOURCE_DIR/../shared" "$LT_SOURCE_DIR/../../shared"; do
    [ -n "$s" ] && [ -f "$s/data/cifar10-jpeg/cifar10-jpeg.tar.gz" ] && { tar="$s/data/cifar10-jpeg/cifar10-jpeg.tar.gz"; break; }
done
[ -n "$tar" ] || lt_skip "CIFAR-10 JPEG tarball not found: ../shared/data/cifar10-jpeg/cifar10-jpeg.tar.gz (or LT_SHARED_DIR)"
lt_python_or_skip "python3 with PIL and numpy needed (Debian: python3-pil python3-numpy)" PIL numpy
lt_tool img_tool
lt_tmpdir images_cifar
cd "$T"

classes="airplane automobile bird cat deer dog frog horse ship truck"
for c in $classes; do
    for i in 0000 0001 0002 0003 0004; do echo "train/$c/$i.jpg"; done
    for i in 0000 0001; do echo "test/$c/$i.jpg"; done
done > members
mkdir cifar
tar -xzf "$tar" -C cifar -T members
[ "$(find cifar -name '*.jpg' | wc -l)" = 70 ] && ok "unpacked 70 named members" || bad "unpacking"

# --- pixels equal PIL's, in the documented order, from the folder and from TFRecords
"$TOOL" dump cifar folder.dump
mkdir tf out
"$LATENT" tfrecord convert --from cifar --to tf/cifar --shards 3 2> convert.err
"$TOOL" dump tfrecord:tf/cifar tfrecord.dump
cat > check.py <<'EOF'
import os, sys
import numpy as np
from PIL import Image

def load(path):
    d = open(path, 'rb').read()
    pos, out = 0, {}
    for _ in range(3):
        nl = d.index(b'\n', pos)
        name, n, c, h, w = d[pos:nl].split()
        n, c, h, w = int(n), int(c), int(h), int(w)
        pos = nl + 1
        x = np.frombuffer(d[pos:pos + n * c * h * w], np.uint8).reshape(n, c, h, w)
        pos += n * c * h * w
        out[name.decode()] = (x, np.frombuffer(d[pos:pos + n], np.uint8))
        pos += n
    return out, d[pos:].decode().split('\n')

root = sys.argv[1]
classes = sorted(os.listdir(root + '/train'))
def interleave(lists):  # the first file of every class, then the second, ...
    return [(c, l[r]) for r in range(max(map(len, lists))) for c, l in enumerate(lists) if r < len(l)]
train, valid = [], []
for c in classes:
    fs = sorted(os.listdir('%s/train/%s' % (root, c)))
    v = -(-len(fs) // 10) if len(fs) >= 2 else 0   # the last ceil(n/10) are validation
    train.append(['train/%s/%s' % (c, f) for f in fs[:len(fs) - v]])
    valid.append(['train/%s/%s' % (c, f) for f in fs[len(fs) - v:]])
test = [['test/%s/%s' % (c, f) for f in sorted(os.listdir('%s/test/%s' % (root, c)))] for c in classes]
want = {'train': interleave(train), 'valid': interleave(valid), 'test': interleave(test)}
bad = 0
for dump in sys.argv[2:]:
    got, tail = load(dump)
    if dump == 'folder.dump' and tail[:11] != ['classes 10'] + classes:
        print('class names', tail); bad += 1
    for split, files in want.items():
        x, y = got[split]
        if len(x) != len(files):
            print(dump, split, len(x), 'examples, expected', len(files)); bad += 1; continue
        for i, (label, f) in enumerate(files):
            ref = np.asarray(Image.open(os.path.join(root, f)).convert('RGB')).transpose(2, 0, 1)
            if y[i] != label or x[i].shape != ref.shape or not (x[i] == ref).all():
                print(dump, split, i, f, 'label', y[i], label, 'pixels differ'); bad += 1
print('checked', sum(map(len, want.values())), 'images per source')
sys.exit(1 if bad else 0)
EOF
if "$PY" check.py cifar folder.dump tfrecord.dump > check.out; then
    ok "folder and TFRecord pixels equal PIL's, labels and order as documented ($(cat check.out))"
else
    bad "pixels or order differ from PIL's:"; cat check.out
fi
[ "$(cat tf/labels.txt | tr '\n' ' ')" = "0:airplane 1:automobile 2:bird 3:cat 4:deer 5:dog 6:frog 7:horse 8:ship 9:truck " ] \
    && ok "labels.txt in TF-Slim's format" || bad "labels.txt: $(cat tf/labels.txt)"
ls tf/cifar-train-0000[0-2]-of-00003 tf/cifar-valid-00002-of-00003 tf/cifar-test-00002-of-00003 > /dev/null \
    && ok "sharded as PREFIX-split-NNNNN-of-00003" || bad "shard names: $(ls tf)"
# image/encoded holds the file's own bytes, beside the TF-Slim keys
"$LATENT" tfrecord cat --json --limit 1 tf/cifar-test-00000-of-00003 > rec.json
"$PY" - rec.json cifar <<'EOF' && ok "image/encoded is the file's bytes; TF-Slim keys present" || bad "record layout"
import base64, json, sys
f = json.load(open(sys.argv[1]))['features']['feature']
name = base64.b64decode(f['image/filename']['bytesList']['value'][0]).decode()
assert name == 'test/airplane/0000.jpg', name
assert base64.b64decode(f['image/encoded']['bytesList']['value'][0]) == open(sys.argv[2] + '/' + name, 'rb').read()
assert base64.b64decode(f['image/format']['bytesList']['value'][0]) == b'JPEG'
assert f['image/class/label']['int64List']['value'] == ['0']
for k in ('image/height', 'image/width', 'image/channels'):
    assert f[k]['int64List']['value'] == [('3' if k == 'image/channels' else '32')], k
EOF

# --- bad input: exit 2, one line naming the file and what was expected, nothing written
expect_fail() { # what message-substring command...
    local what=$1 want=$2; shift 2
    set +e; "$@" > /dev/null 2> err; local rc=$?; set -e
    if [ $rc -eq 2 ] && grep -qF -- "$want" err && [ "$(wc -l < err)" = 1 ]; then ok "$what: exit 2, $(cat err)"
    else bad "$what: exit $rc, expected 2 and '$want':"; cat err; fi
}
variant() { rm -rf v; cp -r cifar v; }
variant; head -c 500 cifar/train/cat/0000.jpg > v/train/cat/0000.jpg
expect_fail "truncated JPEG" "v/train/cat/0000.jpg: corrupt JPEG: Premature end of JPEG file" \
    "$LATENT" tfrecord convert --from v --to out/v --shards 2
[ -z "$(ls -A out 2>/dev/null)" ] && ok "convert left nothing in out/" || bad "convert left: $(ls -A out)"
expect_fail "truncated JPEG (train)" "v/train/cat/0000.jpg: corrupt JPEG" "$LATENT" train --model vae --data v --out r_bad
[ ! -e r_bad ] && ok "train left no run folder" || bad "train created r_bad"
variant; "$PY" -c "from PIL import Image; Image.open('v/test/dog/0001.jpg').convert('L').save('v/test/dog/0001.jpg')"
expect_fail "grey image among colour" "v/test/dog/0001.jpg: expected a 32x32 image with 3 channels like v/train/airplane/0000.jpg, found 32x32 with 1" \
    "$LATENT" tfrecord convert --from v --to out/v
variant; "$PY" -c "from PIL import Image; Image.open('v/train/dog/0002.jpg').resize((28, 28)).save('v/train/dog/0002.png')"
expect_fail "wrong size" "v/train/dog/0002.png: expected a 32x32 image with 3 channels" \
    "$LATENT" train --model vae --data v --out r_bad
variant; mkdir v/test/zebra; cp cifar/test/cat/0000.jpg v/test/zebra/
expect_fail "unknown test class" "v/test/zebra: expected one of the 10 training classes (airplane, ..., truck), found class 'zebra'" \
    "$LATENT" tfrecord convert --from v --to out/v
variant; mkdir v/train/zebra
expect_fail "empty class folder" "v/train/zebra: expected at least one .jpg, .jpeg or .png image in the class folder, found none" \
    "$LATENT" train --model vae --data v --out r_bad
expect_fail "bad --augment" "--augment crop:0: expected a list of crop:P" \
    "$LATENT" train --model vae --data cifar --out r_bad --augment crop:0
[ -z "$(ls -A out 2>/dev/null)" ] && [ ! -e r_bad ] && ok "no output after any bad input" || bad "left files: $(ls -A out) $(ls -d r_bad 2>/dev/null)"

# --- a colour grid written by the library, read back by PIL
"$TOOL" grid grid.png
"$PY" - <<'EOF' && ok "colour grid read back by PIL: RGB, 3 columns, gaps black, every pixel" || bad "colour grid"
import numpy as np
from PIL import Image
im = Image.open('grid.png')
assert im.mode == 'RGB' and im.size == (3 * 8 + 1, 2 * 6 + 1), (im.mode, im.size)
a = np.asarray(im)
for k in range(6):
    oy, ox = 1 + (k // 3) * 6, 1 + (k % 3) * 8
    for c in range(3):
        for y in range(5):
            for x in range(7):
                v = (k * 50 + c * 70 + y * 13 + x * 29) % 256
                assert a[oy + y, ox + x, c] == v, (k, c, y, x)
assert (a[0] == 0).all() and (a[:, 0] == 0).all()
EOF

# --- end to end: a VAE on the colour folder, values in [0, 1], augmented training batches
common=(--model vae --hidden 64 --latent 8 --epochs 1 --batch 10 --binarize none --samples 16 --seed 3 --threads 1 --quiet)
"$LATENT" train "${common[@]}" --data cifar --augment flip,crop:4 --out r1 --json > r1.jsonl
"$LATENT" train "${common[@]}" --data tfrecord:tf/cifar --augment crop:4,flip --out r2 --json > r2.jsonl
"$PY" - <<'EOF' && ok "train: config records channels 3, dim 3072, augment; colour grids; originals = validation images" || bad "train run"
import json, os
import numpy as np
from PIL import Image
cfg = json.load(open('r1/config.json'))
mc = cfg['model_config']
assert (mc['channels'], mc['height'], mc['width'], mc['dim']) == (3, 32, 32, 3072), mc
assert cfg['augment'] == 'crop:4,flip' and cfg['binarize'] == 'none', cfg
last = [json.loads(l) for l in open('r1/metrics.jsonl')][-1]
assert last['epoch'] == 1 and last['valid_nll'] == last['valid_nll'], last
s = Image.open('r1/samples/epoch-001.png')
assert s.mode == 'RGB' and s.size == (4 * 33 + 1, 4 * 33 + 1), (s.mode, s.size)
r = np.asarray(Image.open('r1/samples/recon-epoch-001.png'))
assert r.shape == (3 * 33 + 1, 8 * 33 + 1, 3), r.shape  # 10 originals and their 10 reconstructions, 8 a row
# row 0 of the reconstruction grid: the first 8 validation images (train/<class>/0004.jpg)
classes = sorted(os.listdir('cifar/train'))
for k in range(8):
    ref = np.asarray(Image.open('cifar/train/%s/0004.jpg' % classes[k]).convert('RGB'))
    assert (r[1:33, 1 + 33 * k:33 + 33 * k] == ref).all(), k
EOF
a=$(tail -1 r1.jsonl | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["train_loss"], d["valid_nll"])')
b=$(tail -1 r2.jsonl | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["train_loss"], d["valid_nll"])')
[ "$a" = "$b" ] && ok "tfrecord:PREFIX (no feature spec) trains bit-equal to the folder: train loss, valid NLL $a" \
    || bad "train loss, valid NLL: folder $a, tfrecord $b"
"$LATENT" train "${common[@]}" --data cifar --out r3 --json > r3.jsonl
[ "$(head -1 r3.jsonl | cut -d, -f3)" != "$(head -1 r1.jsonl | cut -d, -f3)" ] \
    && ok "augmentation changes the training loss ($(head -1 r3.jsonl | cut -d, -f3) without,$(head -1 r1.jsonl | cut -d, -f3) with)" \
    || bad "augmentation had no effect"
lt_finish test_images_cifar
