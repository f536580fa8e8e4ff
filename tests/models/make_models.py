#!/usr/bin/env python3
"""Makes the small models and reference outputs the `tflite` crate's integration tests use.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install -r requirements.txt
    /tmp/venv/bin/python make_models.py

Converted with the current TF converter (tensorflow-cpu, see requirements.txt); references are
computed with Google's runtime (ai_edge_litert). Writes, next to this script:

- all_dtypes.tflite: 13 inputs x_<dtype> of shape [6] (float32, float64, float16, int8, uint8,
  int16, uint16, int32, uint32, int64, uint64, bool, string), each reshaped to an output [2, 3]
  (RESHAPE copies the data, so every dtype round-trips through a kernel). Multi-input/output.
- quant_int8.tflite: a conv + dense classifier quantized to full int8 (int8 input and output,
  real scales/zero points) with a representative dataset; quant_int8.in.i8 / .out.i8 hold an
  input and the reference output.
- dynamic_batch.tflite: input [None, 4] -> Dense(3) (fixed weights); resize the batch at run time.
  dynamic_batch.in.f32 holds 3 rows, dynamic_batch.out.f32 the reference [3, 3] output.
- signatures.tflite: a SavedModel with two signatures: `serving_default` (inputs a, b: f32[4];
  outputs sum = a + b, prod = a * b) and `scale` (input x: f32[4]; output y = 2 x).
- dynamic_range.tflite: a Dense model with dynamic-range quantization; today's converter writes
  FULLY_CONNECTED version 12, which stock TFLite 2.14.1 does not register (our patch adds it;
  tests/api.rs relabels it as version 13 for the unknown-op test).
- custom_op.tflite: a model whose only op is a custom op `TfliteRsTestOp`, unknown to TFLite.
- counting_loop.tflite: input n (int32 scalar) -> a WHILE loop running n times x <- x / 2 + 1
  from x = 0 -> x (float32): a model whose running time its input sets (deadline tests).

- while_without_nodes.tflite: input c (bool scalar) -> WHILE whose condition and body subgraphs
  have no operator (each passes its input through): with c true it never ends, and no node
  boundary is ever crossed (a cancellation test; written with TF's schema classes).

- residual_prelu.tflite: input [1, 12, 12, 8] -> 1x1 conv -> three residual blocks (depthwise 3x3,
  1x1 convs to 16 channels and back to 8, ADD with the block's input, PReLU): each PReLU output
  has two consumers, the next depthwise convolution and the next ADD (XNNPACK computes it in
  place: xnnpack/0007).
  residual_prelu.in.f32 / .out.f32: an input and Google's output.
- squeeze_excite.tflite: input [1, 6, 8, 4] -> GlobalAveragePooling2D(keepdims=True) (MEAN with
  keep_dims) -> Conv2D(4, 1, sigmoid) -> times the input: the squeeze-and-excitation block of
  MediaPipe's landscape selfie model (patch tensorflow/0044: XNNPACK must keep the MEAN's rank).
  squeeze_excite.in.f32 / .out.f32 hold an input and the reference output.

- int32_arithmetic.tflite: inputs a, b (int32 [4]) -> outputs add = a + b, sub = a - b,
  mul = a * b, sum = reduce_sum(a) (int32 [] ); TensorFlow's integer arithmetic wraps on
  overflow, and a test checks that ours does too (the native build uses -fwrapv). The script
  checks Google's runtime wraps on the same overflowing values.

- dynamic_range_block.tflite, dynamic_range_per_tensor.tflite: input [2, 6, 40] -> Dense(48, gelu)
  on every position (a rank-3 FULLY_CONNECTED) -> Flatten -> Dense(10), converted with the
  default optimisation and no representative data: dynamic-range FULLY_CONNECTED nodes with
  int8 weights per output channel (version 12), and in the second model per tensor (the
  converter's switch for dense layers). dynamic_range_block.in.f32 holds an input;
  `.xnnpack.out.f32` and `.builtin.out.f32` Google's runtime's outputs on its default XNNPACK
  path and on its builtin kernels, for each model (tests/dynamic_range.rs).
- dynamic_range_conv.tflite: input [2, 10, 10, 8] -> Conv2D(24, 3, relu) -> Conv2D(16, 3), the
  same conversion: dynamic-range CONV_2D nodes (int8 weights per output channel), with
  `.in.f32`, `.xnnpack.out.f32` and `.builtin.out.f32` as above.
- dynamic_range_bmm.tflite: input [3, 5, 24] -> matmul with a constant [3, 24, 20] -> matmul
  with a constant [3, 32, 20] transposed -> matmul with a constant [1, 32, 40] (broadcast over
  the batch), the same conversion: three dynamic-range BATCH_MATMUL nodes (int8 weights, one
  scale each), with `.in.f32`, `.xnnpack.out.f32` and `.builtin.out.f32` as above.

`make_models.py NAME...` makes only the named models (e.g. `counting_loop`).
"""
import os
import numpy as np
import tensorflow as tf

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = [tf.float32, tf.float64, tf.float16, tf.int8, tf.uint8, tf.int16, tf.uint16, tf.int32,
          tf.uint32, tf.int64, tf.uint64, tf.bool, tf.string]


