#!/usr/bin/env python3
"""Makes the small models and golden outputs that tflite-sys's FFI tests use.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install -r requirements.txt
    /tmp/venv/bin/python make_models.py            # writes *.tflite, *.in.f32, *.out.f32 here

Models (float32, fixed weights from a seeded generator, converted by the current TF converter):
- add_mul.tflite: y = x * 3 + 1.5 on a [1, 8] tensor (MUL, ADD).
- conv_dense.tflite: [1, 8, 8, 3] -> Conv2D(4, 3x3, relu) -> Flatten -> Dense(5) -> Softmax.
  Every op in it is one XNNPACK takes over, so with the delegate the execution plan is one node.
- dense_gelu.tflite: [1, 32] -> Dense(32) -> exact GELU. TFLite 2.14's XNNPACK delegate took
  no GELU; with our patch (vendor/patches/tensorflow/0008) the plan is one node here too.

Golden outputs are computed with Google's runtime (ai_edge_litert) on the committed inputs and
checked against tflite_runtime 2.14 (the same TFLite version as ours) when it is importable.
Inputs/outputs are raw little-endian float32 files: NAME.in.f32 / NAME.out.f32.
"""
import os
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


def run(runtime, path, x):
    it = runtime(model_path=path, num_threads=1)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


def main():
    from ai_edge_litert.interpreter import Interpreter as Litert
    rng = np.random.default_rng(1234)
    for name, make, shape in [("add_mul", add_mul, (1, 8)), ("conv_dense", conv_dense, (1, 8, 8, 3)),
                              ("dense_gelu", dense_gelu, (1, 32))]:
        path = os.path.join(HERE, f"{name}.tflite")
        with open(path, "wb") as f:
            f.write(make())
        x = rng.standard_normal(shape).astype(np.float32)
        y = run(Litert, path, x)
        x.astype("<f4").tofile(os.path.join(HERE, f"{name}.in.f32"))
        y.astype("<f4").tofile(os.path.join(HERE, f"{name}.out.f32"))
        try:
            from tflite_runtime.interpreter import Interpreter as Tfl214
            y214 = run(Tfl214, path, x)
            print(f"{name}: max |litert - tflite_runtime 2.14| = {np.abs(y - y214).max():.3g}")
        except ImportError:
            pass
        print(f"{name}: {os.path.getsize(path)} bytes, output {y.ravel()[:5]}")


if __name__ == "__main__":
    main()
