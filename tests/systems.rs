//! Potentials, system files, Boltzmann sampling and reference barriers.

use std::path::Path;

use tps::barrier::{grid_minimax, minimum_energy_path};
use tps::potential::{MullerBrown, Potential, Tabulated};
use tps::system::SystemFile;

fn grad(p: &dyn Potential, x: &[f64]) -> Vec<f64> {
    let mut g = vec![0.0; x.len()];
    p.energy_gradient(x, &mut g);
    g
}

fn fd_grad(p: &dyn Potential, x: &[f64], h: f64) -> Vec<f64> {
    (0..x.len())
        .map(|k| {
            let (mut a, mut b) = (x.to_vec(), x.to_vec());
            a[k] += h;
            b[k] -= h;
            (p.energy(&a) - p.energy(&b)) / (2.0 * h)
        })
        .collect()
}

/// Published stationary points of Müller–Brown (METHOD.md), to the digits given there.
const MB_STATIONARY: [([f64; 2], f64); 5] = [
    ([-0.558, 1.442], -146.70),
    ([0.623, 0.028], -108.17),
    ([-0.050, 0.467], -80.77),
    ([-0.822, 0.624], -40.66),
    ([0.212, 0.293], -72.25),
];

#[test]
fn muller_brown_energies_gradients_and_stationary_points() {
    let mb = MullerBrown;
    for (x, e) in MB_STATIONARY {
        assert!(
            (mb.energy(&x) - e).abs() < 0.02,
            "V{x:?} = {} vs {e}",
            mb.energy(&x)
        );
        // Stationary up to the 3-decimal rounding of the coordinates.
        let g = grad(&mb, &x);
        assert!(g.iter().all(|v| v.abs() < 3.0), "∇V{x:?} = {g:?}");
    }
    for x in [[0.1, 0.2], [-1.0, 1.0], [0.7, -0.3]] {
        let (g, f) = (grad(&mb, &x), fd_grad(&mb, &x, 1e-6));
        assert!(
            g.iter()
                .zip(&f)
                .all(|(a, b)| (a - b).abs() < 1e-5 * a.abs().max(1.0))
        );
    }
}

#[test]
fn muller_brown_barrier_a_to_b_is_the_upper_saddle() {
    let mb = MullerBrown;
    let domain = [[-1.7, 1.3], [-0.5, 2.2]];
    let (a, b) = (MB_STATIONARY[0].0, MB_STATIONARY[1].0);
    let minimax = grid_minimax(&mb, &domain, 300, &a, &b).unwrap();
    let mep = minimum_energy_path(&mb, &minimax.points, 64, 20_000).unwrap();
    assert!(
        (mep.saddle_energy - -40.66).abs() < 0.01,
        "saddle energy {}",
        mep.saddle_energy
    );
    assert!(
        (mep.saddle[0] - -0.822).abs() < 1e-3 && (mep.saddle[1] - 0.624).abs() < 1e-3,
        "{:?}",
        mep.saddle
    );
    // The grid bound sits within a grid cell's energy change of the true saddle, above it
    // only by discretisation (the grid path has to cross the ridge at a node).
    assert!(
        (minimax.barrier - -40.66).abs() < 1.5,
        "grid minimax {}",
        minimax.barrier
    );
    // The path relaxed into the minima at both ends.
    assert!((mep.energies[0] - -146.70).abs() < 0.05);
    assert!((mep.energies.last().unwrap() - -108.17).abs() < 0.05);
}

fn smooth(x: f64, y: f64) -> f64 {
    (1.3 * x).sin() * (0.7 * y).cos() + 0.1 * x * y
}

fn grid_text(nx: usize, ny: usize, x_fastest: bool) -> String {
    let mut s = String::from("#! FIELDS x y value\n");
    let (outer, inner) = if x_fastest { (ny, nx) } else { (nx, ny) };
    for o in 0..outer {
        for i in 0..inner {
            let (ix, iy) = if x_fastest { (i, o) } else { (o, i) };
            let (x, y) = (-1.0 + 0.1 * ix as f64, 0.5 + 0.2 * iy as f64);
            s.push_str(&format!("{x:.6} {y:.6} {:.12}\n", smooth(x, y)));
        }
    }
    s
}

