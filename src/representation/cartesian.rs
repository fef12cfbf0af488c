//! A molecule on all atoms: walkers in every atom's Cartesian coordinates under the force
//! field (or the model's score) and the route's restraint, with no collective variable in the
//! method. The variables serve only to read the result: each frame is projected on them and
//! judged on the free-energy surface, next to the potential energy and the strain of every
//! bond. The model-free reference route is a nudged elastic band on the force field.

use serde::{Deserialize, Serialize};

use super::variables::AllAtom;
use super::{Finish, Finished, Kit, ModelFrame, ReferenceCurve, Representation};
use crate::error::Result;
use crate::molecule::align::{Superposition, flatten, kabsch_rmsd, unflatten};
use crate::molecule::neb::{self, NebConfig};
use crate::molecule::simulation;
use crate::molecule::{Dihedrals, Molecule};
use crate::potential::Potential;
use crate::reference::Reference;
use crate::statistics::MeanStd;
use crate::system::TransitionConfig;
use crate::system::{MolecularSystem, System};
use crate::walkers::{CentreFit, Judge, Observer, TransitionPath};

/// A molecule's Cartesian coordinates, superposed on heavy atoms onto the structure of
/// `molecule.coordinates` (the model's frame).
pub struct Cartesian<'a> {
    system: &'a System,
    molecular: &'a MolecularSystem,
    forcefield: &'a dyn Potential,
    /// The free-energy surface in the variables (reports; the walkers never feel it).
    surface: &'a dyn Potential,
    heavy: Vec<usize>,
}

impl<'a> Cartesian<'a> {
    /// The representation of a molecule on all atoms.
    pub fn new(system: &'a System, molecular: &'a MolecularSystem) -> Result<Self> {
        Ok(Self {
            system,
            molecular,
            forcefield: system.potential()?,
            surface: system.surface()?,
            heavy: molecular.molecule.topology.heavy_atoms(),
        })
    }

    /// The surface frames are judged on: the independent one if it exists.
    fn scoring(&self) -> Result<&'a dyn Potential> {
        Ok(match self.molecular.check_surface()? {
            Some(c) => c,
            None => self.surface,
        })
    }
}

impl ModelFrame for Cartesian<'_> {
    fn to_model(&self, x: &[f64]) -> (Vec<f64>, Superposition) {
        let structure = unflatten(x);
        let fit = Superposition::fit(&structure, &self.molecular.molecule.positions, &self.heavy);
        (flatten(&fit.apply_all(&structure)), fit)
    }
}

