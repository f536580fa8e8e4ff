//! An HTTP inference server over a [`tflite::Pool`]: the routes, as an `axum` router.
//!
//! - `GET /v1/model`: the model's inputs and outputs (name, dtype, shape).
//! - `POST /v1/predict` with `Content-Type: application/json` and
//!   `{"inputs": [[...], ...]}` (one flat array per input, in order) or
//!   `{"inputs": {"name": [...], ...}}`: answers `{"outputs": [{"name", "dtype", "shape",
//!   "data"}, ...]}`.
//! - `POST /v1/predict` with `Content-Type: application/x-npy` and one `.npy` array (models with
//!   one input): answers output 0 as `.npy`.
//!
//! Status codes: 400 a body that does not parse, 404 another path, 405 another method, 413 a
//! body over the limit, 415 another content type, 422 inputs of the wrong count, length, shape or
//! type, 500 an inference error, 504 an inference over its deadline.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use npyz::WriterBuilder;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tflite::{DataType, Error, Interpreter, Model, Pool, TensorInfo};

/// What the handlers share.
pub struct Server {
    pool: Pool,
    inputs: Vec<TensorInfo>,
    outputs: Vec<TensorInfo>,
    /// Per-inference deadline.
    timeout: Duration,
}

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Interpreters in the pool (concurrent inferences).
    pub pool: usize,
    /// Threads per interpreter.
    pub threads: usize,
    /// Largest request body, in bytes.
    pub max_body: usize,
    /// Per-inference deadline.
    pub timeout: Duration,
    /// Serve this batch size: every input's first dimension is resized to it.
    pub batch: Option<usize>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            pool: 2,
            threads: 1,
            max_body: 1 << 20,
            timeout: Duration::from_secs(10),
            batch: None,
        }
    }
}

/// The router for `model`.
pub fn app(model: &Model, config: &Config) -> tflite::Result<Router> {
    let (threads, batch) = (config.threads, config.batch);
    let pool = Pool::new(model, config.pool, move |m| {
        let mut it = Interpreter::builder(m).num_threads(threads).build()?;
        if let Some(batch) = batch {
            for k in 0..it.input_count() {
                let mut shape = it.input(k)?.shape();
                if let Some(first) = shape.first_mut() {
                    *first = batch;
                }
                it.resize_input(k, &shape)?;
            }
        }
        it.allocate_tensors()?;
        Ok(it)
    });
    // One interpreter up front: a model that cannot run fails at start, not per request.
    let (inputs, outputs) = pool.run(|it| {
        let infos = |ts: Vec<tflite::Tensor<'_>>| ts.iter().map(|t| t.info()).collect::<Vec<_>>();
        Ok((infos(it.inputs()), infos(it.outputs())))
    })?;
    let server = Arc::new(Server {
        pool,
        inputs,
        outputs,
        timeout: config.timeout,
    });
    Ok(Router::new()
        .route("/v1/model", get(describe))
        .route("/v1/predict", post(predict))
        .layer(DefaultBodyLimit::max(config.max_body))
        .with_state(server))
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(json!({ "error": message.to_string() }))).into_response()
}

fn tensor_json(t: &TensorInfo) -> Value {
    json!({ "name": t.name, "dtype": format!("{:?}", t.dtype), "shape": t.shape })
}

async fn describe(State(s): State<Arc<Server>>) -> Json<Value> {
    Json(json!({
        "inputs": s.inputs.iter().map(tensor_json).collect::<Vec<_>>(),
        "outputs": s.outputs.iter().map(tensor_json).collect::<Vec<_>>(),
    }))
}

