//! `tps geodesic`: the geodesic between two arbitrary spacetime points, compared with the
//! straight line, written as CSV and drawn over the log-density (the paper's Figures 1 and 5).

use std::path::{Path, PathBuf};

use plotters::style::RGBColor;
use serde::Serialize;
use tracing::{info, warn};

use super::sample::{GeodesicSummary, solve_geodesic};
use super::{load_denoiser, parse_point, publish_dir, staging_dir, write_json};
use crate::error::{Error, Result};
use crate::output::{plot, table};
use crate::systems::System;

/// Result of `tps geodesic`.
#[derive(Debug, Clone, Serialize)]
pub struct GeodesicReport {
    pub start: Vec<f64>,
    pub end: Vec<f64>,
    pub geodesic: GeodesicSummary,
    pub provenance: super::Provenance,
}

/// Parses `λ,x1,…` in data coordinates into a model-space spacetime point.
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
    start: &str,
    end: &str,
    constraints: &super::ConstraintOptions,
    seed: u64,
    out_root: &Path,
) -> Result<(GeodesicReport, PathBuf)> {
    let system = System::load(path)?;
    let dim = system.file.dim();
    let (s, e) = (
        spacetime_point(start, "--start", dim)?,
        spacetime_point(end, "--end", dim)?,
    );
    let target = out_root.join(&system.file.name).join("geodesic");
    let staging = staging_dir(&target)?;
    let result = (|| {
        let loaded = load_denoiser(&system)?;
        let norm = loaded.normalisation.clone();
        let to_model = |p: &[f64]| -> Vec<f64> {
            std::iter::once(p[0])
                .chain(norm.to_model(&p[1..]))
                .collect()
        };
        let mut config = system.file.geodesic.clone();
        config.constraints = constraints.apply(&config.constraints)?;
        let (points, summary) = solve_geodesic(
            &loaded,
            &system,
            &to_model(&s),
            &to_model(&e),
            &config,
            seed,
        )?;
        let data: Vec<Vec<f64>> = points
            .iter()
            .map(|p| std::iter::once(p[0]).chain(norm.to_data(&p[1..])).collect())
            .collect();
        let mut header = vec!["lambda".to_string()];
        header.extend(table::coordinate_names("x", dim));
        table::write_csv(&staging.join("geodesic.csv"), &header, &data)?;
        let straight: Vec<[f64; 2]> = vec![[s[1], s[0]], [e[1], e[0]]];
        let kt = system.kt();
        if dim == 1 {
            let Some(Ok(mixture)) = system.exact_denoiser(&crate::compute::device(
                crate::compute::Backend::Flex,
                crate::compute::Precision::F64,
            )?) else {
                warn!("no log-density to draw for a trained 1-D model; plot skipped");
                return Ok(summary);
            };
            let lam: Vec<f64> = data.iter().map(|p| p[0]).chain([s[0], e[0]]).collect();
            let (lo, hi) = lam
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                    (a.min(*v), b.max(*v))
                });
            let d = &system.file.domain[0];
            plot::map_with_curves(
                &staging.join("geodesic.png"),
                "geodesic over −log p(x; λ) (dark = likely)",
                ("x", "λ (log-SNR)"),
                *d,
                [lo - 1.0, hi + 1.0],
                &|x, l| -mixture.log_density_at(&[x], l),
                12.0,
                &[
                    plot::Curve {
                        label: "straight line".into(),
                        color: RGBColor(255, 255, 255),
                        points: straight,
                        width: 2,
                    },
                    plot::Curve {
                        label: "geodesic".into(),
                        color: RGBColor(230, 40, 40),
                        points: data.iter().map(|p| [p[1], p[0]]).collect(),
                        width: 3,
                    },
                ],
            )?;
        } else if dim == 2 {
            let d = &system.file.domain;
            let potential = system.potential.as_ref();
            plot::map_with_curves(
                &staging.join("geodesic.png"),
                "geodesic (x part) over U/kT = −log q(x) + const",
                ("x1", "x2"),
                d[0],
                d[1],
                &|x, y| potential.energy(&[x, y]) / kt,
                25.0,
                &[plot::Curve {
                    label: "geodesic".into(),
                    color: RGBColor(230, 40, 40),
                    points: data.iter().map(|p| [p[1], p[2]]).collect(),
                    width: 3,
                }],
            )?;
        }
        Ok(summary)
    })();
    match result {
        Ok(summary) => {
            let report = GeodesicReport {
                start: s,
                end: e,
                geodesic: summary,
                provenance: super::Provenance::new(&system, seed),
            };
            write_json(&staging.join("geodesic.json"), &report)?;
            publish_dir(&staging, &target)?;
            info!("geodesic written to {}", target.display());
            Ok((report, target))
        }
        Err(err) => {
            let _ = std::fs::remove_dir_all(&staging);
            Err(err)
        }
    }
}