impl Representation for Cartesian<'_> {
    fn endpoints(&self, from: &str, to: &str) -> Result<(Vec<f64>, Vec<f64>)> {
        let f = &self.system.file;
        let m = self.molecular;
        Ok((
            self.molecular.cartesian(&m.minimum(from, f.state(from)?)),
            self.molecular.cartesian(&m.minimum(to, f.state(to)?)),
        ))
    }

    fn potential(&self) -> Result<&dyn Potential> {
        Ok(self.forcefield)
    }

    fn guide(&self) -> String {
        "the force field on all atoms".into()
    }

    fn mep_is_route(&self) -> bool {
        false
    }

    fn reference_route(
        &self,
        _reference: &Reference,
        (a, b): (&[f64], &[f64]),
    ) -> Result<ReferenceCurve> {
        let mut band =
            neb::nudged_elastic_band(self.forcefield, a, b, &NebConfig::default(), true)?;
        // Into the model's frame, as the walkers' restraint centres are.
        for x in &mut band.images {
            *x = self.molecular.cartesian(&unflatten(x));
        }
        if !band.converged {
            tracing::warn!(
                "the Cartesian elastic band stopped after {} iterations with a largest \
                 perpendicular force of {:.1} kJ/(mol nm)",
                band.iterations,
                band.max_force
            );
        }
        Ok(ReferenceCurve {
            description: format!(
                "a climbing-image nudged elastic band on the force field between the states' \
                 energy minima ({} images, images superposed onto the model's frame)",
                band.images.len()
            ),
            highest_energy: band.highest_energy,
            evaluations: band.evaluations,
            converged: band.converged,
            points: band.images,
        })
    }

    fn kit<'a>(
        &'a self,
        route: &[Vec<f64>],
        config: &TransitionConfig,
        guided_by_energy: bool,
        saddle: &'a [f64],
    ) -> Result<Kit<'a>> {
        let m = &self.molecular.molecule;
        let weak = weak_restraint_point(route);
        Ok(Kit {
            judge: Some(Box::new(ProjectedJudge {
                cv: &m.cv,
                surface: self.scoring()?,
            })),
            observer: Some(Box::new(FrameScores::new(
                m,
                self.surface,
                saddle,
                (!guided_by_energy).then_some(self.forcefield),
            ))),
            fit: Some(Box::new(RigidFit::new(m))),
            stride: config.backmap_every,
            energies: 0,
            near: None,
            snapshots: weak
                .map(|(i, _)| i * config.steps_per_point)
                .into_iter()
                .collect(),
        })
    }

    fn finish(&self, paths: Vec<TransitionPath>, finish: &Finish) -> Result<Finished> {
        let context = AllAtomRun {
            system: self.system,
            molecular: self.molecular,
            reference: finish.reference,
            states: finish.states,
            weak: weak_restraint_point(finish.route),
            stride: finish.config.backmap_every,
            seed: finish.seed,
        };
        let (projected, statistics, movies, summary) =
            project(&context, &paths, finish.statistics)?;
        Ok(Finished {
            paths: projected,
            statistics,
            all_atom: Some(movies),
            backmap: None,
            cartesian: Some(summary),
        })
    }

    fn model_frame(&self) -> Option<&dyn ModelFrame> {
        Some(self)
    }

    fn collective_variables(&self) -> Option<&crate::molecule::Dihedrals> {
        Some(&self.molecular.molecule.cv)
    }

    fn data_names(&self) -> Vec<String> {
        let t = &self.molecular.molecule.topology;
        (0..t.len())
            .flat_map(|i| ["x", "y", "z"].map(|c| format!("{}:{c}", t.label(i))))
            .collect()
    }

    fn variables_of(&self, x: &[f64]) -> Vec<f64> {
        self.molecular.molecule.cv.values(&unflatten(x))
    }

    fn frames_note(&self, config: &TransitionConfig) -> String {
        format!(
            "each path frame is one annealed-Langevin step ({} per route point), not a unit \
             of physical time; the walkers move every atom and the files hold every {}-th \
             step (no back-mapping)",
            config.steps_per_point, config.backmap_every
        )
    }

    fn drawn_every(&self) -> usize {
        1
    }

    fn dependent_score_note(&self, scoring: &str) -> String {
        format!(
            "the paths are scored on {scoring}, estimated from the run that gave the model its \
             training data: not an independent estimate"
        )
    }
}

/// The free energy of a frame's variables on a surface: how all-atom frames are judged.
struct ProjectedJudge<'a> {
    cv: &'a Dihedrals,
    surface: &'a dyn Potential,
}

impl Judge for ProjectedJudge<'_> {
    fn energy(&self, x: &[f64]) -> f64 {
        self.surface.energy(&self.cv.values(&unflatten(x)))
    }
}

/// Superposes the restraint centre onto the walker (least squares over all atoms), so that the
/// restraint never pulls on rotation or translation: the model's frame is arbitrary. Over all
/// atoms, not heavy atoms only, so that the restraint is the gradient of the rotation-invariant
/// energy `½ k min_R |x − R c|²` and the walkers sample a well-defined distribution.
pub struct RigidFit {
    atoms: Vec<usize>,
}

impl RigidFit {
    /// The fit over all of `molecule`'s atoms.
    pub fn new(molecule: &Molecule) -> Self {
        Self {
            atoms: (0..molecule.topology.len()).collect(),
        }
    }
}

impl CentreFit for RigidFit {
    fn fit(&self, centre: &[f64], walker: &[f64]) -> Vec<f64> {
        let (c, w) = (unflatten(centre), unflatten(walker));
        flatten(&Superposition::fit(&c, &w, &self.atoms).apply_all(&c))
    }
}

/// Scores of an all-atom frame; the walkers record the maximum of each.
pub struct FrameScores<'a> {
    cv: &'a Dihedrals,
    surface: &'a dyn Potential,
    saddle: &'a [f64],
    bonds: Vec<(usize, usize, f64)>,
    /// The force field, when the walkers do not feel it (its energy is then a score).
    potential: Option<&'a dyn Potential>,
}

