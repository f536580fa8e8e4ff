//! Finding the pinned files: a user-given folder, the per-user cache, or the Debian archive
//! through the machine's own apt configuration (private state, no root, no system change).

use crate::lock::{Kind, Pin};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn sha256_file(path: &Path) -> Result<String, String> {
    let mut f = fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn verified(path: &Path, pin: &Pin) -> Result<bool, String> {
    if !path.is_file() {
        return Ok(false);
    }
    Ok(sha256_file(path)? == pin.sha256)
}

/// Returns the path of every pinned file, fetching what is missing into `downloads`.
pub fn locate(
    pins: &[Pin],
    vendor_dir: Option<&Path>,
    downloads: &Path,
    apt_state: &Path,
) -> Result<Vec<PathBuf>, String> {
    if let Some(dir) = vendor_dir {
        let mut out = Vec::new();
        let mut bad = Vec::new();
        for pin in pins {
            let p = dir.join(&pin.file);
            if verified(&p, pin)? {
                out.push(p);
            } else {
                bad.push(format!("  {}  (sha256 {})", pin.file, pin.sha256));
            }
        }
        if !bad.is_empty() {
            return Err(format!(
                "TFLITE_SYS_VENDOR_DIR={} lacks these files, or holds them with another sha256:\n{}",
                dir.display(),
                bad.join("\n")
            ));
        }
        return Ok(out);
    }

    fs::create_dir_all(downloads)
        .map_err(|e| format!("cannot create {}: {e}", downloads.display()))?;
    let mut missing = Vec::new();
    for pin in pins {
        let p = downloads.join(&pin.file);
        if !verified(&p, pin)? {
            let _ = fs::remove_file(&p);
            missing.push(pin);
        }
    }
    if !missing.is_empty() {
        crate::progress(&format!(
            "fetching {} pinned Debian source file(s) into {}",
            missing.len(),
            downloads.display()
        ));
        fetch_with_apt(&missing, downloads, apt_state)?;
    }
    Ok(pins.iter().map(|p| downloads.join(&p.file)).collect())
}

/// The machine's Debian mirror URI and keyring, read from its own apt configuration.
fn machine_mirror() -> Option<(String, Option<String>)> {
    if let Some(uri) = crate::env::get(crate::env::DEBIAN_MIRROR) {
        return Some((uri, None));
    }
    let mut found = Vec::new();
    if let Ok(rd) = fs::read_dir("/etc/apt/sources.list.d") {
        let mut paths: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            if p.extension().is_some_and(|e| e == "sources") {
                found.extend(parse_deb822(&fs::read_to_string(&p).unwrap_or_default()));
            }
        }
    }
    for line in fs::read_to_string("/etc/apt/sources.list")
        .unwrap_or_default()
        .lines()
    {
        let line = line.trim();
        if !(line.starts_with("deb ") || line.starts_with("deb-src ")) {
            continue;
        }
        let mut rest = line.split_once(' ').map(|x| x.1).unwrap_or("").trim();
        let mut keyring = None;
        if rest.starts_with('[') {
            if let Some(end) = rest.find(']') {
                for opt in rest[1..end].split_whitespace() {
                    if let Some(k) = opt.strip_prefix("signed-by=") {
                        keyring = Some(k.to_string());
                    }
                }
                rest = rest[end + 1..].trim();
            }
        }
        let mut it = rest.split_whitespace();
        if let (Some(uri), Some(suite)) = (it.next(), it.next()) {
            found.push((uri.to_string(), suite.to_string(), keyring));
        }
    }
    // The main archive: a suite that is not the security one.
    found
        .into_iter()
        .find(|(uri, suite, _)| !suite.contains("security") && !uri.contains("security"))
        .map(|(uri, _, k)| (uri, k))
}

fn parse_deb822(text: &str) -> Vec<(String, String, Option<String>)> {
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let (mut uris, mut suites, mut key, mut enabled) = (Vec::new(), Vec::new(), None, true);
        for line in stanza.lines() {
            if let Some((k, v)) = line.split_once(':') {
                let v = v.trim();
                match k.trim().to_ascii_lowercase().as_str() {
                    "uris" => uris = v.split_whitespace().map(String::from).collect(),
                    "suites" => suites = v.split_whitespace().map(String::from).collect(),
                    "signed-by" if !v.is_empty() && !v.contains('\n') => key = Some(v.to_string()),
                    "enabled" => enabled = v != "no",
                    _ => {}
                }
            }
        }
        if enabled {
            for u in &uris {
                for s in &suites {
                    out.push((u.clone(), s.clone(), key.clone()));
                }
            }
        }
    }
    out
}

