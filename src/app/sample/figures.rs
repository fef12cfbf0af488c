//! The figures of a run: its paths over the surface and the energy along them. Drawn from a
//! [`Drawing`] that a run (or the shards of one, put back together) carries, so that a merged
//! run draws what one unsharded run draws.

use std::path::Path;

use plotters::style::RGBColor;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::output::plot::{self, Curve, Marker};
use crate::potential::Potential;
use crate::reference::Reference;
use crate::system::System;
use crate::workflows::transition::{Sampled, Sampler};

/// Paths drawn on the surface.
pub const DRAWN: usize = 16;

/// What the figures show, in the system's coordinates.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Drawing {
    /// The first written paths (at most [`DRAWN`]), every eighth frame (every frame of
    /// all-atom paths, whose files already hold every `backmap_every`-th).
    pub paths: Vec<Vec<[f64; 2]>>,
    /// The energy along the first paths (those that kept it), every frame.
    pub profiles: Vec<Vec<f64>>,
    /// The restraint centres.
    pub centres: Vec<[f64; 2]>,
}

impl Drawing {
    /// The drawing of one run (or shard).
    pub fn of(sampler: &Sampler, sampled: &Sampled) -> Self {
        let representation = sampler.representation();
        let every = representation.drawn_every();
        let two = |v: &[f64]| [v[0], v.get(1).copied().unwrap_or(0.0)];
        Self {
            paths: sampled
                .paths
                .iter()
                .filter(|p| !p.frames.is_empty())
                .take(DRAWN)
                .map(|p| p.frames.iter().step_by(every).map(|f| two(f)).collect())
                .collect(),
            profiles: sampled
                .paths
                .iter()
                .filter(|p| !p.energies.is_empty())
                .map(|p| p.energies.clone())
                .collect(),
            centres: sampled
                .centres
                .iter()
                .map(|c| two(&representation.variables_of(c)))
                .collect(),
        }
    }

    /// The drawings of the parts of one run, in path order.
    pub fn join(parts: Vec<Drawing>) -> Self {
        let mut all = Drawing::default();
        for p in parts {
            if all.centres.is_empty() {
                all.centres = p.centres;
            }
            all.paths.extend(p.paths);
            all.profiles.extend(p.profiles);
        }
        all.paths.truncate(DRAWN);
        all
    }
}

/// What else the figures need.
pub struct FigureContext<'a> {
    /// The system.
    pub system: &'a System,
    /// The surface the paths are judged on (the map drawn).
    pub surface: &'a dyn Potential,
    /// The minimum-energy path (system coordinates) and its saddle.
    pub mep: &'a [Vec<f64>],
    /// The reference the paths are judged against.
    pub reference: &'a Reference,
    /// The states, the route's name and how many paths the run had.
    pub title: (&'a str, &'a str, &'a str, usize),
}

/// The paths over the surface (2-D systems).
pub fn surface(path: &Path, c: &FigureContext, d: &Drawing) -> Result<()> {
    let system = c.system;
    let (from, to, route, total) = c.title;
    let mut curves: Vec<Curve> = d
        .paths
        .iter()
        .enumerate()
        .map(|(k, p)| Curve {
            label: if k == 0 {
                "transition paths".into()
            } else {
                String::new()
            },
            color: RGBColor(255, 255, 255),
            points: p.clone(),
            width: 1,
            dashed: false,
        })
        .collect();
    curves.push(Curve {
        label: "minimum-energy path".into(),
        color: RGBColor(20, 20, 20),
        points: c.mep.iter().map(|p| [p[0], p[1]]).collect(),
        width: 3,
        dashed: false,
    });
    curves.push(Curve {
        label: format!("restraint centres ({route} route)"),
        color: RGBColor(230, 40, 40),
        points: d.centres.clone(),
        width: 3,
        dashed: true,
    });
    let mut markers: Vec<Marker> = system
        .file
        .states
        .iter()
        .map(|(name, x)| Marker {
            label: name.clone(),
            at: [x[0], x[1]],
            color: RGBColor(255, 255, 255),
        })
        .collect();
    let r = c.reference;
    markers.push(Marker {
        label: "saddle".into(),
        at: [r.saddle[0], r.saddle[1]],
        color: RGBColor(20, 20, 20),
    });
    let a = system.axis_labels();
    let domain = system.file.domain();
    plot::map_with_curves(
        path,
        &format!(
            "{}: {from} → {to}, {} of {total} paths{}",
            system.file.name,
            d.paths.len(),
            system.map_surface_note()
        ),
        (&a[0], &a[1]),
        domain[0],
        domain[1],
        &|x, y| c.surface.energy(&[x, y]),
        &system.colour_scale()?,
        &curves,
        &markers,
    )
}

/// The reference barrier as horizontal lines of a plot: the MEP saddle and, where there is
/// one, the grid minimax bound.
pub fn reference_lines(r: &Reference, unit: &str) -> Vec<plot::Line> {
    let mut lines = vec![plot::Line {
        label: format!("MEP saddle {:.2} {unit}", r.saddle_energy)
            .trim_end()
            .into(),
        value: r.saddle_energy,
        color: RGBColor(20, 20, 20),
        dashed: false,
    }];
    if let Some(m) = r.minimax {
        lines.push(plot::Line {
            label: format!("grid minimax bound {m:.2} {unit}")
                .trim_end()
                .into(),
            value: m,
            color: RGBColor(200, 40, 40),
            dashed: true,
        });
    }
    lines
}

/// The energy along the paths against the references.
pub fn profiles(path: &Path, c: &FigureContext, d: &Drawing) -> Result<()> {
    let system = c.system;
    let refs = reference_lines(c.reference, system.energy_unit());
    plot::energy_profiles(
        path,
        &format!(
            "{} along {} of {} paths",
            system.energy_name(),
            d.profiles.len(),
            c.title.3
        ),
        &system.energy_axis(),
        &d.profiles,
        &refs,
    )
}
