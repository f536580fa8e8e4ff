//! Deterministic corruption of real models: every damaged model must give an `Err` (or run),
//! never crash or abort the process. Truncations, bit flips, byte overwrites, random bytes.

mod common;

use common::*;
use tflite::{Interpreter, Model};

fn data(path: &str) -> Vec<u8> {
    std::fs::read(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// splitmix64: repeatable pseudo-random positions and values.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Loads, builds (with and without XNNPACK), allocates, fills and invokes; returns how far it
/// got (`tests/common/exercise.rs`).
fn exercise(bytes: Vec<u8>) -> &'static str {
    common::exercise::exercise(bytes, &common::exercise::Steps::PLAIN)
}

/// Set by `.ci/valgrind`. Valgrind cannot throw `std::bad_alloc` from a failed `operator new`
/// (it aborts instead), and its address space is smaller than the kernel's overcommit, so the
/// few cases that make TFLite request many gigabytes are skipped there; they run natively in
/// every `cargo test`.
fn under_valgrind() -> bool {
    std::env::var_os("TFLITE_UNDER_VALGRIND").is_some()
}

/// Mutation cases whose model makes TFLite request many gigabytes: 229 throws `std::bad_alloc`
/// (caught by our guard), 837 reserves a 24 GB arena (refused by the memory limit).
const HUGE_ALLOCATION_CASES: [(&str, u64); 2] = [
    ("tflite-sys/tests/data/add_mul.tflite", 229),
    ("tflite-sys/tests/data/add_mul.tflite", 837),
];

/// Asserts the stage `exercise` reached. With XNNPACK built, applying the delegate at build
/// runs every node's Prepare, so what Prepare refuses is "no interpreter"; without it the same
/// refusal comes from `allocate_tensors`, "no allocation": there both mean refused before
/// anything ran.
#[track_caller]
fn assert_stage(got: &str, want: &str, what: &str) {
    fn before_invoke(s: &str) -> &str {
        if !cfg!(feature = "xnnpack") && s == "no allocation" {
            "no interpreter"
        } else {
            s
        }
    }
    assert_eq!(before_invoke(got), before_invoke(want), "{what}");
}

fn skip_under_valgrind(name: &str, case: u64) -> bool {
    under_valgrind() && HUGE_ALLOCATION_CASES.contains(&(name, case))
}

fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    [
        "tflite-sys/tests/data/conv_dense.tflite",
        "tflite-sys/tests/data/add_mul.tflite",
        "examples/digits/digits_int8.tflite",
        "tests/models/signatures.tflite",
    ]
    .into_iter()
    .map(|p| (p, data(p)))
    .collect()
}

#[test]
fn truncated_models_are_refused() {
    for (name, good) in corpus() {
        let step = (good.len() / 200).max(1);
        for cut in (0..good.len()).step_by(step) {
            let got = exercise(good[..cut].to_vec());
            assert_eq!(got, "refused", "{name} cut at {cut}");
        }
    }
}

#[test]
fn bit_flips_and_overwrites_never_crash() {
    for (name, good) in corpus() {
        let mut outcomes = std::collections::BTreeMap::new();
        for case in 0..600 {
            if skip_under_valgrind(name, case) {
                continue;
            }
            *outcomes.entry(exercise(mutate(&good, case))).or_insert(0) += 1;
        }
        eprintln!("{name}: {outcomes:?}");
        assert!(
            outcomes.len() > 1,
            "{name}: the mutations changed nothing: {outcomes:?}"
        );
    }
}

#[test]
fn random_bytes_are_refused() {
    let mut rng = Rng(3);
    for len in [0usize, 1, 4, 8, 16, 64, 1000, 100_000] {
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        assert_eq!(exercise(bytes), "refused", "{len} random bytes");
        // Right magic, random body.
        if len >= 8 {
            let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            b[4..8].copy_from_slice(b"TFL3");
            assert_ne!(exercise(b), "ran");
        }
    }
}

/// The mutation that produced case `case` in the crash hunt (`bit flips` for even cases,
/// a 4-byte overwrite for odd ones).
fn mutate(good: &[u8], case: u64) -> Vec<u8> {
    let mut rng = Rng(case * 7919 + 1);
    let mut bad = good.to_vec();
    if case % 2 == 0 {
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(bad.len());
            bad[i] ^= 1 << rng.below(8);
        }
    } else {
        let at = rng.below(bad.len() - 4);
        let v = [0u8, 0xff, 0x7f, 0x80][rng.below(4)];
        bad[at..at + 4].fill(v);
    }
    bad
}

/// Each of these once crashed the process; the comment says where and what fixed it. Surviving
/// is the point; the expected outcome pins down how far each gets now.
#[test]
fn former_crashers_are_errors_now() {
    let cases: [(&str, u64, &str); 12] = [
        // A signature output without a name: TFLite's runner read past its list of names
        // (found when the harness began driving signature runners); its runner is refused
        // now (src/schema/rules/signatures.rs), the interpreter runs.
        ("tflite-sys/tests/data/conv_dense.tflite", 29, "ran"),
        // XNNPACK's graph fusion called abort(): tflite-sys/vendor/patches/xnnpack/0001 (both mutations
        // also make an operator read a tensor nothing writes: refused at load now).
        ("tflite-sys/tests/data/conv_dense.tflite", 15, "refused"),
        ("examples/digits/digits_int8.tflite", 1166, "refused"),
        // Output listed as no tensor: null pointer in our layer; refused at load now (a
        // subgraph's inputs and outputs must be tensors).
        ("tests/models/signatures.tflite", 1233, "refused"),
        // Partitioning indexed with an output nobody computes: tflite-sys/vendor/patches/tensorflow/0003;
        // now refused at load by our graph check (src/schema/rules/), the patch stays behind it.
        ("tflite-sys/tests/data/add_mul.tflite", 636, "refused"),
        // Missing subgraph vector dereferenced: tflite-sys/vendor/patches/tensorflow/0002.
        (
            "tflite-sys/tests/data/add_mul.tflite",
            791,
            "no interpreter",
        ),
        // std::bad_alloc crossing into Rust: the C++ exception guard (tflite-sys/csrc).
        (
            "tflite-sys/tests/data/add_mul.tflite",
            229,
            "no interpreter",
        ),
        // A huge shape: 24 GB touched, killed by the OOM killer; now the memory limit. On a
        // 32-bit target (armv7) the byte size does not fit a size_t, which TFLite's overflow
        // check refuses while it prepares the graph, before any allocation.
        (
            "tflite-sys/tests/data/add_mul.tflite",
            837,
            if cfg!(target_pointer_width = "32") {
                "no interpreter"
            } else {
                "no allocation"
            },
        ),
        // A tensor with byte size usize::MAX zero-filled by our layer; now checked.
        ("tests/models/all_dtypes.tflite", 105, "no allocation"),
        // XNNPACK's graph fusion again. The mutation also feeds FULLY_CONNECTED 192 values in
        // rows of 144, which it refuses now (tensorflow/0073) when the delegate prepares it.
        (
            "tflite-sys/tests/data/conv_dense.tflite",
            19,
            "no interpreter",
        ),
        // RESHAPE and STRIDED_SLICE used missing (-1) inputs: tflite-sys/vendor/patches/tensorflow/0004, 0005.
        // (RESHAPE may leave its shape out; STRIDED_SLICE's -1 is now refused at load.)
        ("tests/models/all_dtypes.tflite", 337, "no interpreter"),
        ("examples/digits/digits_float32.tflite", 2197, "refused"),
    ];
    for (path, case, want) in cases {
        if skip_under_valgrind(path, case) {
            continue;
        }
        let got = exercise(mutate(&data(path), case));
        assert_stage(got, want, &format!("{path} case {case}"));
    }
}

/// Every tensor's shape: `Model.subgraphs[*].tensors[*].shape`. Returns, per tensor, whether
/// it is a subgraph input and the byte offset of each of its dimensions (little-endian i32).
fn tensor_shapes(buf: &[u8]) -> Vec<(bool, Vec<usize>)> {
    let fb = Flatbuffer(buf);
    let mut out = Vec::new();
    let (subgraphs, n_subgraphs) = fb
        .vector(fb.root(), MODEL_SUBGRAPHS)
        .expect("model has subgraphs");
    for s in 0..n_subgraphs {
        let subgraph = fb.table(subgraphs, s);
        let inputs: Vec<usize> = fb
            .vector(subgraph, SUBGRAPH_INPUTS)
            .map(|(p, n)| (0..n).map(|k| fb.u32_element(p, k)).collect())
            .unwrap_or_default();
        let Some((tensors, n_tensors)) = fb.vector(subgraph, SUBGRAPH_TENSORS) else {
            continue;
        };
        for t in 0..n_tensors {
            if let Some((dims, rank)) = fb.vector(fb.table(tensors, t), TENSOR_SHAPE) {
                // The interpreter prepares only the primary subgraph's nodes; XNNPACK, where
                // built, is applied to (and prepares) every subgraph.
                let prepared = s == 0 || cfg!(feature = "xnnpack");
                out.push((
                    prepared && inputs.contains(&t),
                    (0..rank).map(|d| dims + 4 * d).collect(),
                ));
            }
        }
    }
    out
}

