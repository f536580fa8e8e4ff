"""Makes the hand-made regression models of tests/fuzz_regressions/ (the others are the
fuzzers' finds, committed as found): operands of a lower rank than their kernel indexes
(tests/corruption.rs, `a_scalar_has_no_last_dimension` and
`operands_of_too_low_a_rank_are_refused`; each read or wrote past a shape in TFLite 2.14.1
under AddressSanitizer, and tensorflow/0055-0057 refuse them at Prepare), and QUANTIZE →
DEQUANTIZE for values outside int32 once divided by the scale (tensorflow/0058,
`quantize_saturates_values_outside_the_integer_range`), and SPACE_TO_DEPTH / DEPTH_TO_SPACE
whose block size overflows their output shape in int (tensorflow/0061,
`sizes_past_int_are_refused`), and outputs of another type than their kernel writes
(tensorflow/0063, `output_types_the_kernels_write_are_checked`), and an int64 after-padding
past int32 (tensorflow/0078, `int64_paddings_past_int32_are_refused`).

Run from the repository root with TensorFlow or ai-edge-litert installed (tflwriter.py):
    python3 tests/fuzz_regressions/make_rank_cases.py
"""

import numpy as np
from tflwriter import OUT, empty, load, s, save, tensor
from tflwriter import op as add_op


def one_op(code, inputs, outputs, options_type, options, model):
    """Makes `model` (from `empty()`) run one builtin op."""
    add_op(model, code, inputs, outputs, options_type, options)
    return model


def rnn(name, code, x_shape, units, y_shape, options_type, options, y_type=s.TensorType.FLOAT32):
    """Saves a one-op recurrent model: input x_shape (4 features), `units` units with constant
    weights, a variable hidden state [1, units], output y_shape of y_type."""
    m = empty()
    x = tensor(m, x_shape)
    w = tensor(m, [units, 4], data=f32(units * 4))
    r = tensor(m, [units, units], data=f32(units * units))
    b = tensor(m, [units], data=f32(units))
    h = tensor(m, [1, units], variable=True)
    y = tensor(m, y_shape, y_type)
    one_op(code, [x, w, r, b, h], [y], options_type, options, m)
    m.subgraphs[0].inputs = np.array([x], dtype=np.int32)
    m.subgraphs[0].outputs = np.array([y], dtype=np.int32)
    save(m, name)


def f32(n):
    return np.arange(n, dtype=np.float32) / n


# LOG_SOFTMAX over a constant scalar: the structure fuzzer's find (committed as found),
# rewritten as L2_NORMALIZATION, which indexes its input the same way.
m = load(OUT + "log_softmax_scalar_input.tflite")
m.operatorCodes[0].builtinCode = s.BuiltinOperator.L2_NORMALIZATION
m.operatorCodes[0].deprecatedBuiltinCode = s.BuiltinOperator.L2_NORMALIZATION
op = m.subgraphs[0].operators[0]
op.builtinOptionsType = s.BuiltinOptions.L2NormOptions
op.builtinOptions = s.L2NormOptionsT()
save(m, "l2_normalization_scalar_input.tflite")

# FULLY_CONNECTED with keep_num_dims over a scalar input and an empty filter [8, 0]
# (the compatibility corpus's dense model, edited).
m = load("tests/compat/dense.float32.tflite")
g = m.subgraphs[0]
g.tensors[0].shape = np.array([], dtype=np.int32)
g.tensors[0].shapeSignature = None
g.tensors[2].shape = np.array([8, 0], dtype=np.int32)
g.tensors[2].shapeSignature = None
m.buffers[3].data = None
g.operators[0].builtinOptions.keepNumDims = True
save(m, "fully_connected_keep_dims_scalar_input.tflite")

# RNN whose input is a vector, not [batch, input_size]: Prepare read input dims[1].
rnn("rnn_vector_input.tflite", s.BuiltinOperator.RNN, [4], 3, [1, 3], s.BuiltinOptions.RNNOptions,
    s.RNNOptionsT())

