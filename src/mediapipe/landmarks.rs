//! MediaPipe's landmark operators: the crop matrix from landmarks, landmarks through a matrix,
//! and an image sampled through a matrix.

use super::pooling::nhwc;
use crate::custom_op::{CustomOp, OpContext, OpResult};
use crate::dtype::DataType;
use crate::schema::flexbuffer::Options;
use crate::tensor::Tensor;

/// A float32 tensor of `rank` dimensions.
fn float_of_rank(t: &Tensor<'_>, rank: usize, what: &str) -> OpResult<Vec<usize>> {
    let s = t.shape();
    if t.dtype() != DataType::Float32 || s.len() != rank {
        return Err(format!(
            "{what} must be a float32 tensor of rank {rank}, is {:?} {s:?}",
            t.dtype()
        )
        .into());
    }
    Ok(s)
}

/// The first two rows of a 4×4 float32 transformation matrix (row-major).
fn matrix_rows(t: &Tensor<'_>) -> OpResult<[[f32; 4]; 2]> {
    let m = t
        .data::<f32>()
        .ok()
        .filter(|m| m.len() == 16)
        .ok_or_else(|| {
            format!(
                "the transformation matrix must be 16 float32 values, is {:?} {:?}",
                t.dtype(),
                t.shape()
            )
        })?;
    Ok([[m[0], m[1], m[2], m[3]], [m[4], m[5], m[6], m[7]]])
}

/// MediaPipe's 4-term dot product, summed left to right in float32.
fn dot4(a: [f32; 4], b: [f32; 4]) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3]
}

/// A row-major 4×4 matrix product in float32, each sum over k in order (MediaPipe's `Mat4`).
fn mat4_mul(a: &[f32; 16], b: &[f32; 16]) -> [f32; 16] {
    let mut r = [0f32; 16];
    for row in 0..4 {
        for col in 0..4 {
            let mut sum = 0f32;
            for k in 0..4 {
                sum += a[row * 4 + k] * b[k * 4 + col];
            }
            r[row * 4 + col] = sum;
        }
    }
    r
}

/// The options of `Landmarks2TransformMatrix` (version 2).
#[derive(Debug)]
pub struct LandmarksToMatrixOptions {
    /// Landmark index pairs whose rotated bounding box is the crop (an odd count repeats the
    /// last index, as MediaPipe does).
    subset: Vec<usize>,
    left: usize,
    right: usize,
    target_rotation: f32,
    output_size: [f32; 2],
    scale: [f32; 2],
}

fn index(v: i32, what: &str) -> OpResult<usize> {
    usize::try_from(v).map_err(|_| format!("{what} {v} is negative").into())
}

/// `Landmarks2TransformMatrix` (version 2): from landmarks `[1, N, 3]` (x, y, z each), the 4×4
/// matrix `[1, 4, 4]` that maps an `output_width × output_height` crop's pixel coordinates
/// into the landmarks' space: the crop is the bounding box of the `subset_idxs` landmarks in
/// a frame rotated so that the line from `left_rotation_idx` to `right_rotation_idx` lies at
/// `target_rotation_radians`, scaled by `scale_x`/`scale_y`.
pub struct Landmarks2TransformMatrix;

impl CustomOp for Landmarks2TransformMatrix {
    type State = LandmarksToMatrixOptions;

    fn init(&self, options: &[u8]) -> OpResult<LandmarksToMatrixOptions> {
        let o = Options::parse(options)?;
        let mut subset = o
            .require("subset_idxs")?
            .as_i32s()?
            .into_iter()
            .map(|i| index(i, "subset index"))
            .collect::<OpResult<Vec<_>>>()?;
        if subset.is_empty() {
            return Err("subset_idxs is empty".into());
        }
        if subset.len() % 2 == 1 {
            subset.push(subset[subset.len() - 1]);
        }
        let positive_int = |key: &str| -> OpResult<f32> {
            let v = o.require(key)?.as_i32()?;
            if v > 0 {
                Ok(v as f32)
            } else {
                Err(format!("{key} {v} is not positive").into())
            }
        };
        let positive_float = |key: &str| -> OpResult<f32> {
            let v = o.require(key)?.as_f32()?;
            if v > 0.0 && v.is_finite() {
                Ok(v)
            } else {
                Err(format!("{key} {v} is not a positive number").into())
            }
        };
        Ok(LandmarksToMatrixOptions {
            subset,
            left: index(
                o.require("left_rotation_idx")?.as_i32()?,
                "left_rotation_idx",
            )?,
            right: index(
                o.require("right_rotation_idx")?.as_i32()?,
                "right_rotation_idx",
            )?,
            target_rotation: o.require("target_rotation_radians")?.as_f32()?,
            output_size: [
                positive_int("output_width")?,
                positive_int("output_height")?,
            ],
            scale: [positive_float("scale_x")?, positive_float("scale_y")?],
        })
    }

