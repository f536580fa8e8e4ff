#!/usr/bin/env python3
"""Makes transform_net.tflite: MediaPipe's three landmark/crop operators in one graph, with a
NumPy implementation of each as the reference (no runtime of Google's has these ops, so the
reference is written from their definition, in float64).

    /path/to/venv/bin/python examples/mediapipe_ops/make_transform_model.py  (tensorflow-cpu, numpy)

MediaPipe's face, pose and holistic models (e.g. face_landmark_with_attention) use, at version
2 (the version MediaPipe's CPU op resolver registers), with FlexBuffer-map options:

- Landmarks2TransformMatrix: landmarks [1, N, 3] -> a 4x4 matrix [1, 4, 4]. Options:
  subset_idxs (int vector: landmark pairs; an odd count repeats the last), left_rotation_idx,
  right_rotation_idx, target_rotation_radians, output_width, output_height, scale_x, scale_y.
  With r = target - atan2(yr - yl, xr - xl), the subset's (x, y) rotated by r give a box
  [lo, hi]; its centre rotated back by -r is c; the matrix is
  shift(c) . rot(-r) . scale(scale_x (hi-lo)_x / output_width, scale_y (hi-lo)_y / output_height)
  . shift(-output_width / 2, -output_height / 2): it maps a crop pixel to landmark space.
- TransformTensorBilinear: (image [1, H, W, C], matrix) -> crop [1, h, w, C] (the shape the
  model declares). Output pixel (x, y) samples the image bilinearly at M . (x + 0.5, y + 0.5)
  - 0.5 (first two rows of M, pixel centres); a position outside [0, W-1] x [0, H-1] gives 0,
  and neighbours outside the image count as 0. No options are read.
- TransformLandmarks: (landmarks [1, N, D], matrix) -> landmarks: (x, y) -> first two rows of
  M applied to (x, y, 0, 1); z kept. No options are read.

This graph: landmarks [1, 8, 3] and image [1, 12, 16, 3] (inputs) -> Landmarks2TransformMatrix
(subset of 5 indices: the odd count) -> matrix (output 0) -> TransformTensorBilinear -> crop
[1, 5, 6, 3] (output 1); TransformLandmarks(landmarks, matrix) -> output 2. The parameters are
chosen so that no sample lies within 1e-3 of the image's border (checked below), where float32
and float64 could disagree about inside and outside.

Writes next to this script: transform_net.tflite, the inputs transform_landmarks.npy and
transform_image.npy, and the references transform_reference_{matrix,crop,landmarks}.npy.
"""
import os

import flatbuffers.flexbuffers as flex
import numpy as np
from tensorflow.lite.python import schema_py_generated as s
from tensorflow.lite.tools import flatbuffer_utils

HERE = os.path.dirname(os.path.abspath(__file__))
OPTIONS = {
    "subset_idxs": [0, 1, 2, 3, 4],
    "left_rotation_idx": 0,
    "right_rotation_idx": 1,
    "target_rotation_radians": 0.3,
    "output_width": 6,
    "output_height": 5,
    "scale_x": 3.0,
    "scale_y": 2.5,
}
CROP = [1, 5, 6, 3]


def rot(r):
    return np.array([[np.cos(r), -np.sin(r)], [np.sin(r), np.cos(r)]])


def landmarks_to_matrix(lm, o):
    p = lm[0, :, :2].astype(np.float64)
    idx = list(o["subset_idxs"])
    if len(idx) % 2:
        idx.append(idx[-1])
    d = p[o["right_rotation_idx"]] - p[o["left_rotation_idx"]]
    r = o["target_rotation_radians"] - np.arctan2(d[1], d[0])
    q = p[idx] @ rot(r).T
    lo, hi = q.min(0), q.max(0)
    c = rot(-r) @ ((lo + hi) / 2)
    ow, oh = o["output_width"], o["output_height"]
    shift = np.eye(4)
    shift[:2, 3] = c
    turn = np.eye(4)
    turn[:2, :2] = rot(-r)
    scale = np.diag([o["scale_x"] * (hi - lo)[0] / ow, o["scale_y"] * (hi - lo)[1] / oh, 1, 1])
    back = np.eye(4)
    back[:2, 3] = [-ow / 2, -oh / 2]
    return (shift @ turn @ scale @ back)[None]


def sample_positions(m, h, w):
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    a = m[0]
    tx = a[0, 0] * (xs + 0.5) + a[0, 1] * (ys + 0.5) + a[0, 3] - 0.5
    ty = a[1, 0] * (xs + 0.5) + a[1, 1] * (ys + 0.5) + a[1, 3] - 0.5
    return tx, ty


