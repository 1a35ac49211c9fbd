#!/bin/bash
# latent fd and latent compare with --temperature/--top-k/--top-p for a prior over codes (gpt) decoded
# through its stage one (a tiny VQ-VAE on tests/py/write_idx.py's 8x8 images, 2x2 codes, K 16, which is
# also the feature space): --top-k 1 (argmax) draws the same samples for every seed, so FD_self is equal
# across seeds, where temperature 1 is not; the neutral filter given explicitly is the unfiltered draw;
# temperature 0.5 changes it; --json and the human line record the filter; the flags on a fake set that
# is not a prior's samples (a pixel model's run, a data source, --recon, compare with such a run) and
# bad values exit 2 with one line.
set -uo pipefail
: "${LATENT:?set LATENT to the latent binary}" "${LT_SOURCE_DIR:?}"
. "$(dirname "${BASH_SOURCE[0]}")/lib/python.sh"
lt_python_or_skip "needs a python3 to read JSON" json
lt_tmpdir fd_sampling
L() { "$LATENT" "$@" --threads 1; }
expect2() { # WHAT, then the command: exit 2 and one "latent" line
    local what=$1; shift
    "$@" > /dev/null 2> "$T/err"
    local rc=$?
    [ $rc = 2 ] && [ "$(wc -l < "$T/err")" = 1 ] && grep -q "^latent" "$T/err" && ok "$what: exit 2, $(cat "$T/err")" ||
        bad "$what: exit $rc, $(head -c 300 "$T/err")"
}
$PY "$LT_SOURCE_DIR/tests/py/write_idx.py" "$T/d" 200 50 50 8 || bad "write the data set"
L train --model vqvae --data "$T/d" --hidden 16 --res-hidden 8 --codes 16 --code-dim 4 --downsample 4 --batch 32 \
    --epochs 1 --samples 0 --quiet --out "$T/vq" || bad "train the stage one"
L train --model gpt --codes-of "$T/vq" --layers 1 --heads 2 --width 16 --batch 16 --epochs 1 --samples 0 --quiet \
    --out "$T/gpt" || bad "train the prior"

FD() { L fd --encoder "$T/vq" --real "$T/d" --fake "$T/gpt" -n 50 --json "$@"; }
FD --seed 1 > "$T/s1.json" && FD --seed 2 > "$T/s2.json" && FD --seed 1 --top-k 1 > "$T/k1.json" &&
    FD --seed 2 --top-k 1 > "$T/k2.json" && FD --seed 1 --temperature 1 --top-k 0 --top-p 1 > "$T/n1.json" &&
    FD --seed 1 --temperature 0.5 > "$T/t05.json" && FD --seed 1 --top-k 3 --top-p 0.9 --temperature 0.8 > "$T/all.json" ||
    bad "fd with the filters: $(cat "$T/err" 2> /dev/null)"
$PY - "$T" <<'PY' && ok "fd: top-k 1 equal across seeds, temperature 1 not; neutral flags = none; 0.5 differs; recorded" ||
import json, sys
r = {k: json.load(open("%s/%s.json" % (sys.argv[1], k))) for k in ("s1", "s2", "k1", "k2", "n1", "t05", "all")}
fd = {k: v["fd_self"] for k, v in r.items()}
assert fd["k1"] == fd["k2"], ("top-k 1 is argmax: the same samples for every seed", fd)
assert fd["s1"] != fd["s2"], ("temperature 1: other samples for another seed", fd)
assert fd["n1"] == fd["s1"] and r["n1"]["kid_self"] == r["s1"]["kid_self"], ("the neutral filter", fd)
assert fd["t05"] != fd["s1"], ("temperature 0.5 reaches the sampler", fd)
none = {"temperature": 1.0, "top_k": 0, "top_p": 1.0}
assert r["s1"]["sampling"] == none and r["n1"]["sampling"] == none, r["s1"]
assert r["k1"]["sampling"] == dict(none, top_k=1) and r["t05"]["sampling"] == dict(none, temperature=0.5)
assert r["all"]["sampling"] == {"temperature": 0.8, "top_k": 3, "top_p": 0.9}, r["all"]["sampling"]
PY
    bad "fd: $(cat "$T"/{s1,s2,k1,k2,n1,t05,all}.json)"
L fd --encoder "$T/vq" --real "$T/d" --fake "$T/gpt" -n 50 --temperature 0.9 --top-k 7 > "$T/human" 2> "$T/err" &&
    grep -q "fake: 50 samples (temperature 0.9, top-k 7, top-p 1) from" "$T/human" && ok "fd: the human line says the filter" ||
    bad "fd human: $(cat "$T/human" "$T/err")"
L fd --encoder "$T/vq" --real "$T/d" --fake "$T/vq" -n 50 --json > "$T/vqs.json" 2> "$T/err" &&
    $PY -c 'import json,sys; assert "sampling" not in json.load(open(sys.argv[1]))' "$T/vqs.json" &&
    ok "fd: no sampling record for a pixel model's samples" || bad "fd pixel samples: $(cat "$T/vqs.json" "$T/err")"

# compare shares the sampling path: argmax for every seed there too, recorded per run
C() { L compare "$T/gpt" --encoder "$T/vq" --data "$T/d" -n 50 --json "$@"; }
C --seed 1 --top-k 1 > "$T/c1.json" && C --seed 2 --top-k 1 > "$T/c2.json" && C --seed 2 > "$T/c3.json" ||
    bad "compare with the filters"
$PY - "$T" <<'PY' && ok "compare: top-k 1 equal across seeds, temperature 1 not; per-run sampling record" ||
import json, sys
c1, c2, c3 = (json.load(open("%s/%s.json" % (sys.argv[1], k)))["runs"][0] for k in ("c1", "c2", "c3"))
assert c1["fd_self"] == c2["fd_self"] != c3["fd_self"], (c1, c2, c3)
assert c1["sampling"] == {"temperature": 1.0, "top_k": 1, "top_p": 1.0} and c3["sampling"]["top_k"] == 0
PY
    bad "compare: $(cat "$T"/c{1,2,3}.json)"

expect2 "fd --top-k on a pixel model's run" L fd --encoder "$T/vq" --real "$T/d" --fake "$T/vq" -n 50 --top-k 1
expect2 "fd --temperature on a data source" L fd --encoder "$T/vq" --real "$T/d" --fake "$T/d" -n 50 --temperature 0.9
expect2 "fd --top-p with --recon" L fd --encoder "$T/vq" --real "$T/d" --fake "$T/vq" --recon -n 50 --top-p 0.9
expect2 "fd --top-k over the vocabulary" FD --top-k 17
expect2 "fd --temperature 0" FD --temperature 0
expect2 "fd --top-p 1.5" FD --top-p 1.5
expect2 "fd --top-k -1" FD --top-k -1
expect2 "compare --top-k with a pixel model among the runs" C "$T/vq" --top-k 1
expect2 "sample --top-k on a pixel model (the shared parser)" L sample "$T/vq" -n 4 -o "$T/x.png" --top-k 1
lt_finish test_fd_sampling
