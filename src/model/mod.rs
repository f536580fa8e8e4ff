//! [`Model`]: a verified TFLite flatbuffer, shareable by many interpreters on many threads.

mod describe;
pub(crate) mod info;

use crate::delegate::weights::{Packing, WeightsCache};
use crate::error::{Error, Result};
use crate::ffi::reporter::{self, Reporter};
use crate::ffi::{self, cpu, logging};
use crate::schema;
use crate::tensor::TensorInfo;
use info::{OperatorInfo, SignatureInfo};
use std::ffi::{c_void, CString};
use std::path::Path;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};
use tflite_sys as sys;

/// Where a model's bytes live. TFLite does not copy them: they must outlive the `TfLiteModel`
/// and every interpreter made from it, which holding them here (behind an `Arc`) guarantees.
/// Holding them is their purpose; they are read only for what the C API does not tell
/// ([`Model::min_runtime_version`]).
enum Bytes {
    Static(&'static [u8]),
    Shared(Arc<[u8]>),
    /// A 16-byte aligned copy: the first `.1` bytes of these words.
    Aligned(Box<[u128]>, usize),
    /// TFLite mapped (or read) the file itself and owns the memory.
    File(std::path::PathBuf),
}

struct Inner {
    raw: NonNull<sys::TfLiteModel>,
    // Dropped after `raw` is deleted (see `Drop for Inner`).
    _bytes: Bytes,
    origin: String,
    /// Read from the bytes at load (`None` if a table is out of bounds).
    description: Option<describe::Description>,
    min_runtime_version: Option<String>,
    /// The signatures TFLite's runner cannot run safely: (key, why).
    unusable_signatures: Vec<(String, String)>,
    /// XNNPACK's packed weights, one cache per packing option set, shared by interpreters.
    weights: Mutex<Vec<(Packing, Arc<WeightsCache>)>>,
}

// SAFETY: a TfLiteModel is immutable once created; TFLite documents that one model may be used
// by several interpreters, on several threads, at once. The bytes are immutable too.
unsafe impl Send for Inner {}
// SAFETY: as above; no method mutates the model.
unsafe impl Sync for Inner {}

impl Drop for Inner {
    fn drop(&mut self) {
        // SAFETY: `raw` came from TfLiteModelCreate* and is deleted once, here. Interpreters
        // hold an `Arc<Inner>`, so none is alive any more.
        unsafe { sys::TfLiteModelDelete(self.raw.as_ptr()) }
    }
}

/// A TensorFlow Lite model, verified when loaded.
///
/// Cheap to clone (it is reference-counted) and `Send + Sync`: build any number of
/// [`Interpreter`](crate::Interpreter)s from one model, on any threads. The model bytes stay
/// alive as long as the model or any interpreter built from it does.
#[derive(Clone)]
pub struct Model {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("origin", &self.inner.origin)
            .finish()
    }
}

/// Alignment TFLite wants for in-place model data (flatbuffer scalars, constant tensors).
const MODEL_ALIGN: usize = 16;

