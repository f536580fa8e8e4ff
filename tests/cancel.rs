//! Cancellation and deadlines: a `CancelHandle` stops a running invoke from another thread
//! with a distinct error, between nodes; the interpreter stays usable. On the builtin kernels
//! (every node a boundary) and on the default XNNPACK path, where a partition XNNPACK took is
//! one node: a graph it took whole stops only at its end, one it took in parts at the next
//! boundary.

use std::time::{Duration, Instant};
use tflite::{CancelHandle, Error, Interpreter, Model};

/// A transformer encoder block (41 nodes) on the builtin kernels, its batch raised until one
/// invoke takes at least 100 ms here: slow enough to interrupt, with work spread over nodes.
/// Returns the interpreter, the time of one invoke (min of 2) and its outputs.
fn slow_interpreter(model: &Model) -> (Interpreter, Duration, Vec<f32>) {
    slow(model, false, 128)
}

/// `model` with XNNPACK on or off, its batch doubled from `batch` until one invoke takes at
/// least 100 ms; as [`slow_interpreter`].
fn slow(model: &Model, xnnpack: bool, mut batch: usize) -> (Interpreter, Duration, Vec<f32>) {
    loop {
        let mut it = Interpreter::builder(model)
            .use_xnnpack(xnnpack)
            .build()
            .unwrap();
        let mut shape = it.input(0).unwrap().shape();
        shape[0] = batch;
        it.resize_input(0, &shape).unwrap();
        it.allocate_tensors().unwrap();
        let n = it.input(0).unwrap().num_elements();
        let x: Vec<f32> = (0..n).map(|i| ((i % 97) as f32 / 48.0) - 1.0).collect();
        it.input_mut(0).unwrap().copy_from_slice(&x).unwrap();
        let mut best = Duration::MAX;
        for _ in 0..2 {
            let t = Instant::now();
            it.invoke().unwrap();
            best = best.min(t.elapsed());
        }
        if best >= Duration::from_millis(100) || batch >= 1 << 16 {
            let y = it.output(0).unwrap().to_vec::<f32>().unwrap();
            return (it, best, y);
        }
        batch *= 2;
    }
}

fn encoder() -> Model {
    Model::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/compat/encoder_block.float32.tflite"
    ))
    .unwrap()
}

/// Under valgrind (`.ci/valgrind` sets `TFLITE_UNDER_VALGRIND`) threads run one at a time, so
/// the cancelling thread wakes late and a time bound says nothing about TFLite; there the tests
/// check only that the invoke ends with the cancellation error and memcheck checks the memory.
fn timing_is_meaningful() -> bool {
    std::env::var_os("TFLITE_UNDER_VALGRIND").is_none()
}

/// Runs `attempt` up to three times (a loaded machine can delay the cancelling thread);
/// passes as soon as one attempt says so.
fn within_three(mut attempt: impl FnMut() -> Result<(), String>) {
    let mut last = String::new();
    for _ in 0..3 {
        match attempt() {
            Ok(()) => return,
            Err(e) => last = e,
        }
    }
    panic!("{last}");
}

/// Cancels `it`'s invoke `full / 5` after it starts; returns the result and how long it took.
fn cancel_after_a_fifth(it: &mut Interpreter, full: Duration) -> (tflite::Result<()>, Duration) {
    let handle = it.cancel_handle();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(full / 5);
        handle.cancel();
    });
    let t = Instant::now();
    let result = it.invoke();
    let took = t.elapsed();
    canceller.join().unwrap();
    (result, took)
}

#[test]
fn a_handle_cancels_a_running_invoke_between_nodes() {
    let model = encoder();
    let (mut it, full, want) = slow_interpreter(&model);
    within_three(|| {
        let (result, took) = cancel_after_a_fifth(&mut it, full);
        match result {
            Err(Error::Cancelled) if took < full * 4 / 5 || !timing_is_meaningful() => Ok(()),
            // Under valgrind the cancelling thread may not be scheduled before the invoke ends.
            Ok(()) if !timing_is_meaningful() => Ok(()),
            other => Err(format!(
                "{other:?} after {took:?} (a full invoke takes {full:?})"
            )),
        }
    });
    // Usable afterwards, with the same results as before.
    it.invoke().unwrap();
    assert_eq!(it.output(0).unwrap().to_vec::<f32>().unwrap(), want);
    // A cancel while nothing runs does nothing.
    it.cancel_handle().cancel();
    it.invoke().unwrap();
}

