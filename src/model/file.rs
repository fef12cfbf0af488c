//! Trained models on disk: a JSON header (architecture, normalisation, what the model was
//! trained on and how) followed by the parameters as little-endian f64, with a SHA-256 of the
//! payload to catch corruption.
//!
//! Layout: `TPSMODEL` magic, header length (u64 LE), header JSON, payload.

use std::path::Path;

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::atomic;
use crate::error::{Error, Result};
use crate::model::denoiser::Normalisation;
use crate::model::denoiser::{Mlp, MlpConfig};
use crate::model::training::TrainingConfig;
use crate::potential::{Tabulated, WellTempered};
use crate::provenance::Provenance;

const MAGIC: &[u8; 8] = b"TPSMODEL";
/// Version of the file layout (2: kT, surface hash and provenance recorded).
pub const FORMAT: u32 = 2;

/// Everything about a model except its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    /// File layout version.
    pub format: u32,
    /// Name of the system the model was trained for.
    pub system: String,
    /// The thermal energy of the Boltzmann samples it learnt.
    pub kt: f64,
    /// SHA-256 of the energy surface file the samples were drawn from (a molecule's free-energy
    /// surface, a tabulated potential), if there was one.
    pub surface_sha256: Option<String>,
    /// Network architecture.
    pub architecture: MlpConfig,
    /// Data ↔ model-space map.
    pub normalisation: Normalisation,
    /// Training hyper-parameters.
    pub training: TrainingConfig,
    /// SHA-256 of the training data.
    pub data_sha256: String,
    /// Number of training samples.
    pub data_samples: usize,
    /// Potential evaluations spent generating the training data.
    pub sampling_evaluations: u64,
    /// Mean weighted loss per training step.
    pub loss_history: Vec<f64>,
    /// SHA-256 of the parameter payload.
    pub payload_sha256: String,
    /// Command, system file and seed that made it.
    pub provenance: Provenance,
    /// The known tilt of a model of a flattened ensemble (none: Boltzmann samples).
    #[serde(default)]
    pub tilt: Option<TiltRecord>,
}

/// What a model of a flattened ensemble needs to be turned back into Boltzmann's: the tilt it
/// learnt under, tabulated as metadynamics stores its bias, so that the correction costs no
/// call of the system's energy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TiltRecord {
    /// What the tilt is.
    pub definition: String,
    /// Its parameters.
    pub well_tempered: WellTempered,
    /// SHA-256 of the surface file it was computed from (none for an analytic surface).
    pub surface_sha256: Option<String>,
    /// `V` on a grid (data units), interpolated like a tabulated surface.
    pub bias: Tabulated,
}

/// What a model must have been trained for to be used.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected<'a> {
    /// Name of the system.
    pub system: &'a str,
    /// Thermal energy kT.
    pub kt: f64,
    /// SHA-256 of the surface file the model must have been trained on, if any.
    pub surface_sha256: Option<&'a str>,
    /// The network.
    pub architecture: &'a MlpConfig,
    /// The ensemble the system's `[training]` asks for: its bias factor and cap, if tilted.
    pub tilt: Option<(f64, Option<f64>)>,
}

