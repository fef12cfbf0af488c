//! `tps md`: Langevin dynamics of a molecule, plain or with well-tempered metadynamics on
//! (φ, ψ); writes trajectories, the CV and energy time series and the free-energy surface.

use std::path::{Path, PathBuf};
use std::time::Instant;

use plotters::style::RGBColor;
use serde::Serialize;
use tracing::info;

use super::{progress, publish_dir, staging_dir, write_json};
use crate::barrier::grid_minimax;
use crate::error::Result;
use crate::mm::config::Molecule;
use crate::mm::metadynamics::Metadynamics;
use crate::mm::{Backbone, Langevin, State};
use crate::output::{plot, table, trajectory::MoleculeTopology};
use crate::potential::{Potential, Tabulated};

/// Free-energy facts from a metadynamics run.
#[derive(Debug, Clone, Serialize)]
pub struct FreeEnergySummary {
    /// (φ, ψ) and F of the lowest point near C7eq and near C7ax.
    pub c7eq: (f64, f64, f64),
    pub c7ax: (f64, f64, f64),
    /// Lowest possible highest free energy on any path C7eq → C7ax, minus F(C7eq).
    pub barrier_c7eq_to_c7ax: f64,
    pub hills: usize,
}

/// What `tps md` did.
#[derive(Debug, Clone, Serialize)]
pub struct MdReport {
    pub walkers: usize,
    pub steps_per_walker: u64,
    pub timestep_ps: f64,
    pub wall_seconds: f64,
    /// Steps per second, all walkers together.
    pub steps_per_second: f64,
    /// Simulated ns per day, all walkers together.
    pub ns_per_day: f64,
    pub free_energy: Option<FreeEnergySummary>,
    pub provenance: MdProvenance,
}

/// Command, file and seed.
#[derive(Debug, Clone, Serialize)]
pub struct MdProvenance {
    pub tps_version: String,
    pub command: String,
    pub seed: u64,
    pub system_file: String,
    pub system_config: String,
}

fn lowest_near(fes: &Tabulated, n: usize, centre: (f64, f64), radius: f64) -> (f64, f64, f64) {
    let mut best = (centre.0, centre.1, f64::INFINITY);
    for j in 0..n {
        for i in 0..n {
            let [x, y] = fes.node(i, j);
            let d = fes.displacement(&[centre.0, centre.1], &[x, y]);
            if d[0].hypot(d[1]) <= radius && fes.value(i, j) < best.2 {
                best = (x, y, fes.value(i, j));
            }
        }
    }
    best
}

