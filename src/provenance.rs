//! What made an output: recorded in every summary and model, so that a number can be traced to
//! the command, the configuration, the seed and the exact input files behind it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The command, configuration, seed and inputs of a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// `tps` version.
    pub tps_version: String,
    /// The command line.
    pub command: String,
    /// Seed of every random choice (none for results without one).
    pub seed: Option<u64>,
    /// The system file's path.
    pub system_file: String,
    /// The system file's full text.
    pub system_config: String,
    /// SHA-256 of every input file read (model, surfaces, topology, coordinates), by path.
    #[serde(default)]
    pub inputs: BTreeMap<String, String>,
}

/// The command line of this process, set once by the program that runs the library.
static COMMAND: OnceLock<String> = OnceLock::new();

/// Records the command line that every output of this process will name (the CLI calls it
/// once, at start; a program using the library may name itself).
pub fn set_command(command: String) {
    // A second call keeps the first: one process, one command.
    let _ = COMMAND.set(command);
}

/// The command line recorded by [`set_command`] (or a note that there is none).
pub fn command() -> String {
    COMMAND
        .get()
        .cloned()
        .unwrap_or_else(|| "(the tps library, no command line)".into())
}

impl Provenance {
    /// A result of the system file at `system_file` whose text is `config`, made with `seed`
    /// from `inputs` (SHA-256 by path), under the command given to [`set_command`].
    pub fn new(
        system_file: &Path,
        config: &str,
        seed: Option<u64>,
        inputs: BTreeMap<String, String>,
    ) -> Self {
        Self {
            tps_version: env!("CARGO_PKG_VERSION").into(),
            command: command(),
            seed,
            system_file: system_file.display().to_string(),
            system_config: config.into(),
            inputs,
        }
    }

    /// Adds the hash of an input file.
    pub fn with_input(mut self, path: &Path) -> Result<Self> {
        self.inputs
            .insert(path.display().to_string(), sha256_file(path)?);
        Ok(self)
    }
}

/// SHA-256 (hex) of bytes.
pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// SHA-256 (hex) of a file's contents.
pub fn sha256_file(path: &Path) -> Result<String> {
    Ok(sha256(
        &std::fs::read(path).map_err(|e| Error::io(path, e))?,
    ))
}
