//! The fourth probe: inputs that panicked, allocated without bound or were taken silently,
//! each now refused with the flag or field named and exit status 1.

use crate::common::{Sandbox, failed_with, muller_brown};

#[test]
fn more_shards_than_paths_is_refused_before_any_work() {
    let sb = Sandbox::new("shards");
    let mb = muller_brown(&sb, ("", ""));
    let o = sb.tps(&[
        "sample", &mb, "--from", "A", "--to", "B", "--paths", "8", "--shard", "0/100",
    ]);
    failed_with(&o, &["--shard 0/100", "8 paths"]);
    assert!(!sb.path("out").exists(), "nothing written");
}

#[test]
fn unbounded_sizes_are_refused_naming_the_flag_or_field() {
    let sb = Sandbox::new("sizes");
    let mb = muller_brown(&sb, ("", ""));
    for paths in ["1000000000", "18446744073709551615"] {
        let o = sb.tps(&["sample", &mb, "--from", "A", "--to", "B", "--paths", paths]);
        failed_with(&o, &["--paths", paths, "--shard"]);
    }
    let o = sb.tps(&[
        "compare",
        &mb,
        "--from",
        "A",
        "--to",
        "B",
        "--paths",
        "1000000000",
    ]);
    failed_with(&o, &["--paths"]);
    for nodes in ["nodes = 127", "nodes = 1000000"] {
        let mb = muller_brown(&sb, ("nodes = 10", nodes));
        let o = sb.tps(&["sample", &mb, "--from", "A", "--to", "B"]);
        failed_with(
            &o,
            &["mb.toml", "geodesic.nodes", "at most points − 2 = 126"],
        );
    }
    let mb = muller_brown(&sb, ("paths = 8", "paths = 2000000"));
    let o = sb.tps(&["sample", &mb, "--from", "A", "--to", "B"]);
    failed_with(&o, &["mb.toml", "transition.paths", "at most 1000000"]);
}

#[test]
fn an_argument_that_is_not_utf8_is_no_panic() {
    use std::os::unix::ffi::OsStrExt;
    let sb = Sandbox::new("utf8");
    let name = std::ffi::OsStr::from_bytes(b"sys\xff.toml");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tps"))
        .arg("barrier")
        .arg(name)
        .args(["--from", "A", "--to", "B"])
        .current_dir(&sb.dir)
        .output()
        .unwrap();
    failed_with(&o, &["sys"]);
}