    fn prepare(&self, o: &mut LandmarksToMatrixOptions, ctx: &mut OpContext<'_>) -> OpResult {
        if ctx.num_inputs() != 1 || ctx.num_outputs() != 1 {
            return Err("expects 1 input (landmarks) and 1 output".into());
        }
        let input = ctx.input(0)?;
        float_of_rank(&input, 3, "landmarks")?;
        let count = input.shape().iter().product::<usize>() / 3;
        let highest = o.subset.iter().chain([&o.left, &o.right]).max().copied();
        if let Some(i) = highest.filter(|&i| i >= count) {
            return Err(format!(
                "landmark index {i} is past the input's {count} landmarks {:?}",
                input.shape()
            )
            .into());
        }
        ctx.resize_output(0, &[1, 4, 4])
    }

    fn invoke(&self, o: &mut LandmarksToMatrixOptions, ctx: &mut OpContext<'_>) -> OpResult {
        let input = ctx.input(0)?;
        let l = input.data::<f32>()?;
        let xy = |i: usize| -> OpResult<[f32; 2]> {
            l.get(i * 3..i * 3 + 2)
                .map(|p| [p[0], p[1]])
                .ok_or_else(|| format!("landmark {i} is past the input").into())
        };
        let ([lx, ly], [rx, ry]) = (xy(o.left)?, xy(o.right)?);
        let r = o.target_rotation - (ry - ly).atan2(rx - lx);
        // The subset's landmarks in the rotated frame: x' = x cos r - y sin r, y' = x sin r +
        // y cos r (MediaPipe's Mat3 times (x, y, 1), summed in order).
        let (c, s) = (r.cos(), r.sin());
        let rotate = |[x, y]: [f32; 2], c: f32, s: f32| -> [f32; 2] {
            [x * c + y * -s + 1.0 * 0.0, x * s + y * c + 1.0 * 0.0]
        };
        let mut points = o.subset.iter().map(|&i| xy(i).map(|p| rotate(p, c, s)));
        let first = points.next().ok_or("subset_idxs is empty")??;
        let (mut lo, mut hi) = (first, first);
        for p in points {
            let p = p?;
            for k in 0..2 {
                if hi[k] < p[k] {
                    hi[k] = p[k];
                }
                if lo[k] > p[k] {
                    lo[k] = p[k];
                }
            }
        }
        let (width, height) = (hi[0] - lo[0], hi[1] - lo[1]);
        let (cr, sr) = ((-r).cos(), (-r).sin());
        let center = rotate([(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0], cr, sr);
        let [ow, oh] = o.output_size;
        let (sx, sy) = (o.scale[0] * width / ow, o.scale[1] * height / oh);
        #[rustfmt::skip]
        let steps: [[f32; 16]; 4] = [
            [1.0, 0.0, 0.0, center[0], 0.0, 1.0, 0.0, center[1],
             0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0],
            [cr, -sr, 0.0, 0.0, sr, cr, 0.0, 0.0,
             0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0],
            [sx, 0.0, 0.0, 0.0, 0.0, sy, 0.0, 0.0,
             0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0],
            [1.0, 0.0, 0.0, -(ow / 2.0), 0.0, 1.0, 0.0, -(oh / 2.0),
             0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0],
        ];
        #[rustfmt::skip]
        let mut t = [1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0,
                     0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0];
        for step in &steps {
            t = mat4_mul(&t, step);
        }
        ctx.output(0)?.copy_from_slice(&t)?;
        Ok(())
    }
}

/// `TransformLandmarks` (version 2): landmarks `[B, N, D]` (D = 2 or 3) mapped through a 4×4
/// matrix's first two rows: `x' = m00 x + m01 y + m03`, `y' = m10 x + m11 y + m13`; z is kept.
/// The output has the input's shape. (MediaPipe transforms the first of B rows only; every
/// row is transformed here.)
pub struct TransformLandmarks;

impl CustomOp for TransformLandmarks {
    type State = ();

    fn init(&self, _options: &[u8]) -> OpResult<()> {
        Ok(())
    }

    fn prepare(&self, _: &mut (), ctx: &mut OpContext<'_>) -> OpResult {
        if ctx.num_inputs() != 2 || ctx.num_outputs() != 1 {
            return Err("expects 2 inputs (landmarks, matrix) and 1 output".into());
        }
        let shape = float_of_rank(&ctx.input(0)?, 3, "landmarks")?;
        if !matches!(shape[2], 2 | 3) {
            return Err(format!("landmarks have {} dimensions, not 2 or 3", shape[2]).into());
        }
        float_of_rank(&ctx.input(1)?, 3, "matrix")?;
        ctx.resize_output(0, &shape)
    }

