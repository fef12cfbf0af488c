//! `tps committor` end to end: on a finished run's frames and on a user's, the same seed giving
//! the same numbers, the run left as it was, and every input that cannot give a committor
//! refused with a clear error (the shooting and its statistics against the closed form are
//! unit tests of `tps::workflows::committor`).

use crate::common::{ROOT, Sandbox, failed_with, json, muller_brown, ok};

#[test]
fn a_runs_frames_are_shot_from_and_the_run_is_left_as_it_was() {
    let sb = Sandbox::new("committor-run");
    let (mb, run) = reference_run(&sb);
    let before = std::fs::read(run.join("summary.json")).unwrap();
    let shoot = |extra: &[&str]| shoot(&sb, &run, extra);
    ok(&shoot(&[]));
    let c = json(&run.join("committor/committor.json"));
    assert_eq!(
        c["frames"].as_array().unwrap().len(),
        4,
        "one top frame per path"
    );
    for f in c["frames"].as_array().unwrap() {
        let (to, from) = (f["to"].as_u64().unwrap(), f["from"].as_u64().unwrap());
        assert_eq!(to + from + f["undecided"].as_u64().unwrap(), 40);
        let p = f["p_b"].as_f64().unwrap();
        assert!((p - to as f64 / (to + from) as f64).abs() < 1e-12);
    }
    assert!(run.join("committor/committor.png").exists());
    assert!(run.join("committor/committor.csv").exists());
    // `tps compare --committor` shoots from the same tops with the same streams: the same
    // histogram as `tps committor` on the run of that route and seed.
    let compare = [
        "compare",
        &mb,
        "--from",
        "A",
        "--to",
        "B",
        "--routes",
        "reference",
        "--seeds",
        "0",
        "--paths",
        "4",
        "--committor",
        "--shots",
        "40",
    ];
    ok(&sb.tps(&compare));
    let dir = sb.path("out/muller_brown/compare-A-B");
    let row = &json(&dir.join("compare.json"))["routes"][0]["committor"];
    assert_eq!(row["per_seed"][0], c["transition_states"]);
    assert_eq!(row["undecided"], c["undecided"]);
    assert!(dir.join("compare_committor.png").exists());
    let mut no_shots = compare.to_vec();
    no_shots[compare.len() - 1] = "0";
    failed_with(&sb.tps(&no_shots), &["--shots"]);
    assert_eq!(std::fs::read(run.join("summary.json")).unwrap(), before);
    // Same seed, same numbers.
    let first = std::fs::read_to_string(run.join("committor/committor.csv")).unwrap();
    ok(&shoot(&[]));
    assert_eq!(
        std::fs::read_to_string(run.join("committor/committor.csv")).unwrap(),
        first
    );
    // Frames along the paths: a path starts where p_B is 0.
    ok(&shoot(&["--select", "every:4000", "--seed", "3"]));
    let c = json(&run.join("committor/committor.json"));
    let frames = c["frames"].as_array().unwrap();
    assert!(frames.len() > 8);
    let first_p = frames[0]["p_b"].as_f64().unwrap();
    assert!(first_p < 0.1, "a path starts in A: p_B {first_p}");
    // The run can be replaced with its committor beside it.
    ok(&sb.tps(&reference_sample(&mb)));
    // Refused: no shots, a nonsense selection, a time so short that nothing commits.
    failed_with(&shoot(&["--shots", "0"]), &["--shots"]);
    failed_with(&shoot(&["--select", "middle"]), &["--select", "middle"]);
    failed_with(
        &shoot(&["--select", "top", "--max-time", "0.0005"]),
        &["no shot", "--max-time"],
    );
    // A directory that is no run, and a run that kept no trajectory.
    failed_with(
        &sb.tps(&["committor", "nowhere"]),
        &["nowhere", "not the output directory of a `tps sample` run"],
    );
    // A run that kept no trajectory has no frames.
    let mut bare = reference_sample(&mb);
    bare.extend(["--max-trajectories", "0", "--out", "bare"]);
    ok(&sb.tps(&bare));
    failed_with(
        &sb.tps(&["committor", "bare/muller_brown/A-B"]),
        &["wrote no trajectory", "--max-trajectories"],
    );
}

