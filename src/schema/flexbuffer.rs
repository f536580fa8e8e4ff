//! A reader for the FlexBuffers maps custom operators keep their options in (MediaPipe's
//! transform ops, TF's converter for `tf.function`-implemented ops): just what reading a map
//! of numbers and number vectors needs, with every offset checked against the buffer, so a
//! hostile model's options are an error, never a read outside them.
//!
//! The format: the buffer ends with the root's packed type and byte width; a packed type is
//! `type << 2 | log2(width of the child)`; references (maps, vectors, keys, indirect
//! numbers) are unsigned offsets back from where they are stored.

/// A value inside a FlexBuffer: where it is stored, the width it is stored with, its packed
/// type.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ref<'a> {
    buf: &'a [u8],
    at: usize,
    width: usize,
    packed: u8,
}

const INT: u8 = 1;
const UINT: u8 = 2;
const FLOAT: u8 = 3;
const KEY: u8 = 4;
const INDIRECT_INT: u8 = 6;
const INDIRECT_UINT: u8 = 7;
const INDIRECT_FLOAT: u8 = 8;
const MAP: u8 = 9;
const VECTOR: u8 = 10;
const VECTOR_INT: u8 = 11;
const VECTOR_KEY: u8 = 14;
const VECTOR_INT2: u8 = 16;
const VECTOR_FLOAT4: u8 = 24;
const BOOL: u8 = 26;
const VECTOR_BOOL: u8 = 36;

type Result<T> = std::result::Result<T, String>;

fn bad(what: &str) -> String {
    format!("malformed FlexBuffer options: {what}")
}

fn read_uint(buf: &[u8], at: usize, width: usize) -> Result<u64> {
    let b = at
        .checked_add(width)
        .and_then(|end| buf.get(at..end))
        .ok_or_else(|| bad("a value lies outside the buffer"))?;
    let mut v = [0u8; 8];
    v[..width].copy_from_slice(b);
    Ok(u64::from_le_bytes(v))
}

fn read_int(buf: &[u8], at: usize, width: usize) -> Result<i64> {
    let u = read_uint(buf, at, width)?;
    let shift = 64 - 8 * width as u32;
    Ok(((u << shift) as i64) >> shift)
}

fn read_float(buf: &[u8], at: usize, width: usize) -> Result<f64> {
    Ok(match width {
        4 => f32::from_bits(read_uint(buf, at, 4)? as u32) as f64,
        8 => f64::from_bits(read_uint(buf, at, 8)?),
        _ => return Err(bad("a float neither 4 nor 8 bytes wide")),
    })
}

/// Parses `buf`'s root.
pub(crate) fn root(buf: &[u8]) -> Result<Ref<'_>> {
    let n = buf.len();
    if n < 3 {
        return Err(bad("shorter than 3 bytes"));
    }
    let width = buf[n - 1] as usize;
    if !matches!(width, 1 | 2 | 4 | 8) || n < 2 + width {
        return Err(bad("the root's byte width"));
    }
    Ok(Ref {
        buf,
        at: n - 2 - width,
        width,
        packed: buf[n - 2],
    })
}

impl<'a> Ref<'a> {
    fn kind(&self) -> u8 {
        self.packed >> 2
    }

    /// The width of what a reference points at.
    fn child_width(&self) -> usize {
        1 << (self.packed & 3)
    }

    /// Where a reference points.
    fn target(&self) -> Result<usize> {
        let off = read_uint(self.buf, self.at, self.width)?;
        usize::try_from(off)
            .ok()
            .and_then(|o| self.at.checked_sub(o))
            .ok_or_else(|| bad("an offset points before the buffer"))
    }

    /// This value as a number (integers, floats, booleans, and their indirect forms).
    pub(crate) fn as_f64(&self) -> Result<f64> {
        let (b, w) = (self.buf, self.width);
        match self.kind() {
            INT => Ok(read_int(b, self.at, w)? as f64),
            UINT | BOOL => Ok(read_uint(b, self.at, w)? as f64),
            FLOAT => read_float(b, self.at, w),
            INDIRECT_INT => Ok(read_int(b, self.target()?, self.child_width())? as f64),
            INDIRECT_UINT => Ok(read_uint(b, self.target()?, self.child_width())? as f64),
            INDIRECT_FLOAT => read_float(b, self.target()?, self.child_width()),
            t => Err(bad(&format!("type {t} where a number was expected"))),
        }
    }

    /// This value as an i32 (floats truncate, as FlexBuffers' `AsInt32` does); out of range is
    /// an error.
    pub(crate) fn as_i32(&self) -> Result<i32> {
        let v = self.as_f64()?;
        if v.is_finite() && v >= i32::MIN as f64 && v <= i32::MAX as f64 {
            Ok(v as i32)
        } else {
            Err(bad(&format!("{v} does not fit an int32")))
        }
    }

    pub(crate) fn as_f32(&self) -> Result<f32> {
        Ok(self.as_f64()? as f32)
    }