#[test]
fn a_deadline_cancels_with_its_own_error() {
    let model = encoder();
    let (mut it, full, want) = slow_interpreter(&model);
    within_three(|| {
        let t = Instant::now();
        let result = it.invoke_with_timeout(full / 5);
        let took = t.elapsed();
        match result {
            Err(Error::DeadlineExceeded { timeout })
                if timeout == full / 5 && (took < full * 4 / 5 || !timing_is_meaningful()) =>
            {
                Ok(())
            }
            other => Err(format!(
                "{other:?} after {took:?} (a full invoke takes {full:?})"
            )),
        }
    });
    // A generous deadline changes nothing, and the watchdog of an earlier call does not
    // reach a later invoke.
    it.invoke_with_timeout(full * 20).unwrap();
    assert_eq!(it.output(0).unwrap().to_vec::<f32>().unwrap(), want);
    it.invoke().unwrap();
}

#[test]
fn handles_are_send_sync_and_outlive_their_interpreter() {
    fn send_sync<T: Send + Sync + Clone>(_: &T) {}
    let model = encoder();
    let it = Interpreter::new(&model).unwrap();
    let handle: CancelHandle = it.cancel_handle();
    send_sync(&handle);
    drop(it);
    handle.cancel(); // nothing to cancel, nothing touched
}

#[test]
fn a_signature_runner_is_cancelled_by_the_interpreter_handle() {
    let model = encoder();
    let (mut it, full, _) = slow_interpreter(&model);
    let handle = it.cancel_handle();
    let slow_shape = it.input(0).unwrap().shape();
    let key = it.signature_keys()[0].clone();
    let mut run = it.signature_runner(&key).unwrap();
    run.resize_input(0, &slow_shape).unwrap();
    run.allocate_tensors().unwrap();
    within_three(|| {
        let h = handle.clone();
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(full / 5);
            h.cancel();
        });
        let result = run.invoke();
        canceller.join().unwrap();
        match result {
            Err(Error::Cancelled) => Ok(()),
            // Under valgrind the cancelling thread may not be scheduled before the invoke ends.
            Ok(()) if !timing_is_meaningful() => Ok(()),
            other => Err(format!("{other:?}")),
        }
    });
    run.invoke().unwrap();
}

/// A signature runner has the interpreter's deadlines: a runaway loop (2^31 - 1 iterations of
/// `counting_loop.tflite`, through its `serving_default` signature) run with
/// `invoke_with_timeout` returns `DeadlineExceeded` near its deadline, its own handle cancels
/// it, and the runner stays usable.
#[test]
fn a_signature_runner_is_stopped_by_a_deadline_and_its_own_handle() {
    let model = Model::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/models/counting_loop.tflite"
    ))
    .unwrap();
    let mut it = Interpreter::builder(&model)
        .use_xnnpack(false)
        .build()
        .unwrap();
    let mut run = it.signature_runner("serving_default").unwrap();
    run.allocate_tensors().unwrap();
    run.input_mut(0).unwrap().copy_from_slice(&[10i32]).unwrap();
    run.invoke_with_timeout(Duration::from_secs(10)).unwrap();
    let x = run.output(0).unwrap().data::<f32>().unwrap()[0];
    assert_eq!(x, 2.0 - 2f32.powi(-9));

    run.input_mut(0)
        .unwrap()
        .copy_from_slice(&[i32::MAX])
        .unwrap();
    let t = Instant::now();
    let err = run
        .invoke_with_timeout(Duration::from_millis(200))
        .unwrap_err();
    assert!(
        matches!(err, Error::DeadlineExceeded { timeout } if timeout == Duration::from_millis(200)),
        "{err}"
    );
    if timing_is_meaningful() {
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    }

    let handle = run.cancel_handle();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        handle.cancel();
    });
    let result = run.invoke();
    canceller.join().unwrap();
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");

    run.input_mut(0).unwrap().copy_from_slice(&[10i32]).unwrap();
    run.invoke().unwrap();
    assert_eq!(
        run.output(0).unwrap().data::<f32>().unwrap()[0],
        2.0 - 2f32.powi(-9)
    );
}

