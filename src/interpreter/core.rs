//! The one core under [`Interpreter`](super::Interpreter) and
//! [`SignatureRunner`](super::signature::SignatureRunner): it owns the native interpreter and
//! everything TFLite uses while it lives, and implements, once for either graph, name
//! resolution, resize, allocation with its guards (the memory limit, the broken state after a
//! failed allocation with a delegate applied) and invoke with cancellation and deadlines.

use super::cancel::Shared;
use crate::custom_op::Registration;
use crate::delegate::Delegation;
use crate::error::{Error, Result, Side};
use crate::ffi::reporter::Reporter;
use crate::ffi::{self, saturating_i32};
use crate::model::Model;
use crate::profile::Recorder;
use crate::tensor::{RawTensor, TensorId};
use std::ffi::CString;
use std::ptr::NonNull;
use std::sync::Arc;
use std::time::Duration;
use tflite_sys as sys;

/// Where a graph's tensors stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Allocation {
    /// Not allocated since the interpreter (or runner) was made or an input resized: views
    /// have no data and invoke is refused.
    Needed,
    /// Allocated: views reach the data, invoke runs.
    Done,
    /// An allocation failed with a delegate applied (why): TFLite 2.14 leaves the delegated
    /// graph half re-applied then, and the next allocation crashes in its arena planner. Every
    /// later allocation of any graph of the interpreter is refused.
    Broken(String),
}

/// A graph the core runs: the main graph, or one signature's (through TFLite's runner).
#[derive(Clone, Copy)]
pub(crate) enum Graph {
    Main,
    Signature(NonNull<sys::TfLiteSignatureRunner>),
}

/// The native interpreter, what it uses, and the state of its graphs.
pub(crate) struct Core {
    pub(crate) raw: NonNull<sys::TfLiteInterpreter>,
    pub(crate) options: NonNull<sys::TfLiteInterpreterOptions>,
    pub(crate) reporter: Box<Reporter>,
    // Keeps the model and its bytes alive for as long as the interpreter (`Drop` deletes the
    // interpreter first).
    pub(crate) model: Model,
    pub(crate) memory_limit: usize,
    /// The main graph's allocation.
    pub(crate) main: Allocation,
    /// The allocation of the graph of the signature runner alive now, if any.
    pub(crate) signature: Allocation,
    pub(crate) cancel: Arc<Shared>,
    /// Every delegate applied (dropped after the interpreter is deleted).
    pub(crate) delegation: Delegation,
    /// TFLite's profiling callbacks land here (dropped after the interpreter is deleted).
    pub(crate) profiler: Option<Box<Recorder>>,
    /// The Rust custom ops' registrations, which TFLite uses until the interpreter is deleted.
    pub(crate) custom_ops: Vec<Arc<Registration>>,
}

impl Drop for Core {
    fn drop(&mut self) {
        // Handles must not reach the interpreter any more.
        self.cancel.detach();
        // SAFETY: deleted once, interpreter before the options and delegates it uses.
        unsafe {
            sys::TfLiteInterpreterDelete(self.raw.as_ptr());
            sys::TfLiteInterpreterOptionsDelete(self.options.as_ptr());
        }
        // Now that TFLite no longer uses them (the interpreter freed its nodes' states above).
        self.delegation = Delegation::default();
        self.custom_ops.clear();
    }
}

impl Core {
    pub(crate) fn raw(&self) -> *mut sys::TfLiteInterpreter {
        self.raw.as_ptr()
    }

    /// Runs a TFLite call, turning a failure into an error carrying TFLite's message.
    pub(crate) fn check(
        &self,
        call: &'static str,
        f: impl FnOnce() -> sys::TfLiteStatus,
    ) -> Result<()> {
        self.reporter.clear();
        let status = f();
        if status == sys::kTfLiteOk {
            Ok(())
        } else {
            let mut msg = self.reporter.take();
            if msg.is_empty() {
                msg = format!("status {status}");
            }
            Err(Error::from_tflite(call, msg)
                .for_model(self.model.origin(), self.model.min_runtime_version()))
        }
    }

    /// The allocation state of graph `g`.
    pub(crate) fn allocation(&self, g: Graph) -> &Allocation {
        match g {
            Graph::Main => &self.main,
            Graph::Signature(_) => &self.signature,
        }
    }

    fn allocation_mut(&mut self, g: Graph) -> &mut Allocation {
        match g {
            Graph::Main => &mut self.main,
            Graph::Signature(_) => &mut self.signature,
        }
    }

    /// Whether `g`'s views reach data.
    pub(crate) fn allocated(&self, g: Graph) -> bool {
        *self.allocation(g) == Allocation::Done
    }

    // ---- names and tensors ------------------------------------------------------------

