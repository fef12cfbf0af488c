//! Helpers shared by the integration tests: devices, the alanine-dipeptide fixture, sandboxes
//! that run the `tps` binary, and checks of its outcome.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use burn::tensor::Device;
use tps::compute::{self, Backend, Precision};

/// The repository root.
pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The engine's test helpers (the alanine dipeptide and the OpenMM fixture), shared.
#[path = "../../crates/mm/tests/common/mod.rs"]
mod engine;
#[allow(unused_imports)] // each test binary uses some of them
pub use engine::{aldp, fixture, fixture_frame, fixtures, positions};

/// The f64 CPU device (only in `tests/exact.rs`'s binary: burn fixes the precision per
/// process, and the other binary's models are f32).
pub fn f64_device() -> Device {
    compute::device(Backend::Flex, Precision::F64).expect("flex in f64")
}

/// f64 device with autodiff.
pub fn f64_autodiff() -> Device {
    f64_device().autodiff()
}

/// Relative difference with an absolute floor.
pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-12)
}

/// The `[molecule]` section of the shipped alanine dipeptide (absolute paths), with its
/// surface at `fes` (relative to the system file).
pub fn aldp_molecule(fes: &str) -> String {
    format!(
        r#"[molecule]
prmtop = "{ROOT}/systems/aldp/aldp.prmtop"
coordinates = "{ROOT}/systems/aldp/aldp.pdb"
free_energy = "{fes}"
cv = [
    {{ name = "phi", atoms = ["1:C", "2:N", "2:CA", "2:C"] }},
    {{ name = "psi", atoms = ["2:N", "2:CA", "2:C", "3:N"] }},
]
"#
    )
}

/// The tiny alanine dipeptide the molecule tests start from: a short metadynamics run, a small
/// model and a short transition, with the shipped topology and its surface at `fes.dat`.
const TINY_ALDP: &str = r#"
[md]
temperature = 300.0
timestep = 0.002
constraints = "h-bonds"
steps = 100000
walkers = 2
report_every = 5000
[metadynamics]
height = 2.0
pace = 250
[states]
C7eq = [-1.37, 0.98]
C7ax = [1.05, -0.72]
[sampling]
chains = 4
replicas = 6
steps = 3000
burn_in = 500
[model]
hidden = 32
blocks = 1
embedding = 16
input_scale = 4.0
path = "aldp_tiny.tpsmodel"
[training]
steps = 150
batch = 128
[geodesic]
points = 24
nodes = 4
[transition]
steps_per_point = 32
paths = 2
backmap_every = 8
[barrier]
relaxed_grid = 12
"#;

/// The sections [`tiny_aldp`] drops for tests of MD alone: no metadynamics, no model, and the
/// `[md]` without constraints.
pub const MD_ONLY: [&str; 7] = [
    "md.constraints",
    "metadynamics",
    "sampling",
    "model",
    "training",
    "geodesic",
    "transition",
];

/// Writes [`TINY_ALDP`] named `name` into `sb` as `file`: without `drop` (sections, or
/// `section.key`), then with each of `edits` in turn (TOML: each key replaces or adds to what is
/// there, section by section); returns its path.
pub fn tiny_aldp(sb: &Sandbox, file: &str, name: &str, edits: &[&str], drop: &[&str]) -> PathBuf {
    let base = format!("name = \"{name}\"\n{}{TINY_ALDP}", aldp_molecule("fes.dat"));
    let mut doc: toml::Table = base.parse().unwrap();
    for d in drop {
        match d.split_once('.') {
            Some((section, key)) => {
                doc[section].as_table_mut().unwrap().remove(key);
            }
            None => {
                doc.remove(*d);
            }
        }
    }
    for edit in edits {
        for (key, value) in edit.parse::<toml::Table>().expect("edits are TOML") {
            match (doc.get_mut(&key), value) {
                (Some(toml::Value::Table(section)), toml::Value::Table(new)) => section.extend(new),
                (_, value) => {
                    doc.insert(key, value);
                }
            }
        }
    }
    sb.write(file, &toml::to_string(&doc).unwrap())
}

/// The shipped Müller–Brown system written into `sb` as `mb.toml`, its model the shipped one
/// (absolute path), with `replace.0` replaced by `replace.1` in its text; returns its path.
#[allow(dead_code)]
pub fn muller_brown(sb: &Sandbox, replace: (&str, &str)) -> String {
    let text = std::fs::read_to_string(format!("{ROOT}/systems/muller_brown.toml")).unwrap();
    let text = text
        .replace(
            "../models/muller_brown.tpsmodel",
            &format!("{ROOT}/models/muller_brown.tpsmodel"),
        )
        .replace(replace.0, replace.1);
    sb.write("mb.toml", &text).to_str().unwrap().to_string()
}

/// A temporary directory that runs `tps` inside it and is removed afterwards.
pub struct Sandbox {
    pub dir: PathBuf,
}

impl Sandbox {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("tps-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self { dir }
    }

    /// Writes `text` to `file` in the sandbox and returns its path.
    pub fn write(&self, file: &str, text: &str) -> PathBuf {
        let p = self.dir.join(file);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(&p, text).unwrap();
        p
    }

