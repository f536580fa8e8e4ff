//! Custom operators written in Rust: [`CustomOp`] (or [`op_fn`] for two closures), registered
//! by name with [`InterpreterBuilder::custom_op`](crate::InterpreterBuilder::custom_op).
//!
//! A model converted with `allow_custom_ops`, or made by a tool such as MediaPipe, names
//! operators TFLite does not have; TFLite then refuses the model unless the application
//! registers a kernel for each name. Here the kernel is Rust: `init` reads the node's custom
//! options once, `prepare` checks the inputs and sizes the outputs, `invoke` computes. Tensors
//! are reached through an [`OpContext`], typed and bounds-checked like the interpreter's own
//! views. An `Err` or a panic in any callback becomes an error of the TFLite call that ran it
//! (`allocate_tensors` or `invoke`) carrying the message; nothing unwinds into C++.
//!
//! ```
//! use tflite::custom_op::{op_fn, OpContext};
//! use tflite::{Interpreter, Model};
//!
//! # fn main() -> tflite::Result<()> {
//! // A model whose only operator is the custom op "TfliteRsTestOp", with inputs x: f32[4]
//! // and a constant scalar c (1.0), and one output of x's shape: here we make it x + c.
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/models/custom_op.tflite");
//! let model = Model::from_file(path)?;
//! let add = op_fn(
//!     |ctx: &mut OpContext<'_>| {
//!         let shape = ctx.input(0)?.shape();
//!         ctx.resize_output(0, &shape)
//!     },
//!     |ctx: &mut OpContext<'_>| {
//!         let (x, c) = (ctx.input(0)?.data::<f32>()?, ctx.input(1)?.data::<f32>()?);
//!         let y = ctx.output(0)?.into_data_mut::<f32>()?;
//!         for (y, x) in y.iter_mut().zip(x) {
//!             *y = x + c[0];
//!         }
//!         Ok(())
//!     },
//! );
//! let mut it = Interpreter::builder(&model).custom_op("TfliteRsTestOp", add).build()?;
//! it.allocate_tensors()?;
//! it.input_mut(0)?.copy_from_slice(&[1f32, 2.0, 3.0, 4.0])?;
//! it.invoke()?;
//! assert_eq!(it.output(0)?.data::<f32>()?, [2.0, 3.0, 4.0, 5.0]);
//! # Ok(())
//! # }
//! ```

use crate::error::Side;
use crate::sys;
use crate::tensor::{RawTensor, Tensor, TensorId, TensorMut};
use std::any::Any;
use std::cell::RefCell;
use std::ffi::{c_char, c_void, CString};
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::Arc;

