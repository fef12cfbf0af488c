//! A 2-D energy surface tabulated on a regular grid, interpolated by Catmull–Rom bicubic
//! patches: exact at the nodes and C¹ everywhere, so forces are continuous.
//!
//! Text input: `x y value` per line (`#` comments), either coordinate varying fastest (PLUMED
//! writes y-fastest or x-fastest blocks; the alanine surface of the spacetime paper is
//! x-fastest). The grid must be complete and uniformly spaced. A periodic grid covers
//! `[x₀, x₀ + n·h)` in each direction; a bounded one `[x₀, x₀ + (n−1)·h]`, with `+∞` outside.
//!
//! PLUMED's grid format (`sum_hills`, `histogram`, `DUMPGRID`) is this format with a header:
//! `#! FIELDS x y value …` and `#! SET min_x/max_x/nbins_x/periodic_x` lines. Its point counts and
//! periodicity are checked against the data, and [`Tabulated::to_plumed`] writes it, so that
//! surfaces go both ways between `tps` and PLUMED.

use std::path::Path;

use super::Potential;
use crate::error::{Error, Result};

/// A tabulated surface.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tabulated {
    nx: usize,
    ny: usize,
    origin: [f64; 2],
    step: [f64; 2],
    /// Row-major with x fastest: `values[j * nx + i]` at `(x₀ + i hx, y₀ + j hy)`.
    values: Vec<f64>,
    periodic: bool,
}

fn err(source: &str, line: Option<usize>, message: impl Into<String>) -> Error {
    let field = match line {
        Some(l) => format!("line {l}"),
        None => "grid".into(),
    };
    Error::Config {
        file: source.into(),
        field,
        message: message.into(),
    }
}

/// The `x y value` rows of a text grid with their line numbers (comments, blank lines and
/// xmgrace `@` lines skipped); every value a finite number.
fn grid_rows(text: &str, source: &str) -> Result<Vec<(usize, [f64; 3])>> {
    let mut rows: Vec<(usize, [f64; 3])> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let content = line.split('#').next().unwrap_or("").trim();
        if content.is_empty() || content.starts_with('@') {
            continue;
        }
        let fields: Vec<&str> = content.split_whitespace().collect();
        if fields.len() < 3 {
            return Err(err(
                source,
                Some(i + 1),
                format!("expected `x y value`, found {} column(s)", fields.len()),
            ));
        }
        let mut v = [0.0f64; 3];
        for (k, f) in fields[..3].iter().enumerate() {
            v[k] = f
                .parse()
                .map_err(|_| err(source, Some(i + 1), format!("`{f}` is not a number")))?;
            if !v[k].is_finite() {
                return Err(err(source, Some(i + 1), format!("`{f}` is not finite")));
            }
        }
        rows.push((i + 1, v));
    }
    Ok(rows)
}

/// The spacing of a grid axis, checked uniform.
fn uniform(axis: &[f64], name: &str, source: &str) -> Result<f64> {
    let h = (axis[axis.len() - 1] - axis[0]) / (axis.len() - 1) as f64;
    for (k, w) in axis.windows(2).enumerate() {
        // Text grids carry a few decimals: accept rounding up to 0.1 % of a step.
        if ((w[1] - w[0]) - h).abs() > 1e-3 * h.abs() {
            return Err(err(
                source,
                None,
                format!(
                    "non-uniform {name} spacing: step {} between {} and {} (expected {h})",
                    w[1] - w[0],
                    axis[k],
                    axis[k + 1]
                ),
            ));
        }
    }
    Ok(h)
}

/// Sorted distinct values with a tolerance relative to the spread.
fn distinct(values: impl Iterator<Item = f64>, tol: f64) -> Vec<f64> {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v.dedup_by(|a, b| (*a - *b).abs() <= tol);
    v
}

