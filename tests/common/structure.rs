//! A structure-aware mutator for `.tflite` files: it keeps a model a valid flatbuffer but changes
//! what it says. Every edit is in place, so offsets and the verifier's bounds stay intact; only
//! the meaning changes. Used by the `structure` fuzz target (`fuzz/`) and by
//! `tests/structure.rs`.
//!
//! What it mutates, by table of the TFLite 2.14 schema (a field a seed model does not hold
//! cannot be mutated in place; every field below is mutated wherever a seed holds it):
//!
//! - `Model`: `version`, `metadata_buffer` (buffer indices), `description` (bytes);
//! - `OperatorCode`: `deprecated_builtin_code`, `builtin_code`, `version`, `custom_code`
//!   (bytes);
//! - `SubGraph`: `tensors`/`operators` (lengths), `inputs`, `outputs` (tensor indices and
//!   lengths), `name` (bytes);
//! - `Tensor`: `shape` and `shape_signature` (elements and lengths), `type` (**every**
//!   `TensorType` of the schema, FLOAT32 = 0 to INT4 = 17, and codes past it), `buffer`,
//!   `name`, `is_variable`, `has_rank`; its `quantization`: `min`, `max`, `scale`,
//!   `zero_point`, `quantized_dimension`, `details_type` and the custom details' bytes; its
//!   `sparsity`: `traversal_order`, `block_map`, and each dimension's `format`, `dense_size`,
//!   index-vector types and index values; its `variant_tensors`: `shape`, `type`, `has_rank`;
//! - `Operator`: `opcode_index`, `inputs`, `outputs`, `intermediates`, `builtin_options_type`,
//!   every inline field of its `builtin_options`, `custom_options` (bytes and length),
//!   `custom_options_format`, `mutating_variable_inputs`, `large_custom_options_offset` and
//!   `_size`;
//! - `Buffer`: `data` (length; the elements of a constant int32 or int64 tensor as shape-like
//!   values, and the first words of every buffer as any bits: NaN, infinities, extremes),
//!   `offset`, `size`;
//! - `Metadata`: `buffer`, `name` (bytes); `SignatureDef`: `subgraph_index`,
//!   `signature_key`, `deprecated_tag`, and each `TensorMap`'s `tensor_index` and `name`.
//!
//! A scalar field left at its default is not in the file (a converter's float32 tensors have
//! no `type` field at all), so these are also added where left out, by appending a copy of the
//! table's vtable with the field and its value (`add_field`): a tensor's `type`, `is_variable`,
//! `has_rank`, a quantization's `quantized_dimension`, an operator's `opcode_index`,
//! `builtin_options_type` and each option field its table leaves out, an operator code's
//! `version` and `builtin_code`, a signature's `subgraph_index` and a tensor map's
//! `tensor_index`.
//!
//! Before the "hostile models" work it covered shapes, `type` (FLOAT32 to INT16, INT8, FLOAT64,
//! UINT16, INT4 and code 100 only: never COMPLEX64/128, UINT32/64, RESOURCE or VARIANT, and
//! only where the field was present: never a float32 tensor's), `buffer`, quantization
//! scales, zero points and dimension, operands, opcodes, versions, builtin codes, the options
//! present, signatures, constant int32/int64 data and vector lengths; none of the other
//! fields above, and no field left out.
#![allow(dead_code)]

