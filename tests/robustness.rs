//! The third probe: inputs a new user or an adversary gives, each refused with the file, field
//! or option named and exit status 1 (never a panic or an abort), publishing nothing; and
//! outputs that other tools read as they are.

use crate::common::{MD_ONLY, ROOT, Sandbox, failed_with, json, ok, stderr, stdout, tiny_aldp};

/// The tiny alanine dipeptide for MD alone (a short run at 1 fs, a third state C5), `extra`
/// (TOML) on top.
fn molecule(sb: &Sandbox, extra: &str) -> std::path::PathBuf {
    tiny_aldp(
        sb,
        "probe.toml",
        "probe",
        &[
            "[md]\ntimestep = 0.001\nsteps = 2000\nreport_every = 500\n\
             [states]\nC5 = [-2.55, 2.75]\n",
            extra,
        ],
        &MD_ONLY,
    )
}

const MB: &str = r#"name = "mb"
kT = 10.0
domain = [[-1.7, 1.3], [-0.5, 2.2]]
[potential]
kind = "muller-brown"
[states]
A = [-0.558, 1.442]
B = [0.623, 0.028]
[model]
path = "absent.tpsmodel"
"#;

#[test]
fn binary_garbage_named_as_text_is_refused_not_a_crash() {
    let sb = Sandbox::new("garbage");
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for name in ["garbage.xyz", "garbage.pdb"] {
        std::fs::write(sb.path(name), &garbage).unwrap();
        let sys = molecule(&sb, "");
        failed_with(
            &sb.tps(&["energy", sys.to_str().unwrap(), name]),
            &[name, "not a text file"],
        );
        // As the starting structure of `tps md`.
        let text = std::fs::read_to_string(&sys).unwrap().replace(
            &format!("{ROOT}/systems/aldp/aldp.pdb"),
            &sb.path(name).display().to_string(),
        );
        let bad = sb.write("bad.toml", &text);
        failed_with(
            &sb.tps(&["md", bad.to_str().unwrap()]),
            &[name, "not a text file"],
        );
        // As simulation data for `tps train`.
        let data = molecule(&sb, &format!("[data]\ntrajectories = [\"{name}\"]\n"));
        failed_with(
            &sb.tps(&["train", data.to_str().unwrap()]),
            &[name, "not a text file"],
        );
    }
    assert!(!sb.path("out").exists() && !sb.path("fes.dat").exists());
}

#[test]
fn a_run_too_short_to_judge_says_so_and_md_dcds_record_their_time() {
    let sb = Sandbox::new("short");
    let sys = molecule(&sb, "[metadynamics]\npace = 500\n");
    let o = sb.tps(&["md", sys.to_str().unwrap(), "--steps", "1000"]);
    ok(&o);
    assert!(stdout(&o).contains("not judged"), "{}", stdout(&o));
    let summary = json(&sb.path("out/probe/md/summary.json"));
    let f = &summary["free_energy"];
    assert!(f["converged"].is_null() && f["drift"].is_null(), "{f}");
    // Frames every report_every = 500 steps of 1 fs: 0.5 ps apart, as MDAnalysis reads it.
    let dcd = tps::output::dcd::read(&sb.path("out/probe/md/walker_000.dcd")).unwrap();
    assert!(
        (dcd.frame_interval_ps - 0.5).abs() < 1e-6,
        "{}",
        dcd.frame_interval_ps
    );
    // Every bond is in the topology's CONECT records.
    let pdb = std::fs::read_to_string(sb.path("out/probe/md/topology.pdb")).unwrap();
    let mut pairs = std::collections::BTreeSet::new();
    for l in pdb.lines().filter(|l| l.starts_with("CONECT")) {
        let n: Vec<usize> = l[6..]
            .split_whitespace()
            .map(|v| v.parse().unwrap())
            .collect();
        for j in &n[1..] {
            pairs.insert((n[0].min(*j), n[0].max(*j)));
        }
    }
    let (_, ff) = crate::common::aldp();
    assert_eq!(pairs.len(), ff.bonds.len());
    // The output directory says tps wrote it and what.
    let marker = std::fs::read_to_string(sb.path("out/probe/md/.tps-output")).unwrap();
    assert!(marker.contains("walker_000.dcd") && marker.contains("summary.json"));
}

