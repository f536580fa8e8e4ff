"""Makes the valid models of tests/fuzz_regressions/ that hold what the other models do not:
tensors with no data buffer (a resource variable assigned and read back; a hash table
imported and looked up: tests/corruption.rs,
`tensors_without_data_are_only_for_the_kernels_that_handle_them`, which also replays
SOFTMAX writing into a RESOURCE output, the other structure-aware mutator's find), custom
options parsed by TFLite's own custom operators (AudioSpectrogram -> Mfcc; and the same with
the options stored past the flatbuffer, which TFLite's C API passes to the kernel as none), a
sparse constant
(DENSIFY), constants stored past the flatbuffer at an offset (the > 2 GB layout) and
LSH_PROJECTION (valid, and with an int8 output its kernel writes int32 into). The valid ones are
seeds of the structure-aware mutator too (tests/structure.rs), so the schema's rarer fields get
mutated.

Run from the repository root with TensorFlow or ai-edge-litert installed (for its flatbuffer
schema module):
    python3 tests/fuzz_regressions/make_resource_cases.py
"""

import flatbuffers
import numpy as np
from tflwriter import OUT, empty, io, load, op, s, save, tensor


def strings(values):
    """TFLite's string tensor layout: count, offsets, then the bytes."""
    n = len(values)
    offsets = [4 * (n + 2)]
    for v in values:
        offsets.append(offsets[-1] + len(v))
    return np.array([n] + offsets, dtype=np.int32).tobytes() + b"".join(values)


B = s.BuiltinOperator

# x -> VAR_HANDLE -> ASSIGN_VARIABLE(handle, x) -> READ_VARIABLE(handle) -> y: y == x.
m = empty()
x = tensor(m, [1, 4])
handle = tensor(m, [], s.TensorType.RESOURCE)
y = tensor(m, [1, 4])
options = s.VarHandleOptionsT()
options.sharedName = b"v"
op(m, B.VAR_HANDLE, [], [handle], s.BuiltinOptions.VarHandleOptions, options)
op(m, B.ASSIGN_VARIABLE, [handle, x], [], s.BuiltinOptions.AssignVariableOptions,
   s.AssignVariableOptionsT())
op(m, B.READ_VARIABLE, [handle], [y], s.BuiltinOptions.ReadVariableOptions,
   s.ReadVariableOptionsT())
io(m, [x], [y])
save(m, "resource_variable.tflite")

# A hash table from int64 keys [1, 2, 3] to strings "one" "two" "three": key -> value, or
# "none"; and the table's size.
m = empty()
key = tensor(m, [1], s.TensorType.INT64)
table = tensor(m, [], s.TensorType.RESOURCE)
keys = tensor(m, [3], s.TensorType.INT64, np.array([1, 2, 3], dtype=np.int64).tobytes())
values = tensor(m, [3], s.TensorType.STRING, strings([b"one", b"two", b"three"]))
default = tensor(m, [], s.TensorType.STRING, strings([b"none"]))
found = tensor(m, [1], s.TensorType.STRING)
size = tensor(m, [], s.TensorType.INT64)
options = s.HashtableOptionsT()
options.tableId = 1
options.keyDtype = s.TensorType.INT64
options.valueDtype = s.TensorType.STRING
op(m, B.HASHTABLE, [], [table], s.BuiltinOptions.HashtableOptions, options)
op(m, B.HASHTABLE_IMPORT, [table, keys, values], [], s.BuiltinOptions.HashtableImportOptions,
   s.HashtableImportOptionsT())
op(m, B.HASHTABLE_FIND, [table, key, default], [found], s.BuiltinOptions.HashtableFindOptions,
   s.HashtableFindOptionsT())
op(m, B.HASHTABLE_SIZE, [table], [size], s.BuiltinOptions.HashtableSizeOptions,
   s.HashtableSizeOptionsT())
io(m, [key], [found, size])
save(m, "hashtable_lookup.tflite")

# AudioSpectrogram -> Mfcc, TFLite's custom operators whose options are FlexBuffer maps:
# 64 samples -> [1, 7, 9] spectrogram -> [1, 7, 13] coefficients.
from flatbuffers import flexbuffers


