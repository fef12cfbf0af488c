//! A tps alanine-dipeptide trajectory as mdtraj reads it (fixture from
//! tests/fixtures/check_aldp_trajectory.py): chemfiles + our dihedrals agree with mdtraj's.

use std::path::Path;

use crate::common::{ROOT as root, aldp};
use tps::molecule::{Dihedrals, chfl};

#[test]
fn dcd_dihedrals_agree_with_mdtraj() {
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{root}/tests/fixtures/aldp_path_mdtraj.json")).unwrap(),
    )
    .unwrap();
    let (top, _) = aldp();
    let frames = chfl::read(
        Path::new(&format!("{root}/tests/fixtures/aldp_path.dcd")),
        &top,
    )
    .unwrap()
    .frames;
    let cv = Dihedrals::dipeptide_backbone(&top).unwrap();
    let (phi, psi) = (
        fixture["phi"].as_array().unwrap(),
        fixture["psi"].as_array().unwrap(),
    );
    assert_eq!(frames.len(), phi.len());
    for (k, x) in frames.iter().enumerate() {
        let [a, b] = cv.values(x)[..] else {
            unreachable!()
        };
        assert!(
            tps::molecule::cv::angle_difference(a, phi[k].as_f64().unwrap()).abs() < 1e-5,
            "frame {k} φ"
        );
        assert!(
            tps::molecule::cv::angle_difference(b, psi[k].as_f64().unwrap()).abs() < 1e-5,
            "frame {k} ψ"
        );
    }
    let first = fixture["first_positions_nm"].as_array().unwrap();
    for (p, q) in frames[0].iter().zip(first) {
        for c in 0..3 {
            assert!((p[c] - q[c].as_f64().unwrap()).abs() < 1e-6);
        }
    }
    let pdb = std::fs::read_to_string(format!("{root}/tests/fixtures/aldp_topology.pdb")).unwrap();
    assert_eq!(
        pdb.lines()
            .filter(|l| l.starts_with("ATOM") || l.starts_with("HETATM"))
            .count(),
        22
    );
}