/// Every dimension of every tensor declared as 0, as huge, and as negative: no crash, and a
/// huge input is refused before anything runs.
#[test]
fn zero_huge_and_negative_shape_declarations() {
    for (name, good) in corpus() {
        let shapes = tensor_shapes(&good);
        assert!(shapes.len() > 3, "{name}: found {} tensors", shapes.len());
        let mut outcomes = std::collections::BTreeMap::new();
        for (is_input, dims) in &shapes {
            for &at in dims {
                for value in [0i32, i32::MAX, 1 << 20, -1, -7] {
                    if value == i32::MAX && under_valgrind() {
                        continue;
                    }
                    let mut bad = good.clone();
                    bad[at..at + 4].copy_from_slice(&value.to_le_bytes());
                    let got = exercise(bad);
                    if *is_input && value == i32::MAX {
                        assert_ne!(got, "ran", "{name}: input dim at {at} = {value}");
                    }
                    *outcomes.entry((value, got)).or_insert(0) += 1;
                }
            }
        }
        eprintln!("{name}: {outcomes:?}");
    }
}

/// Inputs the fuzzer (`fuzz/`, see the README) found crashing, kept as they were found. The
/// comment says what each did before tflite-sys/vendor/patches/tensorflow/0006 to 0010; the leak and the
/// out-of-bounds read show only under `.ci/valgrind` or the fuzz build's AddressSanitizer,
/// the others killed the process.
#[test]
fn fuzz_findings_are_errors_now() {
    let cases = [
        // CONV_2D with 0 groups: division by zero (SIGFPE) in the grouped reference kernel.
        // The same mutation left an int8 tensor with a zero point of 134 217 753, refused at
        // load since that check came.
        ("conv_zero_groups.tflite", "refused"),
        // LESS broadcasting rank-5 inputs: abort() in the 4-D comparison kernel.
        ("comparison_rank5_broadcast.tflite", "no interpreter"),
        // PACK's output shape leaked by a failing check in Prepare. (The same mutation made a
        // RESHAPE of float32 write int8: refused at load since float kernels must write
        // float32, src/schema/rules/.)
        ("pack_shape_leak.tflite", "refused"),
        // BATCH_MATMUL with a rank-1 input: heap read out of bounds in Prepare (patch 0009;
        // the mutated model also reads a tensor nothing writes, so the graph check refuses it
        // first now).
        ("batch_matmul_rank1.tflite", "refused"),
        // A constant (read-only, in the model buffer) listed as a graph input: our layer wrote
        // into it (SIGSEGV). Writes into constants are refused now.
        ("constant_listed_as_input.tflite", "ran"),
        // Found with the compatibility corpus as seeds. A stride of 16 777 217: division by
        // zero in the optimized DEPTHWISE_CONV_2D; a stride of 14 942 209: heap read out of
        // bounds in CONV_2D's GEMM (tflite-sys/vendor/patches/tensorflow/0012 bounds strides).
        ("depthwise_conv_huge_stride.tflite", "no interpreter"),
        ("conv_huge_stride.tflite", "no interpreter"),
        // One tensor written by two operators: the arena planner left it unallocated and
        // FULLY_CONNECTED wrote through a null pointer. Refused at load (src/schema/rules/).
        ("tensor_with_two_writers.tflite", "refused"),
        // Second round with the compatibility corpus as seeds (tflite-sys/vendor/patches/tensorflow/0013 to 0023):
        // AVERAGE_POOL_2D over a tensor with a zero dimension read its null data pointer;
        ("average_pool_empty_tensor.tflite", "ran"),
        // RESHAPE of a float32 input into a uint16 output: heap write past the output (the
        // patch checks the types; this model also reads an unwritten tensor: refused at load);
        ("reshape_type_mismatch.tflite", "refused"),
        // an int8 QUANTIZE output with zero point -589 569: XNNPACK's support check logged
        // through a null context (SIGSEGV) instead of declining the node. Refused at load
        // since zero points must fit their element type (the delegate fix is tensorflow/0014).
        ("quantize_zero_point_out_of_range.tflite", "refused"),
        // Third round. MEAN with an input given as -1: null dereference in Prepare (patch 0023);
        ("reduce_missing_input.tflite", "refused"), // a -1 input REDUCE requires: refused at load
        // RESIZE_BILINEAR sampling an empty image into a non-empty one: null read (0021);
        ("resize_bilinear_empty_input.tflite", "invoke failed"),
        // FLOOR_DIV broadcasting a rank-5 input: abort() in the 4-D kernel (0017);
        ("floor_div_rank5_broadcast.tflite", "no interpreter"),
        // a WHILE body or condition returning a tensor nothing writes (null copies and reads
        // in the WHILE kernel), and RESHAPE given a tensor index past the subgraph's tensors:
        // refused at load by our graph check (src/schema/rules/).
        ("while_body_output_unwritten.tflite", "refused"),
        ("while_cond_output_unwritten.tflite", "refused"),
        ("reshape_tensor_index_out_of_range.tflite", "refused"),
        // Fourth round: quantized ADD and SQUARED_DIFFERENCE with a zero or wild scale:
        // abort() in QuantizeMultiplierSmallerThanOneExp; CONCATENATION leaking its output
        // shape when a check failed (LeakSanitizer): patches 0018 and 0020.
        // (its scales include a negative one: refused at load since the scale check)
        ("add_quantized_zero_scale.tflite", "refused"),
        // (these two also hold int8 zero points of -4 294 836 352 and 131 071: refused at
        // load since zero points must fit their element type)
        ("squared_difference_bad_scales.tflite", "refused"),
        ("concatenation_shape_leak.tflite", "refused"),
        // PAD with a negative padding: the output shape leaked (LeakSanitizer; patch 0020).
        ("pad_shape_leak.tflite", "no interpreter"),
        // AVERAGE_POOL_2D with a VALID 3x3 window over a 1-high input: XNNPACK's kernel read
        // out of bounds; such nodes are left to TFLite's kernels now (0016).
        (
            "xnnpack_average_pool_window_larger_than_input.tflite",
            "ran",
        ),
        // Fifth round (after TFLITE_WITH_RUY): CONV_2D with padding 65, neither SAME nor
        // VALID: a 0x0 output, but the 1x1 GEMM path wrote 144 rows through its null data
        // pointer. Unknown paddings are refused when the options are parsed (patch 0026).
        ("conv_unknown_padding.tflite", "no interpreter"),
        // An int8 MEAN with more than 4 axes: the optimized kernel copied them into a 4-axis
        // array on the stack (tensorflow/0048).
        ("mean_more_than_four_axes.tflite", "invoke failed"),
        // The converter's int8 depthwise model (4 input channels, 8 output channels) with a
        // depth multiplier of 1 instead of 2: XNNPACK took 8 / 1 = 8 input channels and read
        // past its workspace (AVX-512 micro-kernel, AddressSanitizer). tensorflow/0070 leaves
        // such a node to the builtin kernels.
        ("depthwise_multiplier_disagrees_with_channels.tflite", "ran"),
    ];
    for (file, want) in cases {
        let got = exercise(data(&format!("tests/fuzz_regressions/{file}")));
        assert_stage(got, want, file);
    }
    // The refused write says why.
    let mut it = allocated_on_builtin_kernels("constant_listed_as_input.tflite");
    let constant = (0..it.input_count())
        .find(|&i| it.input(i).map(|t| t.info()).unwrap().name == "arith.constant")
        .unwrap();
    let err = it
        .input_mut(constant)
        .and_then(|t| t.into_bytes_mut())
        .unwrap_err();
    assert!(err.to_string().contains("read-only constant"), "{err}");
    assert!(it
        .input_mut(constant)
        .and_then(|t| t.into_data_mut::<i32>())
        .is_err());
}