    /// This value's elements, if it is a vector (typed, fixed-length or untyped).
    pub(crate) fn elements(&self) -> Result<Vec<Ref<'a>>> {
        let kind = self.kind();
        let width = self.child_width();
        let at = self.target()?;
        let (len, element_kind) = match kind {
            VECTOR | MAP | VECTOR_INT..=VECTOR_KEY | VECTOR_BOOL => {
                let len_at = at
                    .checked_sub(width)
                    .ok_or_else(|| bad("a vector's length"))?;
                let len = read_uint(self.buf, len_at, width)?;
                let typed = match kind {
                    VECTOR | MAP => None,
                    VECTOR_BOOL => Some(BOOL),
                    k => Some(k - VECTOR_INT + INT),
                };
                (len, typed)
            }
            VECTOR_INT2..=VECTOR_FLOAT4 => {
                let k = kind - VECTOR_INT2;
                (2 + (k / 3) as u64, Some(INT + k % 3))
            }
            t => return Err(bad(&format!("type {t} where a vector was expected"))),
        };
        // Untyped vectors and maps keep a packed type per element after the elements.
        let per_element = width + usize::from(element_kind.is_none());
        let len = usize::try_from(len)
            .ok()
            .filter(|&l| {
                l.checked_mul(per_element)
                    .and_then(|s| at.checked_add(s))
                    .is_some_and(|end| end <= self.buf.len())
            })
            .ok_or_else(|| bad("a vector longer than the buffer"))?;
        (0..len)
            .map(|i| {
                let packed = match element_kind {
                    Some(k) => k << 2,
                    None => self.buf[at + len * width + i],
                };
                Ok(Ref {
                    buf: self.buf,
                    at: at + i * width,
                    width,
                    packed,
                })
            })
            .collect()
    }

    /// This value's numbers, if it is a vector of numbers.
    pub(crate) fn as_i32s(&self) -> Result<Vec<i32>> {
        self.elements()?.iter().map(Ref::as_i32).collect()
    }

    /// The value of `key`, if this is a map that has it.
    pub(crate) fn get(&self, key: &str) -> Result<Option<Ref<'a>>> {
        if self.kind() != MAP {
            return Err(bad("the root is not a map"));
        }
        let values = self.elements()?;
        let at = self.target()?;
        let w = self.child_width();
        let keys_at = at.checked_sub(3 * w).ok_or_else(|| bad("a map's keys"))?;
        let keys_width = read_uint(self.buf, at - 2 * w, w)? as usize;
        if !matches!(keys_width, 1 | 2 | 4 | 8) {
            return Err(bad("a map's key width"));
        }
        let keys = Ref {
            buf: self.buf,
            at: keys_at,
            width: w,
            packed: (VECTOR_KEY << 2) | keys_width.trailing_zeros() as u8,
        }
        .elements()?;
        if keys.len() != values.len() {
            return Err(bad("a map with more keys than values"));
        }
        for (k, v) in keys.iter().zip(values) {
            let start = Ref {
                packed: KEY << 2,
                ..*k
            }
            .target()?;
            let rest = &self.buf[start..];
            let end = rest
                .iter()
                .position(|&b| b == 0)
                .ok_or_else(|| bad("a key without its terminating NUL"))?;
            if &rest[..end] == key.as_bytes() {
                return Ok(Some(v));
            }
        }
        Ok(None)
    }
}

/// The options of a custom op as a map: `get` a key's value or `require` it.
pub(crate) struct Options<'a>(Ref<'a>);

impl<'a> Options<'a> {
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Self> {
        let r = root(bytes)?;
        if r.kind() != MAP {
            return Err(bad("the root is not a map"));
        }
        Ok(Options(r))
    }

    pub(crate) fn get(&self, key: &str) -> Result<Option<Ref<'a>>> {
        self.0.get(key)
    }

    pub(crate) fn require(&self, key: &str) -> Result<Ref<'a>> {
        self.get(key)?
            .ok_or_else(|| format!("option `{key}` is missing"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// Made with the `flatbuffers` Python package (25.12.19):
    /// `flexbuffers.Dumps({'subset_idxs': [1, 2, 3, 4], 'left_rotation_idx': 5,
    /// 'scale_x': 1.5, 'target_rotation_radians': 0.0})`.
    const MAP_HEX: &str = "7375627365745f69647873000401020304040404046c6566745f726f746174696f6e5f696478007363616c655f78007461726765745f726f746174696f6e5f72616469616e73000433224a1c040000000100000004000000050000000000c03f5300000000000000060e280e142601";

    #[test]
    fn reads_a_map_of_numbers_and_vectors() {
        let b = hex(MAP_HEX);
        let o = Options::parse(&b).unwrap();
        assert_eq!(
            o.require("subset_idxs").unwrap().as_i32s().unwrap(),
            [1, 2, 3, 4]
        );
        assert_eq!(o.require("left_rotation_idx").unwrap().as_i32().unwrap(), 5);
        assert_eq!(o.require("scale_x").unwrap().as_f32().unwrap(), 1.5);
        assert_eq!(
            o.require("target_rotation_radians")
                .unwrap()
                .as_f32()
                .unwrap(),
            0.0
        );
        assert!(o.get("output_width").unwrap().is_none());
        assert!(o
            .require("output_width")
            .unwrap_err()
            .contains("output_width"));
        // A number is not a vector, nor a vector a number.
        assert!(o.require("scale_x").unwrap().as_i32s().is_err());
        assert!(o.require("subset_idxs").unwrap().as_f32().is_err());
    }

    /// Every truncation and every single-byte change of a valid map is an `Err` or a value,
    /// never a panic or a read outside the buffer.
    #[test]
    fn damaged_options_are_errors() {
        let b = hex(MAP_HEX);
        let read_all = |b: &[u8]| -> Result<()> {
            let o = Options::parse(b)?;
            for k in ["subset_idxs", "left_rotation_idx", "scale_x", "nope"] {
                if let Some(v) = o.get(k)? {
                    let _ = v.as_i32s();
                    let _ = v.as_f64();
                }
            }
            Ok(())
        };
        for n in 0..b.len() {
            let _ = read_all(&b[..n]);
        }
        for i in 0..b.len() {
            for v in [0u8, 1, 0x7f, 0x80, 0xff] {
                let mut m = b.clone();
                m[i] = v;
                let _ = read_all(&m);
            }
        }
        assert!(Options::parse(&[]).is_err());
        assert!(Options::parse(&[0, 0, 9]).is_err());
    }
}
