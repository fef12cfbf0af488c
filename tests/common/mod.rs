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
