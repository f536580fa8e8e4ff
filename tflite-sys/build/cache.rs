//! The per-user cache: verified downloads, and finished native builds keyed by everything
//! that changes them, so a fresh clone on a machine that built once does not rebuild.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// `$TFLITE_SYS_CACHE`, else `$XDG_CACHE_HOME/tflite-sys`, else `~/.cache/tflite-sys`.
pub fn root() -> Result<PathBuf, String> {
    use crate::env;
    if let Some(p) = env::path(env::CACHE) {
        return Ok(p);
    }
    if let Some(p) = env::path(env::XDG_CACHE_HOME) {
        return Ok(p.join("tflite-sys"));
    }
    if let Some(h) = env::path(env::HOME) {
        return Ok(h.join(".cache").join("tflite-sys"));
    }
    Err("no cache folder: set TFLITE_SYS_CACHE (or HOME / XDG_CACHE_HOME), or TFLITE_SYS_NO_CACHE=1".into())
}

/// A running fingerprint of the inputs of the native build.
pub struct Key(Sha256);

impl Key {
    pub fn new() -> Self {
        Key(Sha256::new())
    }
    pub fn add(&mut self, label: &str, value: &[u8]) {
        self.0.update((label.len() as u64).to_le_bytes());
        self.0.update(label.as_bytes());
        self.0.update((value.len() as u64).to_le_bytes());
        self.0.update(value);
    }
    /// Adds every file below `dir` (sorted, by relative path and contents).
    pub fn add_tree(&mut self, label: &str, dir: &Path) -> Result<(), String> {
        let mut files = Vec::new();
        walk(dir, &mut files)?;
        files.sort();
        for f in files {
            let rel = f
                .strip_prefix(dir)
                .unwrap_or(&f)
                .to_string_lossy()
                .to_string();
            let data =
                std::fs::read(&f).map_err(|e| format!("cannot read {}: {e}", f.display()))?;
            self.add(&format!("{label}/{rel}"), &data);
        }
        Ok(())
    }
    pub fn finish(self) -> String {
        self.0
            .finalize()
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let rd = std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// The marker written last into a finished build folder.
pub const COMPLETE: &str = "COMPLETE";

pub fn is_complete(dir: &Path) -> bool {
    dir.join(COMPLETE).is_file()
}

/// Moves a finished build from `tmp` to `dest` atomically; if another build got there first,
/// its result is kept (both are built from the same inputs).
pub fn publish(tmp: &Path, dest: &Path) -> Result<(), String> {
    std::fs::write(tmp.join(COMPLETE), b"").map_err(|e| e.to_string())?;
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    match std::fs::rename(tmp, dest) {
        Ok(()) => Ok(()),
        Err(_) if is_complete(dest) => {
            let _ = std::fs::remove_dir_all(tmp);
            Ok(())
        }
        Err(e) => Err(format!(
            "cannot move {} to {}: {e}",
            tmp.display(),
            dest.display()
        )),
    }
}
