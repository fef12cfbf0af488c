//! Energy + forces with OBC2 implicit solvent against vacuum on the same topology: alanine
//! dipeptide (22 atoms, ff14SB, mbondi2) and a 2,333-atom protein (ff14SB, mbondi2), at the
//! structures of `tests/fixtures/amber/amber_energies.json`. The workspace's
//! `benches/openmm_implicit.py` is the OpenMM reference (`scripts/bench-md.sh` runs both in one window).

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use tps_mm::{ForceField, Prmtop};

#[path = "../tests/common/mod.rs"]
mod common;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(common::fixtures()).join("amber").join(name)
}

fn bench(c: &mut Criterion) {
    let text = std::fs::read_to_string(fixture("amber_energies.json")).unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut group = c.benchmark_group("implicit");
    for (case, prmtop) in [
        ("aldp_obc2", "aldp_obc2.prmtop"),
        ("protein_obc2", "protein_obc2.prmtop"),
    ] {
        let p = Prmtop::read(&fixture(prmtop)).unwrap();
        let (top, vacuum) = ForceField::from_prmtop(&p).unwrap();
        let obc2 = ForceField::from_prmtop(&p)
            .unwrap()
            .1
            .with_solvation(ForceField::obc2(&p, &top).unwrap());
        let x = common::positions(&doc["cases"][case]["frames"][0]);
        let mut f = vec![[0.0; 3]; top.len()];
        group.bench_function(format!("{case}/vacuum"), |b| {
            b.iter(|| vacuum.compute(&x, &mut f).total())
        });
        group.bench_function(format!("{case}/obc2"), |b| {
            b.iter(|| obc2.compute(&x, &mut f).total())
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = bench
}
criterion_main!(benches);
