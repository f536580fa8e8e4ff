#!/usr/bin/env python3
"""Makes unpool_net.tflite: a small encoder/decoder that uses MediaPipe's three custom
operators, with TensorFlow's own outputs for it as the reference.

    /path/to/venv/bin/python examples/mediapipe_ops/make_model.py   (tensorflow-cpu, numpy)

MediaPipe's segmentation models (hair segmentation, selfie segmentation, ...) were converted
with operators TFLite has no builtin for; every runtime must register them as custom ops:

- MaxPoolingWithArgmax2D: input [N,H,W,C] f32 -> (max-pooled [N,h,w,C] f32, indices [N,h,w,C]
  stored as f32). Options: the bytes of a C `TfLitePoolParams` (padding, stride w/h,
  filter w/h, activation, computed padding: 40 bytes).
- MaxUnpooling2D: (values [N,h,w,C], indices) -> [N,H,W,C]: each value goes back where its index
  says, the rest is zero. Options: `TfLitePoolParams` bytes. (TF's converter writes this op,
  with these options, for a function annotated `experimental_implements` MaxUnpooling2D.)
- Convolution2DTransposeBias: (input [N,h,w,I], weights [O,kh,kw,I], bias [O]) -> transposed
  convolution plus bias. Options: the bytes of a C `TfLiteTransposeConvParams` (padding,
  stride w, stride h: 12 bytes used).

This network: x [1,8,8,3] -> CONV_2D(4, 3x3, SAME, relu) -> MaxPoolingWithArgmax2D(2x2/2,
SAME) -> CONV_2D(4, 3x3, SAME) on the pooled values -> MaxUnpooling2D with the indices ->
Convolution2DTransposeBias(2 channels, 3x3, stride 2, SAME) -> y [1,16,16,2]. The flatbuffer
is written directly with TF's schema classes (no converter writes all three ops). The index
encoding is TF's `tf.nn.max_pool_with_argmax` (include_batch_in_index=False): the flat
position (y * W + x) * C + c inside the image, as a float.

Writes next to this script: unpool_net.tflite, input.npy (x), reference.npy (y, computed with
TensorFlow ops: conv2d, max_pool_with_argmax, a scatter, conv2d_transpose), and
reference_indices.npy (the argmax indices, for a closer look); and unpool_only.tflite, a lone
MaxUnpooling2D whose indices are a graph input (for tests of hostile indices).
"""
import os
import struct

import numpy as np
import tensorflow as tf
from tensorflow.lite.python import schema_py_generated as s
from tensorflow.lite.tools import flatbuffer_utils

HERE = os.path.dirname(os.path.abspath(__file__))
SAME, VALID = 1, 2  # TfLitePadding


def pool_params(padding, stride, filt):
    # TfLitePoolParams: padding, stride_width, stride_height, filter_width, filter_height,
    # activation, computed.padding {width, height, width_offset, height_offset}.
    return struct.pack("<10i", padding, stride, stride, filt, filt, 0, 0, 0, 0, 0)


def transpose_conv_params(padding, stride):
    # TfLiteTransposeConvParams: padding, stride_width, stride_height, activation.
    return struct.pack("<4i", padding, stride, stride, 0)


def reference(x, w1, b1, w2, b2, wt, bt):
    a = tf.nn.relu(tf.nn.conv2d(x, w1.transpose(1, 2, 3, 0), 1, "SAME") + b1)
    p, idx = tf.nn.max_pool_with_argmax(a, 2, 2, "SAME", include_batch_in_index=False)
    q = tf.nn.conv2d(p, w2.transpose(1, 2, 3, 0), 1, "SAME") + b2
    n, h, w, c = a.shape
    u = np.zeros((n, h * w * c), np.float32)
    qn, idxn = q.numpy().reshape(n, -1), idx.numpy().reshape(n, -1)
    for b in range(n):
        u[b, idxn[b]] = qn[b]
    u = u.reshape(n, h, w, c)
    o = wt.shape[0]
    y = tf.nn.conv2d_transpose(u, wt.transpose(1, 2, 0, 3), [n, 2 * h, 2 * w, o], 2, "SAME")
    return (y + bt).numpy(), idx.numpy()


