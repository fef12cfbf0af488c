//! The paper's 1-D toy: a three-component Gaussian mixture, the geodesic between two of its
//! modes seen at λ = 4, against the straight line. Run: `cargo run --release --example gmm1d_geodesic`.

use tps::compute::{self, Backend, Precision};
use tps::geometry::{Constraints, GeodesicConfig, geodesic, geodesic::straight_line};
use tps::model::denoiser::GaussianMixture;

fn main() {
    // Errors read as the CLI's do.
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> tps::Result<()> {
    let device = compute::device(Backend::Flex, Precision::F64)?;
    let gmm = GaussianMixture::new(
        vec![vec![-2.5], vec![0.5], vec![2.5]],
        vec![0.275, 0.45, 0.275],
        vec![0.75, 0.75, 0.75],
        &device,
    )?;
    let (start, end) = ([4.0, -2.5], [4.0, 2.5]);
    let config = GeodesicConfig {
        constraints: Constraints::none(),
        ..GeodesicConfig::default()
    };
    let ad = device.autodiff();
    let g = geodesic(&gmm, &start, &end, &config, 0, &ad)?;
    let (e0, l0) = straight_line(&gmm, &start, &end, &config, &ad);
    println!("straight line: energy {e0:.3}, length {l0:.3}");
    println!(
        "geodesic:      energy {:.3}, length {:.3} ({} iterations)",
        g.energy, g.length, g.steps
    );
    let lowest = g.points.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min);
    println!("lowest log-SNR along the geodesic: {lowest:.3}");
    Ok(())
}
