//! The borrow rules of the API, held by the compiler: each case in `tests/compile_fail/fail/`
//! must fail to compile with exactly the error in its `.stderr` file (code, message and place),
//! and its twin of the same name in `tests/compile_fail/pass/` — the same code without the
//! violation — must compile. A twin shows the error comes from the rule, not from a typo.
//!
//! The `.stderr` files are rustc's wording for the toolchain CI uses; after a toolchain update
//! that rewords a message, `TRYBUILD=overwrite cargo test --test compile_fail` rewrites them
//! (review the diff: only the wording may change, never the error code).
//!
//! Skipped where the compiler is not the one the files are for or cannot run here: under the
//! sanitizer and valgrind runs (`TFLITE_UNDER_VALGRIND`: nightly, instrumented) and when the
//! tests run through a cargo runner (cross-compiled, under qemu). Built with the default
//! features only: `interpreter_not_sync.stderr` lists the interpreter's fields, which the
//! features change (the rules themselves do not depend on them).
#![cfg(all(feature = "xnnpack", feature = "mediapipe"))]

mod common;

use std::path::Path;

fn cases(dir: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/compile_fail")
        .join(dir);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".rs"))
        .collect();
    names.sort();
    names
}

#[test]
fn borrow_rules_are_compile_errors_and_their_twins_compile() {
    if std::env::var_os("TFLITE_UNDER_VALGRIND").is_some() || common::target_runner().is_some() {
        eprintln!("compile_fail: skipped (sanitizer, valgrind or cross run)");
        return;
    }
    let (fail, pass) = (cases("fail"), cases("pass"));
    assert_eq!(fail, pass, "every failing case has a twin that compiles");
    assert!(fail.len() >= 8, "{fail:?}");
    let t = trybuild::TestCases::new();
    for name in &fail {
        // A case without its `.stderr` fails too (trybuild writes what it got to `wip/`).
        t.compile_fail(format!("tests/compile_fail/fail/{name}"));
        t.pass(format!("tests/compile_fail/pass/{name}"));
    }
}