/// Index of each score.
const FREE_ENERGY: usize = 0;
const NEAR_SADDLE: usize = 1;
const STRETCH: usize = 2;
const COMPRESSION: usize = 3;
const POTENTIAL: usize = 4;

impl<'a> FrameScores<'a> {
    /// Scores on `surface` (the free energy in the variables), near `saddle` (variables),
    /// and the energy of `potential` if given.
    pub fn new(
        molecule: &'a Molecule,
        surface: &'a dyn Potential,
        saddle: &'a [f64],
        potential: Option<&'a dyn Potential>,
    ) -> Self {
        Self {
            potential,
            cv: &molecule.cv,
            surface,
            saddle,
            bonds: molecule
                .forcefield
                .bonds
                .iter()
                .map(|b| (b.i, b.j, b.r0))
                .collect(),
        }
    }

    /// The variables of a flat structure.
    fn variables(&self, x: &[f64]) -> Vec<f64> {
        self.cv.values(&unflatten(x))
    }
}

impl Observer for FrameScores<'_> {
    fn count(&self) -> usize {
        if self.potential.is_some() { 5 } else { 4 }
    }

    /// The free energy of the frame's variables, minus its distance to the saddle in them
    /// (so the maximum is the closest approach), the longest bond stretch (nm) and the
    /// strongest compression `1 − r/r₀`.
    fn observe(&self, x: &[f64], scores: &mut [f64]) {
        let v = self.variables(x);
        scores[FREE_ENERGY] = self.surface.energy(&v);
        let d = self.surface.displacement(&v, self.saddle);
        scores[NEAR_SADDLE] = -d.iter().map(|e| e * e).sum::<f64>().sqrt();
        let (mut stretch, mut compression) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        for &(i, j, r0) in &self.bonds {
            let r = (0..3)
                .map(|k| (x[3 * i + k] - x[3 * j + k]).powi(2))
                .sum::<f64>()
                .sqrt();
            stretch = stretch.max(r - r0);
            compression = compression.max(1.0 - r / r0);
        }
        scores[STRETCH] = stretch;
        scores[COMPRESSION] = compression;
        if let Some(p) = self.potential {
            scores[POTENTIAL] = p.energy(x);
        }
    }
}

/// What the field reports of all-atom paths (energies kJ/mol, lengths Å).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CartesianSummary {
    /// Per-path maximum of the free energy of the projected path on the surface of the
    /// system file, every Langevin step (the judged maximum is the path statistics').
    pub free_energy_max: Vec<f64>,
    /// Their mean and spread.
    pub free_energy_max_stats: MeanStd,
    /// The same on the written frames only (the files a reader opens).
    pub free_energy_max_written_frames: Vec<f64>,
    /// The minimum free-energy path's highest point, for comparison.
    pub mfep_saddle_free_energy: f64,
    /// Per-path maximum potential energy, every Langevin step.
    pub potential_energy_max: Vec<f64>,
    /// Their mean and spread.
    pub potential_energy_max_stats: MeanStd,
    /// Energy minimum of the start basin.
    pub start_minimum_energy: f64,
    /// Energy minimum of the target basin.
    pub target_minimum_energy: f64,
    /// Highest point of the relaxed potential-energy map's minimum-energy path (absolute).
    pub relaxed_saddle_energy: Option<f64>,
    /// Thermal reference: highest potential energy in windows of consecutive frames of
    /// equilibrium dynamics (the file's `[md]`) from the start basin's minimum, mean and
    /// spread over windows.
    pub thermal_window_max: MeanStd,
    /// Frames per window of that reference.
    pub thermal_window_frames: usize,
    /// MD steps between its frames.
    pub thermal_frame_steps: u64,
    /// Heavy-atom RMSD of each path's last frame to the target minimum, Å.
    pub rmsd_to_target_angstrom: Vec<f64>,
    /// Their mean.
    pub rmsd_to_target_mean_angstrom: f64,
    /// λ of the geodesic point where the restraint is first weak again after its lowest λ
    /// (`None` if λ never dips below the threshold).
    pub weak_restraint_lambda: Option<f64>,
    /// Nearest state of each walker there (before the rising restraint drags it home).
    pub basin_where_restraint_weak: Vec<String>,
    /// Share of the walkers in the target basin there.
    pub fraction_in_target_where_restraint_weak: Option<f64>,
    /// Longest stretch of any bond over all steps of all paths, Å.
    pub max_bond_stretch_angstrom: f64,
    /// Shortest bond relative to its rest length over all steps of all paths.
    pub min_bond_ratio: f64,
    /// Largest displacement of any atom between consecutive written frames, Å.
    pub max_atom_jump_angstrom: f64,
    /// Langevin steps between written frames.
    pub written_frame_stride: usize,
}

