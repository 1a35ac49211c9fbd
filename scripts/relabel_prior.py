# Copy a prior run and point it at another stage one whose codes are identical (a
# --trunk-from run: the same frozen encoder and codebook): config.json and the "config"
# metadata of checkpoints/best.safetensors get the new stage1 path; tensors unchanged.
import json, os, shutil, struct, sys
src, dst, old, new = sys.argv[1:5]
os.makedirs(dst + "/checkpoints")
c = json.load(open(src + "/config.json"))
assert c["model_config"]["stage1"] == old, c["model_config"]["stage1"]
c["model_config"]["stage1"] = new
c["data"] = "codes-of:" + new
json.dump(c, open(dst + "/config.json", "w"), indent=2)
b = open(src + "/checkpoints/best.safetensors", "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
mc = json.loads(h["__metadata__"]["config"])
assert mc["stage1"] == old
mc["stage1"] = new
h["__metadata__"]["config"] = json.dumps(mc, separators=(",", ":"), sort_keys=True)
hb = json.dumps(h, separators=(",", ":")).encode()
hb += b" " * (-len(hb) % 8)
with open(dst + "/checkpoints/best.safetensors.tmp", "wb") as f:
    f.write(struct.pack("<Q", len(hb)) + hb + b[8 + n:])
os.rename(dst + "/checkpoints/best.safetensors.tmp", dst + "/checkpoints/best.safetensors")
for f in ("metrics.jsonl", "eval.json"):
    if os.path.exists(src + "/" + f): shutil.copy(src + "/" + f, dst + "/" + f)