impl Tabulated {
    /// Reads a surface file.
    pub fn from_file(path: &Path, periodic: bool) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(&text, &path.display().to_string(), periodic)
    }

    /// Parses `x y value` lines; `source` names the input in errors. A PLUMED header, if there
    /// is one, must agree with `periodic` and with the points found.
    pub fn parse(text: &str, source: &str, periodic: bool) -> Result<Self> {
        let header = PlumedHeader::read(text);
        if let Some(p) = header.periodic()
            && p != periodic
        {
            return Err(err(
                source,
                None,
                format!(
                    "the grid's header says periodic = {p}, but the system treats it as {}",
                    if periodic { "periodic" } else { "bounded" }
                ),
            ));
        }
        let rows = grid_rows(text, source)?;
        if rows.len() < 4 {
            return Err(err(source, None, "fewer than 4 grid points"));
        }
        let spread = |k: usize| {
            let (lo, hi) = rows.iter().fold((f64::MAX, f64::MIN), |(lo, hi), r| {
                (lo.min(r.1[k]), hi.max(r.1[k]))
            });
            (hi - lo).max(1e-300)
        };
        let xs = distinct(rows.iter().map(|r| r.1[0]), 1e-9 * spread(0));
        let ys = distinct(rows.iter().map(|r| r.1[1]), 1e-9 * spread(1));
        let (nx, ny) = (xs.len(), ys.len());
        for (k, found) in [nx, ny].into_iter().enumerate() {
            if let Some(bins) = header.bins(k) {
                // PLUMED stores `nbins` points of a periodic axis and `nbins + 1` of a bounded one.
                let expected = if periodic { bins } else { bins + 1 };
                if found != expected {
                    return Err(err(
                        source,
                        None,
                        format!(
                            "the header declares {bins} bins of `{}` ({expected} grid values), the \
                             file holds {found}: points are missing",
                            header.fields.get(k).map_or("?", String::as_str)
                        ),
                    ));
                }
            }
        }
        if nx < 2 || ny < 2 {
            return Err(err(
                source,
                None,
                "the grid needs at least 2 distinct x and y values",
            ));
        }
        if rows.len() != nx * ny {
            return Err(err(
                source,
                None,
                format!(
                    "ragged grid: {} points for {nx} distinct x × {ny} distinct y = {}: points \
                     are missing",
                    rows.len(),
                    nx * ny
                ),
            ));
        }
        let (hx, hy) = (uniform(&xs, "x", source)?, uniform(&ys, "y", source)?);
        let mut values = vec![f64::NAN; nx * ny];
        for &(line, [x, y, v]) in &rows {
            let i = ((x - xs[0]) / hx).round() as usize;
            let j = ((y - ys[0]) / hy).round() as usize;
            let slot = &mut values[j * nx + i];
            if !slot.is_nan() {
                return Err(err(
                    source,
                    Some(line),
                    format!("duplicate grid point ({x}, {y})"),
                ));
            }
            *slot = v;
        }
        Ok(Self {
            nx,
            ny,
            origin: [xs[0], ys[0]],
            step: [hx, hy],
            values,
            periodic,
        })
    }

    /// A periodic `n × n` grid over `[−π, π)²` of `values` (first coordinate fastest).
    pub fn periodic_angles(values: Vec<f64>, n: usize) -> Self {
        let h = std::f64::consts::TAU / n as f64;
        Self::grid(values, [n, n], [-std::f64::consts::PI; 2], [h, h], true)
    }

    /// A grid of `values` (first coordinate fastest) with `shape` nodes from `origin` at
    /// `step`; periodic grids wrap after the last node.
    pub fn grid(
        values: Vec<f64>,
        shape: [usize; 2],
        origin: [f64; 2],
        step: [f64; 2],
        periodic: bool,
    ) -> Self {
        assert_eq!(values.len(), shape[0] * shape[1], "one value per node");
        Self {
            nx: shape[0],
            ny: shape[1],
            origin,
            step,
            values,
            periodic,
        }
    }

    /// The grid in PLUMED's format: `#! FIELDS` with the coordinates' `names` and the value's
    /// `field`, `#! SET` bounds, bins and periodicity, then `x y value` lines (x fastest, a blank
    /// line between rows), preceded by `# comment`. [`Tabulated::parse`] reads it back.
    pub fn to_plumed(&self, names: [&str; 2], field: &str, comment: &str) -> String {
        use std::fmt::Write;
        let mut text = format!("#! FIELDS {} {} {field}\n", names[0], names[1]);
        for (k, name) in names.iter().enumerate() {
            let n = if k == 0 { self.nx } else { self.ny };
            let (bins, max) = if self.periodic {
                (n, self.origin[k] + n as f64 * self.step[k])
            } else {
                (n - 1, self.origin[k] + (n - 1) as f64 * self.step[k])
            };
            let _ = writeln!(text, "#! SET min_{name} {:.9}", self.origin[k]);
            let _ = writeln!(text, "#! SET max_{name} {max:.9}");
            let _ = writeln!(text, "#! SET nbins_{name} {bins}");
            let _ = writeln!(text, "#! SET periodic_{name} {}", self.periodic);
        }
        let _ = writeln!(text, "# {comment}");
        for j in 0..self.ny {
            for i in 0..self.nx {
                let [x, y] = self.node(i, j);
                let _ = writeln!(text, "{x:.9} {y:.9} {:.6}", self.value(i, j));
            }
            text.push('\n');
        }
        text
    }

    /// `potential` on an `n × n` grid over `domain` (the grid wraps where `periodic`: `n` nodes
    /// a period; else `n` nodes from edge to edge).
    pub fn of(potential: &dyn Potential, domain: [[f64; 2]; 2], n: usize, periodic: bool) -> Self {
        let (step, nodes) = Self::grid_nodes(domain, n, periodic);
        let values = nodes.iter().map(|x| potential.energy(x)).collect();
        Self::grid(values, [n, n], [domain[0][0], domain[1][0]], step, periodic)
    }

    /// The step and the nodes (x fastest) of the `n × n` grid over `domain` that
    /// [`Tabulated::of`] tabulates on.
    pub fn grid_nodes(
        domain: [[f64; 2]; 2],
        n: usize,
        periodic: bool,
    ) -> ([f64; 2], Vec<[f64; 2]>) {
        let step: [f64; 2] = std::array::from_fn(|k| {
            (domain[k][1] - domain[k][0]) / if periodic { n } else { n - 1 } as f64
        });
        let nodes = (0..n * n)
            .map(|k| {
                [
                    domain[0][0] + (k % n) as f64 * step[0],
                    domain[1][0] + (k / n) as f64 * step[1],
                ]
            })
            .collect();
        (step, nodes)
    }

    /// Whether the grid is one [`Tabulated::grid`] accepts (a grid read from a file that
    /// serde filled in: a model's header).
    pub fn is_well_formed(&self) -> bool {
        self.nx >= 2
            && self.ny >= 2
            && self.values.len() == self.nx * self.ny
            && self.values.iter().all(|v| v.is_finite())
            && self.step.iter().all(|h| h.is_finite() && *h > 0.0)
            && self.origin.iter().all(|o| o.is_finite())
    }

    /// The same grid with `f` applied to every value.
    pub fn map(&self, f: impl Fn(f64) -> f64) -> Self {
        Self {
            values: self.values.iter().map(|&v| f(v)).collect(),
            ..self.clone()
        }
    }

    /// All node values, x fastest.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Grid size `(nx, ny)`.
    pub fn shape(&self) -> (usize, usize) {
        (self.nx, self.ny)
    }

    /// Coordinates of node `(i, j)`.
    pub fn node(&self, i: usize, j: usize) -> [f64; 2] {
        [
            self.origin[0] + i as f64 * self.step[0],
            self.origin[1] + j as f64 * self.step[1],
        ]
    }

    /// Tabulated value at node `(i, j)`.
    pub fn value(&self, i: usize, j: usize) -> f64 {
        self.values[j * self.nx + i]
    }

    /// Node value with periodic wrapping or linear extrapolation by one ghost node.
    fn at(&self, i: isize, j: isize) -> f64 {
        let (nx, ny) = (self.nx as isize, self.ny as isize);
        if self.periodic {
            return self.values[(j.rem_euclid(ny) * nx + i.rem_euclid(nx)) as usize];
        }
        let ghost = |k: isize, n: isize| -> (isize, isize, f64) {
            if k < 0 {
                (0, 1, -1.0)
            } else if k >= n {
                (n - 1, n - 2, -1.0)
            } else {
                (k, k, 0.0)
            }
        };
        let (ia, ib, wi) = ghost(i, nx);
        let (ja, jb, wj) = ghost(j, ny);
        // f(ghost) = 2 f(edge) − f(inner) along each extrapolated axis.
        let f = |a: isize, b: isize| self.values[(b * nx + a) as usize];
        let fx = |jj: isize| (1.0 - wi) * f(ia, jj) + wi * f(ib, jj);
        (1.0 - wj) * fx(ja) + wj * fx(jb)
    }
}