    /// How many inputs or outputs `g` has.
    pub(crate) fn count(&self, g: Graph, side: Side) -> usize {
        // SAFETY: valid interpreter or runner.
        let n = unsafe {
            match (g, side) {
                (Graph::Main, Side::Input) => sys::TfLiteInterpreterGetInputTensorCount(self.raw()),
                (Graph::Main, Side::Output) => {
                    sys::TfLiteInterpreterGetOutputTensorCount(self.raw())
                }
                (Graph::Signature(r), Side::Input) => {
                    sys::TfLiteSignatureRunnerGetInputCount(r.as_ptr()) as i32
                }
                (Graph::Signature(r), Side::Output) => {
                    sys::TfLiteSignatureRunnerGetOutputCount(r.as_ptr()) as i32
                }
            }
        };
        n.max(0) as usize
    }

    /// The name of `g`'s input or output `i` (< `count`): the tensor's name in the main
    /// graph, the signature's name for it in a signature.
    pub(crate) fn name(&self, g: Graph, side: Side, i: usize) -> String {
        match g {
            Graph::Main => self.main_tensor(side, i).name(),
            // SAFETY: valid runner, index in range; names are NUL-terminated strings it owns.
            Graph::Signature(r) => unsafe {
                ffi::string(match side {
                    Side::Input => sys::TfLiteSignatureRunnerGetInputName(r.as_ptr(), i as i32),
                    Side::Output => sys::TfLiteSignatureRunnerGetOutputName(r.as_ptr(), i as i32),
                })
            },
        }
    }

    /// Every input or output name of `g`, in order.
    pub(crate) fn names(&self, g: Graph, side: Side) -> Vec<String> {
        (0..self.count(g, side))
            .map(|i| self.name(g, side, i))
            .collect()
    }

    fn main_tensor(&self, side: Side, i: usize) -> RawTensor {
        // SAFETY: valid interpreter; callers pass `i < count`; creation refused a model whose
        // inputs or outputs are no tensor.
        RawTensor(unsafe {
            match side {
                Side::Input => sys::TfLiteInterpreterGetInputTensor(self.raw(), i as i32)
                    as *const sys::TfLiteTensor,
                Side::Output => sys::TfLiteInterpreterGetOutputTensor(self.raw(), i as i32),
            }
        })
    }

    /// `g`'s input or output `i` (< `count`).
    pub(crate) fn tensor(&self, g: Graph, side: Side, i: usize) -> Result<RawTensor> {
        let Graph::Signature(r) = g else {
            return Ok(self.main_tensor(side, i));
        };
        let name = self.name(g, side, i);
        let c = CString::new(name.as_str()).map_err(|_| Error::NulByte {
            what: "tensor name",
        })?;
        // SAFETY: valid runner; `c` lives through the call.
        let t = unsafe {
            match side {
                Side::Input => sys::TfLiteSignatureRunnerGetInputTensor(r.as_ptr(), c.as_ptr())
                    as *const sys::TfLiteTensor,
                Side::Output => sys::TfLiteSignatureRunnerGetOutputTensor(r.as_ptr(), c.as_ptr()),
            }
        };
        if t.is_null() {
            return Err(Error::NoSuchName {
                side,
                name,
                available: self.names(g, side),
            });
        }
        Ok(RawTensor(t))
    }

    /// The position of `id` (a position or a name) among `g`'s inputs or outputs.
    pub(crate) fn resolve(&self, g: Graph, side: Side, id: impl TensorId) -> Result<usize> {
        id.resolve(side, self.count(g, side), &|i| self.name(g, side, i))
    }

    /// `g`'s input or output `id`, and whether its data may be reached.
    pub(crate) fn view(&self, g: Graph, side: Side, id: impl TensorId) -> Result<RawTensor> {
        let i = self.resolve(g, side, id)?;
        self.tensor(g, side, i)
    }

    // ---- resize, allocate, invoke -------------------------------------------------------

    /// Gives `g`'s input `id` a new shape; `g` then needs an allocation. The main graph does
    /// too after a signature's resize (the signature's graph may be the main one).
    pub(crate) fn resize(&mut self, g: Graph, id: impl TensorId, shape: &[usize]) -> Result<()> {
        let i = self.resolve(g, Side::Input, id)?;
        let dims = ffi::dims_i32(shape).ok_or_else(|| Error::InvalidShape {
            tensor: self.name(g, Side::Input, i),
            shape: shape.to_vec(),
            reason: "a dimension exceeds i32::MAX".into(),
        })?;
        let n = saturating_i32(dims.len());
        match g {
            // SAFETY: valid interpreter, `i` in range, `dims` lives through the call.
            Graph::Main => self.check("TfLiteInterpreterResizeInputTensor", || unsafe {
                sys::TfLiteRsInterpreterResizeInputTensor(self.raw(), i as i32, dims.as_ptr(), n)
            })?,
            Graph::Signature(r) => {
                let c = CString::new(self.name(g, Side::Input, i)).map_err(|_| Error::NulByte {
                    what: "tensor name",
                })?;
                // SAFETY: valid runner, existing name, `dims` lives through the call.
                self.check("TfLiteSignatureRunnerResizeInputTensor", || unsafe {
                    sys::TfLiteRsSignatureRunnerResizeInputTensor(
                        r.as_ptr(),
                        c.as_ptr(),
                        dims.as_ptr(),
                        n,
                    )
                })?
            }
        }
        for graph in [g, Graph::Main] {
            let state = self.allocation_mut(graph);
            if *state == Allocation::Done {
                *state = Allocation::Needed;
            }
        }
        Ok(())
    }

