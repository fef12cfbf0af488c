//! PNG figures with plotters: a surface map with a colour bar in its units, curves and
//! labelled points over it; and energy profiles along paths with their mean and median and
//! the reference lines they are judged against.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
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
    /// Legend entry (empty: none).
    pub label: String,
    /// Colour.
    pub color: RGBColor,
    /// Points `(x, y)`.
    pub points: Vec<[f64; 2]>,
    /// Line width, px.
    pub width: u32,
    /// Dashed rather than solid.
    pub dashed: bool,
}

/// A labelled point.
pub struct Marker {
    /// Legend entry (empty: none).
    pub label: String,
    /// Where.
    pub at: [f64; 2],
    /// Colour.
    pub color: RGBColor,
}

/// The colour range of a map and what its values are.
pub struct ColourScale {
    /// Value at the dark end.
    pub low: f64,
    /// Value at the bright end (higher values are clipped to it).
    pub high: f64,
    /// What the colour shows, with its unit (e.g. `free energy (kJ/mol)`).
    pub label: String,
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

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

fn colour_bar(area: &Area, scale: &ColourScale) -> std::result::Result<(), String> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(40)
        .margin_bottom(57)
        .margin_right(10)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..1.0, scale.low..scale.high)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_desc(scale.label.as_str())
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| e.to_string())?;
    let steps = 120;
    let h = (scale.high - scale.low) / steps as f64;
    chart
        .draw_series((0..steps).map(|k| {
            let v = scale.low + k as f64 * h;
            Rectangle::new(
                [(0.0, v), (1.0, v + h)],
                ramp(k as f64 / steps as f64).filled(),
            )
        }))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// A map of `field(x, y)` over `[x range] × [y range]` coloured on `scale` (values above it
/// clipped), with a colour bar, curves and labelled markers on top.
#[allow(clippy::too_many_arguments)]
pub fn map_with_curves(
    path: &Path,
    title: &str,
    axes: (&str, &str),
    x_range: [f64; 2],
    y_range: [f64; 2],
    field: &dyn Fn(f64, f64) -> f64,
    scale: &ColourScale,
    curves: &[Curve],
    markers: &[Marker],
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
    let span = (scale.high - scale.low).max(1e-12);
    with_temporary(path, |tmp| {
        let root = BitMapBackend::new(tmp, (1000, 780)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (main, bar) = root.split_horizontally(880);
        colour_bar(&bar, scale)?;
        let mut chart = ChartBuilder::on(&main)
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
                    ramp((v - scale.low) / span)
                } else {
                    RGBColor(255, 255, 255)
                };
                Rectangle::new([(x, y), (x + dx, y + dy)], color.filled())
            }))
            .map_err(|e| e.to_string())?;
        for curve in curves {
            let style = ShapeStyle::from(&curve.color).stroke_width(curve.width);
            let pts = curve.points.iter().map(|p| (p[0], p[1]));
            let series = if curve.dashed {
                chart.draw_series(DashedLineSeries::new(pts, 10, 6, style))
            } else {
                chart.draw_series(LineSeries::new(pts, style))
            }
            .map_err(|e| e.to_string())?;
            if !curve.label.is_empty() {
                series
                    .label(curve.label.clone())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
            }
        }
        draw_markers(&mut chart, markers)?;
        if curves.iter().any(|c| !c.label.is_empty()) {
            // Grey, so that white and black curves both show in the legend.
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(RGBColor(150, 150, 150).mix(0.9))
                .border_style(BLACK)
                .label_font(("sans-serif", 15))
                .draw()
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())
    })
}

/// A chart with data coordinates in f64 on both axes.
type MapChart<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// A white figure's chart titled `title` over `x` × `y`, with room for axis labels.
fn framed_chart<'a, 'b: 'a>(
    root: &'a Area<'b>,
    title: &str,
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
) -> std::result::Result<MapChart<'a, 'b>, String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    ChartBuilder::on(root)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(x, y)
        .map_err(|e| e.to_string())
}