/// What a PLUMED grid header says: its fields and `SET` values.
struct PlumedHeader {
    fields: Vec<String>,
    set: Vec<(String, String)>,
}

impl PlumedHeader {
    fn read(text: &str) -> Self {
        let mut fields = Vec::new();
        let mut set = Vec::new();
        for line in text.lines().map(str::trim) {
            let Some(rest) = line.strip_prefix("#!") else {
                continue;
            };
            let words: Vec<&str> = rest.split_whitespace().collect();
            match words.as_slice() {
                ["FIELDS", names @ ..] => fields = names.iter().map(|s| s.to_string()).collect(),
                ["SET", key, value, ..] => set.push((key.to_string(), value.to_string())),
                _ => {}
            }
        }
        Self { fields, set }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.set
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Bins of coordinate `k` (`nbins_<name>`).
    fn bins(&self, k: usize) -> Option<usize> {
        self.get(&format!("nbins_{}", self.fields.get(k)?))?
            .parse()
            .ok()
    }

    /// Whether both coordinates are periodic, if the header says.
    fn periodic(&self) -> Option<bool> {
        let p: Vec<bool> = (0..2)
            .filter_map(|k| {
                let v = self.get(&format!("periodic_{}", self.fields.get(k)?))?;
                Some(v == "true")
            })
            .collect();
        (p.len() == 2).then(|| p[0] && p[1])
    }
}

/// Catmull–Rom value and derivative at `t ∈ [0, 1]` between `p[1]` and `p[2]`.
fn catmull_rom(p: [f64; 4], t: f64) -> (f64, f64) {
    let a = -p[0] + 3.0 * p[1] - 3.0 * p[2] + p[3];
    let b = 2.0 * p[0] - 5.0 * p[1] + 4.0 * p[2] - p[3];
    let c = -p[0] + p[2];
    let d = 2.0 * p[1];
    (
        0.5 * (((a * t + b) * t + c) * t + d),
        0.5 * ((3.0 * a * t + 2.0 * b) * t + c),
    )
}

impl Potential for Tabulated {
    fn dim(&self) -> usize {
        2
    }

