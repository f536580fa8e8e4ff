//! `vendor/sources.lock`: what native sources are used, pinned by version and sha256.

use std::path::Path;

/// How a pinned file is obtained from the Debian archive.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// The orig tarball of a source package (`apt-get source --download-only`).
    Source,
    /// A binary package (`apt-get download`), only for one architecture.
    Binary,
}

/// One row of the lock file.
#[derive(Clone, Debug)]
pub struct Pin {
    pub component: String,
    pub kind: Kind,
    pub package: String,
    pub version: String,
    pub suite: String,
    /// `any`, or the Debian architecture (`amd64`, `arm64`) a binary row is for.
    pub arch: String,
    pub file: String,
    pub sha256: String,
}

impl Pin {
    pub fn spec(&self) -> String {
        format!("{}={}", self.package, self.version)
    }
}

pub fn read(path: &Path) -> Result<Vec<Pin>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut pins = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 8 {
            return Err(format!(
                "{}:{}: expected 8 columns, found {}",
                path.display(),
                n + 1,
                f.len()
            ));
        }
        let kind = match f[1] {
            "source" => Kind::Source,
            "binary" => Kind::Binary,
            k => return Err(format!("{}:{}: unknown kind `{k}`", path.display(), n + 1)),
        };
        pins.push(Pin {
            component: f[0].into(),
            kind,
            package: f[2].into(),
            version: f[3].into(),
            suite: f[4].into(),
            arch: f[5].into(),
            file: f[6].into(),
            sha256: f[7].to_ascii_lowercase(),
        });
    }
    Ok(pins)
}