/// What a custom operator's callbacks return: any error type (its text becomes TFLite's error
/// message), e.g. `Err("bad options".into())`, `?` on a [`crate::Error`], or a `format!`.
pub type OpResult<T = ()> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// A custom operator's kernel. One value serves every node of the model that names the
/// operator; each node has its own [`State`](Self::State), made by [`init`](Self::init)
/// from the node's custom options.
///
/// `prepare` runs when tensors are allocated (and again after an input is resized): check the
/// inputs' types and shapes, and [resize](OpContext::resize_output) the outputs. `invoke`
/// runs at every inference: read the inputs, write the outputs.
pub trait CustomOp: Send + 'static {
    /// Per-node state (parsed options, scratch buffers); `()` if none.
    type State: Send + 'static;
    /// Makes a node's state from its custom options (the raw bytes the model stores for the
    /// node; their format is the operator's own: a C struct, a FlexBuffer, …).
    fn init(&self, options: &[u8]) -> OpResult<Self::State>;
    /// Checks the node's inputs and sets the shapes of its outputs.
    fn prepare(&self, state: &mut Self::State, ctx: &mut OpContext<'_>) -> OpResult;
    /// Computes the outputs.
    fn invoke(&self, state: &mut Self::State, ctx: &mut OpContext<'_>) -> OpResult;
}

/// A [`CustomOp`] from two closures (prepare, invoke) and no state; see [`op_fn`].
pub struct FnOp<P, I> {
    prepare: P,
    invoke: I,
}

/// A stateless custom operator from a `prepare` and an `invoke` closure. The node's custom
/// options remain available through [`OpContext::options`].
pub fn op_fn<P, I>(prepare: P, invoke: I) -> FnOp<P, I>
where
    P: Fn(&mut OpContext<'_>) -> OpResult + Send + 'static,
    I: Fn(&mut OpContext<'_>) -> OpResult + Send + 'static,
{
    FnOp { prepare, invoke }
}

impl<P, I> CustomOp for FnOp<P, I>
where
    P: Fn(&mut OpContext<'_>) -> OpResult + Send + 'static,
    I: Fn(&mut OpContext<'_>) -> OpResult + Send + 'static,
{
    type State = ();
    fn init(&self, _options: &[u8]) -> OpResult<()> {
        Ok(())
    }
    fn prepare(&self, _: &mut (), ctx: &mut OpContext<'_>) -> OpResult {
        (self.prepare)(ctx)
    }
    fn invoke(&self, _: &mut (), ctx: &mut OpContext<'_>) -> OpResult {
        (self.invoke)(ctx)
    }
}

/// One node's view of the graph while its `prepare` or `invoke` runs.
///
/// Inputs may be read any number of times; each output can be taken once per callback, and
/// an output that shares memory with an input or with another output is refused, so a
/// mutable output slice never aliases anything else handed out. Resizing an output needs
/// `&mut self`, so no output view survives a resize.
pub struct OpContext<'a> {
    ctx: *mut sys::TfLiteOpaqueContext,
    node: *mut sys::TfLiteOpaqueNode,
    taken: RefCell<Vec<bool>>,
    _callback: PhantomData<&'a mut ()>,
}

impl<'a> OpContext<'a> {
    /// The node's custom options (empty if it has none).
    pub fn options(&self) -> &[u8] {
        let mut data: *const c_void = std::ptr::null();
        let mut size: i32 = 0;
        // SAFETY: valid node for the callback's duration; both out-pointers are locals.
        let status =
            unsafe { sys::TfLiteOpaqueNodeGetCustomInitialData(self.node, &mut data, &mut size) };
        if status != sys::kTfLiteOk || data.is_null() || size <= 0 {
            return &[];
        }
        // SAFETY: TFLite keeps the node's custom options (in the model buffer) alive for the
        // interpreter's lifetime, which covers this callback.
        unsafe { std::slice::from_raw_parts(data as *const u8, size as usize) }
    }

    /// How many inputs the node has (optional inputs the model leaves out included).
    pub fn num_inputs(&self) -> usize {
        // SAFETY: valid node for the callback's duration.
        unsafe { sys::TfLiteOpaqueNodeNumberOfInputs(self.node) }.max(0) as usize
    }

    /// How many outputs the node has.
    pub fn num_outputs(&self) -> usize {
        // SAFETY: valid node for the callback's duration.
        unsafe { sys::TfLiteOpaqueNodeNumberOfOutputs(self.node) }.max(0) as usize
    }

    fn raw_input(&self, index: usize) -> OpResult<RawTensor> {
        let count = self.num_inputs();
        if index >= count {
            return Err(format!("input {index} requested, the node has {count}").into());
        }
        // SAFETY: valid context and node; index in range (TFLite returns null for an input
        // the model leaves out).
        let t = unsafe { sys::TfLiteOpaqueNodeGetInput(self.ctx, self.node, index as i32) };
        if t.is_null() {
            return Err(format!("input {index} is absent (an optional input left out)").into());
        }
        // In TFLite 2.14 (pinned) an opaque tensor is a `TfLiteTensor` (c_api_opaque.cc casts
        // one to the other), so the checked views of `RawTensor` apply.
        Ok(RawTensor(t as *const sys::TfLiteTensor))
    }

    fn raw_output(&self, index: usize) -> OpResult<RawTensor> {
        let count = self.num_outputs();
        if index >= count {
            return Err(format!("output {index} requested, the node has {count}").into());
        }
        // SAFETY: valid context and node; index in range.
        let t = unsafe { sys::TfLiteOpaqueNodeGetOutput(self.ctx, self.node, index as i32) };
        if t.is_null() {
            return Err(format!("output {index} refers to no tensor").into());
        }
        Ok(RawTensor(t as *const sys::TfLiteTensor))
    }

    fn tensor_id(&self, side: Side, id: impl TensorId) -> OpResult<usize> {
        let (count, get): (usize, &dyn Fn(usize) -> OpResult<RawTensor>) = match side {
            Side::Input => (self.num_inputs(), &|i| self.raw_input(i)),
            Side::Output => (self.num_outputs(), &|i| self.raw_output(i)),
        };
        id.resolve(side, count, &|i| {
            get(i).map(|t| t.name()).unwrap_or_default()
        })
        .map_err(|e| match e {
            crate::Error::IndexOutOfRange { index, count, .. } => {
                format!("{side} {index} requested, the node has {count}").into()
            }
            other => other.into(),
        })
    }

    /// Input `id` (a position, or a tensor name), read-only. In `prepare`, only constant
    /// inputs have data.
    pub fn input(&self, id: impl TensorId) -> OpResult<Tensor<'_>> {
        let t = self.raw_input(self.tensor_id(Side::Input, id)?)?;
        // SAFETY: TFLite does not write a node's inputs while the node runs, and no output
        // handed out overlaps them (checked in `output`).
        Ok(unsafe { Tensor::new(t, true) })
    }

    /// Output `id`, to write (its data is allocated in `invoke`). Each output can be taken
    /// once per callback.
    pub fn output(&self, id: impl TensorId) -> OpResult<TensorMut<'_>> {
        let index = self.tensor_id(Side::Output, id)?;
        let t = self.raw_output(index)?;
        {
            let mut taken = self.taken.borrow_mut();
            if taken.len() < self.num_outputs() {
                taken.resize(self.num_outputs(), false);
            }
            if taken[index] {
                return Err(format!("output {index} was already taken in this callback").into());
            }
            taken[index] = true;
        }
        let mine = byte_range(t);
        let others = (0..self.num_inputs())
            .filter_map(|i| self.raw_input(i).ok())
            .chain(
                (0..self.num_outputs())
                    .filter(|&j| j != index)
                    .filter_map(|j| self.raw_output(j).ok()),
            );
        for other in others {
            if other.0 == t.0 || overlaps(mine, byte_range(other)) {
                return Err(format!(
                    "output {index} shares its memory with another tensor of the node"
                )
                .into());
            }
        }
        // SAFETY: this output was taken once in this callback and overlaps no input and no
        // other output (checked above); TFLite does not touch it while the callback runs.
        Ok(unsafe { TensorMut::new(t, true) })
    }

    /// Sets the shape of output `id` (in `prepare`; TFLite allocates it afterwards).
    pub fn resize_output(&mut self, id: impl TensorId, shape: &[usize]) -> OpResult {
        let index = self.tensor_id(Side::Output, id)?;
        let t = self.raw_output(index)?;
        let dims: Vec<i32> = shape
            .iter()
            .map(|&d| i32::try_from(d))
            .collect::<Result<_, _>>()
            .map_err(|_| format!("output shape {shape:?} has a dimension over i32::MAX"))?;
        // SAFETY: a fresh array of `dims.len()` entries, filled before TFLite takes ownership
        // of it in `TfLiteOpaqueContextResizeTensor` (which frees it, also on failure).
        let status = unsafe {
            let array = sys::TfLiteIntArrayCreate(dims.len() as i32);
            if array.is_null() {
                return Err("TfLiteIntArrayCreate failed".into());
            }
            let data = std::ptr::addr_of_mut!((*array).data) as *mut i32;
            std::ptr::copy_nonoverlapping(dims.as_ptr(), data, dims.len());
            sys::TfLiteOpaqueContextResizeTensor(
                self.ctx,
                t.0 as *mut sys::TfLiteOpaqueTensor,
                array,
            )
        };
        if status != sys::kTfLiteOk {
            return Err(format!("resizing output {index} to {shape:?} failed").into());
        }
        Ok(())
    }
}

fn byte_range(t: RawTensor) -> (usize, usize) {
    // SAFETY: valid tensor for the callback's duration.
    let (ptr, len) = unsafe {
        (
            sys::TfLiteTensorData(t.0) as usize,
            sys::TfLiteTensorByteSize(t.0),
        )
    };
    if ptr == 0 {
        (0, 0)
    } else {
        (ptr, ptr.saturating_add(len))
    }
}

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < a.1 && b.0 < b.1 && a.0 < b.1 && b.0 < a.1
}

// ---- plumbing: TFLite's callbacks -> the Rust op ----------------------------------------

/// The type-erased form of a [`CustomOp`].
trait ErasedOp: Send {
    fn init(&self, options: &[u8]) -> OpResult<Box<dyn Any + Send>>;
    fn run(&self, prepare: bool, state: &mut (dyn Any + Send), ctx: &mut OpContext<'_>)
        -> OpResult;
}

impl<O: CustomOp> ErasedOp for O {
    fn init(&self, options: &[u8]) -> OpResult<Box<dyn Any + Send>> {
        Ok(Box::new(CustomOp::init(self, options)?))
    }
    fn run(
        &self,
        prepare: bool,
        state: &mut (dyn Any + Send),
        ctx: &mut OpContext<'_>,
    ) -> OpResult {
        let state = state
            .downcast_mut::<O::State>()
            .ok_or("custom op state of an unexpected type")?;
        if prepare {
            self.prepare(state, ctx)
        } else {
            self.invoke(state, ctx)
        }
    }
}

/// A custom operator registered with TFLite: owns the `TfLiteRegistrationExternal` (and the
/// name it points to), which must outlive every interpreter created with it.
pub(crate) struct Registration {
    name: CString,
    version: i32,
    op: Box<dyn ErasedOp>,
    raw: NonNull<sys::TfLiteRegistrationExternal>,
}

// SAFETY: the raw registration is only read by TFLite during interpreter creation and runs;
// the op is `Send`; an interpreter (not `Sync`) uses it from one thread at a time.
unsafe impl Send for Registration {}
// SAFETY: shared references only reach `name` (immutable) and the op through callbacks that
// TFLite makes from the thread driving the one interpreter using it.
unsafe impl Sync for Registration {}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: created by TfLiteRegistrationExternalCreate, deleted once, after every
        // interpreter holding it (they hold an `Arc` of this).
        unsafe { sys::TfLiteRegistrationExternalDelete(self.raw.as_ptr()) }
    }
}

