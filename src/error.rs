//! One error type for the library; the CLI prints it and exits non-zero.

use std::path::{Path, PathBuf};

/// Everything that can go wrong in `tps`, with enough context to act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration value is missing, of the wrong type or out of range.
    #[error("{file}: field `{field}`: {message}")]
    Config {
        /// The file (or option) the value came from.
        file: String,
        /// The field, dotted (`md.timestep`), or a line (`line 12`).
        field: String,
        /// What was expected.
        message: String,
    },
    /// A file could not be parsed (syntax, unknown keys, wrong types).
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// What is wrong, with its line where known.
        message: String,
    },
    /// Arguments to a library call are inconsistent (shapes, dimensions, ranges).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A model file cannot be used (missing, corrupt, or trained for something else).
    #[error("model {path}: {message}")]
    Model {
        /// The model file.
        path: PathBuf,
        /// Why it cannot be used, and what to do.
        message: String,
    },
    /// The compute device could not be set up as requested.
    #[error("device: {0}")]
    Device(String),
    /// A computation produced non-finite or exploding values (unstable dynamics, a diverged
    /// optimisation).
    #[error("{0}")]
    NonFinite(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A surface file cannot be used (missing, corrupt, or made for another molecule).
    #[error("{0}")]
    Surface(String),
    /// The user interrupted the run; nothing was published.
    #[error("interrupted; nothing was written")]
    Interrupted,
}

impl Error {
    /// The same error about `what` (a flag, a field): `what: message`, one `invalid input:`.
    pub fn about(self, what: &str) -> Self {
        match self {
            Error::Invalid(m) => Error::Invalid(format!("{what}: {m}")),
            other => Error::Invalid(format!("{what}: {other}")),
        }
    }
}

impl From<tps_mm::Error> for Error {
    fn from(e: tps_mm::Error) -> Self {
        match e {
            tps_mm::Error::Parse { file, message } => Error::Parse { file, message },
            tps_mm::Error::Invalid(message) => Error::Invalid(message),
            tps_mm::Error::Io { path, source } => Error::Io { path, source },
        }
    }
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

    /// A configuration error in `file` at `field`.
    pub fn config(file: &Path, field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Config {
            file: file.display().to_string(),
            field: field.into(),
            message: message.into(),
        }
    }

    /// A parse error in `file`.
    pub fn parse(file: &Path, message: impl Into<String>) -> Self {
        Error::Parse {
            file: file.display().to_string(),
            message: message.into(),
        }
    }
}