#[test]
fn tabulated_surface_is_exact_at_nodes_smooth_between_and_order_independent() {
    let xf = Tabulated::parse(&grid_text(21, 16, true), "x-fastest", false).unwrap();
    let yf = Tabulated::parse(&grid_text(21, 16, false), "y-fastest", false).unwrap();
    assert_eq!(xf.shape(), (21, 16));
    for (i, j) in [(0, 0), (3, 7), (20, 15), (10, 2)] {
        let x = xf.node(i, j);
        assert!((xf.energy(&x) - smooth(x[0], x[1])).abs() < 1e-10);
        assert!((yf.energy(&x) - xf.energy(&x)).abs() < 1e-12);
    }
    // Between nodes: close to the smooth function, gradient = derivative of the interpolant.
    for x in [[-0.73, 1.11], [0.42, 2.93], [0.05, 0.77]] {
        assert!((xf.energy(&x) - smooth(x[0], x[1])).abs() < 2e-3);
        let (g, f) = (grad(&xf, &x), fd_grad(&xf, &x, 1e-7));
        assert!(
            g.iter().zip(&f).all(|(a, b)| (a - b).abs() < 1e-5),
            "{g:?} vs {f:?}"
        );
    }
    // C¹ across a cell boundary: one-sided gradients agree.
    let edge = xf.node(7, 5);
    let (l, r) = (
        grad(&xf, &[edge[0] - 1e-9, 1.43]),
        grad(&xf, &[edge[0] + 1e-9, 1.43]),
    );
    assert!(
        l.iter().zip(&r).all(|(a, b)| (a - b).abs() < 1e-6),
        "{l:?} vs {r:?}"
    );
    // Outside a bounded grid the energy is infinite.
    assert!(xf.energy(&[-1.5, 1.0]).is_infinite());
}

#[test]
fn tabulated_periodic_grid_wraps() {
    let n = 24;
    let h = std::f64::consts::TAU / n as f64;
    let mut s = String::new();
    for j in 0..n {
        for i in 0..n {
            let (x, y) = (
                -std::f64::consts::PI + i as f64 * h,
                -std::f64::consts::PI + j as f64 * h,
            );
            s.push_str(&format!("{x} {y} {}\n", x.cos() + (2.0 * y).sin()));
        }
    }
    let t = Tabulated::parse(&s, "torus", true).unwrap();
    let a = t.energy(&[3.0, 1.0]);
    assert!(
        (t.energy(&[
            3.0 - std::f64::consts::TAU,
            1.0 + 2.0 * std::f64::consts::TAU
        ]) - a)
            .abs()
            < 1e-12
    );
    assert!((a - (3.0f64.cos() + 2.0f64.sin())).abs() < 0.01);
    // Across the seam the interpolant is continuous.
    let seam = std::f64::consts::PI;
    assert!((t.energy(&[seam - 1e-9, 0.3]) - t.energy(&[seam + 1e-9, 0.3])).abs() < 1e-6);
}

#[test]
fn tabulated_input_errors_name_the_problem() {
    let ragged = grid_text(5, 4, true)
        .lines()
        .take(15)
        .collect::<Vec<_>>()
        .join("\n");
    let e = Tabulated::parse(&ragged, "ragged.dat", false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("ragged.dat") && e.contains("ragged grid"), "{e}");
    let mut uneven = String::new();
    for y in [0.0, 1.0, 2.0] {
        for x in [0.0, 1.0, 2.5] {
            uneven.push_str(&format!("{x} {y} 1.0\n"));
        }
    }
    let e = Tabulated::parse(&uneven, "uneven.dat", false)
        .unwrap_err()
        .to_string();
    assert!(e.contains("non-uniform x spacing"), "{e}");
    let e = Tabulated::parse("0 0 1\n0 1 x\n1 0 1\n1 1 1\n", "bad.dat", false)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("bad.dat") && e.contains("line 2") && e.contains("`x`"),
        "{e}"
    );
}

const MINIMAL: &str = r#"
name = "mb"
kT = 20.0
domain = [[-1.7, 1.3], [-0.5, 2.2]]
[potential]
kind = "muller-brown"
[states]
A = [-0.558, 1.442]
B = [0.623, 0.028]
"#;