/// One watchdog thread serves every deadline of the process: loops of 2^31 - 1 iterations
/// (`counting_loop.tflite`) on four threads at once, each with its own deadline, are each stopped near theirs (the shortest first), and a
/// deadline too far to represent (`Duration::MAX`) is no deadline, not a panic.
#[test]
fn deadlines_on_several_threads_are_each_kept() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/models/counting_loop.tflite"
    );
    let model = Model::from_file(path).unwrap();
    let timeouts = [400u64, 100, 300, 200].map(Duration::from_millis);
    std::thread::scope(|s| {
        let runs: Vec<_> = timeouts
            .iter()
            .map(|&timeout| {
                let model = &model;
                s.spawn(move || {
                    let mut it = Interpreter::builder(model)
                        .use_xnnpack(false)
                        .build()
                        .unwrap();
                    it.allocate_tensors().unwrap();
                    it.input_mut(0)
                        .unwrap()
                        .copy_from_slice(&[i32::MAX])
                        .unwrap();
                    let t = Instant::now();
                    let err = it.invoke_with_timeout(timeout).unwrap_err();
                    (err, t.elapsed())
                })
            })
            .collect();
        for (run, timeout) in runs.into_iter().zip(timeouts) {
            let (err, took) = run.join().unwrap();
            assert!(
                matches!(err, Error::DeadlineExceeded { timeout: t } if t == timeout),
                "{err}"
            );
            assert!(took >= timeout, "{took:?}");
            // Under valgrind threads run one at a time: the watchdog wakes late.
            if timing_is_meaningful() {
                assert!(took < timeout + Duration::from_secs(5), "{took:?}");
            }
        }
    });
    let mut it = Interpreter::new(&encoder()).unwrap();
    it.allocate_tensors().unwrap();
    it.invoke_with_timeout(Duration::MAX).unwrap();
}

/// A WHILE loop whose condition and body have no operator (`while_without_nodes.tflite`: each
/// passes its input through; with `true` it never ends) crosses no node boundary, where TFLite
/// checks for cancellation: WHILE checks at every iteration too (tensorflow/0040), so a
/// deadline stops it, and the interpreter stays usable.
#[test]
fn a_loop_without_nodes_is_stopped_by_a_deadline() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/models/while_without_nodes.tflite"
    );
    let model = Model::from_file(path).unwrap();
    let mut it = Interpreter::new(&model).unwrap();
    it.allocate_tensors().unwrap();
    // `false`: the loop ends at once.
    it.input_mut(0).unwrap().copy_from_slice(&[false]).unwrap();
    it.invoke_with_timeout(Duration::from_secs(10)).unwrap();
    it.input_mut(0).unwrap().copy_from_slice(&[true]).unwrap();
    for _ in 0..2 {
        let t = Instant::now();
        let err = it
            .invoke_with_timeout(Duration::from_millis(200))
            .unwrap_err();
        assert!(matches!(err, Error::DeadlineExceeded { .. }), "{err}");
        if timing_is_meaningful() {
            assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
        }
    }
}

/// The default path: XNNPACK on (its partitions are nodes).
#[cfg(feature = "xnnpack")]
mod xnnpack {
    use super::*;

    /// The main graph's plan (with a profiling interpreter, which records it).
    fn plan(model: &Model) -> Vec<tflite::PlanNode> {
        let it = Interpreter::builder(model).profiling(true).build().unwrap();
        it.execution_plan().unwrap()
    }

    fn output(it: &Interpreter) -> Vec<f32> {
        it.output(0).unwrap().to_vec::<f32>().unwrap()
    }

    fn set_input(it: &mut Interpreter, x: &[f32]) {
        it.input_mut(0).unwrap().copy_from_slice(x).unwrap();
    }

    /// Runs `attempt` on a cancelled invoke of `y` three times at most (see [`within_three`]),
    /// each time after a full invoke of `x`, whose output is then in the output tensor: `attempt`
    /// gets the result, the time it took and the output tensor after it.
    fn cancel_an_invoke_of_y_after_one_of_x(
        it: &mut Interpreter,
        full: Duration,
        x: &[f32],
        y: &[f32],
        attempt: impl Fn(tflite::Result<()>, Duration, Vec<f32>) -> Result<(), String>,
    ) {
        within_three(|| {
            set_input(it, x);
            it.invoke().unwrap();
            set_input(it, y);
            let (result, took) = cancel_after_a_fifth(it, full);
            attempt(result, took, output(it))
        });
    }

