//! The `tps` command line: a thin layer over `tps::app`.

use std::io::IsTerminal;
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
#[command(
    name = "tps",
    version,
    about,
    long_about,
    disable_help_subcommand = true
)]
struct Cli {
    /// Only print warnings and errors (no progress).
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Also print what each stage did (log lines on standard error).
    #[arg(short, long, global = true, conflicts_with = "quiet")]
    verbose: bool,
    /// Device of the model work (training, geodesics, distances); Langevin paths and
    /// molecular dynamics always run on the CPU. `gpu` needs a build with `--features wgpu`.
    #[arg(long, global = true, value_enum, default_value_t = DeviceArg::Cpu)]
    device: DeviceArg,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DeviceArg {
    Cpu,
    Gpu,
}

impl DeviceArg {
    fn backend(self) -> tps::compute::Backend {
        match self {
            DeviceArg::Cpu => tps::compute::Backend::Flex,
            DeviceArg::Gpu => tps::compute::Backend::Wgpu,
        }
    }
}

/// The route of `tps sample`.
#[derive(Args)]
struct RouteArgs {
    /// The route the walkers follow: geodesic (energy-aware, the default), plain (the paper's
    /// geodesic), reference (no model: the minimum-energy route) or learned (the model alone,
    /// no energy called). Default: the file's transition.route.
    #[arg(long)]
    route: Option<String>,
    /// Switch off the energy-aware geodesic's second start along the minimum-energy path.
    #[arg(long)]
    no_mep_start: bool,
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
        if !(self.penalty_weight.is_finite() && self.penalty_weight >= 0.0) {
            return Err(tps::Error::Invalid(format!(
                "--penalty-weight: {} is not a finite weight ≥ 0",
                self.penalty_weight
            )));
        }
        if !(self.sharpness.is_finite() && self.sharpness > 0.0) {
            return Err(tps::Error::Invalid(format!(
                "--sharpness: {} is not a finite positive sharpness",
                self.sharpness
            )));
        }
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
    /// Help on tps or on one of its commands.
    Help {
        /// The command (none: tps itself).
        command: Option<String>,
    },
    /// Sample the Boltzmann distribution and train the diffusion model (saved under models/).
    Train {
        /// System file (TOML).
        system: PathBuf,
        /// Seed of sampling and training: the same seed gives the same model.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Transition paths between two named states along a route (the spacetime geodesic by
    /// default), beside the model-free route.
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
        route: RouteArgs,
        #[command(flatten)]
        constraint: ConstraintArgs,
        /// Run only part K of N of the paths (0 ≤ K < N): a shard of the run, for a job array;
        /// `tps merge` puts the shards together.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
        /// Follow the route planned before into this directory (`tps geodesic --from --to`)
        /// instead of planning it.
        #[arg(long, value_name = "DIR")]
        geodesic: Option<PathBuf>,
    },
    /// The paper's network trained elsewhere (PyTorch or safetensors) as the system's model.
    Import {
        /// System file (TOML) whose [model] is `network = "authors"`.
        system: PathBuf,
        /// A PyTorch `state_dict` (.pt, .pth); read without executing any of its pickle.
        #[arg(
            long,
            conflicts_with = "safetensors",
            required_unless_present = "safetensors"
        )]
        pytorch: Option<PathBuf>,
        /// A safetensors file.
        #[arg(long)]
        safetensors: Option<PathBuf>,
    },
    /// The shards of one `tps sample --shard` run put together, as one unsharded run.
    Merge {
        /// The shards' output directories.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Root directory of the outputs.
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
    /// Every route side by side on the same seeds, paths and noise, judged on one surface.
    Compare {
        /// System file (TOML).
        system: PathBuf,
        /// Start state.
        #[arg(long)]
        from: String,
        /// Target state.
        #[arg(long)]
        to: String,
        /// Routes, comma-separated (default: all of geodesic, plain, reference, learned).
        #[arg(long, default_value = "geodesic,plain,reference,learned")]
        routes: String,
        /// Seeds of the Langevin noise and probes: `0-4`, `0,2,7` (one model).
        #[arg(long, default_value = "0-4")]
        seeds: String,
        /// Paths per seed and route (default: the file's transition.paths).
        #[arg(long)]
        paths: Option<usize>,
        /// Root directory of the outputs.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Switch off the energy-aware geodesic's second start along the minimum-energy path.
        #[arg(long)]
        no_mep_start: bool,
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
        #[arg(
            long,
            allow_hyphen_values = true,
            required_unless_present = "from",
            requires = "end",
            conflicts_with = "from"
        )]
        start: Option<String>,
        /// End point `λ,x1,x2,…`.
        #[arg(long, allow_hyphen_values = true, requires = "start")]
        end: Option<String>,
        /// Or: plan the route of `tps sample` between two named states, once, into
        /// `out/<system>/route-<from>-<to>/` for `tps sample --geodesic` (its shards).
        #[arg(long, requires = "to")]
        from: Option<String>,
        /// Target state (with --from).
        #[arg(long, requires = "from")]
        to: Option<String>,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Root directory of the outputs.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        #[command(flatten)]
        route: RouteArgs,
        #[command(flatten)]
        constraint: ConstraintArgs,
    },
}