impl CartesianSummary {
    /// The summary of the parts of one run, in path order; `to` is the target state.
    pub fn merge(parts: &[CartesianSummary], to: &str) -> Option<Self> {
        let first = parts.first()?;
        let cat = |f: &dyn Fn(&CartesianSummary) -> &Vec<f64>| -> Vec<f64> {
            parts.iter().flat_map(|s| f(s).iter().copied()).collect()
        };
        let free = cat(&|s| &s.free_energy_max);
        let potential = cat(&|s| &s.potential_energy_max);
        let rmsd = cat(&|s| &s.rmsd_to_target_angstrom);
        let basins: Vec<String> = parts
            .iter()
            .flat_map(|s| s.basin_where_restraint_weak.iter().cloned())
            .collect();
        let in_target = (!basins.is_empty())
            .then(|| basins.iter().filter(|b| *b == to).count() as f64 / basins.len() as f64);
        Some(Self {
            free_energy_max_stats: MeanStd::of(&free),
            free_energy_max: free,
            free_energy_max_written_frames: cat(&|s| &s.free_energy_max_written_frames),
            potential_energy_max_stats: MeanStd::of(&potential),
            potential_energy_max: potential,
            rmsd_to_target_mean_angstrom: rmsd.iter().sum::<f64>() / rmsd.len().max(1) as f64,
            rmsd_to_target_angstrom: rmsd,
            basin_where_restraint_weak: basins,
            fraction_in_target_where_restraint_weak: in_target,
            max_bond_stretch_angstrom: parts
                .iter()
                .map(|s| s.max_bond_stretch_angstrom)
                .fold(f64::NEG_INFINITY, f64::max),
            min_bond_ratio: parts
                .iter()
                .map(|s| s.min_bond_ratio)
                .fold(f64::INFINITY, f64::min),
            max_atom_jump_angstrom: parts
                .iter()
                .map(|s| s.max_atom_jump_angstrom)
                .fold(0.0, f64::max),
            ..first.clone()
        })
    }
}

/// The restraint counts as weak below this λ (model units).
pub const WEAK_RESTRAINT_LAMBDA: f64 = 2.0;

/// The thermal reference: windows of 128 consecutive frames, a frame every 100 MD steps
/// (0.1 ps at 1 fs: the potential energy of a dipeptide decorrelates in about that time).
const THERMAL_WINDOWS: usize = 16;
const THERMAL_WINDOW_FRAMES: usize = 128;
const THERMAL_FRAME_STEPS: u64 = 100;

/// The geodesic point (index, λ) where λ first climbs back above the weak-restraint threshold
/// after its lowest point, if it dips below it.
pub fn weak_restraint_point(geodesic: &[Vec<f64>]) -> Option<(usize, f64)> {
    let (low, lambda) = geodesic
        .iter()
        .enumerate()
        .map(|(i, p)| (i, p[0]))
        .min_by(|a, b| a.1.total_cmp(&b.1))?;
    if lambda >= WEAK_RESTRAINT_LAMBDA {
        return None;
    }
    geodesic[low..]
        .iter()
        .position(|p| p[0] > WEAK_RESTRAINT_LAMBDA)
        .map(|k| (low + k, geodesic[low + k][0]))
}

/// What the all-atom paths need besides the walkers.
struct AllAtomRun<'a> {
    /// The loaded system.
    pub system: &'a System,
    /// Its molecule.
    pub molecular: &'a MolecularSystem,
    /// The reference in the variables.
    pub reference: &'a Reference,
    /// Start and target state names.
    pub states: (&'a str, &'a str),
    /// The geodesic's weak-restraint point (index, λ).
    pub weak: Option<(usize, f64)>,
    /// Langevin steps between written frames.
    pub stride: usize,
    /// Seed of the thermal reference.
    pub seed: u64,
}