    /// Two inputs for `it` and their outputs: the one `slow` left, and another.
    fn two_inputs(it: &mut Interpreter) -> [(Vec<f32>, Vec<f32>); 2] {
        let x = it.input(0).unwrap().to_vec::<f32>().unwrap();
        it.invoke().unwrap();
        let want_x = output(it);
        let y: Vec<f32> = x.iter().map(|v| 0.5 - v).collect();
        set_input(it, &y);
        it.invoke().unwrap();
        let want_y = output(it);
        assert_ne!(want_x, want_y);
        [(x, want_x), (y, want_y)]
    }

    /// With XNNPACK (the default), a graph it took whole is one node, and TFLite checks for
    /// cancellation only between nodes: a cancel during the invoke lets that node run to its end
    /// (the output is complete) and the invoke still returns `Cancelled`, since the cancel came
    /// while it ran. The interpreter stays usable, with the same outputs.
    #[test]
    fn a_graph_taken_whole_is_cancelled_once_its_one_node_ends() {
        let model = Model::from_file(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/models/residual_prelu.tflite"
        ))
        .unwrap();
        let nodes = plan(&model);
        assert!(
            nodes.len() == 1 && nodes[0].delegated,
            "XNNPACK takes the whole graph: {nodes:?}"
        );
        let (mut it, full, _) = slow(&model, true, 16);
        assert!(it.has_delegate(), "{:?}", it.delegate_skipped());
        let [(x, want_x), (y, want_y)] = two_inputs(&mut it);
        cancel_an_invoke_of_y_after_one_of_x(&mut it, full, &x, &y, |result, took, got| {
            match result {
                Err(Error::Cancelled) if got == want_y => Ok(()),
                Err(Error::Cancelled) => Err(format!(
                    "cancelled after {took:?}, but the output is not the complete one of the \
                     second input (a full invoke takes {full:?})"
                )),
                // Under valgrind the cancelling thread may not be scheduled before the invoke ends.
                Ok(()) if !timing_is_meaningful() => Ok(()),
                other => Err(format!(
                    "{other:?} after {took:?} (a full invoke takes {full:?})"
                )),
            }
        });
        set_input(&mut it, &x);
        it.invoke().unwrap();
        assert_eq!(output(&it), want_x);
    }

    /// With XNNPACK on a graph it takes in parts (the encoder block: partitions between the
    /// BATCH_MATMUL and MEAN nodes, which run on the builtin kernels), a cancel stops the invoke at
    /// the next node boundary: early, and before the last node wrote the output.
    #[test]
    fn a_graph_taken_in_parts_stops_at_the_next_node() {
        let model = encoder();
        let nodes = plan(&model);
        let delegated = nodes.iter().filter(|n| n.delegated).count();
        assert!(
            delegated >= 2 && nodes.len() > delegated,
            "partly delegated: {nodes:?}"
        );
        let (mut it, full, _) = slow(&model, true, 128);
        let [(x, want_x), (y, want_y)] = two_inputs(&mut it);
        cancel_an_invoke_of_y_after_one_of_x(
            &mut it,
            full,
            &x,
            &y,
            |result, took, got| match result {
                Err(Error::Cancelled) if !timing_is_meaningful() => Ok(()),
                Err(Error::Cancelled) if took < full * 4 / 5 && got != want_y => Ok(()),
                Ok(()) if !timing_is_meaningful() => Ok(()),
                other => Err(format!(
                    "{other:?} after {took:?} (a full invoke takes {full:?}), output complete: {}",
                    got == want_y
                )),
            },
        );
        set_input(&mut it, &x);
        it.invoke().unwrap();
        assert_eq!(output(&it), want_x);
        // A deadline on the same path: its own error, and usable afterwards.
        let err = it.invoke_with_timeout(full / 5).unwrap_err();
        assert!(matches!(err, Error::DeadlineExceeded { .. }), "{err}");
        it.invoke().unwrap();
        assert_eq!(output(&it), want_x);
    }
}