#[test]
fn sizes_and_physical_values_out_of_bounds_are_refused_up_front() {
    let sb = Sandbox::new("sizes");
    for (extra, field) in [
        ("[barrier]\ngrid = 100000\n", "barrier.grid"),
        ("[barrier]\nrelaxed_grid = 100000\n", "barrier.relaxed_grid"),
        ("[barrier]\nrelaxed_grid = 2\n", "barrier.relaxed_grid"),
        ("[metadynamics]\ngrid = 100000\n", "metadynamics.grid"),
        ("[geodesic]\npoints = 100000000\n", "geodesic.points"),
        ("[metadynamics]\nheight = 1e300\n", "metadynamics.height"),
    ] {
        let sys = molecule(&sb, extra);
        failed_with(
            &sb.tps(&["md", sys.to_str().unwrap()]),
            &["probe.toml", field],
        );
    }
    for t in ["1e-30", "1e30"] {
        let sys = molecule(&sb, "");
        let text = std::fs::read_to_string(&sys)
            .unwrap()
            .replace("temperature = 300.0", &format!("temperature = {t}"));
        std::fs::write(&sys, text).unwrap();
        failed_with(
            &sb.tps(&["md", sys.to_str().unwrap()]),
            &["md.temperature", "K"],
        );
    }
    assert!(!sb.path("out").exists());
}

#[test]
fn states_and_sections_that_cannot_be_right_are_refused() {
    let sb = Sandbox::new("states");
    for (from, to, field) in [
        (
            "kind = \"muller-brown\"",
            "kind = \"muller-brown\"\nscale = 2.0",
            "scale",
        ),
        (
            "kind = \"muller-brown\"",
            "kind = \"muller-brown\"\nfile = \"x.dat\"",
            "file",
        ),
        ("A = [-0.558, 1.442]", "A = [-0.558, 9.0]", "states.A"),
        ("B = [0.623, 0.028]", "B = [-0.558, 1.442]", "states.B"),
    ] {
        let sys = sb.write("mb.toml", &MB.replace(from, to));
        failed_with(
            &sb.tps(&["barrier", sys.to_str().unwrap(), "--from", "A", "--to", "B"]),
            &["mb.toml", field],
        );
    }
    // An angle outside one period.
    let sys = molecule(&sb, "");
    let text = std::fs::read_to_string(&sys)
        .unwrap()
        .replace("C5 = [-2.55, 2.75]", "C5 = [-2.55, 7.0]");
    std::fs::write(&sys, text).unwrap();
    failed_with(
        &sb.tps(&["md", sys.to_str().unwrap()]),
        &["states.C5", "period"],
    );
    // Arguments are checked before any work: no relaxed map for one state to itself.
    let sys = molecule(&sb, "");
    let t = std::time::Instant::now();
    failed_with(
        &sb.tps(&[
            "barrier",
            sys.to_str().unwrap(),
            "--from",
            "C5",
            "--to",
            "C5",
        ]),
        &["--from and --to", "C5"],
    );
    assert!(t.elapsed().as_secs_f64() < 5.0, "refused only after work");
    let mb = sb.write("mb.toml", MB);
    failed_with(
        &sb.tps(&[
            "sample",
            mb.to_str().unwrap(),
            "--from",
            "A",
            "--to",
            "B",
            "--paths",
            "0",
        ]),
        &["--paths"],
    );
    failed_with(
        &sb.tps(&[
            "sample",
            mb.to_str().unwrap(),
            "--from",
            "A",
            "--to",
            "B",
            "--penalty-weight",
            "nan",
        ]),
        &["--penalty-weight"],
    );
    assert!(!sb.path("out").exists());
}