/// The walkers' paths projected on the variables (frames, free energies, ends), the all-atom
/// movies of the written ones with `(step, variables…, F, U)` rows, and the summary.
fn project(
    c: &AllAtomRun,
    paths: &[TransitionPath],
    statistics: &(dyn Fn(&[TransitionPath]) -> crate::statistics::PathStatistics + Sync),
) -> Result<(
    Vec<TransitionPath>,
    crate::statistics::PathStatistics,
    AllAtom,
    CartesianSummary,
)> {
    let (system, molecular) = (c.system, c.molecular);
    let m = &molecular.molecule;
    let surface = system.surface()?;
    let forcefield = system.potential()?;
    let scores = FrameScores::new(m, surface, &c.reference.saddle, None);
    let (from, to) = c.states;
    let target = molecular.minimum(to, system.file.state(to)?);
    let start = molecular.minimum(from, system.file.state(from)?);
    let heavy = m.topology.heavy_atoms();

    let mut movies = Vec::new();
    let mut rows = Vec::new();
    let mut written_max = Vec::new();
    let mut jump: f64 = 0.0;
    let projected: Vec<TransitionPath> = paths
        .iter()
        .map(|p| {
            let variables: Vec<Vec<f64>> = p.frames.iter().map(|x| scores.variables(x)).collect();
            let free: Vec<f64> = variables.iter().map(|v| surface.energy(v)).collect();
            if !p.frames.is_empty() {
                written_max.push(free.iter().copied().fold(f64::NEG_INFINITY, f64::max));
                jump = jump.max(largest_jump(&p.frames));
                movies.push(p.frames.iter().map(|x| unflatten(x)).collect());
                rows.push(frame_rows(p, &variables, &free, forcefield));
            }
            in_variables(p, variables, free, &scores)
        })
        .collect();
    let stats = statistics(&projected);

    let basins = basins_where_weak(c, paths, &scores);
    let in_target = (!basins.is_empty())
        .then(|| basins.iter().filter(|b| *b == to).count() as f64 / basins.len() as f64);
    let rmsd: Vec<f64> = paths
        .iter()
        .map(|p| 10.0 * kabsch_rmsd(&unflatten(&p.last), &target, &heavy))
        .collect();
    let free_max: Vec<f64> = paths.iter().map(|p| p.observed_max[FREE_ENERGY]).collect();
    let pe_max: Vec<f64> = paths
        .iter()
        .map(|p| p.guide_max.unwrap_or_else(|| p.observed_max[POTENTIAL]))
        .collect();
    let start_energy = forcefield.energy(&flatten(&start));
    let summary = CartesianSummary {
        free_energy_max_stats: MeanStd::of(&free_max),
        free_energy_max: free_max,
        free_energy_max_written_frames: written_max,
        mfep_saddle_free_energy: c.reference.saddle_energy,
        potential_energy_max_stats: MeanStd::of(&pe_max),
        potential_energy_max: pe_max,
        start_minimum_energy: start_energy,
        target_minimum_energy: forcefield.energy(&flatten(&target)),
        relaxed_saddle_energy: c
            .reference
            .relaxed_potential_barrier
            .map(|b| start_energy + b),
        thermal_window_max: thermal_reference(m, &start, system, c.seed)?,
        thermal_window_frames: THERMAL_WINDOW_FRAMES,
        thermal_frame_steps: THERMAL_FRAME_STEPS,
        rmsd_to_target_mean_angstrom: rmsd.iter().sum::<f64>() / rmsd.len().max(1) as f64,
        rmsd_to_target_angstrom: rmsd,
        weak_restraint_lambda: c.weak.map(|w| w.1),
        basin_where_restraint_weak: basins,
        fraction_in_target_where_restraint_weak: in_target,
        max_bond_stretch_angstrom: 10.0
            * paths
                .iter()
                .map(|p| p.observed_max[STRETCH])
                .fold(f64::NEG_INFINITY, f64::max),
        min_bond_ratio: 1.0
            - paths
                .iter()
                .map(|p| p.observed_max[COMPRESSION])
                .fold(f64::NEG_INFINITY, f64::max),
        max_atom_jump_angstrom: 10.0 * jump,
        written_frame_stride: c.stride,
    };
    Ok((
        projected,
        stats,
        AllAtom {
            frames: movies,
            header: frame_header(system),
            rows,
        },
        summary,
    ))
}

