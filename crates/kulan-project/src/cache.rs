//! The content-addressed stage cache.
//!
//! A stage's key is a hash of its name, Kulan's version, its options and the hashes of everything
//! it reads (input files and the keys of the stages before it). Its outputs live in
//! `OUT/.kulan-cache/KEY/`, which appears only once the stage has finished: the stage writes into
//! a temporary folder that is renamed into place at the end, so an interrupted run leaves either a
//! whole entry or none, and the next run picks up where it stopped.

use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest, Sha256};

/// Hex SHA-256 of a file's bytes.
pub fn hash_file(path: &Path) -> anyhow::Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(hex(&h.finalize()))
}

/// Hex SHA-256 of text.
pub fn hash_text(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The files that make up a vector source: a Shapefile's sidecars go with it.
pub fn source_files(path: &Path) -> Vec<PathBuf> {
    let mut files = vec![path.to_path_buf()];
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("shp")) {
        for ext in ["shx", "dbf", "prj", "cpg"] {
            let p = path.with_extension(ext);
            if p.exists() {
                files.push(p);
            }
        }
    }
    files
}

/// What identifies a stage's result.
#[derive(Debug, Clone, Default)]
pub struct KeyBuilder {
    parts: Vec<String>,
}

impl KeyBuilder {
    pub fn new(stage: &str) -> Self {
        KeyBuilder { parts: vec![format!("stage={stage}"), format!("kulan={}", env!("CARGO_PKG_VERSION"))] }
    }

    pub fn with(mut self, name: &str, value: impl std::fmt::Display) -> Self {
        self.parts.push(format!("{name}={value}"));
        self
    }

    /// The key: a hash of every part in order.
    pub fn key(&self) -> String {
        hash_text(&self.parts.join("\n"))
    }
}

/// The cache folder of a run.
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    pub fn new(out: &Path) -> Self {
        Cache { root: out.join(".kulan-cache") }
    }

    /// The folder of a finished stage, if there is one.
    pub fn finished(&self, key: &str) -> Option<PathBuf> {
        let dir = self.root.join(key);
        dir.join(DONE).exists().then_some(dir)
    }

    /// Runs `work` into a fresh temporary folder and moves it into place when it succeeds. On
    /// failure the temporary folder is removed and no entry appears.
    pub fn run(&self, key: &str, work: impl FnOnce(&Path) -> anyhow::Result<()>) -> anyhow::Result<PathBuf> {
        std::fs::create_dir_all(&self.root).with_context(|| format!("cannot create {}", self.root.display()))?;
        let tmp = self.root.join(format!("{key}.tmp-{}", std::process::id()));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).ok();
        }
        std::fs::create_dir_all(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let result = work(&tmp).and_then(|()| {
            std::fs::write(tmp.join(DONE), key).context("cannot mark the stage finished")?;
            Ok(())
        });
        if let Err(e) = result {
            std::fs::remove_dir_all(&tmp).ok();
            return Err(e);
        }
        let dir = self.root.join(key);
        if dir.exists() {
            // A concurrent run finished the same stage first; its result is the same.
            std::fs::remove_dir_all(&tmp).ok();
        } else {
            std::fs::rename(&tmp, &dir).with_context(|| format!("cannot move {} into place", tmp.display()))?;
        }
        Ok(dir)
    }

    /// Removes temporary folders left by runs that were killed.
    pub fn clean_stale(&self) {
        if let Ok(entries) = std::fs::read_dir(&self.root) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().contains(".tmp-") {
                    std::fs::remove_dir_all(e.path()).ok();
                }
            }
        }
    }
}

const DONE: &str = ".done";

/// The files of a finished stage, relative to its folder, sorted.
pub fn entry_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        for e in std::fs::read_dir(dir)? {
            let e = e?;
            let p = e.path();
            if e.file_type()?.is_dir() {
                walk(base, &p, out)?;
            } else if e.file_name() != DONE {
                out.push(p.strip_prefix(base).expect("inside").to_path_buf());
            }
        }
        Ok(())
    }
    walk(dir, dir, &mut out).with_context(|| format!("cannot list {}", dir.display()))?;
    out.sort();
    Ok(out)
}

/// Puts a finished stage's files into `target` (hard links, copies across filesystems), each
/// replaced atomically.
pub fn materialize(entry: &Path, target: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let files = entry_files(entry)?;
    for rel in &files {
        let dst = target.join(rel);
        if let Some(parent) = dst.parent() {
            std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let tmp = dst.with_file_name(format!(".{}.kulan-tmp", dst.file_name().unwrap_or_default().to_string_lossy()));
        std::fs::remove_file(&tmp).ok();
        let src = entry.join(rel);
        if std::fs::hard_link(&src, &tmp).is_err() {
            std::fs::copy(&src, &tmp).with_context(|| format!("cannot copy {} to {}", src.display(), tmp.display()))?;
        }
        std::fs::rename(&tmp, &dst).with_context(|| format!("cannot write {}", dst.display()))?;
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_stages_leave_no_entry_and_finished_ones_are_found() {
        let d = tempfile::tempdir().unwrap();
        let cache = Cache::new(d.path());
        let key = KeyBuilder::new("demo").with("x", 1).key();
        assert!(cache.finished(&key).is_none());
        let err = cache.run(&key, |dir| {
            std::fs::write(dir.join("half.csv"), "a,b\n")?;
            anyhow::bail!("stopped midway")
        });
        assert!(err.is_err());
        assert!(cache.finished(&key).is_none());
        assert_eq!(std::fs::read_dir(d.path().join(".kulan-cache")).unwrap().count(), 0);
        let dir = cache.run(&key, |dir| Ok(std::fs::write(dir.join("out.csv"), "a\n1\n")?)).unwrap();
        assert_eq!(cache.finished(&key), Some(dir.clone()));
        let target = d.path().join("scenario");
        assert_eq!(materialize(&dir, &target).unwrap(), vec![PathBuf::from("out.csv")]);
        assert_eq!(std::fs::read_to_string(target.join("out.csv")).unwrap(), "a\n1\n");
    }

    #[test]
    fn keys_change_with_any_part() {
        let a = KeyBuilder::new("s").with("opt", 1).key();
        assert_eq!(a, KeyBuilder::new("s").with("opt", 1).key());
        assert_ne!(a, KeyBuilder::new("s").with("opt", 2).key());
        assert_ne!(a, KeyBuilder::new("t").with("opt", 1).key());
    }
}