def transform_tensor_bilinear(img, m, out_shape):
    _, H, W, C = img.shape
    _, h, w, _ = out_shape
    tx, ty = sample_positions(m, h, w)
    out = np.zeros(out_shape)

    def px(yy, xx):
        if 0 <= yy < H and 0 <= xx < W:
            return img[0, yy, xx].astype(np.float64)
        return np.zeros(C)

    for y in range(h):
        for x in range(w):
            X, Y = tx[y, x], ty[y, x]
            if X < 0 or X > W - 1 or Y < 0 or Y > H - 1:
                continue
            x0, y0 = int(np.floor(X)), int(np.floor(Y))
            a, b = X - x0, Y - y0
            top = (1 - a) * px(y0, x0) + a * px(y0, x0 + 1)
            bottom = (1 - a) * px(y0 + 1, x0) + a * px(y0 + 1, x0 + 1)
            out[0, y, x] = (1 - b) * top + b * bottom
    return out


def transform_landmarks(lm, m):
    out = lm.astype(np.float64).copy()
    a = m[0]
    out[..., 0] = a[0, 0] * lm[..., 0] + a[0, 1] * lm[..., 1] + a[0, 3]
    out[..., 1] = a[1, 0] * lm[..., 0] + a[1, 1] * lm[..., 1] + a[1, 3]
    return out


def build():
    tensors = []

    def tensor(name, shape):
        t = s.TensorT()
        t.name, t.shape, t.type, t.buffer = name.encode(), list(shape), s.TensorType.FLOAT32, 0
        tensors.append(t)
        return len(tensors) - 1

    lm, img = tensor("landmarks", [1, 8, 3]), tensor("image", [1, 12, 16, 3])
    mat, crop, out_lm = tensor("matrix", [1, 4, 4]), tensor("crop", CROP), tensor("out", [1, 8, 3])
    codes = []
    for name in ["Landmarks2TransformMatrix", "TransformTensorBilinear", "TransformLandmarks"]:
        c = s.OperatorCodeT()
        c.builtinCode = c.deprecatedBuiltinCode = s.BuiltinOperator.CUSTOM
        c.version, c.customCode = 2, name.encode()
        codes.append(c)

    def op(code, inputs, outputs, options):
        o = s.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = code, inputs, outputs
        o.customOptions = np.frombuffer(bytes(flex.Dumps(options)), np.uint8)
        o.customOptionsFormat = s.CustomOptionsFormat.FLEXBUFFERS
        return o

    g = s.SubGraphT()
    g.name, g.tensors, g.inputs, g.outputs = b"main", tensors, [lm, img], [mat, crop, out_lm]
    g.operators = [
        op(0, [lm], [mat], OPTIONS),
        # MediaPipe's converter writes these two options; the CPU kernels ignore them.
        op(1, [img, mat], [crop], {"output_size": CROP[1:3], "align_corners": True}),
        op(2, [lm, mat], [out_lm], {}),
    ]
    m = s.ModelT()
    m.version, m.description = 3, b"MediaPipe transform ops (tflite-rs example)"
    m.operatorCodes, m.subgraphs, m.buffers = codes, [g], [s.BufferT()]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(m))


def main():
    rng = np.random.default_rng(11)
    # Landmarks in pixel units, around the image's centre, z anything.
    lm = np.concatenate(
        [rng.uniform([5, 3], [11, 8], (1, 8, 2)), rng.normal(0, 1, (1, 8, 1))], -1
    ).astype(np.float32)
    img = rng.uniform(0, 1, (1, 12, 16, 3)).astype(np.float32)
    m = landmarks_to_matrix(lm, OPTIONS)
    tx, ty = sample_positions(m, CROP[1], CROP[2])
    margin = min(np.abs(tx).min(), np.abs(tx - 15).min(), np.abs(ty).min(), np.abs(ty - 11).min())
    assert margin > 1e-3, margin
    inside = ((tx >= 0) & (tx <= 15) & (ty >= 0) & (ty <= 11)).mean()
    crop = transform_tensor_bilinear(img, m, CROP)
    out = transform_landmarks(lm, m)
    with open(os.path.join(HERE, "transform_net.tflite"), "wb") as f:
        f.write(build())
    for name, a in [
        ("landmarks", lm),
        ("image", img),
        ("reference_matrix", m),
        ("reference_crop", crop),
        ("reference_landmarks", out),
    ]:
        np.save(os.path.join(HERE, "transform_%s.npy" % name), a.astype(np.float32))
    print("crop samples inside the image: %.0f%%" % (100 * inside), "margin", margin)


if __name__ == "__main__":
    main()
