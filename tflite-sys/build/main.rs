//! Builds TensorFlow Lite 2.14.1 (+ XNNPACK, abseil, cpuinfo, pthreadpool, ruy, farmhash,
//! fft2d, flatbuffers) from the pinned Debian source packages in `vendor/sources.lock` for the
//! cargo target (x86_64, aarch64 or armv7 Linux; cross compilers are found as the `cc` crate
//! finds them), and the C API bindings. The recipe, in order:
//!
//! 1. `TFLITE_SYS_PREBUILT_DIR(_<target>)` set: check that folder was built for this target,
//!    version and features, link it and stop (nothing compiled; see `prebuilt.rs`);
//! 2. check the target's C/C++ compilers run, and compute the cache key of the native build;
//! 3. if the user cache holds a build with that key, link it and stop;
//! 4. find the pinned files (TFLITE_SYS_VENDOR_DIR, the user cache, or the Debian archive) and
//!    verify every sha256; unpack, apply `vendor/patches`, compile each component with `cc`
//!    into one archive; copy the C API headers, build our shims, run bindgen, write the
//!    manifest — a self-contained folder, published into the cache, then linked.
//!
//! Every environment variable read is listed in `env.rs`.

mod bindings;
mod cache;
mod compile;
mod env;
mod extract;
mod fetch;
mod isa;
mod lock;
mod prebuilt;
mod shim;
mod target;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;
use target::Target;

static START: OnceLock<Instant> = OnceLock::new();

/// Progress for a long build, with the seconds since the build script started: shown by cargo
/// as `warning: tflite-sys@…: …`.
pub fn progress(msg: &str) {
    let t = START.get_or_init(Instant::now).elapsed().as_secs();
    println!("cargo:warning=[{t:>4} s] {msg}");
    eprintln!("[tflite-sys {t:>4} s] {msg}");
}

