//! External delegate plugins: a shared library exporting `tflite_plugin_create_delegate` and
//! `tflite_plugin_destroy_delegate` (the ABI of Python's `tflite.load_delegate`, used by e.g.
//! Coral's `libedgetpu`), loaded with key/value options and applied by
//! [`InterpreterBuilder::external_delegate`](crate::InterpreterBuilder::external_delegate).

use crate::error::{Error, Result};
use crate::ffi;
use std::ffi::{c_char, CString};
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use std::sync::Mutex;
use tflite_sys as sys;

type Create = unsafe extern "C" fn(
    keys: *mut *mut c_char,
    values: *mut *mut c_char,
    count: usize,
    report_error: Option<unsafe extern "C" fn(*const c_char)>,
) -> *mut sys::TfLiteDelegate;
type Destroy = unsafe extern "C" fn(*mut sys::TfLiteDelegate);

/// A delegate made by a plugin library. Dropped (the plugin's destroy function, then the
/// library unloaded) after every interpreter using it.
///
/// ```no_run
/// # fn main() -> tflite::Result<()> {
/// // A Coral Edge TPU (not testable here: no such device):
/// let tpu = tflite::ExternalDelegate::load("libedgetpu.so.1", &[("device", "usb")])?;
/// let model = tflite::Model::from_file("model_edgetpu.tflite")?;
/// let it = tflite::Interpreter::builder(&model).external_delegate(tpu, true).build()?;
/// println!("{:?}", it.execution_plan());
/// # Ok(()) }
/// ```
pub struct ExternalDelegate {
    raw: NonNull<sys::TfLiteDelegate>,
    destroy: Destroy,
    path: PathBuf,
    // Unloaded last: the delegate's code lives in it.
    _library: libloading::Library,
}

// SAFETY: the plugin's delegate is handed to one interpreter at a time (the builder moves it
// into the interpreter, which is not `Sync`).
unsafe impl Send for ExternalDelegate {}
// SAFETY: `&ExternalDelegate` exposes only the path.
unsafe impl Sync for ExternalDelegate {}

impl std::fmt::Debug for ExternalDelegate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExternalDelegate")
            .field("path", &self.path)
            .finish()
    }
}

/// Messages the plugin reports while creating its delegate (its `report_error` callback has no
/// user data: they are collected here, one creation at a time).
static REPORTED: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// Held across a plugin's `tflite_plugin_create_delegate`, so that `REPORTED` holds only its
/// messages.
static LOADING: Mutex<()> = Mutex::new(());

unsafe extern "C" fn report_error(message: *const c_char) {
    if message.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(|| {
        // SAFETY: the plugin passes a NUL-terminated message valid during the call.
        let text = unsafe { ffi::string(message) };
        ffi::lock(&REPORTED).push(text);
    });
}

impl ExternalDelegate {
    /// Loads the plugin at `path` (a file name is searched as `dlopen` does) and creates its
    /// delegate with `options`. A missing library or symbol, or a refused option, is
    /// [`Error::ExternalDelegate`] with the reason.
    pub fn load(path: impl AsRef<Path>, options: &[(&str, &str)]) -> Result<ExternalDelegate> {
        let path = path.as_ref().to_path_buf();
        let fail = |reason: String| Error::ExternalDelegate {
            path: path.clone(),
            reason,
        };
        // SAFETY: loading a library runs its initialisers; loading a delegate plugin is what
        // the caller asks for.
        let library =
            unsafe { libloading::Library::new(&path) }.map_err(|e| fail(e.to_string()))?;
        // SAFETY: the plugin ABI's signatures.
        let (create, destroy) = unsafe {
            let create = *library
                .get::<Create>(b"tflite_plugin_create_delegate\0")
                .map_err(|e| fail(e.to_string()))?;
            let destroy = *library
                .get::<Destroy>(b"tflite_plugin_destroy_delegate\0")
                .map_err(|e| fail(e.to_string()))?;
            (create, destroy)
        };
        let mut keys = Vec::with_capacity(options.len());
        let mut values = Vec::with_capacity(options.len());
        for (k, v) in options {
            keys.push(CString::new(*k).map_err(|_| Error::NulByte {
                what: "delegate option",
            })?);
            values.push(CString::new(*v).map_err(|_| Error::NulByte {
                what: "delegate option",
            })?);
        }
        let mut key_ptrs: Vec<*mut c_char> =
            keys.iter().map(|k| k.as_ptr() as *mut c_char).collect();
        let mut value_ptrs: Vec<*mut c_char> =
            values.iter().map(|v| v.as_ptr() as *mut c_char).collect();
        // One plugin call at a time: the messages a plugin reports go to one global list
        // (the callback has no context argument), so two loads on two threads took each
        // other's messages (seen as a flaky test under qemu).
        let _one_at_a_time = ffi::lock(&LOADING);
        ffi::lock(&REPORTED).clear();
        // SAFETY: arrays of `options.len()` NUL-terminated strings, alive during the call (the
        // plugin copies what it keeps); `report_error` is a plain function.
        let raw = unsafe {
            create(
                key_ptrs.as_mut_ptr(),
                value_ptrs.as_mut_ptr(),
                options.len(),
                Some(report_error),
            )
        };
        let messages = std::mem::take(&mut *ffi::lock(&REPORTED));
        let raw = NonNull::new(raw).ok_or_else(|| {
            fail(if messages.is_empty() {
                "tflite_plugin_create_delegate returned no delegate".into()
            } else {
                messages.join("\n")
            })
        })?;
        Ok(ExternalDelegate {
            raw,
            destroy,
            path,
            _library: library,
        })
    }

    /// The library it came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn raw(&self) -> *mut sys::TfLiteDelegate {
        self.raw.as_ptr()
    }
}

impl Drop for ExternalDelegate {
    fn drop(&mut self) {
        // SAFETY: made by this library's create function, destroyed once, after every
        // interpreter using it (each holds an `Arc` to it).
        unsafe { (self.destroy)(self.raw.as_ptr()) }
    }
}