/// Runs `tps md`.
pub fn run(
    path: &Path,
    steps: Option<u64>,
    seed: u64,
    out_root: &Path,
) -> Result<(MdReport, PathBuf)> {
    let mol = Molecule::load(path)?;
    let file = &mol.file;
    let md = file.md.langevin();
    let steps = steps.unwrap_or(file.md.steps);
    let target = out_root.join(&file.name).join("md");
    let staging = staging_dir(&target)?;
    let result = (|| {
        let mut walkers: Vec<(Langevin, State)> = (0..file.md.walkers)
            .map(|w| {
                let mut integrator = Langevin::new(
                    &md,
                    &mol.topology.masses,
                    seed.wrapping_mul(1000).wrapping_add(w as u64),
                );
                let mut state = State {
                    positions: mol.positions.clone(),
                    velocities: vec![[0.0; 3]; mol.topology.len()],
                };
                integrator.thermalise(&mut state);
                (integrator, state)
            })
            .collect();
        let cv = Backbone::dipeptide(&mol.topology).ok();
        let mut meta = match (&file.metadynamics, cv) {
            (Some(c), Some(cv)) => Some(Metadynamics::new(cv, &md, c)),
            (Some(_), None) => {
                return Err(crate::Error::Invalid(
                    "metadynamics needs the backbone φ/ψ atoms of a dipeptide".into(),
                ));
            }
            _ => None,
        };
        // Chunks between reports; with metadynamics a whole number of hills per chunk.
        let chunk = match &file.metadynamics {
            Some(c) => file.md.report_every.div_ceil(c.pace) * c.pace,
            None => file.md.report_every,
        };
        let chunks = steps / chunk;
        let mut frames: Vec<Vec<Vec<[f64; 3]>>> = vec![Vec::new(); walkers.len()];
        let mut cv_rows = Vec::new();
        let mut energy_rows = Vec::new();
        let bar = progress(chunks * chunk, "md");
        let t0 = Instant::now();
        for c in 0..chunks {
            match meta.as_mut() {
                Some(m) => m.advance(
                    &mol.forcefield,
                    &mut walkers,
                    chunk / file.metadynamics.as_ref().map_or(1, |c| c.pace),
                ),
                None => {
                    use rayon::prelude::*;
                    walkers
                        .par_iter_mut()
                        .for_each(|(i, s)| i.run(&mol.forcefield, s, chunk, None));
                }
            }
            let time = (c + 1) as f64 * chunk as f64 * md.timestep;
            for (w, (integrator, state)) in walkers.iter().enumerate() {
                frames[w].push(state.positions.clone());
                let e = integrator.energies();
                energy_rows.push(vec![
                    time,
                    w as f64,
                    e.bond,
                    e.angle,
                    e.torsion,
                    e.lj,
                    e.coulomb,
                    e.total(),
                    integrator.kinetic_temperature(state),
                ]);
                if let Some(cv) = cv {
                    let (phi, psi) = cv.angles(&state.positions);
                    let bias = meta.as_ref().map_or(0.0, |m| m.bias_at(phi, psi).0);
                    cv_rows.push(vec![time, w as f64, phi, psi, bias]);
                }
            }
            bar.inc(chunk);
        }
        bar.finish_and_clear();
        let wall = t0.elapsed().as_secs_f64();
        let total_steps = (chunks * chunk) as f64 * walkers.len() as f64;
        let steps_per_second = total_steps / wall.max(1e-9);
        info!(
            "{} walkers × {} steps in {wall:.1} s: {steps_per_second:.0} steps/s",
            walkers.len(),
            chunks * chunk
        );

        let topology = MoleculeTopology::new(&mol.topology, &mol.bonds());
        topology.write(
            &staging.join("topology.pdb"),
            "PDB",
            std::slice::from_ref(&mol.positions),
        )?;
        for (w, f) in frames.iter().enumerate() {
            topology.write(&staging.join(format!("walker_{w:03}.dcd")), "DCD", f)?;
        }
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        table::write_csv(
            &staging.join("cv.csv"),
            &names(&["time_ps", "walker", "phi", "psi", "bias"]),
            &cv_rows,
        )?;
        table::write_csv(
            &staging.join("energies.csv"),
            &names(&[
                "time_ps",
                "walker",
                "bond",
                "angle",
                "torsion",
                "lj",
                "coulomb",
                "total",
                "kinetic_temperature",
            ]),
            &energy_rows,
        )?;
        let free_energy = match &meta {
            Some(m) => Some(write_free_energy(&staging, m)?),
            None => None,
        };
        Ok(MdReport {
            walkers: walkers.len(),
            steps_per_walker: chunks * chunk,
            timestep_ps: md.timestep,
            wall_seconds: wall,
            steps_per_second,
            ns_per_day: steps_per_second * md.timestep * 1e-3 * 86400.0,
            free_energy,
            provenance: MdProvenance {
                tps_version: env!("CARGO_PKG_VERSION").into(),
                command: std::env::args().collect::<Vec<_>>().join(" "),
                seed,
                system_file: path.display().to_string(),
                system_config: std::fs::read_to_string(path).unwrap_or_default(),
            },
        })
    })();
    match result {
        Ok(report) => {
            write_json(&staging.join("summary.json"), &report)?;
            publish_dir(&staging, &target)?;
            Ok((report, target))
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(e)
        }
    }
}

/// Writes `fes.dat` (`phi psi F`, φ fastest: loadable as a tabulated periodic surface) and
/// `fes.png`, and summarises the C7eq and C7ax basins and the barrier between them.
fn write_free_energy(dir: &Path, m: &Metadynamics) -> Result<FreeEnergySummary> {
    let n = m.grid_size();
    let fes = m.free_energy();
    let text = table::angle_grid_text(
        "phi psi free_energy_kJ_per_mol (well-tempered metadynamics, tps)",
        &fes,
        n,
    );
    crate::atomic::write(&dir.join("fes.dat"), text.as_bytes())?;
    let surface = Tabulated::parse(&text, "fes.dat", true)?;
    let c7eq = lowest_near(&surface, n, (-1.4, 1.1), 0.8);
    let c7ax = lowest_near(&surface, n, (1.1, -0.9), 0.8);
    let path = grid_minimax(
        &surface,
        &[[-std::f64::consts::PI, std::f64::consts::PI]; 2],
        n,
        &[c7eq.0, c7eq.1],
        &[c7ax.0, c7ax.1],
    )?;
    plot::map_with_curves(
        &dir.join("fes.png"),
        "free energy F(φ, ψ) from metadynamics (kJ/mol)",
        ("φ (rad)", "ψ (rad)"),
        [-std::f64::consts::PI, std::f64::consts::PI],
        [-std::f64::consts::PI, std::f64::consts::PI],
        &|x, y| surface.energy(&[x, y]),
        60.0,
        &[plot::Curve {
            label: "minimax path C7eq → C7ax".into(),
            color: RGBColor(230, 40, 40),
            points: path.points.iter().map(|p| [p[0], p[1]]).collect(),
            width: 2,
        }],
    )?;
    Ok(FreeEnergySummary {
        c7eq,
        c7ax,
        barrier_c7eq_to_c7ax: path.barrier - c7eq.2,
        hills: m.hills,
    })
}