def custom(m, name, inputs, outputs, options):
    codes = [c.customCode for c in m.operatorCodes]
    if name not in codes:
        oc = s.OperatorCodeT()
        oc.builtinCode = B.CUSTOM
        oc.deprecatedBuiltinCode = B.CUSTOM
        oc.customCode = name
        oc.version = 1
        m.operatorCodes.append(oc)
        codes.append(name)
    o = s.OperatorT()
    o.opcodeIndex = codes.index(name)
    o.inputs = np.array(inputs, dtype=np.int32)
    o.outputs = np.array(outputs, dtype=np.int32)
    o.customOptions = list(flexbuffers.Dumps(options))
    o.customOptionsFormat = s.CustomOptionsFormat.FLEXBUFFERS
    m.subgraphs[0].operators.append(o)


m = empty()
wav = tensor(m, [64, 1])
spectrogram = tensor(m, [1, 7, 9])
rate = tensor(m, [], s.TensorType.INT32, np.array([16000], dtype=np.int32).tobytes())
mfcc = tensor(m, [1, 7, 13])
custom(m, b"AudioSpectrogram", [wav], [spectrogram],
       {"window_size": 16, "stride": 8, "magnitude_squared": True})
custom(m, b"Mfcc", [spectrogram, rate], [mfcc],
       {"upper_frequency_limit": 4000, "lower_frequency_limit": 20,
        "filterbank_channel_count": 40, "dct_coefficient_count": 13})
io(m, [wav], [mfcc])
save(m, "audio_mfcc.tflite")

# DENSIFY of a sparse constant (CSR, int32 segments and uint8 indices; a 2x1 block map,
# uint16 indices), added to the input: x [4, 4] + dense.
m = empty()
x = tensor(m, [4, 4])
values = np.array([1, 2, 3], dtype=np.float32)
sparse = tensor(m, [4, 4], data=values.tobytes())
sp = s.SparsityParametersT()
sp.traversalOrder = np.array([0, 1], dtype=np.int32)
dense = s.DimensionMetadataT()
dense.format = s.DimensionType.DENSE
dense.denseSize = 4
csr = s.DimensionMetadataT()
csr.format = s.DimensionType.SPARSE_CSR
csr.arraySegmentsType = s.SparseIndexVector.Int32Vector
csr.arraySegments = s.Int32VectorT()
csr.arraySegments.values = np.array([0, 1, 2, 2, 3], dtype=np.int32)
csr.arrayIndicesType = s.SparseIndexVector.Uint8Vector
csr.arrayIndices = s.Uint8VectorT()
csr.arrayIndices.values = np.array([0, 2, 1], dtype=np.uint8)
sp.dimMetadata = [dense, csr]
m.subgraphs[0].tensors[sparse].sparsity = sp
densified = tensor(m, [4, 4])
y = tensor(m, [4, 4])
op(m, B.DENSIFY, [sparse], [densified], s.BuiltinOptions.DensifyOptions, s.DensifyOptionsT())
op(m, B.ADD, [x, densified], [y], s.BuiltinOptions.AddOptions, s.AddOptionsT())
# A second sparse constant, in 2x1 blocks with uint16 indices: [4, 2] from 2 blocks.
blocked = tensor(m, [4, 2], data=np.array([5, 6, 7, 8], dtype=np.float32).tobytes())
sp = s.SparsityParametersT()
sp.traversalOrder = np.array([0, 1, 2, 3], dtype=np.int32)
sp.blockMap = np.array([0, 1], dtype=np.int32)
rows = s.DimensionMetadataT()
rows.format = s.DimensionType.DENSE
rows.denseSize = 2
cols = s.DimensionMetadataT()
cols.format = s.DimensionType.SPARSE_CSR
cols.arraySegmentsType = s.SparseIndexVector.Uint16Vector
cols.arraySegments = s.Uint16VectorT()
cols.arraySegments.values = np.array([0, 1, 2], dtype=np.uint16)
cols.arrayIndicesType = s.SparseIndexVector.Uint16Vector
cols.arrayIndices = s.Uint16VectorT()
cols.arrayIndices.values = np.array([0, 1], dtype=np.uint16)
block_rows = s.DimensionMetadataT()
block_rows.format = s.DimensionType.DENSE
block_rows.denseSize = 2
block_cols = s.DimensionMetadataT()
block_cols.format = s.DimensionType.DENSE
block_cols.denseSize = 1
sp.dimMetadata = [rows, cols, block_rows, block_cols]
m.subgraphs[0].tensors[blocked].sparsity = sp
densified2 = tensor(m, [4, 2])
op(m, B.DENSIFY, [blocked], [densified2], s.BuiltinOptions.DensifyOptions, s.DensifyOptionsT())
io(m, [x], [y, densified2])
save(m, "densify_sparse_constants.tflite")

