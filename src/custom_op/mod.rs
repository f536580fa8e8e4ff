//! Custom operators written in Rust: [`CustomOp`] (or [`op_fn`] for two closures), registered
//! by name with [`InterpreterBuilder::custom_op`](crate::InterpreterBuilder::custom_op).
//!
//! A model converted with `allow_custom_ops`, or made by a tool such as MediaPipe, names
//! operators TFLite does not have; [`build`](crate::InterpreterBuilder::build) then refuses
//! the model ([`Error::UnsupportedOp`](crate::Error::UnsupportedOp)) unless the application
//! registers a kernel for each name and version. Here the kernel is Rust: `init` reads the
//! node's custom options once, `prepare` checks the inputs and sizes the outputs, `invoke`
//! computes. Tensors
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

mod context;
mod registration;

pub use context::OpContext;
pub(crate) use registration::{creating, OpDef, Registration};

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