def save(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def from_fn(module, fn):
    return tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], module).convert()


def all_dtypes():
    sig = [tf.TensorSpec([6], dt, name=f"x_{dt.name}") for dt in DTYPES]

    class M(tf.Module):
        @tf.function(input_signature=sig)
        def f(self, *xs):
            return {f"y_{dt.name}": tf.reshape(x, [2, 3]) for dt, x in zip(DTYPES, xs)}

    m = M()
    return from_fn(m, m.f)


def classifier():
    rng = np.random.default_rng(7)
    inp = tf.keras.Input((8, 8, 3), batch_size=1, name="image")
    conv = tf.keras.layers.Conv2D(4, 3, activation="relu")
    dense = tf.keras.layers.Dense(5)
    x = tf.keras.layers.Flatten()(conv(inp))
    model = tf.keras.Model(inp, tf.keras.layers.Softmax()(dense(x)))
    conv.set_weights([rng.normal(0, 0.5, (3, 3, 3, 4)).astype(np.float32), rng.normal(0, 0.1, 4).astype(np.float32)])
    dense.set_weights([rng.normal(0, 0.2, (144, 5)).astype(np.float32), rng.normal(0, 0.1, 5).astype(np.float32)])
    return model


def quant_int8():
    model = classifier()
    rng = np.random.default_rng(3)
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = lambda: ([rng.standard_normal((1, 8, 8, 3)).astype(np.float32)] for _ in range(64))
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


def dynamic_batch():
    inp = tf.keras.Input((4,), name="features")
    dense = tf.keras.layers.Dense(3)
    model = tf.keras.Model(inp, dense(inp))
    dense.set_weights([np.arange(12, dtype=np.float32).reshape(4, 3) / 10, np.array([0.5, -0.5, 1.0], np.float32)])
    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def signatures():
    class M(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([4], tf.float32, name="a"), tf.TensorSpec([4], tf.float32, name="b")])
        def serving(self, a, b):
            return {"sum": a + b, "prod": a * b}

        @tf.function(input_signature=[tf.TensorSpec([4], tf.float32, name="x")])
        def scale(self, x):
            return {"y": x * 2.0}

    m = M()
    path = os.path.join(HERE, "_signatures_savedmodel")
    tf.saved_model.save(m, path, signatures={"serving_default": m.serving, "scale": m.scale})
    out = tf.lite.TFLiteConverter.from_saved_model(path, signature_keys=["serving_default", "scale"]).convert()
    tf.io.gfile.rmtree(path)
    return out


def dynamic_range():
    inp = tf.keras.Input((64,), batch_size=1, name="x")
    dense = tf.keras.layers.Dense(32)
    model = tf.keras.Model(inp, dense(inp))
    dense.set_weights([np.random.default_rng(5).normal(0, 0.2, (64, 32)).astype(np.float32), np.zeros(32, np.float32)])
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    return conv.convert()


def dynamic_range_block(per_tensor):
    rng = np.random.default_rng(23)
    inp = tf.keras.Input((6, 40), batch_size=2, name="x")
    hidden = tf.keras.layers.Dense(48, activation="gelu")
    out = tf.keras.layers.Dense(10)
    model = tf.keras.Model(inp, out(tf.keras.layers.Flatten()(hidden(inp))))
    hidden.set_weights([rng.normal(0, 0.2, (40, 48)).astype(np.float32), rng.normal(0, 0.1, 48).astype(np.float32)])
    out.set_weights([rng.normal(0, 0.1, (288, 10)).astype(np.float32), rng.normal(0, 0.1, 10).astype(np.float32)])
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    if per_tensor:
        conv._experimental_disable_per_channel_quantization_for_dense_layers = True
    return conv.convert()


