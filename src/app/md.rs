//! `tps md`: Langevin dynamics of a molecule, plain or with well-tempered metadynamics on its
//! collective variables; writes trajectories, the variable and energy time series and, with
//! metadynamics, the free-energy surface with its basins, barriers and convergence.

use std::path::{Path, PathBuf};

use plotters::style::RGBColor;
use serde::Serialize;

use super::write_json;
use crate::atomic::Staged;
use crate::barrier::grid_minimax;
use crate::error::{Error, Result};
use crate::molecule::{Term, simulation};
use crate::output::colvar::Colvar;
use crate::output::plot::{self, ColourScale, Curve, Marker};
use crate::output::table;
use crate::potential::{Potential, Tabulated};
use crate::progress::Progress;
use crate::provenance::Provenance;
use crate::reference::{FreeEnergySummary, metadynamics_surface};
use crate::system::System;
use crate::system::presentation::SurfaceKind;

/// What `tps md` did.
#[derive(Debug, Clone, Serialize)]
pub struct MdReport {
    /// Walkers run in parallel.
    pub walkers: usize,
    /// Steps each walker took.
    pub steps_per_walker: u64,
    /// Time step, ps.
    pub timestep_ps: f64,
    /// Wall time, s.
    pub wall_seconds: f64,
    /// Steps per second, all walkers together.
    pub steps_per_second: f64,
    /// Simulated ns per day, all walkers together.
    pub ns_per_day: f64,
    /// With metadynamics: basins, barriers (kJ/mol) and whether the surface settled.
    pub free_energy: Option<FreeEnergySummary>,
    /// Hills deposited.
    pub hills: Option<usize>,
    /// Command, configuration, seed and inputs.
    pub provenance: Provenance,
}

/// Runs `tps md` (`steps` overrides `md.steps`) and writes under `out_root/<system>/md/`.
pub fn run(
    path: &Path,
    steps: Option<u64>,
    seed: u64,
    out_root: &Path,
    progress: &dyn Progress,
) -> Result<(MdReport, PathBuf)> {
    let system = System::load(path)?;
    let file = &system.file;
    let molecular = system.molecular("`tps md`")?;
    let m = &molecular.molecule;
    let md = file.md();
    let steps = steps.unwrap_or(md.steps);
    if steps == 0 {
        return Err(Error::Invalid("--steps must be at least 1".into()));
    }
    let staged = Staged::new(&out_root.join(&file.name).join("md"))?;
    progress.stage("md", steps);
    let run = simulation::run(
        m,
        &md,
        file.metadynamics.as_ref(),
        steps,
        seed,
        true,
        |done, _| progress.set(done),
    )?;
    let dir = staged.path();
    let writer = m.writer();
    writer.write(
        &dir.join("topology.pdb"),
        "PDB",
        std::slice::from_ref(&m.positions),
    )?;
    for (w, f) in run.frames.iter().enumerate() {
        let path = dir.join(format!("walker_{w:03}.dcd"));
        writer.write(&path, "DCD", f)?;
        crate::output::dcd::set_frame_interval(&path, md.timestep, md.report_every)?;
    }
    write_series(dir, &file.coordinate_names(), md.walkers, &run)?;
    let mut free_energy = None;
    let mut hills = None;
    if let Some(grid) = &run.free_energy {
        let (surface, summary) = metadynamics_surface(grid, &file.named_states())?;
        let text = system.surface_text(&surface, SurfaceKind::FreeEnergy);
        crate::atomic::write(&dir.join("fes.dat"), text.as_bytes())?;
        fes_plot(&dir.join("fes.png"), &system, &surface, &summary)?;
        free_energy = Some(summary);
        hills = Some(grid.hills);
    }
    let total_steps = steps as f64 * md.walkers as f64;
    let steps_per_second = total_steps / run.wall_seconds.max(1e-9);
    let provenance = system.provenance(Some(seed));
    let report = MdReport {
        walkers: md.walkers,
        steps_per_walker: steps,
        timestep_ps: md.timestep,
        wall_seconds: run.wall_seconds,
        steps_per_second,
        ns_per_day: steps_per_second * md.timestep * 1e-3 * 86400.0,
        free_energy,
        hills,
        provenance,
    };
    write_json(&dir.join("summary.json"), &report)?;
    Ok((report, staged.publish()?))
}

