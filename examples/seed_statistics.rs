//! Statistics over seeds of `tps sample` runs: mean ± std of the per-seed means of the per-path
//! maximum energy, and the spread of single paths pooled over seeds.
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
        reference = Some((
            s["reference"]["saddle_energy"].as_f64().unwrap_or(f64::NAN),
            s["reference"]["minimax"].as_f64().unwrap_or(f64::NAN),
        ));
        evaluations.push(
            s["evaluations"]["langevin"].as_f64().unwrap_or(0.0)
                + s["evaluations"]["training_data"].as_f64().unwrap_or(0.0),
        );
    }
    let stats = |v: &[f64]| {
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        let sd = if v.len() > 1 {
            (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        (m, sd)
    };
    let (m, sd) = stats(&means);
    let (pm, psd) = stats(&pooled);
    println!(
        "{} seeds: per-seed means {m:.3} ± {sd:.3} (mean ± std); single paths {pm:.3} ± {psd:.3} over {}",
        means.len(),
        pooled.len()
    );
    if let Some((saddle, minimax)) = reference {
        println!("reference saddle {saddle:.3}, grid minimax {minimax:.3}");
    }
    println!(
        "energy evaluations per seed: {:.3e} (Langevin + training data)",
        evaluations.iter().sum::<f64>() / evaluations.len() as f64
    );
}
