//! Builds TensorFlow Lite 2.14.1 (+ XNNPACK, abseil, cpuinfo, pthreadpool, ruy, farmhash,
//! fft2d, flatbuffers) from the pinned Debian source packages in `vendor/sources.lock`, and
//! generates the C API bindings. The recipe, in order:
//!
//! 1. find the pinned files (TFLITE_SYS_VENDOR_DIR, the user cache, or the Debian archive) and
//!    verify every sha256;
//! 2. if the user cache holds a build with the same key, link that and stop;
//! 3. unpack, apply `vendor/patches`, compile each component with `cc` into one archive;
//! 4. store the archive and the C API headers in the cache;
//! 5. run bindgen over those headers (every build: it takes seconds).

#[path = "build/bindings.rs"]
mod bindings;
#[path = "build/cache.rs"]
mod cache;
#[path = "build/compile.rs"]
mod compile;
#[path = "build/extract.rs"]
mod extract;
#[path = "build/fetch.rs"]
mod fetch;
#[path = "build/isa.rs"]
mod isa;
#[path = "build/lock.rs"]
mod lock;
#[path = "build/shim.rs"]
mod shim;

use std::env;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Progress for a long build: shown by cargo as `warning: tflite-sys@…: …`.
pub fn progress(msg: &str) {
    println!("cargo:warning={msg}");
    eprintln!("[tflite-sys] {msg}");
}

const ENV_VARS: &[&str] = &[
    "TFLITE_SYS_VENDOR_DIR",
    "TFLITE_SYS_CACHE",
    "TFLITE_SYS_NO_CACHE",
    "TFLITE_SYS_DEBIAN_MIRROR",
    "XDG_CACHE_HOME",
    "CC",
    "CXX",
    "CFLAGS",
    "CXXFLAGS",
    "LIBCLANG_PATH",
];

fn main() {
    if let Err(e) = run() {
        for line in format!("tflite-sys: {e}").lines() {
            println!("cargo:warning={line}");
        }
        eprintln!("\nerror: tflite-sys could not build TensorFlow Lite:\n{e}\n");
        std::process::exit(1);
    }
}

