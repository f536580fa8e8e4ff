//! Captures what TFLite's error reporter prints, so every error carries TFLite's own words.

use std::ffi::{c_char, c_void, CStr};
use std::sync::Mutex;
use tflite_sys as sys;

/// Collects the messages of one TFLite object (model creation or one interpreter).
#[derive(Default)]
pub(crate) struct Reporter {
    messages: Mutex<Vec<String>>,
}

impl Reporter {
    /// Takes every message reported since the last call, joined by newlines, followed by the
    /// text of a C++ exception the last guarded C API call on this thread caught, if any.
    pub(crate) fn take(&self) -> String {
        let mut m = super::lock(&self.messages);
        let exception = last_exception();
        if !exception.is_empty() {
            m.push(exception);
        }
        let text = m.join("\n");
        m.clear();
        text
    }

    /// Discards stale messages (before a call whose failure we want to explain).
    pub(crate) fn clear(&self) {
        super::lock(&self.messages).clear();
    }

    /// The pointer TFLite passes back to [`report`] as `user_data`.
    pub(crate) fn as_user_data(&self) -> *mut c_void {
        self as *const Reporter as *mut c_void
    }
}

/// The error reporter callback given to TFLite: formats the printf-style message with the C
/// library's `vsnprintf` and stores it. Never unwinds into C: any panic is caught here (and the
/// message dropped), whatever the Rust version's rules for `extern "C"`.
pub(crate) unsafe extern "C" fn report(
    user_data: *mut c_void,
    format: *const c_char,
    args: VaList,
) {
    if user_data.is_null() || format.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: `format` and `args` come from TFLite's own printf-style call.
        let text = unsafe { format_message(format, args) };
        // SAFETY: `user_data` is the `Reporter` registered with this TFLite object, which the
        // owning Rust value keeps alive (boxed, never moved) for as long as TFLite may call us.
        let reporter = unsafe { &*(user_data as *const Reporter) };
        super::lock(&reporter.messages).push(text);
    }));
}

/// Formats a printf-style message.
///
/// # Safety
/// `format` is a NUL-terminated format string and `args` its unconsumed arguments.
unsafe fn format_message(format: *const c_char, args: VaList) -> String {
    let mut buf = [0u8; 2048];
    // SAFETY: `buf` is writable for its length; `format` and `args` are as the caller promises
    // and are consumed exactly once.
    let n = unsafe {
        sys::vsnprintf(
            buf.as_mut_ptr() as *mut c_char,
            buf.len() as _,
            format,
            args,
        )
    };
    if n < 0 {
        // SAFETY: `format` is a NUL-terminated C string.
        unsafe { CStr::from_ptr(format) }
            .to_string_lossy()
            .into_owned()
    } else {
        let len = (n as usize).min(buf.len() - 1);
        String::from_utf8_lossy(&buf[..len]).trim_end().to_string()
    }
}

/// The `va_list` argument of the error reporter callback on this target, as bindgen writes it.
#[cfg(target_arch = "x86_64")]
pub(crate) type VaList = *mut sys::__va_list_tag;
#[cfg(not(target_arch = "x86_64"))]
pub(crate) type VaList = sys::va_list;

/// The exception text the last guarded (`TfLiteRs*`) call on this thread recorded, or "".
pub(crate) fn last_exception() -> String {
    // SAFETY: returns a NUL-terminated thread-local string, valid until the next guarded call
    // on this thread; it is copied at once.
    unsafe { super::string(sys::TfLiteRsLastException()) }
}