fn main() {
    START.get_or_init(Instant::now);
    if let Err(e) = run() {
        for line in format!("tflite-sys: {e}").lines() {
            println!("cargo:warning={line}");
        }
        eprintln!("\nerror: tflite-sys could not build TensorFlow Lite:\n{e}\n");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").map_err(|e| e.to_string())?);
    let vendor = manifest.join("vendor");
    let csrc = manifest.join("csrc");
    let target = Target::from_cargo()?;
    for p in ["build", "vendor", "csrc"] {
        println!("cargo:rerun-if-changed={p}");
    }
    for v in env::watched(&target.triple) {
        println!("cargo:rerun-if-env-changed={v}");
    }
    let xnnpack = std::env::var_os("CARGO_FEATURE_XNNPACK").is_some();
    let identity = prebuilt::Identity {
        target: &target,
        xnnpack,
    };

    if let Some((var, dir)) = env::for_target(env::PREBUILT_DIR, &target.triple) {
        identity
            .verify(&dir)
            .map_err(|e| format!("{var}={}: {e}", dir.display()))?;
        progress(&format!(
            "linking the prebuilt native build in {}",
            dir.display()
        ));
        return link(&dir, &target, &out_dir);
    }

    let compilers = target::compilers(&target)?;
    let kernel_cc = target::kernel_compiler(&target)?;
    let pins = pins_for_target(&vendor.join("sources.lock"), &target)?;
    let no_cache = env::flag(env::NO_CACHE);

    // Everything that changes the folder's contents goes into the key.
    let mut key = cache::Key::new();
    key.add("crate", env!("CARGO_PKG_VERSION").as_bytes());
    key.add("target", target.triple.as_bytes());
    key.add("xnnpack", &[xnnpack as u8]);
    key.add(
        "x86-64 kernels",
        target.x86_64_level.unwrap_or("baseline").as_bytes(),
    );
    // The modules that shape the folder (not the ones that find files or read variables).
    for m in [
        "compile.rs",
        "isa.rs",
        "extract.rs",
        "bindings.rs",
        "shim.rs",
        "prebuilt.rs",
    ] {
        key.add(m, &read(&manifest.join("build").join(m))?);
    }
    key.add_tree("vendor", &vendor)?;
    key.add_tree("csrc", &csrc)?;
    for c in &compilers {
        key.add("compiler", c.line.as_bytes());
        key.add("version", &c.version);
    }
    if let Some((_, c)) = &kernel_cc {
        key.add("kernel compiler", c.line.as_bytes());
        key.add("kernel compiler version", &c.version);
    }
    let key = key.finish();

    let (dir, downloads, apt_state) = if no_cache {
        (
            out_dir.join("native"),
            out_dir.join("downloads"),
            out_dir.join("apt"),
        )
    } else {
        let root = cache::root()?;
        (
            root.join("build").join(format!("{}-{key}", target.triple)),
            root.join("downloads"),
            root.join("apt"),
        )
    };

    if !no_cache && cache::is_complete(&dir) {
        progress(&format!(
            "using the cached native build in {}",
            dir.display()
        ));
    } else {
        let why = if no_cache {
            "TFLITE_SYS_NO_CACHE is set".to_string()
        } else {
            format!("no cached build with key {key}")
        };
        progress(&format!(
            "building TensorFlow Lite {} for {} from source ({why}); this takes a while",
            prebuilt::TFLITE_VERSION,
            target.triple
        ));
        let started = Instant::now();
        let files = fetch::locate(
            &pins,
            env::path(env::VENDOR_DIR).as_deref(),
            &downloads,
            &apt_state,
        )?;
        remove_abandoned_attempts(&dir);
        let tmp = dir.with_extension(format!("tmp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp)
            .map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
        let kernel_cc_path = kernel_cc.as_ref().map(|(p, _)| p.as_path());
        build_native(
            &vendor,
            &pins,
            &files,
            &target,
            xnnpack,
            kernel_cc_path,
            &out_dir,
            &tmp,
            &key,
        )?;
        shim::guard(&csrc, &tmp)?;
        if target.is_linux() {
            shim::glibc_compat(&csrc, &tmp)?;
        }
        remove_objects(&tmp);
        bindings::generate(
            &[tmp.join("include"), csrc.clone()],
            &bindings::headers(xnnpack),
            &tmp.join(prebuilt::BINDINGS),
        )?;
        let kernels_by = kernel_cc
            .as_ref()
            .map(|(_, c)| first_line(&c.version))
            .unwrap_or_default();
        identity.write(&tmp, &key, &kernels_by)?;
        if no_cache {
            let _ = std::fs::remove_dir_all(&dir);
        }
        cache::publish(&tmp, &dir)?;
        progress(&format!(
            "native build done in {:.0} s",
            started.elapsed().as_secs_f64()
        ));
    }
    identity.verify(&dir)?;
    link(&dir, &target, &out_dir)
}

/// The first line of a compiler's `--version` output ("Debian clang version 14.0.6").
fn first_line(version: &[u8]) -> String {
    String::from_utf8_lossy(version)
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Links the native folder `dir`, and names its headers for `tflite_sys::INCLUDE_DIR`.
fn link(dir: &Path, target: &target::Target, out_dir: &Path) -> Result<(), String> {
    prebuilt::link(dir, target, out_dir)?;
    println!(
        "cargo:rustc-env=TFLITE_SYS_X86_64_LEVEL={}",
        target.x86_64_level.unwrap_or("")
    );
    println!(
        "cargo:rustc-env=TFLITE_SYS_KERNEL_COMPILER={}",
        prebuilt::kernel_compiler(dir)
    );
    println!(
        "cargo:rustc-env=TFLITE_SYS_INCLUDE_DIR={}",
        dir.join("include").display()
    );
    Ok(())
}

/// The shims' object files, left beside their archives by `cc`: not part of the folder.
fn remove_objects(dir: &Path) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.path().extension().is_some_and(|x| x == "o") {
            let _ = std::fs::remove_file(e.path());
        }
    }
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

/// The rows of `vendor/sources.lock` this target needs: every source row, and the binary rows
/// of its Debian architecture.
fn pins_for_target(lock: &Path, target: &Target) -> Result<Vec<lock::Pin>, String> {
    let arch = target.debian_arch();
    let pins: Vec<lock::Pin> = lock::read(lock)?
        .into_iter()
        .filter(|p| p.arch == "any" || p.arch == arch)
        .collect();
    if !pins.iter().any(|p| p.component == "ruy") {
        return Err(format!(
            "vendor/sources.lock pins no ruy package for the Debian architecture `{arch}` \
             (target {}): Debian's `libruy-dev` has rows for amd64, arm64 and armhf only",
            target.triple
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
    target: &Target,
    xnnpack: bool,
    kernel_cc: Option<&Path>,
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
        let patches = extract::series(&vendor.join("patches").join(&pin.component))?;
        extract::apply_patches(&dir, &patches)?;
        std::fs::write(&marker, b"").map_err(|e| e.to_string())?;
    }

    let tree = compile::Tree { root: src.clone() };
    let ctx = compile::Ctx {
        tree: &tree,
        target,
        lists: vendor.join("lists"),
        xnnpack,
        kernel_cc,
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
