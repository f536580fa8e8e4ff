#!/usr/bin/env python3
"""Makes the small models and golden outputs that tflite-sys's FFI tests use.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install -r requirements.txt
    /tmp/venv/bin/python make_models.py            # writes *.tflite, *.in.f32, *.out.f32 here

Models (float32, fixed weights from a seeded generator, converted by the current TF converter):
- add_mul.tflite: y = x * 3 + 1.5 on a [1, 8] tensor (MUL, ADD).
- conv_dense.tflite: [1, 8, 8, 3] -> Conv2D(4, 3x3, relu) -> Flatten -> Dense(5) -> Softmax.
  Every op in it is one XNNPACK takes over, so with the delegate the execution plan is one node.
- dense_gelu.tflite: [1, 32] -> Dense(32) -> exact GELU. TFLite 2.14's XNNPACK delegate took
  no GELU; with our patch (tflite-sys/vendor/patches/tensorflow/0008) the plan is one node here too.
- dense_int8.tflite: [1, 64] -> Dense(32, relu) -> Dense(10), full int8 (int8 input and
  output). The converter quantizes Dense weights per output channel, which TFLite 2.14's
  XNNPACK delegate refused; with our patch 0009 the plan is one node.
- dense_int8_mixed_bias.tflite: dense_int8 with the last layer's bias quantization rewritten
  to one scale (a per-tensor bias beside per-channel weights). XNNPACK has no operator for that
  pairing: the delegate must leave that node to the builtin kernel (which ignores bias scales)
  and still take the other. No golden files: its output is dense_int8's.

Golden outputs are computed with Google's runtime (ai_edge_litert) on the committed inputs and
checked against tflite_runtime 2.14 (the same TFLite version as ours) when it is importable.
Inputs/outputs are raw files: little-endian float32 NAME.in.f32 / NAME.out.f32, or int8
NAME.in.i8 / NAME.out.i8 for the int8 model.

    /tmp/venv/bin/python make_models.py dense_int8  # only the named models (inputs unchanged)
"""
import os
import sys
import numpy as np
import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))


def convert(fn_or_model, signature=None):
    if isinstance(fn_or_model, tf.keras.Model):
        conv = tf.lite.TFLiteConverter.from_keras_model(fn_or_model)
    else:
        conv = tf.lite.TFLiteConverter.from_concrete_functions([signature], fn_or_model)
    return conv.convert()


def add_mul():
    class M(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, 8], tf.float32, name="x")])
        def __call__(self, x):
            return x * 3.0 + 1.5

    m = M()
    return convert(m, m.__call__.get_concrete_function())


def conv_dense():
    rng = np.random.default_rng(7)
    inp = tf.keras.Input((8, 8, 3), batch_size=1, name="image")
    conv = tf.keras.layers.Conv2D(4, 3, activation="relu")
    dense = tf.keras.layers.Dense(5)
    x = conv(inp)
    x = tf.keras.layers.Flatten()(x)
    x = dense(x)
    out = tf.keras.layers.Softmax()(x)
    model = tf.keras.Model(inp, out)
    conv.set_weights([rng.normal(0, 0.5, (3, 3, 3, 4)).astype(np.float32), rng.normal(0, 0.1, 4).astype(np.float32)])
    dense.set_weights([rng.normal(0, 0.2, (144, 5)).astype(np.float32), rng.normal(0, 0.1, 5).astype(np.float32)])
    return convert(model)


def dense_gelu():
    rng = np.random.default_rng(11)
    inp = tf.keras.Input((32,), batch_size=1, name="x")
    dense = tf.keras.layers.Dense(32)
    out = tf.keras.layers.Activation(lambda v: tf.nn.gelu(v, approximate=False))(dense(inp))
    model = tf.keras.Model(inp, out)
    dense.set_weights([rng.normal(0, 0.5, (32, 32)).astype(np.float32), rng.normal(0, 0.1, 32).astype(np.float32)])
    return convert(model)


def dense_int8():
    rng = np.random.default_rng(13)
    inp = tf.keras.Input((64,), batch_size=1, name="x")
    hidden = tf.keras.layers.Dense(32, activation="relu")
    last = tf.keras.layers.Dense(10)
    model = tf.keras.Model(inp, last(hidden(inp)))
    # Per-row weight scales that differ by up to 8x, so per-channel quantization matters.
    w1 = rng.normal(0, 0.3, (64, 32)) * rng.uniform(0.25, 2.0, 32)
    hidden.set_weights([w1.astype(np.float32), rng.normal(0, 0.1, 32).astype(np.float32)])
    last.set_weights([rng.normal(0, 0.3, (32, 10)).astype(np.float32), rng.normal(0, 0.1, 10).astype(np.float32)])
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    rep = np.random.default_rng(17)
    conv.representative_dataset = lambda: ([rep.standard_normal((1, 64)).astype(np.float32)] for _ in range(64))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


def dense_int8_mixed_bias():
    from tensorflow.lite.tools import flatbuffer_utils as fb
    model = fb.convert_bytearray_to_object(bytearray(dense_int8()))
    graph = model.subgraphs[0]
    last_fc = graph.operators[-1]
    bias = graph.tensors[last_fc.inputs[2]]
    assert len(bias.quantization.scale) == 10, "expected a per-channel bias"
    bias.quantization.scale = bias.quantization.scale[:1]
    bias.quantization.zeroPoint = bias.quantization.zeroPoint[:1]
    return bytes(fb.convert_object_to_bytearray(model))


def run(runtime, path, x):
    it = runtime(model_path=path, num_threads=1)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


def main():
    from ai_edge_litert.interpreter import Interpreter as Litert
    only = set(sys.argv[1:])
    rng = np.random.default_rng(1234)
    for name, make, shape, dtype in [("add_mul", add_mul, (1, 8), "f32"),
                                     ("conv_dense", conv_dense, (1, 8, 8, 3), "f32"),
                                     ("dense_gelu", dense_gelu, (1, 32), "f32"),
                                     ("dense_int8", dense_int8, (1, 64), "i8"),
                                     ("dense_int8_mixed_bias", dense_int8_mixed_bias, (1, 64), "i8")]:
        # Every model draws its input in turn, so naming some models keeps the others' inputs.
        x = rng.standard_normal(shape).astype(np.float32)
        if dtype == "i8":
            x = np.clip(np.round(x * 40), -128, 127).astype(np.int8)
        if only and name not in only:
            continue
        path = os.path.join(HERE, f"{name}.tflite")
        with open(path, "wb") as f:
            f.write(make())
        if name == "dense_int8_mixed_bias":
            print(f"{name}: {os.path.getsize(path)} bytes")
            continue
        y = run(Litert, path, x)
        store = "<f4" if dtype == "f32" else "i1"
        x.astype(store).tofile(os.path.join(HERE, f"{name}.in.{dtype}"))
        y.astype(store).tofile(os.path.join(HERE, f"{name}.out.{dtype}"))
        try:
            from tflite_runtime.interpreter import Interpreter as Tfl214
            y214 = run(Tfl214, path, x)
            diff = np.abs(y.astype(np.float64) - y214.astype(np.float64)).max()
            print(f"{name}: max |litert - tflite_runtime 2.14| = {diff:.3g}")
        except ImportError:
            pass
        print(f"{name}: {os.path.getsize(path)} bytes, output {y.ravel()[:5]}")


if __name__ == "__main__":
    main()