/// Models the structure-aware mutator (`tests/common/structure.rs`, fuzz target `structure`)
/// made from committed models, each of which crashed the process before the fix its comment
/// names. They stay valid flatbuffers; what they say is a lie.
#[test]
fn structure_fuzz_findings_are_errors_now() {
    let cases = [
        // TRANSPOSE_CONV with an output shape the input and weights do not map onto: heap
        // corruption in the builtin kernel, a crash in XNNPACK's sub-convolution; an empty
        // input divided by zero; a 3-element shape (tensorflow/0028).
        (
            "transpose_conv_output_shape_too_big.tflite",
            "no interpreter",
        ),
        (
            "transpose_conv_xnnpack_output_shape.tflite",
            "no interpreter",
        ),
        ("transpose_conv_empty_input.tflite", "no interpreter"),
        ("transpose_conv_short_shape.tflite", "no interpreter"),
        // DEPTHWISE_CONV_2D with its bias left off the input list: memcpy from null, float
        // and int8 (tensorflow/0029).
        ("depthwise_conv_without_bias.tflite", "no interpreter"),
        ("depthwise_conv_int8_without_bias.tflite", "no interpreter"),
        // An int8 depthwise convolution on a batch of 0 with an infinite quantization scale:
        // SIGFPE. Infinite scales are refused at load now; without it (the scale restored),
        // the empty batch runs (tensorflow/0030 skips nodes whose outputs are all empty).
        ("depthwise_conv_infinite_scale.tflite", "refused"),
        ("depthwise_conv_empty_batch.tflite", "ran"),
        // An input a kernel requires given as -1 (DEQUANTIZE, PAD, WHILE): null dereference in
        // Prepare; refused at load now (src/schema/rules/operators.rs, `may_omit_input`).
        ("dequantize_missing_input.tflite", "refused"),
        ("pad_missing_input.tflite", "refused"),
        ("control_flow_missing_input.tflite", "refused"),
        // REDUCE_MAX writing int8 into a tensor typed STRING (dynamic, no buffer): write
        // through a null pointer; refused at load (a builtin op writes strings only where it
        // reads some).
        ("reduce_string_output.tflite", "refused"),
        // A WHILE body whose input list holds -1: null dereference in WHILE's Prepare; refused
        // at load (a subgraph's inputs and outputs must be tensors).
        ("while_body_missing_input.tflite", "refused"),
        // FAKE_QUANT (rewritten from DEQUANTIZE) over an int8 tensor: its float32 kernel ran
        // past both buffers (tensorflow/0031).
        ("fake_quant_int8_input.tflite", "no interpreter"),
        // MAX_POOL_2D with a window of -2147483646: the optimized kernel indexed far outside
        // its input (tensorflow/0032).
        ("max_pool_negative_window.tflite", "no interpreter"),
        // A CALL_ONCE whose init subgraph runs it again (libFuzzer, structure target): the
        // recursion overflowed the stack; refused at load (subgraph calls form no cycle).
        ("call_once_recursion.tflite", "refused"),
        // GATHER (int8 values, int32 indices from the model's input) on a structure-fuzzed
        // model: the fuzzer's input bytes made indices far past the axis, whose source offset,
        // computed in int, overflowed (GCC's UBSan trapped). tensorflow/0039; with this
        // test's small inputs the indices are valid and the model runs (see
        // `gather_refuses_an_index_past_its_axis`).
        ("gather_ubsan_trap.tflite", "ran"),
        // SPLIT whose axis was pointed at the model's input, float32 of shape [0, 1, 1, 10]:
        // an empty tensor, read as `axis[0]` through null (SEGV). tensorflow/0038 requires an
        // int32 axis holding one element, in SPLIT and SPLIT_V, and checks the other kernels
        // that read a scalar operand (tflite-sys/scripts/audit_scalar_reads.py).
        ("split_empty_axis.tflite", "no interpreter"),
        // A DEPTHWISE_CONV_2D relabelled VAR_HANDLE, whose Prepare makes its output (a float32
        // [1, 10, 10, 4] tensor that the CONV_2D XNNPACK took reads) 4 bytes: XNNPACK read
        // past the tensor arena (AddressSanitizer). tensorflow/0041: the delegate refuses to
        // invoke when a tensor it exchanges changed size or type after it took the
        // partition; tensorflow/0042: a prepared node's outputs must hold what their shape
        // and type need, so preparing VAR_HANDLE fails first (with XNNPACK, while the
        // delegate is applied: no interpreter).
        ("var_handle_shrinks_xnnpack_input.tflite", "no interpreter"),
        // The same VAR_HANDLE output read by CONCATENATION, a builtin kernel: a read past the
        // arena (AddressSanitizer); tensorflow/0042.
        (
            "var_handle_output_read_by_concatenation.tflite",
            "no interpreter",
        ),
        // WHERE (a dynamic output), then a custom op, resized and allocated again: the custom
        // op's output kept a pointer into the freed arena (tensorflow/0043; see
        // `outputs_planned_after_a_dynamic_tensor_have_no_stale_memory`).
        // (Without the MediaPipe ops, its unregistered custom op is refused at build.)
        (
            "stale_arena_pointer_after_resize.tflite",
            if cfg!(feature = "mediapipe") {
                "invoke failed"
            } else {
                "no interpreter"
            },
        ),
        // SLICE in a WHILE body, its begin computed at run time: a negative begin passed
        // (begin + size <= dim) and the kernel copied from before its input (tensorflow/0046:
        // begin in [0, dim], the slice within the dimension, a fixed output of exactly that
        // shape).
        ("slice_negative_begin_in_while.tflite", "invoke failed"),
        // MATRIX_SET_DIAG with a diagonal shorter than its matrices' diagonals: read past it
        // (tensorflow/0047: the diagonal's type and shape are checked at Prepare).
        ("matrix_set_diag_short_diagonal.tflite", "no interpreter"),
        // An int16x8 attention block whose BATCH_MATMUL output has a scale of 0 (the structure
        // test under qemu-aarch64): the requantization multiplier was infinite, its conversion
        // to an integer saturated on aarch64 and TFLite's check aborted the process (x86
        // wrapped it to 0). A per-tensor scale of 0 is refused at load now; the same tensor
        // with no quantization at all (TFLite then reads its scale as 0) runs, because
        // tensorflow/0049 makes a non-finite multiplier 0 on every platform.
        ("int16_matmul_zero_output_scale.tflite", "refused"),
        ("int16_matmul_without_output_scale.tflite", "ran"),
        // LOG_SOFTMAX over a constant scalar (its input pointed at a 4-byte constant): the
        // optimized kernel took dimension -1 of the shape as the logits' count and read past
        // the model's buffer (AddressSanitizer, structure fuzzer). tensorflow/0055 requires
        // rank >= 1, as SOFTMAX does, and in L2_NORMALIZATION (same model, opcode and options
        // rewritten with the schema's Python object API), whose kernels index the same way.
        ("log_softmax_scalar_input.tflite", "no interpreter"),
        ("l2_normalization_scalar_input.tflite", "no interpreter"),
        // The same pattern found by reading the kernels: FULLY_CONNECTED with keep_num_dims
        // over a scalar and an empty filter wrote the units into the copied shape's size
        // field; ResizeTensor read past it (tensorflow/0056; made from the compat corpus's
        // dense.float32 with the schema's Python object API: input [], filter [8, 0],
        // keep_num_dims).
        (
            "fully_connected_keep_dims_scalar_input.tflite",
            "no interpreter",
        ),
        // SIGN with an empty output list: its Prepare, the only builtin one that never checked
        // its output count, dereferenced a null output (SEGV, structure fuzzer; tensorflow/0062).
        ("sign_without_outputs.tflite", "no interpreter"),
        // A keep_dims reduction whose axis, near INT32_MAX, had the rank added to it: signed
        // overflow (GCC's UBSan, structure fuzzer). tensorflow/0062 adds the rank to negative
        // axes only; the axis is then out of range, an error.
        ("reduce_keep_dims_axis_overflow.tflite", "invoke failed"),
        // int32 ADD of values that overflow (GCC's UBSan, structure fuzzer): undefined in C++,
        // wrapping in TensorFlow. The native build is compiled with -fwrapv, so it wraps here
        // too (see `int32_arithmetic_wraps`).
        ("add_int32_overflow.tflite", "ran"),
        // SUM of an int32 scalar over no axis (a copy) into an output typed UINT8: 4 bytes
        // copied into a 1-byte buffer (heap-buffer-overflow, structure fuzzer, seeded with
        // tests/models/int32_arithmetic.tflite). tensorflow/0063: a reduction's output has its
        // input's type.
        ("reduce_output_of_another_type.tflite", "no interpreter"),
        // PADV2 whose paddings were pointed at a vector (a transpose's permutation, [4]):
        // dimension 1 of its shape read past the shape array (heap-buffer-overflow, structure
        // fuzzer). tensorflow/0064: the paddings must be a matrix.
        ("padv2_vector_paddings.tflite", "no interpreter"),
        // A 16x8 CONV_2D (int64 bias) whose scales made a requantization shift of +103: the
        // int64 MultiplyByQuantizedMultiplier shifted by a negative amount (GCC's UBSan trapped,
        // structure fuzzer). tensorflow/0065 clamps its total shift; the model runs.
        ("conv_16x8_huge_requantization_shift.tflite", "ran"),
        // GELU listed before the ABS that computes its input: prepared on the input's declared
        // [0, 5] (an empty output), it then ran in XNNPACK on ABS's [32, 8, 3] and wrote 768
        // floats through the empty output's placeholder pointer (heap-buffer-overflow,
        // structure fuzzer; tensorflow/0066 makes the delegate check the shapes XNNPACK
        // infers), and on the builtin kernel read through null (the same pattern, a second
        // file). Refused at load now: an operator may not write a tensor an earlier operator
        // read (src/schema/rules/; see `operators_out_of_order_are_refused`).
        ("gelu_before_its_input_is_computed.tflite", "refused"),
        ("gelu_before_its_input_null_read.tflite", "refused"),
        // TRANSPOSE with perm [0, 0, 3, 1] in an int8 attention block: for a batch of 2 its
        // output held fewer elements than its input, and the optimized kernel wrote past the
        // arena (AddressSanitizer, structure fuzzer, from the fifth replay in one process).
        // tensorflow/0067: a perm names each dimension once.
        (
            "transpose_perm_names_a_dimension_twice.tflite",
            "no interpreter",
        ),
        // A squeeze-and-excitation block's broadcasting MUL turned into ATAN2 (which does not
        // broadcast): y [1, 6, 8, 4], x [1, 1, 1, 4], and the kernel read past x
        // (AddressSanitizer). Its Prepare compared ranks only; tensorflow/0069 requires one
        // shape.
        ("atan2_inputs_of_different_shapes.tflite", "no interpreter"),
        // A transformer's int8 SOFTMAX turned into DEQUANTIZE, which retypes its output to
        // float: the next BATCH_MATMUL became hybrid (float, int8) and wrote floats into its
        // int8 output (AddressSanitizer). tensorflow/0074 requires the output type the kernel
        // writes.
        (
            "batch_matmul_output_of_another_type.tflite",
            "no interpreter",
        ),
        // A GRU's WHILE body whose STRIDED_SLICEs got the strides [1, 2147483647], one with
        // begin 12 on an axis of 18: the kernel's index, stepped by the stride, passed
        // INT32_MAX and read before the input (SEGV). tensorflow/0076 bounds a stride by its
        // axis, which takes the same element: the model runs.
        ("strided_slice_stride_past_int32_max.tflite", "ran"),
        // MUL of two int32 tensors into an int64 output (structure fuzzer): Eval picks the
        // kernel by the output's type and read each 4-byte input as 8 bytes
        // (AddressSanitizer). tensorflow/0077 requires the inputs' type (checked when the
        // node is prepared at invoke: its input comes from a SUM of dynamic shape).
        ("mul_int32_inputs_int64_output.tflite", "invoke failed"),
        // A CALL_ONCE carrying WHILE's options (structure fuzzer): TFLite reads another
        // operator's options as absent, so it ran subgraph 0 - itself - until the stack
        // overflowed, while the load-time cycle check read WHILE's first field (subgraph 1).
        // Refused at load now: IF, WHILE and CALL_ONCE must carry their own options.
        ("call_once_with_while_options.tflite", "refused"),
        // PADV2 of a 4-D input whose int64 paddings come from WHERE ([n, 1], n <= 1): the
        // int64 range check ran at invoke before the shape check and read 4 values
        // (AddressSanitizer). tensorflow/0078 reads the values the tensor holds; the shape
        // check then refuses it.
        ("padv2_int64_paddings_from_where.tflite", "invoke failed"),
        // The digits model (examples/digits/digits_float32.tflite) with its SOFTMAX output
        // retyped RESOURCE (a structure-aware mutator written independently of ours): TFLite
        // gives such a tensor no data buffer and the float kernel wrote through null
        // (SIGSEGV in optimized_ops::SoftmaxImpl, XNNPACK on and off). Refused at load: no
        // builtin kernel but the ones that handle them reads or writes a resource, variant
        // or string (src/schema/rules/types.rs, `unhandled_type`).
        ("softmax_output_resource.tflite", "refused"),
        // Found by our mutator once it reached the fields it had never drawn (tests/structure.rs,
        // seeded with tests/fuzz_regressions/make_resource_cases.py's models); each crashed
        // the process, as it does TFLite 2.14.1's own Python runtime. A sparse constant
        // whose block dimension claims 1 048 576 elements of a dimension of 4: DENSIFY's
        // format converter wrote past its output (SIGSEGV), refused at load as TFLite's full
        // verifier would (`check_sparsity`);
        ("densify_block_larger_than_its_dimension.tflite", "refused"),
        // a MUL output marked is_variable: variables get persistent memory planned once and
        // the kernel wrote through null (SIGSEGV); no operator may write a variable;
        ("mul_writes_a_variable.tflite", "refused"),
        // a hash table's constant string values whose offsets run past their buffer:
        // HASHTABLE_IMPORT read the strings from there (SIGSEGV); constant string tensors are
        // checked as the full verifier does (`check_strings`).
        ("hashtable_string_offsets_past_buffer.tflite", "refused"),
        // The same hash table's values, shape [3], given the one-string buffer of its default
        // value (structure fuzzer, AddressSanitizer): HASHTABLE_IMPORT read three strings from a
        // buffer of one. A constant string tensor holds as many strings as its shape has
        // elements (`check_strings`).
        (
            "hashtable_values_fewer_strings_than_elements.tflite",
            "refused",
        ),
        // AudioSpectrogram (a custom operator TFLite registers itself, as Mfcc, NumericVerify
        // and TFLite_Detection_PostProcess) whose FlexBuffer options a byte mutation made
        // point past their end: TFLite's unchecked FlexBuffer reader faulted (SIGSEGV).
        // Refused at load: what the kernel reads must lie in the options
        // (`check_custom_options`).
        ("audio_spectrogram_options_past_buffer.tflite", "refused"),
        // A variable assigned an empty tensor and read into a static [1, 12] output: READ_VARIABLE
        // copied the output's 48 bytes from the variable's none (SIGSEGV; Google's 2.14 runtime
        // too). tensorflow/0079: the sizes must agree.
        ("read_variable_past_the_variable.tflite", "invoke failed"),
    ];
    for (file, want) in cases {
        let got = exercise(data(&format!("tests/fuzz_regressions/{file}")));
        assert_stage(got, want, file);
    }
}