/// What a mutable spot of the file holds (and so which values are worth trying there).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// An `int` operand of an operator or a subgraph (a tensor index).
    TensorIndex,
    /// A `uint` tensor index of a signature's tensor map.
    SignatureTensor,
    /// An element of a tensor's `shape` or `shape_signature`.
    Dim,
    /// The length of a vector: only ever made shorter.
    VectorLength(u32),
    /// A tensor's `type` (byte).
    TensorType,
    /// A tensor's `buffer` index.
    BufferIndex,
    /// A quantization scale (`float`).
    Scale,
    /// A quantization zero point (`long`).
    ZeroPoint,
    /// A quantization's `quantized_dimension`.
    QuantizedDimension,
    /// An operator's `opcode_index`.
    OpcodeIndex,
    /// An operator code's `version`.
    OpVersion,
    /// An operator code's `builtin_code` (`int`).
    BuiltinCode,
    /// An operator code's `deprecated_builtin_code` (byte).
    DeprecatedBuiltinCode,
    /// An operator's `builtin_options_type` (the union's type byte).
    OptionsType,
    /// A scalar field of an operator's builtin options, of this many bytes.
    OptionField(u8),
    /// A signature's `subgraph_index`.
    SubgraphIndex,
    /// An element of a constant int32 tensor's data.
    ConstInt32,
    /// An element of a constant int64 tensor's data.
    ConstInt64,
    /// A 4-byte word of any buffer's data: any bits.
    ConstWord,
    /// A 4-byte integer field that is not an index: a version, a dense size, a tag, a
    /// traversal order or block map element, an int32 sparse index.
    Int,
    /// An 8-byte unsigned field: a buffer's or custom options' offset or size.
    Long,
    /// A one-byte boolean or enum field (`is_variable`, `has_rank`, a union's type, a format),
    /// whose meaningful values are `0..=max`.
    Byte(u8),
    /// A byte of a string or a byte vector (names, custom options, custom quantization).
    DataByte,
    /// A 2-byte sparse index (`Uint16Vector`).
    Short,
    /// A scalar field (its number) that the table at the site leaves out: the builder omits
    /// a field at its default (a FLOAT32 type, SAME padding, no activation, opcode index 0,
    /// version 1, ...), which no in-place edit reaches. It is added (`add_field`).
    Absent(u8, Absent),
}

/// What a field left out of a table holds once added.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Absent {
    TensorType,
    Bool,
    OpcodeIndex,
    OptionsType,
    /// An option of unknown width (the schema's options tables are not spelled out here).
    OptionField,
    QuantizedDimension,
    OpVersion,
    BuiltinCode,
    SubgraphIndex,
    SignatureTensor,
}

impl Absent {
    fn kind(self, rng: &mut Rng) -> Kind {
        match self {
            Absent::TensorType => Kind::TensorType,
            Absent::Bool => Kind::Byte(1),
            Absent::OpcodeIndex => Kind::OpcodeIndex,
            Absent::OptionsType => Kind::OptionsType,
            Absent::OptionField => Kind::OptionField(rng.pick(&[1, 1, 4, 8])),
            Absent::QuantizedDimension => Kind::QuantizedDimension,
            Absent::OpVersion => Kind::OpVersion,
            Absent::BuiltinCode => Kind::BuiltinCode,
            Absent::SubgraphIndex => Kind::SubgraphIndex,
            Absent::SignatureTensor => Kind::SignatureTensor,
        }
    }
}

/// A mutable spot: its byte position and what it holds.
#[derive(Clone, Copy, Debug)]
pub struct Site {
    pub pos: usize,
    pub kind: Kind,
}

/// The mutable spots of a model, and the counts that make good index values.
#[derive(Debug, Default)]
pub struct Sites {
    pub sites: Vec<Site>,
    pub tensors: usize,
    pub buffers: usize,
    pub opcodes: usize,
    pub subgraphs: usize,
}

/// At most this many elements of any one vector are listed (big models have big vectors).
const MAX_ELEMENTS: usize = 4096;
/// At most this many elements of one constant tensor's data are listed.
const MAX_CONST_ELEMENTS: usize = 16;
/// At most this many bytes of one string or byte vector are listed.
const MAX_BYTES: usize = 64;

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn u8_at(&self, p: usize) -> Option<u8> {
        self.0.get(p).copied()
    }
    fn u16_at(&self, p: usize) -> Option<usize> {
        Some(u16::from_le_bytes(self.0.get(p..p.checked_add(2)?)?.try_into().ok()?) as usize)
    }
    fn u32_at(&self, p: usize) -> Option<usize> {
        Some(u32::from_le_bytes(self.0.get(p..p.checked_add(4)?)?.try_into().ok()?) as usize)
    }
    fn i32_at(&self, p: usize) -> Option<i32> {
        Some(i32::from_le_bytes(
            self.0.get(p..p.checked_add(4)?)?.try_into().ok()?,
        ))
    }

    /// The vtable of the table at `t`: (position, vtable size, object size).
    fn vtable(&self, t: usize) -> Option<(usize, usize, usize)> {
        let vt = (t as i64).checked_sub(self.i32_at(t)? as i64)?;
        let vt = usize::try_from(vt).ok()?;
        Some((vt, self.u16_at(vt)?, self.u16_at(vt + 2)?))
    }

    /// Position of field `i` of the table at `t`, if present.
    fn field(&self, t: usize, i: usize) -> Option<usize> {
        let (vt, vsize, _) = self.vtable(t)?;
        let at = 4 + 2 * i;
        if at + 2 > vsize {
            return None;
        }
        let off = self.u16_at(vt + at)?;
        (off != 0).then_some(t + off)
    }

    /// Follows the offset stored at `p` (to a table, a vector or a string).
    fn follow(&self, p: usize) -> Option<usize> {
        let target = p.checked_add(self.u32_at(p)?)?;
        (target < self.0.len()).then_some(target)
    }

    /// (position of the length, length) of the vector field `i` of the table at `t`.
    fn vector(&self, t: usize, i: usize) -> Option<(usize, usize)> {
        let v = self.follow(self.field(t, i)?)?;
        let len = self.u32_at(v)?;
        (v + 4 + len <= self.0.len()).then_some((v, len))
    }

    /// The tables of the vector-of-tables field `i` of `t`.
    fn tables(&self, t: usize, i: usize) -> Vec<usize> {
        let Some((v, len)) = self.vector(t, i) else {
            return Vec::new();
        };
        (0..len.min(MAX_ELEMENTS))
            .filter_map(|k| self.follow(v + 4 + 4 * k))
            .collect()
    }
}