/// The largest move of one atom between consecutive frames (nm).
fn largest_jump(frames: &[Vec<f64>]) -> f64 {
    let mut jump: f64 = 0.0;
    for w in frames.windows(2) {
        for k in 0..w[0].len() / 3 {
            let d = (0..3)
                .map(|e| (w[1][3 * k + e] - w[0][3 * k + e]).powi(2))
                .sum::<f64>()
                .sqrt();
            jump = jump.max(d);
        }
    }
    jump
}

/// The columns of [`frame_rows`].
fn frame_header(system: &System) -> Vec<String> {
    let mut header = vec!["langevin_step".to_string()];
    header.extend(system.file.coordinate_names());
    header.extend(["free_energy".into(), "potential_energy".into()]);
    header
}

/// A path's frames as CSV rows: Langevin step, variables, free energy, potential energy.
fn frame_rows(
    p: &TransitionPath,
    variables: &[Vec<f64>],
    free: &[f64],
    forcefield: &dyn Potential,
) -> Vec<Vec<f64>> {
    p.frame_steps
        .iter()
        .zip(variables)
        .zip(free)
        .zip(&p.frames)
        .map(|(((s, v), f), x)| {
            std::iter::once(*s as f64)
                .chain(v.iter().copied())
                .chain([*f, forcefield.energy(x)])
                .collect()
        })
        .collect()
}

/// An all-atom path seen in the collective variables: its frames' variables and free energies.
fn in_variables(
    p: &TransitionPath,
    variables: Vec<Vec<f64>>,
    free: Vec<f64>,
    scores: &FrameScores,
) -> TransitionPath {
    TransitionPath {
        frames: variables,
        energies: free,
        max_energy: p.max_energy,
        max_at: 0,
        guide_max: p.guide_max,
        last: scores.variables(&p.last),
        closest_approach: Some(-p.observed_max[NEAR_SADDLE]),
        observed_max: p.observed_max.clone(),
        frame_steps: p.frame_steps.clone(),
        snapshots: Vec::new(),
        frame_count: p.frame_count,
    }
}

/// The basin each path is in where the restraint goes weak (none without a weak point).
fn basins_where_weak(
    c: &AllAtomRun,
    paths: &[TransitionPath],
    scores: &FrameScores,
) -> Vec<String> {
    if c.weak.is_none() {
        return Vec::new();
    }
    paths
        .iter()
        .filter_map(|p| p.snapshots.first())
        .map(|x| c.system.nearest_state(&scores.variables(x)).0.to_string())
        .collect()
}

/// The highest potential energy in each of [`THERMAL_WINDOWS`] windows of
/// [`THERMAL_WINDOW_FRAMES`] consecutive frames of equilibrium dynamics (the file's `[md]`)
/// from the start basin's minimum, after one window's worth of equilibration.
fn thermal_reference(
    molecule: &Molecule,
    start: &[[f64; 3]],
    system: &System,
    seed: u64,
) -> Result<MeanStd> {
    let mut md = system.file.md();
    md.walkers = 1;
    md.report_every = THERMAL_FRAME_STEPS;
    let frames = THERMAL_WINDOW_FRAMES * (THERMAL_WINDOWS + 1);
    let molecule = Molecule {
        positions: start.to_vec(),
        ..molecule.clone()
    };
    let steps = frames as u64 * THERMAL_FRAME_STEPS;
    let run = simulation::run(&molecule, &md, None, steps, seed, false, |_, _| ())?;
    let energies: Vec<f64> = run
        .energies
        .iter()
        .map(|r| r.energies.total())
        .skip(THERMAL_WINDOW_FRAMES)
        .collect();
    let maxima: Vec<f64> = energies
        .chunks_exact(THERMAL_WINDOW_FRAMES)
        .map(|w| w.iter().copied().fold(f64::NEG_INFINITY, f64::max))
        .collect();
    Ok(MeanStd::of(&maxima))
}