/// Valid int8 (per-channel) and uint8 DEPTHWISE_CONV_2D models (1x1 kernel, 15 channels, a
/// 16x22 image; tests/fuzz_regressions/make_kernel_cases.py): on x86-64 the builtin kernel took
/// TFLite's NEON path through NEON_2_SSE, where GCC turned an accumulator load into an aligned
/// SSE access on an unaligned address, and every such model died of SIGSEGV (found by TFLite's
/// own XNNPACK-delegate tests; neon2sse/0001). Both paths must compute what the quantization
/// parameters say, within one quantum (TFLite's fixed-point multiplier rounds).
#[test]
fn depthwise_conv_on_x86_runs_valid_models() {
    const C: usize = 15;
    let n = 16 * 22 * C;
    let bias = |c: usize| c as i64 * 7 - 50;
    // (scale, zero point) of input and output; the weights' scale and value of channel c:
    // as make_kernel_cases.py writes them.
    fn requantize(acc: i64, scale: f64, zero_point: i64, range: (i64, i64)) -> i64 {
        ((acc as f64 * scale).round() as i64 + zero_point).clamp(range.0, range.1)
    }
    let int8_input: Vec<i8> = (0..n).map(|i| ((i * 29 + 11) % 256) as u8 as i8).collect();
    let int8_want: Vec<i8> = (0..n)
        .map(|i| {
            let c = i % C;
            let w = ((c * 37) % 255) as i64 - 127;
            let w_scale = f64::from(0.02f32 + 0.001 * c as f32);
            let acc = (i64::from(int8_input[i]) + 3) * w + bias(c);
            requantize(acc, 0.5 * w_scale / 0.25, 5, (-128, 127)) as i8
        })
        .collect();
    let uint8_input: Vec<u8> = (0..n).map(|i| ((i * 29 + 11) % 256) as u8).collect();
    let uint8_want: Vec<u8> = (0..n)
        .map(|i| {
            let c = i % C;
            let w = ((c * 37) % 256) as i64 - 120;
            let acc = (i64::from(uint8_input[i]) - 128) * w + bias(c);
            requantize(acc, 0.5 * f64::from(0.03f32) / 0.25, 131, (0, 255)) as u8
        })
        .collect();
    for xnnpack in [false, cfg!(feature = "xnnpack")] {
        let run = |file: &str, input: &dyn Fn(&mut Interpreter)| {
            let model = Model::from_bytes(data(&format!("tests/fuzz_regressions/{file}"))).unwrap();
            let mut it = Interpreter::builder(&model)
                .use_xnnpack(xnnpack)
                .build()
                .unwrap();
            it.allocate_tensors().unwrap();
            input(&mut it);
            it.invoke().unwrap();
            it
        };
        let it = run("depthwise_conv_int8_15_channels.tflite", &|it| {
            it.input_mut(0)
                .unwrap()
                .copy_from_slice(&int8_input)
                .unwrap()
        });
        let got = it.output(0).unwrap().to_vec::<i8>().unwrap();
        let what = format!("int8, XNNPACK {xnnpack}");
        assert_close(&what, &got, &int8_want, Tolerance::Absolute(1.0));
        let it = run("depthwise_conv_uint8_15_channels.tflite", &|it| {
            it.input_mut(0)
                .unwrap()
                .copy_from_slice(&uint8_input)
                .unwrap()
        });
        let got = it.output(0).unwrap().to_vec::<u8>().unwrap();
        let what = format!("uint8, XNNPACK {xnnpack}");
        assert_close(&what, &got, &uint8_want, Tolerance::Absolute(1.0));
    }
}