/// Lists the mutable spots of `bytes`, or `None` if it is not a model this walker can read.
pub fn sites(bytes: &[u8]) -> Option<Sites> {
    let r = Reader(bytes);
    if bytes.get(4..8)? != b"TFL3" {
        return None;
    }
    let root = r.follow(0)?;
    let mut s = Sites::default();
    let mut add = |s: &mut Sites, pos: usize, kind: Kind| {
        let width = match kind {
            Kind::TensorType
            | Kind::DeprecatedBuiltinCode
            | Kind::OptionsType
            | Kind::Byte(_)
            | Kind::DataByte => 1,
            Kind::Short => 2,
            Kind::ZeroPoint | Kind::ConstInt64 | Kind::Long => 8,
            Kind::OptionField(n) => n as usize,
            _ => 4,
        };
        if pos + width <= bytes.len() {
            s.sites.push(Site { pos, kind });
        }
    };
    // A vector of 4-byte elements: its length and (some of) its elements.
    let vector_sites = |s: &mut Sites, add: &mut dyn FnMut(&mut Sites, usize, Kind), t, i, k| {
        if let Some((v, len)) = r.vector(t, i) {
            add(s, v, Kind::VectorLength(len as u32));
            for e in 0..len.min(MAX_ELEMENTS) {
                add(s, v + 4 + 4 * e, k);
            }
        }
    };
    // A string or byte vector: its bytes (at most MAX_BYTES of them), and for a byte vector
    // (custom options, custom quantization) its length.
    let byte_sites =
        |s: &mut Sites, add: &mut dyn FnMut(&mut Sites, usize, Kind), t, i, length: bool| {
            if let Some((v, len)) = r.vector(t, i) {
                if length && len > 0 {
                    add(s, v, Kind::VectorLength(len as u32));
                }
                for e in 0..len.min(MAX_BYTES) {
                    add(s, v + 4 + e, Kind::DataByte);
                }
            }
        };
    // A scalar field, if present.
    let scalar = |s: &mut Sites, add: &mut dyn FnMut(&mut Sites, usize, Kind), t, i, k| {
        if let Some(p) = r.field(t, i) {
            add(s, p, k);
        }
    };
    // A scalar field: where it is, or (left out at its default) the table to add it to.
    let field = |s: &mut Sites, add: &mut dyn FnMut(&mut Sites, usize, Kind), t, i, k, a| match r
        .field(t, i)
    {
        Some(p) => add(s, p, k),
        None => add(s, t, Kind::Absent(i as u8, a)),
    };

    scalar(&mut s, &mut add, root, 0, Kind::Int);
    byte_sites(&mut s, &mut add, root, 3, false);

    // Buffers: where each one's data lies (for constant tensors' contents).
    let buffers = r.tables(root, 4);
    s.buffers = buffers.len();
    let buffer_data: Vec<Option<(usize, usize)>> =
        buffers.iter().map(|&b| r.vector(b, 0)).collect();
    for &(v, len) in buffer_data.iter().flatten() {
        if len > 0 {
            add(&mut s, v, Kind::VectorLength(len as u32));
        }
        for e in 0..(len / 4).min(MAX_CONST_ELEMENTS) {
            add(&mut s, v + 4 + 4 * e, Kind::ConstWord);
        }
    }
    for &b in &buffers {
        scalar(&mut s, &mut add, b, 1, Kind::Long);
        scalar(&mut s, &mut add, b, 2, Kind::Long);
    }
    vector_sites(&mut s, &mut add, root, 5, Kind::BufferIndex);
    for m in r.tables(root, 6) {
        byte_sites(&mut s, &mut add, m, 0, false);
        scalar(&mut s, &mut add, m, 1, Kind::BufferIndex);
    }

    // Operator codes.
    let codes = r.tables(root, 1);
    s.opcodes = codes.len();
    for &c in &codes {
        scalar(&mut s, &mut add, c, 0, Kind::DeprecatedBuiltinCode);
        byte_sites(&mut s, &mut add, c, 1, false);
        field(&mut s, &mut add, c, 2, Kind::OpVersion, Absent::OpVersion);
        field(
            &mut s,
            &mut add,
            c,
            3,
            Kind::BuiltinCode,
            Absent::BuiltinCode,
        );
    }

    let subgraphs = r.tables(root, 2);
    s.subgraphs = subgraphs.len();
    for &g in &subgraphs {
        let tensors = r.tables(g, 0);
        s.tensors = s.tensors.max(tensors.len());
        if let Some((v, len)) = r.vector(g, 0) {
            add(&mut s, v, Kind::VectorLength(len as u32));
        }
        byte_sites(&mut s, &mut add, g, 4, false);
        for &t in &tensors {
            vector_sites(&mut s, &mut add, t, 0, Kind::Dim);
            vector_sites(&mut s, &mut add, t, 7, Kind::Dim);
            let ty = r.field(t, 1).and_then(|p| r.u8_at(p));
            field(&mut s, &mut add, t, 1, Kind::TensorType, Absent::TensorType);
            if let Some(p) = r.field(t, 2) {
                add(&mut s, p, Kind::BufferIndex);
                // The contents of a constant int32 (2) or int64 (4) tensor.
                let data = r
                    .u32_at(p)
                    .and_then(|b| buffer_data.get(b).copied().flatten());
                if let (Some((v, len)), Some(ty @ (2 | 4))) = (data, ty) {
                    let (width, kind) = if ty == 2 {
                        (4, Kind::ConstInt32)
                    } else {
                        (8, Kind::ConstInt64)
                    };
                    for e in 0..(len / width).min(MAX_CONST_ELEMENTS) {
                        add(&mut s, v + 4 + width * e, kind);
                    }
                }
            }
            byte_sites(&mut s, &mut add, t, 3, false);
            field(&mut s, &mut add, t, 5, Kind::Byte(1), Absent::Bool);
            field(&mut s, &mut add, t, 8, Kind::Byte(1), Absent::Bool);
            if let Some(q) = r.field(t, 4).and_then(|p| r.follow(p)) {
                for field in [0, 1, 2] {
                    if let Some((v, len)) = r.vector(q, field) {
                        if field != 2 {
                            add(&mut s, v, Kind::VectorLength(len as u32));
                        }
                        for e in 0..len.min(MAX_ELEMENTS) {
                            add(&mut s, v + 4 + 4 * e, Kind::Scale);
                        }
                    }
                }
                if let Some((v, len)) = r.vector(q, 3) {
                    add(&mut s, v, Kind::VectorLength(len as u32));
                    for e in 0..len.min(MAX_ELEMENTS) {
                        add(&mut s, v + 4 + 8 * e, Kind::ZeroPoint);
                    }
                }
                // details: a CustomQuantization's bytes.
                scalar(&mut s, &mut add, q, 4, Kind::Byte(1));
                if let Some(d) = r.field(q, 5).and_then(|p| r.follow(p)) {
                    byte_sites(&mut s, &mut add, d, 0, true);
                }
                let (k, a) = (Kind::QuantizedDimension, Absent::QuantizedDimension);
                field(&mut s, &mut add, q, 6, k, a);
            }
            if let Some(sp) = r.field(t, 6).and_then(|p| r.follow(p)) {
                vector_sites(&mut s, &mut add, sp, 0, Kind::Int);
                vector_sites(&mut s, &mut add, sp, 1, Kind::Int);
                if let Some((v, len)) = r.vector(sp, 2) {
                    add(&mut s, v, Kind::VectorLength(len as u32));
                }
                for dm in r.tables(sp, 2) {
                    scalar(&mut s, &mut add, dm, 0, Kind::Byte(1));
                    scalar(&mut s, &mut add, dm, 1, Kind::Int);
                    for (type_field, table_field) in [(2, 3), (4, 5)] {
                        let ty = r.field(dm, type_field).and_then(|p| r.u8_at(p));
                        scalar(&mut s, &mut add, dm, type_field, Kind::Byte(3));
                        let Some(iv) = r.field(dm, table_field).and_then(|p| r.follow(p)) else {
                            continue;
                        };
                        // Int32Vector (1), Uint16Vector (2), Uint8Vector (3).
                        let Some((v, len)) = r.vector(iv, 0) else {
                            continue;
                        };
                        add(&mut s, v, Kind::VectorLength(len as u32));
                        let (width, kind) = match ty {
                            Some(1) => (4, Kind::Int),
                            Some(2) => (2, Kind::Short),
                            _ => (1, Kind::DataByte),
                        };
                        for e in 0..len.min(MAX_ELEMENTS) {
                            add(&mut s, v + 4 + width * e, kind);
                        }
                    }
                }
            }
            for vt in r.tables(t, 9) {
                vector_sites(&mut s, &mut add, vt, 0, Kind::Dim);
                scalar(&mut s, &mut add, vt, 1, Kind::TensorType);
                scalar(&mut s, &mut add, vt, 2, Kind::Byte(1));
            }
        }
        vector_sites(&mut s, &mut add, g, 1, Kind::TensorIndex);
        vector_sites(&mut s, &mut add, g, 2, Kind::TensorIndex);
        if let Some((v, len)) = r.vector(g, 3) {
            add(&mut s, v, Kind::VectorLength(len as u32));
        }
        for &op in &r.tables(g, 3) {
            field(
                &mut s,
                &mut add,
                op,
                0,
                Kind::OpcodeIndex,
                Absent::OpcodeIndex,
            );
            vector_sites(&mut s, &mut add, op, 1, Kind::TensorIndex);
            vector_sites(&mut s, &mut add, op, 2, Kind::TensorIndex);
            vector_sites(&mut s, &mut add, op, 8, Kind::TensorIndex);
            field(
                &mut s,
                &mut add,
                op,
                3,
                Kind::OptionsType,
                Absent::OptionsType,
            );
            if let Some(o) = r.field(op, 4).and_then(|p| r.follow(p)) {
                option_fields(&r, o, &mut |pos, n| add(&mut s, pos, Kind::OptionField(n)));
                // The options left at their defaults, and two past the last one held.
                if let Some((_, vsize, _)) = r.vtable(o) {
                    for i in 0..(vsize / 2).saturating_sub(2) + 2 {
                        if r.field(o, i).is_none() {
                            add(&mut s, o, Kind::Absent(i as u8, Absent::OptionField));
                        }
                    }
                }
            }
            byte_sites(&mut s, &mut add, op, 5, true);
            scalar(&mut s, &mut add, op, 6, Kind::Byte(0));
            if let Some((v, len)) = r.vector(op, 7) {
                add(&mut s, v, Kind::VectorLength(len as u32));
                for e in 0..len.min(MAX_ELEMENTS) {
                    add(&mut s, v + 4 + e, Kind::Byte(1));
                }
            }
            scalar(&mut s, &mut add, op, 9, Kind::Long);
            scalar(&mut s, &mut add, op, 10, Kind::Long);
        }
    }

    for sig in r.tables(root, 7) {
        for io in [0, 1] {
            for m in r.tables(sig, io) {
                byte_sites(&mut s, &mut add, m, 0, false);
                field(
                    &mut s,
                    &mut add,
                    m,
                    1,
                    Kind::SignatureTensor,
                    Absent::SignatureTensor,
                );
            }
        }
        byte_sites(&mut s, &mut add, sig, 2, false);
        scalar(&mut s, &mut add, sig, 3, Kind::Int);
        field(
            &mut s,
            &mut add,
            sig,
            4,
            Kind::SubgraphIndex,
            Absent::SubgraphIndex,
        );
    }
    Some(s)
}