    fn energy_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        let mut u = [0.0; 2];
        let mut cell = [0isize; 2];
        let n = [self.nx, self.ny];
        for k in 0..2 {
            let s = (x[k] - self.origin[k]) / self.step[k];
            if !self.periodic && !(0.0..=(n[k] - 1) as f64).contains(&s) {
                grad[0] = 0.0;
                grad[1] = 0.0;
                return f64::INFINITY;
            }
            let f = s.floor().min(if self.periodic {
                s.floor()
            } else {
                (n[k] - 2) as f64
            });
            cell[k] = f as isize;
            u[k] = s - f;
        }
        let (i, j) = (cell[0], cell[1]);
        let mut vals = [0.0; 4];
        let mut dxs = [0.0; 4];
        for (r, jj) in (j - 1..=j + 2).enumerate() {
            let p = [
                self.at(i - 1, jj),
                self.at(i, jj),
                self.at(i + 1, jj),
                self.at(i + 2, jj),
            ];
            let (v, d) = catmull_rom(p, u[0]);
            vals[r] = v;
            dxs[r] = d;
        }
        let (v, dv) = catmull_rom(vals, u[1]);
        let (dx, _) = catmull_rom(dxs, u[1]);
        grad[0] = dx / self.step[0];
        grad[1] = dv / self.step[1];
        v
    }

    fn periodic(&self) -> Vec<Option<(f64, f64)>> {
        if self.periodic {
            (0..2)
                .map(|k| {
                    let n = if k == 0 { self.nx } else { self.ny };
                    Some((self.origin[k], n as f64 * self.step[k]))
                })
                .collect()
        } else {
            vec![None, None]
        }
    }
}
