//! Statistics over seeds of `tps sample` runs: mean ± std of the per-seed means of the per-path
//! maximum energy, and the spread of single paths pooled over seeds; for all-atom paths also of
//! the per-path maximum potential energy and the free energy on the written frames, the bond
//! extremes and the share in the target where the restraint is weak.
//!
//! `cargo run --release --example seed_statistics -- out/seed*/aldp/C7eq-C7ax/summary.json`

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: seed_statistics SUMMARY.json...");
        std::process::exit(2);
    }
    let mut means = Vec::new();
    let mut pooled = Vec::new();
    let mut reference = None;
    let mut evaluations = Vec::new();
    let mut all_atom: Vec<[f64; 5]> = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{f}: {e}"));
        let s: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{f}: {e}"));
        let maxima: Vec<f64> = s["path_results"]["max_energy"]
            .as_array()
            .expect("max_energy")
            .iter()
            .map(|v| v.as_f64().expect("a number"))
            .collect();
        let m = maxima.iter().sum::<f64>() / maxima.len() as f64;
        println!(
            "{f}: seed {} mean {m:.3} over {} paths, {:.0}% reach the target",
            s["provenance"]["seed"],
            maxima.len(),
            100.0
                * s["path_results"]["fraction_reaching_target"]
                    .as_f64()
                    .unwrap_or(f64::NAN)
        );
        means.push(m);
        pooled.extend(maxima);
        let a = &s["all_atom_paths"];
        if a.is_object() {
            all_atom.push(all_atom_row(a));
        }
        reference = Some((
            s["reference"]["saddle_energy"].as_f64().unwrap_or(f64::NAN),
            s["reference"]["minimax"].as_f64().unwrap_or(f64::NAN),
        ));
        evaluations.push(
            s["evaluations"]["walkers"].as_f64().unwrap_or(0.0)
                + s["evaluations"]["training_data"].as_f64().unwrap_or(0.0),
        );
    }
    let (m, sd) = mean_std_of(&means);
    let (pm, psd) = mean_std_of(&pooled);
    println!(
        "{} seeds: per-seed means {m:.3} ± {sd:.3} (mean ± std); single paths {pm:.3} ± {psd:.3} over {}",
        means.len(),
        pooled.len()
    );
    if !all_atom.is_empty() {
        let column = |k: usize| all_atom.iter().map(|r| r[k]).collect::<Vec<f64>>();
        for (k, what) in [
            "per-path maximum potential energy",
            "per-path maximum free energy on the written frames",
        ]
        .iter()
        .enumerate()
        {
            let (m, sd) = mean_std_of(&column(k));
            println!("{what}: per-seed means {m:.3} ± {sd:.3}");
        }
        let (m, sd) = mean_std_of(&column(4));
        println!("thermal reference (highest of 128 frames): {m:.3} ± {sd:.3}");
        println!(
            "longest bond stretch {:.3} Å, shortest bond {:.3} of its rest length (over all seeds)",
            column(2).iter().copied().fold(f64::NEG_INFINITY, f64::max),
            column(3).iter().copied().fold(f64::INFINITY, f64::min)
        );
    }
    if let Some((saddle, minimax)) = reference {
        println!("reference saddle {saddle:.3}, grid minimax {minimax:.3}");
    }
    println!(
        "energy evaluations per seed: {:.3e} (Langevin + training data)",
        evaluations.iter().sum::<f64>() / evaluations.len() as f64
    );
}

/// One seed's all-atom figures: the mean per-path maximum potential and free energy, the
/// longest bond stretch, the shortest bond ratio, the thermal reference.
fn all_atom_row(a: &serde_json::Value) -> [f64; 5] {
    let mean = |k: &str| {
        let v: Vec<f64> = a[k].as_array().map_or(Vec::new(), |v| {
            v.iter().filter_map(|x| x.as_f64()).collect()
        });
        v.iter().sum::<f64>() / v.len() as f64
    };
    let num = |k: &str| a[k].as_f64().unwrap_or(f64::NAN);
    [
        mean("potential_energy_max"),
        mean("free_energy_max_written_frames"),
        num("max_bond_stretch_angstrom"),
        num("min_bond_ratio"),
        a["thermal_window_max"]["mean"].as_f64().unwrap_or(f64::NAN),
    ]
}

/// Mean and sample standard deviation (0 for one value).
fn mean_std_of(v: &[f64]) -> (f64, f64) {
    let s = tps::statistics::MeanStd::of(v);
    (s.mean, s.std)
}