/// The inline fields of the options table at `t`, each with its width (1, 2, 4 or 8 bytes,
/// from the gap to the next field). Offsets to sub-tables or vectors are listed too:
/// overwriting one is caught by the verifier, which is fine.
fn option_fields(r: &Reader, t: usize, f: &mut dyn FnMut(usize, u8)) {
    let Some((vt, vsize, osize)) = r.vtable(t) else {
        return;
    };
    let mut offs: Vec<usize> = (4..vsize)
        .step_by(2)
        .filter_map(|at| r.u16_at(vt + at))
        .filter(|&o| o >= 4 && o < osize)
        .collect();
    offs.sort_unstable();
    offs.dedup();
    for (k, &o) in offs.iter().enumerate() {
        let end = offs.get(k + 1).copied().unwrap_or(osize);
        let width = match end - o {
            0 => continue,
            1 => 1,
            2 | 3 => 2,
            4..=7 => 4,
            _ => 8,
        };
        f(t + o, width);
    }
}

/// splitmix64.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

fn put(bytes: &mut [u8], pos: usize, value: &[u8]) {
    if let Some(dst) = bytes.get_mut(pos..pos + value.len()) {
        dst.copy_from_slice(value);
    }
}

fn read_i32(bytes: &[u8], pos: usize) -> i32 {
    bytes
        .get(pos..pos + 4)
        .map_or(0, |b| i32::from_le_bytes(b.try_into().unwrap()))
}