/// The int16 (16x8) and hybrid DEPTHWISE_CONV_2D kernels loop over input channels times the
/// model's depth_multiplier option and index the filter, bias and per-channel scales (sized by
/// the filter's channels) with the product. The structure fuzzer's first pass over the
/// converter's 16x8 model, resized by one in every dimension (5 input channels for a filter of
/// 8), read past them (heap-buffer-overflow); so would a lying option. tensorflow/0045: the
/// channels must agree at Prepare, and for those kernels the option too.
#[test]
fn a_depthwise_convolution_whose_channels_disagree_is_an_error() {
    let model = Model::from_bytes(data("tests/compat/depthwise_conv2d.int16x8.tflite")).unwrap();
    let mut it = Interpreter::builder(&model).build().unwrap();
    it.allocate_tensors().unwrap();
    it.invoke().unwrap(); // the valid model runs
    for shape in [[2, 13, 13, 5], [1, 12, 12, 8]] {
        // 5: not a divisor of 8; 8: a multiplier of 1 where the option says 2.
        it.resize_input(0, &shape).unwrap();
        let err = it.allocate_tensors().unwrap_err().to_string();
        assert!(err.contains("DEPTHWISE_CONV_2D"), "{shape:?}: {err}");
    }
    let lying = data("tests/fuzz_regressions/depthwise_16x8_lying_multiplier.tflite");
    assert_stage(exercise(lying), "no interpreter", "lying");
}

/// The structure-aware fuzzer pointed a WHILE condition's input at the loop body's increment,
/// a constant: WHILE copied its counter into it, into the model's bytes (the loop then ran
/// for billions of iterations, and interpreters on other threads sharing the model crashed).
/// Refused at load now: no operator output and no input of a subgraph IF or WHILE runs may be
/// a constant. A loop a valid model runs for billions of iterations (`counting_loop.tflite`,
/// its count an input) is stopped by a deadline, since cancellation is checked between the
/// nodes of the loop body too, and the interpreter stays usable.
#[test]
fn a_runaway_loop_is_stopped_by_a_deadline() {
    use std::time::{Duration, Instant};
    let lying = data("tests/fuzz_regressions/while_loop_bound_from_another_buffer.tflite");
    let err = Model::from_bytes(lying).unwrap_err().to_string();
    assert!(err.contains("has a constant as its input"), "{err}");

    let model = Model::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/models/counting_loop.tflite"
    ))
    .unwrap();
    let mut it = Interpreter::builder(&model)
        .use_xnnpack(false)
        .build()
        .unwrap();
    it.allocate_tensors().unwrap();
    it.input_mut(0).unwrap().copy_from_slice(&[10i32]).unwrap();
    it.invoke_with_timeout(Duration::from_secs(10)).unwrap();
    let x = it.output(0).unwrap().data::<f32>().unwrap()[0];
    assert_eq!(x, 2.0 - 2f32.powi(-9));
    it.input_mut(0)
        .unwrap()
        .copy_from_slice(&[i32::MAX])
        .unwrap();
    let t = Instant::now();
    let err = it
        .invoke_with_timeout(Duration::from_millis(300))
        .unwrap_err();
    assert!(
        matches!(err, tflite::Error::DeadlineExceeded { .. }),
        "{err}"
    );
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    // Usable again: the next (also runaway) invoke is stopped the same way.
    assert!(it.invoke_with_timeout(Duration::from_millis(100)).is_err());
}

/// GATHER's indices come from the model's input here (an embedding lookup). An index past its
/// axis is an error naming the node: before tensorflow/0039, 2^29 + 1 times the row size (8)
/// overflowed int and wrapped to 8, so the model silently read row 1; a valid index still
/// reads its row.
#[test]
fn gather_refuses_an_index_past_its_axis() {
    let mut it = allocated_on_builtin_kernels("gather_ubsan_trap.tflite");
    let n = it.input(0).unwrap().info().shape.iter().product::<usize>();
    let mut indices = vec![3i32; n];
    it.input_mut(0).unwrap().copy_from_slice(&indices).unwrap();
    it.invoke().unwrap();
    let valid = it.output(0).unwrap().data::<f32>().unwrap().to_vec();
    for bad in [(1 << 29) + 1, 20, 1 << 30] {
        indices[0] = bad;
        it.input_mut(0).unwrap().copy_from_slice(&indices).unwrap();
        let err = it.invoke().unwrap_err();
        assert!(err.to_string().contains("GATHER"), "{bad}: {err}");
    }
    // Usable again with valid indices, and the same answer.
    indices[0] = 3;
    it.input_mut(0).unwrap().copy_from_slice(&indices).unwrap();
    it.invoke().unwrap();
    assert_eq!(it.output(0).unwrap().data::<f32>().unwrap(), &valid[..]);
}

/// An allocated interpreter without delegates for `tests/fuzz_regressions/{file}`.
fn allocated_on_builtin_kernels(file: &str) -> Interpreter {
    let mut it = on_builtin_kernels(data(&format!("tests/fuzz_regressions/{file}")));
    it.allocate_tensors().unwrap();
    it
}

/// The error that allocating `tests/fuzz_regressions/{file}` on the builtin kernels gives.
fn allocation_error(file: &str) -> String {
    on_builtin_kernels(data(&format!("tests/fuzz_regressions/{file}")))
        .allocate_tensors()
        .unwrap_err()
        .to_string()
}

/// `tests/fuzz_regressions/{file}` builds no interpreter (with XNNPACK, whose application
/// prepares the nodes), and allocating it on the builtin kernels fails with `want` in the error.
fn assert_refused_at_prepare(file: &str, want: &str) {
    let bytes = data(&format!("tests/fuzz_regressions/{file}"));
    assert_stage(exercise(bytes), "no interpreter", file);
    let err = allocation_error(file);
    assert!(err.contains(want), "{file}: {err}");
}

/// An interpreter without delegates (not yet allocated) for a model that loads.
fn on_builtin_kernels(bytes: Vec<u8>) -> Interpreter {
    let model = Model::from_bytes(bytes).unwrap();
    Interpreter::builder(&model)
        .use_xnnpack(false)
        .build()
        .unwrap()
}

/// A zero point outside its int8 tensor's range (the kernels add it to int32 accumulators
/// unchecked: signed overflow) is refused at load, with the tensor named; in range, the same
/// edit loads.
#[test]
fn zero_points_outside_the_element_range_are_refused() {
    const TENSOR_TYPE: usize = 1;
    const TENSOR_QUANTIZATION: usize = 4;
    const QUANT_ZERO_POINT: usize = 3;
    let good = data("examples/digits/digits_int8.tflite");
    let fb = Flatbuffer(&good);
    let (subgraphs, _) = fb.vector(fb.root(), MODEL_SUBGRAPHS).unwrap();
    let (tensors, n) = fb.vector(fb.table(subgraphs, 0), SUBGRAPH_TENSORS).unwrap();
    let mut tried = 0;
    for t in 0..n {
        let tensor = fb.table(tensors, t);
        let int8 = fb.field(tensor, TENSOR_TYPE).map(|p| good[p]) == Some(9);
        let Some(q) = fb.field(tensor, TENSOR_QUANTIZATION) else {
            continue;
        };
        let q = q + u32::from_le_bytes(good[q..q + 4].try_into().unwrap()) as usize;
        let Some((zp, count)) = fb.vector(q, QUANT_ZERO_POINT) else {
            continue;
        };
        if !int8 || count == 0 {
            continue;
        }
        for (value, refused) in [(127i64, false), (-128, false), (128, true), (1 << 40, true)] {
            let mut bad = good.clone();
            bad[zp..zp + 8].copy_from_slice(&value.to_le_bytes());
            match Model::from_bytes(bad) {
                Err(e) => {
                    assert!(refused, "tensor {t}, zero point {value}: {e}");
                    let text = e.to_string();
                    assert!(
                        text.contains("zero point") && text.contains(&format!("tensor {t} ")),
                        "{text}"
                    );
                }
                Ok(_) => assert!(!refused, "tensor {t}, zero point {value} loaded"),
            }
        }
        tried += 1;
    }
    assert!(tried > 3, "{tried} int8 tensors with zero points");
}