# x [2, 3] * c + d, the constants stored after the flatbuffer (Buffer.offset and size, the
# layout of models past 2 GB), and a metadata entry naming a buffer.
m = empty()
x = tensor(m, [2, 3])
c = tensor(m, [2, 3])
d = tensor(m, [3])
t = tensor(m, [2, 3])
y = tensor(m, [2, 3])
op(m, B.MUL, [x, c], [t], s.BuiltinOptions.MulOptions, s.MulOptionsT())
op(m, B.ADD, [t, d], [y], s.BuiltinOptions.AddOptions, s.AddOptionsT())
io(m, [x], [y])
meta = s.MetadataT()
meta.name = b"min_runtime_version"
meta.buffer = len(m.buffers)
m.buffers.append(s.BufferT())
m.buffers[-1].data = np.frombuffer(b"2.14.0\0\0", dtype=np.uint8)
m.metadata = [meta]
m.metadataBuffer = np.array([meta.buffer], dtype=np.int32)
tail = [np.arange(1, 7, dtype=np.float32).tobytes(), np.array([0.5, -1, 2], dtype=np.float32).tobytes()]
# Offsets are absolute; the flatbuffer's size depends on them, so pack twice.
m.buffers[m.subgraphs[0].tensors[c].buffer].offset = 1 << 20
m.buffers[m.subgraphs[0].tensors[c].buffer].size = len(tail[0])
m.buffers[m.subgraphs[0].tensors[d].buffer].offset = 1 << 20
m.buffers[m.subgraphs[0].tensors[d].buffer].size = len(tail[1])
b = flatbuffers.Builder(0)
b.Finish(m.Pack(b), file_identifier=b"TFL3")
size = (len(b.Output()) + 15) // 16 * 16
m.buffers[m.subgraphs[0].tensors[c].buffer].offset = size
m.buffers[m.subgraphs[0].tensors[d].buffer].offset = size + 32
b = flatbuffers.Builder(0)
b.Finish(m.Pack(b), file_identifier=b"TFL3")
out = bytearray(b.Output())
assert len(out) <= size
out += bytes(size - len(out)) + tail[0] + bytes(32 - len(tail[0])) + tail[1]
with open(OUT + "constants_at_offsets.tflite", "wb") as f:
    f.write(out)

# LSH_PROJECTION (sparse): a float32 hash [4, 2] over an int32 input [3]: 4 int32 buckets. Its
# kernel writes int32 without looking at its output's type: as int8, it wrote past the output.
for name, out_type in [("lsh_projection.tflite", s.TensorType.INT32),
                       ("lsh_projection_int8_output.tflite", s.TensorType.INT8)]:
    m = empty()
    hash_ = tensor(m, [4, 2], data=np.array([0.1, -0.3, 0.5, 0.7, -0.9, 1.1, 1.3, -1.5],
                                            dtype=np.float32).tobytes())
    x = tensor(m, [3], s.TensorType.INT32)
    y = tensor(m, [4], out_type)
    options = s.LSHProjectionOptionsT()
    options.type = s.LSHProjectionType.SPARSE
    op(m, B.LSH_PROJECTION, [hash_, x], [y], s.BuiltinOptions.LSHProjectionOptions, options)
    io(m, [x], [y])
    save(m, name)

# The AudioSpectrogram -> Mfcc model with both operators' options stored after the flatbuffer
# (large_custom_options_offset and _size, the layout of models past 2 GB).
m = load(OUT + "audio_mfcc.tflite")
payloads = [bytes(o.customOptions) for o in m.subgraphs[0].operators]
for o in m.subgraphs[0].operators:
    o.customOptions = None
    o.largeCustomOptionsOffset = 1 << 20
    o.largeCustomOptionsSize = 1
b = flatbuffers.Builder(0)
b.Finish(m.Pack(b), file_identifier=b"TFL3")
at = (len(b.Output()) + 15) // 16 * 16
offsets = []
for p in payloads:
    offsets.append(at)
    at = (at + len(p) + 15) // 16 * 16
for o, off, p in zip(m.subgraphs[0].operators, offsets, payloads):
    o.largeCustomOptionsOffset = off
    o.largeCustomOptionsSize = len(p)
b = flatbuffers.Builder(0)
b.Finish(m.Pack(b), file_identifier=b"TFL3")
out = bytearray(b.Output())
for off, p in zip(offsets, payloads):
    assert len(out) <= off
    out += bytes(off - len(out)) + p
with open(OUT + "audio_mfcc_options_at_offsets.tflite", "wb") as f:
    f.write(out)