/// An index-like value: mostly a valid one (another tensor, buffer, …), sometimes an edge.
fn index(rng: &mut Rng, count: usize) -> i64 {
    match rng.below(10) {
        0..=6 => rng.below(count.max(1)) as i64,
        7 => rng.pick(&[-1, -2]),
        8 => count as i64 + rng.below(3) as i64,
        _ => rng.pick(&[i32::MAX as i64, i32::MIN as i64, u32::MAX as i64]),
    }
}

/// A `TensorType` code: any of the schema's 18 (FLOAT32 = 0 to INT4 = 17: COMPLEX64 = 8,
/// FLOAT64 = 10, COMPLEX128 = 11, UINT64 = 12, RESOURCE = 13, VARIANT = 14, UINT32 = 15,
/// UINT16 = 16), now and then a code past them.
pub fn tensor_type(rng: &mut Rng) -> u8 {
    if rng.below(16) == 0 {
        rng.pick(&[18, 19, 100, 127, 255])
    } else {
        rng.below(18) as u8
    }
}

/// A dimension-like value.
fn dim(rng: &mut Rng, old: i32) -> i32 {
    match rng.below(8) {
        0 => rng.pick(&[0, 1, 2, 3, 4]),
        1 => rng.pick(&[-1, -2, -7]),
        2 => 1 + rng.below(16) as i32,
        3 => rng.pick(&[1 << 16, 1 << 20, 1 << 24, i32::MAX, i32::MIN]),
        4 => old.wrapping_mul(2),
        5 => old.wrapping_add(1),
        6 => old.wrapping_sub(1),
        _ => rng.next_u64() as i32,
    }
}

