//! `Interpreter::profile`: node count, kernel attribution, XNNPACK's operators, how the node
//! times add up to the invoke time, and the Chrome-trace export.

use tflite::custom_op::{op_fn, OpContext};
use tflite::profile::Kernel;
use tflite::{Error, Interpreter, Model};

fn path(p: &str) -> String {
    format!("{}/{p}", env!("CARGO_MANIFEST_DIR"))
}

fn profiled(model: &Model, xnnpack: bool) -> Interpreter {
    let mut it = Interpreter::builder(model)
        .use_xnnpack(xnnpack)
        .profiling(true)
        .build()
        .unwrap();
    it.allocate_tensors().unwrap();
    it
}

#[test]
fn builtin_nodes_are_the_models_operators() {
    let model = Model::from_file(path("examples/digits/digits_float32.tflite")).unwrap();
    let mut it = profiled(&model, false);
    let p = it.profile(5).unwrap();
    let mut want: Vec<String> = model
        .operators()
        .unwrap()
        .iter()
        .flat_map(|o| std::iter::repeat(o.name.clone()).take(o.nodes))
        .collect();
    let mut got: Vec<String> = p.nodes.iter().map(|n| n.op.clone()).collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    assert!(p
        .nodes
        .iter()
        .all(|n| n.kernel == Kernel::Builtin && n.runs == 5));
    assert!(p.xnnpack_ops.is_empty());
    assert!(p.node_time() <= p.invoke_time);
}

#[test]
fn a_delegated_graph_shows_its_xnnpack_partitions_and_operators() {
    if !cfg!(feature = "xnnpack") {
        return;
    }
    let model = Model::from_file(path("examples/digits/digits_float32.tflite")).unwrap();
    let mut it = profiled(&model, true);
    let p = it.profile(5).unwrap();
    // Every node of the plan ran 5 times: two XNNPACK partitions (conv + pooling, dense +
    // softmax) around Keras' Flatten, whose SHAPE, STRIDED_SLICE and PACK (folded at prepare,
    // trivial at invoke) stay builtin.
    let plan = it.execution_plan().unwrap();
    assert_eq!(p.nodes.len(), plan.len(), "{p}");
    for (n, planned) in p.nodes.iter().zip(&plan) {
        assert_eq!(
            (n.node, &n.op, n.runs),
            (planned.index, &planned.op, 5),
            "{p}"
        );
        let want = if planned.delegated {
            Kernel::Xnnpack
        } else {
            Kernel::Builtin
        };
        assert_eq!(n.kernel, want, "{p}");
    }
    let xnn: Vec<_> = p
        .nodes
        .iter()
        .filter(|n| n.kernel == Kernel::Xnnpack)
        .collect();
    assert_eq!(xnn.len(), 2, "{p}");
    assert!(xnn.iter().all(|n| n.op == "TfLiteXNNPackDelegate"));
    // conv, pooling, the dense layers, softmax: XNNPACK's own operators, each timed 5 times.
    assert!(p.xnnpack_ops.len() >= 4, "{p}");
    for part in &xnn {
        let ops: Vec<_> = p
            .xnnpack_ops
            .iter()
            .filter(|o| o.node == part.node)
            .collect();
        assert!(!ops.is_empty() && ops.iter().all(|o| o.runs == 5), "{p}");
        // A partition's time is its operators' time.
        assert_eq!(part.total, ops.iter().map(|o| o.total).sum(), "{p}");
    }
    // The export is JSON with one event per node run and per XNNPACK operator run.
    let trace: serde_json::Value = serde_json::from_str(&p.to_chrome_trace()).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    assert_eq!(events.len(), 5 * (plan.len() - 2) + 5 * p.xnnpack_ops.len());
    assert!(events
        .iter()
        .all(|e| e["ph"] == "X" && e["dur"].as_f64().is_some()));
}

#[test]
fn a_rust_custom_op_is_attributed_to_rust() {
    let model = Model::from_file(path("tests/models/custom_op.tflite")).unwrap();
    let add = op_fn(
        |ctx: &mut OpContext<'_>| {
            let shape = ctx.input(0)?.shape();
            ctx.resize_output(0, &shape)
        },
        |ctx: &mut OpContext<'_>| {
            let (x, c) = (ctx.input(0)?.data::<f32>()?, ctx.input(1)?.data::<f32>()?);
            for (y, x) in ctx.output(0)?.into_data_mut::<f32>()?.iter_mut().zip(x) {
                *y = x + c[0];
            }
            Ok(())
        },
    );
    let mut it = Interpreter::builder(&model)
        .custom_op("TfliteRsTestOp", add)
        .profiling(true)
        .build()
        .unwrap();
    it.allocate_tensors().unwrap();
    let p = it.profile(3).unwrap();
    assert_eq!(p.nodes.len(), 1);
    assert_eq!(
        (p.nodes[0].op.as_str(), &p.nodes[0].kernel),
        ("TfliteRsTestOp", &Kernel::RustCustomOp)
    );
    // The plan says the same, from the node's registration.
    let plan = it.execution_plan().unwrap();
    assert_eq!(plan.len(), 1);
    assert_eq!(
        (plan[0].op.as_str(), &plan[0].kernel),
        ("TfliteRsTestOp", &Kernel::RustCustomOp)
    );
    let by_type = p.by_op_type();
    assert_eq!(by_type.len(), 1);
    assert_eq!((by_type[0].nodes, by_type[0].total), (1, p.nodes[0].total));
}

