//! TFLite's own log lines ("Created TensorFlow Lite XNNPACK delegate for CPU.", warnings) go to
//! the [`log`] crate, target `"tflite"`, instead of stderr: nothing is printed unless the
//! application installs a logger. Errors still reach the caller inside [`crate::Error`].

use crate::sys;
use std::ffi::{c_char, c_int, CStr};
use std::sync::Once;

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