/// Applies one mutation at a random site; a field the model leaves out is added at the end
/// of `bytes` if that stays within `max_len` bytes (else nothing changes). What it did (the
/// site and the bytes written), or `None` if `bytes` has no site.
pub fn mutate_once(
    bytes: &mut Vec<u8>,
    s: &Sites,
    rng: &mut Rng,
    max_len: usize,
) -> Option<(Site, Vec<u8>)> {
    // Strings' and byte vectors' bytes (mostly names) outnumber every other site: one draw in
    // eight keeps such a site, the others draw again.
    let mut site = s.sites[rng.below(s.sites.len().max(1))];
    for _ in 0..7 {
        if site.kind != Kind::DataByte {
            break;
        }
        site = s.sites[rng.below(s.sites.len())];
    }
    let Site { pos, kind } = site;
    let v = match kind {
        Kind::Absent(field, of) => {
            let kind = of.kind(rng);
            let v = value(kind, 0, bytes.len(), s, rng);
            add_field(bytes, max_len, pos, field as usize, &v);
            v
        }
        kind => {
            let v = value(kind, read_i32(bytes, pos), bytes.len(), s, rng);
            put(bytes, pos, &v);
            v
        }
    };
    Some((site, v))
}

/// The bytes to write at a site of `kind` that holds `old` (its first 4 bytes) in a file of
/// `len` bytes.
fn value(kind: Kind, old: i32, len: usize, s: &Sites, rng: &mut Rng) -> Vec<u8> {
    let mut v = Vec::new();
    let mut out = |b: &[u8]| v.extend_from_slice(b);
    match kind {
        Kind::TensorIndex => out(&(index(rng, s.tensors) as i32).to_le_bytes()),
        Kind::SignatureTensor => out(&(index(rng, s.tensors) as u32).to_le_bytes()),
        Kind::BufferIndex => out(&(index(rng, s.buffers) as u32).to_le_bytes()),
        Kind::OpcodeIndex => out(&(index(rng, s.opcodes) as u32).to_le_bytes()),
        Kind::SubgraphIndex => out(&(index(rng, s.subgraphs) as u32).to_le_bytes()),
        Kind::Dim | Kind::ConstInt32 => out(&dim(rng, old).to_le_bytes()),
        Kind::ConstInt64 => out(&(dim(rng, old) as i64).to_le_bytes()),
        Kind::VectorLength(len) => {
            // Shorter only: a longer vector could run past the buffer or over other data.
            out(&(rng.below(len as usize) as u32).to_le_bytes())
        }
        Kind::TensorType => out(&[tensor_type(rng)]),
        Kind::ConstWord => {
            let v: u32 = match rng.below(4) {
                0 => rng.next_u64() as u32,
                1 => rng
                    .pick(&[
                        f32::NAN,
                        f32::INFINITY,
                        f32::NEG_INFINITY,
                        -0.0,
                        1e38,
                        -1e38,
                        1e-45,
                    ])
                    .to_bits(),
                2 => rng.pick(&[0, 1, u32::MAX, i32::MAX as u32, i32::MIN as u32, 0x80]),
                _ => dim(rng, old) as u32,
            };
            out(&v.to_le_bytes())
        }
        Kind::Int => out(&dim(rng, old).to_le_bytes()),
        Kind::Long => {
            let v: u64 = match rng.below(3) {
                0 => rng.pick(&[0, 1, 2, 4, 16, u64::MAX, i64::MAX as u64, 1 << 32, 1 << 40]),
                1 => rng.below(len + 64) as u64,
                _ => rng.next_u64(),
            };
            out(&v.to_le_bytes())
        }
        Kind::Byte(max) => {
            let v = match rng.below(4) {
                0 => rng.pick(&[255, 128, max.wrapping_add(1), max.wrapping_add(2)]),
                _ => rng.below(max as usize + 1) as u8,
            };
            out(&[v])
        }
        Kind::DataByte => {
            let v = match rng.below(3) {
                0 => rng.pick(&[0, 0xff, 0x80, 0x7f, b'/', b'0']),
                1 => old as u8 ^ (1 << rng.below(8)),
                _ => rng.next_u64() as u8,
            };
            out(&[v])
        }
        Kind::Short => {
            let v = match rng.below(2) {
                0 => rng.pick(&[0u16, 1, 2, 0x7fff, 0xffff]),
                _ => rng.next_u64() as u16,
            };
            out(&v.to_le_bytes())
        }
        Kind::Scale => {
            let f = f32::from_le_bytes(old.to_le_bytes());
            let v = rng.pick(&[
                0.0,
                -1.0,
                f32::NAN,
                f32::INFINITY,
                1e-38,
                1e38,
                f * 1e6,
                f * 1e-6,
            ]);
            out(&v.to_le_bytes())
        }
        Kind::ZeroPoint => {
            let v = rng.pick(&[
                0i64,
                1,
                -1,
                127,
                -128,
                255,
                32767,
                -32768,
                1 << 40,
                i64::MIN,
            ]);
            out(&v.to_le_bytes())
        }
        Kind::QuantizedDimension => out(&rng.pick(&[-1i32, 0, 1, 2, 3, 4, 100]).to_le_bytes()),
        Kind::OpVersion => out(&rng
            .pick(&[0i32, 1, 2, 3, 4, 5, 6, 7, 8, 12, -1, 1000])
            .to_le_bytes()),
        Kind::BuiltinCode => {
            let v = if rng.below(8) == 0 {
                rng.pick(&[-1, 1000, 32])
            } else {
                rng.below(162) as i32
            };
            out(&v.to_le_bytes())
        }
        Kind::DeprecatedBuiltinCode => out(&[rng.below(128) as u8]),
        Kind::OptionsType => out(&[rng.below(130) as u8]),
        Kind::OptionField(width) => {
            let v: i64 = match rng.below(6) {
                0 => rng.pick(&[0, 1, 2, 3, 4, 5, 6]),
                1 => rng.pick(&[-1, -2]),
                2 => rng.next_u64() as i64,
                3 => i64::from(f32::from_le_bytes(old.to_le_bytes()).to_bits() ^ 0x8000_0000),
                4 => i64::from(rng.pick(&[f32::NAN, 0.0, -1.0, 1e30, 1e-30]).to_bits()),
                _ => rng.pick(&[i32::MAX as i64, i32::MIN as i64, 1 << 20, 255, 128]),
            };
            out(&v.to_le_bytes()[..width as usize])
        }
        Kind::Absent(..) => {}
    }
    v
}

