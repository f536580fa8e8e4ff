#!/usr/bin/env bash
# Regenerates BENCHMARKS.md from this checkout alone: this crate's `run_model --bench` side by
# side with Google's ai_edge_litert and tflite_runtime 2.14 (benches/compare.py: interleaved
# rounds, the median of the per-round medians), on the benchmark models, the digits models and
# MediaPipe's models.
#
#   bash benches/compare.sh                          # everything: the committed table
#   bash benches/compare.sh --models digits_float32 --rounds 1 --out /tmp/b.md   # a quick check
#
# Arguments go to benches/compare.py (--models, --rounds, --threads, --out). Steps, each
# skipped when already done:
#   1. two venvs, one per Python runtime, from the hash-pinned benches/requirements-litert.txt and
#      benches/requirements-tflite-runtime-2.14.txt (tflite_runtime 2.14 needs NumPy 1, the
#      litert side NumPy 2), in $BENCH_VENVS (default ${XDG_CACHE_HOME:-~/.cache}/tflite-rs/
#      bench-venvs), one folder per requirements file's sha256, reused while the file is unchanged;
#   2. `cargo build --release --example run_model` (the native build comes from the tflite-sys
#      cache when there is one);
#   3. MediaPipe's models (tests/mediapipe_corpus/fetch.sh; BENCH_NO_MEDIAPIPE=1 leaves them out);
#   4. the benchmark models (benches/make_bench_models.py, in the litert venv), if a selected
#      one is missing; then the comparison, which rewrites the table and header of BENCHMARKS.md
#      and keeps its hand-written notes.
# Needs CPython 3.11 (`python3`, or BENCH_PYTHON=/path/to/python3.11) with venv and pip, on
# Linux x86-64: the pins' wheels are for it. Other work on the machine skews the timings.
set -euo pipefail
shopt -s inherit_errexit  # the venv function runs in $(…): a failed pip check must stop it
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

py="${BENCH_PYTHON:-python3}"
pyver="$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ "$pyver" != 3.11 ]; then
  echo "compare.sh: $py is Python $pyver; the pinned wheels (tflite-runtime 2.14.0 among them) are" \
    "for CPython 3.11: set BENCH_PYTHON to a python3.11" >&2
  exit 1
fi
venvs="${BENCH_VENVS:-${XDG_CACHE_HOME:-$HOME/.cache}/tflite-rs/bench-venvs}"

# The venv for requirements file $1, made once; prints its python.
venv() {
  local req="$1" key dir
  key="$(sha256sum "$req" | cut -c1-16)"
  dir="$venvs/$(basename "$req" .txt)-py$pyver-$key"
  if [ ! -f "$dir/.complete" ]; then
    echo "compare.sh: making the venv of $req in $dir" >&2
    rm -rf "$dir"
    "$py" -m venv "$dir"
    "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
      --require-hashes --only-binary=:all: -r "$req" >&2
    "$dir/bin/python" -m pip check --disable-pip-version-check >&2
    touch "$dir/.complete"
  fi
  echo "$dir/bin/python"
}
litert="$(venv benches/requirements-litert.txt)"
tfl214="$(venv benches/requirements-tflite-runtime-2.14.txt)"

cargo build --release --example run_model

mediapipe=()
if [ "${BENCH_NO_MEDIAPIPE:-0}" != 1 ]; then
  mediapipe=(--mediapipe "$(bash tests/mediapipe_corpus/fetch.sh)")
fi

exec "$litert" benches/compare.py --litert-python "$litert" --tfl214-python "$tfl214" \
  "${mediapipe[@]}" "$@"