/// The most Rust custom operators one interpreter can register.
pub(crate) const MAX_CUSTOM_OPS: usize = 32;

impl Registration {
    /// Registration number `slot` (0-based, < [`MAX_CUSTOM_OPS`]) of one builder.
    pub(crate) fn new<O: CustomOp>(
        name: &str,
        version: i32,
        op: O,
        slot: usize,
    ) -> std::result::Result<Arc<Registration>, String> {
        let name = CString::new(name).map_err(|_| "custom op name contains a NUL byte")?;
        if slot >= MAX_CUSTOM_OPS {
            return Err(format!(
                "at most {MAX_CUSTOM_OPS} Rust custom ops per interpreter"
            ));
        }
        // SAFETY: `name` is kept with the registration (TFLite stores the pointer).
        let raw = unsafe {
            sys::TfLiteRegistrationExternalCreate(sys::kTfLiteBuiltinCustom, name.as_ptr(), version)
        };
        let raw = NonNull::new(raw).ok_or("TfLiteRegistrationExternalCreate failed")?;
        // SAFETY: valid registration; the callbacks are sound for any node (they check
        // everything they are handed).
        unsafe {
            sys::TfLiteRegistrationExternalSetInit(raw.as_ptr(), Some(INIT_SLOTS[slot]));
            sys::TfLiteRegistrationExternalSetFree(raw.as_ptr(), Some(free_node));
            sys::TfLiteRegistrationExternalSetPrepare(raw.as_ptr(), Some(prepare_node));
            sys::TfLiteRegistrationExternalSetInvoke(raw.as_ptr(), Some(invoke_node));
        }
        Ok(Arc::new(Registration {
            name,
            version,
            op: Box::new(op),
            raw,
        }))
    }

