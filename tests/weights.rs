//! Shared packed weights: interpreters of one model run from one copy of XNNPACK's packed
//! weights, with outputs bit-identical to private packing, also when built concurrently; the
//! memory saved is measured (resident set of a child process).
#![cfg(feature = "xnnpack")]

mod common;

use std::process::Command;
use tflite::{Interpreter, Model, XnnpackOptions};

fn path(p: &str) -> String {
    format!("{}/{p}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs one deterministic input through `it`; returns the output's bytes.
fn run(it: &mut Interpreter) -> Vec<u8> {
    it.allocate_tensors().unwrap();
    let mut x = it.input_mut(0).unwrap();
    let n = x.byte_size().unwrap();
    let bytes: Vec<u8> = (0..n).map(|i| (i * 37 % 61) as u8).collect();
    x.bytes_mut().unwrap().copy_from_slice(&bytes);
    it.invoke().unwrap();
    it.output(0).unwrap().bytes().unwrap().to_vec()
}

const MODELS: [&str; 4] = [
    "examples/digits/digits_float32.tflite",
    "examples/digits/digits_int8.tflite",
    "tflite-sys/tests/data/conv_dense.tflite",
    "tests/compat/encoder_block.float32.tflite",
];

#[test]
fn interpreters_of_one_model_share_and_agree_bit_for_bit() {
    for m in MODELS {
        let model = Model::from_file(path(m)).unwrap();
        let private = Interpreter::builder(&model)
            .xnnpack(XnnpackOptions::default().share_weights(false))
            .build()
            .unwrap();
        assert!(private.has_delegate() && !private.shares_weights(), "{m}");
        let want = run(&mut { private });
        for k in 0..4 {
            let mut it = Interpreter::new(&model).unwrap();
            assert!(
                it.shares_weights(),
                "{m}: interpreter {k}: {:?}",
                it.delegate_skipped()
            );
            assert_eq!(run(&mut it), want, "{m}: interpreter {k}");
        }
    }
}

#[test]
fn concurrent_builds_share_and_agree() {
    let model = Model::from_file(path("examples/digits/digits_int8.tflite")).unwrap();
    let want = run(&mut Interpreter::builder(&model)
        .xnnpack(XnnpackOptions::default().share_weights(false))
        .build()
        .unwrap());
    // A fresh model: its cache is first filled by whichever thread gets there first.
    let model = Model::from_file(path("examples/digits/digits_int8.tflite")).unwrap();
    std::thread::scope(|s| {
        for _ in 0..8 {
            let (model, want) = (&model, &want);
            s.spawn(move || {
                let mut it = Interpreter::builder(model).num_threads(1).build().unwrap();
                assert!(it.shares_weights(), "{:?}", it.delegate_skipped());
                for _ in 0..20 {
                    assert_eq!(&run(&mut it), want);
                }
            });
        }
    });
}

#[test]
fn packing_options_get_their_own_cache_and_resizes_keep_working() {
    let model = Model::from_file(path("tests/models/dynamic_batch.tflite")).unwrap();
    let fp32 = Interpreter::new(&model).unwrap();
    let fp16 = Interpreter::builder(&model)
        .xnnpack(XnnpackOptions::default().force_fp16(true))
        .build()
        .unwrap();
    assert!(fp32.shares_weights());
    // Where the CPU has no fp16 arithmetic (e.g. armv7), XNNPACK refuses forced fp16 and the
    // interpreter runs on the builtin kernels; where it takes it, from its own cache.
    assert_eq!(
        fp16.shares_weights(),
        fp16.has_delegate(),
        "{:?}",
        fp16.delegate_skipped()
    );
    // A resize re-applies the delegate, which finds its weights in the finalized cache.
    let mut it = Interpreter::new(&model).unwrap();
    let mut private = Interpreter::builder(&model)
        .xnnpack(XnnpackOptions::default().share_weights(false))
        .build()
        .unwrap();
    for it in [&mut it, &mut private] {
        let mut shape = it.input(0).unwrap().shape();
        shape[0] = 3;
        it.resize_input(0, &shape).unwrap();
    }
    assert_eq!(run(&mut it), run(&mut private));
    assert!(it.shares_weights());
}

#[test]
fn interpreters_built_before_any_invoke_share_too() {
    // Built while the cache is open (each inserts or finds its weights), finalized by the
    // first invoke; one built afterwards looks its weights up.
    let model = Model::from_file(path("tflite-sys/tests/data/conv_dense.tflite")).unwrap();
    let want = run(&mut Interpreter::builder(&model)
        .xnnpack(XnnpackOptions::default().share_weights(false))
        .build()
        .unwrap());
    let mut its: Vec<Interpreter> = (0..4).map(|_| Interpreter::new(&model).unwrap()).collect();
    for it in &mut its {
        assert!(it.shares_weights());
        assert_eq!(run(it), want);
    }
    let mut late = Interpreter::new(&model).unwrap();
    assert!(late.shares_weights());
    assert_eq!(run(&mut late), want);
}

/// A resize after the cache is finalized that makes an operator pack differently (the digits
/// model from 1 to 2 input channels turns its first convolution into a grouped one) may need
/// weights the cache never saw: XNNPACK used to run such an operator on a wild pointer
/// (`xnnpack/0004-…`); now re-applying the delegate fails and `allocate_tensors` says so.
/// Where the grouped packing is byte-identical to a cached one (aarch64's tiles), the cache
/// finds it and the interpreter runs: then its result must match the builtin kernels'.
#[test]
fn resize_needing_weights_the_finalized_cache_lacks_is_an_error() {
    let model = Model::from_file(path("examples/digits/digits_float32.tflite")).unwrap();
    let mut it = Interpreter::new(&model).unwrap();
    if !it.shares_weights() {
        return; // XNNPACK not applied on this processor.
    }
    run(&mut it); // finalizes the cache
    it.resize_input(0, &[1, 8, 8, 2]).unwrap();
    let mut builtin = Interpreter::builder(&model)
        .use_xnnpack(false)
        .build()
        .unwrap();
    builtin.resize_input(0, &[1, 8, 8, 2]).unwrap();
    let mut private = Interpreter::builder(&model)
        .xnnpack(XnnpackOptions::default().share_weights(false))
        .build()
        .unwrap();
    private.resize_input(0, &[1, 8, 8, 2]).unwrap();
    let want = floats(&run(&mut builtin));
    let mut results = vec![floats(&run(&mut private))];
    match it.allocate_tensors() {
        Err(e) => {
            let err = e.to_string();
            assert!(err.to_lowercase().contains("delegate"), "{err}");
            assert!(it.invoke().is_err());
        }
        Ok(()) => results.push(floats(&run(&mut it))),
    }
    for got in results {
        for (x, y) in want.iter().zip(&got) {
            assert!((x - y).abs() < 1e-4, "{want:?} vs {got:?}");
        }
    }
}

fn floats(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// The model of the memory test: the largest committed one (digits_float32, 90 KB, nearly all
/// of it convolution and dense weights, which XNNPACK packs).
const RSS_MODEL: &str = "examples/digits/digits_float32.tflite";
const RSS_CHILD: &str = "TFLITE_RS_WEIGHTS_RSS_CHILD";

/// This process's resident set in KiB (`VmRSS` of /proc/self/status).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// In the child: one interpreter built and run first (one-time costs: XNNPACK's start-up, the
/// shared cache's first copy), then the resident set's growth over 8 more, each allocated and
/// run once, all kept alive; printed as `rss_growth_kib N`.
fn rss_child(share: bool) {
    let model = Model::from_file(path(RSS_MODEL)).unwrap();
    let build = || {
        let mut it = Interpreter::builder(&model)
            .num_threads(1)
            .xnnpack(XnnpackOptions::default().share_weights(share))
            .build()
            .unwrap();
        assert_eq!(it.shares_weights(), share, "{:?}", it.delegate_skipped());
        run(&mut it);
        it
    };
    let first = build();
    let before = rss_kib();
    let its: Vec<Interpreter> = (0..8).map(|_| build()).collect();
    let after = rss_kib();
    println!("rss_growth_kib {}", after.saturating_sub(before));
    drop((first, its));
}

/// The growth the child reports, in a fresh process (RSS is per process and only grows).
fn rss_growth_kib(mode: &str) -> u64 {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "eight_interpreters_sharing_weights_grow_less_than_private_ones",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(RSS_CHILD, mode)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    stdout
        .lines()
        .find_map(|l| l.split("rss_growth_kib ").nth(1))
        .and_then(|n| n.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no growth reported: {stdout}"))
}

/// 8 interpreters sharing one copy of the packed weights grow the process by less than a bound
/// that 8 with private weights exceed. The bound, 12 times the model's size: each interpreter's
/// own memory (arena, tensors, XNNPACK's operators; about the model's size here) counts in
/// both, 8 private copies of the packed weights (about the model's size each) only in the
/// second, and the bound sits halfway. Measured (debug test build, x86_64, Intel Xeon, 88 KiB
/// model): shared 740 KiB, private 1372 KiB, bound 1056 KiB; the same in every run.
#[test]
fn eight_interpreters_sharing_weights_grow_less_than_private_ones() {
    match std::env::var(RSS_CHILD).as_deref() {
        Ok("shared") => return rss_child(true),
        Ok("private") => return rss_child(false),
        _ => {}
    }
    // Sanitizers keep freed memory in quarantine and add shadow memory (`.ci/asan` sets
    // TFLITE_UNDER_VALGRIND, `.ci/tsan` TSAN_OPTIONS), and under qemu (a cargo runner) the
    // resident set is the emulator's: the bound says nothing there.
    if std::env::var_os("TFLITE_UNDER_VALGRIND").is_some()
        || std::env::var_os("TSAN_OPTIONS").is_some()
        || common::target_runner().is_some()
    {
        eprintln!("shared weights' memory: not measured (sanitizer, valgrind or emulator)");
        return;
    }
    let model_kib = std::fs::metadata(path(RSS_MODEL)).unwrap().len() / 1024;
    let bound = 12 * model_kib;
    let shared = rss_growth_kib("shared");
    let private = rss_growth_kib("private");
    eprintln!("RSS growth of 8 interpreters: shared {shared} KiB, private {private} KiB, bound {bound} KiB");
    assert!(
        shared < bound && private > bound,
        "shared {shared} KiB, private {private} KiB: the bound {bound} KiB does not separate them"
    );
}