impl Model {
    /// Loads a `.tflite` file; TFLite maps it into memory (no copy). The file is also read
    /// once to check the graph's structure (what TFLite 2.14 assumes without checking), so
    /// loading costs one read of the file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Model> {
        let path = path.as_ref();
        // Give the usual I/O error (missing file, permissions) rather than TFLite's generic one.
        let meta = std::fs::metadata(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if meta.is_dir() {
            return Err(Error::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "is a directory"),
            });
        }
        let c_path = CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| Error::NulByte { what: "model path" })?;
        cpu::check()?;
        logging::install();
        let reporter = Reporter::default();
        // SAFETY: `c_path` is a valid C string; the reporter outlives the call, and TFLite uses
        // it only during the call (the C API's model reporter is local to model creation).
        let raw = unsafe {
            sys::TfLiteRsModelCreateFromFileWithErrorReporter(
                c_path.as_ptr(),
                Some(reporter::report),
                reporter.as_user_data(),
            )
        };
        Self::finish(
            raw,
            Bytes::File(path.to_path_buf()),
            path.display().to_string(),
            &reporter,
        )
    }

    /// Loads a model from bytes (a `Vec<u8>`, `Box<[u8]>`, `Arc<[u8]>`, …). The bytes are kept
    /// by the model; an `Arc<[u8]>` is shared, not copied.
    pub fn from_bytes(bytes: impl Into<Arc<[u8]>>) -> Result<Model> {
        let bytes: Arc<[u8]> = bytes.into();
        if bytes.as_ptr() as usize % MODEL_ALIGN == 0 {
            Self::from_memory(bytes.as_ptr(), bytes.len(), Bytes::Shared(bytes.clone()))
        } else {
            let words = aligned_copy(&bytes);
            Self::from_memory(
                words.as_ptr() as *const u8,
                bytes.len(),
                Bytes::Aligned(words, bytes.len()),
            )
        }
    }

    /// Loads a model from `'static` bytes (e.g. `include_bytes!`) without copying them, unless
    /// they are not 16-byte aligned (as `include_bytes!` does not promise), in which case one
    /// aligned copy is made.
    pub fn from_static(bytes: &'static [u8]) -> Result<Model> {
        if bytes.as_ptr() as usize % MODEL_ALIGN == 0 {
            Self::from_memory(bytes.as_ptr(), bytes.len(), Bytes::Static(bytes))
        } else {
            let words = aligned_copy(bytes);
            Self::from_memory(
                words.as_ptr() as *const u8,
                bytes.len(),
                Bytes::Aligned(words, bytes.len()),
            )
        }
    }

    fn from_memory(ptr: *const u8, len: usize, keep: Bytes) -> Result<Model> {
        let origin = format!("bytes ({len} bytes)");
        if len == 0 {
            return Err(Error::InvalidModel {
                origin,
                tflite_message: "the model is empty (0 bytes)".into(),
            });
        }
        cpu::check()?;
        logging::install();
        let reporter = Reporter::default();
        // SAFETY: `ptr..ptr+len` is readable and stays alive (owned by `keep`, stored in the
        // model) until TfLiteModelDelete; the reporter is only used during this call.
        let raw = unsafe {
            sys::TfLiteRsModelCreateWithErrorReporter(
                ptr as *const c_void,
                len,
                Some(reporter::report),
                reporter.as_user_data(),
            )
        };
        Self::finish(raw, keep, origin, &reporter)
    }

    fn finish(
        raw: *mut sys::TfLiteModel,
        bytes: Bytes,
        origin: String,
        reporter: &Reporter,
    ) -> Result<Model> {
        match NonNull::new(raw) {
            Some(raw) => {
                // One read of the bytes: what TFLite 2.14 assumes of the graph but does not
                // check (see `schema::rules`), and what the model says about itself.
                let (check, description, min_runtime_version, unusable_signatures) =
                    with_bytes(&bytes, |b| {
                        (
                            schema::check_graph(b),
                            describe::describe(b),
                            schema::min_runtime_version(b),
                            schema::unusable_signatures(b),
                        )
                    })
                    .unwrap_or((Ok(()), None, None, Vec::new()));
                let model = Model {
                    inner: Arc::new(Inner {
                        raw,
                        _bytes: bytes,
                        origin,
                        description,
                        min_runtime_version,
                        unusable_signatures,
                        weights: Mutex::default(),
                    }),
                };
                check.map_err(|reason| Error::InvalidModel {
                    origin: model.inner.origin.clone(),
                    tflite_message: reason,
                })?;
                Ok(model)
            }
            None => {
                let mut tflite_message = reporter.take();
                if tflite_message.is_empty() {
                    tflite_message =
                        "TFLite could not build a model from it (not a valid TFLite flatbuffer)"
                            .into();
                }
                Err(Error::InvalidModel {
                    origin,
                    tflite_message,
                })
            }
        }
    }

    pub(crate) fn raw(&self) -> *const sys::TfLiteModel {
        self.inner.raw.as_ptr()
    }

    /// Where the model came from: its path, or `bytes (N bytes)`.
    pub fn origin(&self) -> &str {
        &self.inner.origin
    }

    /// The oldest TensorFlow Lite version the converter says this model needs (the
    /// `min_runtime_version` entry of its metadata, e.g. `"2.17.0"`), if it recorded one;
    /// [`Error::UnsupportedOp`] carries it.
    pub fn min_runtime_version(&self) -> Option<String> {
        self.inner.min_runtime_version.clone()
    }

    /// Why TFLite's runner cannot run signature `key` safely, if so.
    pub(crate) fn unusable_signature(&self, key: &str) -> Option<&str> {
        self.inner
            .unusable_signatures
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, why)| why.as_str())
    }

    /// The weights cache of this model for interpreters packing with `packing`, made on first
    /// use (`None` if XNNPACK cannot make one).
    pub(crate) fn weights_cache(&self, packing: Packing) -> Option<Arc<WeightsCache>> {
        let mut caches = ffi::lock(&self.inner.weights);
        if let Some((_, c)) = caches.iter().find(|(p, _)| *p == packing) {
            return Some(Arc::clone(c));
        }
        let cache = Arc::new(WeightsCache::new()?);
        caches.push((packing, Arc::clone(&cache)));
        Some(cache)
    }

    fn description(&self) -> Result<&describe::Description> {
        self.inner
            .description
            .as_ref()
            .ok_or_else(|| Error::InvalidModel {
                origin: self.inner.origin.clone(),
                tflite_message:
                    "the model's tensor, signature or operator tables are out of bounds".into(),
            })
    }

    /// The main graph's inputs as the file declares them (a dynamic dimension reads as 1, as
    /// TFLite reads it), without building an interpreter.
    ///
    /// ```
    /// # fn main() -> tflite::Result<()> {
    /// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tflite-sys/tests/data/add_mul.tflite");
    /// let model = tflite::Model::from_file(path)?;
    /// assert_eq!(model.inputs()?[0].shape, [1, 8]);
    /// assert_eq!(model.operators()?.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(), ["MUL", "ADD"]);
    /// # Ok(()) }
    /// ```
    pub fn inputs(&self) -> Result<&[TensorInfo]> {
        Ok(&self.description()?.inputs)
    }

    /// The main graph's outputs as the file declares them.
    pub fn outputs(&self) -> Result<&[TensorInfo]> {
        Ok(&self.description()?.outputs)
    }

    /// The model's signatures (e.g. `serving_default`), in the file's order.
    pub fn signatures(&self) -> Result<&[SignatureInfo]> {
        Ok(&self.description()?.signatures)
    }

    /// The operators the model uses (its operator-code table), with how many nodes of all its
    /// subgraphs use each.
    pub fn operators(&self) -> Result<&[OperatorInfo]> {
        Ok(&self.description()?.operators)
    }
}

/// Runs `f` on a model's bytes (for a model TFLite loaded from a file, reads the file; `None`
/// if that fails).
fn with_bytes<R>(bytes: &Bytes, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
    match bytes {
        Bytes::Static(b) => Some(f(b)),
        Bytes::Shared(b) => Some(f(b)),
        Bytes::Aligned(words, len) => {
            // SAFETY: the words hold the model's `len` bytes (see `aligned_copy`), are
            // initialised and immutable; u8 has no alignment or validity requirement.
            let b = unsafe { std::slice::from_raw_parts(words.as_ptr() as *const u8, *len) };
            Some(f(b))
        }
        Bytes::File(path) => std::fs::read(path).ok().map(|b| f(&b)),
    }
}

/// Copies `bytes` into 16-byte aligned storage (zero-padded to whole words).
fn aligned_copy(bytes: &[u8]) -> Box<[u128]> {
    let mut words: Box<[u128]> = vec![0u128; bytes.len().div_ceil(16)].into_boxed_slice();
    // SAFETY: `words` holds `len * 16 >= bytes.len()` initialised bytes, and u8 has no
    // alignment or validity requirement.
    let dst = unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr() as *mut u8, bytes.len()) };
    dst.copy_from_slice(bytes);
    words
}
