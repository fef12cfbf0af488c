//! PNG figures with plotters: an energy (or log-density) map with curves drawn over it, and
//! energy profiles along paths against reference lines.

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::{Error, Result};

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font ships with tps: plotters has no system fonts without fontconfig.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// A curve to draw over a map.
pub struct Curve {
    pub label: String,
    pub color: RGBColor,
    pub points: Vec<[f64; 2]>,
    pub width: u32,
}

fn plot_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::io(path, std::io::Error::other(format!("plotting failed: {e}")))
}

fn with_temporary<F>(path: &Path, draw: F) -> Result<()>
where
    F: FnOnce(&Path) -> std::result::Result<(), String>,
{
    register_font();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".tmp{}-{name}", std::process::id()));
    if let Err(e) = draw(&tmp) {
        let _ = std::fs::remove_file(&tmp);
        return Err(plot_error(path, e));
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Perceptual-ish colour ramp (dark blue → yellow) for `t ∈ [0, 1]`.
fn ramp(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let stops = [
        (0.0, (48.0, 18.0, 59.0)),
        (0.25, (65.0, 105.0, 225.0)),
        (0.5, (30.0, 190.0, 160.0)),
        (0.75, (190.0, 220.0, 60.0)),
        (1.0, (250.0, 250.0, 200.0)),
    ];
    let i = stops
        .iter()
        .rposition(|s| s.0 <= t)
        .unwrap_or(0)
        .min(stops.len() - 2);
    let (t0, c0) = stops[i];
    let (t1, c1) = stops[i + 1];
    let f = (t - t0) / (t1 - t0);
    let mix = |a: f64, b: f64| (a + f * (b - a)) as u8;
    RGBColor(mix(c0.0, c1.0), mix(c0.1, c1.1), mix(c0.2, c1.2))
}

/// A map of `field(x, y)` over `[x range] × [y range]`, clipped to `[min, min + span]`, with
/// curves on top.
#[allow(clippy::too_many_arguments)]
pub fn map_with_curves(
    path: &Path,
    title: &str,
    axes: (&str, &str),
    x_range: [f64; 2],
    y_range: [f64; 2],
    field: &dyn Fn(f64, f64) -> f64,
    span: f64,
    curves: &[Curve],
) -> Result<()> {
    let n = 200;
    let mut values = vec![f64::NAN; n * n];
    for j in 0..n {
        for i in 0..n {
            let x = x_range[0] + (i as f64 + 0.5) / n as f64 * (x_range[1] - x_range[0]);
            let y = y_range[0] + (j as f64 + 0.5) / n as f64 * (y_range[1] - y_range[0]);
            values[j * n + i] = field(x, y);
        }
    }
    let low = values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    with_temporary(path, |tmp| {
        let root = BitMapBackend::new(tmp, (900, 760)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(x_range[0]..x_range[1], y_range[0]..y_range[1])
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(axes.0)
            .y_desc(axes.1)
            .label_style(("sans-serif", 15))
            .draw()
            .map_err(|e| e.to_string())?;
        let (dx, dy) = (
            (x_range[1] - x_range[0]) / n as f64,
            (y_range[1] - y_range[0]) / n as f64,
        );
        chart
            .draw_series((0..n * n).map(|k| {
                let (i, j) = (k % n, k / n);
                let (x, y) = (x_range[0] + i as f64 * dx, y_range[0] + j as f64 * dy);
                let v = values[k];
                let color = if v.is_finite() {
                    ramp((v - low) / span)
                } else {
                    RGBColor(255, 255, 255)
                };
                Rectangle::new([(x, y), (x + dx, y + dy)], color.filled())
            }))
            .map_err(|e| e.to_string())?;
        for curve in curves {
            let style = ShapeStyle::from(&curve.color).stroke_width(curve.width);
            let series = chart
                .draw_series(LineSeries::new(
                    curve.points.iter().map(|p| (p[0], p[1])),
                    style,
                ))
                .map_err(|e| e.to_string())?;
            if !curve.label.is_empty() {
                series
                    .label(curve.label.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
            }
        }
        if curves.iter().any(|c| !c.label.is_empty()) {
            // Grey, so that white and black curves both show in the legend.
            chart
                .configure_series_labels()
                .background_style(RGBColor(150, 150, 150).mix(0.9))
                .border_style(BLACK)
                .label_font(("sans-serif", 15))
                .draw()
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())
    })
}

/// Energy along each path (against its progress 0 → 1) with horizontal reference lines.
pub fn energy_profiles(
    path: &Path,
    title: &str,
    y_label: &str,
    profiles: &[Vec<f64>],
    references: &[(String, f64, RGBColor)],
) -> Result<()> {
    let finite = profiles.iter().flatten().copied().filter(|v| v.is_finite());
    let (mut lo, mut hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    for (_, v, _) in references {
        lo = lo.min(*v);
        hi = hi.max(*v);
    }
    if !(lo.is_finite() && hi.is_finite()) {
        return Err(plot_error(path, "no finite energies to plot"));
    }
    let pad = 0.05 * (hi - lo).max(1e-9);
    with_temporary(path, |tmp| {
        let root = BitMapBackend::new(tmp, (900, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..1.0, (lo - pad)..(hi + pad))
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("progress along the path")
            .y_desc(y_label)
            .label_style(("sans-serif", 15))
            .draw()
            .map_err(|e| e.to_string())?;
        for (k, prof) in profiles.iter().enumerate() {
            let n = prof.len().max(2) - 1;
            let stride = (prof.len() / 2000).max(1);
            let color = Palette99::pick(k).mix(0.7);
            chart
                .draw_series(LineSeries::new(
                    prof.iter()
                        .enumerate()
                        .step_by(stride)
                        .map(|(i, v)| (i as f64 / n as f64, *v)),
                    color.stroke_width(1),
                ))
                .map_err(|e| e.to_string())?;
        }
        for (label, value, color) in references {
            let style = ShapeStyle::from(color).stroke_width(2);
            chart
                .draw_series(LineSeries::new(vec![(0.0, *value), (1.0, *value)], style))
                .map_err(|e| e.to_string())?
                .label(label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .label_font(("sans-serif", 15))
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())
    })
}