#[test]
fn a_nan_in_a_colvar_is_named_with_its_file_and_line() {
    let sb = Sandbox::new("colvar-nan");
    sb.write(
        "colvar.dat",
        "#! FIELDS time phi psi metad.rbias\n0 -1.4 1.0 0.0\n1 -1.4 1.0 nan\n",
    );
    let sys = molecule(
        &sb,
        &format!(
            "[data]\ntrajectories = [\"{ROOT}/systems/aldp/aldp.pdb\"]\ncolvar = [\"colvar.dat\"]\nbias = \"metad.rbias\"\n"
        ),
    );
    failed_with(
        &sb.tps(&["train", sys.to_str().unwrap()]),
        &["colvar.dat", "line 3", "nan"],
    );
}

#[test]
fn surfaces_are_read_where_used_and_tied_to_their_molecule() {
    let sb = Sandbox::new("surfaces");
    let sys = molecule(&sb, "");
    let s = sys.to_str().unwrap();
    // A corrupt relaxed map and check surface do not block commands that never read them.
    sb.write("fes_relaxed.dat", "garbage\n");
    sb.write("fes_check.dat", "garbage\n");
    ok(&sb.tps(&["energy", s, &format!("{ROOT}/systems/aldp/aldp.pdb")]));
    ok(&sb.tps(&["md", s, "--steps", "500"]));
    // A missing surface is named as such, not as a model.
    let o = sb.tps(&["barrier", s, "--from", "C7eq", "--to", "C7ax"]);
    failed_with(&o, &["fes.dat", "no free-energy surface", "tps train"]);
    assert!(!stderr(&o).contains("model"), "{}", stderr(&o));
    // A relaxed map made from another topology is refused where it is read.
    let shipped = std::fs::read_to_string(format!("{ROOT}/models/aldp_fes.dat")).unwrap();
    sb.write("fes.dat", &shipped);
    let foreign = std::fs::read_to_string(format!("{ROOT}/models/aldp_fes_relaxed.dat"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with(tps::system::surfaces::ORIGIN))
        .collect::<Vec<_>>()
        .join("\n");
    sb.write(
        "fes_relaxed.dat",
        &format!(
            "{}{}\n{foreign}\n",
            tps::system::surfaces::ORIGIN,
            "0".repeat(64)
        ),
    );
    std::fs::remove_file(sb.path("fes_check.dat")).unwrap();
    // The shipped alanine system with its model, its surface copied here.
    let shipped = std::fs::read_to_string(format!("{ROOT}/systems/aldp.toml"))
        .unwrap()
        .replace("\"aldp/", &format!("\"{ROOT}/systems/aldp/"))
        .replace("\"../models/aldp_fes.dat\"", "\"fes.dat\"")
        .replace("\"../models/", &format!("\"{ROOT}/models/"));
    let aldp = sb.write("aldp.toml", &shipped);
    let sample = sb.tps(&[
        "sample",
        aldp.to_str().unwrap(),
        "--from",
        "C7eq",
        "--to",
        "C7ax",
    ]);
    failed_with(&sample, &["fes_relaxed.dat", "another topology"]);
}

#[test]
fn outputs_belong_to_tps_alone_and_to_one_run_at_a_time() {
    let sb = Sandbox::new("owned");
    let sys = molecule(&sb, "");
    let s = sys.to_str().unwrap();
    // A directory tps did not write is not replaced.
    std::fs::create_dir_all(sb.path("mine/probe/md")).unwrap();
    sb.write("mine/probe/md/notes.txt", "my notes");
    failed_with(
        &sb.tps(&["md", s, "--steps", "500", "--out", "mine"]),
        &["mine/probe/md", "not written by tps"],
    );
    // Nor one tps wrote but that holds a file of the user's.
    ok(&sb.tps(&["md", s, "--steps", "500"]));
    sb.write("out/probe/md/notes.txt", "my notes");
    failed_with(
        &sb.tps(&["md", s, "--steps", "500"]),
        &["out/probe/md", "notes.txt"],
    );
    assert_eq!(
        std::fs::read_to_string(sb.path("out/probe/md/notes.txt")).unwrap(),
        "my notes"
    );
    std::fs::remove_file(sb.path("out/probe/md/notes.txt")).unwrap();
    // A copy made with `cp dir/*` (no hidden marker) plus a file of the user's keeps it.
    std::fs::create_dir_all(sb.path("copy/probe/md")).unwrap();
    for e in std::fs::read_dir(sb.path("out/probe/md"))
        .unwrap()
        .flatten()
    {
        let name = e.file_name().to_string_lossy().to_string();
        if !name.starts_with('.') {
            std::fs::copy(e.path(), sb.path(&format!("copy/probe/md/{name}"))).unwrap();
        }
    }
    sb.write("copy/probe/md/notes.txt", "my notes");
    failed_with(
        &sb.tps(&["md", s, "--steps", "500", "--out", "copy"]),
        &["copy/probe/md", "notes.txt"],
    );
    assert!(sb.path("copy/probe/md/notes.txt").exists());
    assert!(sb.path("copy/probe/md/summary.json").exists());
    // A run holding the lock (this test process is alive) keeps a second one out.
    sb.write("out/probe/.md.lock", &std::process::id().to_string());
    failed_with(
        &sb.tps(&["md", s, "--steps", "500"]),
        &["another tps run", &std::process::id().to_string()],
    );
    // A lock left by a dead process is taken over.
    sb.write("out/probe/.md.lock", "999999999");
    ok(&sb.tps(&["md", s, "--steps", "500"]));
    assert!(!sb.path("out/probe/.md.lock").exists());
    // A model whose directory is a file says so.
    let blocked = sb.write("blocked", "");
    let mb = sb.write(
        "mb.toml",
        &MB.replace(
            "absent.tpsmodel",
            &format!("{}/m.tpsmodel", blocked.display()),
        ),
    );
    failed_with(
        &sb.tps(&["train", mb.to_str().unwrap()]),
        &["blocked", "is a file"],
    );
}

#[test]
fn help_about_help_and_every_command_works() {
    let sb = Sandbox::new("help2");
    for args in [vec!["help", "--help"], vec!["help", "sample"], vec!["help"]] {
        let o = sb.tps(&args);
        ok(&o);
        assert!(stdout(&o).contains("Usage"), "{args:?}");
    }
    assert!(stdout(&sb.tps(&["help", "sample"])).contains("Usage: tps sample"));
    failed_with(&sb.tps(&["help", "nothing"]), &["nothing"]);
}

#[test]
fn a_training_that_fails_at_publishing_replaces_nothing() {
    let sb = Sandbox::new("publish");
    let tiny = "[metadynamics]\npace = 250\ncheck_steps = 1000\n[sampling]\nchains = 2\nreplicas = 4\n\
                steps = 500\nburn_in = 100\n[model]\nhidden = 16\nblocks = 1\nembedding = 8\n\
                path = \"m/model.tpsmodel\"\n[training]\nsteps = 20\nbatch = 64\n";
    let sys = molecule(&sb, tiny);
    let s = sys.to_str().unwrap();
    ok(&sb.tps(&["train", s, "--seed", "1"]));
    let before: Vec<Vec<u8>> = ["fes.dat", "fes_relaxed.dat", "fes_check.dat"]
        .iter()
        .map(|f| std::fs::read(sb.path(f)).unwrap())
        .collect();
    // The model cannot be replaced (a directory holding a file stands where it goes): the
    // surfaces made by the second run must not replace the first run's either.
    std::fs::remove_file(sb.path("m/model.tpsmodel")).unwrap();
    sb.write("m/model.tpsmodel/keep", "");
    let o = sb.tps(&["train", s, "--seed", "2"]);
    failed_with(&o, &["model.tpsmodel"]);
    for (f, b) in ["fes.dat", "fes_relaxed.dat", "fes_check.dat"]
        .iter()
        .zip(&before)
    {
        assert_eq!(&std::fs::read(sb.path(f)).unwrap(), b, "{f} was replaced");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&sb.dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.contains(".new") || n.contains(".old"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
