//! What the engine's tests share: the workspace's alanine dipeptide and the OpenMM fixture made
//! by `crates/mm/tests/fixtures/make_aldp_energies.py`.

#![allow(dead_code)]

use std::path::Path;
use std::sync::OnceLock;

use tps_mm::{ForceField, Prmtop, Topology};

/// The workspace root (the application's tests include this module too, from the root).
pub fn root() -> String {
    let manifest = env!("CARGO_MANIFEST_DIR");
    match manifest.strip_suffix("/crates/mm") {
        Some(root) => root.to_string(),
        None => manifest.to_string(),
    }
}

/// The engine's fixtures: OpenMM's energies and forces, the AMBER topologies they were made on.
pub fn fixtures() -> String {
    format!("{}/crates/mm/tests/fixtures", root())
}

/// The shipped alanine dipeptide's topology and force field.
pub fn aldp() -> (Topology, ForceField) {
    let p = Prmtop::read(Path::new(&format!("{}/systems/aldp/aldp.prmtop", root()))).unwrap();
    ForceField::from_prmtop(&p).unwrap()
}

/// The OpenMM fixture (crates/mm/tests/fixtures/aldp_energies.json).
pub fn fixture() -> &'static serde_json::Value {
    static DOC: OnceLock<serde_json::Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let text = std::fs::read_to_string(format!("{}/aldp_energies.json", fixtures())).unwrap();
        serde_json::from_str(&text).unwrap()
    })
}

/// Positions (nm) of a fixture frame.
pub fn positions(frame: &serde_json::Value) -> Vec<[f64; 3]> {
    frame["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| std::array::from_fn(|k| p[k].as_f64().unwrap()))
        .collect()
}

/// Positions and OpenMM's total energy of the fixture frame with `label`.
pub fn fixture_frame(label: &str) -> (Vec<[f64; 3]>, f64) {
    let f = fixture()["frames"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["label"] == label)
        .unwrap();
    (positions(f), f["energy"]["total"].as_f64().unwrap())
}