    pub(crate) fn name(&self) -> &str {
        self.name.to_str().unwrap_or("")
    }

    pub(crate) fn version(&self) -> i32 {
        self.version
    }

    pub(crate) fn raw(&self) -> *mut sys::TfLiteRegistrationExternal {
        self.raw.as_ptr()
    }
}

thread_local! {
    /// The Rust custom ops of the interpreter being created on this thread, by slot. TFLite
    /// calls `init` (which, in 2.14's C API, is not told which registration it belongs to)
    /// synchronously inside interpreter creation, so each slot's `init` finds its op here.
    static CREATING: RefCell<Vec<Arc<Registration>>> = const { RefCell::new(Vec::new()) };
}

/// Publishes `ops` to the `init` callbacks while the returned guard lives.
pub(crate) fn creating(ops: &[Arc<Registration>]) -> impl Drop {
    struct Restore(Vec<Arc<Registration>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = std::mem::take(&mut self.0);
            CREATING.with(|c| *c.borrow_mut() = previous);
        }
    }
    let previous = CREATING.with(|c| std::mem::replace(&mut *c.borrow_mut(), ops.to_vec()));
    Restore(previous)
}

/// What a node keeps in TFLite's `user_data`.
struct NodeState {
    reg: Arc<Registration>,
    state: std::result::Result<Box<dyn Any + Send>, String>,
}

type InitFn =
    unsafe extern "C" fn(*mut sys::TfLiteOpaqueContext, *const c_char, usize) -> *mut c_void;

macro_rules! init_slots {
    ($($n:literal)*) => { [$(init_slot::<$n> as InitFn),*] };
}
static INIT_SLOTS: [InitFn; MAX_CUSTOM_OPS] = init_slots!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31);