/// Horizontal reference lines across `x`, then the legend of every labelled series.
fn references_and_legend<'a, 'b: 'a>(
    chart: &mut MapChart<'a, 'b>,
    references: &[Line],
    (x0, x1): (f64, f64),
) -> std::result::Result<(), String> {
    for r in references {
        let style = ShapeStyle::from(&r.color).stroke_width(2);
        let pts = vec![(x0, r.value), (x1, r.value)];
        let series = if r.dashed {
            chart.draw_series(DashedLineSeries::new(pts, 12, 6, style))
        } else {
            chart.draw_series(LineSeries::new(pts, style))
        }
        .map_err(|e| e.to_string())?;
        series
            .label(r.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .label_font(("sans-serif", 15))
        .draw()
        .map_err(|e| e.to_string())
}

/// Labelled points over a map.
fn draw_markers(chart: &mut MapChart, markers: &[Marker]) -> std::result::Result<(), String> {
    // Label boxes placed so far, in pixels: a label goes to the first corner of its point
    // where it covers none of them (a state beside the saddle keeps its name visible).
    let mut placed: Vec<(i32, i32, i32, i32)> = Vec::new();
    for m in markers {
        let style = ShapeStyle::from(&m.color).filled();
        // The label sits on a white box, so that it shows over white paths and dark
        // basins alike.
        let width = 10 * m.label.chars().count() as i32 + 6;
        let (px, py) = chart.backend_coord(&(m.at[0], m.at[1]));
        let corners = [(8, -22), (8, 2), (-8 - width, -22), (-8 - width, 2)];
        let free = |&(dx, dy): &(i32, i32)| {
            let (x0, y0) = (px + dx, py + dy);
            placed
                .iter()
                .all(|&(a, b, c, d)| x0 + width <= a || c <= x0 || y0 + 20 <= b || d <= y0)
        };
        let (dx, dy) = corners.iter().copied().find(free).unwrap_or(corners[0]);
        placed.push((px + dx, py + dy, px + dx + width, py + dy + 20));
        chart
            .draw_series(std::iter::once(
                EmptyElement::at((m.at[0], m.at[1]))
                    + Circle::new((0, 0), 6, style)
                    + Circle::new((0, 0), 6, ShapeStyle::from(&BLACK).stroke_width(1))
                    + Rectangle::new([(dx, dy), (dx + width, dy + 20)], WHITE.mix(0.85).filled())
                    + Rectangle::new([(dx, dy), (dx + width, dy + 20)], BLACK.stroke_width(1))
                    + Text::new(
                        m.label.clone(),
                        (dx + 3, dy + 2),
                        ("sans-serif", 17).into_font().color(&BLACK),
                    ),
            ))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A horizontal reference line of an energy-profile plot.
pub struct Line {
    /// Legend entry (empty: none).
    pub label: String,
    /// The value.
    pub value: f64,
    /// Colour.
    pub color: RGBColor,
    /// Dashed rather than solid.
    pub dashed: bool,
}

/// Energy along each path (against its progress 0 → 1) with the pointwise mean and median of
/// all drawn paths and horizontal reference lines.
pub fn energy_profiles(
    path: &Path,
    title: &str,
    y_label: &str,
    profiles: &[Vec<f64>],
    references: &[Line],
) -> Result<()> {
    let finite = profiles.iter().flatten().copied().filter(|v| v.is_finite());
    let (mut lo, mut hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    for r in references {
        lo = lo.min(r.value);
        hi = hi.max(r.value);
    }
    if !(lo.is_finite() && hi.is_finite()) {
        return Err(plot_error(path, "no finite energies to plot"));
    }
    let pad = 0.05 * (hi - lo).max(1e-9);
    let len = profiles.iter().map(Vec::len).min().unwrap_or(0);
    let stride = (len / 2000).max(1);
    let pointwise = |pick: &dyn Fn(&mut Vec<f64>) -> f64| -> Vec<(f64, f64)> {
        (0..len)
            .step_by(stride)
            .map(|i| {
                let mut col: Vec<f64> = profiles.iter().map(|p| p[i]).collect();
                (i as f64 / (len.max(2) - 1) as f64, pick(&mut col))
            })
            .collect()
    };
    let mean = pointwise(&|c| c.iter().sum::<f64>() / c.len() as f64);
    let median = pointwise(&|c| {
        c.sort_by(f64::total_cmp);
        c[c.len() / 2]
    });
    with_temporary(path, |tmp| {
        let root = BitMapBackend::new(tmp, (960, 600)).into_drawing_area();
        let mut chart = framed_chart(&root, title, 0.0..1.0, (lo - pad)..(hi + pad))?;
        chart
            .configure_mesh()
            .x_desc("progress along the path (annealing step / steps)")
            .y_desc(y_label)
            .label_style(("sans-serif", 15))
            .draw()
            .map_err(|e| e.to_string())?;
        for prof in profiles {
            let n = prof.len().max(2) - 1;
            chart
                .draw_series(LineSeries::new(
                    prof.iter()
                        .enumerate()
                        .step_by(stride)
                        .map(|(i, v)| (i as f64 / n as f64, *v)),
                    RGBColor(150, 170, 200).mix(0.5).stroke_width(1),
                ))
                .map_err(|e| e.to_string())?;
        }
        for (label, series, color) in [
            ("mean of the paths", &mean, RGBColor(20, 60, 160)),
            ("median of the paths", &median, RGBColor(30, 150, 60)),
        ] {
            let style = ShapeStyle::from(&color).stroke_width(3);
            chart
                .draw_series(LineSeries::new(series.iter().copied(), style))
                .map_err(|e| e.to_string())?
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
        }
        references_and_legend(&mut chart, references, (0.0, 1.0))?;
        root.present().map_err(|e| e.to_string())
    })
}

/// One group of values in a distributions plot.
pub struct Group {
    /// Its name on the x axis.
    pub label: String,
    /// The values (e.g. every path's maximum).
    pub values: Vec<f64>,
    /// Mean and its standard error, drawn as a bar.
    pub mean: (f64, f64),
}

/// The values of each group as jittered points with their mean ± standard error, side by side,
/// with horizontal reference lines.
pub fn distributions(
    path: &Path,
    title: &str,
    y_label: &str,
    groups: &[Group],
    references: &[Line],
) -> Result<()> {
    let finite = groups
        .iter()
        .flat_map(|g| g.values.iter().copied())
        .chain(references.iter().map(|r| r.value))
        .filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !(lo.is_finite() && hi.is_finite()) || groups.is_empty() {
        return Err(plot_error(path, "no finite values to plot"));
    }
    let pad = 0.05 * (hi - lo).max(1e-9);
    let n = groups.len() as f64;
    let labels: Vec<String> = groups.iter().map(|g| g.label.clone()).collect();
    with_temporary(path, |tmp| {
        let root = BitMapBackend::new(tmp, (960, 600)).into_drawing_area();
        let mut chart = framed_chart(&root, title, -0.5..(n - 0.5), (lo - pad)..(hi + pad))?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(groups.len())
            .x_label_formatter(&|x| {
                let k = x.round();
                if (x - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < labels.len() {
                    labels[k as usize].clone()
                } else {
                    String::new()
                }
            })
            .y_desc(y_label)
            .label_style(("sans-serif", 15))
            .draw()
            .map_err(|e| e.to_string())?;
        for (k, g) in groups.iter().enumerate() {
            let x0 = k as f64;
            // A fixed jitter (golden-ratio sequence): the same figure on every run.
            let points = g.values.iter().enumerate().map(|(i, v)| {
                let jitter = ((i as f64 * 0.618_033_988_75).fract() - 0.5) * 0.5;
                Circle::new(
                    (x0 + jitter, *v),
                    2,
                    RGBColor(90, 120, 190).mix(0.5).filled(),
                )
            });
            chart.draw_series(points).map_err(|e| e.to_string())?;
            let (m, se) = g.mean;
            let style = ShapeStyle::from(&BLACK).stroke_width(3);
            chart
                .draw_series([
                    PathElement::new(vec![(x0 - 0.3, m), (x0 + 0.3, m)], style),
                    PathElement::new(vec![(x0, m - se), (x0, m + se)], style),
                ])
                .map_err(|e| e.to_string())?;
        }
        references_and_legend(&mut chart, references, (-0.5, n - 0.5))?;
        root.present().map_err(|e| e.to_string())
    })
}

/// A histogram of `counts` in equal bins over `range`, with vertical lines at `marks`.
pub fn histogram(
    path: &Path,
    title: &str,
    x_label: &str,
    range: (f64, f64),
    counts: &[usize],
    marks: &[f64],
) -> Result<()> {
    histograms(
        path,
        title,
        x_label,
        range,
        &[(String::new(), counts)],
        marks,
    )
}

/// Histograms of several groups on the same bins over `range`, side by side in each bin,
/// labelled (an unlabelled lone group draws no legend), with vertical lines at `marks`.
pub fn histograms(
    path: &Path,
    title: &str,
    x_label: &str,
    range: (f64, f64),
    groups: &[(String, &[usize])],
    marks: &[f64],
) -> Result<()> {
    let bins = groups.first().map_or(0, |g| g.1.len());
    let top = groups
        .iter()
        .flat_map(|g| g.1.iter())
        .copied()
        .max()
        .unwrap_or(0);
    if bins == 0 || top == 0 || groups.iter().any(|g| g.1.len() != bins) {
        return Err(plot_error(path, "no counts to plot"));
    }
    let top = top as f64 * 1.1;
    let width = (range.1 - range.0) / bins as f64;
    let bar = 0.9 * width / groups.len() as f64;
    let colours = [
        RGBColor(90, 120, 190),
        RGBColor(220, 120, 40),
        RGBColor(40, 150, 80),
        RGBColor(180, 50, 60),
        RGBColor(120, 80, 170),
        RGBColor(120, 120, 120),
    ];
    with_temporary(path, |tmp| {
        let root = BitMapBackend::new(tmp, (800, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(range.0..range.1, 0.0..top)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc("frames")
            .label_style(("sans-serif", 15))
            .draw()
            .map_err(|e| e.to_string())?;
        for (g, (label, counts)) in groups.iter().enumerate() {
            let colour = colours[g % colours.len()];
            let series = chart
                .draw_series(counts.iter().enumerate().map(|(k, &c)| {
                    let x = range.0 + k as f64 * width + 0.05 * width + g as f64 * bar;
                    Rectangle::new([(x, 0.0), (x + bar, c as f64)], colour.filled())
                }))
                .map_err(|e| e.to_string())?;
            if !label.is_empty() {
                series.label(label.as_str()).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 14, y + 5)], colour.filled())
                });
            }
        }
        let style = ShapeStyle::from(&BLACK).stroke_width(2);
        chart
            .draw_series(
                marks
                    .iter()
                    .map(|&m| PathElement::new(vec![(m, 0.0), (m, top)], style)),
            )
            .map_err(|e| e.to_string())?;
        if groups.iter().any(|g| !g.0.is_empty()) {
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.9))
                .border_style(BLACK)
                .label_font(("sans-serif", 15))
                .draw()
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())
    })
}
