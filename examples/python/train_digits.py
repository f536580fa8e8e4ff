#!/usr/bin/env python3
"""Train a small Keras CNN on scikit-learn's bundled digits (8x8 grey images, 10 classes, no
download), export a SavedModel with a `serving_default` signature, convert it to TFLite four
ways, and write what the Rust side needs to check itself against Google's runtime:

    examples/digits/digits_<variant>.tflite   variant: float32, float16, dynamic_range, int8
    examples/digits/test_images.npy           held-out images, float32 [N, 8, 8, 1] in [0, 1]
    examples/digits/test_labels.npy           their labels, int64 [N]
    examples/digits/reference_<variant>.npy   Google's runtime (ai_edge_litert) outputs on each
                                              held-out image, one image per invoke, [N, 10]
                                              (float32; int8 for the int8 model), with its
                                              default XNNPACK delegate
    examples/digits/reference_<variant>_builtin.npy   the same on its builtin kernels only
    examples/digits/accuracy.txt              held-out accuracy per variant, from those outputs

    python3 examples/python/train_digits.py [--out DIR] [--check]

With --check it writes into a temporary folder and compares with the committed files instead
(accuracy within 1 sample, float outputs within 1e-3, int8 outputs within 2 quanta: retraining
and conversion are not bit-stable across machines). Needs requirements.txt beside it.
"""
import argparse, os, random, shutil, sys, tempfile, time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
import numpy as np
import tensorflow as tf
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from ai_edge_litert.interpreter import Interpreter, OpResolverType

SEED = 1234
VARIANTS = ["float32", "float16", "dynamic_range", "int8"]
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "digits")


def data():
    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[..., None]  # [1797, 8, 8, 1] in [0, 1]
    y = d.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.2, random_state=SEED, stratify=y)


def train(x_train, y_train):
    random.seed(SEED)
    np.random.seed(SEED)
    tf.keras.utils.set_random_seed(SEED)
    tf.config.experimental.enable_op_determinism()
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(8, 8, 1), name="image"),
        tf.keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        tf.keras.layers.Conv2D(32, 3, padding="same", activation="relu"),
        tf.keras.layers.MaxPooling2D(),
        tf.keras.layers.Flatten(),
        tf.keras.layers.Dense(32, activation="relu"),
        tf.keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=30, batch_size=32, verbose=0, shuffle=True)
    return model


def export(model, saved_dir):
    """A SavedModel whose `serving_default` signature takes `image` and returns
    `probabilities` (Keras 3's export path, which tracks the weights)."""
    archive = tf.keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        name="serving_default",
        fn=lambda image: {"probabilities": model(image, training=False)},
        input_signature=[tf.TensorSpec([None, 8, 8, 1], tf.float32, name="image")],
    )
    archive.write_out(saved_dir, verbose=False)


def convert(saved_dir, variant, x_train):
    c = tf.lite.TFLiteConverter.from_saved_model(saved_dir)
    if variant == "float16":
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.target_spec.supported_types = [tf.float16]
    elif variant == "dynamic_range":
        c.optimizations = [tf.lite.Optimize.DEFAULT]
    elif variant == "int8":
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.representative_dataset = lambda: ([x[None]] for x in x_train[:300])
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        c.inference_input_type = tf.int8
        c.inference_output_type = tf.int8
    return c.convert()


def quantize(x, scale, zero):
    """TFLite's rule, as the Rust side applies it: q = round(x / scale) + zero, the division in
    float32, rounding half away from zero, saturated to int8."""
    v = (x.astype(np.float32) / np.float32(scale)).astype(np.float64)
    r = np.sign(v) * np.floor(np.abs(v) + 0.5)
    return np.clip(r + zero, -128, 127).astype(np.int8)


def reference(model_bytes, x_test, builtin):
    """Google's runtime, one image per invoke (as the Rust example runs it): with its default
    XNNPACK delegate, or (builtin=True) on TFLite's builtin kernels only."""
    resolver = OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES if builtin else OpResolverType.AUTO
    it = Interpreter(model_content=model_bytes, num_threads=1, experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    i, o = it.get_input_details()[0], it.get_output_details()[0]
    outs = []
    for x in x_test:
        x = x[None]
        if i["dtype"] == np.int8:
            x = quantize(x, *i["quantization"])
        it.set_tensor(i["index"], x)
        it.invoke()
        outs.append(it.get_tensor(o["index"])[0].copy())
    return np.stack(outs)


def build(out):
    t0 = time.time()
    x_train, x_test, y_train, y_test = data()
    model = train(x_train, y_train)
    _, keras_acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"keras: held-out accuracy {keras_acc:.4f} on {len(y_test)} images ({time.time() - t0:.0f} s)")
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "test_images.npy"), x_test)
    np.save(os.path.join(out, "test_labels.npy"), y_test)
    lines = [f"keras {keras_acc:.6f}"]
    with tempfile.TemporaryDirectory() as tmp:
        saved = os.path.join(tmp, "saved_model")
        export(model, saved)
        for v in VARIANTS:
            tfl = convert(saved, v, x_train)
            with open(os.path.join(out, f"digits_{v}.tflite"), "wb") as f:
                f.write(tfl)
            try:
                ref = reference(tfl, x_test, builtin=False)
                builtin = reference(tfl, x_test, builtin=True)
            except Exception as e:  # noqa: BLE001 - report and go on
                print(f"{v}: Google's runtime failed: {e}")
                continue
            np.save(os.path.join(out, f"reference_{v}.npy"), ref)
            np.save(os.path.join(out, f"reference_{v}_builtin.npy"), builtin)
            acc = float(np.mean(np.argmax(ref, axis=1) == y_test))
            lines.append(f"{v} {acc:.6f}")
            print(f"{v}: {len(tfl)} bytes, held-out accuracy {acc:.4f} (Google's runtime)")
    with open(os.path.join(out, "accuracy.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"done in {time.time() - t0:.0f} s")


def check(committed):
    with tempfile.TemporaryDirectory() as tmp:
        build(tmp)
        ok = True
        acc = lambda d: dict(l.split() for l in open(os.path.join(d, "accuracy.txt")))
        a, b = acc(tmp), acc(committed)
        n = len(np.load(os.path.join(committed, "test_labels.npy")))
        for k in b:
            diff = abs(float(a.get(k, -1)) - float(b[k])) * n
            print(f"accuracy {k}: new {a.get(k)} committed {b[k]}")
            ok &= diff <= 1.01
        for p in sorted(f for f in os.listdir(committed) if f.startswith("reference_")):
            v = p[len("reference_"):-len(".npy")].replace("_builtin", "")
            x, y = np.load(os.path.join(tmp, p)), np.load(os.path.join(committed, p))
            d = np.abs(x.astype(np.float64) - y.astype(np.float64)).max()
            tol = 2 if v == "int8" else 1e-3
            print(f"{p}: max |new - committed| = {d:.3g} (tolerance {tol})")
            ok &= d <= tol
        same = np.array_equal(np.load(os.path.join(tmp, "test_images.npy")),
                              np.load(os.path.join(committed, "test_images.npy")))
        print(f"held-out images identical: {same}")
        ok &= same
    print("check:", "OK" if ok else "DIFFERENT")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    check(os.path.normpath(a.out)) if a.check else build(os.path.normpath(a.out))
