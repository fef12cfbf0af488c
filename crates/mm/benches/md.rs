//! Alanine dipeptide (22 atoms, amber99sb-ildn, vacuum, no cutoff): energy + forces alone, and
//! BAOAB Langevin steps for one walker and for two walkers on two threads.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rayon::prelude::*;
use tps_mm::{Langevin, LangevinParams, State};

#[path = "../tests/common/mod.rs"]
mod common;

fn bench(c: &mut Criterion) {
    let (top, ff) = common::aldp();
    let x = common::positions(&common::fixture()["frames"][0]);
    let mut f = vec![[0.0; 3]; top.len()];
    let mut group = c.benchmark_group("aldp");
    group.throughput(Throughput::Elements(1));
    group.bench_function("energy_and_forces", |b| {
        b.iter(|| ff.compute(&x, &mut f).total())
    });
    let config = LangevinParams {
        temperature: 300.0,
        friction: 1.0,
        timestep: 0.002,
    };
    let mut integrator = Langevin::new(&config, &top.masses, 0);
    let mut state = State {
        positions: x.clone(),
        velocities: vec![[0.0; 3]; top.len()],
    };
    integrator.thermalise(&mut state);
    group.throughput(Throughput::Elements(1000));
    group.bench_function("langevin_1000_steps_1_walker", |b| {
        b.iter(|| integrator.run(&ff, &mut state, 1000, None))
    });
    let mut walkers: Vec<(Langevin, State)> = (0..2)
        .map(|w| {
            let mut i = Langevin::new(&config, &top.masses, w);
            let mut s = State {
                positions: x.clone(),
                velocities: vec![[0.0; 3]; top.len()],
            };
            i.thermalise(&mut s);
            (i, s)
        })
        .collect();
    group.throughput(Throughput::Elements(2000));
    group.bench_function("langevin_1000_steps_2_walkers", |b| {
        b.iter(|| {
            walkers
                .par_iter_mut()
                .for_each(|(i, s)| i.run(&ff, s, 1000, None))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
