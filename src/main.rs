//! The `tps` command line: a thin layer over `tps::app`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tps::app;

/// Transition paths from the spacetime geometry of diffusion models.
///
/// A system file (TOML) names a potential, a temperature and metastable states. `tps train`
/// samples its Boltzmann distribution and trains a diffusion model; `tps sample` computes the
/// spacetime geodesic between two states and runs annealed Langevin dynamics along it;
/// `tps barrier` computes the reference minimum-energy path.
#[derive(Parser)]
#[command(name = "tps", version, about, long_about)]
struct Cli {
    /// Only print warnings and errors.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

/// Geodesic constraints on the command line: they replace or add to the system file's.
#[derive(Args)]
struct ConstraintArgs {
    /// The paper's plain geodesic: drop the system file's constraints (others given here still apply).
    #[arg(long)]
    plain: bool,
    /// Low-variance geodesic: penalise log-SNR (model units) below this value.
    #[arg(long, value_name = "MIN_LAMBDA", allow_hyphen_values = true)]
    low_variance: Option<f64>,
    /// Energy-aware geodesic with this weight: keep the restraint centres on low energy.
    #[arg(long, value_name = "WEIGHT")]
    energy_weight: Option<f64>,
    /// Region-avoiding geodesic: keep away from this spacetime point `λ,x1,x2,…` (data units).
    #[arg(
        long,
        value_name = "POINT",
        requires = "min_kl",
        allow_hyphen_values = true
    )]
    avoid: Option<String>,
    /// Smallest KL divergence allowed from the `--avoid` point.
    #[arg(long, value_name = "KL", requires = "avoid")]
    min_kl: Option<f64>,
    /// Weight of the low-variance and region-avoiding penalties given here.
    #[arg(long, default_value_t = 10.0)]
    penalty_weight: f64,
    /// Sharpness of the low-variance penalty given here (1: the paper's softplus).
    #[arg(long, default_value_t = 1.0)]
    sharpness: f64,
}

impl ConstraintArgs {
    fn options(&self) -> tps::Result<app::ConstraintOptions> {
        Ok(app::ConstraintOptions {
            plain: self.plain,
            low_variance: self.low_variance,
            energy_weight: self.energy_weight,
            avoid: match (&self.avoid, self.min_kl) {
                (Some(point), Some(min_kl)) => Some((app::parse_point(point, "--avoid")?, min_kl)),
                _ => None,
            },
            penalty_weight: self.penalty_weight,
            sharpness: self.sharpness,
        })
    }
}

