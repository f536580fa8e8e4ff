#!/usr/bin/env python3
"""The compatibility corpus: what today's TensorFlow converter writes for common Keras layers,
and what Google's current runtime computes on it. `tests/compat.rs` runs every model with this
crate and compares.

    python3 -m venv venv && venv/bin/pip install -r examples/python/requirements.txt
    venv/bin/python tests/compat/make_corpus.py            # writes tests/compat/
    venv/bin/python tests/compat/make_corpus.py --before PY214
        # also runs every model with PY214 (a Python with tflite-runtime 2.14, numpy<2) and
        # records which ones stock TFLite 2.14 runs ("before" in the README's table)

Each layer (or small block) is exported from Keras 3 as a SavedModel and converted four ways
where the converter allows: float32, float16 weights, dynamic-range, full int8 (float input and
output; a representative dataset of random inputs) and 16x8 (int16 activations, int8 weights). For each model the manifest records the
(op, version) pairs it uses, its `min_runtime_version`, and the reference outputs of
`ai_edge_litert` on its builtin kernels (`BUILTIN_WITHOUT_DEFAULT_DELEGATES`, the kernels this
crate's no-delegate path uses) for one committed random input. All inputs and outputs are
float32 (int32 for embedding ids).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter, OpResolverType
from tensorflow.lite.python import schema_py_generated as schema

HERE = os.path.dirname(os.path.abspath(__file__))
K = tf.keras
L = K.layers
RNG = np.random.default_rng(7)
RNG16 = np.random.default_rng(16)


def seq(shape, *layers, dtype="float32"):
    x = K.Input(shape[1:], batch_size=shape[0], dtype=dtype)
    y = x
    for layer in layers:
        y = layer(y)
    return K.Model(x, y)


def attention():
    x = K.Input((8, 16), batch_size=1)
    y = L.MultiHeadAttention(num_heads=2, key_dim=8)(x, x)
    return K.Model(x, y)


def encoder_block():
    x = K.Input((8, 16), batch_size=1)
    a = L.MultiHeadAttention(num_heads=2, key_dim=8)(x, x)
    h = L.LayerNormalization()(x + a)
    f = L.Dense(16)(L.Dense(32, activation="gelu")(h))
    return K.Model(x, L.LayerNormalization()(h + f))


def split_concat():
    x = K.Input((8, 8, 6), batch_size=1)
    a, b = L.Lambda(lambda t: tf.split(t, 2, axis=-1))(x)
    return K.Model(x, L.Concatenate()([L.ReLU()(a), b * 2.0]))


def reductions():
    x = K.Input((6, 6, 4), batch_size=1)
    m = L.Lambda(lambda t: tf.reduce_max(t, axis=[1, 2]))(x)
    s = L.Lambda(lambda t: tf.reduce_sum(t, axis=[1, 2]))(x)
    return K.Model(x, L.Concatenate()([L.GlobalAveragePooling2D()(x), m, s]))


def elementwise():
    x = K.Input((4, 6, 3), batch_size=1)
    a = L.Lambda(lambda t: tf.exp(-tf.abs(t)) + tf.sqrt(tf.abs(t) + 1.0) * tf.math.log(tf.abs(t) + 2.0))(x)
    b = L.Lambda(lambda t: tf.maximum(t, 0.1) - tf.minimum(t, -0.2) / (tf.abs(t) + 1.0))(x)
    c = L.Lambda(lambda t: tf.tanh(t) * tf.square(t) + tf.sin(t) - tf.cos(t) + tf.math.rsqrt(tf.abs(t) + 1.0))(x)
    return K.Model(x, L.Add()([a, L.Multiply()([b, c]), L.Subtract()([c, a])]))


def activations():
    x = K.Input((8, 8, 4), batch_size=1)
    y = L.Conv2D(4, 1)(x)
    return K.Model(x, L.Concatenate()([L.PReLU()(y), L.LeakyReLU(0.2)(y), L.ELU()(y), L.Activation("hard_swish")(y),
                                       L.Activation("hard_sigmoid")(y), L.Activation("swish")(y), L.ReLU(6.0)(y)]))


def bidirectional():
    x = K.Input((5, 8), batch_size=1)
    return K.Model(x, L.Bidirectional(L.LSTM(4, return_sequences=True))(x))


# name -> (builder, input shape, input dtype)
MODELS = {
    "dense": (lambda: seq((1, 16), L.Dense(8, activation="relu"), L.Dense(4)), (1, 16), "float32"),
    "conv2d": (lambda: seq((1, 12, 12, 3), L.Conv2D(8, 3, activation="relu")), (1, 12, 12, 3), "float32"),
    "depthwise_conv2d": (lambda: seq((1, 12, 12, 4), L.DepthwiseConv2D(3, depth_multiplier=2)), (1, 12, 12, 4), "float32"),
    "separable_conv2d": (lambda: seq((1, 12, 12, 4), L.SeparableConv2D(8, 3)), (1, 12, 12, 4), "float32"),
    "conv2d_transpose": (lambda: seq((1, 6, 6, 4), L.Conv2DTranspose(3, 3, strides=2)), (1, 6, 6, 4), "float32"),
    "max_pool": (lambda: seq((1, 12, 12, 3), L.MaxPooling2D(2)), (1, 12, 12, 3), "float32"),
    "avg_pool": (lambda: seq((1, 12, 12, 3), L.AveragePooling2D(3, strides=2)), (1, 12, 12, 3), "float32"),
    "batch_norm": (lambda: seq((1, 8, 8, 4), L.Conv2D(4, 1), L.BatchNormalization()), (1, 8, 8, 4), "float32"),
    "layer_norm": (lambda: seq((1, 8, 16), L.LayerNormalization()), (1, 8, 16), "float32"),
    "gelu": (lambda: seq((1, 32), L.Dense(32, activation="gelu")), (1, 32), "float32"),
    "softmax": (lambda: seq((1, 10), L.Dense(10), L.Softmax()), (1, 10), "float32"),
    "attention": (attention, (1, 8, 16), "float32"),
    "encoder_block": (encoder_block, (1, 8, 16), "float32"),
    "embedding": (lambda: seq((1, 6), L.Embedding(20, 8), L.Flatten(), L.Dense(4), dtype="int32"), (1, 6), "int32"),
    "lstm": (lambda: seq((1, 5, 8), L.LSTM(6)), (1, 5, 8), "float32"),
    "gru": (lambda: seq((1, 5, 8), L.GRU(6)), (1, 5, 8), "float32"),
    "resize_bilinear": (lambda: seq((1, 6, 6, 3), L.Resizing(12, 12)), (1, 6, 6, 3), "float32"),
    "upsample_nearest": (lambda: seq((1, 6, 6, 3), L.UpSampling2D(2)), (1, 6, 6, 3), "float32"),
    "zero_pad": (lambda: seq((1, 6, 6, 3), L.ZeroPadding2D(2), L.Conv2D(2, 3)), (1, 6, 6, 3), "float32"),
    "split_concat": (split_concat, (1, 8, 8, 6), "float32"),
    "transpose": (lambda: seq((1, 4, 6, 3), L.Permute((3, 1, 2)), L.Flatten(), L.Dense(5)), (1, 4, 6, 3), "float32"),
    "reductions": (reductions, (1, 6, 6, 4), "float32"),
    # The wider layer zoo (issue "models as converters make them"), appended so that the inputs
    # above stay the same draws of RNG.
    "conv1d": (lambda: seq((1, 16, 4), L.Conv1D(6, 3, activation="relu"), L.MaxPooling1D(2)), (1, 16, 4), "float32"),
    "separable_conv1d": (lambda: seq((1, 16, 4), L.SeparableConv1D(6, 3)), (1, 16, 4), "float32"),
    "conv1d_transpose": (lambda: seq((1, 8, 4), L.Conv1DTranspose(3, 3, strides=2)), (1, 8, 4), "float32"),
    "conv3d": (lambda: seq((1, 6, 6, 6, 2), L.Conv3D(4, 3, activation="relu")), (1, 6, 6, 6, 2), "float32"),  # MaxPooling3D has no TFLite op
    "conv3d_transpose": (lambda: seq((1, 3, 4, 4, 2), L.Conv3DTranspose(2, 2, strides=2)), (1, 3, 4, 4, 2), "float32"),
    "dilated_conv2d": (lambda: seq((1, 12, 12, 3), L.Conv2D(4, 3, dilation_rate=2, padding="same")), (1, 12, 12, 3), "float32"),
    "global_pool": (lambda: seq((1, 8, 8, 4), L.GlobalMaxPooling2D()), (1, 8, 8, 4), "float32"),
    "average_pool1d": (lambda: seq((1, 16, 4), L.AveragePooling1D(2), L.GlobalAveragePooling1D()), (1, 16, 4), "float32"),
    "group_norm": (lambda: seq((1, 6, 6, 8), L.GroupNormalization(groups=4)), (1, 6, 6, 8), "float32"),
    "simple_rnn": (lambda: seq((1, 5, 8), L.SimpleRNN(6)), (1, 5, 8), "float32"),
    "bidirectional_lstm": (bidirectional, (1, 5, 8), "float32"),
    "elementwise": (elementwise, (1, 4, 6, 3), "float32"),
    "activations": (activations, (1, 8, 8, 4), "float32"),
    "resize_nearest": (lambda: seq((1, 6, 6, 3), L.Resizing(9, 9, interpolation="nearest")), (1, 6, 6, 3), "float32"),
    "cropping": (lambda: seq((1, 8, 8, 3), L.Cropping2D(((1, 2), (2, 1))), L.Reshape((-1,)), L.Dense(3)), (1, 8, 8, 3), "float32"),
}
VARIANTS = ["float32", "float16", "dynamic_range", "int8", "int16x8"]
# Conversions that crash the converter process itself (a segfault, so they cannot be caught).
CONVERTER_CRASHES = {
    f"{name}.{variant}": "TF 2.21's converter segfaults calibrating the recurrent WHILE loop"
    for name in ["lstm", "gru", "simple_rnn", "bidirectional_lstm"]
    for variant in ["int8", "int16x8"]
}


def sample(shape, dtype, n=1, rng=None):
    rng = rng or RNG
    if dtype == "int32":
        return rng.integers(0, 20, size=(n,) + tuple(shape)).astype(np.int32)
    return rng.uniform(-1, 1, size=(n,) + tuple(shape)).astype(np.float32)


def export(model, shape, dtype, saved_dir):
    archive = K.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        name="serving_default",
        fn=lambda x: {"y": model(x, training=False)},
        input_signature=[tf.TensorSpec(shape, tf.as_dtype(dtype), name="x")],
    )
    archive.write_out(saved_dir, verbose=False)


def convert(saved_dir, variant, shape, dtype):
    c = tf.lite.TFLiteConverter.from_saved_model(saved_dir)
    if variant == "float16":
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.target_spec.supported_types = [tf.float16]
    elif variant == "dynamic_range":
        c.optimizations = [tf.lite.Optimize.DEFAULT]
    elif variant == "int8":
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.representative_dataset = lambda: ([s[0][None]] for s in np.split(sample(shape[1:], dtype, 50), 50))
    elif variant == "int16x8":
        # int16 activations, int8 weights; calibrated with draws of its own generator, so that
        # adding this variant left the other models' inputs as they were.
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.target_spec.supported_ops = [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        c.representative_dataset = lambda: ([s[0][None]] for s in np.split(sample(shape[1:], dtype, 50, RNG16), 50))
    return c.convert()


OP_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}


def op_versions(model_bytes):
    m = schema.Model.GetRootAsModel(model_bytes, 0)
    ops = []
    for i in range(m.OperatorCodesLength()):
        c = m.OperatorCodes(i)
        code = max(c.BuiltinCode(), c.DeprecatedBuiltinCode())
        name = c.CustomCode().decode() if code == schema.BuiltinOperator.CUSTOM else OP_NAMES[code]
        ops.append([name, c.Version()])
    runtime = None
    for i in range(m.MetadataLength()):
        md = m.Metadata(i)
        if md.Name() == b"min_runtime_version":
            runtime = bytes(m.Buffers(md.Buffer()).DataAsNumpy()).split(b"\0")[0].decode()
    return sorted(ops), runtime


def run_litert(model_bytes, x):
    it = Interpreter(model_content=model_bytes, num_threads=1,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", help="a Python with tflite-runtime 2.14 for the 'before' column")
    args = ap.parse_args()
    manifest = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (build, shape, dtype) in MODELS.items():
            K.utils.set_random_seed(1)
            model = build()
            saved = os.path.join(tmp, name)
            export(model, shape, dtype, saved)
            x = sample(shape[1:], dtype)  # batch of 1, the model's input shape
            np.save(os.path.join(HERE, f"{name}.x.npy"), x)
            for variant in VARIANTS:
                key = f"{name}.{variant}"
                entry = {"input_dtype": dtype}
                if key in CONVERTER_CRASHES:
                    entry["converter"] = CONVERTER_CRASHES[key]
                    manifest[key] = entry
                    continue
                try:
                    model_bytes = convert(saved, variant, shape, dtype)
                except Exception as e:  # the converter refuses some combinations
                    entry["converter"] = str(e).splitlines()[0][:200]
                    manifest[key] = entry
                    continue
                with open(os.path.join(HERE, f"{key}.tflite"), "wb") as f:
                    f.write(model_bytes)
                entry["ops"], entry["min_runtime_version"] = op_versions(model_bytes)
                try:
                    y = run_litert(model_bytes, x)
                    np.save(os.path.join(HERE, f"{key}.litert.npy"), y.astype(np.float32))
                    entry["litert"] = "ran"
                except Exception as e:
                    entry["litert"] = str(e).splitlines()[0][:200]
                manifest[key] = entry
                print(key, entry.get("litert"), entry["ops"], flush=True)
    if args.before:
        script = os.path.join(HERE, "_before.py")
        with open(script, "w") as f:
            f.write(BEFORE_SCRIPT)
        try:
            names = [k for k, e in manifest.items() if "ops" in e]
            with open(os.path.join(HERE, "_names.json"), "w") as f:
                json.dump(names, f)
            out = subprocess.run([args.before, script, os.path.join(HERE, "_names.json"), HERE],
                                 capture_output=True, text=True, check=True).stdout
            for k, v in json.loads(out.splitlines()[-1]).items():
                manifest[k]["tflite_runtime_2_14"] = v
        finally:
            os.remove(script)
            os.remove(os.path.join(HERE, "_names.json"))
    with open(os.path.join(HERE, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)


BEFORE_SCRIPT = r"""
import json, sys, numpy as np
from tflite_runtime.interpreter import Interpreter
out = {}
for key in json.load(open(sys.argv[1])):
    try:
        it = Interpreter(model_path=f"{sys.argv[2]}/{key}.tflite", num_threads=1)
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], np.load(f"{sys.argv[2]}/{key.split('.')[0]}.x.npy"))
        it.invoke()
        out[key] = "ran"
    except Exception as e:
        out[key] = str(e).strip().splitlines()[0][:200]
print(json.dumps(out))
"""

if __name__ == "__main__":
    main()
