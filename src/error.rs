//! The one error type of this crate.

use crate::dtype::DataType;
use std::path::PathBuf;

/// Which side of the model a tensor is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// A model (or signature) input.
    Input,
    /// A model (or signature) output.
    Output,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Input => "input",
            Side::Output => "output",
        })
    }
}

/// Everything that can go wrong. Variants that come from TFLite carry TFLite's own message,
/// as its error reporter printed it (`tflite_message`), next to what we know.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model file could not be read.
    #[error("cannot read model file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// TFLite refused the model bytes (not a TFLite flatbuffer, truncated, corrupt, …).
    #[error("invalid model ({origin}): {tflite_message}")]
    InvalidModel {
        /// Where the bytes came from: a path, or `bytes (N bytes)`.
        origin: String,
        /// What TFLite reported.
        tflite_message: String,
    },
    /// The model uses an operator (or an operator version) this TFLite 2.14.1 build lacks.
    #[error("model {model} needs operator {op}{}, which TFLite 2.14.1 does not provide{}: {tflite_message}", version.map(|v| format!(" version {v}")).unwrap_or_default(), min_runtime_version.as_ref().map(|v| format!(" (the model says it needs TFLite {v} or newer)")).unwrap_or_default())]
    UnsupportedOp {
        /// The model's origin ([`Model::origin`](crate::Model::origin)).
        model: String,
        /// The builtin or custom operator name, as TFLite prints it.
        op: String,
        /// The operator version the model asks for, where TFLite says it.
        version: Option<i32>,
        /// The model's `min_runtime_version` metadata, if the converter recorded it
        /// ([`Model::min_runtime_version`](crate::Model::min_runtime_version)).
        min_runtime_version: Option<String>,
        /// What TFLite reported.
        tflite_message: String,
    },
    /// A TFLite call failed; `call` names it.
    #[error("{call} failed: {tflite_message}")]
    Tflite {
        /// The C API call (or step) that failed.
        call: &'static str,
        /// What TFLite reported (may be empty if it reported nothing).
        tflite_message: String,
    },
    /// Tensor data was accessed, or `invoke` called, before `allocate_tensors` (or after a resize).
    #[error("tensors are not allocated: call allocate_tensors() first (after creating the interpreter or resizing an input)")]
    NotAllocated,

    /// An external delegate plugin could not be loaded, created or applied, or (when
    /// required) took no node of the graph.
    #[error("external delegate {path:?}: {reason}")]
    ExternalDelegate {
        /// The plugin library.
        path: PathBuf,
        /// Why (the loader's or TFLite's message).
        reason: String,
    },

    /// [`Interpreter::profile`](crate::Interpreter::profile) on an interpreter built without
    /// [`profiling`](crate::InterpreterBuilder::profiling).
    #[error(
        "the interpreter was built without profiling: use InterpreterBuilder::profiling(true)"
    )]
    ProfilingOff,

    /// The invoke was cancelled through a [`CancelHandle`](crate::CancelHandle); the outputs
    /// are unspecified, the interpreter usable.
    #[error("the invoke was cancelled")]
    Cancelled,

    /// The invoke ran past its deadline and was cancelled
    /// ([`Interpreter::invoke_with_timeout`](crate::Interpreter::invoke_with_timeout)).
    #[error("the invoke did not finish within {timeout:?} and was cancelled")]
    DeadlineExceeded {
        /// The time it was given.
        timeout: std::time::Duration,
    },
    /// A tensor index past the end.
    #[error("{side} index {index} is out of range: the model has {count} {side}s")]
    IndexOutOfRange {
        /// Input or output.
        side: Side,
        /// The index asked for.
        index: usize,
        /// How many there are.
        count: usize,
    },
    /// No tensor (or signature input/output) with that name.
    #[error("no {side} named {name:?}; the {side}s are {available:?}")]
    NoSuchName {
        /// Input or output.
        side: Side,
        /// The name asked for.
        name: String,
        /// The names there are.
        available: Vec<String>,
    },
    /// No signature with that key.
    #[error("no signature named {key:?}; the model has {available:?}")]
    NoSuchSignature {
        /// The key asked for.
        key: String,
        /// The keys the model has.
        available: Vec<String>,
    },
    /// The Rust element type does not match the tensor's type.
    #[error("tensor {tensor:?} holds {actual:?}, not {requested:?}")]
    DtypeMismatch {
        /// The tensor's name.
        tensor: String,
        /// The type asked for.
        requested: DataType,
        /// The tensor's type.
        actual: DataType,
    },
    /// A buffer of the wrong length was given for a tensor.
    #[error("tensor {tensor:?} (shape {shape:?}) holds {expected} elements, got {actual}")]
    LengthMismatch {
        /// The tensor's name.
        tensor: String,
        /// The tensor's shape.
        shape: Vec<usize>,
        /// Elements the tensor holds.
        expected: usize,
        /// Elements given.
        actual: usize,
    },
    /// A shape TFLite cannot take (negative or too large dimension, …).
    #[error("invalid shape {shape:?} for tensor {tensor:?}: {reason}")]
    InvalidShape {
        /// The tensor's name.
        tensor: String,
        /// The requested shape.
        shape: Vec<usize>,
        /// Why it was refused.
        reason: String,
    },
    /// Tensor data that is not a valid value of the requested type (e.g. a bool byte other than
    /// 0 or 1, or a malformed string tensor).
    #[error("tensor {tensor:?} holds invalid data: {reason}")]
    InvalidData {
        /// The tensor's name.
        tensor: String,
        /// What is wrong.
        reason: String,
    },
    /// After allocation, the tensors need more memory than the interpreter's limit
    /// ([`InterpreterBuilder::memory_limit`](crate::InterpreterBuilder::memory_limit)):
    /// usually a corrupt or hostile model declaring a huge shape.
    #[error("the tensors need {needed} bytes or more (reached at tensor {tensor:?}), over the limit of {limit} bytes (raise it with memory_limit if the model is trusted)")]
    MemoryLimit {
        /// The tensor at which the running total passed the limit.
        tensor: String,
        /// The total so far.
        needed: usize,
        /// The limit.
        limit: usize,
    },
    /// A Rust custom operator could not be registered (see
    /// [`InterpreterBuilder::custom_op`](crate::InterpreterBuilder::custom_op)).
    #[error("{0}")]
    CustomOp(String),
    /// This build's native code was compiled for a CPU level this machine does not reach
    /// (on x86_64: x86-64-v2, i.e. SSE4.1, SSE4.2 and POPCNT); running it would stop the
    /// process with an illegal instruction.
    #[error("this build of TensorFlow Lite was compiled for {level} and this CPU lacks {}; rebuild with TFLITE_SYS_X86_64_BASELINE=1 in the environment (the x86-64 baseline, slower builtin kernels)", missing.join(", "))]
    UnsupportedCpu {
        /// The level compiled for (`tflite_sys::X86_64_LEVEL`).
        level: &'static str,
        /// The CPU features of that level this CPU does not have.
        missing: Vec<&'static str>,
    },
    /// A string given to TFLite contained an interior NUL byte.
    #[error("{what} contains a NUL byte")]
    NulByte {
        /// What the string was.
        what: &'static str,
    },
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Names the model (and the runtime it asks for) in errors that concern the model as a
    /// whole.
    pub(crate) fn for_model(mut self, origin: &str, runtime: Option<String>) -> Error {
        if let Error::UnsupportedOp {
            model,
            min_runtime_version,
            ..
        } = &mut self
        {
            *model = origin.to_string();
            *min_runtime_version = runtime;
        }
        self
    }

    /// Builds the error for a failed TFLite call from the messages its reporter printed,
    /// recognising the "operator not found" message.
    pub(crate) fn from_tflite(call: &'static str, message: String) -> Error {
        if let Some((op, version)) = parse_unresolved_op(&message) {
            return Error::UnsupportedOp {
                model: String::new(),
                op,
                version,
                min_runtime_version: None,
                tflite_message: message,
            };
        }
        Error::Tflite {
            call,
            tflite_message: message,
        }
    }
}