fn fetch_with_apt(missing: &[&Pin], downloads: &Path, state: &Path) -> Result<(), String> {
    let how = "Two ways out:\n  \
        1. let this build reach the Debian archive: it needs `apt-get` and a Debian mirror in \
        /etc/apt/sources.list(.d) (it adds the deb-src entries itself, in a private apt state \
        under the cache, without root), or set TFLITE_SYS_DEBIAN_MIRROR to a mirror URI;\n  \
        2. put the files listed in tflite-sys/vendor/sources.lock into a folder and set \
        TFLITE_SYS_VENDOR_DIR to it (see README, \"Offline builds\").";
    let (mirror, keyring) = machine_mirror()
        .ok_or_else(|| format!("no Debian mirror found in the apt configuration.\n{how}"))?;
    let keyring = keyring
        .or_else(|| {
            let k = "/usr/share/keyrings/debian-archive-keyring.gpg";
            Path::new(k).exists().then(|| k.to_string())
        })
        .ok_or_else(|| {
            format!("no Debian archive keyring found (install debian-archive-keyring).\n{how}")
        })?;

    let lists = state.join("lists");
    let cache = state.join("cache");
    for d in [
        lists.join("partial"),
        cache.join("archives").join("partial"),
    ] {
        fs::create_dir_all(&d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    let mut suites: Vec<&str> = missing.iter().map(|p| p.suite.as_str()).collect();
    suites.sort();
    suites.dedup();
    let mut list = String::new();
    for s in &suites {
        list.push_str(&format!(
            "deb-src [signed-by={keyring}] {mirror} {s} main\n"
        ));
    }
    for p in missing.iter().filter(|p| p.kind == Kind::Binary) {
        list.push_str(&format!(
            "deb [arch={} signed-by={keyring}] {mirror} {} main\n",
            p.arch, p.suite
        ));
    }
    let list_path = state.join("sources.list");
    fs::write(&list_path, list)
        .map_err(|e| format!("cannot write {}: {e}", list_path.display()))?;
    let opts = [
        format!("-oDir::Etc::SourceList={}", list_path.display()),
        "-oDir::Etc::SourceParts=/dev/null".to_string(),
        format!("-oDir::State::Lists={}", lists.display()),
        format!("-oDir::Cache={}", cache.display()),
        "-oAPT::Sandbox::User=root".to_string(),
        "-oDebug::NoLocking=1".to_string(),
        "-qq".to_string(),
    ];
    let mut arch_opts = opts.to_vec();
    for p in missing.iter().filter(|p| p.kind == Kind::Binary) {
        arch_opts.push(format!("-oAPT::Architectures::={}", p.arch));
    }
    let out = Command::new("apt-get")
        .args(&arch_opts)
        .arg("update")
        .output()
        .map_err(|e| format!("cannot run apt-get ({e}).\n{how}"))?;
    if !out.status.success() {
        return Err(format!(
            "`apt-get update` with a private source list failed:\n{}\n{how}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }

    let partial = downloads.join(format!(".partial-{}", std::process::id()));
    fs::create_dir_all(&partial)
        .map_err(|e| format!("cannot create {}: {e}", partial.display()))?;
    let mut failed = Vec::new();
    for pin in missing {
        let spec = match pin.kind {
            Kind::Source => pin.spec(),
            Kind::Binary => format!("{}:{}={}", pin.package, pin.arch, pin.version),
        };
        let verb: &[&str] = match pin.kind {
            Kind::Source => &["source", "--download-only"],
            Kind::Binary => &["download"],
        };
        // apt may exit non-zero because the .dsc or .debian.tar is not served while the orig
        // tarball is: success is judged by the tarball's sha256 alone.
        let out = Command::new("apt-get")
            .args(&arch_opts)
            .args(verb)
            .arg(&spec)
            .current_dir(&partial)
            .output()
            .map_err(|e| format!("cannot run apt-get ({e}).\n{how}"))?;
        let got = partial.join(&pin.file);
        if verified(&got, pin)? {
            fs::rename(&got, downloads.join(&pin.file))
                .map_err(|e| format!("cannot move {}: {e}", got.display()))?;
        } else {
            let why = if got.exists() {
                format!("sha256 {} != pinned {}", sha256_file(&got)?, pin.sha256)
            } else {
                String::from_utf8_lossy(&out.stderr).trim().to_string()
            };
            failed.push(format!("  {} ({spec}): {why}", pin.file));
        }
    }
    let _ = fs::remove_dir_all(&partial);
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "could not fetch these pinned files from the Debian archive:\n{}\n{how}",
            failed.join("\n")
        ))
    }
}
