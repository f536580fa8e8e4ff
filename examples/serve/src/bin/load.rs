//! A bounded load test on loopback: for each pool size, starts the server on 127.0.0.1 (an
//! ephemeral port), runs `--clients` keep-alive HTTP/1.1 clients posting the same JSON request
//! for `--seconds`, and prints throughput and p50/p99 latency as a Markdown table.
//!
//!     cargo run --release --manifest-path examples/serve/Cargo.toml --bin load -- MODEL \
//!         [--pools 1,2,4] [--clients 8] [--seconds 5] [--threads 1]
//!
//! The request's input values are deterministic (one flat array per model input). Exits
//! non-zero if any request failed.

use std::time::{Duration, Instant};
use tflite_serve::{app, Config};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// One keep-alive client: sends `request` until `until`, returns its latencies and failures.
async fn client(
    addr: std::net::SocketAddr,
    request: Vec<u8>,
    until: Instant,
) -> (Vec<Duration>, usize) {
    let mut latencies = Vec::new();
    let mut failures = 0;
    let Ok(stream) = TcpStream::connect(addr).await else {
        return (latencies, 1);
    };
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    while Instant::now() < until {
        let t = Instant::now();
        if write.write_all(&request).await.is_err() {
            failures += 1;
            break;
        }
        // Status line, headers (Content-Length), body.
        let mut line = String::new();
        if read.read_line(&mut line).await.unwrap_or(0) == 0 {
            failures += 1;
            break;
        }
        let ok = line.split_whitespace().nth(1) == Some("200");
        let mut length = 0usize;
        loop {
            line.clear();
            if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                break;
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        if read.read_exact(&mut body).await.is_err() {
            failures += 1;
            break;
        }
        if ok {
            latencies.push(t.elapsed());
        } else {
            failures += 1;
        }
    }
    (latencies, failures)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[k].as_secs_f64() * 1e3
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (mut model, mut pools, mut clients, mut seconds, mut threads) =
        (None, vec![1, 2, 4], 8usize, 5u64, 1usize);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--pools" => {
                pools = value("--pools")?
                    .split(',')
                    .map(|p| p.parse())
                    .collect::<Result<_, _>>()?
            }
            "--clients" => clients = value("--clients")?.parse()?,
            "--seconds" => seconds = value("--seconds")?.parse()?,
            "--threads" => threads = value("--threads")?.parse()?,
            s if s.starts_with("--") => return Err(format!("unknown option {s}").into()),
            s => model = Some(s.to_string()),
        }
    }
    let model = tflite::Model::from_file(model.ok_or("usage: load MODEL [options]")?)?;
    // The request: every input filled with a deterministic pattern.
    let inputs: Vec<serde_json::Value> = model
        .inputs()?
        .iter()
        .map(|t| {
            serde_json::json!((0..t.num_elements())
                .map(|i| ((i * 7) % 13) as f64 / 13.0)
                .collect::<Vec<f64>>())
        })
        .collect();
    let body = serde_json::json!({ "inputs": inputs }).to_string();
    let request = format!(
        "POST /v1/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes();
    let runtime = tokio::runtime::Runtime::new()?;
    println!(
        "{} on {} cores, {clients} clients, {seconds} s per pool size, {threads} thread(s) per interpreter",
        model.origin(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut any_failed = false;
    println!("| pool | requests/s | p50 ms | p99 ms | requests | failures |");
    println!("|---|---|---|---|---|---|");
    for pool in pools {
        let config = Config {
            pool,
            threads,
            // The request is whatever the model needs (an image model's JSON is megabytes).
            max_body: request.len() + 4096,
            ..Config::default()
        };
        let router = app(&model, &config)?;
        let (mut latencies, failures, elapsed) = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let server = tokio::spawn(async move { axum::serve(listener, router).await });
            let start = Instant::now();
            let until = start + Duration::from_secs(seconds);
            let tasks: Vec<_> = (0..clients)
                .map(|_| tokio::spawn(client(addr, request.clone(), until)))
                .collect();
            let mut all = Vec::new();
            let mut failures = 0;
            for t in tasks {
                let (l, f) = t.await?;
                all.extend(l);
                failures += f;
            }
            let elapsed = start.elapsed();
            server.abort();
            Ok::<_, Box<dyn std::error::Error>>((all, failures, elapsed))
        })?;
        latencies.sort();
        any_failed |= failures > 0 || latencies.is_empty();
        println!(
            "| {pool} | {:.0} | {:.2} | {:.2} | {} | {failures} |",
            latencies.len() as f64 / elapsed.as_secs_f64(),
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.99),
            latencies.len()
        );
    }
    if any_failed {
        return Err("some requests failed".into());
    }
    Ok(())
}