    /// Allocates (or re-allocates after a resize) `g`'s tensors, refusing a broken interpreter
    /// and tensors over the memory limit, and zeroes its inputs and outputs.
    pub(crate) fn allocate(&mut self, g: Graph) -> Result<()> {
        if let Allocation::Broken(reason) = &self.main {
            return Err(Error::Tflite {
                call: allocate_call(g),
                tflite_message: format!(
                    "an earlier allocation failed with a delegate applied ({reason}); \
                     this interpreter cannot be allocated again: build a new one"
                ),
            });
        }
        // After a resize TFLite re-applies the delegates here, which may pack into the shared
        // weights cache: as a build does.
        let allocated = self.delegation.building(|| {
            self.check(allocate_call(g), || {
                // SAFETY: valid interpreter or runner.
                unsafe {
                    match g {
                        Graph::Main => sys::TfLiteRsInterpreterAllocateTensors(self.raw()),
                        Graph::Signature(r) => {
                            sys::TfLiteRsSignatureRunnerAllocateTensors(r.as_ptr())
                        }
                    }
                }
            })
        });
        if let Err(e) = &allocated {
            if self.delegation.rewrites_graph() {
                self.main = Allocation::Broken(e.to_string());
                self.signature = self.main.clone();
            }
        }
        allocated?;
        *self.allocation_mut(g) = Allocation::Needed;
        self.check_memory(g)?;
        for side in [Side::Input, Side::Output] {
            for i in 0..self.count(g, side) {
                // SAFETY: allocated just now; `&mut self`, so no view is alive.
                unsafe { self.tensor(g, side, i)?.zero_if_arena() }
            }
        }
        *self.allocation_mut(g) = Allocation::Done;
        Ok(())
    }

    /// Refuses an allocation whose tensors (activations: not the constant weights mapped from
    /// the model) add up to more than the limit, before anything touches their memory.
    ///
    /// The C API lists the main graph's tensors only: for a signature on another subgraph, its
    /// inputs and outputs are what is counted.
    fn check_memory(&self, g: Graph) -> Result<()> {
        let main: Vec<RawTensor> = (0..)
            // SAFETY: valid interpreter; TFLite returns null past the last tensor.
            .map(|i| unsafe { sys::TfLiteInterpreterGetTensor(self.raw(), i) })
            .take_while(|t| !t.is_null())
            .map(|t| RawTensor(t as *const sys::TfLiteTensor))
            .collect();
        let tensors = match g {
            Graph::Main => main,
            Graph::Signature(_) => {
                let io = [Side::Input, Side::Output]
                    .into_iter()
                    .flat_map(|side| (0..self.count(g, side)).map(move |i| (side, i)))
                    .map(|(side, i)| self.tensor(g, side, i))
                    .collect::<Result<Vec<_>>>()?;
                if io.iter().any(|t| main.iter().any(|m| m.0 == t.0)) {
                    main
                } else {
                    io
                }
            }
        };
        let mut total = 0usize;
        for t in tensors {
            // SAFETY: a tensor of this interpreter.
            let (kind, bytes) = unsafe { ((*t.0).allocation_type, sys::TfLiteTensorByteSize(t.0)) };
            if kind == sys::kTfLiteMmapRo {
                continue;
            }
            total = total.saturating_add(bytes);
            if total > self.memory_limit {
                return Err(Error::MemoryLimit {
                    tensor: t.name(),
                    needed: total,
                    limit: self.memory_limit,
                });
            }
        }
        Ok(())
    }

    /// Runs `g` on its current inputs, cancelled by a [`CancelHandle`](super::CancelHandle)
    /// or, with `timeout`, a deadline.
    pub(crate) fn invoke(&mut self, g: Graph, timeout: Option<Duration>) -> Result<()> {
        if !self.allocated(g) {
            return Err(Error::NotAllocated);
        }
        self.delegation.finalize_weights()?;
        let cancel = Arc::clone(&self.cancel);
        // One cancellation flag for every subgraph of the interpreter.
        cancel.invoke(timeout, || match g {
            // SAFETY: valid, allocated interpreter; no tensor view is alive (`&mut self`).
            Graph::Main => self.check("TfLiteInterpreterInvoke", || unsafe {
                sys::TfLiteRsInterpreterInvoke(self.raw())
            }),
            // SAFETY: valid, allocated runner; no tensor view is alive (`&mut self`).
            Graph::Signature(r) => self.check("TfLiteSignatureRunnerInvoke", || unsafe {
                sys::TfLiteRsSignatureRunnerInvoke(r.as_ptr())
            }),
        })
    }
}

fn allocate_call(g: Graph) -> &'static str {
    match g {
        Graph::Main => "TfLiteInterpreterAllocateTensors",
        Graph::Signature(_) => "TfLiteSignatureRunnerAllocateTensors",
    }
}
