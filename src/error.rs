//! One error type for the library; the CLI prints it and exits non-zero.

use std::path::PathBuf;

/// Everything that can go wrong in `tps`, with enough context to act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration value is missing, of the wrong type or out of range.
    #[error("{file}: field `{field}`: {message}")]
    Config {
        file: String,
        field: String,
        message: String,
    },
    /// A file could not be parsed (syntax, unknown keys, wrong types).
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    /// Arguments to a library call are inconsistent (shapes, dimensions, ranges).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A model file cannot be used (missing, corrupt, or trained for something else).
    #[error("model {path}: {message}")]
    Model { path: PathBuf, message: String },
    /// The compute device could not be set up as requested.
    #[error("device: {0}")]
    Device(String),
    /// An optimisation produced a non-finite value; the last finite state is kept by the caller.
    #[error("{0}")]
    NonFinite(String),
    /// An optimisation diverged; `last` is the last finite result.
    #[error("{message}")]
    Diverged {
        message: String,
        last: Box<crate::geometry::Geodesic>,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
