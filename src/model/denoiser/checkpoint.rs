//! The spacetime paper's network trained elsewhere: a PyTorch `state_dict` (`.pt`, read by
//! burn-store's PyTorch reader, which interprets the pickle's tensors and executes none of
//! its code) or a safetensors file, checked key by key and shape by shape against the
//! authors' architecture and turned into an [`Mlp`](super::Mlp) with `network = "authors"`.
//!
//! Keys: `joint_mlp.0.weight` `[H, (D+1)·E]` and `.bias` (the lift), `joint_mlp.{2…}.ff.weight`
//! `[H, H]` and `.bias` (one per residual block), and the read-out `joint_mlp.{2+B}.weight`
//! `[D, H]` and `.bias`; PyTorch stores `Linear` weights as `[out, in]`, the transpose of
//! ours.

use std::collections::BTreeMap;
use std::path::Path;

use super::mlp::{MlpConfig, Network};
use crate::error::{Error, Result};

/// A checkpoint's tensors: name → (shape, values).
type Tensors = BTreeMap<String, (Vec<usize>, Vec<f64>)>;

fn refuse(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::Model {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

fn floats(path: &Path, name: &str, bytes: &[u8], f64s: bool) -> Result<Vec<f64>> {
    let width = if f64s { 8 } else { 4 };
    if !bytes.len().is_multiple_of(width) {
        return Err(refuse(path, format!("tensor `{name}`: truncated data")));
    }
    Ok(bytes
        .chunks_exact(width)
        .map(|c| {
            if f64s {
                f64::from_le_bytes(c.try_into().expect("8 bytes"))
            } else {
                f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes")))
            }
        })
        .collect())
}

/// The key and PyTorch shape of every parameter of the authors' network `config`, in our
/// parameter order; `config` must be the authors' network.
fn expected_tensors(path: &Path, config: &MlpConfig) -> Result<Vec<(String, Vec<usize>)>> {
    if config.network != Network::Authors {
        return Err(refuse(
            path,
            "a PyTorch checkpoint of the paper's network imports into a system whose [model] \
             has network = \"authors\"",
        ));
    }
    let (d, h, e, b) = (config.dim, config.hidden, config.embedding, config.blocks);
    let mut expected: Vec<(String, Vec<usize>)> = vec![
        ("joint_mlp.0.weight".into(), vec![h, (d + 1) * e]),
        ("joint_mlp.0.bias".into(), vec![h]),
    ];
    for k in 0..b {
        expected.push((format!("joint_mlp.{}.ff.weight", k + 2), vec![h, h]));
        expected.push((format!("joint_mlp.{}.ff.bias", k + 2), vec![h]));
    }
    expected.push((format!("joint_mlp.{}.weight", b + 2), vec![d, h]));
    expected.push((format!("joint_mlp.{}.bias", b + 2), vec![d]));
    Ok(expected)
}

/// Checks a checkpoint's names and shapes (from its metadata, before any data is read: a
/// crafted file cannot make the reader allocate more than the network needs) against
/// `expected`.
fn check_metadata(
    path: &Path,
    found: &BTreeMap<String, Vec<usize>>,
    expected: &[(String, Vec<usize>)],
    config: &MlpConfig,
) -> Result<()> {
    let extra: Vec<&str> = found
        .keys()
        .filter(|k| !expected.iter().any(|(e, _)| e == *k))
        .map(String::as_str)
        .collect();
    if !extra.is_empty() {
        return Err(refuse(
            path,
            format!(
                "keys the paper's network (hidden {}, {} blocks, embeddings of {}, {} \
                 coordinates) does not have: {}",
                config.hidden,
                config.blocks,
                config.embedding,
                config.dim,
                extra.join(", ")
            ),
        ));
    }
    for (key, shape) in expected {
        let found = found
            .get(key)
            .ok_or_else(|| refuse(path, format!("missing key `{key}`")))?;
        if found != shape {
            return Err(refuse(
                path,
                format!("`{key}` has shape {found:?}; the system's [model] needs {shape:?}"),
            ));
        }
    }
    Ok(())
}

/// A `state_dict` saved on its own or nested (`torch.save({"state_dict": sd})`, as training
/// scripts save it beside other entries): the tensors' names without the nesting key.
const NESTING: &str = "state_dict.";

/// The parameters of the authors' network `config` (in [`MlpConfig::parameter_shapes`]
/// order) from a PyTorch checkpoint, every key and shape checked before any tensor is read.
pub fn read_pytorch(path: &Path, config: &MlpConfig) -> Result<Vec<Vec<f64>>> {
    use burn_store::pytorch_reader::{DType, PytorchReader};
    let expected = expected_tensors(path, config)?;
    let reader = PytorchReader::new(path)
        .or_else(|_| PytorchReader::with_top_level_key(path, "state_dict"))
        .map_err(|e| refuse(path, format!("not a readable PyTorch checkpoint: {e}")))?;
    let tensors = reader.tensors();
    let nested = !tensors.is_empty() && tensors.keys().all(|k| k.starts_with(NESTING));
    let plain = |k: &str| -> String {
        if nested {
            k[NESTING.len()..].to_string()
        } else {
            k.to_string()
        }
    };
    let shapes = tensors
        .iter()
        .map(|(k, t)| (plain(k), t.shape().to_vec()))
        .collect();
    check_metadata(path, &shapes, &expected, config)?;
    let mut out = Tensors::new();
    for (name, tensor) in tensors {
        let f64s = match tensor.dtype() {
            DType::F32 => false,
            DType::F64 => true,
            other => {
                return Err(refuse(
                    path,
                    format!("tensor `{name}` is {other:?}; the network's weights are f32 or f64"),
                ));
            }
        };
        let bytes = tensor
            .read()
            .map_err(|e| refuse(path, format!("tensor `{name}`: {e} (truncated file?)")))?;
        let values = floats(path, name, &bytes, f64s)?;
        let shape = tensor.shape().to_vec();
        if values.len() != shape.iter().product::<usize>() {
            return Err(refuse(
                path,
                format!(
                    "tensor `{name}`: {} values for shape {shape:?}",
                    values.len()
                ),
            ));
        }
        out.insert(plain(name), (shape, values));
    }
    parameters(path, &out, &expected)
}

/// The parameters of the authors' network `config` from a safetensors file, every key and
/// shape checked before any tensor is converted.
pub fn read_safetensors(path: &Path, config: &MlpConfig) -> Result<Vec<Vec<f64>>> {
    let expected = expected_tensors(path, config)?;
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let file = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| {
        let hint = if bytes.starts_with(b"PK") || bytes.first() == Some(&0x80) {
            " (this looks like a PyTorch checkpoint: import it with --pytorch)"
        } else {
            ""
        };
        refuse(path, format!("not a readable safetensors file: {e}{hint}"))
    })?;
    let shapes = file
        .tensors()
        .into_iter()
        .map(|(k, v)| (k, v.shape().to_vec()))
        .collect();
    check_metadata(path, &shapes, &expected, config)?;
    let mut out = Tensors::new();
    for (name, view) in file.tensors() {
        let f64s = match view.dtype() {
            safetensors::Dtype::F32 => false,
            safetensors::Dtype::F64 => true,
            other => {
                return Err(refuse(
                    path,
                    format!("tensor `{name}` is {other:?}; the network's weights are f32 or f64"),
                ));
            }
        };
        out.insert(
            name.clone(),
            (
                view.shape().to_vec(),
                floats(path, &name, view.data(), f64s)?,
            ),
        );
    }
    parameters(path, &out, &expected)
}

/// The parameters in our order and layout from checked tensors.
fn parameters(
    path: &Path,
    tensors: &Tensors,
    expected: &[(String, Vec<usize>)],
) -> Result<Vec<Vec<f64>>> {
    expected
        .iter()
        .map(|(key, shape)| {
            let (_, values) = &tensors[key];
            if values.iter().any(|v| !v.is_finite()) {
                return Err(refuse(path, format!("`{key}` holds non-finite values")));
            }
            Ok(match shape.as_slice() {
                // [out, in] → our [in, out].
                [rows, cols] => (0..*cols)
                    .flat_map(|c| (0..*rows).map(move |r| (r, c)))
                    .map(|(r, c)| values[r * cols + c])
                    .collect(),
                _ => values.clone(),
            })
        })
        .collect()
}