/// After a resize, TFLite plans the tensors that come after a node with a dynamic output
/// (here WHERE) only when the next invoke reaches them; their pointers from the last plan went
/// into the arena buffer the new allocation freed, and `allocate_tensors` zero-filled an
/// output through one (heap-use-after-free, structure fuzzer). tensorflow/0043 clears those
/// pointers when the plan is reset: such an output has no memory until an invoke gives it
/// some, and its view says so instead of reading freed memory.
#[cfg(feature = "mediapipe")] // the model runs MediaPipe's TransformLandmarks
#[test]
fn outputs_planned_after_a_dynamic_tensor_have_no_stale_memory() {
    let mut it = allocated_on_builtin_kernels("stale_arena_pointer_after_resize.tflite");
    // WHERE runs, then the custom op's output is planned and allocated (the op itself then
    // refuses its lying inputs).
    assert!(it.invoke().is_err());
    let bigger: Vec<usize> = it.input(0).unwrap().shape().iter().map(|d| d + 1).collect();
    it.resize_input(0, &bigger).unwrap();
    it.allocate_tensors().unwrap();
    let err = it.output(1).and_then(|t| t.bytes().map(<[u8]>::len));
    assert!(matches!(err, Err(tflite::Error::NotAllocated)), "{err:?}");
}

/// A structure-fuzzed int8 model whose PAD adds 2^20 batches before a CONV_2D: its im2col
/// product has 67 million columns of depth 27, which ruy (the GEMM library TFLite calls)
/// packed to depth 32 on aarch64 — past the 2^31 elements it indexes in int, and the process
/// died with SIGSEGV (`tests/structure.rs` under qemu-aarch64). tensorflow/0053 runs such a
/// product in blocks of columns. The first batch is the real image, so it must give what the
/// unpadded model gives; every padded batch sees only zeros, so all of them (across the blocks)
/// must give the same answer. About 4 GB of memory; skipped under valgrind; on 32-bit targets
/// the arena cannot be allocated, and that error is what is checked.
#[test]
fn a_product_too_large_for_the_gemm_library_runs_in_blocks() {
    if under_valgrind() {
        return;
    }
    let image: Vec<f32> = (0..6 * 6 * 3)
        .map(|i| (i % 17) as f32 / 8.0 - 1.0)
        .collect();
    let run = |bytes: Vec<u8>| {
        let mut it = on_builtin_kernels(bytes);
        it.allocate_tensors().unwrap();
        it.input_mut(0).unwrap().copy_from_slice(&image).unwrap();
        it.invoke().unwrap();
        let out = it.output(0).unwrap();
        (
            out.info().shape.clone(),
            out.data::<f32>().unwrap().to_vec(),
        )
    };
    let big = data("tests/fuzz_regressions/conv_int8_huge_padded_batch.tflite");
    if cfg!(target_pointer_width = "32") {
        // A 2.3 GB arena does not fit a 32-bit address space: an error is the answer there.
        let err = on_builtin_kernels(big).allocate_tensors().unwrap_err();
        assert!(err.to_string().contains("could not be allocated"), "{err}");
        return;
    }
    let (shape, want) = run(data("tests/compat/zero_pad.int8.tflite"));
    let (big_shape, got) = run(big);
    assert_eq!(big_shape[0], (1 << 20) + 1, "{big_shape:?}");
    assert_eq!(big_shape[1..], shape[1..]);
    let batch = want.len();
    assert_eq!(&got[..batch], &want[..]);
    let padded = &got[batch..2 * batch];
    let differing = got[batch..].chunks(batch).position(|b| b != padded);
    assert_eq!(differing, None, "a padded batch differs from the first one");
}

/// MUL broadcasts above rank 4 only where its kernels fold the shapes into five dimensions
/// (float32 and 8-bit); anything else reached a 4-D kernel that aborted the process. A
/// structure-fuzzed GroupNormalization (rank-5 MULs, an opcode and a shape edited) did at its
/// first invoke. tensorflow/0054: Prepare refuses such a MUL, naming the ranks (with XNNPACK,
/// when the delegate prepares the nodes it leaves). The unedited model's rank-5 MULs, which
/// fold, still run on the builtin kernels.
#[test]
fn a_rank5_broadcast_mul_without_a_kernel_is_an_error() {
    let steps = common::exercise::Steps {
        resize: true,
        ..common::exercise::Steps::PLAIN
    };
    let lying = data("tests/fuzz_regressions/mul_rank5_generic_broadcast.tflite");
    let got = common::exercise::exercise(lying.clone(), &steps);
    assert_stage(got, "no interpreter", "mul_rank5_generic_broadcast");
    let err = on_builtin_kernels(lying)
        .allocate_tensors()
        .unwrap_err()
        .to_string();
    assert!(err.contains("MUL broadcasts inputs of rank 5"), "{err}");

    let mut it = on_builtin_kernels(data("tests/compat/group_norm.float32.tflite"));
    it.allocate_tensors().unwrap();
    it.invoke().unwrap();
}

/// LOG_SOFTMAX and L2_NORMALIZATION work along the last dimension, and FULLY_CONNECTED with
/// keep_num_dims replaces it; a scalar input has none and is refused when the interpreter
/// allocates (tensorflow/0055, 0056), not read or written out of bounds.
#[test]
fn a_scalar_has_no_last_dimension() {
    for file in [
        "log_softmax_scalar_input.tflite",
        "l2_normalization_scalar_input.tflite",
        "fully_connected_keep_dims_scalar_input.tflite",
    ] {
        let err = allocation_error(file);
        assert!(err.contains("NumDimensions(input) >= 1"), "{file}: {err}");
    }
}

/// RNN, UNIDIRECTIONAL_SEQUENCE_RNN, SVDF and SEGMENT_SUM read fixed dimensions of their
/// operands at Prepare; an operand of lower rank (models made by
/// `tests/fuzz_regressions/make_rank_cases.py`) was read past its shape. tensorflow/0057 checks
/// the ranks first.
#[test]
fn operands_of_too_low_a_rank_are_refused() {
    for (file, want) in [
        ("rnn_vector_input.tflite", "NumDimensions(input) != 2"),
        (
            "sequence_rnn_matrix_input.tflite",
            "NumDimensions(input) != 3",
        ),
        ("svdf_vector_input.tflite", "NumDimensions(input) != 2"),
        (
            "segment_sum_scalar_operands.tflite",
            "NumDimensions(segment_ids) != 1",
        ),
    ] {
        assert_refused_at_prepare(file, want);
    }
}

/// Operators run in the order the model lists them. A structure-fuzzed model listed a GELU
/// before the ABS that computes its input, whose declared shape was empty (so readable without
/// a writer): GELU was prepared for the empty shape, ABS then resized the tensor, and both
/// XNNPACK (a write past the empty output) and the builtin kernel (a null read) went wrong.
/// Such a model is refused at load, with both operators named.
#[test]
fn operators_out_of_order_are_refused() {
    for file in [
        "gelu_before_its_input_is_computed.tflite",
        "gelu_before_its_input_null_read.tflite",
    ] {
        let bytes = data(&format!("tests/fuzz_regressions/{file}"));
        let err = Model::from_bytes(bytes).unwrap_err().to_string();
        assert!(
            err.contains("operator 1 of subgraph 0 (ABS) writes tensor 3, which operator 0 read")
                && err.contains("in the order they run"),
            "{file}: {err}"
        );
    }
}

/// TRANSPOSE's perm [0, 0, 3, 1] (a structure-fuzzed attention block) passed the range check
/// but is no permutation: after a resize the output held fewer elements than the input, and
/// the optimized kernel wrote past the arena. tensorflow/0067 says why it refuses.
#[test]
fn a_transpose_perm_must_be_a_permutation() {
    let err = allocation_error("transpose_perm_names_a_dimension_twice.tflite");
    assert!(err.contains("names a dimension twice"), "{err}");
}