# SVDF whose input is a vector: Prepare read input dims[1].
m = empty()
x = tensor(m, [4])
wf = tensor(m, [4, 4], data=f32(16))
wt = tensor(m, [4, 2], data=f32(8))
st = tensor(m, [1, 8], variable=True)
y = tensor(m, [1, 4])
opts = s.SVDFOptionsT()
opts.rank = 1
one_op(s.BuiltinOperator.SVDF, [x, wf, wt, -1, st], [y], s.BuiltinOptions.SVDFOptions, opts, m)
m.subgraphs[0].inputs = np.array([x], dtype=np.int32)
m.subgraphs[0].outputs = np.array([y], dtype=np.int32)
save(m, "svdf_vector_input.tflite")

# SEGMENT_SUM of a constant scalar by a constant scalar id: Prepare read dims[0] of both.
m = empty()
d = tensor(m, [], data=np.float32(2.0))
ids = tensor(m, [], dtype=s.TensorType.INT32, data=np.int32(0))
x = tensor(m, [1])
y = tensor(m, [1])
one_op(s.BuiltinOperator.SEGMENT_SUM, [d, ids], [y], s.BuiltinOptions.SegmentSumOptions,
       s.SegmentSumOptionsT(), m)
m.subgraphs[0].inputs = np.array([x], dtype=np.int32)
m.subgraphs[0].outputs = np.array([y], dtype=np.int32)
save(m, "segment_sum_scalar_operands.tflite")

# UNIDIRECTIONAL_SEQUENCE_RNN whose input is [batch, input_size], not [time, batch, size]:
# Prepare read input dims[2].
rnn("sequence_rnn_matrix_input.tflite", s.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_RNN, [1, 4], 3,
    [1, 1, 3], s.BuiltinOptions.SequenceRNNOptions, s.SequenceRNNOptionsT())

# QUANTIZE float32 [4] -> int8 (scale 0.1, zero point -23) -> DEQUANTIZE: an input of -1e30
# divided by the scale is outside int32, which the kernel converted before clamping.
m = empty()
x = tensor(m, [4])
q = tensor(m, [4], dtype=s.TensorType.INT8)
qp = s.QuantizationParametersT()
qp.scale = np.array([0.1], dtype=np.float32)
qp.zeroPoint = np.array([-23], dtype=np.int64)
m.subgraphs[0].tensors[q].quantization = qp
y = tensor(m, [4])
codes = []
for code in (s.BuiltinOperator.QUANTIZE, s.BuiltinOperator.DEQUANTIZE):
    oc = s.OperatorCodeT()
    oc.builtinCode = code
    oc.deprecatedBuiltinCode = code
    oc.version = 1
    codes.append(oc)
m.operatorCodes = codes
ops = []
for k, (i, o) in enumerate([(x, q), (q, y)]):
    op = s.OperatorT()
    op.opcodeIndex = k
    op.inputs = np.array([i], dtype=np.int32)
    op.outputs = np.array([o], dtype=np.int32)
    ops.append(op)
m.subgraphs[0].operators = ops
m.subgraphs[0].inputs = np.array([x], dtype=np.int32)
m.subgraphs[0].outputs = np.array([y], dtype=np.int32)
save(m, "quantize_out_of_int_range.tflite")

# SPACE_TO_DEPTH and DEPTH_TO_SPACE with a block size of 2^16: the output depth (height)
# is the input's times the block size (squared), in int (tensorflow/0061).
for code, opts_type, opts_cls, shape, name in [
    (s.BuiltinOperator.SPACE_TO_DEPTH, s.BuiltinOptions.SpaceToDepthOptions,
     s.SpaceToDepthOptionsT, [1, 0, 0, 1], "space_to_depth_huge_block.tflite"),
    (s.BuiltinOperator.DEPTH_TO_SPACE, s.BuiltinOptions.DepthToSpaceOptions,
     s.DepthToSpaceOptionsT, [1, 65536, 1, 4], "depth_to_space_huge_block.tflite"),
]:
    m = empty()
    x = tensor(m, shape)
    y = tensor(m, [1, 1, 1, 1])
    opts = opts_cls()
    opts.blockSize = 1 << 16
    one_op(code, [x], [y], opts_type, opts, m)
    m.subgraphs[0].inputs = np.array([x], dtype=np.int32)
    m.subgraphs[0].outputs = np.array([y], dtype=np.int32)
    save(m, name)

