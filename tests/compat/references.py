#!/usr/bin/env python3
"""Google's reference outputs for the compatibility corpus, on both of its kernel paths.

For every converted model in manifest.json, runs `ai_edge_litert` on the committed input
(`<layer>.x.npy`), once on its builtin kernels (`BUILTIN_WITHOUT_DEFAULT_DELEGATES`) and once
with its default XNNPACK delegate, one thread each, and writes `<key>.litert.npy` and
`<key>.litert_xnnpack.npy` (float32). `tests/compat.rs` holds this crate's builtin run to the
first and its XNNPACK run to the second. Needs only the runtime, not TensorFlow:

    python3 -m venv venv && venv/bin/pip install -r tests/compat/requirements.txt
    venv/bin/python tests/compat/references.py

`make_corpus.py` converts the models (and writes the builtin reference the same way).
"""
import json
import os

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType

HERE = os.path.dirname(os.path.abspath(__file__))


def run(path, x, resolver):
    it = Interpreter(model_path=path, num_threads=1, experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"]).astype(np.float32)


def main():
    with open(os.path.join(HERE, "manifest.json")) as f:
        manifest = json.load(f)
    paths = {
        "litert": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        "litert_xnnpack": OpResolverType.AUTO,
    }
    for key, entry in manifest.items():
        if entry.get("litert") != "ran":
            continue
        x = np.load(os.path.join(HERE, key.split(".")[0] + ".x.npy"))
        for suffix, resolver in paths.items():
            y = run(os.path.join(HERE, key + ".tflite"), x, resolver)
            out = os.path.join(HERE, f"{key}.{suffix}.npy")
            if suffix == "litert" and os.path.exists(out):
                old = np.load(out)
                if old.shape != y.shape or not np.array_equal(old, y, equal_nan=True):
                    print(f"{key}: the builtin reference changed", flush=True)
            np.save(out, y)
        print(key, flush=True)


if __name__ == "__main__":
    main()
