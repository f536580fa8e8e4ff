//! Rust custom operators: results, errors and panics at the boundary, per-node state, and the
//! MediaPipe-style ops of examples/mediapipe_ops against TensorFlow's outputs.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tflite::custom_op::{op_fn, CustomOp, OpContext, OpResult};
use tflite::{Error, Interpreter, Model};

fn test_model() -> Model {
    // x: f32[4] and a constant c = 1.0 -> "TfliteRsTestOp" -> f32[4] (tests/models/make_models.py)
    Model::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/models/custom_op.tflite"
    ))
    .unwrap()
}

fn same_shape(ctx: &mut OpContext<'_>) -> OpResult {
    let shape = ctx.input(0)?.shape();
    ctx.resize_output(0, &shape)
}

fn add(ctx: &mut OpContext<'_>) -> OpResult {
    let (x, c) = (ctx.input(0)?.data::<f32>()?, ctx.input(1)?.data::<f32>()?);
    for (y, x) in ctx.output(0)?.into_data_mut::<f32>()?.iter_mut().zip(x) {
        *y = x + c[0];
    }
    Ok(())
}

fn message(e: &Error) -> String {
    e.to_string()
}

/// The error of building and allocating: `prepare` runs at `allocate_tensors`, or already at
/// `build` when the XNNPACK delegate is applied (TFLite prepares the graph it partitions).
fn prepare_error(builder: tflite::InterpreterBuilder<'_>) -> String {
    match builder.build() {
        Err(e) => message(&e),
        Ok(mut it) => message(&it.allocate_tensors().unwrap_err()),
    }
}

#[test]
fn closure_op_computes_and_sees_the_graph() {
    let model = test_model();
    let op = op_fn(
        |ctx: &mut OpContext<'_>| {
            assert_eq!((ctx.num_inputs(), ctx.num_outputs()), (2, 1));
            assert!(ctx.options().is_empty());
            let c = ctx.input(1)?;
            assert_eq!(c.shape(), Vec::<usize>::new());
            assert_eq!(c.data::<f32>()?, [1.0]); // a constant has data already in prepare
            assert!(ctx.input(0)?.data::<f32>().is_err()); // the input is not allocated yet
            same_shape(ctx)
        },
        add,
    );
    let mut it = Interpreter::builder(&model)
        .custom_op("TfliteRsTestOp", op)
        .build()
        .unwrap();
    it.allocate_tensors().unwrap();
    for x in [[1.0f32, 2.0, 3.0, 4.0], [-5.0, 0.0, 0.5, 1e6]] {
        it.input_mut(0)
            .and_then(|mut t| t.copy_from_slice(&x))
            .unwrap();
        it.invoke().unwrap();
        let want: Vec<f32> = x.iter().map(|v| v + 1.0).collect();
        assert_eq!(it.output(0).and_then(|t| t.data::<f32>()).unwrap(), want);
    }
}

#[test]
fn unregistered_or_wrong_version_is_an_unsupported_op() {
    let model = test_model();
    // Refused at build, with XNNPACK or without.
    for xnnpack in [true, false] {
        for builder in [
            Interpreter::builder(&model),
            Interpreter::builder(&model).custom_op_version(
                "TfliteRsTestOp",
                2,
                op_fn(same_shape, add),
            ),
            Interpreter::builder(&model).custom_op("OtherOp", op_fn(same_shape, add)),
        ] {
            match builder.use_xnnpack(xnnpack).build() {
                Err(Error::UnsupportedOp { op, .. }) => assert_eq!(op, "TfliteRsTestOp"),
                other => panic!("xnnpack {xnnpack}: expected UnsupportedOp, got {other:?}"),
            }
        }
    }
}

#[test]
fn errors_from_callbacks_carry_the_op_name_and_message() {
    let model = test_model();
    let failing = op_fn(|_: &mut OpContext<'_>| Err("shapes do not fit".into()), add);
    let e = prepare_error(Interpreter::builder(&model).custom_op("TfliteRsTestOp", failing));
    assert!(
        e.contains("TfliteRsTestOp") && e.contains("prepare") && e.contains("shapes do not fit"),
        "{e}"
    );

    let failing = op_fn(same_shape, |ctx: &mut OpContext<'_>| {
        ctx.input(0)?.data::<i32>()?; // wrong element type: a typed error, not a reinterpretation
        Ok(())
    });
    let mut it = Interpreter::builder(&model)
        .custom_op("TfliteRsTestOp", failing)
        .build()
        .unwrap();
    it.allocate_tensors().unwrap();
    let e = message(&it.invoke().unwrap_err());
    assert!(
        e.contains("TfliteRsTestOp") && e.contains("invoke") && e.contains("Int32"),
        "{e}"
    );
}

#[test]
fn misuse_of_the_context_is_an_error() {
    let model = test_model();
    let op = op_fn(same_shape, |ctx: &mut OpContext<'_>| {
        let e1 = ctx.input(2).err().map(|e| e.to_string());
        let e2 = ctx.output(1).err().map(|e| e.to_string());
        let _first = ctx.output(0)?;
        let e3 = ctx.output(0).err().map(|e| e.to_string());
        Err(format!("{e1:?} | {e2:?} | {e3:?}").into())
    });
    let mut it = Interpreter::builder(&model)
        .custom_op("TfliteRsTestOp", op)
        .build()
        .unwrap();
    it.allocate_tensors().unwrap();
    let e = message(&it.invoke().unwrap_err());
    assert!(e.contains("input 2 requested, the node has 2"), "{e}");
    assert!(e.contains("output 1 requested, the node has 1"), "{e}");
    assert!(e.contains("output 0 was already taken"), "{e}");
}

