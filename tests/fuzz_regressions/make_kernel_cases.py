"""Makes the valid models of tests/fuzz_regressions/ on which a builtin kernel of TFLite 2.14.1
crashed as built here: int8 (per-channel) and uint8 (per-tensor) DEPTHWISE_CONV_2D with a 1x1
kernel, depth multiplier 1 and 15 channels on a 16x22 image (the shape on which TFLite's own
XNNPACK-delegate tests found it, in their no-delegate reference interpreter). Its NEON path,
built on x86-64 through NEON_2_SSE, segfaulted (tensorflow/0079;
tests/corruption.rs, `depthwise_conv_on_x86_takes_the_portable_path`).

Run from the repository root with TensorFlow or ai-edge-litert installed (tflwriter.py):
    python3 tests/fuzz_regressions/make_kernel_cases.py
"""

import numpy as np
from tflwriter import empty, io, op, s, save, tensor

CHANNELS = 15


def depthwise(name, dtype, np_dtype, in_q, w_q, out_q, weights):
    """One DEPTHWISE_CONV_2D: input [1, 16, 22, CHANNELS] -> same shape, 1x1 kernel."""
    m = empty()
    x = tensor(m, [1, 16, 22, CHANNELS], dtype, quant=in_q)
    w = tensor(m, [1, 1, 1, CHANNELS], dtype, np.asarray(weights, np_dtype), quant=w_q)
    bias_scales = [in_q[0][0] * ws for ws in w_q[0]]
    bias = np.arange(CHANNELS, dtype=np.int32) * 7 - 50
    b = tensor(m, [CHANNELS], s.TensorType.INT32, bias, quant=(bias_scales, [0] * len(bias_scales)))
    y = tensor(m, [1, 16, 22, CHANNELS], dtype, quant=out_q)
    options = s.DepthwiseConv2DOptionsT()
    options.padding = s.Padding.SAME
    options.strideW = options.strideH = 1
    options.dilationWFactor = options.dilationHFactor = 1
    options.depthMultiplier = 1
    op(m, s.BuiltinOperator.DEPTHWISE_CONV_2D, [x, w, b], [y],
       s.BuiltinOptions.DepthwiseConv2DOptions, options)
    io(m, [x], [y])
    save(m, name)


depthwise(
    "depthwise_conv_int8_15_channels.tflite", s.TensorType.INT8, np.int8,
    in_q=([0.5], [-3]),
    w_q=([0.02 + 0.001 * c for c in range(CHANNELS)], [0] * CHANNELS, 3),
    out_q=([0.25], [5]),
    weights=[(c * 37) % 255 - 127 for c in range(CHANNELS)],
)
depthwise(
    "depthwise_conv_uint8_15_channels.tflite", s.TensorType.UINT8, np.uint8,
    in_q=([0.5], [128]),
    w_q=([0.03], [120]),
    out_q=([0.25], [131]),
    weights=[(c * 37) % 256 for c in range(CHANNELS)],
)