/// Kernels that write their output as a fixed type (their input's, or float32) never compared
/// it with the output tensor's: an int8 output, one byte per element, was written four bytes
/// per element (heap-buffer-overflow under AddressSanitizer, each of these models on TFLite
/// 2.14.1). The structure fuzzer found it in SUM; a script over the kernels' Prepare functions
/// found the others. tensorflow/0063 checks the types at Prepare. Models made by
/// `tests/fuzz_regressions/make_rank_cases.py`.
#[test]
fn output_types_the_kernels_write_are_checked() {
    for (file, want) in [
        (
            "reduce_output_of_another_type.tflite",
            "op_context.input->type != op_context.output->type",
        ),
        (
            "unique_int8_values.tflite",
            "output_unique_tensor->type != input->type",
        ),
    ] {
        assert_refused_at_prepare(file, want);
    }
    // The float32 ones are refused at load now, before the kernels' checks: a builtin that
    // reads float32 and does not convert must write float32 (src/schema/rules/).
    for file in [
        "cumsum_int8_output.tflite",
        "segment_sum_int8_output.tflite",
        "unsorted_segment_sum_int8_output.tflite",
        "rnn_int8_output.tflite",
    ] {
        let bytes = data(&format!("tests/fuzz_regressions/{file}"));
        let err = Model::from_bytes(bytes).unwrap_err().to_string();
        assert!(
            err.contains("reads float32 but its output 0 is tensor")
                && err.contains("of type INT8"),
            "{file}: {err}"
        );
    }
}

/// PAD's check that int64 paddings fit int32 read the first `dims` values of the dims x 2
/// matrix: an after-padding of 2^32 + 1 went unchecked, was truncated to 1, and the model ran
/// padded by 1. tensorflow/0078 checks every value (model made by
/// `tests/fuzz_regressions/make_rank_cases.py`).
#[test]
fn int64_paddings_past_int32_are_refused() {
    assert_refused_at_prepare(
        "pad_int64_after_padding_past_int32.tflite",
        "INT64 padding overflow",
    );
}

/// QUANTIZE float32 → int8 converted round(x / scale) to int32 before clamping: undefined
/// behaviour outside int32 (GCC's UBSan trapped on a byte-level-fuzzed model with a scale of
/// 8e-45, `quantize_tiny_scale.tflite`), which on x86 gave `i32::MIN` and, plus a negative
/// zero point, wrapped to a large positive value: -1e30 came out as +127. tensorflow/0058
/// clamps first. QUANTIZE (scale 0.1, zero point -23) → DEQUANTIZE, made by
/// `tests/fuzz_regressions/make_rank_cases.py`; the expected values are Google's runtime's
/// (ai_edge_litert), and NaN gives the maximum.
#[test]
fn quantize_saturates_values_outside_the_integer_range() {
    let mut it = allocated_on_builtin_kernels("quantize_out_of_int_range.tflite");
    it.input_mut(0)
        .unwrap()
        .copy_from_slice(&[-1e30f32, 1e30, 1.0, f32::NAN])
        .unwrap();
    it.invoke().unwrap();
    let got = it.output(0).unwrap().data::<f32>().unwrap().to_vec();
    let want = [-10.5f32, 15.0, 1.0, 15.0];
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-5, "{got:?}, want {want:?}");
    }
    // The fuzzed model: QUANTIZE runs, then REDUCE_MAX refuses its scales, and the message
    // shows both (tensorflow/0068: TF_LITE_ENSURE_EQ printed floats with "%d", undefined
    // behaviour that valgrind saw as uninitialised values and that left garbage numbers).
    assert_eq!(
        exercise(data("tests/fuzz_regressions/quantize_tiny_scale.tflite")),
        "invoke failed"
    );
    let mut it = allocated_on_builtin_kernels("quantize_tiny_scale.tflite");
    let err = it.invoke().unwrap_err().to_string();
    assert!(
        err.contains(
            "input->params.scale != op_context->output->params.scale (8.40779e-45 != 0.0813625)"
        ),
        "{err}"
    );
}

/// RESHAPE takes its new shape from a tensor, here the model's own int32 input (a byte-level
/// fuzz find, `reshape_shape_product_overflow.tflite`): six sizes of 2^20 multiplied past
/// int64 (signed overflow, trapped by GCC's UBSan), and sizes below -1 went into the product
/// too. tensorflow/0059 refuses both with an error; a shape that fits still runs.
#[test]
fn reshape_refuses_a_shape_past_int64_or_below_minus_one() {
    let mut it = allocated_on_builtin_kernels("reshape_shape_product_overflow.tflite");
    for (shape, want) in [
        ([1 << 20; 6], "too many elements"),
        ([-2, 1, 1, 1, 1, 1], "value >= 0"),
    ] {
        it.input_mut(0).unwrap().copy_from_slice(&shape).unwrap();
        let err = it.invoke().unwrap_err().to_string();
        assert!(err.contains(want), "{shape:?}: {err}");
    }
    // A shape that fits: node 5 (this RESHAPE) runs, and the run stops at node 6, whose
    // input the fuzzer retyped as a string.
    it.input_mut(0)
        .unwrap()
        .copy_from_slice(&[1i32, 1, 1, 1, 1, 6])
        .unwrap();
    let err = it.invoke().unwrap_err().to_string();
    assert!(err.contains("Node number 6 (RESHAPE)"), "{err}");
}

/// Kernels size outputs and temporaries with products of dims in int at Prepare, before
/// anything is allocated. FULLY_CONNECTED's input of [1121831200, 16] (structure fuzzer,
/// through QUANTIZE) overflowed its element count (GCC's UBSan trapped; tensorflow/0060, which
/// also covers BATCH_MATMUL's hybrid temporaries), and a block size of 2^16 overflowed
/// SPACE_TO_DEPTH's output depth and DEPTH_TO_SPACE's height (tensorflow/0061, with CONV_2D's
/// and CONV_3D's im2col sizes; models by `tests/fuzz_regressions/make_rank_cases.py`). Each is
/// refused with an error now.
#[test]
fn sizes_past_int_are_refused() {
    for (file, want) in [
        (
            "fully_connected_input_size_overflow.tflite",
            "the input has too many elements",
        ),
        ("space_to_depth_huge_block.tflite", "INT32_MAX"),
        ("depth_to_space_huge_block.tflite", "INT32_MAX"),
    ] {
        let model = Model::from_bytes(data(&format!("tests/fuzz_regressions/{file}"))).unwrap();
        let err = match Interpreter::builder(&model).use_xnnpack(false).build() {
            Ok(mut it) => it.allocate_tensors().unwrap_err().to_string(),
            // On 32-bit targets the input's byte size (2^34 for the FULLY_CONNECTED model)
            // does not fit a size_t: TFLite refuses the model when the interpreter is built.
            Err(e) if cfg!(target_pointer_width = "32") => {
                let e = e.to_string();
                assert!(e.contains("overflowed"), "{file}: {e}");
                continue;
            }
            Err(e) => panic!("{file}: {e}"),
        };
        assert!(err.contains(want), "{file}: {err}");
    }
}

/// A depth multiplier that disagrees with the channels (the byte-level fuzzer's one-byte
/// change of the converter's int8 depthwise model: 4 → 8 channels, multiplier 1): XNNPACK
/// read past its workspace. tensorflow/0070 leaves the node to the builtin kernels, whose
/// result XNNPACK's run then matches (to float rounding: the nodes around it, QUANTIZE and
/// DEQUANTIZE, run on XNNPACK in one run and on TFLite's SSE kernels in the other).
#[test]
fn xnnpack_leaves_a_depthwise_convolution_with_a_lying_multiplier() {
    let model = Model::from_bytes(data(
        "tests/fuzz_regressions/depthwise_multiplier_disagrees_with_channels.tflite",
    ))
    .unwrap();
    let run = |xnnpack: bool| {
        let mut it = Interpreter::builder(&model)
            .use_xnnpack(xnnpack)
            .profiling(true)
            .build()
            .unwrap();
        it.allocate_tensors().unwrap();
        let n = it.input(0).unwrap().num_elements();
        let x: Vec<f32> = (0..n).map(|i| (i % 13) as f32 / 6.0 - 1.0).collect();
        it.input_mut(0).unwrap().copy_from_slice(&x).unwrap();
        it.invoke().unwrap();
        let plan = it.execution_plan().unwrap();
        let on_builtin = plan
            .iter()
            .any(|n| !n.delegated && n.op == "DEPTHWISE_CONV_2D");
        (on_builtin, it.output(0).unwrap().to_vec::<f32>().unwrap())
    };
    let (builtin_kept, with_xnnpack) = run(true);
    assert!(builtin_kept, "XNNPACK took the depthwise convolution");
    let builtin = run(false).1;
    common::assert_close(
        "XNNPACK vs builtin",
        &with_xnnpack,
        &builtin,
        common::Tolerance::Absolute(1e-6),
    );
}