unsafe extern "C" fn init_slot<const N: usize>(
    _ctx: *mut sys::TfLiteOpaqueContext,
    buffer: *const c_char,
    length: usize,
) -> *mut c_void {
    let Some(reg) = CREATING.with(|c| c.borrow().get(N).cloned()) else {
        // Not inside our interpreter creation: `prepare` reports the missing state.
        return std::ptr::null_mut();
    };
    let options: &[u8] = if buffer.is_null() || length == 0 {
        &[]
    } else {
        // SAFETY: TFLite passes the node's custom options, `length` bytes at `buffer`.
        unsafe { std::slice::from_raw_parts(buffer as *const u8, length) }
    };
    let state = match catch_unwind(AssertUnwindSafe(|| reg.op.init(options))) {
        Ok(Ok(state)) => Ok(state),
        Ok(Err(e)) => Err(format!("init failed: {e}")),
        Err(panic) => Err(format!("init panicked: {}", panic_text(&*panic))),
    };
    // A panic while boxing (allocation failure aborts anyway) cannot unwind from here.
    catch_unwind(AssertUnwindSafe(|| {
        Box::into_raw(Box::new(NodeState { reg, state })) as *mut c_void
    }))
    .unwrap_or(std::ptr::null_mut())
}

unsafe extern "C" fn free_node(_ctx: *mut sys::TfLiteOpaqueContext, data: *mut c_void) {
    if data.is_null() {
        return;
    }
    // SAFETY: `data` is what `init_slot` boxed for this node; TFLite frees it once.
    let node = unsafe { Box::from_raw(data as *mut NodeState) };
    // The user's state may panic in its destructor: keep that on this side.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(node)));
}

unsafe extern "C" fn prepare_node(
    ctx: *mut sys::TfLiteOpaqueContext,
    node: *mut sys::TfLiteOpaqueNode,
) -> sys::TfLiteStatus {
    // SAFETY: TFLite's arguments for this node, valid for the call.
    unsafe { run_node(ctx, node, true) }
}

unsafe extern "C" fn invoke_node(
    ctx: *mut sys::TfLiteOpaqueContext,
    node: *mut sys::TfLiteOpaqueNode,
) -> sys::TfLiteStatus {
    // SAFETY: TFLite's arguments for this node, valid for the call.
    unsafe { run_node(ctx, node, false) }
}

/// Runs `prepare` or `invoke` of the node's op; errors and panics are reported to TFLite.
///
/// # Safety
/// `ctx` and `node` are TFLite's, for a node created with one of our registrations.
unsafe fn run_node(
    ctx: *mut sys::TfLiteOpaqueContext,
    node: *mut sys::TfLiteOpaqueNode,
    prepare: bool,
) -> sys::TfLiteStatus {
    let phase = if prepare { "prepare" } else { "invoke" };
    // SAFETY: valid node.
    let data = unsafe { sys::TfLiteOpaqueNodeGetUserData(node) } as *mut NodeState;
    if data.is_null() {
        // SAFETY: valid context.
        unsafe {
            report(
                ctx,
                "a Rust custom op's node has no state (created outside this crate's builder?)",
            )
        };
        return sys::kTfLiteError;
    }
    // SAFETY: set by `init_slot` for this node; TFLite runs one callback of a node at a time.
    let ns = unsafe { &mut *data };
    let name = ns.reg.name.to_string_lossy().into_owned();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let mut c = OpContext {
            ctx,
            node,
            taken: RefCell::new(Vec::new()),
            _callback: PhantomData,
        };
        match &mut ns.state {
            Ok(state) => ns.reg.op.run(prepare, state.as_mut(), &mut c),
            Err(e) => Err(e.clone().into()),
        }
    }));
    let message = match outcome {
        Ok(Ok(())) => return sys::kTfLiteOk,
        Ok(Err(e)) => format!("custom op {name}: {phase}: {e}"),
        Err(panic) => format!(
            "custom op {name}: {phase} panicked: {}",
            panic_text(&*panic)
        ),
    };
    // SAFETY: valid context.
    unsafe { report(ctx, &message) };
    sys::kTfLiteError
}

/// Reports `message` through TFLite's error reporter (so it lands in the call's error).
///
/// # Safety
/// `ctx` is a valid opaque context.
unsafe fn report(ctx: *mut sys::TfLiteOpaqueContext, message: &str) {
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    // SAFETY: "%s" with one NUL-terminated string argument.
    unsafe { sys::TfLiteOpaqueContextReportError(ctx, c"%s".as_ptr(), text.as_ptr()) };
}

fn panic_text(panic: &(dyn Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}
