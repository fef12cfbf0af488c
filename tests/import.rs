//! Models trained elsewhere: the paper's network as a PyTorch checkpoint and as safetensors
//! (tests/fixtures/make_paper_checkpoint.py, a randomly initialised network and what PyTorch
//! computes with it), imported and compared with PyTorch; bad files refused, nothing written,
//! nothing executed.

use crate::common::{ROOT, Sandbox, failed_with, json, ok};
use tps::compute::{self, Backend, Precision};
use tps::geometry::GeodesicConfig;
use tps::geometry::geodesic::straight_line;
use tps::geometry::spacetime::{Probes, denoise_with_divergence};

const SYSTEM: &str = r#"name = "paper_net"
kT = 10.0
domain = [[-1.7, 1.3], [-0.5, 2.2]]
[potential]
kind = "muller-brown"
[states]
A = [-0.558, 1.442]
B = [0.623, 0.028]
[model]
network = "authors"
hidden = 128
blocks = 3
embedding = 128
input_scale = 25.0
path = "m/paper.tpsmodel"
[geodesic]
points = 16
nodes = 4
[transition]
steps_per_point = 16
step_size = 1e-4
paths = 2
"#;

fn fixture(name: &str) -> String {
    format!("{ROOT}/tests/fixtures/paper_checkpoint/{name}")
}

#[test]
fn an_imported_checkpoint_computes_what_pytorch_computes() {
    let sb = Sandbox::new("import");
    let sys = sb.write("paper.toml", SYSTEM);
    let s = sys.to_str().unwrap();
    let reference = json(std::path::Path::new(&fixture("outputs.json")));
    let points: Vec<Vec<f64>> = reference["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        })
        .collect();
    // PyTorch's reference is the float32 weights evaluated in float64: so is ours.
    let device = compute::device(Backend::Flex, Precision::F64).unwrap();
    for (flag, file) in [
        ("--pytorch", "paper_net.pt"),
        ("--pytorch", "nested.pt"),
        ("--safetensors", "paper_net.safetensors"),
    ] {
        ok(&sb.tps(&["import", s, flag, &fixture(file)]));
        let (meta, mlp) = tps::model::file::load(&sb.path("m/paper.tpsmodel"), &device).unwrap();
        assert!(
            meta.provenance.inputs.keys().any(|k| k.ends_with(file)),
            "the checkpoint is the model's origin"
        );
        assert_eq!(meta.normalisation.scale, 1.0);
        let n = points.len();
        let lambda = compute::matrix(
            &points.iter().map(|p| p[0]).collect::<Vec<_>>(),
            n,
            1,
            &device,
        );
        let x: Vec<f64> = points.iter().flat_map(|p| p[1..].to_vec()).collect();
        let probes = Probes::exact(n, 2, &device);
        let (d, div) =
            denoise_with_divergence(&mlp, lambda, compute::matrix(&x, n, 2, &device), &probes);
        let (d, div) = (compute::to_host(d), compute::to_host(div));
        for (k, want) in reference["denoised"].as_array().unwrap().iter().enumerate() {
            for c in 0..2 {
                let w = want[c].as_f64().unwrap();
                assert!(
                    (d[2 * k + c] - w).abs() <= 1e-6 * w.abs(),
                    "{file} point {k}: D {} vs PyTorch {w}",
                    d[2 * k + c]
                );
            }
            let w = reference["divergence"][k].as_f64().unwrap();
            assert!(
                (div[k] - w).abs() <= 1e-5 * w.abs(),
                "{file} point {k}: div {} vs {w}",
                div[k]
            );
        }
        // The straight line's curve energy, 16 points, exact divergence.
        let line = &reference["line"];
        let at = |key: &str| -> Vec<f64> {
            line[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        };
        let config = GeodesicConfig {
            points: 16,
            ..GeodesicConfig::default()
        };
        let (energy, _) = straight_line(
            &mlp,
            &at("start"),
            &at("end"),
            &config,
            &device.clone().autodiff(),
        );
        let w = line["energy"].as_f64().unwrap();
        assert!(
            (energy - w).abs() <= 1e-5 * w.abs(),
            "{file}: curve energy {energy} vs {w}"
        );
    }
    // A model like any other: paths along its geodesic.
    ok(&sb.tps(&["sample", s, "--from", "A", "--to", "B"]));
}

#[test]
fn bad_checkpoints_are_refused_naming_the_key_or_the_reason() {
    let sb = Sandbox::new("import-bad");
    let sys = sb.write("paper.toml", SYSTEM);
    let s = sys.to_str().unwrap();
    for (file, needles) in [
        (
            "bad/wrong_shapes.pt",
            vec!["joint_mlp.0.weight", "[64, 384]", "[128, 384]"],
        ),
        ("bad/extra_key.pt", vec!["joint_mlp.6.weight"]),
        ("bad/truncated.pt", vec!["truncated.pt"]),
        (
            "bad/expanded.pt",
            vec!["joint_mlp.0.weight", "[30000, 30000]", "[128, 384]"],
        ),
        ("bad/code.pt", vec!["code.pt"]),
    ] {
        let o = sb.tps(&["import", s, "--pytorch", &fixture(file)]);
        let mut all = needles.clone();
        all.push(file.split('/').next_back().unwrap());
        failed_with(&o, &all);
        assert!(
            !sb.path("m/paper.tpsmodel").exists(),
            "nothing written for {file}"
        );
    }
    assert!(!sb.path("pwned").exists() && !std::path::Path::new(&fixture("bad/pwned")).exists());
    // A PyTorch file given as safetensors is named for what it is.
    failed_with(
        &sb.tps(&["import", s, "--safetensors", &fixture("paper_net.pt")]),
        &["paper_net.pt", "import it with --pytorch"],
    );
    // A system whose network is not the authors' is told which network imports.
    let tps_net = sb.write("tps.toml", &SYSTEM.replace("network = \"authors\"\n", ""));
    failed_with(
        &sb.tps(&[
            "import",
            tps_net.to_str().unwrap(),
            "--pytorch",
            &fixture("paper_net.pt"),
        ]),
        &["network = \"authors\""],
    );
}
