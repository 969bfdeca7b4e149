//! Errors from reading and writing files, phrased for the person who has to fix the input.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum IoError {
    #[error("{path}: file not found; check the path (relative paths are taken from the current folder)")]
    NotFound { path: String },
    #[error("{context}: {source}")]
    Gdal { context: String, source: gdal::errors::GdalError },
    /// The input is readable but not usable as it stands; the message says what to do.
    #[error("{0}")]
    Input(String),
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
    #[error("coordinate transformation: {0}")]
    Crs(String),
}

impl IoError {
    pub(crate) fn gdal(context: String, source: gdal::errors::GdalError) -> Self {
        IoError::Gdal { context, source }
    }

    pub(crate) fn write(path: &Path, message: String) -> Self {
        IoError::Write { path: path.display().to_string(), message }
    }
}
