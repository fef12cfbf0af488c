//! What each command prints: its result types write themselves, so the CLI only dispatches.

use std::fmt::{self, Display, Formatter};

use super::barrier::BarrierReport;
use super::committor::CommittorReport;
use super::compare::Comparison;
use super::geodesic::GeodesicReport;
use super::md::MdReport;
use super::sample::Summary;
use super::train::TrainReport;
use crate::molecule::simulation::MIN_HILLS_TO_JUDGE;
use crate::reference::FreeEnergySummary;
use crate::route::RouteFile;
use crate::workflows::learning::{FramesEstimate, REGION_RADIUS};

/// ` unit` for a non-empty unit (surfaces of analytic systems have none).
fn unit(u: &str) -> String {
    if u.is_empty() {
        String::new()
    } else {
        format!(" {u}")
    }
}

/// The basins and barriers of a free-energy surface; for one estimated from frames, with their
/// bootstrap spread and the effective samples behind them.
struct FreeEnergyLines<'a>(&'a FreeEnergySummary, Option<&'a FramesEstimate>);

impl Display for FreeEnergyLines<'_> {
    fn fmt(&self, out: &mut Formatter) -> fmt::Result {
        let FreeEnergyLines(f, estimate) = *self;
        let spread =
            |s: Option<&Vec<f64>>, k: usize| s.map_or(String::new(), |v| format!(" ± {:.2}", v[k]));
        for (k, b) in f.basins.iter().enumerate() {
            // A basin no weighted frame reaches has no estimate, only the smoothing's tail.
            let empty = estimate.is_some_and(|e| {
                e.near
                    .iter()
                    .any(|r| r.region == b.state && r.effective_samples < 1.0)
            });
            if empty {
                writeln!(
                    out,
                    "free energy of {}: not estimated (no effective sample within \
                     {REGION_RADIUS} rad)",
                    b.state
                )?;
                continue;
            }
            let s = spread(estimate.map(|e| &e.basin_std), k);
            writeln!(
                out,
                "free energy of {}: {:.2}{s} kJ/mol",
                b.state, b.free_energy
            )?;
        }
        for (k, b) in f.barriers.iter().enumerate() {
            let s = spread(estimate.map(|e| &e.barrier_std), k);
            writeln!(
                out,
                "free-energy barrier {} → {}: {:.2}{s} kJ/mol",
                b.from, b.to, b.barrier
            )?;
        }
        if let Some(e) = estimate {
            writeln!(
                out,
                "surface estimated from the frames: kernel width {} rad (cross-validated), ± one \
                 standard deviation over {} block-bootstrap replicas",
                e.bandwidth, e.replicas
            )?;
            let near: Vec<String> = e
                .near
                .iter()
                .map(|r| format!("{} {:.0}", r.region, r.effective_samples))
                .collect();
            writeln!(
                out,
                "effective samples within {REGION_RADIUS} rad: {}",
                near.join(", ")
            )?;
        }
        match (f.converged, f.drift) {
            (Some(false), Some(drift)) => writeln!(
                out,
                "warning: the free-energy surface is not converged: free energies moved by \
                 {drift:.2} kJ/mol over the last quarter of the run; run longer (md.steps or \
                 --steps)"
            ),
            (None, _) => writeln!(
                out,
                "convergence: not judged (fewer than {MIN_HILLS_TO_JUDGE} hills by three \
                 quarters of the run, or a surface read from a file)"
            ),
            _ => Ok(()),
        }
    }
}