/// The run's time series in `dir`: `cv.csv` (variables and bias of every frame), a PLUMED
/// COLVAR per walker (a record per trajectory frame: what `[data]` reads back) and
/// `energies.csv` (terms and kinetic temperature).
fn write_series(
    dir: &Path,
    names: &[String],
    walkers: usize,
    run: &simulation::MdRun,
) -> Result<()> {
    let mut header = vec!["time_ps".to_string(), "walker".into()];
    header.extend(names.iter().cloned());
    header.push("bias_kJ_per_mol".into());
    let rows: Vec<Vec<f64>> = run
        .cv
        .iter()
        .map(|r| {
            [r.time_ps, r.walker as f64]
                .into_iter()
                .chain(r.values.iter().copied())
                .chain([r.bias])
                .collect()
        })
        .collect();
    table::write_csv(&dir.join("cv.csv"), &header, &rows)?;
    let mut fields = vec!["time".to_string()];
    fields.extend(names.iter().cloned());
    fields.extend(["metad.bias".into(), "metad.rbias".into()]);
    for w in 0..walkers {
        let colvar = Colvar {
            fields: fields.clone(),
            rows: run
                .cv
                .iter()
                .filter(|r| r.walker == w)
                .map(|r| {
                    std::iter::once(r.time_ps)
                        .chain(r.values.iter().copied())
                        .chain([r.bias, r.rbias])
                        .collect()
                })
                .collect(),
        };
        crate::atomic::write(
            &dir.join(format!("colvar_{w:03}.dat")),
            colvar.to_text().as_bytes(),
        )?;
    }
    let header: Vec<String> = ["time_ps", "walker"]
        .into_iter()
        .chain(Term::ALL.map(Term::name))
        .chain(["total", "kinetic_temperature_K"])
        .map(String::from)
        .collect();
    let rows: Vec<Vec<f64>> = run
        .energies
        .iter()
        .map(|r| {
            let e = &r.energies;
            [r.time_ps, r.walker as f64]
                .into_iter()
                .chain(e.by_term())
                .chain([e.total(), r.kinetic_temperature])
                .collect()
        })
        .collect();
    table::write_csv(&dir.join("energies.csv"), &header, &rows)
}

fn fes_plot(
    path: &Path,
    system: &System,
    surface: &Tabulated,
    summary: &FreeEnergySummary,
) -> Result<()> {
    let domain = [-std::f64::consts::PI, std::f64::consts::PI];
    let mut curves = Vec::new();
    for (b, other) in summary.barriers.iter().zip(&summary.basins[1..]) {
        let path = grid_minimax(
            surface,
            &[domain; 2],
            surface.shape().0,
            &summary.basins[0].at,
            &other.at,
        )?;
        curves.push(Curve {
            label: format!("lowest pass {} → {}: {:.2} kJ/mol", b.from, b.to, b.barrier),
            color: RGBColor(230, 40, 40),
            points: path.points.iter().map(|p| [p[0], p[1]]).collect(),
            width: 2,
            dashed: false,
        });
    }
    let markers: Vec<Marker> = summary
        .basins
        .iter()
        .map(|b| Marker {
            label: format!("{} {:.1}", b.state, b.free_energy),
            at: [b.at[0], b.at[1]],
            color: RGBColor(255, 255, 255),
        })
        .collect();
    let a = system.axis_labels();
    plot::map_with_curves(
        path,
        &format!(
            "free energy from metadynamics{}",
            if summary.converged == Some(false) {
                " (not converged)"
            } else {
                ""
            }
        ),
        (&a[0], &a[1]),
        domain,
        domain,
        &|x, y| surface.energy(&[x, y]),
        &ColourScale {
            low: 0.0,
            high: 20.0 * system.kt(),
            label: "free energy (kJ/mol)".into(),
        },
        &curves,
        &markers,
    )
}
