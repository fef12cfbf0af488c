//! What the model learns and the walkers move in, one implementation per kind:
//!
//! * [`surface::Surface`] — a surface itself (analytic, tabulated, a mixture): the data are
//!   its coordinates;
//! * [`variables::Variables`] — a molecule in its collective variables: walkers on the
//!   free-energy surface, paths back-mapped to all-atom movies;
//! * [`cartesian::Cartesian`] — a molecule on all atoms: walkers under the force field, paths
//!   projected on the variables to be read.
//!
//! The transition pipeline asks its representation for endpoints, the walkers' kit, the
//! reference route and the finished paths, and never which kind it has.

pub mod cartesian;
pub mod surface;
pub mod variables;

use crate::barrier::Basins;
use crate::error::Result;
use crate::potential::Potential;
use crate::reference::Reference;
use crate::statistics::PathStatistics;
use crate::system::{System, TransitionConfig};
use crate::walkers::{CentreFit, Judge, Near, Observer, PathOptions, TransitionPath};

/// The route a reference (model-free) method takes between the endpoints, data units.
#[derive(Debug, Clone)]
pub struct ReferenceCurve {
    /// Points from the start to the target.
    pub points: Vec<Vec<f64>>,
    /// What it is.
    pub description: String,
    /// Its highest energy on the surface it was computed on.
    pub highest_energy: f64,
    /// Energy evaluations it cost.
    pub evaluations: u64,
    /// Whether its method converged.
    pub converged: bool,
}

/// What the walkers carry: the judge of every frame, observed scores, the centre fit and
/// which frames they keep.
pub struct Kit<'a> {
    /// Judges every frame (`None`: the guide's own energy).
    pub judge: Option<Box<dyn Judge + 'a>>,
    /// Scores whose maxima are recorded.
    pub observer: Option<Box<dyn Observer + 'a>>,
    /// Moves restraint centres onto the walker.
    pub fit: Option<Box<dyn CentreFit + 'a>>,
    /// Kept frames: every this many steps.
    pub stride: usize,
    /// Paths that keep their judged energy profile.
    pub energies: usize,
    /// Closest approach to this point.
    pub near: Option<Near<'a>>,
    /// Steps whose frame every path keeps.
    pub snapshots: Vec<usize>,
}

impl Kit<'_> {
    /// Path options keeping the frames of the first `frames` paths.
    pub fn options(&self, frames: usize) -> PathOptions<'_> {
        PathOptions {
            frames,
            stride: self.stride,
            energies: self.energies,
            judge: self.judge.as_deref(),
            near: self.near,
            observer: self.observer.as_deref(),
            fit: self.fit.as_deref(),
            snapshots: &self.snapshots,
        }
    }
}

/// What a representation needs to finish a set of paths.
pub struct Finish<'a> {
    /// The states of the transition.
    pub states: (&'a str, &'a str),
    /// The reference on the guiding surface.
    pub reference: &'a Reference,
    /// The basins on the scoring surface.
    pub basins: &'a Basins<'a>,
    /// The route's points `(λ, z…)` (the weak-restraint point of Cartesian walkers).
    pub route: &'a [Vec<f64>],
    /// The transition settings.
    pub config: &'a TransitionConfig,
    /// Seed of any further randomness (the thermal reference).
    pub seed: u64,
    /// Statistics of paths in the variables, judged.
    pub statistics: &'a (dyn Fn(&[TransitionPath]) -> PathStatistics + Sync),
}

/// Finished paths: in the system's coordinates (for tables and plots), their statistics, and
/// the all-atom movies and facts of molecules.
pub struct Finished {
    /// The paths in the system's coordinates.
    pub paths: Vec<TransitionPath>,
    /// Their statistics on the scoring surface.
    pub statistics: PathStatistics,
    /// Molecules: all-atom movies of the written paths.
    pub all_atom: Option<variables::AllAtom>,
    /// Molecules in the variables: facts of the back-mapping.
    pub backmap: Option<variables::AllAtomSummary>,
    /// Cartesian molecules: the field's metrics.
    pub cartesian: Option<cartesian::CartesianSummary>,
}

/// A representation of a system.
pub trait Representation: Sync {
    /// The walkers' start and the target point, data units.
    fn endpoints(&self, from: &str, to: &str) -> Result<(Vec<f64>, Vec<f64>)>;

    /// What moves the walkers when the energy guides them.
    fn potential(&self) -> Result<&dyn Potential>;

    /// That potential in plain words.
    fn guide(&self) -> String;