def build(w1, b1, w2, b2, wt, bt):
    buffers = [s.BufferT()]  # buffer 0: empty, by convention

    def const(arr):
        b = s.BufferT()
        b.data = np.frombuffer(arr.astype("<f4").tobytes(), np.uint8)
        buffers.append(b)
        return len(buffers) - 1

    tensors = []

    def tensor(name, shape, buffer=0):
        t = s.TensorT()
        t.name, t.shape, t.type, t.buffer = name.encode(), list(shape), s.TensorType.FLOAT32, buffer
        tensors.append(t)
        return len(tensors) - 1

    x = tensor("x", [1, 8, 8, 3])
    tw1, tb1 = tensor("conv1/w", w1.shape, const(w1)), tensor("conv1/b", b1.shape, const(b1))
    a = tensor("conv1", [1, 8, 8, 4])
    p, idx = tensor("pool", [1, 4, 4, 4]), tensor("pool/indices", [1, 4, 4, 4])
    tw2, tb2 = tensor("conv2/w", w2.shape, const(w2)), tensor("conv2/b", b2.shape, const(b2))
    q = tensor("conv2", [1, 4, 4, 4])
    u = tensor("unpool", [1, 8, 8, 4])
    twt, tbt = tensor("deconv/w", wt.shape, const(wt)), tensor("deconv/b", bt.shape, const(bt))
    y = tensor("y", [1, 16, 16, 2])

    codes = []

    def code(builtin, custom=None):
        c = s.OperatorCodeT()
        c.builtinCode = builtin
        c.deprecatedBuiltinCode = min(builtin, 127)
        c.version = 1
        c.customCode = custom.encode() if custom else None
        codes.append(c)
        return len(codes) - 1

    conv, argmax, unpool, deconv = (
        code(s.BuiltinOperator.CONV_2D),
        code(s.BuiltinOperator.CUSTOM, "MaxPoolingWithArgmax2D"),
        code(s.BuiltinOperator.CUSTOM, "MaxUnpooling2D"),
        code(s.BuiltinOperator.CUSTOM, "Convolution2DTransposeBias"),
    )

    def op(opcode, inputs, outputs, custom_options=None, relu=False):
        o = s.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = opcode, inputs, outputs
        if custom_options is None:
            o.builtinOptionsType = s.BuiltinOptions.Conv2DOptions
            opt = s.Conv2DOptionsT()
            opt.padding, opt.strideW, opt.strideH = s.Padding.SAME, 1, 1
            opt.dilationWFactor = opt.dilationHFactor = 1
            opt.fusedActivationFunction = (
                s.ActivationFunctionType.RELU if relu else s.ActivationFunctionType.NONE
            )
            o.builtinOptions = opt
        else:
            o.customOptions = np.frombuffer(custom_options, np.uint8)
            o.customOptionsFormat = s.CustomOptionsFormat.FLEXBUFFERS  # the schema's only value
        return o

    g = s.SubGraphT()
    g.name = b"main"
    g.tensors, g.inputs, g.outputs = tensors, [x], [y]
    g.operators = [
        op(conv, [x, tw1, tb1], [a], relu=True),
        op(argmax, [a], [p, idx], pool_params(SAME, 2, 2)),
        op(conv, [p, tw2, tb2], [q]),
        op(unpool, [q, idx], [u], pool_params(SAME, 2, 2)),
        op(deconv, [u, twt, tbt], [y], transpose_conv_params(SAME, 2)),
    ]
    m = s.ModelT()
    m.version, m.description = 3, b"MediaPipe-style custom ops (tflite-rs example)"
    m.operatorCodes, m.subgraphs, m.buffers = codes, [g], buffers
    return bytes(flatbuffer_utils.convert_object_to_bytearray(m))


def unpool_only():
    """values [1,2,2,1] and indices [1,2,2,1] (graph inputs) -> MaxUnpooling2D -> [1,4,4,1]: lets
    a test feed indices that point outside the output."""
    tensors = []
    for name, shape in [("values", [1, 2, 2, 1]), ("indices", [1, 2, 2, 1]), ("y", [1, 4, 4, 1])]:
        t = s.TensorT()
        t.name, t.shape, t.type, t.buffer = name.encode(), shape, s.TensorType.FLOAT32, 0
        tensors.append(t)
    c = s.OperatorCodeT()
    c.builtinCode = c.deprecatedBuiltinCode = s.BuiltinOperator.CUSTOM
    c.version, c.customCode = 1, b"MaxUnpooling2D"
    o = s.OperatorT()
    o.opcodeIndex, o.inputs, o.outputs = 0, [0, 1], [2]
    o.customOptions = np.frombuffer(pool_params(SAME, 2, 2), np.uint8)
    g = s.SubGraphT()
    g.name, g.tensors, g.inputs, g.outputs, g.operators = b"main", tensors, [0, 1], [2], [o]
    m = s.ModelT()
    m.version, m.operatorCodes, m.subgraphs, m.buffers = 3, [c], [g], [s.BufferT()]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(m))


def main():
    rng = np.random.default_rng(7)
    w1 = rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32)  # OHWI
    b1 = rng.normal(0, 0.1, (4,)).astype(np.float32)
    w2 = rng.normal(0, 0.5, (4, 3, 3, 4)).astype(np.float32)
    b2 = rng.normal(0, 0.1, (4,)).astype(np.float32)
    wt = rng.normal(0, 0.5, (2, 3, 3, 4)).astype(np.float32)  # [O, kh, kw, I]
    bt = rng.normal(0, 0.1, (2,)).astype(np.float32)
    x = rng.normal(0, 1, (1, 8, 8, 3)).astype(np.float32)

    y, idx = reference(x, w1, b1, w2, b2, wt, bt)
    with open(os.path.join(HERE, "unpool_net.tflite"), "wb") as f:
        f.write(build(w1, b1, w2, b2, wt, bt))
    with open(os.path.join(HERE, "unpool_only.tflite"), "wb") as f:
        f.write(unpool_only())
    np.save(os.path.join(HERE, "input.npy"), x)
    np.save(os.path.join(HERE, "reference.npy"), y.astype(np.float32))
    np.save(os.path.join(HERE, "reference_indices.npy"), idx.astype(np.int32))
    print("y", y.shape, "indices", idx.shape, "max |y|", float(np.abs(y).max()))


if __name__ == "__main__":
    main()
