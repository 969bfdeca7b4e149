//! Writing output files so that they appear whole or not at all.

use std::path::{Path, PathBuf};

use crate::error::IoError;

/// A target path and a temporary sibling to write to first; `commit` renames it into place.
///
/// Dropping an uncommitted `AtomicPath` removes the temporary file, so a failed run leaves no
/// half-written output behind.
pub struct AtomicPath {
    target: PathBuf,
    temp: PathBuf,
    committed: bool,
}

impl AtomicPath {
    /// Prepares to write `target`; its folder must exist.
    pub fn new(target: &Path) -> Result<Self, IoError> {
        let dir = match target.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(IoError::write(target, "its folder does not exist".into()));
        }
        let name = target
            .file_name()
            .ok_or_else(|| IoError::write(target, "not a file name".into()))?
            .to_string_lossy()
            .into_owned();
        // The temporary keeps the extension so GDAL picks the right driver for it.
        let temp = dir.join(format!(".tmp-{}-{}", std::process::id(), name));
        let _ = std::fs::remove_file(&temp);
        Ok(AtomicPath { target: target.to_path_buf(), temp, committed: false })
    }

    /// Where to write.
    pub fn temp(&self) -> &Path {
        &self.temp
    }

    /// Moves the finished temporary file onto the target.
    pub fn commit(mut self) -> Result<(), IoError> {
        std::fs::rename(&self.temp, &self.target)
            .map_err(|e| IoError::write(&self.target, format!("cannot move the finished file into place: {e}")))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for AtomicPath {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}
