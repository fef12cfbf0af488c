//! JSON helpers: JSON has no NaN, so `serde_json` writes it as `null`; reading it back needs
//! the way back.

use serde::{Deserialize, Deserializer};

/// Numbers where `null` (a NaN written) reads as NaN.
pub fn nullable_f64s<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    let values: Vec<Option<f64>> = Vec::deserialize(d)?;
    Ok(values.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
}

/// A number where `null` (a NaN written) reads as NaN.
pub fn nullable_f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}