    /// Whether the reference minimum-energy path (in the system's coordinates) is a route
    /// in data space, from which a geodesic may start.
    fn mep_is_route(&self) -> bool;

    /// The model-free reference route between the endpoints (data units); `reference` holds
    /// the minimum-energy path in the system's coordinates.
    fn reference_route(
        &self,
        reference: &Reference,
        endpoints: (&[f64], &[f64]),
    ) -> Result<ReferenceCurve>;

    /// The walkers' kit: judged on the scoring surface, `guided_by_energy` when the walkers
    /// feel the potential (so its energy comes for free), near `saddle` (system coordinates).
    fn kit<'a>(
        &'a self,
        route: &[Vec<f64>],
        config: &TransitionConfig,
        guided_by_energy: bool,
        saddle: &'a [f64],
    ) -> Result<Kit<'a>>;

    /// Statistics, movies and facts of the paths.
    fn finish(&self, paths: Vec<TransitionPath>, finish: &Finish) -> Result<Finished>;

    /// The map that puts a walker into the model's frame before its score is asked, and
    /// turns the score back (Cartesian molecules: superposition).
    fn model_frame(&self) -> Option<&dyn ModelFrame> {
        None
    }

    /// The variables as functions of the data, where the data are atoms (a tilt over the
    /// variables reaches the atoms through them); `None` where the data are the variables.
    fn collective_variables(&self) -> Option<&crate::molecule::Dihedrals> {
        None
    }

    /// The box of a 2-D representation and whether it wraps: where a learnt free energy can
    /// be tabulated (`None` in more dimensions).
    fn grid_domain(&self) -> Option<([[f64; 2]; 2], bool)> {
        None
    }

    /// Names of the data coordinates.
    fn data_names(&self) -> Vec<String>;

    /// The variables (system coordinates) of a data point.
    fn variables_of(&self, x: &[f64]) -> Vec<f64>;

    /// What one written frame is.
    fn frames_note(&self, config: &TransitionConfig) -> String;

    /// Every how many kept frames a path is drawn on the map (the walkers of some kinds keep
    /// only every `backmap_every`-th frame already).
    fn drawn_every(&self) -> usize {
        8
    }

    /// What a score on `scoring` is worth when it is not independent of the paths.
    fn dependent_score_note(&self, scoring: &str) -> String {
        format!(
            "the paths are scored on {scoring}, which also guided them: the score is not \
             independent"
        )
    }
}

/// The model's frame of a data point, and the way back for vectors.
pub trait ModelFrame: Sync {
    /// `x` in the model's frame, and the rotation that took it there.
    fn to_model(&self, x: &[f64]) -> (Vec<f64>, crate::molecule::align::Superposition);
}

impl System {
    /// This system's representation.
    pub fn representation(&self) -> Result<Box<dyn Representation + '_>> {
        Ok(match &self.molecule {
            Some(m) if self.file.is_cartesian() => Box::new(cartesian::Cartesian::new(self, m)?),
            Some(m) => Box::new(variables::Variables::new(self, m)?),
            None => Box::new(surface::Surface::new(self)?),
        })
    }
}

/// Paths whose energy profiles are kept (for the profile plot).
pub const PROFILES: usize = 64;

/// The reference route through a minimum-energy path in data space: from the start, along
/// the path, to the target (straight, minimum-image segments join a path whose ends are not
/// exactly the states).
pub fn route_through(
    space: &dyn Potential,
    mep: &[Vec<f64>],
    endpoints: (&[f64], &[f64]),
) -> Vec<Vec<f64>> {
    let (a, b) = endpoints;
    let joined = |p: &[f64], q: &[f64]| {
        space
            .displacement(p, q)
            .iter()
            .map(|v| v * v)
            .sum::<f64>()
            .sqrt()
            < 1e-9
    };
    let mut points: Vec<Vec<f64>> = Vec::with_capacity(mep.len() + 2);
    if mep.first().is_none_or(|p| !joined(p, a)) {
        points.push(a.to_vec());
    }
    // Unwrap periodic coordinates so that consecutive points are neighbours.
    for p in mep.iter().chain(std::iter::once(&b.to_vec())) {
        let next = match points.last() {
            Some(last) => {
                let d = space.displacement(last, p);
                last.iter().zip(&d).map(|(x, d)| x + d).collect()
            }
            None => p.clone(),
        };
        if points.last().is_none_or(|l| !joined(l, &next)) {
            points.push(next);
        }
    }
    points
}