impl Display for TrainReport {
    fn fmt(&self, out: &mut Formatter) -> fmt::Result {
        let l = &self.learnt;
        if let Some(f) = &self.free_energy {
            write!(out, "{}", FreeEnergyLines(f, l.frames_estimate.as_ref()))?;
        }
        for p in &l.populations {
            writeln!(
                out,
                "training frames in {}: {:.1}% (surface {:.1}%); free energy relative to {} \
                 {:.2} kJ/mol from the frames, {:.2} from the surface",
                p.state,
                100.0 * p.population,
                100.0 * p.population_on_surface,
                l.populations[0].state,
                p.free_energy_from_frames,
                p.free_energy_from_surface
            )?;
        }
        if let (Some(e), Some(b)) = (l.effective_samples, l.effective_samples_boltzmann) {
            writeln!(
                out,
                "training frames reweighted to the tilted ensemble: {e:.0} effective samples \
                 (with the Boltzmann weights: {b:.0})"
            )?;
        }
        write!(
            out,
            "model: {} ({} samples, {} energy evaluations; sampling {:.1} s, training {:.1} s, \
             final loss {:.4})",
            self.model.display(),
            l.samples,
            l.sampling_evaluations,
            l.sampling_seconds,
            l.training_seconds,
            l.final_loss
        )?;
        if let Some(f) = &self.learnt_free_energy {
            write!(
                out,
                "\nlearnt free energy (the model's score integrated, whole basins weighed by its \
                 density{}) against {}: RMS {:.2} over the {} cells below the highest pass + {} kT ({:.1} above the minimum){}",
                if l.ensemble == crate::model::training::Ensemble::Boltzmann {
                    ""
                } else {
                    ", its tilt added back"
                },
                f.against,
                f.rms,
                f.cells,
                crate::route::learnt_free_energy::FIDELITY_MARGIN_KT,
                f.ceiling,
                self.learnt_free_energy_file
                    .as_ref()
                    .map_or(String::new(), |p| format!("; written to {}", p.display()))
            )?;
        }
        Ok(())
    }
}

impl Display for Summary {
    fn fmt(&self, out: &mut Formatter) -> fmt::Result {
        let p = &self.path_results;
        let unit = unit(&self.energy_unit);
        let judged = self.scoring_reference.as_ref().unwrap_or(&self.reference);
        writeln!(
            out,
            "{} paths {} → {} along the {} route: per-path maximum {:.3} ± {:.3}{unit} (mean ± \
             standard error; single paths ± {:.3}); reference saddle {:.3}{unit}{}; {:.0}% end \
             in the basin of {}",
            self.paths,
            self.from,
            self.to,
            self.route.route,
            p.max_energy_mean,
            p.max_energy_sem,
            p.max_energy_std,
            judged.saddle_energy,
            judged
                .minimax
                .map(|m| format!(", grid minimax bound {m:.3}{unit}"))
                .unwrap_or_default(),
            100.0 * p.fraction_reaching_target,
            self.to
        )?;
        write!(
            out,
            "guided by {}; scored on {}",
            self.route.guided_by, self.scored_on
        )?;
        if let Some(b) = &self.reference_route_beside {
            write!(
                out,
                "\nmodel-free reference route, same seed and paths: {:.3} ± {:.3}{unit}; {}",
                b.max_energy_mean, b.max_energy_sem, b.verdict
            )?;
        }
        if let Some(r) = self.reference.relaxed_potential_barrier {
            write!(out, "\nrelaxed potential-energy barrier: {r:.2} kJ/mol")?;
        }
        if let Some(m) = &self.molecule {
            write!(
                out,
                "\nall-atom: last structures {:.2} Å (heavy-atom RMSD) from the {} minimum on \
                 average",
                m.rmsd_to_target_mean_angstrom, self.to
            )?;
        }
        for w in &self.warnings {
            write!(out, "\nwarning: {w}")?;
        }
        // The verdict beside the model-free route is printed with it.
        let beside = self.reference_route_beside.as_ref().map(|b| &b.verdict);
        for n in self.notes.iter().filter(|n| Some(*n) != beside) {
            write!(out, "\nnote: {n}")?;
        }
        Ok(())
    }
}

impl Display for Comparison {
    fn fmt(&self, out: &mut Formatter) -> fmt::Result {
        let unit = unit(&self.energy_unit);
        writeln!(
            out,
            "{} → {}: per-path maximum on {} ({} seed(s) × {} paths; mean ± std of the per-seed \
             means, standard error)",
            self.from,
            self.to,
            self.scored_on,
            self.routes.first().map_or(0, |r| r.seeds.len()),
            self.paths
        )?;
        for r in &self.routes {
            // One seed has no spread between seeds.
            let spread = if r.seeds.len() > 1 {
                format!("± {:.3} (SE {:.3})", r.seed_means.std, r.seed_means_sem)
            } else {
                "(one seed: no spread)".into()
            };
            writeln!(
                out,
                "  {:<9} {:>10.3} {spread}{unit}; single paths {:.3} ± {:.3}; reach \
                 {:.0}%; {:.3e} guiding evaluations per seed; {:.1} s per seed",
                self.label(r),
                r.seed_means.mean,
                r.pooled.mean,
                r.pooled.std,
                100.0 * r.fraction_reaching_target,
                r.guiding_evaluations,
                r.wall_seconds
            )?;
            if let Some(c) = &r.committor {
                writeln!(
                    out,
                    "  {:<9} tops' committor: mean |p_B − ½| {:.3} ± {:.3} (SE {:.3}); {:.0}% in \
                     [0.3, 0.7]; histogram (tenths) {:?}; {} of {} shots undecided",
                    "",
                    c.seed_distances.mean,
                    c.seed_distances.std,
                    c.seed_distances_sem,
                    100.0 * c.fraction_near_half,
                    c.pooled.counts,
                    c.undecided,
                    c.shots * r.maxima.len()
                )?;
            }
        }
        write!(
            out,
            "reference saddle {:.3}{unit}{}",
            self.reference.saddle_energy,
            self.reference
                .minimax
                .map(|m| format!(", grid minimax bound {m:.3}{unit}"))
                .unwrap_or_default()
        )
    }
}

