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

/// The tensors of a PyTorch checkpoint (a `state_dict`, possibly under `state_dict`).
pub fn read_pytorch(path: &Path) -> Result<Tensors> {
    use burn_store::pytorch_reader::{DType, PytorchReader};
    let reader = PytorchReader::new(path)
        .or_else(|_| PytorchReader::with_top_level_key(path, "state_dict"))
        .map_err(|e| refuse(path, format!("not a readable PyTorch checkpoint: {e}")))?;
    let mut out = Tensors::new();
    for (name, tensor) in reader.tensors() {
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
        out.insert(
            name.clone(),
            (tensor.shape().to_vec(), floats(path, name, &bytes, f64s)?),
        );
    }
    Ok(out)
}

/// The tensors of a safetensors file.
pub fn read_safetensors(path: &Path) -> Result<Tensors> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let file = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| refuse(path, format!("not a readable safetensors file: {e}")))?;
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
    Ok(out)
}

/// `config`'s parameters (in [`MlpConfig::parameter_shapes`] order) from the tensors of the
/// authors' network, every key and shape checked; `config` must be the authors' network.
pub fn authors_parameters(
    path: &Path,
    tensors: &Tensors,
    config: &MlpConfig,
) -> Result<Vec<Vec<f64>>> {
    if config.network != Network::Authors {
        return Err(refuse(
            path,
            "a PyTorch checkpoint of the paper's network imports into a system whose [model] \
             has network = \"authors\"",
        ));
    }
    let (d, h, e, b) = (config.dim, config.hidden, config.embedding, config.blocks);
    // (key, PyTorch shape) in our parameter order.
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
    let extra: Vec<&String> = tensors
        .keys()
        .filter(|k| !expected.iter().any(|(e, _)| e == *k))
        .collect();
    if !extra.is_empty() {
        return Err(refuse(
            path,
            format!(
                "keys the paper's network (hidden {h}, {b} blocks, embeddings of {e}, {d} \
                 coordinates) does not have: {}",
                extra
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    expected
        .iter()
        .map(|(key, shape)| {
            let (found, values) = tensors
                .get(key)
                .ok_or_else(|| refuse(path, format!("missing key `{key}`")))?;
            if found != shape {
                return Err(refuse(
                    path,
                    format!("`{key}` has shape {found:?}; the system's [model] needs {shape:?}"),
                ));
            }
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
