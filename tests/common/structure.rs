//! A structure-aware mutator for `.tflite` files: it keeps a model a valid flatbuffer but changes
//! what it says — a tensor's shape, type, buffer or quantization, an operator's operands or
//! opcode, an op's version or builtin code, a builtin option field, a signature's subgraph or
//! tensor, the contents of a constant int32/int64 tensor (shapes, axes, paddings), and the
//! length of a vector (a rank, an operand list, a buffer). Every edit is in place, so offsets and
//! the verifier's bounds stay intact; only the meaning changes. Used by the `structure` fuzz
//! target (`fuzz/`) and by `tests/structure.rs`.
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
            Kind::TensorType | Kind::DeprecatedBuiltinCode | Kind::OptionsType => 1,
            Kind::ZeroPoint | Kind::ConstInt64 => 8,
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

    // Buffers: where each one's data lies (for constant tensors' contents).
    let buffers = r.tables(root, 4);
    s.buffers = buffers.len();
    let buffer_data: Vec<Option<(usize, usize)>> =
        buffers.iter().map(|&b| r.vector(b, 0)).collect();
    for &(v, len) in buffer_data.iter().flatten() {
        if len > 0 {
            add(&mut s, v, Kind::VectorLength(len as u32));
        }
    }

    // Operator codes.
    let codes = r.tables(root, 1);
    s.opcodes = codes.len();
    for &c in &codes {
        if let Some(p) = r.field(c, 0) {
            add(&mut s, p, Kind::DeprecatedBuiltinCode);
        }
        if let Some(p) = r.field(c, 2) {
            add(&mut s, p, Kind::OpVersion);
        }
        if let Some(p) = r.field(c, 3) {
            add(&mut s, p, Kind::BuiltinCode);
        }
    }

    let subgraphs = r.tables(root, 2);
    s.subgraphs = subgraphs.len();
    for &g in &subgraphs {
        let tensors = r.tables(g, 0);
        s.tensors = s.tensors.max(tensors.len());
        if let Some((v, len)) = r.vector(g, 0) {
            add(&mut s, v, Kind::VectorLength(len as u32));
        }
        for &t in &tensors {
            vector_sites(&mut s, &mut add, t, 0, Kind::Dim);
            vector_sites(&mut s, &mut add, t, 7, Kind::Dim);
            let ty = r.field(t, 1).and_then(|p| r.u8_at(p));
            if let Some(p) = r.field(t, 1) {
                add(&mut s, p, Kind::TensorType);
            }
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
            if let Some(q) = r.field(t, 4).and_then(|p| r.follow(p)) {
                if let Some((v, len)) = r.vector(q, 2) {
                    for e in 0..len.min(MAX_ELEMENTS) {
                        add(&mut s, v + 4 + 4 * e, Kind::Scale);
                    }
                }
                if let Some((v, len)) = r.vector(q, 3) {
                    add(&mut s, v, Kind::VectorLength(len as u32));
                    for e in 0..len.min(MAX_ELEMENTS) {
                        add(&mut s, v + 4 + 8 * e, Kind::ZeroPoint);
                    }
                }
                if let Some(p) = r.field(q, 6) {
                    add(&mut s, p, Kind::QuantizedDimension);
                }
            }
        }
        vector_sites(&mut s, &mut add, g, 1, Kind::TensorIndex);
        vector_sites(&mut s, &mut add, g, 2, Kind::TensorIndex);
        if let Some((v, len)) = r.vector(g, 3) {
            add(&mut s, v, Kind::VectorLength(len as u32));
        }
        for &op in &r.tables(g, 3) {
            if let Some(p) = r.field(op, 0) {
                add(&mut s, p, Kind::OpcodeIndex);
            }
            vector_sites(&mut s, &mut add, op, 1, Kind::TensorIndex);
            vector_sites(&mut s, &mut add, op, 2, Kind::TensorIndex);
            vector_sites(&mut s, &mut add, op, 8, Kind::TensorIndex);
            if let Some(p) = r.field(op, 3) {
                add(&mut s, p, Kind::OptionsType);
            }
            if let Some(o) = r.field(op, 4).and_then(|p| r.follow(p)) {
                option_fields(&r, o, &mut |pos, n| add(&mut s, pos, Kind::OptionField(n)));
            }
        }
    }

    for sig in r.tables(root, 7) {
        for io in [0, 1] {
            for m in r.tables(sig, io) {
                if let Some(p) = r.field(m, 1) {
                    add(&mut s, p, Kind::SignatureTensor);
                }
            }
        }
        if let Some(p) = r.field(sig, 4) {
            add(&mut s, p, Kind::SubgraphIndex);
        }
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

/// Applies one mutation at a random site. `false` if `bytes` has no site.
pub fn mutate_once(bytes: &mut [u8], s: &Sites, rng: &mut Rng) -> bool {
    if s.sites.is_empty() {
        return false;
    }
    let Site { pos, kind } = s.sites[rng.below(s.sites.len())];
    let old = read_i32(bytes, pos);
    match kind {
        Kind::TensorIndex => put(bytes, pos, &(index(rng, s.tensors) as i32).to_le_bytes()),
        Kind::SignatureTensor => put(bytes, pos, &(index(rng, s.tensors) as u32).to_le_bytes()),
        Kind::BufferIndex => put(bytes, pos, &(index(rng, s.buffers) as u32).to_le_bytes()),
        Kind::OpcodeIndex => put(bytes, pos, &(index(rng, s.opcodes) as u32).to_le_bytes()),
        Kind::SubgraphIndex => put(bytes, pos, &(index(rng, s.subgraphs) as u32).to_le_bytes()),
        Kind::Dim | Kind::ConstInt32 => put(bytes, pos, &dim(rng, old).to_le_bytes()),
        Kind::ConstInt64 => put(bytes, pos, &(dim(rng, old) as i64).to_le_bytes()),
        Kind::VectorLength(len) => {
            // Shorter only: a longer vector could run past the buffer or over other data.
            put(bytes, pos, &(rng.below(len as usize) as u32).to_le_bytes())
        }
        Kind::TensorType => put(
            bytes,
            pos,
            &[rng.pick(&[0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 16, 17, 100])],
        ),
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
            put(bytes, pos, &v.to_le_bytes())
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
            put(bytes, pos, &v.to_le_bytes())
        }
        Kind::QuantizedDimension => put(
            bytes,
            pos,
            &rng.pick(&[-1i32, 0, 1, 2, 3, 4, 100]).to_le_bytes(),
        ),
        Kind::OpVersion => put(
            bytes,
            pos,
            &rng.pick(&[0i32, 1, 2, 3, 4, 5, 6, 7, 8, 12, -1, 1000])
                .to_le_bytes(),
        ),
        Kind::BuiltinCode => {
            let v = if rng.below(8) == 0 {
                rng.pick(&[-1, 1000, 32])
            } else {
                rng.below(162) as i32
            };
            put(bytes, pos, &v.to_le_bytes())
        }
        Kind::DeprecatedBuiltinCode => put(bytes, pos, &[rng.below(128) as u8]),
        Kind::OptionsType => put(bytes, pos, &[rng.below(130) as u8]),
        Kind::OptionField(width) => {
            let v: i64 = match rng.below(6) {
                0 => rng.pick(&[0, 1, 2, 3, 4, 5, 6]),
                1 => rng.pick(&[-1, -2]),
                2 => rng.next_u64() as i64,
                3 => i64::from(f32::from_le_bytes(old.to_le_bytes()).to_bits() ^ 0x8000_0000),
                4 => i64::from(rng.pick(&[f32::NAN, 0.0, -1.0, 1e30, 1e-30]).to_bits()),
                _ => rng.pick(&[i32::MAX as i64, i32::MIN as i64, 1 << 20, 255, 128]),
            };
            put(bytes, pos, &v.to_le_bytes()[..width as usize])
        }
    }
    true
}

/// Applies 1 to `max` mutations, chosen by `seed`. `false` if `bytes` is not a model with
/// anything to mutate (left unchanged then).
pub fn mutate(bytes: &mut [u8], seed: u64, max: usize) -> bool {
    let Some(s) = sites(bytes) else {
        return false;
    };
    let mut rng = Rng(seed);
    let n = 1 + rng.below(max.max(1));
    (0..n).all(|_| mutate_once(bytes, &s, &mut rng))
}