/// An input as the request gave it, checked against the model.
enum Data {
    F32(Vec<f32>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    U8(Vec<u8>),
    I8(Vec<i8>),
}

/// What a failed request gets.
struct Reject(StatusCode, String);

impl From<Error> for Reject {
    fn from(e: Error) -> Self {
        let status = match e {
            Error::DeadlineExceeded { .. } | Error::Cancelled => StatusCode::GATEWAY_TIMEOUT,
            Error::LengthMismatch { .. }
            | Error::DtypeMismatch { .. }
            | Error::InvalidShape { .. }
            | Error::NoSuchName { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Reject(status, e.to_string())
    }
}

fn unprocessable(message: String) -> Reject {
    Reject(StatusCode::UNPROCESSABLE_ENTITY, message)
}

async fn predict(State(s): State<Arc<Server>>, headers: HeaderMap, body: Bytes) -> Response {
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let npy = match kind.as_str() {
        "application/json" => false,
        "application/x-npy" | "application/octet-stream" => true,
        other => {
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("content type {other:?}: send application/json or application/x-npy"),
            )
        }
    };
    let parsed = if npy {
        parse_npy(&s, &body)
    } else {
        parse_json(&s, &body)
    };
    let inputs = match parsed {
        Ok(inputs) => inputs,
        Err(Reject(status, message)) => return error(status, message),
    };
    let server = Arc::clone(&s);
    // Inference blocks: off the async workers. The pool waits (first come, first served)
    // when every interpreter is busy.
    let result = tokio::task::spawn_blocking(move || run(&server, inputs)).await;
    match result {
        Ok(Ok(outputs)) if npy => npy_response(&outputs[0], &s.outputs[0].shape),
        Ok(Ok(outputs)) => {
            let outputs: Vec<Value> = s
                .outputs
                .iter()
                .zip(outputs)
                .map(|(info, data)| {
                    let mut t = tensor_json(info);
                    t["data"] = data_json(&data);
                    t
                })
                .collect();
            Json(json!({ "outputs": outputs })).into_response()
        }
        Ok(Err(Reject(status, message))) => error(status, message),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("inference task: {e}"),
        ),
    }
}

fn run(s: &Server, inputs: Vec<Data>) -> Result<Vec<Data>, Reject> {
    Ok(s.pool.run(|it| {
        for (k, data) in inputs.iter().enumerate() {
            let mut t = it.input_mut(k)?;
            match data {
                Data::F32(v) => t.copy_from_slice(v)?,
                Data::I32(v) => t.copy_from_slice(v)?,
                Data::I64(v) => t.copy_from_slice(v)?,
                Data::U8(v) => t.copy_from_slice(v)?,
                Data::I8(v) => t.copy_from_slice(v)?,
            }
        }
        it.invoke_with_timeout(s.timeout)?;
        it.outputs()
            .iter()
            .map(|t| {
                Ok(match t.dtype() {
                    DataType::Float32 => Data::F32(t.to_vec()?),
                    DataType::Int32 => Data::I32(t.to_vec()?),
                    DataType::Int64 => Data::I64(t.to_vec()?),
                    DataType::UInt8 => Data::U8(t.to_vec()?),
                    DataType::Int8 => Data::I8(t.to_vec()?),
                    other => {
                        return Err(Error::InvalidData {
                            tensor: t.name(),
                            reason: format!("{other:?} outputs are not served"),
                        })
                    }
                })
            })
            .collect::<tflite::Result<Vec<Data>>>()
    })?)
}

fn data_json(d: &Data) -> Value {
    match d {
        Data::F32(v) => json!(v),
        Data::I32(v) => json!(v),
        Data::I64(v) => json!(v),
        Data::U8(v) => json!(v),
        Data::I8(v) => json!(v),
    }
}

/// `{"inputs": [[...], ...]}` or `{"inputs": {"name": [...]}}`, checked against the model.
fn parse_json(s: &Server, body: &[u8]) -> Result<Vec<Data>, Reject> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| Reject(StatusCode::BAD_REQUEST, format!("body is not JSON: {e}")))?;
    let arrays: Vec<&Value> = match &v["inputs"] {
        Value::Array(a) => a.iter().collect(),
        Value::Object(named) => {
            let mut out = Vec::new();
            for info in &s.inputs {
                out.push(named.get(&info.name).ok_or_else(|| {
                    unprocessable(format!("no input named {:?} in the request", info.name))
                })?);
            }
            if named.len() != s.inputs.len() {
                return Err(unprocessable(format!(
                    "{} named inputs given, the model has {}",
                    named.len(),
                    s.inputs.len()
                )));
            }
            out
        }
        _ => {
            return Err(Reject(
                StatusCode::BAD_REQUEST,
                "expected {\"inputs\": [[...], ...]} or {\"inputs\": {\"name\": [...]}}".into(),
            ))
        }
    };
    if arrays.len() != s.inputs.len() {
        return Err(unprocessable(format!(
            "{} inputs given, the model has {}",
            arrays.len(),
            s.inputs.len()
        )));
    }
    s.inputs
        .iter()
        .zip(arrays)
        .map(|(info, a)| {
            let items = a.as_array().ok_or_else(|| {
                unprocessable(format!(
                    "input {:?} must be a flat array of numbers",
                    info.name
                ))
            })?;
            if items.len() != info.num_elements() {
                return Err(unprocessable(format!(
                    "input {:?} (shape {:?}) takes {} values, {} given",
                    info.name,
                    info.shape,
                    info.num_elements(),
                    items.len()
                )));
            }
            let bad = |k: usize| {
                unprocessable(format!(
                    "input {:?} element {k} is not a {:?} value",
                    info.name, info.dtype
                ))
            };
            fn ints<T: TryFrom<i64>>(
                items: &[Value],
                bad: impl Fn(usize) -> Reject,
            ) -> Result<Vec<T>, Reject> {
                items
                    .iter()
                    .enumerate()
                    .map(|(k, x)| {
                        x.as_i64()
                            .and_then(|i| T::try_from(i).ok())
                            .ok_or_else(|| bad(k))
                    })
                    .collect()
            }
            Ok(match info.dtype {
                DataType::Float32 => Data::F32(
                    items
                        .iter()
                        .enumerate()
                        .map(|(k, x)| x.as_f64().map(|f| f as f32).ok_or_else(|| bad(k)))
                        .collect::<Result<_, _>>()?,
                ),
                DataType::Int32 => Data::I32(ints(items, bad)?),
                DataType::Int64 => Data::I64(ints(items, bad)?),
                DataType::UInt8 => Data::U8(ints(items, bad)?),
                DataType::Int8 => Data::I8(ints(items, bad)?),
                other => return Err(unprocessable(format!("{other:?} inputs are not served"))),
            })
        })
        .collect()
}

