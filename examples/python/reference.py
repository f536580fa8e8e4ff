#!/usr/bin/env python3
"""Google's runtime on a .tflite model: the reference for `run_model --compare` and for
`benches/compare.py`'s side-by-side timings.

    python3 examples/python/reference.py MODEL --out DIR [--input FILE.npy ...] [--seed S]
                                         [--threads N] [--no-xnnpack]
                                         [--runtime ai_edge_litert|tflite_runtime] [--bench N]

Writes DIR/input_K.npy (the given inputs, or seeded random ones: floats uniform in [-1, 1),
integers in [-100, 100) clipped to the type) and DIR/output_K.npy (the runtime's outputs).
Then `run_model MODEL --input DIR/input_0.npy ... --compare DIR` exits 0 only if ours agree.
With `--bench N`, then N more invokes, timed one by one, and one line:
`bench runtime=… version=… threads=… median_ms=… min_ms=… max_ms=…`.
Needs `pip install ai-edge-litert` (pinned in examples/python/requirements.txt and
benches/requirements-litert.txt), or for `--runtime tflite_runtime` the venv of
benches/requirements-tflite-runtime-2.14.txt.
"""
import argparse
import os
import time

import numpy as np


def random_input(detail, rng):
    shape = [max(int(d), 1) for d in detail["shape"]]
    dtype = np.dtype(detail["dtype"])
    if np.issubdtype(dtype, np.floating):
        return rng.uniform(-1.0, 1.0, shape).astype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(dtype)
    lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max
    return rng.integers(max(lo, -100), min(hi, 100), shape).astype(dtype)


def runtime_module(name):
    """The runtime's interpreter module and its installed version."""
    from importlib import metadata
    if name == "ai_edge_litert":
        from ai_edge_litert import interpreter
    else:
        from tflite_runtime import interpreter
    try:
        return interpreter, metadata.version(name.replace("_", "-"))
    except metadata.PackageNotFoundError:  # importable without its metadata (a PYTHONPATH)
        return interpreter, "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--out", required=True)
    ap.add_argument("--input", action="append", default=[])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-xnnpack", action="store_true")
    ap.add_argument("--runtime", default="ai_edge_litert", choices=["ai_edge_litert", "tflite_runtime"])
    ap.add_argument("--bench", type=int, default=0, metavar="N")
    a = ap.parse_args()
    interpreter, version = runtime_module(a.runtime)
    resolver = (interpreter.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if a.no_xnnpack
                else interpreter.OpResolverType.AUTO)
    it = interpreter.Interpreter(model_path=a.model, num_threads=a.threads,
                                 experimental_op_resolver_type=resolver)
    details = it.get_input_details()
    rng = np.random.default_rng(a.seed)
    inputs = [np.load(p) for p in a.input] or [random_input(d, rng) for d in details]
    if len(inputs) != len(details):
        raise SystemExit(f"the model has {len(details)} inputs, {len(inputs)} given")
    for d, x in zip(details, inputs):
        if list(x.shape) != list(d["shape"]):
            it.resize_tensor_input(d["index"], list(x.shape))
    it.allocate_tensors()
    for d, x in zip(details, inputs):
        it.set_tensor(d["index"], x)
    it.invoke()
    os.makedirs(a.out, exist_ok=True)
    for k, x in enumerate(inputs):
        np.save(os.path.join(a.out, f"input_{k}.npy"), x)
    for k, d in enumerate(it.get_output_details()):
        np.save(os.path.join(a.out, f"output_{k}.npy"), it.get_tensor(d["index"]))
    print(f"reference: {len(inputs)} inputs, {len(it.get_output_details())} outputs in {a.out}")
    if a.bench > 0:
        times = []
        for _ in range(a.bench):
            t = time.perf_counter()
            it.invoke()
            times.append((time.perf_counter() - t) * 1e3)
        print(f"bench runtime={a.runtime} version={version} threads={a.threads} "
              f"median_ms={np.median(times):.4f} min_ms={min(times):.4f} max_ms={max(times):.4f}")


if __name__ == "__main__":
    main()
