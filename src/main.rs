//! The `tps` command line: a thin layer over `tps::app`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
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

impl RouteArgs {
    /// The route given, if any.
    fn kind(&self) -> tps::Result<Option<tps::route::RouteKind>> {
        self.route
            .as_deref()
            .map(|r| r.parse().map_err(|e: tps::Error| e.about("--route")))
            .transpose()
    }
}

/// `tps sample`'s arguments.
#[derive(Args)]
struct SampleArgs {
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
}

impl SampleArgs {
    /// The options they give, on `backend`.
    fn options(self, backend: tps::compute::Backend) -> tps::Result<app::sample::SampleOptions> {
        let shard = self
            .shard
            .as_deref()
            .map(|k| tps::workflows::transition::Shard::parse(k).map_err(|e| e.about("--shard")))
            .transpose()?;
        Ok(app::sample::SampleOptions {
            shard,
            geodesic: self.geodesic,
            paths: self.paths,
            route: self.route.kind()?,
            no_mep_start: self.route.no_mep_start,
            seed: self.seed,
            constraints: self.constraint.options()?,
            max_trajectories: self.max_trajectories,
            ..app::sample::SampleOptions::between(self.from, self.to, self.out, backend)
        })
    }
}

/// Geodesic constraints on the command line: they replace or add to the system file's.
/// How committor shots are made.
#[derive(Args)]
struct ShotArgs {
    /// Shots per frame.
    #[arg(long, default_value_t = tps::workflows::committor::DEFAULT_SHOTS)]
    shots: usize,
    /// Longest shot: ps for molecules (default 2); walker time (steps × ds) for surfaces
    /// (default 200,000 steps).
    #[arg(long)]
    max_time: Option<f64>,
    /// A state's core: its basin within this many kT of its minimum.
    #[arg(long, default_value_t = tps::workflows::committor::DEFAULT_CORE_KT)]
    core: f64,
}

impl ShotArgs {
    fn settings(&self) -> tps::workflows::committor::ShotSettings {
        tps::workflows::committor::ShotSettings {
            shots: self.shots,
            core_kt: self.core,
            max_time: self.max_time,
        }
    }
}

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

/// `tps committor`'s arguments.
#[derive(Args)]
struct CommittorArgs {
    /// A `tps sample` output directory, or with --frames a system file.
    target: PathBuf,
    /// Frames to shoot from (with a system file): DCD/XYZ/PDB of the molecule, or a CSV of
    /// points with a header line for a 2-D surface.
    #[arg(long, requires_all = ["from", "to"])]
    frames: Option<PathBuf>,
    /// Start state (with --frames).
    #[arg(long)]
    from: Option<String>,
    /// Target state (with --frames).
    #[arg(long)]
    to: Option<String>,
    /// Which frames of a run: top (each path's highest), saddle (nearest the scoring
    /// saddle), all, every:K.
    #[arg(long)]
    select: Option<String>,
    #[command(flatten)]
    shots: ShotArgs,
    /// Seed of the shots.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Root directory of the outputs (for --frames).
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Shoot from part K of N of the frames (0 ≤ K < N); `tps merge` puts the parts
    /// together.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
}

/// `tps compare`'s arguments.
#[derive(Args)]
struct CompareArgs {
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
    /// Another system file of the same surface and states (e.g. its model of the tilted
    /// ensemble): its model-based routes join the table on the same seeds (repeatable).
    #[arg(long, value_name = "SYSTEM")]
    with: Vec<PathBuf>,
    /// Judge every route's tops by their committor: each path's highest frame shot with
    /// unbiased dynamics (as `tps committor --select top`, seeded by the run's seed).
    #[arg(long)]
    committor: bool,
    #[command(flatten)]
    shots: ShotArgs,
    #[command(flatten)]
    constraint: ConstraintArgs,
}

/// `tps geodesic`'s arguments.
#[derive(Args)]
struct GeodesicArgs {
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
}

impl CommittorArgs {
    /// The options they give.
    fn options(self) -> tps::Result<app::committor::CommittorOptions> {
        let source = match (self.frames, self.from, self.to) {
            (Some(file), Some(from), Some(to)) => app::committor::Source::Frames {
                system: self.target,
                from,
                to,
                file,
            },
            (None, None, None) => app::committor::Source::Run(self.target),
            _ => {
                return Err(tps::Error::Invalid(
                    "--from and --to go with --frames (a system file and a file of frames); \
                     a run's directory names its own states"
                        .into(),
                ));
            }
        };
        Ok(app::committor::CommittorOptions {
            source,
            select: self
                .select
                .as_deref()
                .map(app::committor::Select::parse)
                .transpose()?,
            settings: self.shots.settings(),
            seed: self.seed,
            out_root: self.out,
            shard: self
                .shard
                .as_deref()
                .map(|k| {
                    tps::workflows::transition::Shard::parse(k).map_err(|e| e.about("--shard"))
                })
                .transpose()?,
        })
    }
}

impl CompareArgs {
    /// The options they give, on `backend`.
    fn options(self, backend: tps::compute::Backend) -> tps::Result<app::compare::CompareOptions> {
        Ok(app::compare::CompareOptions {
            committor: self.committor.then(|| self.shots.settings()),
            sample: app::sample::SampleOptions {
                paths: self.paths,
                no_mep_start: self.no_mep_start,
                constraints: self.constraint.options()?,
                ..app::sample::SampleOptions::between(self.from, self.to, self.out, backend)
            },
            routes: app::compare::parse_routes(&self.routes)?,
            seeds: app::compare::parse_seeds(&self.seeds)?,
            with: self.with,
        })
    }
}

