//! Unpacking the verified archives and applying our own patches.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Unpacks a tarball so that `dest` is the source root, whether or not the tarball has a
/// top-level folder. `members` limits what is unpacked (paths below that top folder).
pub fn tarball(file: &Path, dest: &Path, members: &[&str]) -> Result<(), String> {
    let tmp = dest.with_extension("partial");
    let _ = fs::remove_dir_all(&tmp);
    let _ = fs::remove_dir_all(dest);
    fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    let mut cmd = Command::new("tar");
    cmd.arg("-xf").arg(file).arg("-C").arg(&tmp);
    if !members.is_empty() {
        cmd.arg("--wildcards");
        for m in members {
            cmd.arg(format!("*/{m}"));
        }
    }
    run(&mut cmd)?;
    let entries: Vec<PathBuf> = fs::read_dir(&tmp)
        .map_err(|e| format!("cannot list {}: {e}", tmp.display()))?
        .flatten()
        .map(|e| e.path())
        .collect();
    let root = if entries.len() == 1 && entries[0].is_dir() {
        entries[0].clone()
    } else {
        tmp.clone()
    };
    fs::rename(&root, dest)
        .map_err(|e| format!("cannot move {} to {}: {e}", root.display(), dest.display()))?;
    let _ = fs::remove_dir_all(&tmp);
    Ok(())
}

/// Unpacks the data of a Debian binary package into `dest` (no dpkg needed: `ar` + `tar`).
pub fn deb(file: &Path, dest: &Path) -> Result<(), String> {
    let _ = fs::remove_dir_all(dest);
    fs::create_dir_all(dest).map_err(|e| format!("cannot create {}: {e}", dest.display()))?;
    let out = Command::new("ar")
        .arg("t")
        .arg(file)
        .output()
        .map_err(|e| format!("cannot run ar: {e}"))?;
    let listing = String::from_utf8_lossy(&out.stdout);
    let data = listing
        .lines()
        .find(|l| l.starts_with("data.tar"))
        .ok_or_else(|| format!("{} has no data.tar member", file.display()))?
        .to_string();
    run(Command::new("ar")
        .arg("x")
        .arg(file)
        .arg(&data)
        .current_dir(dest))?;
    run(Command::new("tar")
        .arg("-xf")
        .arg(dest.join(&data))
        .arg("-C")
        .arg(dest))?;
    let _ = fs::remove_file(dest.join(&data));
    Ok(())
}

/// The patches of one component, in the order its `series` file lists them (none if the
/// component has no patch folder). Every `.patch` file must be listed and every listed file
/// must exist: a patch added or removed without its series entry is an error, not a silent skip.
pub fn series(dir: &Path) -> Result<Vec<PathBuf>, String> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let list = dir.join("series");
    let text = fs::read_to_string(&list).map_err(|e| format!("{}: {e}", list.display()))?;
    let named: Vec<PathBuf> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| dir.join(l))
        .collect();
    for p in &named {
        if !p.is_file() {
            return Err(format!(
                "{} names {}, which does not exist",
                list.display(),
                p.display()
            ));
        }
    }
    for e in fs::read_dir(dir).map_err(|e| e.to_string())?.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|e| e == "patch") && !named.contains(&p) {
            return Err(format!(
                "{} is not listed in {}",
                p.display(),
                list.display()
            ));
        }
    }
    Ok(named)
}

/// Applies `patches` (our own `.patch` files, `-p1`) to the tree at `root`, in order.
pub fn apply_patches(root: &Path, patches: &[PathBuf]) -> Result<(), String> {
    for p in patches {
        run(Command::new("patch")
            .args(["-p1", "--batch", "--forward", "--quiet", "-d"])
            .arg(root)
            .arg("-i")
            .arg(p))
        .map_err(|e| format!("our patch {} does not apply: {e}", p.display()))?;
    }
    Ok(())
}
