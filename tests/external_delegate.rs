//! External delegate plugins, with a plugin built for the tests (tests/plugin/test_delegate.c,
//! compiled here against `tflite_sys::INCLUDE_DIR` with the target's C compiler).

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;
use tflite::profile::Kernel;
use tflite::{Error, ExternalDelegate, Interpreter, Model};

/// The test plugin, compiled once per test run.
fn plugin() -> &'static PathBuf {
    static PLUGIN: OnceLock<PathBuf> = OnceLock::new();
    PLUGIN.get_or_init(|| {
        // The target's C compiler: the cross one when the tests run under cargo's target
        // runner (qemu), else `cc`; `TFLITE_RS_TEST_CC` overrides.
        let cross = common::target_runner().is_some();
        let cc = std::env::var("TFLITE_RS_TEST_CC").unwrap_or_else(|_| {
            match (cross, std::env::consts::ARCH) {
                (true, "aarch64") => "aarch64-linux-gnu-gcc",
                (true, "arm") => "arm-linux-gnueabihf-gcc",
                _ => "cc",
            }
            .to_string()
        });
        let dir = std::env::temp_dir().join(format!("tflite-rs-plugin-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = dir.join("libtest_delegate.so");
        let status = std::process::Command::new(&cc)
            .args(["-shared", "-fPIC", "-O1", "-I"])
            .arg(tflite::sys::INCLUDE_DIR)
            .arg(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/plugin/test_delegate.c"
            ))
            .arg("-o")
            .arg(&out)
            .status()
            .unwrap_or_else(|e| panic!("cannot run {cc}: {e}"));
        assert!(status.success(), "{cc} failed to build the test plugin");
        out
    })
}

fn add_mul() -> Model {
    // y = x * 3 + 1.5, x: f32[1, 8]: one MUL node, one ADD node.
    Model::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tflite-sys/tests/data/add_mul.tflite"
    ))
    .unwrap()
}

fn run(it: &mut Interpreter) -> Vec<f32> {
    it.allocate_tensors().unwrap();
    let x: Vec<f32> = (0..8).map(|i| i as f32).collect();
    it.input_mut(0).unwrap().copy_from_slice(&x).unwrap();
    it.invoke().unwrap();
    it.output(0).unwrap().to_vec::<f32>().unwrap()
}

fn expected(bias: f32) -> Vec<f32> {
    (0..8).map(|i| i as f32 * 3.0 + 1.5 + bias).collect()
}

#[test]
fn the_plugin_takes_its_nodes_and_its_kernel_runs() {
    let model = add_mul();
    for xnnpack in [false, true] {
        for bias in ["0", "100"] {
            let d = ExternalDelegate::load(plugin(), &[("op", "ADD"), ("bias", bias)]).unwrap();
            let mut it = Interpreter::builder(&model)
                .use_xnnpack(xnnpack)
                .external_delegate(d, true)
                .build()
                .unwrap();
            let plan = it.execution_plan().unwrap();
            let ours: Vec<_> = plan
                .iter()
                .filter(|n| n.op == "TfliteRsTestDelegate")
                .collect();
            assert_eq!(ours.len(), 1, "{plan:?}");
            assert!(ours[0].delegated);
            assert_eq!(
                ours[0].kernel,
                Kernel::Delegate("TfliteRsTestDelegate".into())
            );
            // MUL stayed on the CPU: XNNPACK's (it takes what the plugin left) or builtin.
            let cpu = plan
                .iter()
                .find(|n| n.op != "TfliteRsTestDelegate")
                .unwrap();
            let xnnpack_took_mul = cfg!(feature = "xnnpack") && xnnpack;
            assert_eq!(
                cpu.op == "TfLiteXNNPackDelegate",
                xnnpack_took_mul,
                "{plan:?}"
            );
            if xnnpack_took_mul {
                assert_eq!(cpu.kernel, Kernel::Xnnpack);
            } else {
                assert_eq!((cpu.op.as_str(), cpu.delegated), ("MUL", false));
                assert_eq!(cpu.kernel, Kernel::Builtin);
            }
            assert_eq!(
                run(&mut it),
                expected(bias.parse().unwrap()),
                "xnnpack {xnnpack}"
            );
        }
    }
}

#[test]
fn required_fails_when_the_plugin_takes_nothing() {
    let model = add_mul();
    let none = || ExternalDelegate::load(plugin(), &[("op", "NONE")]).unwrap();
    let e = Interpreter::builder(&model)
        .external_delegate(none(), true)
        .build()
        .unwrap_err();
    assert!(
        matches!(&e, Error::ExternalDelegate { reason, .. } if reason.contains("took no node")),
        "{e}"
    );
    // Not required: the graph runs on the other kernels.
    let mut it = Interpreter::builder(&model)
        .external_delegate(none(), false)
        .build()
        .unwrap();
    assert!(it
        .execution_plan()
        .unwrap()
        .iter()
        .all(|n| n.op != "TfliteRsTestDelegate"));
    assert_eq!(run(&mut it), expected(0.0));
}

#[test]
fn loading_problems_are_errors_with_the_reason() {
    // No such file.
    let e = ExternalDelegate::load("/nonexistent/libnothing.so", &[]).unwrap_err();
    assert!(matches!(&e, Error::ExternalDelegate { path, .. } if path.ends_with("libnothing.so")));
    // A library without the plugin functions.
    let e = ExternalDelegate::load("libm.so.6", &[]).unwrap_err();
    assert!(
        matches!(&e, Error::ExternalDelegate { reason, .. } if reason.contains("tflite_plugin_create_delegate")),
        "{e}"
    );
    // An option the plugin refuses: its own message.
    let e = ExternalDelegate::load(plugin(), &[("color", "blue")]).unwrap_err();
    assert!(
        matches!(&e, Error::ExternalDelegate { reason, .. } if reason.contains("unknown option")),
        "{e}"
    );
    assert!(matches!(
        ExternalDelegate::load(plugin(), &[("op", "A\0DD")]).map(|_| ()),
        Err(Error::NulByte { .. })
    ));
}