/// TFLite gives string, resource and variant tensors no data buffer; only the kernels that
/// handle them give them one. Any other builtin kernel reading or writing one does so through
/// null: SOFTMAX into a RESOURCE output (`softmax_output_resource.tflite`) crashed the process
/// with XNNPACK on and off, and so did TFLite 2.14.1's own Python runtime. The load-time rule
/// (src/schema/rules/types.rs, `unhandled_type`) names the operator, its op and the tensor; models
/// that use resources as intended (a variable, a hash table; made by
/// `tests/fuzz_regressions/make_resource_cases.py`, checked against that runtime) still run.
#[test]
fn tensors_without_data_are_only_for_the_kernels_that_handle_them() {
    let err = Model::from_bytes(data(
        "tests/fuzz_regressions/softmax_output_resource.tflite",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(
            "operator 9 of subgraph 0 (SOFTMAX) output 0 is tensor 21 of type RESOURCE, which \
             SOFTMAX does not compute on"
        ),
        "{err}"
    );
    // The same model with other operands retyped: (tensor, type, what the error names).
    let digits = data("examples/digits/digits_float32.tflite");
    for (tensor, ty, want) in [
        (
            21,
            14,
            "operator 9 of subgraph 0 (SOFTMAX) output 0 is tensor 21 of type VARIANT",
        ),
        (
            21,
            5,
            "operator 9 of subgraph 0 (SOFTMAX) output 0 is tensor 21 of type STRING",
        ),
        // The model's input, read by the first operator.
        (0, 13, "input 0 is tensor 0 of type RESOURCE"),
        (0, 14, "input 0 is tensor 0 of type VARIANT"),
        // An intermediate: its writer is refused first.
        (
            20,
            13,
            "operator 8 of subgraph 0 (FULLY_CONNECTED) output 0 is tensor 20",
        ),
    ] {
        let mut bytes = digits.clone();
        assert!(structure::set_tensor_type(&mut bytes, 0, tensor, ty));
        let err = Model::from_bytes(bytes).unwrap_err().to_string();
        assert!(err.contains(want), "tensor {tensor} as type {ty}: {err}");
    }
    // A float kernel writes float32, whatever its output's type says: SOFTMAX's wrote 4 bytes
    // per element into an int8 output of 1 (a heap overflow the arena hides). Only operators
    // that convert may read float32 and write another type.
    for ty in [9, 3, 1, 7, 10, 2] {
        let mut bytes = digits.clone();
        assert!(structure::set_tensor_type(&mut bytes, 0, 21, ty));
        let err = Model::from_bytes(bytes).unwrap_err().to_string();
        assert!(
            err.contains(
                "operator 9 of subgraph 0 (SOFTMAX) reads float32 but its output 0 is \
                 tensor 21 of type"
            ),
            "type {ty}: {err}"
        );
    }
    // Input types are the kernels' business (they check them): the model's input as int8 loads,
    // and preparing its first CONV_2D (int8 input, float32 filter) fails.
    let mut bytes = digits.clone();
    assert!(structure::set_tensor_type(&mut bytes, 0, 0, 9));
    let model = Model::from_bytes(bytes).unwrap();
    for xnnpack in [false, true] {
        let built = Interpreter::builder(&model)
            .use_xnnpack(xnnpack)
            .build()
            .and_then(|mut it| it.allocate_tensors());
        assert!(built.is_err(), "xnnpack {xnnpack}");
    }

    // A resource variable: VAR_HANDLE -> ASSIGN_VARIABLE(x) -> READ_VARIABLE gives x back.
    let model = Model::from_bytes(data("tests/fuzz_regressions/resource_variable.tflite")).unwrap();
    for xnnpack in [false, true] {
        let mut it = Interpreter::builder(&model)
            .use_xnnpack(xnnpack)
            .build()
            .unwrap();
        it.allocate_tensors().unwrap();
        let x = [1.5f32, -2.0, 0.25, 8.0];
        it.input_mut(0).unwrap().copy_from_slice(&x).unwrap();
        it.invoke().unwrap();
        assert_eq!(it.output(0).unwrap().data::<f32>().unwrap(), &x[..]);
    }
    // A hash table from int64 keys 1, 2, 3 to "one", "two", "three": key 2 finds "two".
    let model = Model::from_bytes(data("tests/fuzz_regressions/hashtable_lookup.tflite")).unwrap();
    let mut it = Interpreter::builder(&model).build().unwrap();
    it.allocate_tensors().unwrap();
    it.input_mut(0).unwrap().copy_from_slice(&[2i64]).unwrap();
    it.invoke().unwrap();
    assert_eq!(it.output(0).unwrap().strings().unwrap(), [b"two".to_vec()]);
    assert_eq!(it.output(1).unwrap().data::<i64>().unwrap(), &[3i64][..]);
}

/// LSH_PROJECTION writes int32 buckets without looking at its output's type: typed INT8, its
/// output got 4 bytes per element written into 1. Refused at load (src/schema/rules/); the
/// valid model runs and gives what TFLite 2.14.1's own Python runtime gives on a zero input.
/// Models by `tests/fuzz_regressions/make_resource_cases.py`.
#[test]
fn lsh_projection_writes_int32() {
    let err = Model::from_bytes(data(
        "tests/fuzz_regressions/lsh_projection_int8_output.tflite",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("operator 0 of subgraph 0 (LSH_PROJECTION)")
            && err.contains("output 0 is tensor 2 of type INT8, and LSH_PROJECTION writes int32"),
        "{err}"
    );
    let model = Model::from_bytes(data("tests/fuzz_regressions/lsh_projection.tflite")).unwrap();
    for xnnpack in [false, true] {
        let mut it = Interpreter::builder(&model)
            .use_xnnpack(xnnpack)
            .build()
            .unwrap();
        it.allocate_tensors().unwrap();
        it.input_mut(0)
            .unwrap()
            .copy_from_slice(&[0i32; 3])
            .unwrap();
        it.invoke().unwrap();
        assert_eq!(
            it.output(0).unwrap().data::<i32>().unwrap(),
            &[2, 7, 8, 12][..]
        );
    }
}

/// The valid models that hold the schema's rarer fields (made by
/// `tests/fuzz_regressions/make_resource_cases.py`, seeds of the structure test): TFLite's own
/// custom kernels and sparse constants compute what TFLite 2.14.1's own Python runtime
/// computes; what lies past the flatbuffer (the layout of models over 2 GB) does not reach the
/// kernels through TFLite's C API.
#[test]
fn valid_models_with_the_rarer_fields_run() {
    let run = |file: &str, xnnpack: bool, input: &[f32]| -> tflite::Result<Vec<Vec<f32>>> {
        let model = Model::from_bytes(data(&format!("tests/fuzz_regressions/{file}")))?;
        let mut it = Interpreter::builder(&model).use_xnnpack(xnnpack).build()?;
        it.allocate_tensors()?;
        it.input_mut(0)?.copy_from_slice(input)?;
        it.invoke()?;
        (0..it.output_count())
            .map(|k| it.output(k)?.to_vec::<f32>())
            .collect()
    };
    let wave: Vec<f32> = (0..64).map(|k| (k as f32 * 0.3).sin()).collect();
    // The first frame's 13 coefficients in Google's runtime (builtin kernels, same input).
    let want: [f64; 13] = [
        -2.116676e+02,
        -1.518876e+01,
        -7.853447e+00,
        1.466093e+00,
        5.043691e-01,
        1.282221e+01,
        -5.355440e+00,
        -1.204449e+01,
        -2.971032e+00,
        2.761688e+01,
        -1.838125e+01,
        -8.415999e-01,
        -3.667012e-01,
    ];
    for xnnpack in [false, true] {
        let y = run("audio_mfcc.tflite", xnnpack, &wave).unwrap();
        assert_eq!(y[0].len(), 7 * 13);
        for (k, (got, want)) in y[0].iter().zip(want).enumerate() {
            // (Fails on NaN too.)
            assert!(
                (f64::from(*got) - want).abs() <= 1e-2,
                "coefficient {k}: {got} vs {want}"
            );
        }
        // TFLite's C API builds interpreters from the bare flatbuffer, without the file
        // around it: constants stored past it have no data there, an error at invoke.
        let err = run("constants_at_offsets.tflite", xnnpack, &[1.5; 6]).unwrap_err();
        assert!(err.to_string().contains("lacks data"), "{err}");
    }
    // For the same reason, options stored past the flatbuffer reach a custom kernel as none
    // (null, 0): AudioSpectrogram read before that null (SIGSEGV). Refused at load.
    let err = Model::from_bytes(data(
        "tests/fuzz_regressions/audio_mfcc_options_at_offsets.tflite",
    ))
    .unwrap_err()
    .to_string();
    assert!(err.contains("(AudioSpectrogram) has options"), "{err}");
    // Google's runtime with XNNPACK fails to set up this model's runtime; the builtin kernels
    // give the dense matrices.
    let y = run("densify_sparse_constants.tflite", false, &[0.0; 16]).unwrap();
    let mut want = vec![0.0; 16];
    (want[0], want[6], want[13]) = (1.0, 2.0, 3.0);
    assert_eq!(y, [want, vec![5.0, 0.0, 6.0, 0.0, 0.0, 7.0, 0.0, 8.0]]);
    let _ = run("densify_sparse_constants.tflite", true, &[0.0; 16]);
}