#[test]
fn panics_are_caught_at_the_boundary() {
    let model = test_model();
    let op = op_fn(same_shape, |ctx: &mut OpContext<'_>| {
        let x = ctx.input(0)?.data::<f32>()?;
        if x[0] < 0.0 {
            panic!("negative input {}", x[0]);
        }
        add(ctx)
    });
    let mut it = Interpreter::builder(&model)
        .custom_op("TfliteRsTestOp", op)
        .build()
        .unwrap();
    it.allocate_tensors().unwrap();
    it.input_mut(0)
        .and_then(|mut t| t.copy_from_slice(&[-1.0f32, 0.0, 0.0, 0.0]))
        .unwrap();
    let e = message(&it.invoke().unwrap_err());
    assert!(
        e.contains("panicked") && e.contains("negative input -1"),
        "{e}"
    );
    // The interpreter stays usable.
    it.input_mut(0)
        .and_then(|mut t| t.copy_from_slice(&[1.0f32, 2.0, 3.0, 4.0]))
        .unwrap();
    it.invoke().unwrap();
    assert_eq!(
        it.output(0).and_then(|t| t.data::<f32>()).unwrap(),
        [2.0, 3.0, 4.0, 5.0]
    );
}

/// An op with per-node state whose `init` checks the options and whose state counts drops.
struct Counted {
    inits: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
    fail_init: bool,
}

struct Token(Arc<AtomicUsize>, u32);

impl Drop for Token {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl CustomOp for Counted {
    type State = Token;
    fn init(&self, options: &[u8]) -> OpResult<Token> {
        self.inits.fetch_add(1, Ordering::SeqCst);
        if self.fail_init {
            return Err(format!("{} bytes of options are not enough", options.len()).into());
        }
        Ok(Token(self.drops.clone(), 0))
    }
    fn prepare(&self, _: &mut Token, ctx: &mut OpContext<'_>) -> OpResult {
        same_shape(ctx)
    }
    fn invoke(&self, t: &mut Token, ctx: &mut OpContext<'_>) -> OpResult {
        t.1 += 1; // the state is mutable and persists between runs
        let calls = t.1 as f32;
        let x = ctx.input(0)?.data::<f32>()?;
        for (y, x) in ctx.output(0)?.into_data_mut::<f32>()?.iter_mut().zip(x) {
            *y = x * calls;
        }
        Ok(())
    }
}

#[test]
fn state_is_per_node_and_freed_with_the_interpreter() {
    let model = test_model();
    let (inits, drops) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let op = Counted {
        inits: inits.clone(),
        drops: drops.clone(),
        fail_init: false,
    };
    // No delegate: exactly one interpreter creation, so one init.
    let mut it = Interpreter::builder(&model)
        .use_xnnpack(false)
        .custom_op("TfliteRsTestOp", op)
        .build()
        .unwrap();
    it.allocate_tensors().unwrap();
    it.input_mut(0)
        .and_then(|mut t| t.copy_from_slice(&[1.0f32, 2.0, 3.0, 4.0]))
        .unwrap();
    for calls in 1..=3 {
        it.invoke().unwrap();
        assert_eq!(
            it.output(0).and_then(|t| t.data::<f32>()).unwrap(),
            [1.0, 2.0, 3.0, 4.0].map(|v| v * calls as f32)
        );
    }
    assert_eq!(
        (inits.load(Ordering::SeqCst), drops.load(Ordering::SeqCst)),
        (1, 0)
    );
    drop(it);
    assert_eq!(drops.load(Ordering::SeqCst), 1);

    let op = Counted {
        inits: inits.clone(),
        drops: drops.clone(),
        fail_init: true,
    };
    let e = prepare_error(Interpreter::builder(&model).custom_op("TfliteRsTestOp", op));
    assert!(
        e.contains("init failed: 0 bytes of options are not enough"),
        "{e}"
    );
}

#[test]
fn registration_problems_are_reported_by_build() {
    let model = test_model();
    let e = Interpreter::builder(&model)
        .custom_op("TfliteRsTestOp", op_fn(same_shape, add))
        .custom_op("TfliteRsTestOp", op_fn(same_shape, add))
        .build()
        .unwrap_err();
    assert!(
        matches!(&e, Error::CustomOp(m) if m.contains("registered twice")),
        "{e}"
    );
    let e = Interpreter::builder(&model)
        .custom_op("Bad\0Name", op_fn(same_shape, add))
        .build()
        .unwrap_err();
    assert!(matches!(&e, Error::CustomOp(m) if m.contains("NUL")), "{e}");
    let mut b = Interpreter::builder(&model);
    for i in 0..33 {
        b = b.custom_op(&format!("Op{i}"), op_fn(same_shape, add));
    }
    let e = b.build().unwrap_err();
    assert!(
        matches!(&e, Error::CustomOp(m) if m.contains("at most 32")),
        "{e}"
    );
}

#[test]
fn interpreter_with_rust_ops_moves_to_another_thread() {
    let model = test_model();
    let mut it = Interpreter::builder(&model)
        .custom_op("TfliteRsTestOp", op_fn(same_shape, add))
        .build()
        .unwrap();
    let out = std::thread::spawn(move || {
        it.allocate_tensors().unwrap();
        it.input_mut(0)
            .and_then(|mut t| t.copy_from_slice(&[0.5f32; 4]))
            .unwrap();
        it.invoke().unwrap();
        it.output(0).and_then(|t| t.to_vec::<f32>()).unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(out, [1.5; 4]);
}
