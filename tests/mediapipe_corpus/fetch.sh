#!/usr/bin/env bash
# Fetches the pinned MediaPipe wheel from the Python package index (pip, checked against the
# sha256 below) into a cache and unpacks its models (`mediapipe/modules/**/*.tflite`), then
# checks each model against the sha256 in tests/mediapipe_corpus/manifest.json.
# Prints the models' folder; `tests/mediapipe_corpus.rs` reads it from
# TFLITE_MEDIAPIPE_MODELS or this same default.
# Usage: bash tests/mediapipe_corpus/fetch.sh   (needs python3 with pip, and unzip or python3)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version=0.10.14
wheel=mediapipe-0.10.14-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
sha256=a807328339e7356fda0bb14df12fedbf1d33bdf81649c5f8666b0026b1cc30b4
# The models are the same in every platform's wheel; this one is fetched whatever the machine.
cache="${XDG_CACHE_HOME:-$HOME/.cache}/tflite-rs/mediapipe-$version"
models="${TFLITE_MEDIAPIPE_MODELS:-$cache/models}"
mkdir -p "$cache"
if [ ! -f "$cache/$wheel" ]; then
  echo "mediapipe corpus: downloading $wheel" >&2
  printf 'mediapipe==%s --hash=sha256:%s\n' "$version" "$sha256" > "$cache/requirements.txt"
  python3 -m pip download --quiet --no-deps --require-hashes --only-binary=:all: \
    --platform manylinux2014_x86_64 --python-version 3.11 --implementation cp --abi cp311 \
    -r "$cache/requirements.txt" -d "$cache/download"
  mv "$cache/download/$wheel" "$cache/$wheel"
fi
echo "$sha256  $cache/$wheel" | sha256sum -c --quiet -
python3 - "$cache/$wheel" "$models" "$here/manifest.json" <<'PY'
import hashlib, json, os, sys, zipfile
wheel, out, manifest = sys.argv[1:]
want = json.load(open(manifest))["models"]
os.makedirs(out, exist_ok=True)
with zipfile.ZipFile(wheel) as z:
    names = sorted(n for n in z.namelist() if n.startswith("mediapipe/modules/") and n.endswith(".tflite"))
    found = {os.path.basename(n)[: -len(".tflite")]: n for n in names}
    if sorted(found) != sorted(want):
        sys.exit("mediapipe corpus: the wheel's models %s differ from the manifest's %s" % (sorted(found), sorted(want)))
    for name, member in found.items():
        data = z.read(member)
        digest = hashlib.sha256(data).hexdigest()
        if digest != want[name]["sha256"]:
            sys.exit("mediapipe corpus: %s has sha256 %s, the manifest says %s" % (member, digest, want[name]["sha256"]))
        with open(os.path.join(out, name + ".tflite"), "wb") as f:
            f.write(data)
PY
echo "$models"