fn run(cli: Cli) -> tps::Result<()> {
    let progress = app::Display::new(cli.quiet);
    let backend = cli.device.backend();
    match cli.command {
        Command::Help { command } => {
            use clap::CommandFactory;
            let mut top = Cli::command();
            match command {
                None => top.print_long_help(),
                Some(name) => match top.find_subcommand_mut(&name) {
                    Some(sub) => sub.print_long_help(),
                    None => {
                        return Err(tps::Error::Invalid(format!(
                            "help: no command `{name}`; see `tps --help`"
                        )));
                    }
                },
            }
            .map_err(|e| tps::Error::io("standard output", e))?;
        }
        Command::Train { system, seed } => {
            let Some(r) = app::train::run(&system, seed, backend, &progress)? else {
                println!("exact Gaussian-mixture denoiser: nothing to train");
                return Ok(());
            };
            progress.finish();
            let l = &r.learnt;
            if let Some(f) = &r.free_energy {
                print_free_energy(f, l.frames_estimate.as_ref());
            }
            for p in &l.populations {
                println!(
                    "training frames in {}: {:.1}% (surface {:.1}%); free energy relative to {} {:.2} kJ/mol from the frames, {:.2} from the surface",
                    p.state,
                    100.0 * p.population,
                    100.0 * p.population_on_surface,
                    l.populations[0].state,
                    p.free_energy_from_frames,
                    p.free_energy_from_surface
                );
            }
            println!(
                "model: {} ({} samples, {} energy evaluations; sampling {:.1} s, training {:.1} s, final loss {:.4})",
                r.model.display(),
                l.samples,
                l.sampling_evaluations,
                l.sampling_seconds,
                l.training_seconds,
                l.final_loss
            );
        }
        Command::Sample {
            system,
            from,
            to,
            paths,
            seed,
            out,
            max_trajectories,
            route,
            constraint,
            shard,
            geodesic,
        } => {
            let options = app::sample::SampleOptions {
                shard: shard
                    .as_deref()
                    .map(tps::transition::Shard::parse)
                    .transpose()?,
                geodesic,
                from,
                to,
                paths,
                route: route.route.as_deref().map(str::parse).transpose()?,
                no_mep_start: route.no_mep_start,
                seed,
                constraints: constraint.options()?,
                out_root: out,
                max_trajectories,
                backend,
            };
            let (s, dir) = app::sample::run(&system, &options, &progress)?;
            progress.finish();
            let p = &s.path_results;
            let unit = if s.energy_unit.is_empty() {
                String::new()
            } else {
                format!(" {}", s.energy_unit)
            };
            let judged = s.scoring_reference.as_ref().unwrap_or(&s.reference);
            println!(
                "{} paths {} → {} along the {} route: per-path maximum {:.3} ± {:.3}{unit} (mean ± \
                 standard error; single paths ± {:.3}); reference saddle {:.3}{unit}{}; {:.0}% end \
                 in the basin of {}",
                s.paths,
                s.from,
                s.to,
                s.route.route,
                p.max_energy_mean,
                p.max_energy_sem,
                p.max_energy_std,
                judged.saddle_energy,
                judged
                    .minimax
                    .map(|m| format!(", grid minimax bound {m:.3}{unit}"))
                    .unwrap_or_default(),
                100.0 * p.fraction_reaching_target,
                s.to
            );
            println!("guided by {}; scored on {}", s.route.guided_by, s.scored_on);
            if let Some(b) = &s.reference_route_beside {
                println!(
                    "model-free reference route, same seed and paths: {:.3} ± {:.3}{unit}; {}",
                    b.max_energy_mean, b.max_energy_sem, b.verdict
                );
            }
            if let Some(r) = s.reference.relaxed_potential_barrier {
                println!("relaxed potential-energy barrier: {r:.2} kJ/mol");
            }
            if let Some(m) = &s.molecule {
                println!(
                    "all-atom: last structures {:.2} Å (heavy-atom RMSD) from the {} minimum on average",
                    m.rmsd_to_target_mean_angstrom, s.to
                );
            }
            for w in &s.warnings {
                println!("warning: {w}");
            }
            for n in s.notes.iter().filter(|n| {
                s.reference_route_beside
                    .as_ref()
                    .is_none_or(|b| &b.verdict != *n)
            }) {
                println!("note: {n}");
            }
            println!("outputs: {}", dir.display());
        }
        Command::Import {
            system,
            pytorch,
            safetensors,
        } => {
            let checkpoint = match (pytorch, safetensors) {
                (Some(p), _) => app::import::Checkpoint::Pytorch(p),
                (None, Some(s)) => app::import::Checkpoint::Safetensors(s),
                (None, None) => unreachable!("clap requires one"),
            };
            let model = app::import::run(&system, &checkpoint)?;
            println!("model: {}", model.display());
        }
        Command::Merge { shards, out } => {
            let (s, dir) = app::merge::run(&shards, &out)?;
            let p = &s.path_results;
            println!(
                "{} paths {} → {} from {} shards: per-path maximum {:.3} ± {:.3} (standard error; \
                 single paths ± {:.3}); {:.0}% end in the basin of {}",
                s.paths,
                s.from,
                s.to,
                shards.len(),
                p.max_energy_mean,
                p.max_energy_sem,
                p.max_energy_std,
                100.0 * p.fraction_reaching_target,
                s.to
            );
            println!("outputs: {}", dir.display());
        }
        Command::Compare {
            system,
            from,
            to,
            routes,
            seeds,
            paths,
            out,
            no_mep_start,
            constraint,
        } => {
            let options = app::compare::CompareOptions {
                sample: app::sample::SampleOptions {
                    from,
                    to,
                    paths,
                    route: None,
                    no_mep_start,
                    seed: 0,
                    constraints: constraint.options()?,
                    out_root: out,
                    max_trajectories: 0,
                    backend,
                    shard: None,
                    geodesic: None,
                },
                routes: app::compare::parse_routes(&routes)?,
                seeds: app::compare::parse_seeds(&seeds)?,
            };
            let (c, dir) = app::compare::run(&system, &options, &progress)?;
            progress.finish();
            let unit = if c.energy_unit.is_empty() {
                String::new()
            } else {
                format!(" {}", c.energy_unit)
            };
            println!(
                "{} → {}: per-path maximum on {} ({} seed(s) × {} paths; mean ± std of the \
                 per-seed means, standard error)",
                c.from,
                c.to,
                c.scored_on,
                c.routes.first().map_or(0, |r| r.seeds.len()),
                c.paths
            );
            for r in &c.routes {
                println!(
                    "  {:<9} {:>10.3} ± {:.3} (SE {:.3}){unit}; single paths {:.3} ± {:.3}; reach {:.0}%; \
                     {:.3e} guiding evaluations per seed; {:.1} s per seed",
                    r.route.to_string(),
                    r.seed_means.mean,
                    r.seed_means.std,
                    r.seed_means_sem,
                    r.pooled.mean,
                    r.pooled.std,
                    100.0 * r.fraction_reaching_target,
                    r.guiding_evaluations,
                    r.wall_seconds
                );
            }
            println!(
                "reference saddle {:.3}{unit}{}",
                c.reference.saddle_energy,
                c.reference
                    .minimax
                    .map(|m| format!(", grid minimax bound {m:.3}{unit}"))
                    .unwrap_or_default()
            );
            println!("outputs: {}", dir.display());
        }
        Command::Barrier {
            system,
            from,
            to,
            out,
        } => {
            let (r, dir) = app::barrier::run(&system, &from, &to, &out, &progress)?;
            progress.finish();
            let rf = &r.reference;
            let unit = if r.energy_unit.is_empty() {
                String::new()
            } else {
                format!(" {}", r.energy_unit)
            };
            println!(
                "saddle at ({}) with energy {:.4}{unit}; barrier {:.4}{unit} above {from}{}",
                rf.saddle
                    .iter()
                    .map(|v| format!("{v:.4}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                rf.saddle_energy,
                rf.barrier,
                rf.minimax
                    .map(|m| format!("; grid minimax bound {m:.4}{unit}"))
                    .unwrap_or_default()
            );
            if let Some(b) = rf.relaxed_potential_barrier {
                println!(
                    "relaxed potential-energy barrier {b:.2} kJ/mol above the {from} minimum ({} × {} restrained minimisations)",
                    rf.relaxed_map_grid.unwrap_or(0),
                    rf.relaxed_map_grid.unwrap_or(0)
                );
            }
            println!("outputs: {}", dir.display());
        }
        Command::Distance {
            system,
            a,
            b,
            lambda_max,
            seed,
        } => {
            let d = app::distance::run(&system, &a, &b, lambda_max, seed, backend)?;
            println!("{d:.6}");
        }
        Command::Md {
            system,
            steps,
            seed,
            out,
        } => {
            let (r, dir) = app::md::run(&system, steps, seed, &out, &progress)?;
            progress.finish();
            println!(
                "{} walkers × {} steps of {} ps: {:.0} steps/s, {:.1} ns/day",
                r.walkers, r.steps_per_walker, r.timestep_ps, r.steps_per_second, r.ns_per_day
            );
            if let Some(f) = &r.free_energy {
                print_free_energy(f, None);
            }
            println!("outputs: {}", dir.display());
        }
        Command::Energy { system, trajectory } => {
            let (csv, warnings) = app::energy::run(&system, &trajectory)?;
            for w in warnings {
                tracing::warn!("{w}");
            }
            print!("{csv}");
        }
        Command::Geodesic {
            system,
            from: Some(from),
            to: Some(to),
            seed,
            out,
            route,
            constraint,
            ..
        } => {
            let options = app::sample::SampleOptions {
                from,
                to,
                paths: None,
                route: route.route.as_deref().map(str::parse).transpose()?,
                no_mep_start: route.no_mep_start,
                seed,
                constraints: constraint.options()?,
                out_root: out,
                max_trajectories: 0,
                backend,
                shard: None,
                geodesic: None,
            };
            let (r, dir) = app::geodesic::plan_route(&system, &options, &progress)?;
            progress.finish();
            println!(
                "{} route {} → {}: {} points{}",
                r.route.route,
                r.from,
                r.to,
                r.points.len(),
                r.route
                    .geodesic
                    .as_ref()
                    .map(|g| format!(", curve energy {:.4}", g.energy))
                    .unwrap_or_default()
            );
            println!(
                "outputs: {} (use with tps sample --geodesic)",
                dir.display()
            );
        }
        Command::Geodesic {
            system,
            start,
            end,
            seed,
            out,
            constraint,
            ..
        } => {
            let (start, end) = (start.unwrap_or_default(), end.unwrap_or_default());
            let (r, dir) = app::geodesic::run(
                &system,
                (&start, &end),
                &constraint.options()?,
                seed,
                &out,
                backend,
                &progress,
            )?;
            progress.finish();
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

/// The basins and barriers of a free-energy surface; for one estimated from frames, with their
/// bootstrap spread and the effective samples behind them.
fn print_free_energy(
    f: &tps::reference::FreeEnergySummary,
    estimate: Option<&tps::learning::FramesEstimate>,
) {
    let spread =
        |s: Option<&Vec<f64>>, k: usize| s.map_or(String::new(), |v| format!(" ± {:.2}", v[k]));
    for (k, b) in f.basins.iter().enumerate() {
        println!(
            "free energy of {}: {:.2}{} kJ/mol",
            b.state,
            b.free_energy,
            spread(estimate.map(|e| &e.basin_std), k)
        );
    }
    for (k, b) in f.barriers.iter().enumerate() {
        println!(
            "free-energy barrier {} → {}: {:.2}{} kJ/mol",
            b.from,
            b.to,
            b.barrier,
            spread(estimate.map(|e| &e.barrier_std), k)
        );
    }
    if let Some(e) = estimate {
        println!(
            "surface estimated from the frames: kernel width {} rad (cross-validated), ± one \
             standard deviation over {} block-bootstrap replicas",
            e.bandwidth, e.replicas
        );
        let near: Vec<String> = e
            .near
            .iter()
            .map(|r| format!("{} {:.0}", r.region, r.effective_samples))
            .collect();
        println!(
            "effective samples within {} rad: {}",
            tps::learning::REGION_RADIUS,
            near.join(", ")
        );
    }
    match (f.converged, f.drift) {
        (Some(false), Some(drift)) => println!(
            "warning: the free-energy surface is not converged: free energies moved by \
             {drift:.2} kJ/mol over the last quarter of the run; run longer (md.steps or --steps)"
        ),
        (None, _) => println!(
            "convergence: not judged (fewer than {} hills by three quarters of the run, or a \
             surface read from a file)",
            tps::mm::simulation::MIN_HILLS_TO_JUDGE
        ),
        _ => {}
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = if cli.verbose { "info" } else { "warn" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
    tps::atomic::clean_up_on_interrupt();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
