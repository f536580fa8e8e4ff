//! TFLite's own log lines ("Created TensorFlow Lite XNNPACK delegate for CPU.", warnings) go to
//! the [`log`] crate, target `"tflite"`, instead of stderr: nothing is printed unless the
//! application installs a logger. Errors still reach the caller inside [`crate::Error`].
//!
//! Any `log` logger works (`env_logger`, `tracing`'s bridge, …); a minimal one:
//!
//! ```
//! struct Stderr;
//! impl log::Log for Stderr {
//!     fn enabled(&self, m: &log::Metadata<'_>) -> bool {
//!         m.target() == tflite::logging::TARGET
//!     }
//!     fn log(&self, r: &log::Record<'_>) {
//!         eprintln!("{} {}: {}", r.level(), r.target(), r.args());
//!     }
//!     fn flush(&self) {}
//! }
//! log::set_logger(&Stderr).unwrap();
//! log::set_max_level(log::LevelFilter::Info);
//! // From now on e.g. "INFO tflite: Created TensorFlow Lite XNNPACK delegate for CPU."
//! ```
//!
//! TFLite formats its debug (VERBOSE) lines only if the maximum level is `Debug` or finer when
//! the first model is loaded (TFLite's own filter is set once, then).

use std::ffi::{c_char, c_int, CStr};
use std::sync::Once;
use tflite_sys as sys;

/// The target TFLite's lines are logged under.
pub const TARGET: &str = "tflite";

/// Routes TFLite's log lines to `log` (once per process; called before anything TFLite runs).
pub(crate) fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: `forward` is a plain function valid for the whole program; TFLite calls it
        // with a NUL-terminated message (see vendor patch 0027).
        unsafe {
            sys::TfLiteRsSetLogCallback(Some(forward));
            // TFLite formats only what passes this; its default (INFO) drops VERBOSE lines.
            // Verbose lines are formatted only when the logger wants debug output.
            let min = if log::max_level() >= log::LevelFilter::Debug {
                0
            } else {
                1
            };
            sys::TfLiteRsSetMinimumLogSeverity(min);
        }
    });
}

/// TFLite's severities: VERBOSE 0, INFO 1, WARNING 2, ERROR 3.
fn level(severity: c_int) -> log::Level {
    match severity {
        0 => log::Level::Debug,
        1 => log::Level::Info,
        2 => log::Level::Warn,
        _ => log::Level::Error,
    }
}

extern "C" fn forward(severity: c_int, message: *const c_char) {
    if message.is_null() {
        return;
    }
    // Never unwind into C++: a panicking logger is contained here.
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: TFLite passes a NUL-terminated string valid during this call.
        let text = unsafe { CStr::from_ptr(message) }.to_string_lossy();
        log::log!(target: TARGET, level(severity), "{}", text.trim_end());
    });
}
