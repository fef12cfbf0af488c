//! `tps barrier`: the reference minimum-energy path and barrier between two states, and for
//! molecules the relaxed potential-energy map recomputed (not the cached one) with its barrier.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::write_json;
use crate::atomic::Staged;
use crate::error::Result;
use crate::progress::Progress;
use crate::provenance::Provenance;
use crate::reference::{Reference, reference};
use crate::system::System;
use crate::system::presentation::SurfaceKind;

/// `barrier.json`.
#[derive(Debug, Clone, Serialize)]
pub struct BarrierReport {
    /// Name of the system.
    pub system: String,
    /// Start state.
    pub from: String,
    /// Target state.
    pub to: String,
    /// Unit of every energy here.
    pub energy_unit: String,
    /// The reference barrier.
    pub reference: Reference,
    /// Command, configuration, seed and inputs.
    pub provenance: Provenance,
}

/// Computes, writes and returns the reference under `out_root/<system>/barrier-<from>-<to>/`.
pub fn run(
    path: &Path,
    from: &str,
    to: &str,
    out_root: &Path,
    progress: &dyn Progress,
) -> Result<(BarrierReport, PathBuf)> {
    let system = System::load(path)?;
    super::check_states(&system.file, from, to)?;
    let dir = out_root
        .join(&system.file.name)
        .join(format!("barrier-{from}-{to}"));
    let staged = Staged::new(&dir)?;
    let relaxed = system.compute_relaxed_map(from, progress)?;
    let reference = reference(&system, from, to, relaxed.as_ref())?;
    super::write_mep(staged.path(), &system.file.coordinate_names(), &reference)?;
    if let Some(map) = &relaxed {
        let text = system.surface_text(map, SurfaceKind::RelaxedMap);
        crate::atomic::write(&staged.path().join("relaxed_map.dat"), text.as_bytes())?;
    }
    let report = BarrierReport {
        system: system.file.name.clone(),
        from: from.into(),
        to: to.into(),
        energy_unit: system.energy_unit().into(),
        reference,
        provenance: system.provenance(None),
    };
    write_json(&staged.path().join("barrier.json"), &report)?;
    Ok((report, staged.publish()?))
}