impl Display for BarrierReport {
    fn fmt(&self, out: &mut Formatter) -> fmt::Result {
        let rf = &self.reference;
        let unit = unit(&self.energy_unit);
        let saddle: Vec<String> = rf.saddle.iter().map(|v| format!("{v:.4}")).collect();
        write!(
            out,
            "saddle at ({}) with energy {:.4}{unit}; barrier {:.4}{unit} above {}{}",
            saddle.join(", "),
            rf.saddle_energy,
            rf.barrier,
            self.from,
            rf.minimax
                .map(|m| format!("; grid minimax bound {m:.4}{unit}"))
                .unwrap_or_default()
        )?;
        if let Some(b) = rf.relaxed_potential_barrier {
            let grid = rf.relaxed_map_grid.unwrap_or(0);
            write!(
                out,
                "\nrelaxed potential-energy barrier {b:.2} kJ/mol above the {} minimum \
                 ({grid} × {grid} restrained minimisations)",
                self.from
            )?;
        }
        Ok(())
    }
}

impl Display for MdReport {
    fn fmt(&self, out: &mut Formatter) -> fmt::Result {
        write!(
            out,
            "{} walkers × {} steps of {} ps: {:.0} steps/s, {:.1} ns/day",
            self.walkers,
            self.steps_per_walker,
            self.timestep_ps,
            self.steps_per_second,
            self.ns_per_day
        )?;
        if let Some(f) = &self.free_energy {
            let lines = FreeEnergyLines(f, None).to_string();
            write!(out, "\n{}", lines.trim_end())?;
        }
        Ok(())
    }
}

impl Display for RouteFile {
    fn fmt(&self, out: &mut Formatter) -> fmt::Result {
        write!(
            out,
            "{} route {} → {}: {} points{}",
            self.route.route,
            self.from,
            self.to,
            self.points.len(),
            self.route
                .geodesic
                .as_ref()
                .map(|g| format!(", curve energy {:.4}", g.energy))
                .unwrap_or_default()
        )
    }
}

impl Display for GeodesicReport {
    fn fmt(&self, out: &mut Formatter) -> fmt::Result {
        let g = &self.geodesic;
        let p = &g.chord_parts;
        write!(
            out,
            "geodesic: energy {:.4}, length {:.4}; straight line: energy {:.4}, length {:.4}\n\
             clipped: {}; the authors' energy (parts clipped, Σ without \
             (N−1)/2) {:.4}; negative parts of {} chords: {} time, {} space, {} whole",
            g.energy,
            g.length,
            g.straight_line_energy,
            g.straight_line_length,
            match g.clipping {
                crate::geometry::Clipping::Chord => "whole chords",
                crate::geometry::Clipping::Parts => "parts (the authors')",
            },
            p.authors_energy,
            p.chords,
            p.negative_time_parts,
            p.negative_space_parts,
            p.negative_chords
        )
    }
}

impl Display for CommittorReport {
    fn fmt(&self, out: &mut Formatter) -> fmt::Result {
        let h = &self.transition_states;
        writeln!(
            out,
            "{} → {}: committor of {} frame(s) of {} ({}), {} shots each",
            self.from,
            self.to,
            self.frames.len(),
            self.source,
            self.select,
            self.shots
        )?;
        writeln!(
            out,
            "p_B histogram (0 → 1 in tenths): {:?}; {:.0}% in [0.3, 0.7]; mean |p_B − ½| \
             {:.3} ± {:.3} (SE over {} frames)",
            h.counts,
            100.0 * h.fraction_near_half,
            h.mean_distance_from_half,
            h.standard_error,
            h.frames
        )?;
        for w in &self.warnings {
            writeln!(out, "warning: {w}")?;
        }
        write!(out, "dynamics: {}", self.dynamics)
    }
}