fn env_path(name: &str) -> Option<PathBuf> {
    env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn run() -> Result<(), String> {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let out_dir = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let vendor = manifest.join("vendor");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=build");
    println!("cargo:rerun-if-changed=vendor");
    println!("cargo:rerun-if-changed=csrc");
    for v in ENV_VARS {
        println!("cargo:rerun-if-env-changed={v}");
    }

    let target = compile::Target {
        arch: env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default(),
        os: env::var("CARGO_CFG_TARGET_OS").unwrap_or_default(),
    };
    let xnnpack = env::var_os("CARGO_FEATURE_XNNPACK").is_some();
    let no_cache = env::var("TFLITE_SYS_NO_CACHE").is_ok_and(|v| !v.is_empty() && v != "0");

    let pins = pins_for_target(&vendor.join("sources.lock"), &target)?;

    // Everything that changes the result goes into the key.
    let mut key = cache::Key::new();
    key.add("crate", env!("CARGO_PKG_VERSION").as_bytes());
    key.add("target", env::var("TARGET").unwrap_or_default().as_bytes());
    key.add("xnnpack", &[xnnpack as u8]);
    // The modules that shape the native objects (not the ones that find files or run bindgen).
    for m in ["compile.rs", "isa.rs", "extract.rs"] {
        key.add(m, &read(&manifest.join("build").join(m))?);
    }
    key.add_tree("vendor", &vendor)?;
    // The cached include folder holds exactly the headers the bindings cover.
    key.add("headers", bindings::headers(xnnpack).join("\n").as_bytes());
    for cpp in [false, true] {
        let tool = cc::Build::new()
            .cpp(cpp)
            .opt_level(2)
            .debug(false)
            .try_get_compiler()
            .map_err(|e| e.to_string())?;
        // Path and arguments only: `Command`'s Debug form also lists the whole environment.
        let mut line = tool.path().as_os_str().to_string_lossy().into_owned();
        for a in tool.args() {
            line.push(' ');
            line.push_str(&a.to_string_lossy());
        }
        key.add("compiler", line.as_bytes());
        key.add("version", &compiler_version(tool.path()));
    }
    let key = key.finish();

    let (cache_dir, downloads, apt_state) = if no_cache {
        (
            out_dir.join("native"),
            out_dir.join("downloads"),
            out_dir.join("apt"),
        )
    } else {
        let root = cache::root()?;
        (
            root.join("build")
                .join(format!("{}-{key}", env::var("TARGET").unwrap_or_default())),
            root.join("downloads"),
            root.join("apt"),
        )
    };

    if cache::is_complete(&cache_dir) && !no_cache {
        progress(&format!(
            "using the cached native build in {}",
            cache_dir.display()
        ));
    } else {
        let why = if no_cache {
            "TFLITE_SYS_NO_CACHE is set".to_string()
        } else {
            format!("no cached build with key {key}")
        };
        progress(&format!(
            "building TensorFlow Lite 2.14.1 from source ({why}); this takes a while"
        ));
        let started = Instant::now();
        let files = fetch::locate(
            &pins,
            env_path("TFLITE_SYS_VENDOR_DIR").as_deref(),
            &downloads,
            &apt_state,
        )?;
        remove_abandoned_attempts(&cache_dir);
        let tmp = cache_dir.with_extension(format!("tmp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp)
            .map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
        build_native(
            &vendor, &pins, &files, &target, xnnpack, &out_dir, &tmp, &key,
        )?;
        if no_cache {
            let _ = std::fs::remove_dir_all(&cache_dir);
        }
        cache::publish(&tmp, &cache_dir)?;
        progress(&format!(
            "native build done in {:.0} s",
            started.elapsed().as_secs_f64()
        ));
    }

    // Bindings are cheap to make and depend on bindgen, not on the native build: made every time.
    let csrc = manifest.join("csrc");
    bindings::generate(
        &[cache_dir.join("include"), csrc.clone()],
        &bindings::headers(xnnpack),
        &out_dir.join("bindings.rs"),
    )?;
    // Our exception guard around the C API (see csrc/tflite_rs_guard.h): small, built every
    // time, linked before the archive whose functions it calls.
    shim::guard(&csrc, &cache_dir.join("include"), &out_dir)?;
    println!("cargo:rustc-link-search=native={}", cache_dir.display());
    println!("cargo:rustc-link-lib=static=tensorflowlite");
    if target.os == "linux" {
        // Not part of the cached build: it depends on the C library of the linking machine.
        compile::glibc_compat(&manifest.join("csrc/glibc_compat.c"), &out_dir)?;
    }
    for lib in ["stdc++", "pthread", "dl", "m"] {
        println!("cargo:rustc-link-lib=dylib={lib}");
    }
    println!("cargo:include={}", cache_dir.join("include").display());
    println!("cargo:lib={}", cache_dir.display());
    Ok(())
}

fn read(p: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
}

/// Removes `<dest>.tmp-<pid>` folders left by interrupted builds whose process is gone
/// (checked through `/proc`; elsewhere nothing is removed).
fn remove_abandoned_attempts(dest: &Path) {
    let (Some(parent), Some(name)) = (dest.parent(), dest.file_name()) else {
        return;
    };
    let prefix = format!("{}.tmp-", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let file_name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        if Path::new("/proc/self").exists() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn compiler_version(path: &Path) -> Vec<u8> {
    std::process::Command::new(path)
        .arg("--version")
        .output()
        .map(|o| o.stdout)
        .unwrap_or_default()
}

/// The Debian architecture name of the cargo target, for binary package rows.
fn debian_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "i386",
        "arm" => "armhf",
        a => a,
    }
}

fn pins_for_target(lock: &Path, target: &compile::Target) -> Result<Vec<lock::Pin>, String> {
    let all = lock::read(lock)?;
    let arch = debian_arch(&target.arch);
    let mut pins: Vec<lock::Pin> = Vec::new();
    for p in all {
        if p.arch == "any" || p.arch == arch {
            pins.push(p);
        }
    }
    if !pins.iter().any(|p| p.component == "ruy") {
        return Err(format!(
            "vendor/sources.lock pins no ruy package for the Debian architecture `{arch}`; \
             add the `libruy-dev` row for it (see README, \"Platforms\")"
        ));
    }
    Ok(pins)
}

// One call site; the arguments are the build's whole input, kept explicit on purpose.
#[allow(clippy::too_many_arguments)]
fn build_native(
    vendor: &Path,
    pins: &[lock::Pin],
    files: &[PathBuf],
    target: &compile::Target,
    xnnpack: bool,
    out_dir: &Path,
    dest: &Path,
    key: &str,
) -> Result<(), String> {
    // The work folder survives a failed attempt with the same key: what was unpacked and
    // compiled then is reused (`<component>.done` lists a finished component's objects).
    let work = out_dir.join("work");
    let src = work.join("src");
    let done = work.join("done");
    if std::fs::read_to_string(work.join("key")).ok().as_deref() != Some(key) {
        let _ = std::fs::remove_dir_all(&work);
    }
    for d in [&src, &done] {
        std::fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    std::fs::write(work.join("key"), key).map_err(|e| e.to_string())?;
    progress("unpacking the verified sources");
    for (pin, file) in pins.iter().zip(files) {
        let dir = src.join(&pin.component);
        let marker = done.join(format!("{}.unpacked", pin.component));
        if marker.exists() {
            continue;
        }
        match (pin.kind, pin.component.as_str()) {
            (lock::Kind::Binary, _) => extract::deb(file, &dir)?,
            (_, "tensorflow") => extract::tarball(
                file,
                &dir,
                &[
                    "tensorflow/lite/*",
                    "tensorflow/core/public/*",
                    "tensorflow/tsl/framework/convolution/*",
                    "tensorflow/tsl/lib/random/*",
                    "third_party/eigen3/*",
                    "third_party/fft2d/*",
                ],
            )?,
            (_, "xnnpack") if !xnnpack => continue,
            _ => extract::tarball(file, &dir, &[])?,
        }
        let patch_dir = vendor.join("patches").join(&pin.component);
        if patch_dir.is_dir() {
            let mut patches: Vec<PathBuf> = std::fs::read_dir(&patch_dir)
                .map_err(|e| e.to_string())?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "patch"))
                .collect();
            patches.sort();
            extract::apply_patches(&dir, &patches)?;
        }
        std::fs::write(&marker, b"").map_err(|e| e.to_string())?;
    }

    let tree = compile::Tree { root: src.clone() };
    let ctx = compile::Ctx {
        tree: &tree,
        target,
        lists: vendor.join("lists"),
        xnnpack,
        obj_dir: work.join("obj"),
    };
    let mut objs = Vec::new();
    let mut step =
        |name: &str, f: &dyn Fn() -> Result<Vec<PathBuf>, String>| -> Result<(), String> {
            let list = done.join(format!("{name}.done"));
            let these = match std::fs::read_to_string(&list) {
                Ok(text) => text.lines().map(PathBuf::from).collect(),
                Err(_) => {
                    let these = f()?;
                    let text: Vec<String> = these.iter().map(|p| p.display().to_string()).collect();
                    std::fs::write(&list, text.join("\n")).map_err(|e| e.to_string())?;
                    these
                }
            };
            objs.extend(these);
            Ok(())
        };
    step("flatbuffers", &|| ctx.flatbuffers())?;
    step("farmhash", &|| ctx.farmhash())?;
    step("fft2d", &|| ctx.fft2d())?;
    step("cpuinfo", &|| ctx.cpuinfo())?;
    step("pthreadpool", &|| ctx.pthreadpool())?;
    step("abseil", &|| ctx.abseil())?;
    step("ruy", &|| ctx.ruy(&work))?;
    if xnnpack {
        step("xnnpack", &|| ctx.xnnpack(&work))?;
    }
    step("tflite", &|| ctx.tflite())?;

    progress(&format!(
        "archiving {} objects into libtensorflowlite.a",
        objs.len()
    ));
    cc::Build::new()
        .cargo_metadata(false)
        .out_dir(dest)
        .objects(&objs)
        .try_compile("tensorflowlite")
        .map_err(|e| format!("archiving failed: {e}"))?;

    let headers = bindings::headers(xnnpack);
    let include = dest.join("include");
    let cc_path = cc::Build::new()
        .try_get_compiler()
        .map_err(|e| e.to_string())?
        .path()
        .to_path_buf();
    bindings::copy_headers(&src.join("tensorflow"), &headers, &include, &cc_path)?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}
