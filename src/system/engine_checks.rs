//! The engine's settings as a system file gives them, checked with the file and the field
//! named: what the physics allows for dynamics and metadynamics.

use crate::error::Result;
use crate::molecule::{MdConfig, MetadynamicsConfig};
use crate::toml_file::Checks;

/// Checks every value of `[md]`-like settings (`section` prefixes the field names).
pub fn md(md: &MdConfig, c: &Checks, section: &str) -> Result<()> {
    c.positive(md.temperature, &format!("{section}.temperature"))?;
    c.require(
        (1.0..=5000.0).contains(&md.temperature),
        &format!("{section}.temperature"),
        &format!(
            "is in K; {} K is outside what a force field describes (1 to 5000 K)",
            md.temperature
        ),
    )?;
    c.non_negative(md.friction, &format!("{section}.friction"))?;
    c.require(
        md.friction <= 1000.0,
        &format!("{section}.friction"),
        "is in 1/ps; above 1000/ps the dynamics is frozen",
    )?;
    c.positive(md.timestep, &format!("{section}.timestep"))?;
    c.require(
        md.timestep <= 0.01,
        &format!("{section}.timestep"),
        "is in ps; steps above 0.01 ps (10 fs) are unstable for molecules",
    )?;
    c.at_least(md.walkers, 1, &format!("{section}.walkers"))?;
    c.require(
        md.steps >= 1,
        &format!("{section}.steps"),
        "must be at least 1",
    )?;
    c.require(
        md.report_every >= 1,
        &format!("{section}.report_every"),
        "must be at least 1",
    )
}

/// Checks every value of `[metadynamics]`.
pub fn metadynamics(m: &MetadynamicsConfig, c: &Checks) -> Result<()> {
    c.positive(m.height, "metadynamics.height")?;
    c.require(
        m.height <= 100.0,
        "metadynamics.height",
        &format!(
            "{} kJ/mol: hills above 100 kJ/mol blow the walkers apart (typical: 0.5 to 2)",
            m.height
        ),
    )?;
    c.positive(m.width, "metadynamics.width")?;
    c.require(
        m.width <= std::f64::consts::PI,
        "metadynamics.width",
        "is in rad; hills wider than π cover the whole period",
    )?;
    c.require(
        m.bias_factor <= 1000.0,
        "metadynamics.bias_factor",
        "above 1000 the run is plain metadynamics and never converges",
    )?;
    c.require(m.pace >= 1, "metadynamics.pace", "must be at least 1")?;
    c.require(
        m.bias_factor > 1.0 && m.bias_factor.is_finite(),
        "metadynamics.bias_factor",
        "must be finite and above 1",
    )?;
    c.at_least(m.grid, 8, "metadynamics.grid")?;
    // The bias and its two derivatives, its free energy and a copy: 48 bytes a node.
    c.memory(48.0 * (m.grid as f64).powi(2), "metadynamics.grid")
}
