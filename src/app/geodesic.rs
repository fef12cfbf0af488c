//! `tps geodesic`: the geodesic between two arbitrary spacetime points, compared with the
//! straight line, written as CSV and drawn over the log-density (the paper's Figures 1 and 5).

use std::path::{Path, PathBuf};

use plotters::style::RGBColor;
use serde::Serialize;
use tracing::warn;

use super::{ConstraintOptions, parse_point, write_json};
use crate::atomic::Staged;
use crate::compute::{self, Backend, Precision};
use crate::error::{Error, Result};
use crate::output::plot::{self, ColourScale, Curve};
use crate::output::table;
use crate::progress::Progress;
use crate::provenance::Provenance;
use crate::route::geodesic::{GeodesicSummary, MepStart, geodesic};
use crate::system::System;

/// Result of `tps geodesic`.
#[derive(Debug, Clone, Serialize)]
pub struct GeodesicReport {
    /// `(λ, x…)`, data units for x.
    pub start: Vec<f64>,
    /// End point `(λ, x…)`, data units for x.
    pub end: Vec<f64>,
    /// The geodesic.
    pub geodesic: GeodesicSummary,
    /// Command, configuration, seed and inputs.
    pub provenance: Provenance,
}

/// Parses `λ,x1,…` (data units).
fn spacetime_point(text: &str, what: &str, dim: usize) -> Result<Vec<f64>> {
    let p = parse_point(text, what)?;
    if p.len() != dim + 1 {
        return Err(Error::Invalid(format!(
            "{what} needs λ followed by {dim} coordinate(s), got {} number(s)",
            p.len()
        )));
    }
    Ok(p)
}

/// Runs `tps geodesic`; returns the report and the output directory.
pub fn run(
    path: &Path,
    endpoints: (&str, &str),
    constraints: &ConstraintOptions,
    seed: u64,
    out_root: &Path,
    backend: Backend,
    progress: &dyn Progress,
) -> Result<(GeodesicReport, PathBuf)> {
    let system = System::load(path)?;
    system.require_variables("geodesic")?;
    let dim = system.file.dim();
    let (s, e) = (
        spacetime_point(endpoints.0, "--start", dim)?,
        spacetime_point(endpoints.1, "--end", dim)?,
    );
    let staged = Staged::new(&out_root.join(&system.file.name).join("geodesic"))?;
    let loaded = system.denoiser(backend)?;
    let norm = loaded.normalisation.clone();
    let to_model = |p: &[f64]| -> Vec<f64> {
        std::iter::once(p[0])
            .chain(norm.to_model(&p[1..]))
            .collect()
    };
    let constraints = constraints.apply(&system.file.geodesic.constraints)?;
    progress.stage("geodesic", system.file.geodesic.steps as u64);
    let (points, summary) = geodesic(
        &system,
        &loaded,
        system.potential()?,
        (&to_model(&s), &to_model(&e)),
        &constraints,
        MepStart::Not("not made: arbitrary spacetime points have no reference path".into()),
        seed,
        &mut |step, _| progress.set(step as u64),
    )?;
    let data: Vec<Vec<f64>> = points
        .iter()
        .map(|p| std::iter::once(p[0]).chain(norm.to_data(&p[1..])).collect())
        .collect();
    let dir = staged.path();
    let mut header = vec!["lambda".to_string()];
    header.extend(system.file.coordinate_names());
    table::write_csv(&dir.join("geodesic.csv"), &header, &data)?;
    match dim {
        1 => draw_on_density(dir, &system, &data, (&s, &e))?,
        2 => draw_on_surface(dir, &system, &data)?,
        _ => {}
    }
    let report = GeodesicReport {
        start: s,
        end: e,
        geodesic: summary,
        provenance: system.provenance(Some(seed)),
    };
    write_json(&dir.join("geodesic.json"), &report)?;
    Ok((report, staged.publish()?))
}

