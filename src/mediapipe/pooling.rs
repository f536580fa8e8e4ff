//! MediaPipe's segmentation operators: max pooling with argmax, unpooling, and the transposed
//! convolution with bias.

use crate::custom_op::{CustomOp, OpContext, OpResult};
use crate::dtype::DataType;
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Padding {
    Same,
    Valid,
}

/// Reads little-endian i32 fields of a C struct stored as custom options.
fn fields(options: &[u8], n: usize, what: &str) -> OpResult<Vec<i32>> {
    if options.len() < 4 * n {
        return Err(format!(
            "{what} options: {} bytes, expected at least {}",
            options.len(),
            4 * n
        )
        .into());
    }
    Ok(options[..4 * n]
        .chunks_exact(4)
        .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

fn padding(v: i32) -> OpResult<Padding> {
    match v {
        1 => Ok(Padding::Same),
        2 => Ok(Padding::Valid),
        _ => Err(format!("unsupported padding {v} (1 = SAME, 2 = VALID)").into()),
    }
}

fn positive(v: i32, what: &str) -> OpResult<usize> {
    if (1..=4096).contains(&v) {
        Ok(v as usize)
    } else {
        Err(format!("{what} {v} is outside 1..=4096").into())
    }
}

/// `TfLitePoolParams`: padding, stride w/h, filter w/h, activation (must be none).
#[derive(Debug)]
pub struct PoolOptions {
    padding: Padding,
    stride: [usize; 2],
    filter: [usize; 2],
}

fn pool_params(options: &[u8]) -> OpResult<PoolOptions> {
    let f = fields(options, 6, "pool")?;
    if f[5] != 0 {
        return Err(format!("fused activation {} is not supported", f[5]).into());
    }
    Ok(PoolOptions {
        padding: padding(f[0])?,
        stride: [
            positive(f[2], "stride height")?,
            positive(f[1], "stride width")?,
        ],
        filter: [
            positive(f[4], "filter height")?,
            positive(f[3], "filter width")?,
        ],
    })
}

/// A rank-4 float32 tensor's shape.
pub(super) fn nhwc(t: &Tensor<'_>, what: &str) -> OpResult<[usize; 4]> {
    let s = t.shape();
    if t.dtype() != DataType::Float32 || s.len() != 4 {
        return Err(format!(
            "{what} must be float32 [N, H, W, C], is {:?} {s:?}",
            t.dtype()
        )
        .into());
    }
    Ok([s[0], s[1], s[2], s[3]])
}

/// Output size and leading padding of a pooling window along one axis (TF's rules).
fn pooled(
    input: usize,
    filter: usize,
    stride: usize,
    padding: Padding,
) -> OpResult<(usize, usize)> {
    match padding {
        Padding::Same => {
            let out = input.div_ceil(stride);
            let total = ((out.max(1) - 1) * stride + filter).saturating_sub(input);
            Ok((out, total / 2))
        }
        Padding::Valid if input >= filter => Ok(((input - filter) / stride + 1, 0)),
        Padding::Valid => {
            Err(format!("input size {input} is smaller than the window {filter}").into())
        }
    }
}

/// `MaxPoolingWithArgmax2D`: max pooling (float32, NHWC) that also outputs where each maximum
/// came from, as TensorFlow's `(y·W + x)·C + c` within the image (float32, or int32 if the
/// indices tensor is int32).
pub struct MaxPoolingWithArgmax2D;

impl CustomOp for MaxPoolingWithArgmax2D {
    type State = PoolOptions;

    fn init(&self, options: &[u8]) -> OpResult<PoolOptions> {
        pool_params(options)
    }

    fn prepare(&self, p: &mut PoolOptions, ctx: &mut OpContext<'_>) -> OpResult {
        if ctx.num_inputs() != 1 || ctx.num_outputs() != 2 {
            return Err("expects 1 input and 2 outputs".into());
        }
        let [n, h, w, c] = nhwc(&ctx.input(0)?, "input")?;
        let (oh, _) = pooled(h, p.filter[0], p.stride[0], p.padding)?;
        let (ow, _) = pooled(w, p.filter[1], p.stride[1], p.padding)?;
        if h.saturating_mul(w).saturating_mul(c) > 1 << 24 {
            return Err(
                "more than 2^24 positions per image: float indices would be inexact".into(),
            );
        }
        for i in 0..2 {
            ctx.resize_output(i, &[n, oh, ow, c])?;
        }
        Ok(())
    }

    fn invoke(&self, p: &mut PoolOptions, ctx: &mut OpContext<'_>) -> OpResult {
        let input = ctx.input(0)?;
        let [n, h, w, c] = nhwc(&input, "input")?;
        let x = input.data::<f32>()?;
        let (oh, pad_y) = pooled(h, p.filter[0], p.stride[0], p.padding)?;
        let (ow, pad_x) = pooled(w, p.filter[1], p.stride[1], p.padding)?;
        let values = ctx.output(0)?.into_data_mut::<f32>()?;
        let mut indices = ctx.output(1)?;
        let index_type = indices.dtype();
        let mut flat = vec![0usize; values.len()];
        for b in 0..n {
            for oy in 0..oh {
                let y0 = (oy * p.stride[0]).saturating_sub(pad_y);
                let y1 = (oy * p.stride[0] + p.filter[0])
                    .saturating_sub(pad_y)
                    .min(h);
                for ox in 0..ow {
                    let x0 = (ox * p.stride[1]).saturating_sub(pad_x);
                    let x1 = (ox * p.stride[1] + p.filter[1])
                        .saturating_sub(pad_x)
                        .min(w);
                    for ch in 0..c {
                        let mut best = (f32::NEG_INFINITY, (y0 * w + x0) * c + ch);
                        for y in y0..y1 {
                            for xx in x0..x1 {
                                let at = (y * w + xx) * c + ch;
                                let v = x[b * h * w * c + at];
                                if v > best.0 {
                                    best = (v, at);
                                }
                            }
                        }
                        let o = ((b * oh + oy) * ow + ox) * c + ch;
                        values[o] = best.0;
                        flat[o] = best.1;
                    }
                }
            }
        }
        match index_type {
            DataType::Float32 => {
                for (d, &i) in indices.data_mut::<f32>()?.iter_mut().zip(&flat) {
                    *d = i as f32;
                }
            }
            DataType::Int32 => {
                for (d, &i) in indices.data_mut::<i32>()?.iter_mut().zip(&flat) {
                    *d = i as i32;
                }
            }
            t => return Err(format!("indices must be float32 or int32, are {t:?}").into()),
        }
        Ok(())
    }
}

/// `MaxUnpooling2D`: scatters each value to the position its index names (the output of
/// [`MaxPoolingWithArgmax2D`]); an index outside the output is an error.
pub struct MaxUnpooling2D;

impl CustomOp for MaxUnpooling2D {
    type State = PoolOptions;

    fn init(&self, options: &[u8]) -> OpResult<PoolOptions> {
        pool_params(options)
    }

    fn prepare(&self, p: &mut PoolOptions, ctx: &mut OpContext<'_>) -> OpResult {
        if ctx.num_inputs() != 2 || ctx.num_outputs() != 1 {
            return Err("expects 2 inputs and 1 output".into());
        }
        let [n, h, w, c] = nhwc(&ctx.input(0)?, "values")?;
        let indices = ctx.input(1)?;
        if indices.shape() != [n, h, w, c] {
            return Err(format!(
                "indices {:?} do not match values {:?}",
                indices.shape(),
                [n, h, w, c]
            )
            .into());
        }
        let size = |i: usize, k: usize, s: usize| match p.padding {
            Padding::Same => i * s,
            Padding::Valid => (i.max(1) - 1) * s + k,
        };
        let (oh, ow) = (
            size(h, p.filter[0], p.stride[0]),
            size(w, p.filter[1], p.stride[1]),
        );
        ctx.resize_output(0, &[n, oh, ow, c])
    }

    fn invoke(&self, _: &mut PoolOptions, ctx: &mut OpContext<'_>) -> OpResult {
        let values = ctx.input(0)?;
        let [n, ..] = nhwc(&values, "values")?;
        let v = values.data::<f32>()?;
        let indices = ctx.input(1)?;
        let idx: Vec<f64> = match indices.dtype() {
            DataType::Float32 => indices.data::<f32>()?.iter().map(|&i| i as f64).collect(),
            DataType::Int32 => indices.data::<i32>()?.iter().map(|&i| i as f64).collect(),
            t => return Err(format!("indices must be float32 or int32, are {t:?}").into()),
        };
        let out = ctx.output(0)?.into_data_mut::<f32>()?;
        out.fill(0.0);
        let (per_in, per_out) = (v.len() / n.max(1), out.len() / n.max(1));
        for (k, (&value, &i)) in v.iter().zip(&idx).enumerate() {
            if !(i >= 0.0 && i < per_out as f64 && i.fract() == 0.0) {
                return Err(format!(
                    "index {i} at {k} is not a position in the {per_out}-element output image"
                )
                .into());
            }
            out[(k / per_in) * per_out + i as usize] = value;
        }
        Ok(())
    }
}

/// `TfLiteTransposeConvParams`: padding, stride w/h.
#[derive(Debug)]
pub struct DeconvOptions {
    padding: Padding,
    stride: [usize; 2],
}

/// Output size and leading padding of a transposed convolution along one axis (MediaPipe's
/// rule: SAME gives `stride * input` when the filter is at least the stride).
fn deconv_size(input: usize, filter: usize, stride: usize, padding: Padding) -> (usize, usize) {
    let total = match padding {
        Padding::Same => (filter + 1).saturating_sub((input.max(1) - 1) % stride + 2),
        Padding::Valid => 0,
    };
    ((input.max(1) - 1) * stride + filter - total, total / 2)
}

/// `Convolution2DTransposeBias`: a transposed convolution (float32, NHWC, OHWI weights) plus
/// a bias.
pub struct Convolution2DTransposeBias;

impl CustomOp for Convolution2DTransposeBias {
    type State = DeconvOptions;

    fn init(&self, options: &[u8]) -> OpResult<DeconvOptions> {
        let f = fields(options, 3, "transpose conv")?;
        Ok(DeconvOptions {
            padding: padding(f[0])?,
            stride: [
                positive(f[2], "stride height")?,
                positive(f[1], "stride width")?,
            ],
        })
    }

    fn prepare(&self, d: &mut DeconvOptions, ctx: &mut OpContext<'_>) -> OpResult {
        if ctx.num_inputs() != 3 || ctx.num_outputs() != 1 {
            return Err("expects 3 inputs (input, weights, bias) and 1 output".into());
        }
        let [n, h, w, i] = nhwc(&ctx.input(0)?, "input")?;
        let [o, kh, kw, wi] = nhwc(&ctx.input(1)?, "weights")?;
        let bias = ctx.input(2)?;
        if wi != i || bias.dtype() != DataType::Float32 || bias.shape() != [o] {
            return Err(format!(
                "weights [{o}, {kh}, {kw}, {wi}] and bias {:?} do not fit an input with {i} channels",
                bias.shape()
            )
            .into());
        }
        let (oh, _) = deconv_size(h, kh, d.stride[0], d.padding);
        let (ow, _) = deconv_size(w, kw, d.stride[1], d.padding);
        ctx.resize_output(0, &[n, oh, ow, o])
    }

    fn invoke(&self, d: &mut DeconvOptions, ctx: &mut OpContext<'_>) -> OpResult {
        let (input, weights, bias) = (ctx.input(0)?, ctx.input(1)?, ctx.input(2)?);
        let [n, h, w, ci] = nhwc(&input, "input")?;
        let [co, kh, kw, _] = nhwc(&weights, "weights")?;
        let (x, k, b) = (
            input.data::<f32>()?,
            weights.data::<f32>()?,
            bias.data::<f32>()?,
        );
        let (oh, pad_y) = deconv_size(h, kh, d.stride[0], d.padding);
        let (ow, pad_x) = deconv_size(w, kw, d.stride[1], d.padding);
        let y = ctx.output(0)?.into_data_mut::<f32>()?;
        if b.len() != co {
            return Err(format!("bias has {} values for {co} output channels", b.len()).into());
        }
        if y.is_empty() {
            return Ok(());
        }
        for px in y.chunks_exact_mut(co) {
            px.copy_from_slice(b);
        }
        for bi in 0..n {
            for iy in 0..h {
                for ix in 0..w {
                    let xin = &x[((bi * h + iy) * w + ix) * ci..][..ci];
                    for fy in 0..kh {
                        let Some(oy) = (iy * d.stride[0] + fy)
                            .checked_sub(pad_y)
                            .filter(|&v| v < oh)
                        else {
                            continue;
                        };
                        for fx in 0..kw {
                            let Some(ox) = (ix * d.stride[1] + fx)
                                .checked_sub(pad_x)
                                .filter(|&v| v < ow)
                            else {
                                continue;
                            };
                            let out = &mut y[((bi * oh + oy) * ow + ox) * co..][..co];
                            for (oc, acc) in out.iter_mut().enumerate() {
                                let kk = &k[((oc * kh + fy) * kw + fx) * ci..][..ci];
                                *acc += xin.iter().zip(kk).map(|(a, b)| a * b).sum::<f32>();
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
