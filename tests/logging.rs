//! TFLite's own log lines go to the `log` crate (target "tflite"), never straight to stderr,
//! each at its level: INFO as `Info`, WARNING as `Warn`, ERROR as `Error`.
//!
//! Each test runs its steps in child processes (this binary, re-run in a `CHILD` mode): a
//! process has one logger, and TFLite logs "Created TensorFlow Lite XNNPACK delegate for CPU."
//! once per process.

mod common;

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

/// What a child process (this test binary, re-run in `CHILD` mode) printed on stderr.
fn child_stderr(mode: &str) -> String {
    child_stderr_of("tflite_lines_go_to_log_not_stderr", mode)
}

/// What test `test` printed on stderr, re-run in a child process in `CHILD` mode `mode`.
fn child_stderr_of(test: &str, mode: &str) -> String {
    let out = common::command(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture"])
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
        let out = common::command(run_model)
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

/// Captures `log` records from now on (in a child process: one logger per process).
fn capture() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Trace);
}

fn print_captured() {
    for (level, target, msg) in RECORDS.lock().unwrap().iter() {
        eprintln!("captured {level} {target}: {msg}");
    }
}

extern "C" {
    /// `tflite::logging_internal::MinimalLogger::Log(LogSeverity, const char*, ...)`: what
    /// every TFLite log macro (`TFLITE_LOG_PROD`, `TFLITE_LOG`) calls.
    #[link_name = "_ZN6tflite16logging_internal13MinimalLogger3LogENS_11LogSeverityEPKcz"]
    fn tflite_minimal_logger_log(severity: std::ffi::c_int, format: *const std::ffi::c_char, ...);
}

/// ERROR lines: TFLite's default error reporter (used where a C API call takes none) logs its
/// reports at ERROR; `TfLiteModelCreate` on bytes that are no model reports through it. The
/// crate itself passes its own reporter everywhere, so its errors come back as `Err` values and
/// are not logged. WARNING lines: TFLite 2.14 has none in a release build (its only warnings go
/// through `TFLITE_LOG`, compiled out with NDEBUG), so the warning is logged through the entry
/// point its log macros call, as `TFLITE_LOG_PROD(TFLITE_LOG_WARNING, …)` would.
#[test]
fn warning_and_error_lines_arrive_at_their_levels() {
    if std::env::var("TFLITE_RS_LOGGING_CHILD").as_deref() == Ok("levels") {
        capture();
        // The crate's own errors: returned, not logged.
        assert!(Model::from_bytes(b"no model at all, 32 bytes long..".to_vec()).is_err());
        let model = Model::from_file(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/compat/layer_norm.float32.tflite"
        ))
        .unwrap();
        let mut it = Interpreter::builder(&model)
            .use_xnnpack(false)
            .build()
            .unwrap();
        let bad: Vec<usize> = it.input(0).unwrap().shape().iter().map(|d| d + 1).collect();
        it.resize_input(0, &bad).unwrap();
        let err = it.allocate_tensors().unwrap_err().to_string();
        assert!(err.contains("not broadcastable"), "{err}");
        print_captured();
        RECORDS.lock().unwrap().clear();
        eprintln!("crate errors done");
        let garbage = [7u8; 64];
        // SAFETY: a valid pointer and length; TFLite returns null for bytes that are no model.
        let raw = unsafe { tflite::sys::TfLiteModelCreate(garbage.as_ptr().cast(), garbage.len()) };
        assert!(raw.is_null());
        // SAFETY: a NUL-terminated format with one `%s` and its NUL-terminated argument;
        // severities are TFLite's LogSeverity (INFO 1, WARNING 2, ERROR 3).
        unsafe {
            for (severity, text) in [
                (1, c"a test info"),
                (2, c"a test warning"),
                (3, c"a test error"),
            ] {
                tflite_minimal_logger_log(severity, c"tflite-rs: %s".as_ptr(), text.as_ptr());
            }
        }
        return print_captured();
    }
    let logged = child_stderr_of("warning_and_error_lines_arrive_at_their_levels", "levels");
    let lines: Vec<&str> = logged.lines().collect();
    let after = lines
        .iter()
        .position(|l| *l == "crate errors done")
        .unwrap_or_else(|| panic!("{logged}"));
    // No record of level WARN or ERROR for the crate's errors: they were returned.
    assert!(
        !lines[..after]
            .iter()
            .any(|l| l.starts_with("captured WARN") || l.starts_with("captured ERROR")),
        "{logged}"
    );
    let captured: Vec<&str> = lines[after..]
        .iter()
        .filter(|l| l.starts_with("captured "))
        .copied()
        .collect();
    let want = [
        "captured ERROR tflite: The model is not a valid Flatbuffer buffer",
        "captured INFO tflite: tflite-rs: a test info",
        "captured WARN tflite: tflite-rs: a test warning",
        "captured ERROR tflite: tflite-rs: a test error",
    ];
    assert_eq!(captured, want, "{logged}");
    // And none of it on stderr in TFLite's own format ("ERROR: …", "WARNING: …").
    assert!(
        !lines.iter().any(|l| l.starts_with("ERROR:")
            || l.starts_with("WARNING:")
            || l.starts_with("INFO:")),
        "{logged}"
    );
}