/// A 1-D geodesic drawn over the exact model's −log p(x; λ) (trained models have none).
fn draw_on_density(
    dir: &Path,
    system: &System,
    data: &[Vec<f64>],
    (s, e): (&[f64], &[f64]),
) -> Result<()> {
    let Some(Ok(mixture)) = system.exact_denoiser(&compute::device(Backend::Flex, Precision::F64)?)
    else {
        warn!("no log-density to draw for a trained 1-D model; plot skipped");
        return Ok(());
    };
    let lam: Vec<f64> = data.iter().map(|p| p[0]).chain([s[0], e[0]]).collect();
    let (lo, hi) = lam
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let d = system.file.domain()[0];
    plot::map_with_curves(
        &dir.join("geodesic.png"),
        "geodesic over −log p(x; λ) (dark = likely)",
        ("x", "λ (log-SNR)"),
        d,
        [lo - 1.0, hi + 1.0],
        &|x, l| -mixture.log_density_at(&[x], l),
        &ColourScale {
            low: 0.0,
            high: 12.0,
            label: "−log p(x; λ)".into(),
        },
        &[
            Curve {
                label: "straight line".into(),
                color: RGBColor(255, 255, 255),
                points: vec![[s[1], s[0]], [e[1], e[0]]],
                width: 2,
                dashed: true,
            },
            Curve {
                label: "geodesic".into(),
                color: RGBColor(230, 40, 40),
                points: data.iter().map(|p| [p[1], p[0]]).collect(),
                width: 3,
                dashed: false,
            },
        ],
        &[],
    )?;
    Ok(())
}

/// A 2-D geodesic's x part drawn over the surface in kT.
fn draw_on_surface(dir: &Path, system: &System, data: &[Vec<f64>]) -> Result<()> {
    let d = system.file.domain();
    let potential = system.surface()?;
    let kt = system.kt();
    let a = system.axis_labels();
    plot::map_with_curves(
        &dir.join("geodesic.png"),
        "geodesic (x part) over U/kT = −log q(x) + const",
        (&a[0], &a[1]),
        d[0],
        d[1],
        &|x, y| potential.energy(&[x, y]) / kt,
        &{
            let c = system.colour_scale()?;
            ColourScale {
                low: c.low / kt,
                high: c.high / kt,
                label: "U/kT".into(),
            }
        },
        &[Curve {
            label: "geodesic (x part)".into(),
            color: RGBColor(230, 40, 40),
            points: data.iter().map(|p| [p[1], p[2]]).collect(),
            width: 3,
            dashed: false,
        }],
        &[],
    )?;
    Ok(())
}

/// Plans the route of `tps sample` between two named states once and writes it under
/// `out_root/<system>/route-<from>-<to>/` (`route.json`, `route.csv`) for the shards of a run.
pub fn plan_route(
    path: &Path,
    options: &super::sample::SampleOptions,
    progress: &dyn Progress,
) -> Result<(crate::route::RouteFile, PathBuf)> {
    let system = System::load(path)?;
    let file = &system.file;
    super::check_states(file, &options.from, &options.to)?;
    let request = options.request(file)?;
    let loaded = system.denoiser(options.backend)?;
    let staged = Staged::new(
        &options
            .out_root
            .join(&file.name)
            .join(format!("route-{}-{}", options.from, options.to)),
    )?;
    let sampler = crate::workflows::transition::Sampler::new(
        &system,
        Some(&loaded),
        &options.from,
        &options.to,
    )?;
    progress.stage(
        &format!("{} route", request.route),
        file.geodesic.steps as u64,
    );
    let route = crate::workflows::transition::planned::plan(
        &sampler,
        &loaded,
        &request,
        &mut |step, _| progress.set(step as u64),
    )?;
    write_json(
        &staged
            .path()
            .join(crate::workflows::transition::planned::FILE),
        &route,
    )?;
    Ok((route, staged.publish()?))
}
