#!/usr/bin/env python3
"""References for the MediaPipe corpus: the models of a pinned `mediapipe` wheel (fetched by
`tests/mediapipe_corpus/fetch.sh`, not committed), run by Google's current runtime
(`ai_edge_litert`) on one deterministic input each. `tests/mediapipe_corpus.rs` runs every
model with this crate and compares.

    bash tests/mediapipe_corpus/fetch.sh            # prints the models' folder
    venv/bin/python tests/mediapipe_corpus/make_references.py MODELS_DIR
        (venv: examples/python/requirements.txt)

The input of a model with one float32 image input [1, H, W, C] is the integer pattern
v(y, x, c) = ((x*x + y*y) // 16 + 64*c + (x*y) // 32) % 256, divided by 255 in float32: rings
and texture, computed exactly alike here and in Rust.

The reference is `ai_edge_litert` on its builtin kernels (`BUILTIN_WITHOUT_DEFAULT_DELEGATES`),
or, for the models with MediaPipe's Convolution2DTransposeBias (which only Google's XNNPACK
delegate has), with its default XNNPACK delegate.
No runtime of Google's runs `face_landmark_with_attention` (MediaPipe's Landmarks2TransformMatrix,
TransformTensorBilinear and TransformLandmarks are not in it); its reference is computed op by
op: the custom operators are cut out of the graph (their outputs become graph inputs, their
inputs graph outputs), `ai_edge_litert` runs the rest, and the NumPy implementations of
`examples/mediapipe_ops/make_transform_model.py` (float64, written from the ops' definition)
compute the custom ops from what it returned; repeated until nothing changes (the graph is
acyclic, so a few rounds settle it exactly).

Writes tests/mediapipe_corpus/manifest.json (each model's sha256, input and output shapes, how
its reference was made) and `<model>.out<K>.npy`.
"""
import glob
import hashlib
import json
import os
import sys

import flatbuffers
import flatbuffers.flexbuffers as flex
import numpy as np
from ai_edge_litert import schema_py_generated as s
from ai_edge_litert.interpreter import Interpreter, OpResolverType

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "examples", "mediapipe_ops"))
import make_transform_model as mp  # noqa: E402

WHEEL = "mediapipe==0.10.14"
CUSTOM = {"Landmarks2TransformMatrix", "TransformTensorBilinear", "TransformLandmarks"}


def pattern(shape):
    _, h, w, c = shape
    y, x, k = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
    v = ((x * x + y * y) // 16 + 64 * k + (x * y) // 32) % 256
    return (v.astype(np.float32) / np.float32(255))[None]


def interpreter(path=None, content=None, xnnpack=False):
    kind = OpResolverType.AUTO if xnnpack else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    it = Interpreter(model_path=path, model_content=content, experimental_op_resolver_type=kind)
    it.allocate_tensors()
    return it


def run(it, inputs):
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


def custom_name(model, op):
    code = model.operatorCodes[op.opcodeIndex]
    return code.customCode.decode() if code.customCode else None


def op_by_op(path, x):
    """Reference of a model with MediaPipe's transform ops, see the module's docstring."""
    model = s.ModelT.InitFromPackedBuf(open(path, "rb").read(), 0)
    assert len(model.subgraphs) == 1
    g = model.subgraphs[0]
    cut = [op for op in g.operators if custom_name(model, op) in CUSTOM]
    assert cut and all(len(op.outputs) == 1 for op in cut)
    g.operators = [op for op in g.operators if custom_name(model, op) not in CUSTOM]
    outputs = list(g.outputs)
    fed = [int(op.outputs[0]) for op in cut]
    wanted = sorted({int(t) for op in cut for t in op.inputs})
    g.inputs = list(g.inputs) + fed
    g.outputs = outputs + wanted

    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    it = interpreter(content=bytes(b.Output()))
    values = {t: np.zeros(g.tensors[t].shape, np.float32) for t in fed}
    for round_ in range(10):
        got = run(it, [x] + [values[t] for t in fed])
        seen = {int(t): v for t, v in zip(g.outputs, got)}
        seen.update(values)
        new = {}
        for op in cut:
            name = custom_name(model, op)
            ins = [seen[int(t)] for t in op.inputs]
            out = g.tensors[op.outputs[0]]
            if name == "Landmarks2TransformMatrix":
                options = flex.Loads(bytes(op.customOptions))
                r = mp.landmarks_to_matrix(ins[0], options)
            elif name == "TransformTensorBilinear":
                r = mp.transform_tensor_bilinear(ins[0], ins[1], list(out.shape))
            else:
                r = mp.transform_landmarks(ins[0], ins[1])
            new[int(op.outputs[0])] = r.astype(np.float32)
        if all(np.array_equal(new[t], values[t]) for t in fed):
            print("  op by op: settled after %d rounds (%d custom ops)" % (round_, len(cut)))
            return got[: len(outputs)]
        values = new
    sys.exit("%s: the op-by-op reference did not settle" % path)


def main():
    models_dir = sys.argv[1]
    manifest = {"wheel": WHEEL, "models": {}}
    for path in sorted(glob.glob(os.path.join(models_dir, "*.tflite"))):
        name = os.path.basename(path)[: -len(".tflite")]
        data = open(path, "rb").read()
        entry = {"sha256": hashlib.sha256(data).hexdigest()}
        model = s.ModelT.InitFromPackedBuf(data, 0)
        customs = sorted({custom_name(model, op) for g in model.subgraphs for op in g.operators} - {None})
        entry["custom_ops"] = customs
        g = model.subgraphs[0]
        (shape,) = [list(map(int, g.tensors[t].shape)) for t in g.inputs]
        x = pattern(shape)
        entry["input"] = shape
        if CUSTOM & set(customs):
            outs = op_by_op(path, x)
            entry["reference"] = "ai_edge_litert + NumPy transform ops, op by op"
        elif "Convolution2DTransposeBias" in customs:
            # Only Google's XNNPACK delegate has this op, its builtin kernels do not.
            outs = run(interpreter(path, xnnpack=True), [x])
            entry["reference"] = "ai_edge_litert with XNNPACK"
        else:
            outs = run(interpreter(path), [x])
            entry["reference"] = "ai_edge_litert"
        entry["outputs"] = [list(map(int, o.shape)) for o in outs]
        for k, o in enumerate(outs):
            assert o.dtype == np.float32
            np.save(os.path.join(HERE, "%s.out%d.npy" % (name, k)), o)
        manifest["models"][name] = entry
        print(name, entry["reference"], entry["outputs"], "max |out|", max(float(np.abs(o).max()) for o in outs))
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