/// SHA-256 (hex) of a data set, row by row, as little-endian f64.
pub fn data_hash(data: &[Vec<f64>]) -> String {
    let mut h = Sha256::new();
    for row in data {
        for v in row {
            h.update(v.to_le_bytes());
        }
    }
    hex(&h.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes a model atomically; `metadata.payload_sha256` is filled in here.
pub fn save(path: &Path, metadata: &ModelMetadata, mlp: &Mlp) -> Result<()> {
    atomic::write(path, &encode(metadata, mlp)?)
}

/// The bytes of a model file; `metadata.payload_sha256` is filled in here.
pub fn encode(metadata: &ModelMetadata, mlp: &Mlp) -> Result<Vec<u8>> {
    let mut payload = Vec::new();
    for param in mlp.to_host() {
        for v in param {
            payload.extend_from_slice(&v.to_le_bytes());
        }
    }
    let mut meta = metadata.clone();
    meta.payload_sha256 = hex(&Sha256::digest(&payload));
    meta.format = FORMAT;
    let header = serde_json::to_vec_pretty(&meta)
        .map_err(|e| Error::Invalid(format!("cannot encode model header: {e}")))?;
    let mut bytes = Vec::with_capacity(16 + header.len() + payload.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&(header.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&header);
    bytes.extend_from_slice(&payload);
    Ok(bytes)
}

/// Reads only the header of a model file.
pub fn read_metadata(path: &Path) -> Result<ModelMetadata> {
    let bytes = read(path)?;
    Ok(parse(path, &bytes)?.0)
}

/// Loads a model onto `device`.
pub fn load(path: &Path, device: &Device) -> Result<(ModelMetadata, Mlp)> {
    let bytes = read(path)?;
    let (meta, payload) = parse(path, &bytes)?;
    let bad = |message: String| Error::Model {
        path: path.to_path_buf(),
        message,
    };
    if hex(&Sha256::digest(payload)) != meta.payload_sha256 {
        return Err(bad(
            "the weights do not match their checksum: the file is corrupt; retrain with `tps train`"
                .into(),
        ));
    }
    let shapes = meta.architecture.parameter_shapes();
    let expected: usize = shapes.iter().map(|(r, c)| r * c).sum();
    if payload.len() != expected * 8 {
        return Err(bad(format!(
            "the file holds {} parameters, the architecture in its header needs {expected}",
            payload.len() / 8
        )));
    }
    let mut values = payload
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")));
    let params: Vec<Vec<f64>> = shapes
        .iter()
        .map(|(r, c)| values.by_ref().take(r * c).collect())
        .collect();
    let mlp = Mlp::from_host(meta.architecture.clone(), &params, device)
        .map_err(|e| bad(e.to_string()))?;
    Ok((meta, mlp))
}

impl ModelMetadata {
    /// Fails unless the model was trained for `expected`: the same system, temperature,
    /// surface and architecture.
    pub fn check_compatible(&self, path: &Path, expected: &Expected) -> Result<()> {
        let bad = |message: String| {
            Err(Error::Model {
                path: path.to_path_buf(),
                message,
            })
        };
        if self.system != expected.system {
            return bad(format!(
                "trained for system `{}`, not `{}`; run `tps train` for this system",
                self.system, expected.system
            ));
        }
        if (self.kt - expected.kt).abs() > 1e-9 * expected.kt.abs() {
            return bad(format!(
                "trained on samples at kT = {}, but the system is at kT = {}; retrain with \
                 `tps train`",
                self.kt, expected.kt
            ));
        }
        if let Some(want) = expected.surface_sha256
            && self.surface_sha256.as_deref() != Some(want)
        {
            return bad(
                "trained on another energy surface than the system's current one (its \
                 free-energy surface changed since); retrain with `tps train`"
                    .into(),
            );
        }
        let tilt = self
            .tilt
            .as_ref()
            .map(|t| (t.well_tempered.bias_factor, t.well_tempered.cap));
        if tilt != expected.tilt {
            let says = |t: Option<(f64, Option<f64>)>| match t {
                None => "the Boltzmann ensemble".to_string(),
                Some((g, cap)) => format!(
                    "the well-tempered ensemble (γ = {g}{})",
                    cap.map_or(String::new(), |c| format!(", cap {c}"))
                ),
            };
            return bad(format!(
                "trained on {}, but the system's [training] asks for {}; retrain with `tps train`",
                says(tilt),
                says(expected.tilt)
            ));
        }
        if let Some(t) = &self.tilt {
            if !t.bias.is_well_formed() {
                return bad("its tilt's bias grid is malformed: the file is corrupt".into());
            }
            if let Some(want) = expected.surface_sha256
                && t.surface_sha256.as_deref() != Some(want)
            {
                return bad(
                    "its tilt was computed from another surface than the system's current one; \
                     retrain with `tps train`"
                        .into(),
                );
            }
        }
        if &self.architecture != expected.architecture {
            return bad(format!(
                "trained with architecture {:?}, but the configuration asks for {:?}; retrain \
                 with `tps train`",
                self.architecture, expected.architecture
            ));
        }
        Ok(())
    }
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Model {
                path: path.to_path_buf(),
                message: "no such model; run `tps train` on the system file first".into(),
            }
        } else {
            Error::io(path, e)
        }
    })
}

fn parse<'a>(path: &Path, bytes: &'a [u8]) -> Result<(ModelMetadata, &'a [u8])> {
    let bad = |message: &str| Error::Model {
        path: path.to_path_buf(),
        message: message.into(),
    };
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return Err(bad("not a tps model file (bad magic)"));
    }
    let len = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")) as usize;
    let header = bytes
        .get(16..16usize.saturating_add(len))
        .ok_or_else(|| bad("truncated header: the file is corrupt"))?;
    #[derive(Deserialize)]
    struct Format {
        format: u32,
    }
    let format: Format = serde_json::from_slice(header)
        .map_err(|e| bad(&format!("unreadable header ({e}): the file is corrupt")))?;
    if format.format != FORMAT {
        return Err(bad(&format!(
            "model format {} is not supported by this tps (format {FORMAT}); retrain with \
             `tps train`",
            format.format
        )));
    }
    let meta: ModelMetadata = serde_json::from_slice(header)
        .map_err(|e| bad(&format!("unreadable header ({e}): the file is corrupt")))?;
    Ok((meta, &bytes[16 + len..]))
}
