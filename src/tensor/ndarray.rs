//! With the `ndarray` feature: tensors as `ndarray` views, and copies from any array.

use super::{Tensor, TensorMut};
use crate::dtype::Element;
use crate::error::{Error, Result};
use ndarray::{ArrayBase, ArrayViewD, ArrayViewMutD, Data, Dimension, IxDyn};

impl<'a> Tensor<'a> {
    /// The data as an n-dimensional array view of the tensor's shape (no copy).
    ///
    /// ```
    /// # fn main() -> tflite::Result<()> {
    /// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tflite-sys/tests/data/add_mul.tflite");
    /// # let model = tflite::Model::from_file(path)?;
    /// let mut it = tflite::Interpreter::new(&model)?;
    /// it.allocate_tensors()?;
    /// it.input_mut(0)?.copy_from_array(&ndarray::Array2::<f32>::ones((1, 8)))?;
    /// it.invoke()?;
    /// let y = it.output(0)?.as_array::<f32>()?;
    /// assert_eq!(y.shape(), [1, 8]);
    /// assert_eq!(y[[0, 7]], 4.5);
    /// # Ok(()) }
    /// ```
    pub fn as_array<T: Element>(&self) -> Result<ArrayViewD<'a, T>> {
        let data = self.data::<T>()?;
        ArrayViewD::from_shape(IxDyn(&self.shape()), data).map_err(|e| shape_error(self.name(), e))
    }
}

impl TensorMut<'_> {
    /// The data as a read-only array view.
    pub fn as_array<T: Element>(&self) -> Result<ArrayViewD<'_, T>> {
        self.as_tensor().as_array()
    }

    /// The data as a mutable array view of the tensor's shape (no copy).
    pub fn as_array_mut<T: Element>(&mut self) -> Result<ArrayViewMutD<'_, T>> {
        let (shape, name) = (self.shape(), self.name());
        let data = self.data_mut::<T>()?;
        ArrayViewMutD::from_shape(IxDyn(&shape), data).map_err(|e| shape_error(name, e))
    }

    /// Copies an array of the tensor's shape in, whatever its memory layout (a transposed or
    /// sliced view is copied in logical order). A different shape is
    /// [`Error::InvalidShape`]; resize the input first to take another one.
    pub fn copy_from_array<T: Element, S: Data<Elem = T>, D: Dimension>(
        &mut self,
        array: &ArrayBase<S, D>,
    ) -> Result<()> {
        let shape = self.shape();
        if array.shape() != shape.as_slice() {
            return Err(Error::InvalidShape {
                tensor: self.name(),
                shape: array.shape().to_vec(),
                reason: format!("the tensor's shape is {shape:?}"),
            });
        }
        let mut dst = self.as_array_mut::<T>()?;
        dst.assign(&array.view().into_dyn());
        Ok(())
    }
}

fn shape_error(tensor: String, e: ndarray::ShapeError) -> Error {
    Error::InvalidData {
        tensor,
        reason: format!("the data does not fit the shape: {e}"),
    }
}