impl GeodesicArgs {
    /// With `--from` and `--to`: the system and the options of the route to plan on `backend`.
    fn plan(
        &self,
        backend: tps::compute::Backend,
    ) -> tps::Result<Option<(PathBuf, app::sample::SampleOptions)>> {
        let (Some(from), Some(to)) = (&self.from, &self.to) else {
            return Ok(None);
        };
        let options = app::sample::SampleOptions {
            route: self.route.kind()?,
            no_mep_start: self.route.no_mep_start,
            seed: self.seed,
            constraints: self.constraint.options()?,
            ..app::sample::SampleOptions::between(
                from.clone(),
                to.clone(),
                self.out.clone(),
                backend,
            )
        };
        Ok(Some((self.system.clone(), options)))
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
    Sample(SampleArgs),
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
    /// The shards of one `tps sample --shard` (or `tps committor --shard`) run put together,
    /// as one unsharded run.
    Merge {
        /// The shards' output directories.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Root directory of the outputs (committor shards go where their unsharded run's
        /// committor goes).
        #[arg(long, default_value = "out")]
        out: PathBuf,
    },
    /// Committor analysis: unbiased shots from a run's frames (or a file's), where they commit.
    Committor(CommittorArgs),
    /// Every route side by side on the same seeds, paths and noise, judged on one surface.
    Compare(CompareArgs),
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
    Geodesic(GeodesicArgs),
}

/// `tps help [COMMAND]`: the long help of tps or of one command.
fn print_help(command: Option<&str>) -> tps::Result<()> {
    use clap::CommandFactory;
    let mut top = Cli::command();
    // Built, the sub-commands know their full name (`Usage: tps sample …`).
    top.build();
    match command {
        None => top.print_long_help(),
        Some(name) => match top.find_subcommand_mut(name) {
            Some(sub) => sub.print_long_help(),
            None => {
                return Err(tps::Error::Invalid(format!(
                    "help: no command `{name}`; see `tps --help`"
                )));
            }
        },
    }
    .map_err(|e| tps::Error::io("standard output", e))
}

/// Ends the progress display and prints a command's report and where its outputs are.
fn written(progress: &app::StderrProgress, report: impl std::fmt::Display, dir: &Path, note: &str) {
    progress.finish();
    println!("{report}\noutputs: {}{note}", dir.display());
}

/// `tps geodesic`: plan a sampling route between two states, or a geodesic between two points.
fn geodesic(
    args: &GeodesicArgs,
    backend: tps::compute::Backend,
    progress: &app::StderrProgress,
) -> tps::Result<()> {
    if let Some((system, options)) = args.plan(backend)? {
        let (r, dir) = app::geodesic::plan_route(&system, &options, progress)?;
        written(progress, r, &dir, " (use with tps sample --geodesic)");
        return Ok(());
    }
    let (start, end) = (
        args.start.clone().unwrap_or_default(),
        args.end.clone().unwrap_or_default(),
    );
    let (r, dir) = app::geodesic::run(
        &args.system,
        (&start, &end),
        &args.constraint.options()?,
        args.seed,
        &args.out,
        backend,
        progress,
    )?;
    written(progress, r, &dir, "");
    Ok(())
}

fn run(cli: Cli) -> tps::Result<()> {
    let progress = app::StderrProgress::new(cli.quiet);
    let backend = cli.device.backend();
    match cli.command {
        Command::Help { command } => print_help(command.as_deref())?,
        Command::Train { system, seed } => {
            let Some(r) = app::train::run(&system, seed, backend, &progress)? else {
                println!("exact Gaussian-mixture denoiser: nothing to train");
                return Ok(());
            };
            progress.finish();
            println!("{r}");
        }
        Command::Sample(args) => {
            let system = args.system.clone();
            let (s, dir) = app::sample::run(&system, &args.options(backend)?, &progress)?;
            written(&progress, s, &dir, "");
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
        Command::Merge { shards, .. } if shards[0].join("committor.json").is_file() => {
            let (r, dir) = app::committor::merge(&shards)?;
            println!(
                "merged {} committor shards\n{r}\noutputs: {}",
                shards.len(),
                dir.display()
            );
        }
        Command::Merge { shards, out } => {
            let (s, dir) = app::merge::run(&shards, &out)?;
            println!(
                "merged {} shards\n{s}\noutputs: {}",
                shards.len(),
                dir.display()
            );
        }
        Command::Committor(args) => {
            let (r, dir) = app::committor::run(&args.options()?, &progress)?;
            written(&progress, r, &dir, "");
        }
        Command::Compare(args) => {
            let system = args.system.clone();
            let (c, dir) = app::compare::run(&system, &args.options(backend)?, &progress)?;
            written(&progress, c, &dir, "");
        }
        Command::Barrier {
            system,
            from,
            to,
            out,
        } => {
            let (r, dir) = app::barrier::run(&system, &from, &to, &out, &progress)?;
            written(&progress, r, &dir, "");
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
            written(&progress, r, &dir, "");
        }
        Command::Energy { system, trajectory } => {
            let (csv, warnings) = app::energy::run(&system, &trajectory)?;
            for w in warnings {
                tracing::warn!("{w}");
            }
            print!("{csv}");
        }
        Command::Geodesic(args) => geodesic(&args, backend, &progress)?,
    }
    Ok(())
}

fn main() -> ExitCode {
    tps::compute::keep_freed_memory();
    // args_os: a file name that is not UTF-8 is recorded lossily, never a panic.
    tps::provenance::set_command(
        std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" "),
    );
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