def dynamic_range_conv():
    rng = np.random.default_rng(31)
    inp = tf.keras.Input((10, 10, 8), batch_size=2, name="x")
    a = tf.keras.layers.Conv2D(24, 3, activation="relu")
    b = tf.keras.layers.Conv2D(16, 3)
    model = tf.keras.Model(inp, b(a(inp)))
    a.set_weights([rng.normal(0, 0.2, (3, 3, 8, 24)).astype(np.float32), rng.normal(0, 0.1, 24).astype(np.float32)])
    b.set_weights([rng.normal(0, 0.1, (3, 3, 24, 16)).astype(np.float32), rng.normal(0, 0.1, 16).astype(np.float32)])
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    return conv.convert()


def dynamic_range_bmm():
    rng = np.random.default_rng(41)
    w1 = tf.constant(rng.normal(0, 0.2, (3, 24, 20)).astype(np.float32))
    w2 = tf.constant(rng.normal(0, 0.2, (3, 32, 20)).astype(np.float32))
    w3 = tf.constant(rng.normal(0, 0.2, (1, 32, 40)).astype(np.float32))

    @tf.function(input_signature=[tf.TensorSpec([3, 5, 24], tf.float32, name="x")])
    def f(x):
        h = tf.linalg.matmul(tf.linalg.matmul(x, w1), w2, transpose_b=True)
        return tf.linalg.matmul(h, w3)

    conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    return conv.convert()


def run_builtin(model_bytes, x):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    it = Interpreter(model_content=model_bytes, num_threads=1,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    it.allocate_tensors()
    it.set_tensor(it.get_input_details()[0]["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"])


def custom_op():
    # An x + 1 model whose ADD is then re-labelled as the custom op `TfliteRsTestOp`, which no
    # TFLite runtime provides (edited with TF's own flatbuffer_utils).
    from tensorflow.lite.tools import flatbuffer_utils

    class M(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([4], tf.float32, name="x")])
        def f(self, x):
            return x + 1.0

    m = M()
    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(from_fn(m, m.f)))
    assert len(model.operatorCodes) == 1
    code = model.operatorCodes[0]
    code.builtinCode = code.deprecatedBuiltinCode = 32  # BuiltinOperator.CUSTOM
    code.customCode = b"TfliteRsTestOp"
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def counting_loop():
    class M(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([], tf.int32, name="n")])
        def f(self, n):
            _, x = tf.while_loop(
                lambda i, x: i < n, lambda i, x: (i + 1, x / 2.0 + 1.0), (tf.constant(0), tf.constant(0.0))
            )
            return x

    m = M()
    return from_fn(m, m.f)


def while_without_nodes():
    from tensorflow.lite.python import schema_py_generated as s
    from tensorflow.lite.tools import flatbuffer_utils

    def subgraph(name, ops, n_tensors=1):
        g = s.SubGraphT()
        g.name = name.encode()
        g.tensors = []
        for k in range(n_tensors):
            t = s.TensorT()
            t.name, t.shape, t.type, t.buffer = b"c%d" % k, [], s.TensorType.BOOL, 0
            g.tensors.append(t)
        g.inputs, g.outputs, g.operators = [0], [n_tensors - 1], ops
        return g

    code = s.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = s.BuiltinOperator.WHILE
    code.version = 1
    op = s.OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = 0, [0], [1]
    op.builtinOptionsType = s.BuiltinOptions.WhileOptions
    op.builtinOptions = s.WhileOptionsT()
    op.builtinOptions.condSubgraphIndex, op.builtinOptions.bodySubgraphIndex = 1, 2
    m = s.ModelT()
    m.version, m.operatorCodes, m.buffers = 3, [code], [s.BufferT()]
    m.subgraphs = [subgraph("main", [op], 2), subgraph("cond", []), subgraph("body", [])]
    return bytes(flatbuffer_utils.convert_object_to_bytearray(m))


