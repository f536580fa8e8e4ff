//! TFLite's own log lines go to the `log` crate (target "tflite"), never straight to stderr.
//!
//! One test function: TFLite logs "Created TensorFlow Lite XNNPACK delegate for CPU." once per
//! process, so the order of the steps matters.

mod common;

use std::process::Command;
use std::sync::Mutex;
use tflite::{Interpreter, Model};

static RECORDS: Mutex<Vec<(log::Level, String, String)>> = Mutex::new(Vec::new());

struct Capture;
impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, r: &log::Record<'_>) {
        RECORDS
            .lock()
            .unwrap()
            .push((r.level(), r.target().to_string(), r.args().to_string()));
    }
    fn flush(&self) {}
}

fn add_mul() -> Model {
    Model::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tflite-sys/tests/data/add_mul.tflite"
    ))
    .unwrap()
}

/// A command running `program`, through cargo's runner for this target when there is one
/// (e.g. qemu when the tests run cross-compiled: `CARGO_TARGET_<TRIPLE>_RUNNER`).
fn command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    match common::target_runner() {
        Some(runner) => {
            let mut words = runner.split_whitespace();
            let mut c = Command::new(words.next().unwrap());
            c.args(words).arg(program);
            c
        }
        None => Command::new(program),
    }
}

/// What a child process (this test binary, re-run in `CHILD` mode) printed on stderr.
fn child_stderr(mode: &str) -> String {
    let out = command(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "tflite_lines_go_to_log_not_stderr",
            "--nocapture",
        ])
        .env("TFLITE_RS_LOGGING_CHILD", mode)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Builds an interpreter (with XNNPACK where built) and runs it.
fn exercise() {
    let model = add_mul();
    let mut it = Interpreter::new(&model).unwrap();
    it.allocate_tensors().unwrap();
    it.invoke().unwrap();
}

#[test]
fn tflite_lines_go_to_log_not_stderr() {
    match std::env::var("TFLITE_RS_LOGGING_CHILD").as_deref() {
        Ok("quiet") => return exercise(),
        Ok("logger") => {
            log::set_logger(&Capture).unwrap();
            log::set_max_level(log::LevelFilter::Trace);
            exercise();
            for (level, target, msg) in RECORDS.lock().unwrap().iter() {
                eprintln!("captured {level} {target}: {msg}");
            }
            return;
        }
        _ => {}
    }
    // Without a logger nothing of TFLite's appears on stderr.
    let quiet = child_stderr("quiet");
    assert!(
        !quiet.contains("INFO:") && !quiet.contains("TensorFlow Lite"),
        "TFLite wrote to stderr: {quiet}"
    );
    // With one, the lines arrive as `log` records of target "tflite" at their level.
    let logged = child_stderr("logger");
    if cfg!(feature = "xnnpack") {
        assert!(
            logged.contains(
                "captured INFO tflite: Created TensorFlow Lite XNNPACK delegate for CPU."
            ),
            "{logged}"
        );
    }
    assert!(!logged.contains("\nINFO:"), "{logged}");
    // The example binaries `cargo test` built print nothing of TFLite's either.
    let examples = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(|deps| deps.parent())
        .map(|dir| dir.join("examples").join("run_model"));
    if let Some(run_model) = examples.filter(|p| p.exists()) {
        let out = command(run_model)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tflite-sys/tests/data/add_mul.tflite"
            ))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{out:?}");
        assert!(
            !stderr.contains("INFO:") && !stderr.contains("TensorFlow Lite XNNPACK"),
            "run_model's stderr: {stderr}"
        );
    }
}