#[derive(Subcommand)]
enum Command {
    /// Sample the Boltzmann distribution and train the diffusion model (saved under models/).
    Train {
        /// System file (TOML).
        system: PathBuf,
        /// Seed of sampling and training: the same seed gives the same model.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Transition paths between two named states along the spacetime geodesic.
    Sample {
        /// System file (TOML).
        system: PathBuf,
        /// Start state (a name from the system file's [states]).
        #[arg(long)]
        from: String,
        /// Target state.
        #[arg(long)]
        to: String,
        /// Number of independent paths (default: the file's transition.paths).
        #[arg(long)]
        paths: Option<usize>,
        /// Seed of the geodesic probes and the Langevin noise.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Root directory of the outputs.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Write trajectory files for at most this many paths.
        #[arg(long, default_value_t = 16)]
        max_trajectories: usize,
        #[command(flatten)]
        constraint: ConstraintArgs,
    },
    /// Reference minimum-energy path and barrier (string method + grid minimax bound).
    Barrier {
        /// System file (TOML).
        system: PathBuf,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        /// Root directory of the outputs.
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
    /// Diffusion Edit Distance between two data points.
    Distance {
        /// System file (TOML).
        system: PathBuf,
        /// First point, `x1,x2,…`.
        #[arg(long, allow_hyphen_values = true)]
        a: String,
        /// Second point.
        #[arg(long, allow_hyphen_values = true)]
        b: String,
        /// Log-SNR at which both points are seen (default: the file's transition.lambda_max).
        #[arg(long, allow_hyphen_values = true)]
        lambda_max: Option<f64>,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Molecular dynamics of a molecule (Langevin; well-tempered metadynamics on φ/ψ if the
    /// file has a [metadynamics] section): DCD per walker, CV and energy series, free energy.
    Md {
        /// Molecular system file (TOML with [molecule] and [md]).
        system: PathBuf,
        /// Steps per walker (default: the file's md.steps).
        #[arg(long)]
        steps: Option<u64>,
        /// Seed of the thermostat noise and initial velocities.
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Root directory of the outputs.
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
    /// Per-frame force-field energies of a trajectory by term (CSV on stdout, kJ/mol).
    Energy {
        /// Molecular system file (TOML with [molecule]).
        system: PathBuf,
        /// Trajectory (DCD, PDB, XYZ, … anything chemfiles reads), positions in Å.
        trajectory: PathBuf,
    },
    /// Geodesic between two spacetime points `λ,x1,x2,…`, against the straight line.
    Geodesic {
        /// System file (TOML).
        system: PathBuf,
        /// Start point `λ,x1,x2,…` (data units).
        #[arg(long, allow_hyphen_values = true)]
        start: String,
        /// End point `λ,x1,x2,…`.
        #[arg(long, allow_hyphen_values = true)]
        end: String,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Root directory of the outputs.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        #[command(flatten)]
        constraint: ConstraintArgs,
    },
}

fn run(cli: Cli) -> tps::Result<()> {
    match cli.command {
        Command::Train { system, seed } => {
            let r = app::train::run(&system, seed)?;
            match r.model {
                Some(m) => println!(
                    "model: {} ({} samples, {} energy evaluations; sampling {:.1} s, training {:.1} s, final loss {:.4})",
                    m.display(),
                    r.samples,
                    r.sampling_evaluations,
                    r.sampling_seconds,
                    r.training_seconds,
                    r.final_loss
                ),
                None => println!("exact Gaussian-mixture denoiser: nothing to train"),
            }
        }
        Command::Sample {
            system,
            from,
            to,
            paths,
            seed,
            out,
            max_trajectories,
            constraint,
        } => {
            let options = app::sample::SampleOptions {
                from,
                to,
                paths,
                seed,
                constraints: constraint.options()?,
                out_root: out,
                max_trajectories,
            };
            let (s, dir) = app::sample::run(&system, &options)?;
            let p = &s.path_results;
            println!(
                "{} paths {} → {}: per-path maximum energy {:.3} ± {:.3}; reference saddle {:.3}{}; {:.0}% reach {}",
                s.paths,
                s.from,
                s.to,
                p.max_energy_mean,
                p.max_energy_std,
                s.reference.saddle_energy,
                s.reference
                    .minimax
                    .map(|m| format!(", grid minimax {m:.3}"))
                    .unwrap_or_default(),
                100.0 * p.fraction_reaching_target,
                s.to
            );
            println!("outputs: {}", dir.display());
        }
        Command::Barrier {
            system,
            from,
            to,
            out,
        } => {
            let (r, dir) = app::barrier::run(&system, &from, &to, &out)?;
            println!(
                "saddle at ({}) with energy {:.4}; barrier {:.4} above {from}{}",
                r.saddle
                    .iter()
                    .map(|v| format!("{v:.4}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                r.saddle_energy,
                r.barrier,
                r.minimax
                    .map(|m| format!("; grid minimax bound {m:.4}"))
                    .unwrap_or_default()
            );
            println!("outputs: {}", dir.display());
        }
        Command::Distance {
            system,
            a,
            b,
            lambda_max,
            seed,
        } => {
            let d = app::distance::run(&system, &a, &b, lambda_max, seed)?;
            println!("{d:.6}");
        }
        Command::Md {
            system,
            steps,
            seed,
            out,
        } => {
            let (r, dir) = app::md::run(&system, steps, seed, &out)?;
            println!(
                "{} walkers × {} steps: {:.0} steps/s, {:.1} ns/day",
                r.walkers, r.steps_per_walker, r.steps_per_second, r.ns_per_day
            );
            if let Some(f) = &r.free_energy {
                println!(
                    "free energy: C7ax {:.2} kJ/mol above C7eq; barrier C7eq → C7ax {:.2} kJ/mol ({} hills)",
                    f.c7ax.2 - f.c7eq.2,
                    f.barrier_c7eq_to_c7ax,
                    f.hills
                );
            }
            println!("outputs: {}", dir.display());
        }
        Command::Energy { system, trajectory } => {
            print!("{}", app::energy::run(&system, &trajectory)?);
        }
        Command::Geodesic {
            system,
            start,
            end,
            seed,
            out,
            constraint,
        } => {
            let (r, dir) =
                app::geodesic::run(&system, &start, &end, &constraint.options()?, seed, &out)?;
            let g = &r.geodesic;
            println!(
                "geodesic: energy {:.4}, length {:.4}; straight line: energy {:.4}, length {:.4}",
                g.energy, g.length, g.straight_line_energy, g.straight_line_length
            );
            println!("outputs: {}", dir.display());
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = if cli.quiet { "warn" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