def squeeze_excite():
    inp = tf.keras.Input((6, 8, 4), batch_size=1, name="x")
    squeeze = tf.keras.layers.GlobalAveragePooling2D(keepdims=True)(inp)
    conv = tf.keras.layers.Conv2D(4, 1, activation="sigmoid")
    model = tf.keras.Model(inp, tf.keras.layers.Multiply()([inp, conv(squeeze)]))
    rng = np.random.default_rng(13)
    conv.set_weights([rng.normal(0, 1, (1, 1, 4, 4)).astype(np.float32), rng.normal(0, 0.5, 4).astype(np.float32)])
    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def residual_prelu():
    # Three residual blocks as MediaPipe's detectors build them: depthwise 3x3 -> 1x1 conv to
    # 16 channels -> 1x1 conv back to 8 -> ADD with the block's input -> PReLU, whose output
    # feeds both the next block's depthwise convolution and its ADD: an elementwise output with
    # two consumers. XNNPACK's planner places the larger 16-channel tensor first; had the
    # PReLU output's memory been freed after its first consumer, that tensor would share it.
    rng = np.random.default_rng(29)
    inp = tf.keras.Input((12, 12, 8), batch_size=1, name="x")
    conv0 = tf.keras.layers.Conv2D(8, 1)
    h = conv0(inp)
    layers = [(conv0, [rng.normal(0, 0.5, (1, 1, 8, 8)), rng.normal(0, 0.1, 8)])]
    for _ in range(3):
        dw = tf.keras.layers.DepthwiseConv2D(3, padding="same")
        up = tf.keras.layers.Conv2D(16, 1)
        pw = tf.keras.layers.Conv2D(8, 1)
        act = tf.keras.layers.PReLU(shared_axes=[1, 2])
        h = act(tf.keras.layers.Add()([pw(up(dw(h))), h]))
        layers += [(dw, [rng.normal(0, 0.4, (3, 3, 8, 1)), rng.normal(0, 0.1, 8)]),
                   (up, [rng.normal(0, 0.4, (1, 1, 8, 16)), rng.normal(0, 0.1, 16)]),
                   (pw, [rng.normal(0, 0.3, (1, 1, 16, 8)), rng.normal(0, 0.1, 8)]),
                   (act, [rng.uniform(0.05, 0.3, (1, 1, 8))])]
    model = tf.keras.Model(inp, h)
    for layer, weights in layers:
        layer.set_weights([w.astype(np.float32) for w in weights])
    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def int32_arithmetic():
    spec = [tf.TensorSpec([4], tf.int32, name="a"), tf.TensorSpec([4], tf.int32, name="b")]

    class M(tf.Module):
        @tf.function(input_signature=spec)
        def f(self, a, b):
            return {"add": a + b, "sub": a - b, "mul": a * b, "sum": tf.reduce_sum(a)}

    m = M()
    return from_fn(m, m.f)


def run(model_bytes, inputs):
    from ai_edge_litert.interpreter import Interpreter
    it = Interpreter(model_content=model_bytes, num_threads=1)
    det = it.get_input_details()
    for d, x in zip(det, inputs):
        if list(d["shape"]) != list(x.shape):
            it.resize_tensor_input(d["index"], list(x.shape))
    it.allocate_tensors()
    for d, x in zip(it.get_input_details(), inputs):
        it.set_tensor(d["index"], x)
    it.invoke()
    return [it.get_tensor(d["index"]) for d in it.get_output_details()]