#[test]
fn node_times_account_for_the_invoke_time() {
    // 41 nodes of real work on the builtin kernels.
    let model = Model::from_file(path("tests/compat/encoder_block.float32.tflite")).unwrap();
    let mut it = Interpreter::builder(&model)
        .use_xnnpack(false)
        .profiling(true)
        .build()
        .unwrap();
    let mut shape = it.input(0).unwrap().shape();
    shape[0] = 64;
    it.resize_input(0, &shape).unwrap();
    it.allocate_tensors().unwrap();
    let p = it.profile(20).unwrap();
    assert_eq!(p.nodes.len(), 41);
    let share = p.node_time().as_secs_f64() / p.invoke_time.as_secs_f64();
    assert!(
        (0.8..=1.0).contains(&share),
        "nodes account for {share:.3} of the invoke time\n{p}"
    );
}

#[test]
fn profiling_must_be_switched_on() {
    let model = Model::from_file(path("tflite-sys/tests/data/add_mul.tflite")).unwrap();
    let mut it = Interpreter::new(&model).unwrap();
    it.allocate_tensors().unwrap();
    assert!(matches!(it.profile(1), Err(Error::ProfilingOff)));
    // Invokes outside `profile` record nothing (no unbounded growth).
    let mut it = profiled(&model, false);
    for _ in 0..100 {
        it.invoke().unwrap();
    }
    let p = it.profile(1).unwrap();
    assert!(p.nodes.iter().all(|n| n.runs == 1));
}

#[cfg(feature = "mediapipe")]
#[test]
fn xnnpack_partitions_and_rust_ops_in_one_graph() {
    if !cfg!(feature = "xnnpack") {
        return;
    }
    // conv -> argmax pooling -> conv -> unpooling -> transposed conv: XNNPACK takes the
    // convolutions, our Rust kernels run MediaPipe's pooling pair.
    let model = Model::from_file(path("examples/mediapipe_ops/unpool_net.tflite")).unwrap();
    let mut it = Interpreter::builder(&model)
        .profiling(true)
        .build()
        .unwrap();
    it.allocate_tensors().unwrap();
    let p = it.profile(3).unwrap();
    let kinds: Vec<(&str, &Kernel)> = p.nodes.iter().map(|n| (n.op.as_str(), &n.kernel)).collect();
    assert!(
        kinds.contains(&("MaxPoolingWithArgmax2D", &Kernel::RustCustomOp)),
        "{p}"
    );
    assert!(
        kinds.contains(&("MaxUnpooling2D", &Kernel::RustCustomOp)),
        "{p}"
    );
    assert!(kinds.iter().any(|(_, k)| **k == Kernel::Xnnpack), "{p}");
    assert_eq!(p.nodes.len(), it.execution_plan().unwrap().len());
}

/// The plan is the main graph's, whatever TFLite's control flow runs: `counting_loop.tflite`'s
/// main graph is one WHILE node (its condition and body, other subgraphs, hold LESS, ADD, MUL),
/// before and after a resize re-applies the delegates to every subgraph. On the builtin
/// kernels its profile puts the body's nodes in their own subgraphs. (With XNNPACK, the
/// operators of a partition XNNPACK took in a body are not placed: XNNPACK reports them
/// without a subgraph, and the plan is the main graph's.)
#[test]
fn the_plan_is_the_main_graphs() {
    let model = Model::from_file(path("tests/models/counting_loop.tflite")).unwrap();
    for xnnpack in [false, true] {
        let mut it = Interpreter::builder(&model)
            .use_xnnpack(xnnpack)
            .profiling(true)
            .build()
            .unwrap();
        let ops = |it: &Interpreter| -> Vec<(String, Kernel)> {
            it.execution_plan()
                .unwrap()
                .into_iter()
                .map(|n| (n.op, n.kernel))
                .collect()
        };
        assert_eq!(
            ops(&it),
            [("WHILE".to_string(), Kernel::Builtin)],
            "{xnnpack}"
        );
        it.resize_input(0, &[]).unwrap();
        it.allocate_tensors().unwrap();
        assert_eq!(
            ops(&it),
            [("WHILE".to_string(), Kernel::Builtin)],
            "{xnnpack}"
        );
        if xnnpack {
            continue;
        }
        it.input_mut(0).unwrap().copy_from_slice(&[3i32]).unwrap();
        let p = it.profile(1).unwrap();
        let main: Vec<&str> = p
            .nodes
            .iter()
            .filter(|n| n.subgraph == 0)
            .map(|n| n.op.as_str())
            .collect();
        assert_eq!(main, ["WHILE"], "{p}");
        assert!(p.nodes.iter().any(|n| n.subgraph > 0), "{p}");
    }
}
