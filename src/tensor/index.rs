//! [`TensorId`]: a tensor's position or name.

use crate::error::{Error, Result, Side};

/// Picks a tensor among the inputs or outputs of an interpreter, a signature runner or a custom
/// op's node: by position (`usize`) or by name (`&str`, `&String`). An index past the end is
/// [`Error::IndexOutOfRange`], an unknown name [`Error::NoSuchName`] listing the names there are.
pub trait TensorId: private::Sealed {
    #[doc(hidden)]
    fn resolve(&self, side: Side, count: usize, name_of: &dyn Fn(usize) -> String)
        -> Result<usize>;
}

mod private {
    pub trait Sealed {}
    impl Sealed for usize {}
    impl Sealed for &str {}
    impl Sealed for &String {}
}

impl TensorId for usize {
    fn resolve(&self, side: Side, count: usize, _: &dyn Fn(usize) -> String) -> Result<usize> {
        if *self < count {
            Ok(*self)
        } else {
            Err(Error::IndexOutOfRange {
                side,
                index: *self,
                count,
            })
        }
    }
}

impl TensorId for &str {
    fn resolve(
        &self,
        side: Side,
        count: usize,
        name_of: &dyn Fn(usize) -> String,
    ) -> Result<usize> {
        let names: Vec<String> = (0..count).map(name_of).collect();
        names
            .iter()
            .position(|n| n == self)
            .ok_or_else(|| Error::NoSuchName {
                side,
                name: self.to_string(),
                available: names,
            })
    }
}

impl TensorId for &String {
    fn resolve(
        &self,
        side: Side,
        count: usize,
        name_of: &dyn Fn(usize) -> String,
    ) -> Result<usize> {
        self.as_str().resolve(side, count, name_of)
    }
}