#[test]
fn system_files_have_defaults_and_reject_bad_keys_with_their_names() {
    let f = SystemFile::parse(MINIMAL, Path::new("mb.toml")).unwrap();
    assert_eq!(f.kt(), 20.0);
    assert_eq!(f.geodesic.points, 128);
    assert_eq!(f.model_path(), Path::new("models/mb.tpsmodel"));
    let cases = [
        (
            MINIMAL.replace("kT = 20.0", "kT = 20.0\ncolour = 1"),
            "colour",
        ),
        (MINIMAL.replace("kT = 20.0", "kT = \"hot\""), "kT"),
        (MINIMAL.replace("kT = 20.0", ""), "kT"),
        (
            MINIMAL.replace("B = [0.623, 0.028]", "B = [0.623]"),
            "states.B",
        ),
        (
            MINIMAL.replace("kind = \"muller-brown\"", "kind = \"lennard-jones\""),
            "lennard-jones",
        ),
        (
            MINIMAL.replace("[states]", "[transition]\npaths = 0\n[states]"),
            "transition",
        ),
        (
            MINIMAL.replace("[states]", "[geodesic]\npoint = 3\n[states]"),
            "point",
        ),
    ];
    for (text, needle) in cases {
        let e = SystemFile::parse(&text, Path::new("bad.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("bad.toml") && e.contains(needle),
            "`{needle}` not in: {e}"
        );
    }
    let e = f.state("Z").unwrap_err().to_string();
    assert!(e.contains("unknown state `Z`") && e.contains("A, B"), "{e}");
}

#[test]
fn replica_exchange_samples_the_boltzmann_distribution_of_a_double_well() {
    // U = (x² − 1)² · 4 + y²: symmetric wells; at kT = 1 the barrier of 4 kT is crossed only
    // with the help of hotter replicas. Compare <x²>, P(x > 0) and <y²> with quadrature.
    struct DoubleWell;
    impl Potential for DoubleWell {
        fn dim(&self) -> usize {
            2
        }
        fn energy_gradient(&self, x: &[f64], g: &mut [f64]) -> f64 {
            g[0] = 16.0 * x[0] * (x[0] * x[0] - 1.0);
            g[1] = 2.0 * x[1];
            4.0 * (x[0] * x[0] - 1.0).powi(2) + x[1] * x[1]
        }
    }
    let config = tps::data::SamplingConfig {
        chains: 8,
        replicas: 4,
        max_temperature: 6.0,
        steps: 20_000,
        burn_in: 2_000,
        thin: 5,
        swap_every: 5,
    };
    // Start every walker in the right-hand well to check that barriers are crossed.
    let s = tps::data::replica_exchange::sample(
        &DoubleWell,
        1.0,
        &[[0.5, 1.5], [-0.5, 0.5]],
        &config,
        3,
        &|_| {},
    );
    let n = s.points.len() as f64;
    let x2 = s.points.iter().map(|p| p[0] * p[0]).sum::<f64>() / n;
    let y2 = s.points.iter().map(|p| p[1] * p[1]).sum::<f64>() / n;
    let right = s.points.iter().filter(|p| p[0] > 0.0).count() as f64 / n;
    // Quadrature of exp(−4(x²−1)²).
    let (mut z, mut m2) = (0.0, 0.0);
    for i in 0..40_000 {
        let x = -3.0 + 6.0 * i as f64 / 40_000.0;
        let w = (-4.0 * (x * x - 1.0f64).powi(2)).exp();
        z += w;
        m2 += w * x * x;
    }
    let exact_x2 = m2 / z;
    assert!((x2 - exact_x2).abs() < 0.03, "<x²> {x2} vs {exact_x2}");
    assert!((y2 - 0.5).abs() < 0.04, "<y²> {y2} vs 0.5");
    assert!((right - 0.5).abs() < 0.06, "P(x>0) {right}");
    assert!(s.move_acceptance[0] > 0.4 && s.move_acceptance[0] < 0.75);
    assert_eq!(s.energy_evaluations, 8 * 4 * 22_000 + 8 * 4);
}
