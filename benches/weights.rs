//! Shared packed weights: resident memory and build time of 1 and 8 interpreters of one model,
//! with XNNPACK's packed weights shared (the default) and private (`share_weights(false)`).
//! Each configuration runs in a fresh child process (RSS is per process); rounds interleave
//! the configurations and the table shows the median of the rounds.
//!
//!     python3 benches/make_bench_models.py && cargo bench --bench weights [-- MODEL.tflite...]

use std::process::Command;
use std::time::Instant;
use tflite::{Interpreter, Model, XnnpackOptions};

const ROUNDS: usize = 3;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// In the child: build and allocate `n` interpreters, then invoke each once; report
/// `rss_kib first_build_ms other_build_ms_mean outputs_identical`.
fn child(path: &str, n: usize, share: bool) {
    let model = Model::from_file(path).expect("model");
    let mut its = Vec::new();
    let mut builds = Vec::new();
    // Build them all (as a server filling its pool at start), then run each once.
    for _ in 0..n {
        let t = Instant::now();
        let mut it = Interpreter::builder(&model)
            .xnnpack(XnnpackOptions::default().share_weights(share))
            .build()
            .expect("interpreter");
        it.allocate_tensors().expect("allocate");
        builds.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(it.shares_weights(), share, "{:?}", it.delegate_skipped());
        its.push(it);
    }
    for it in &mut its {
        let mut x = it.input_mut(0).expect("input");
        let len = x.byte_size().expect("size");
        let bytes: Vec<u8> = (0..len).map(|i| (i * 37 % 61) as u8).collect();
        x.bytes_mut().expect("bytes").copy_from_slice(&bytes);
        it.invoke().expect("invoke");
    }
    let first = its[0].output(0).unwrap().bytes().unwrap().to_vec();
    let same = its
        .iter()
        .all(|it| it.output(0).unwrap().bytes().unwrap() == first.as_slice());
    let others = if n > 1 {
        builds[1..].iter().sum::<f64>() / (n - 1) as f64
    } else {
        f64::NAN
    };
    println!("{} {:.2} {:.2} {same}", rss_kib(), builds[0], others);
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let [mode, path, n, share] = args.as_slice() {
        if mode == "child" {
            return child(path, n.parse().unwrap(), share == "shared");
        }
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/models");
    let models: Vec<String> = if args.is_empty() {
        ["mobilenet_v2_f32", "mobilenet_v2_int8", "transformer_f32"]
            .iter()
            .map(|m| format!("{dir}/{m}.tflite"))
            .filter(|p| {
                let ok = std::path::Path::new(p).exists();
                if !ok {
                    eprintln!("skipping {p}: run `python3 benches/make_bench_models.py`");
                }
                ok
            })
            .collect()
    } else {
        args
    };
    let exe = std::env::current_exe().unwrap();
    println!("| model | interpreters | weights | RSS MiB | first build ms | later builds ms (mean) | outputs identical |");
    println!("|---|---|---|---|---|---|---|");
    for path in &models {
        let configs = [(1, "private"), (1, "shared"), (8, "private"), (8, "shared")];
        let mut results: Vec<Vec<(f64, f64, f64, bool)>> = vec![Vec::new(); configs.len()];
        for _ in 0..ROUNDS {
            for (k, (n, share)) in configs.iter().enumerate() {
                let out = Command::new(&exe)
                    .args(["child", path, &n.to_string(), share])
                    .output()
                    .expect("child");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                let line = String::from_utf8_lossy(&out.stdout);
                let f: Vec<&str> = line.split_whitespace().collect();
                results[k].push((
                    f[0].parse::<f64>().unwrap() / 1024.0,
                    f[1].parse().unwrap(),
                    f[2].parse().unwrap(),
                    f[3] == "true",
                ));
            }
        }
        let name = std::path::Path::new(path)
            .file_name()
            .unwrap()
            .to_string_lossy();
        for (k, (n, share)) in configs.iter().enumerate() {
            let r = &results[k];
            let later = median(r.iter().map(|x| x.2).collect());
            println!(
                "| {name} | {n} | {share} | {:.1} | {:.1} | {} | {} |",
                median(r.iter().map(|x| x.0).collect()),
                median(r.iter().map(|x| x.1).collect()),
                if later.is_nan() {
                    "-".to_string()
                } else {
                    format!("{later:.1}")
                },
                r.iter().all(|x| x.3),
            );
        }
    }
}
