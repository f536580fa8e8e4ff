#!/usr/bin/env python3
"""Generate the benchmark models into benches/models/ (not committed: MobileNetV2 alone is
~14 MB). Weights are random (seeded): speed does not depend on training.

    python3 benches/make_bench_models.py        # needs examples/python/requirements.txt

    mobilenet_v2_f32.tflite    MobileNetV2 (alpha 1.0), 1x224x224x3, float32
    mobilenet_v2_int8.tflite   the same, full int8 (random representative data)
    mlp_f32.tflite             784-256-256-10 MLP, float32
    transformer_f32.tflite     one encoder block: 4-head attention (d=256, seq 64) + FFN 1024
    *_dr.tflite                mobilenet_v2, mlp and transformer with the converter's default
                               optimisation and no representative data: dynamic-range
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
import tensorflow as tf

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models")


def save(name, keras_model, int8_shape=None, dynamic_range=False):
    conv = tf.lite.TFLiteConverter.from_keras_model(keras_model)
    if dynamic_range:
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
    if int8_shape is not None:
        rng = np.random.default_rng(0)
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda: ([rng.uniform(-1, 1, int8_shape).astype(np.float32)] for _ in range(8))
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    data = conv.convert()
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    print(f"{name}: {len(data) / 1e6:.1f} MB")


def transformer(seq=64, d=256, heads=4, ff=1024):
    x = tf.keras.Input(shape=(seq, d), batch_size=1, name="tokens")
    a = tf.keras.layers.MultiHeadAttention(num_heads=heads, key_dim=d // heads)(x, x)
    h = tf.keras.layers.LayerNormalization()(x + a)
    f = tf.keras.layers.Dense(ff, activation="gelu")(h)
    f = tf.keras.layers.Dense(d)(f)
    y = tf.keras.layers.LayerNormalization()(h + f)
    return tf.keras.Model(x, y)


def main():
    os.makedirs(OUT, exist_ok=True)
    tf.keras.utils.set_random_seed(0)
    mobilenet = tf.keras.applications.MobileNetV2(input_shape=(224, 224, 3), weights=None)
    save("mobilenet_v2_f32.tflite", mobilenet)
    save("mobilenet_v2_int8.tflite", mobilenet, int8_shape=(1, 224, 224, 3))
    mlp = tf.keras.Sequential([
        tf.keras.Input(shape=(784,), batch_size=1),
        tf.keras.layers.Dense(256, activation="relu"),
        tf.keras.layers.Dense(256, activation="relu"),
        tf.keras.layers.Dense(10),
    ])
    save("mlp_f32.tflite", mlp)
    block = transformer()
    save("transformer_f32.tflite", block)
    save("mobilenet_v2_dr.tflite", mobilenet, dynamic_range=True)
    save("mlp_dr.tflite", mlp, dynamic_range=True)
    save("transformer_dr.tflite", block, dynamic_range=True)


if __name__ == "__main__":
    main()