    /// A path in the sandbox.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.join(relative)
    }

    /// Runs `tps` in the sandbox.
    pub fn tps(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tps"))
            .args(args)
            .current_dir(&self.dir)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// The command succeeded.
pub fn ok(o: &Output) {
    assert!(o.status.success(), "failed: {}", stderr(o));
}

/// The command failed with status 1, a clean message containing every needle, no panic.
pub fn failed_with(o: &Output, needles: &[&str]) {
    assert!(!o.status.success(), "should have failed: {}", stdout(o));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(o));
    let e = stderr(o);
    assert!(
        !e.contains("panicked") && !e.contains("RUST_BACKTRACE"),
        "{e}"
    );
    for n in needles {
        assert!(e.contains(n), "`{n}` not in: {e}");
    }
}

/// A JSON file.
pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `inner` with every gradient counted (what routes and walkers ask of the energy); plain
/// energies (judging frames) are not counted.
pub struct Counting<P> {
    pub inner: P,
    pub calls: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<P: tps::potential::Potential> tps::potential::Potential for Counting<P> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn energy_gradient(&self, x: &[f64], grad: &mut [f64]) -> f64 {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.energy_gradient(x, grad)
    }
    fn energy(&self, x: &[f64]) -> f64 {
        self.inner.energy(x)
    }
    fn periodic(&self) -> Vec<Option<(f64, f64)>> {
        self.inner.periodic()
    }
}

/// The learned route from `from` (at `a`) to `to` on the system file `path` with its surface
/// replaced by `surface`, counted: its plan (of `points` points) and `paths` walkers of
/// `steps_per_point` steps, judged on `surface`, must not call the energy once. Returns the
/// walkers' paths and whether the model is tilted.
pub fn learned_paths_calling_no_energy<P: tps::potential::Potential + Clone + 'static>(
    path: &Path,
    surface: P,
    (from, a): (&str, [f64; 2]),
    (to, b): (&str, [f64; 2]),
    points: usize,
    (paths, steps_per_point): (usize, usize),
) -> (Vec<tps::walkers::TransitionPath>, bool) {
    use std::sync::atomic::{AtomicU64, Ordering};
    use tps::route::{Context, Guidance, RouteKind};
    use tps::walkers::{Dynamics, Guide, PathOptions, SurfaceJudge, annealed_langevin};

    let (file, _) = tps::system::SystemFile::load(path).unwrap();
    let calls = std::sync::Arc::new(AtomicU64::new(0));
    let counted = Counting {
        inner: surface.clone(),
        calls: calls.clone(),
    };
    let system = tps::system::System::with_potential(file, path, Box::new(counted)).unwrap();
    let loaded = system.denoiser(Backend::Flex).unwrap();
    let representation = system.representation().unwrap();
    let reference = tps::reference::reference(&system, from, to, None).unwrap();
    let no_route = || -> tps::Result<tps::representation::ReferenceCurve> {
        panic!("the learned route asked for the reference route")
    };
    let constraints = system.file.geodesic.constraints.clone();
    let context = Context {
        system: &system,
        representation: representation.as_ref(),
        model: Some(&loaded),
        normalisation: &loaded.normalisation,
        reference: &reference,
        reference_route: &no_route,
        endpoints: (&a, &b),
        constraints: &constraints,
        mep_start: true,
        lambda_max: 4.0,
        points,
        seed: 0,
    };
    calls.store(0, Ordering::SeqCst);
    let plan = tps::route::implementation(RouteKind::Learned)
        .plan(&context, &mut |_, _| {})
        .unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "the route asked the energy"
    );
    assert_eq!(plan.summary.energy_evaluations, 0);
    let Guidance::Score(score) = &plan.guidance else {
        panic!("the learned route is driven by the model's score")
    };
    let params = tps::walkers::WalkerParams {
        paths,
        steps_per_point,
        ..system.file.transition.walkers()
    };
    let judge = SurfaceJudge(&surface);
    let walked = annealed_langevin(
        &Dynamics {
            guide: Guide::Score(score.as_ref()),
            kt: system.kt(),
            normalisation: &loaded.normalisation,
            route: &plan.points,
            start: &a,
        },
        &params,
        &PathOptions {
            judge: Some(&judge),
            ..PathOptions::default()
        },
        0,
    )
    .unwrap();
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "the walkers asked the energy"
    );
    (walked, loaded.tilt.is_some())
}

/// All-atom path `k` of a finished run in `out`: its DCD frames and its CSV rows (header
/// skipped), asserted as many, with each frame's two dihedrals those of the rows' columns
/// `dihedrals` and `dihedrals + 1` (the DCD holds float32 coordinates).
pub fn all_atom_path(
    out: &Path,
    k: usize,
    top: &tps::molecule::Topology,
    cv: &tps::molecule::Dihedrals,
    dihedrals: usize,
) -> (Vec<Vec<[f64; 3]>>, Vec<Vec<f64>>) {
    use tps::molecule::cv::angle_difference;
    let frames = tps::molecule::chfl::read(&out.join(format!("path_{k:03}.dcd")), top)
        .unwrap()
        .frames;
    let csv = std::fs::read_to_string(out.join(format!("path_{k:03}.csv"))).unwrap();
    let rows: Vec<Vec<f64>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect();
    assert_eq!(frames.len(), rows.len());
    for (x, row) in frames.iter().zip(&rows) {
        let v = cv.values(x);
        assert!(angle_difference(v[0], row[dihedrals]).abs() < 1e-3);
        assert!(angle_difference(v[1], row[dihedrals + 1]).abs() < 1e-3);
    }
    (frames, rows)
}