/// TFLite 2.14 says `Didn't find op for builtin opcode 'FULLY_CONNECTED' version '12'. …` for
/// a builtin, and `Encountered unresolved custom op: Foo.` for a custom op.
fn parse_unresolved_op(msg: &str) -> Option<(String, Option<i32>)> {
    if let Some(i) = msg.find("Didn't find op for builtin opcode '") {
        let rest = &msg[i + "Didn't find op for builtin opcode '".len()..];
        let (op, rest) = rest.split_once('\'')?;
        let version = rest
            .split_once("version '")
            .and_then(|(_, v)| v.split_once('\''))
            .and_then(|(v, _)| v.parse().ok());
        return Some((op.to_string(), version));
    }
    if let Some(i) = msg.find("Encountered unresolved custom op: ") {
        let rest = &msg[i + "Encountered unresolved custom op: ".len()..];
        let op = rest
            .split(|c: char| c == '\n' || c.is_whitespace())
            .next()?
            .trim_end_matches('.');
        return Some((op.to_string(), None));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_unresolved_builtin_op() {
        let m = "Didn't find op for builtin opcode 'FULLY_CONNECTED' version '12'. An older version of this builtin might be supported.";
        assert_eq!(
            parse_unresolved_op(m),
            Some(("FULLY_CONNECTED".into(), Some(12)))
        );
        match Error::from_tflite("TfLiteInterpreterCreate", m.into()) {
            Error::UnsupportedOp {
                op,
                version,
                tflite_message,
                ..
            } => {
                assert_eq!((op.as_str(), version), ("FULLY_CONNECTED", Some(12)));
                assert_eq!(tflite_message, m);
            }
            e => panic!("wrong variant {e:?}"),
        }
    }

    #[test]
    fn recognises_unresolved_custom_op() {
        let m = "Encountered unresolved custom op: MyOp.\nSee instructions: https://www.tensorflow.org/lite/guide/ops_custom ";
        assert_eq!(parse_unresolved_op(m), Some(("MyOp".into(), None)));
        assert_eq!(parse_unresolved_op("something else"), None);
    }
}
