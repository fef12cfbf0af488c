//! The integration tests that run the `tps` binary or a trained model, in one test binary.
//!
//! burn fixes a backend's float precision per process (`tps::compute::device`), so the tests
//! run in two binaries, one per precision: this one in f32 (the precision of trained models)
//! and `tests/exact.rs` in f64 (exact references). One binary per precision, not per file:
//! cargo runs test binaries one after another, so the slow end-to-end tests of different files
//! share the cores. A new test file is declared here or in `exact.rs` (`autotests = false`);
//! `every_test_file_is_in_a_test_binary` fails otherwise.

mod common;

mod cli;
mod cli_aldp;
mod cli_cartesian;
mod cli_data;
mod cli_md;
mod committor;
mod mm_amber;
mod probe4;
mod robustness;
mod tilted;
mod training;

#[test]
fn every_test_file_is_in_a_test_binary() {
    let dir = std::path::Path::new(common::ROOT).join("tests");
    let roots = ["end_to_end", "exact"];
    let declared: String = roots
        .iter()
        .map(|r| std::fs::read_to_string(dir.join(format!("{r}.rs"))).unwrap())
        .collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        let Some(module) = name.strip_suffix(".rs") else {
            continue;
        };
        assert!(
            roots.contains(&module) || declared.contains(&format!("\nmod {module};\n")),
            "tests/{name} is compiled by no test binary: declare `mod {module};` in \
             tests/end_to_end.rs (f32) or tests/exact.rs (f64)"
        );
    }
}