/// One `.npy` array for a one-input model: its dtype and shape must be the input's.
fn parse_npy(s: &Server, body: &[u8]) -> Result<Vec<Data>, Reject> {
    let [info] = s.inputs.as_slice() else {
        return Err(unprocessable(format!(
            "the model has {} inputs; send JSON",
            s.inputs.len()
        )));
    };
    let npy = npyz::NpyFile::new(body)
        .map_err(|e| Reject(StatusCode::BAD_REQUEST, format!("body is not .npy: {e}")))?;
    let shape: Vec<usize> = npy.shape().iter().map(|d| *d as usize).collect();
    if shape != info.shape {
        return Err(unprocessable(format!(
            "array of shape {shape:?}, input {:?} has shape {:?}",
            info.name, info.shape
        )));
    }
    // The header's `descr`, e.g. `'<f4'` (quoted, as Python writes it).
    let dtype = npy.dtype().descr().trim_matches('\'').to_string();
    let wrong = || {
        unprocessable(format!(
            "array of dtype {dtype}, input {:?} is {:?}",
            info.name, info.dtype
        ))
    };
    let bad = |e: std::io::Error| Reject(StatusCode::BAD_REQUEST, format!("bad .npy data: {e}"));
    Ok(vec![match (info.dtype, dtype.as_str()) {
        (DataType::Float32, "<f4") => Data::F32(npy.into_vec().map_err(bad)?),
        (DataType::Int32, "<i4") => Data::I32(npy.into_vec().map_err(bad)?),
        (DataType::Int64, "<i8") => Data::I64(npy.into_vec().map_err(bad)?),
        (DataType::UInt8, "|u1") => Data::U8(npy.into_vec().map_err(bad)?),
        (DataType::Int8, "|i1") => Data::I8(npy.into_vec().map_err(bad)?),
        _ => return Err(wrong()),
    }])
}

fn npy_response(d: &Data, shape: &[usize]) -> Response {
    fn write<T: npyz::AutoSerialize + Copy>(v: &[T], shape: &[usize]) -> std::io::Result<Vec<u8>> {
        let mut out = std::io::Cursor::new(Vec::new());
        let shape: Vec<u64> = shape.iter().map(|d| *d as u64).collect();
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&shape)
            .writer(&mut out)
            .begin_nd()?;
        w.extend(v.iter().copied())?;
        w.finish()?;
        Ok(out.into_inner())
    }
    let bytes = match d {
        Data::F32(v) => write(v, shape),
        Data::I32(v) => write(v, shape),
        Data::I64(v) => write(v, shape),
        Data::U8(v) => write(v, shape),
        Data::I8(v) => write(v, shape),
    };
    match bytes {
        Ok(b) => ([(header::CONTENT_TYPE, "application/x-npy")], b).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}
