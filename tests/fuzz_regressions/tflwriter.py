"""Writes small TFLite models from Python for the make_*_cases.py generators beside it:
subgraph 0 of an `empty()` model, grown one tensor and one builtin operator at a time.

Needs the flatbuffer schema module of TensorFlow or of ai-edge-litert (either works).
"""

import flatbuffers
import numpy as np

try:
    from tensorflow.lite.python import schema_py_generated as s
except ImportError:
    from ai_edge_litert import schema_py_generated as s

OUT = "tests/fuzz_regressions/"


def load(path):
    with open(path, "rb") as f:
        buf = f.read()
    return s.ModelT.InitFromObj(s.Model.GetRootAsModel(buf, 0))


def save(model, name):
    b = flatbuffers.Builder(0)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    with open(OUT + name, "wb") as f:
        f.write(b.Output())


def empty():
    m = s.ModelT()
    m.version = 3
    m.buffers = [s.BufferT()]  # buffer 0: empty by convention
    g = s.SubGraphT()
    g.tensors = []
    g.operators = []
    g.name = b"main"
    m.subgraphs = [g]
    m.operatorCodes = []
    return m


def tensor(m, shape, dtype=s.TensorType.FLOAT32, data=None, variable=False, quant=None):
    """Appends a tensor (and its buffer) to subgraph 0; returns its index. `data`: bytes or
    a numpy value; `quant`: (scales, zero_points[, quantized_dimension])."""
    buf = s.BufferT()
    if data is not None:
        buf.data = np.frombuffer(np.asarray(data).tobytes(), dtype=np.uint8)
    m.buffers.append(buf)
    t = s.TensorT()
    t.shape = np.array(shape, dtype=np.int32)
    t.type = dtype
    t.buffer = len(m.buffers) - 1
    t.name = b"t%d" % len(m.subgraphs[0].tensors)
    t.isVariable = variable
    if quant is not None:
        q = s.QuantizationParametersT()
        q.scale = np.array(quant[0], dtype=np.float32)
        q.zeroPoint = np.array(quant[1], dtype=np.int64)
        q.quantizedDimension = quant[2] if len(quant) > 2 else 0
        t.quantization = q
    m.subgraphs[0].tensors.append(t)
    return len(m.subgraphs[0].tensors) - 1


def op(m, code, inputs, outputs, options_type=0, options=None):
    """Appends a builtin operator to subgraph 0."""
    codes = [c.builtinCode for c in m.operatorCodes]
    if code not in codes:
        oc = s.OperatorCodeT()
        oc.builtinCode = code
        oc.deprecatedBuiltinCode = min(code, 127)
        oc.version = 1
        m.operatorCodes.append(oc)
        codes.append(code)
    o = s.OperatorT()
    o.opcodeIndex = codes.index(code)
    o.inputs = np.array(inputs, dtype=np.int32)
    o.outputs = np.array(outputs, dtype=np.int32)
    o.builtinOptionsType = options_type
    o.builtinOptions = options
    m.subgraphs[0].operators.append(o)


def io(m, inputs, outputs):
    m.subgraphs[0].inputs = np.array(inputs, dtype=np.int32)
    m.subgraphs[0].outputs = np.array(outputs, dtype=np.int32)
