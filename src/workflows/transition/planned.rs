//! Routes planned once and shared: `tps geodesic --from A --to B` plans the route of a run and
//! writes it; the shards of that run read it instead of planning it again, after checking it
//! was planned for their system, model, surface and settings.

use std::path::Path;

use super::{Request, Sampler};
use crate::error::{Error, Result};
use crate::provenance::sha256;
use crate::route::{RouteFile, RouteKind};
use crate::system::{LoadedDenoiser, System};

/// The file's name in a route directory.
pub const FILE: &str = "route.json";

/// SHA-256 of a route's points (their exact bits): what the shards of one run share.
pub fn points_sha256(points: &[Vec<f64>]) -> String {
    let bytes: Vec<u8> = points
        .iter()
        .flatten()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    sha256(&bytes)
}

/// The settings a route depends on, as text.
fn settings(system: &System) -> Result<String> {
    let geodesic = toml::to_string(&system.file.geodesic)
        .map_err(|e| Error::Invalid(format!("cannot encode the geodesic settings: {e}")))?;
    Ok(format!(
        "{geodesic}\nlambda_max = {}",
        system.file.transition.lambda_max
    ))
}

/// Plans `request`'s route between the sampler's states and returns its file.
pub fn plan(
    sampler: &Sampler,
    model: &LoadedDenoiser,
    request: &Request,
    progress: &mut dyn FnMut(usize, f64),
) -> Result<RouteFile> {
    let system = sampler.system();
    let (points, route) = sampler.plan(request, progress)?;
    let (from, to) = sampler.states();
    Ok(RouteFile {
        system: system.file.name.clone(),
        from: from.into(),
        to: to.into(),
        points_sha256: points_sha256(&points),
        route,
        points,
        seed: request.seed,
        model_sha256: model.model_sha256.clone(),
        surface_sha256: system.surface_sha256()?,
        settings: settings(system)?,
    })
}

/// Reads the route in `dir`, refusing one planned for another system, pair of states, model,
/// surface, settings or seed, along another route than `route` (if given), or whose points
/// are not a curve of at least two finite spacetime points of the model's dimension.
pub fn read(
    dir: &Path,
    system: &System,
    model: &LoadedDenoiser,
    states: (&str, &str),
    route: Option<RouteKind>,
    seed: u64,
) -> Result<RouteFile> {
    let path = dir.join(FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let file: RouteFile =
        serde_json::from_str(&text).map_err(|e| Error::parse(&path, e.to_string()))?;
    let refuse = |what: &str| {
        Err(Error::Invalid(format!(
            "{}: planned for {what}; plan it again with `tps geodesic {} --from {} --to {}`",
            path.display(),
            system.path.display(),
            states.0,
            states.1
        )))
    };
    if file.system != system.file.name || (file.from.as_str(), file.to.as_str()) != states {
        return refuse(&format!(
            "system `{}` from {} to {}",
            file.system, file.from, file.to
        ));
    }
    if file.model_sha256 != model.model_sha256 {
        return refuse("another model");
    }
    if file.surface_sha256 != system.surface_sha256()? {
        return refuse("another surface");
    }
    if file.settings != settings(system)? {
        return refuse("other [geodesic] or transition.lambda_max settings");
    }
    if let Some(r) = route
        && r != file.route.route
    {
        return refuse(&format!(
            "the {} route, not the {r} route",
            file.route.route
        ));
    }
    if points_sha256(&file.points) != file.points_sha256 {
        return refuse("other points than it records (edited?)");
    }
    if file.seed != seed {
        return refuse(&format!(
            "seed {} (this run's is {seed}: the shards of one run share its seed)",
            file.seed
        ));
    }
    let width = system.data_dim() + 1;
    let malformed = |what: String| Err(Error::parse(&path, format!("field `points`: {what}")));
    if file.points.len() < 2 {
        return malformed(format!(
            "{} point(s), not a curve (at least 2 are needed)",
            file.points.len()
        ));
    }
    if let Some((k, p)) = file
        .points
        .iter()
        .enumerate()
        .find(|(_, p)| p.len() != width || p.iter().any(|v| !v.is_finite()))
    {
        return malformed(format!(
            "point {k} holds {} number(s); expected {width} finite numbers (λ and the \
             model's {} coordinates)",
            p.len(),
            width - 1
        ));
    }
    Ok(file)
}
