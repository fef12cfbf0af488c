//! A surface itself: the model learns its coordinates, the walkers move on it, and the
//! frames are judged on it — exact, so the score has no estimation error.

use super::{Finish, Finished, Kit, PROFILES, ReferenceCurve, Representation, route_through};
use crate::error::Result;
use crate::potential::Potential;
use crate::reference::Reference;
use crate::system::System;
use crate::system::TransitionConfig;
use crate::walkers::{Near, SurfaceJudge, TransitionPath};

/// A surface's own coordinates.
pub struct Surface<'a> {
    system: &'a System,
    surface: &'a dyn Potential,
}

impl<'a> Surface<'a> {
    /// The representation of a system without a molecule.
    pub fn new(system: &'a System) -> Result<Self> {
        Ok(Self {
            system,
            surface: system.surface()?,
        })
    }
}

/// The kit of walkers on a surface in the system's coordinates, judged on `scoring`.
pub(super) fn surface_kit<'a>(
    space: &'a dyn Potential,
    scoring: Option<&'a dyn Potential>,
    guided_by_energy: bool,
    saddle: &'a [f64],
) -> Kit<'a> {
    // Judging by the guide's own energy costs nothing more when it is the scoring surface.
    let judge = match scoring {
        None if guided_by_energy => None,
        None => Some(space),
        Some(s) => Some(s),
    };
    Kit {
        judge: judge.map(|s| Box::new(SurfaceJudge(s)) as Box<dyn crate::walkers::Judge>),
        observer: None,
        fit: None,
        stride: 1,
        energies: PROFILES,
        near: Some(Near {
            point: saddle,
            space,
        }),
        snapshots: Vec::new(),
    }
}

/// The reference route along the minimum-energy path in data space.
fn mep_route(
    space: &dyn Potential,
    reference: &Reference,
    endpoints: (&[f64], &[f64]),
) -> ReferenceCurve {
    ReferenceCurve {
        points: route_through(space, &reference.mep, endpoints),
        description: "the minimum-energy path of the surface that moves the walkers (string \
                      method from the grid minimax path)"
            .into(),
        highest_energy: reference.saddle_energy,
        evaluations: reference.evaluations,
        converged: true,
    }
}

impl Representation for Surface<'_> {
    fn endpoints(&self, from: &str, to: &str) -> Result<(Vec<f64>, Vec<f64>)> {
        let f = &self.system.file;
        Ok((f.state(from)?.to_vec(), f.state(to)?.to_vec()))
    }

    fn potential(&self) -> Result<&dyn Potential> {
        Ok(self.surface)
    }

    fn guide(&self) -> String {
        "the surface itself".into()
    }

    fn mep_is_route(&self) -> bool {
        true
    }

    fn reference_route(
        &self,
        reference: &Reference,
        endpoints: (&[f64], &[f64]),
    ) -> Result<ReferenceCurve> {
        Ok(mep_route(self.surface, reference, endpoints))
    }

    fn kit<'a>(
        &'a self,
        _route: &[Vec<f64>],
        _config: &TransitionConfig,
        guided_by_energy: bool,
        saddle: &'a [f64],
    ) -> Result<Kit<'a>> {
        Ok(surface_kit(self.surface, None, guided_by_energy, saddle))
    }

    fn finish(&self, paths: Vec<TransitionPath>, finish: &Finish) -> Result<Finished> {
        let statistics = (finish.statistics)(&paths);
        Ok(Finished {
            paths,
            statistics,
            all_atom: None,
            backmap: None,
            cartesian: None,
        })
    }

    fn grid_domain(&self) -> Option<([[f64; 2]; 2], bool)> {
        let d = self.system.file.domain();
        (d.len() == 2).then(|| {
            (
                [d[0], d[1]],
                self.surface.periodic().iter().any(Option::is_some),
            )
        })
    }

    fn data_names(&self) -> Vec<String> {
        self.system.file.coordinate_names()
    }

    fn variables_of(&self, x: &[f64]) -> Vec<f64> {
        x.to_vec()
    }

    fn frames_note(&self, config: &TransitionConfig) -> String {
        format!(
            "each path frame is one annealed-Langevin step ({} per route point), not a unit \
             of physical time",
            config.steps_per_point
        )
    }
}
