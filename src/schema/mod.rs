//! The `.tflite` flatbuffer, read without TFLite: a bounds-checked reader ([`Flatbuffer`]) of
//! the fields TFLite 2.14's C API does not expose without an interpreter (inputs, outputs,
//! signatures, operators, metadata: read by `model::describe`), and the load-time rules TFLite assumes
//! of a graph without checking them ([`check_graph`], one function per rule in [`rules`]).
//! Every read is checked: the bytes may be hostile.

pub(crate) mod fields;
// The checked FlexBuffer reader, for the options of TFLite's own custom kernels (and of
// MediaPipe's ops).
#[cfg_attr(not(feature = "mediapipe"), allow(dead_code))]
pub(crate) mod flexbuffer;
pub(crate) mod ops;
mod rules;

use fields::*;
pub(crate) use rules::{check_graph, unusable_signatures};

/// A view of a flatbuffer; every accessor returns `None` rather than read out of bounds.
pub(crate) struct Flatbuffer<'a>(pub(crate) &'a [u8]);

impl Flatbuffer<'_> {
    pub(crate) fn u32_at(&self, p: usize) -> Option<usize> {
        let b = self.0.get(p..p.checked_add(4)?)?;
        Some(u32::from_le_bytes(b.try_into().ok()?) as usize)
    }

    pub(crate) fn u16_at(&self, p: usize) -> Option<usize> {
        let b = self.0.get(p..p.checked_add(2)?)?;
        Some(u16::from_le_bytes(b.try_into().ok()?) as usize)
    }

    /// The root table.
    pub(crate) fn root(&self) -> Option<usize> {
        self.u32_at(0)
    }

    /// Position of field `i` of the table at `t`, if present.
    pub(crate) fn field(&self, t: usize, i: usize) -> Option<usize> {
        let soffset = self.u32_at(t)? as u32 as i32 as i64;
        let vtable = usize::try_from(t as i64 - soffset).ok()?;
        let at = 4 + 2 * i;
        if at >= self.u16_at(vtable)? {
            return None;
        }
        match self.u16_at(vtable + at)? {
            0 => None,
            o => t.checked_add(o),
        }
    }

    /// Follows the offset stored at `p`.
    pub(crate) fn deref(&self, p: usize) -> Option<usize> {
        p.checked_add(self.u32_at(p)?)
    }

    /// (first element, length) of the vector field `i` of the table at `t`.
    pub(crate) fn vector(&self, t: usize, i: usize) -> Option<(usize, usize)> {
        let v = self.deref(self.field(t, i)?)?;
        Some((v.checked_add(4)?, self.u32_at(v)?))
    }

    /// The bytes of the byte-vector field `i` of the table at `t`.
    pub(crate) fn bytes(&self, t: usize, i: usize) -> Option<&[u8]> {
        let (start, len) = self.vector(t, i)?;
        self.0.get(start..start.checked_add(len)?)
    }

    /// Element `k` of a vector of tables.
    pub(crate) fn table(&self, elements: usize, k: usize) -> Option<usize> {
        self.deref(elements.checked_add(k.checked_mul(4)?)?)
    }

    pub(crate) fn i32_at(&self, p: usize) -> Option<i32> {
        Some(self.u32_at(p)? as u32 as i32)
    }

    /// The one-byte field `i` of the table at `t` (types, flags, union tags), if present.
    pub(crate) fn scalar_u8(&self, t: usize, i: usize) -> Option<u8> {
        self.field(t, i).and_then(|p| self.0.get(p).copied())
    }

    pub(crate) fn scalar_i32(&self, t: usize, i: usize, default: i32) -> Option<i32> {
        match self.field(t, i) {
            Some(p) => self.i32_at(p),
            None => Some(default),
        }
    }

    pub(crate) fn string(&self, t: usize, i: usize) -> Option<String> {
        Some(String::from_utf8_lossy(self.bytes(t, i)?).into_owned())
    }

    /// The 4-byte elements of the vector field `i` of the table at `t` (empty if absent).
    pub(crate) fn words(&self, t: usize, i: usize) -> Option<Vec<u32>> {
        let Some((start, n)) = self.vector(t, i) else {
            return Some(Vec::new());
        };
        self.0.get(start..start.checked_add(n.checked_mul(4)?)?)?;
        (0..n)
            .map(|k| self.u32_at(start + 4 * k).map(|w| w as u32))
            .collect()
    }

    /// The 8-byte signed elements of the vector field `i` of the table at `t` (empty if
    /// absent).
    pub(crate) fn longs(&self, t: usize, i: usize) -> Option<Vec<i64>> {
        let Some((start, n)) = self.vector(t, i) else {
            return Some(Vec::new());
        };
        let bytes = self.0.get(start..start.checked_add(n.checked_mul(8)?)?)?;
        Some(
            bytes
                .chunks_exact(8)
                .map(|b| i64::from_le_bytes(b.try_into().unwrap_or_default()))
                .collect(),
        )
    }
}

/// The `min_runtime_version` the converter recorded in the model's metadata ("2.3.0", …), if
/// any: the oldest TFLite it expects to run the model.
pub(crate) fn min_runtime_version(model: &[u8]) -> Option<String> {
    let fb = Flatbuffer(model);
    let root = fb.root()?;
    let (metadata, n) = fb.vector(root, MODEL_METADATA)?;
    for k in 0..n.min(1024) {
        let entry = fb.table(metadata, k)?;
        if fb.bytes(entry, METADATA_NAME)? != b"min_runtime_version" {
            continue;
        }
        let index = fb.u32_at(fb.field(entry, METADATA_BUFFER)?)?;
        let (buffers, count) = fb.vector(root, MODEL_BUFFERS)?;
        if index >= count {
            return None;
        }
        let data = fb.bytes(fb.table(buffers, index)?, BUFFER_DATA)?;
        let text = data.split(|&b| b == 0).next()?;
        let text = std::str::from_utf8(text).ok()?.trim();
        return (!text.is_empty()).then(|| text.to_string());
    }
    None
}

/// The builtin code of the operator code table at `c` (the larger of the two fields: the
/// schema's deprecated_builtin_code is an int8 capped at 127, builtin_code the full value).
pub(crate) fn builtin_code(fb: &Flatbuffer, c: usize) -> Option<i32> {
    let old = fb
        .scalar_u8(c, OPCODE_DEPRECATED_BUILTIN)
        .map_or(0, |b| b as i8 as i32);
    Some(fb.scalar_i32(c, OPCODE_BUILTIN, 0)?.max(old))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_bytes_give_none() {
        for bytes in [
            &b""[..],
            b"\xff\xff\xff\xff",
            b"\x04\x00\x00\x00\xfc\xff\xff\xff",
            &[0u8; 64],
        ] {
            assert_eq!(min_runtime_version(bytes), None);
            // Whatever it says, it must not read out of bounds or panic.
            let _ = check_graph(bytes);
        }
    }
}