# Outputs of another type than the kernel writes (tensorflow/0063; the structure fuzzer found
# it in SUM, and a script over the kernels' Prepare functions found the others): each output
# is int8, one byte per element, where the kernel writes 4. Sizes of 256 (64 units for RNN) take
# the writes past the arena's 64-byte alignment padding.
I8 = s.TensorType.INT8
I32 = s.TensorType.INT32
for name, code, opts_type, opts, operands in [
    # CUMSUM of float32 [256] over axis 0.
    ("cumsum_int8_output.tflite", s.BuiltinOperator.CUMSUM, s.BuiltinOptions.CumsumOptions,
     s.CumsumOptionsT(), lambda m: [tensor(m, [256]), tensor(m, [], I32, np.int32(0))]),
    # SEGMENT_SUM of float32 [4] by ids [0, 0, 1, 1].
    ("segment_sum_int8_output.tflite", s.BuiltinOperator.SEGMENT_SUM,
     s.BuiltinOptions.SegmentSumOptions, s.SegmentSumOptionsT(),
     lambda m: [tensor(m, [4]), tensor(m, [4], I32, np.array([0, 0, 1, 1], np.int32))]),
    # UNSORTED_SEGMENT_SUM of float32 [256] by ids 0..255 into 256 segments.
    ("unsorted_segment_sum_int8_output.tflite", s.BuiltinOperator.UNSORTED_SEGMENT_SUM,
     s.BuiltinOptions.UnsortedSegmentSumOptions, s.UnsortedSegmentSumOptionsT(),
     lambda m: [tensor(m, [256]), tensor(m, [256], I32, np.arange(256, dtype=np.int32)),
                tensor(m, [], I32, np.int32(256))]),
]:
    m = empty()
    ins = operands(m)
    y = tensor(m, [256 if code != s.BuiltinOperator.SEGMENT_SUM else 2], I8)
    one_op(code, ins, [y], opts_type, opts, m)
    m.subgraphs[0].inputs = np.array([ins[0]], dtype=np.int32)
    m.subgraphs[0].outputs = np.array([y], dtype=np.int32)
    save(m, name)

# UNIQUE of float32 [4]: values as int8, indices int32.
m = empty()
x = tensor(m, [4])
y = tensor(m, [4], I8)
idx = tensor(m, [4], I32)
one_op(s.BuiltinOperator.UNIQUE, [x], [y, idx], s.BuiltinOptions.UniqueOptions,
       s.UniqueOptionsT(), m)
m.subgraphs[0].inputs = np.array([x], dtype=np.int32)
m.subgraphs[0].outputs = np.array([y, idx], dtype=np.int32)
save(m, "unique_int8_values.tflite")

# RNN [1, 4] -> 64 units, with an int8 output.
rnn("rnn_int8_output.tflite", s.BuiltinOperator.RNN, [1, 4], 64, [1, 64],
    s.BuiltinOptions.RNNOptions, s.RNNOptionsT(), I8)

# PAD of float32 [2] by the constant int64 paddings [[0, 2^32 + 1]]: the range check read
# `dims` values of the dims x 2 matrix, so the after-padding went unchecked and was truncated
# to 1 (tensorflow/0078).
m = empty()
x = tensor(m, [2])
p = tensor(m, [1, 2], s.TensorType.INT64, np.array([0, (1 << 32) + 1], np.int64))
y = tensor(m, [3])
one_op(s.BuiltinOperator.PAD, [x, p], [y], s.BuiltinOptions.PadOptions, s.PadOptionsT(), m)
m.subgraphs[0].inputs = np.array([x], dtype=np.int32)
m.subgraphs[0].outputs = np.array([y], dtype=np.int32)
save(m, "pad_int64_after_padding_past_int32.tflite")