/// Adds field `field` to the table at `table`, holding `value`: a copy of its vtable with an
/// entry for the field, and the value, are appended to `bytes` (the table's vtable offset
/// points at the copy; vtables are shared, so the original is left alone). Nothing happens if
/// `bytes` would grow past `max_len`, or the value would lie past what a vtable entry (16
/// bits, from the table's start) can reach.
fn add_field(bytes: &mut Vec<u8>, max_len: usize, table: usize, field: usize, value: &[u8]) {
    let r = Reader(bytes);
    let Some((vt, vsize, osize)) = r.vtable(table) else {
        return;
    };
    let mut entries: Vec<usize> = (4..vsize)
        .step_by(2)
        .map(|at| r.u16_at(vt + at).unwrap_or(0))
        .collect();
    if entries.len() <= field {
        entries.resize(field + 1, 0);
    }
    // The value, 8-aligned, then the vtable.
    let at = bytes.len().next_multiple_of(8);
    let new_vt = at + 8;
    let end = new_vt + 4 + 2 * entries.len();
    let Some(offset) = at.checked_sub(table).filter(|&o| o <= u16::MAX as usize) else {
        return;
    };
    if end > max_len || value.len() > 8 {
        return;
    }
    entries[field] = offset;
    bytes.resize(at, 0);
    bytes.extend_from_slice(value);
    bytes.resize(new_vt, 0);
    bytes.extend_from_slice(&((4 + 2 * entries.len()) as u16).to_le_bytes());
    bytes.extend_from_slice(&(osize as u16).to_le_bytes());
    for e in entries {
        bytes.extend_from_slice(&(e as u16).to_le_bytes());
    }
    let soffset = (table as i64 - new_vt as i64) as i32;
    put(bytes, table, &soffset.to_le_bytes());
}