#[test]
fn shards_of_a_committor_merged_are_the_whole_run_frame_for_frame() {
    let sb = Sandbox::new("committor-shards");
    let (_, run) = reference_run(&sb);
    let shoot = |extra: &[&str]| shoot(&sb, &run, extra);
    // Shards of the frames, merged: the unsharded run's numbers, frame for frame.
    ok(&shoot(&["--select", "every:4000", "--seed", "3"]));
    let whole = std::fs::read_to_string(run.join("committor/committor.csv")).unwrap();
    for k in 0..3 {
        let shard = format!("{k}/3");
        ok(&shoot(&[
            "--select",
            "every:4000",
            "--seed",
            "3",
            "--shard",
            &shard,
        ]));
    }
    let part = |k: usize| {
        run.join(format!("committor-shard-{k}-of-3"))
            .to_str()
            .unwrap()
            .to_string()
    };
    failed_with(
        &sb.tps(&["merge", &part(0), &part(2)]),
        &["shard 1 of 3", "missing"],
    );
    ok(&sb.tps(&["merge", &part(0), &part(1), &part(2)]));
    assert_eq!(
        std::fs::read_to_string(run.join("committor/committor.csv")).unwrap(),
        whole
    );
    for k in 0..3 {
        std::fs::remove_dir_all(part(k)).unwrap();
    }
}

/// The arguments of `tps sample` on the Müller–Brown file `mb`: four paths by the reference
/// route from A to B.
fn reference_sample(mb: &str) -> Vec<&str> {
    vec![
        "sample",
        mb,
        "--from",
        "A",
        "--to",
        "B",
        "--route",
        "reference",
        "--paths",
        "4",
    ]
}

/// The shipped Müller–Brown written into `sb` and a finished run of [`reference_sample`] on it:
/// its system file and its output directory.
fn reference_run(sb: &Sandbox) -> (String, std::path::PathBuf) {
    let mb = muller_brown(sb, ("", ""));
    ok(&sb.tps(&reference_sample(&mb)));
    (mb, sb.path("out/muller_brown/A-B"))
}

/// `tps committor` on `run` with `extra` arguments (40 shots unless they say otherwise).
fn shoot(sb: &Sandbox, run: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["committor", run.to_str().unwrap()];
    args.extend(extra);
    if !extra.contains(&"--shots") {
        args.extend(["--shots", "40"]);
    }
    sb.tps(&args)
}

#[test]
fn a_users_frames_are_shot_from_on_a_surface() {
    let sb = Sandbox::new("committor-frames");
    let mb = muller_brown(&sb, ("", ""));
    // A, the saddle between A and C, and B: p_B ≈ 0, in between, 1.
    sb.write(
        "points.csv",
        "x1,x2\n-0.558,1.442\n-0.822,0.624\n0.623,0.028\n",
    );
    ok(&sb.tps(&[
        "committor",
        &mb,
        "--from",
        "A",
        "--to",
        "B",
        "--frames",
        "points.csv",
        "--shots",
        "50",
    ]));
    let c = json(&sb.path("out/muller_brown/committor-A-B/committor.json"));
    let p: Vec<f64> = c["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["p_b"].as_f64().unwrap())
        .collect();
    assert_eq!(p[0], 0.0, "A's core commits at once");
    assert_eq!(p[2], 1.0);
    assert!(
        p[1] > 0.0 && p[1] < 1.0,
        "the saddle commits both ways: {p:?}"
    );
    failed_with(
        &sb.tps(&[
            "committor",
            &mb,
            "--from",
            "A",
            "--to",
            "B",
            "--frames",
            "points.csv",
            "--select",
            "top",
        ]),
        &["--select"],
    );
    sb.write("bad.csv", "x1,x2\n0.1,0.2,0.3\n");
    failed_with(
        &sb.tps(&[
            "committor",
            &mb,
            "--from",
            "A",
            "--to",
            "B",
            "--frames",
            "bad.csv",
        ]),
        &["bad.csv", "line 2", "expected 2"],
    );
}

#[test]
fn a_users_frames_of_a_molecule_are_shot_from_and_other_molecules_refused() {
    let sb = Sandbox::new("committor-molecule");
    // A molecule: its shipped structure sits in C7eq's core.
    let aldp = format!("{ROOT}/systems/aldp.toml");
    ok(&sb.tps(&[
        "committor",
        &aldp,
        "--from",
        "C7eq",
        "--to",
        "C7ax",
        "--frames",
        &format!("{ROOT}/systems/aldp/aldp.pdb"),
        "--shots",
        "4",
        "--max-time",
        "0.05",
    ]));
    let c = json(&sb.path("out/aldp/committor-C7eq-C7ax/committor.json"));
    assert_eq!(c["frames"][0]["from"], 4);
    assert!(
        c["dynamics"]
            .as_str()
            .unwrap()
            .contains("Maxwell–Boltzmann")
    );
    // Frames of another molecule are refused by their atoms.
    failed_with(
        &sb.tps(&[
            "committor",
            &aldp,
            "--from",
            "C7eq",
            "--to",
            "C7ax",
            "--frames",
            &format!("{ROOT}/systems/glycine/glycine.pdb"),
        ]),
        &["glycine.pdb", "atoms"],
    );
}