    fn invoke(&self, _: &mut (), ctx: &mut OpContext<'_>) -> OpResult {
        let input = ctx.input(0)?;
        let d = input.shape()[2];
        let l = input.data::<f32>()?;
        let [mx, my] = matrix_rows(&ctx.input(1)?)?;
        let out = ctx.output(0)?.into_data_mut::<f32>()?;
        if out.len() != l.len() {
            return Err("output and landmarks differ in size".into());
        }
        for (o, p) in out.chunks_exact_mut(d).zip(l.chunks_exact(d)) {
            let v = [p[0], p[1], 0.0, 1.0];
            o[0] = dot4(mx, v);
            o[1] = dot4(my, v);
            if d == 3 {
                o[2] = p[2];
            }
        }
        Ok(())
    }
}

/// `TransformTensorBilinear` (version 2): samples an image `[B, H, W, C]` at the positions a
/// 4×4 matrix maps each output pixel to (its first two rows, applied to pixel centres: the
/// matrix is corrected by half a pixel on both sides), bilinearly, into an output of the shape
/// the model declares, `[B, h, w, C]`; positions outside the image give 0.
pub struct TransformTensorBilinear;

impl CustomOp for TransformTensorBilinear {
    type State = ();

    fn init(&self, _options: &[u8]) -> OpResult<()> {
        Ok(())
    }

    fn prepare(&self, _: &mut (), ctx: &mut OpContext<'_>) -> OpResult {
        if ctx.num_inputs() != 2 || ctx.num_outputs() != 1 {
            return Err("expects 2 inputs (image, matrix) and 1 output".into());
        }
        let [n, _, _, c] = nhwc(&ctx.input(0)?, "image")?;
        float_of_rank(&ctx.input(1)?, 3, "matrix")?;
        let [on, _, _, oc] = nhwc(&ctx.output(0)?.as_tensor(), "output")?;
        if on != n || oc != c {
            return Err(format!(
                "the output's batch and channels ({on}, {oc}) differ from the image's ({n}, {c})"
            )
            .into());
        }
        Ok(())
    }

    fn invoke(&self, _: &mut (), ctx: &mut OpContext<'_>) -> OpResult {
        let image = ctx.input(0)?;
        let [n, h, w, c] = nhwc(&image, "image")?;
        let x = image.data::<f32>()?;
        let [mut mx, mut my] = matrix_rows(&ctx.input(1)?)?;
        // Pixel centres: T -> S·T·A with A = +0.5 and S = -0.5 on x and y (computed in double,
        // rounded to float, as MediaPipe's kernel does).
        for m in [&mut mx, &mut my] {
            m[3] = (m[3] as f64 + (m[0] as f64 * 0.5 + m[1] as f64 * 0.5 - 0.5)) as f32;
        }
        let mut output = ctx.output(0)?;
        let [_, oh, ow, _] = nhwc(&output.as_tensor(), "output")?;
        let out = output.data_mut::<f32>()?;
        let at = |b: usize, yy: i64, xx: i64, ch: usize| -> f32 {
            if yy < 0 || xx < 0 || yy >= h as i64 || xx >= w as i64 {
                0.0
            } else {
                x[((b * h + yy as usize) * w + xx as usize) * c + ch]
            }
        };
        for b in 0..n {
            for oy in 0..oh {
                for ox in 0..ow {
                    let p = [ox as f32, oy as f32, 0.0, 1.0];
                    let (tx, ty) = (dot4(mx, p), dot4(my, p));
                    let inside =
                        tx >= 0.0 && tx <= (w as f32 - 1.0) && ty >= 0.0 && ty <= (h as f32 - 1.0);
                    let px = &mut out[((b * oh + oy) * ow + ox) * c..][..c];
                    if !inside {
                        px.fill(0.0);
                        continue;
                    }
                    let (fx, fy) = (tx.floor(), ty.floor());
                    let (right, lower) = (tx - fx, ty - fy);
                    let (x0, y0) = (fx as i64, fy as i64);
                    // MediaPipe's mix of precisions, kept for equal results: `(1.0 - a) * q`
                    // is double, `a * q` float, each sum rounded to float.
                    let mix = |a: f32, q0: f32, q1: f32| -> f32 {
                        ((1.0 - a as f64) * q0 as f64 + (a * q1) as f64) as f32
                    };
                    for (ch, v) in px.iter_mut().enumerate() {
                        let upper = mix(right, at(b, y0, x0, ch), at(b, y0, x0 + 1, ch));
                        let below = mix(right, at(b, y0 + 1, x0, ch), at(b, y0 + 1, x0 + 1, ch));
                        *v = ((lower * below) as f64 + (1.0 - lower as f64) * upper as f64) as f32;
                    }
                }
            }
        }
        Ok(())
    }
}
