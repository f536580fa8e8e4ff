//! An HTTP inference server for a `.tflite` model (see `lib.rs` for the routes).
//!
//!     cargo run --release --manifest-path examples/serve/Cargo.toml -- MODEL \
//!         [--addr 127.0.0.1:8080] [--pool N] [--threads N] [--batch N] [--max-body BYTES]
//!         [--timeout-ms MS]
//!
//!     curl -s localhost:8080/v1/model
//!     curl -s -H 'content-type: application/json' -d '{"inputs": [[0, 0.5, ...]]}' \
//!         localhost:8080/v1/predict

use std::time::Duration;
use tflite_serve::{app, Config};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut model = None;
    let mut addr = "127.0.0.1:8080".to_string();
    let mut config = Config::default();
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--addr" => addr = value("--addr")?,
            "--pool" => config.pool = value("--pool")?.parse()?,
            "--threads" => config.threads = value("--threads")?.parse()?,
            "--max-body" => config.max_body = value("--max-body")?.parse()?,
            "--batch" => config.batch = Some(value("--batch")?.parse()?),
            "--timeout-ms" => {
                config.timeout = Duration::from_millis(value("--timeout-ms")?.parse()?)
            }
            s if s.starts_with("--") => return Err(format!("unknown option {s}").into()),
            s => model = Some(s.to_string()),
        }
    }
    let model = tflite::Model::from_file(model.ok_or("usage: serve MODEL [options]")?)?;
    let router = app(&model, &config)?;
    tokio::runtime::Runtime::new()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        eprintln!("serving {} on http://{addr} ({config:?})", model.origin());
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        Ok(())
    })
}
