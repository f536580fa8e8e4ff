//! [`OpContext`]: one node's inputs, outputs and options while its callback runs.

use super::OpResult;
use crate::error::Side;
use crate::tensor::{RawTensor, Tensor, TensorId, TensorMut};
use std::cell::RefCell;
use std::ffi::c_void;
use std::marker::PhantomData;
use tflite_sys as sys;

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
    /// The context of `node`'s callback (TFLite's arguments, valid for the call).
    pub(super) fn new(
        ctx: *mut sys::TfLiteOpaqueContext,
        node: *mut sys::TfLiteOpaqueNode,
    ) -> Self {
        OpContext {
            ctx,
            node,
            taken: RefCell::new(Vec::new()),
            _callback: PhantomData,
        }
    }

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
            crate::error::Error::IndexOutOfRange { index, count, .. } => {
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
