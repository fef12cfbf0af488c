//! What made an output: recorded in every summary and model, so that a number can be traced to
//! the command, the configuration, the seed and the exact input files behind it.

use std::collections::BTreeMap;
use std::path::Path;

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
    /// Seed of every random choice.
    pub seed: u64,
    /// The system file's path.
    pub system_file: String,
    /// The system file's full text.
    pub system_config: String,
    /// SHA-256 of every input file read (model, surfaces, topology, coordinates), by path.
    #[serde(default)]
    pub inputs: BTreeMap<String, String>,
}

impl Provenance {
    /// Records the current command line for `system_file` (its text is read here).
    pub fn new(system_file: &Path, seed: u64) -> Self {
        Self {
            tps_version: env!("CARGO_PKG_VERSION").into(),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            seed,
            system_file: system_file.display().to_string(),
            system_config: std::fs::read_to_string(system_file).unwrap_or_default(),
            inputs: BTreeMap::new(),
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