/// Applies 1 to `max` mutations, chosen by `seed`, growing `bytes` to at most `max_len`.
/// `false` if `bytes` is not a model with anything to mutate (left unchanged then).
pub fn mutate(bytes: &mut Vec<u8>, seed: u64, max: usize, max_len: usize) -> bool {
    mutations(bytes, seed, max, max_len).is_some()
}

/// [`mutate`], saying what it did: each site and the bytes written there.
pub fn mutations(
    bytes: &mut Vec<u8>,
    seed: u64,
    max: usize,
    max_len: usize,
) -> Option<Vec<(Site, Vec<u8>)>> {
    let s = sites(bytes)?;
    if s.sites.is_empty() {
        return None;
    }
    let mut rng = Rng(seed);
    let n = 1 + rng.below(max.max(1));
    (0..n)
        .map(|_| mutate_once(bytes, &s, &mut rng, max_len))
        .collect()
}

/// Sets the `type` of tensor `tensor` of subgraph `subgraph` to `ty`, adding the field if the
/// tensor leaves it out (a float32 one). `false` if there is no such tensor.
pub fn set_tensor_type(bytes: &mut Vec<u8>, subgraph: usize, tensor: usize, ty: u8) -> bool {
    let r = Reader(bytes);
    let Some(root) = r.follow(0) else {
        return false;
    };
    let Some(&g) = r.tables(root, 2).get(subgraph) else {
        return false;
    };
    let Some(&t) = r.tables(g, 0).get(tensor) else {
        return false;
    };
    match r.field(t, 1) {
        Some(p) => put(bytes, p, &[ty]),
        None => add_field(bytes, usize::MAX, t, 1, &[ty]),
    }
    Reader(bytes).field(t, 1).and_then(|p| bytes.get(p)) == Some(&ty)
}