def main(only):
    def want(name):
        return not only or name in only

    if want("all_dtypes"):
        save("all_dtypes.tflite", all_dtypes())

    if want("quant_int8"):
        q = quant_int8()
        save("quant_int8.tflite", q)
        x = np.random.default_rng(11).integers(-128, 128, (1, 8, 8, 3)).astype(np.int8)
        x.tofile(os.path.join(HERE, "quant_int8.in.i8"))
        run(q, [x])[0].astype(np.int8).tofile(os.path.join(HERE, "quant_int8.out.i8"))

    if want("dynamic_batch"):
        d = dynamic_batch()
        save("dynamic_batch.tflite", d)
        x = np.arange(12, dtype=np.float32).reshape(3, 4) - 5
        x.astype("<f4").tofile(os.path.join(HERE, "dynamic_batch.in.f32"))
        run(d, [x])[0].astype("<f4").tofile(os.path.join(HERE, "dynamic_batch.out.f32"))

    if want("residual_prelu"):
        d = residual_prelu()
        save("residual_prelu.tflite", d)
        x = np.random.default_rng(31).normal(0, 1, (1, 12, 12, 8)).astype(np.float32)
        x.astype("<f4").tofile(os.path.join(HERE, "residual_prelu.in.f32"))
        run(d, [x])[0].astype("<f4").tofile(os.path.join(HERE, "residual_prelu.out.f32"))

    if want("squeeze_excite"):
        d = squeeze_excite()
        save("squeeze_excite.tflite", d)
        x = np.random.default_rng(17).normal(0, 1, (1, 6, 8, 4)).astype(np.float32)
        x.astype("<f4").tofile(os.path.join(HERE, "squeeze_excite.in.f32"))
        run(d, [x])[0].astype("<f4").tofile(os.path.join(HERE, "squeeze_excite.out.f32"))

    if want("dynamic_range_block"):
        from tensorflow.lite.python import schema_py_generated as schema
        x = np.random.default_rng(29).normal(0, 1, (2, 6, 40)).astype(np.float32)
        x.astype("<f4").tofile(os.path.join(HERE, "dynamic_range_block.in.f32"))
        for name, per_tensor in [("dynamic_range_block", False), ("dynamic_range_per_tensor", True)]:
            d = dynamic_range_block(per_tensor)
            save(name + ".tflite", d)
            # Both FULLY_CONNECTED nodes have int8 weights, per channel or per tensor as named.
            m = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(d, 0))
            g = m.subgraphs[0]
            fcs = [op for op in g.operators if m.operatorCodes[op.opcodeIndex].builtinCode == 9]
            assert len(fcs) == 2, len(fcs)
            for op in fcs:
                w = g.tensors[op.inputs[1]]
                assert w.type == 9, w.type  # INT8
                assert (len(w.quantization.scale) == 1) == per_tensor, len(w.quantization.scale)
            run(d, [x])[0].astype("<f4").tofile(os.path.join(HERE, name + ".xnnpack.out.f32"))
            run_builtin(d, x).astype("<f4").tofile(os.path.join(HERE, name + ".builtin.out.f32"))

    if want("dynamic_range_conv"):
        from tensorflow.lite.python import schema_py_generated as schema
        x = np.random.default_rng(37).normal(0, 1, (2, 10, 10, 8)).astype(np.float32)
        x.astype("<f4").tofile(os.path.join(HERE, "dynamic_range_conv.in.f32"))
        d = dynamic_range_conv()
        save("dynamic_range_conv.tflite", d)
        m = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(d, 0))
        g = m.subgraphs[0]
        convs = [op for op in g.operators if m.operatorCodes[op.opcodeIndex].builtinCode == 3]
        assert len(convs) == 2 and all(g.tensors[op.inputs[1]].type == 9 for op in convs)
        run(d, [x])[0].astype("<f4").tofile(os.path.join(HERE, "dynamic_range_conv.xnnpack.out.f32"))
        run_builtin(d, x).astype("<f4").tofile(os.path.join(HERE, "dynamic_range_conv.builtin.out.f32"))

    if want("dynamic_range_bmm"):
        from tensorflow.lite.python import schema_py_generated as schema
        x = np.random.default_rng(43).normal(0, 1, (3, 5, 24)).astype(np.float32)
        x.astype("<f4").tofile(os.path.join(HERE, "dynamic_range_bmm.in.f32"))
        d = dynamic_range_bmm()
        save("dynamic_range_bmm.tflite", d)
        m = schema.ModelT.InitFromObj(schema.Model.GetRootAsModel(d, 0))
        g = m.subgraphs[0]
        bmms = [op for op in g.operators if m.operatorCodes[op.opcodeIndex].builtinCode == 126]
        assert len(bmms) == 3 and all(g.tensors[op.inputs[1]].type == 9 for op in bmms), \
            [m.operatorCodes[op.opcodeIndex].builtinCode for op in g.operators]
        run(d, [x])[0].astype("<f4").tofile(os.path.join(HERE, "dynamic_range_bmm.xnnpack.out.f32"))
        run_builtin(d, x).astype("<f4").tofile(os.path.join(HERE, "dynamic_range_bmm.builtin.out.f32"))

    for name, make in [
        ("signatures", signatures),
        ("dynamic_range", dynamic_range),
        ("custom_op", custom_op),
        ("counting_loop", counting_loop),
        ("while_without_nodes", while_without_nodes),
        ("int32_arithmetic", int32_arithmetic),
    ]:
        if want(name):
            save(name + ".tflite", make())
    if want("counting_loop"):
        # Google's runtime agrees: 10 steps of x / 2 + 1 from 0.
        got = run(open(os.path.join(HERE, "counting_loop.tflite"), "rb").read(), [np.int32(10)])[0]
        assert abs(float(got) - (2 - 2 ** -9)) < 1e-6, got
    if want("int32_arithmetic"):
        # Google's runtime wraps on overflow, as TensorFlow defines it.
        from ai_edge_litert.interpreter import Interpreter
        it = Interpreter(model_path=os.path.join(HERE, "int32_arithmetic.tflite"))
        runner = it.get_signature_runner()
        big = 2**31 - 1
        a = np.array([big, -big - 1, 65536, 7], np.int32)
        b = np.array([1, 1, 65536, -9], np.int32)
        got = runner(a=a, b=b)
        w = lambda v: ((np.asarray(v, np.int64) + 2**31) % 2**32 - 2**31).astype(np.int32)
        a64, b64 = a.astype(np.int64), b.astype(np.int64)
        assert (got["add"] == w(a64 + b64)).all(), got
        assert (got["sub"] == w(a64 - b64)).all(), got
        assert (got["mul"] == w(a64 * b64)).all(), got
        assert got["sum"] == w(a64.sum()), got
    for f in sorted(os.listdir(HERE)):
        print(f, os.path.getsize(os.path.join(HERE, f)))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
