//! The plumbing between TFLite and a [`CustomOp`]: registrations, and the C callbacks that
//! run the op's `init`, `prepare` and `invoke`.

use super::{CustomOp, OpContext, OpResult};
use std::any::Any;
use std::cell::RefCell;
use std::ffi::{c_char, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::NonNull;
use std::sync::Arc;
use tflite_sys as sys;

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

/// A custom operator to register: its name, version and kernel (what
/// [`mediapipe::ops`](crate::mediapipe) hands the builder, which numbers and registers them).
pub(crate) struct OpDef {
    name: String,
    version: i32,
    op: Box<dyn ErasedOp>,
}

impl OpDef {
    pub(crate) fn new<O: CustomOp>(name: &str, version: i32, op: O) -> OpDef {
        OpDef {
            name: name.to_string(),
            version,
            op: Box::new(op),
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
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
    /// Registers `def` as registration number `slot` (0-based, < [`MAX_CUSTOM_OPS`]) of one
    /// builder.
    pub(crate) fn new(def: OpDef, slot: usize) -> std::result::Result<Arc<Registration>, String> {
        let OpDef { name, version, op } = def;
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
            op,
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
        let mut c = OpContext::new(ctx, node);
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
