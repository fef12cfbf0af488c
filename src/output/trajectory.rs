//! Trajectory files through chemfiles: the atomic writer every trajectory goes through, a
//! reader that does not trust frame counts, and trajectories of low-dimensional points.
//!
//! A point `(x₁, …, x_D)` becomes ⌈D/3⌉ pseudo-atoms holding consecutive coordinate triples
//! (a 2-D point is one atom at `(x, y, 0)`), so VMD, MDAnalysis or mdtraj open the result.

use std::path::{Path, PathBuf};
use std::sync::Once;

use chemfiles::{Atom, Frame, Residue, Trajectory};

use crate::error::{Error, Result};

/// Sends chemfiles' format warnings nowhere: `tps` reports its own.
pub fn quiet() {
    static ONCE: Once = Once::new();
    // chemfiles prints format warnings (e.g. PDB templates) to stderr; tps reports its own.
    ONCE.call_once(|| chemfiles::set_warning_callback(|_| {}));
}

fn frame_of(point: &[f64]) -> Frame {
    let mut frame = Frame::new();
    let atoms = point.len().div_ceil(3).max(1);
    for a in 0..atoms {
        let mut pos = [0.0; 3];
        for (k, p) in pos.iter_mut().enumerate() {
            *p = point.get(3 * a + k).copied().unwrap_or(0.0);
        }
        frame.add_atom(&Atom::new("X"), pos, None);
    }
    let mut residue = Residue::new("PTH");
    for a in 0..atoms {
        residue.add_atom(a);
    }
    frame
        .add_residue(&residue)
        .expect("a fresh frame accepts a residue");
    frame
}

fn temporary(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp{}", std::process::id()))
}

/// Writes chemfiles frames to `path` in `format` through a temporary file renamed into place;
/// PDB files lose chemfiles' zero `CRYST1` record (no box) and its empty `CONECT` records, and
/// no file is left executable.
pub fn write_frames(
    path: &Path,
    format: &str,
    count: usize,
    mut frame: impl FnMut(usize) -> std::result::Result<Frame, chemfiles::Error>,
) -> Result<()> {
    quiet();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let tmp = temporary(path);
    let result = (|| -> std::result::Result<(), chemfiles::Error> {
        let mut trajectory = Trajectory::open_with_format(&tmp, 'w', format)?;
        for step in 0..count {
            let mut f = frame(step)?;
            f.set_step(step);
            trajectory.write(&f)?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, std::io::Error::other(e.to_string())));
    }
    if format == "PDB" {
        tidy_pdb(&tmp).map_err(|e| Error::io(path, e))?;
    }
    set_plain_permissions(&tmp).map_err(|e| Error::io(path, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Drops a `CRYST1` record of a zero cell and `CONECT` records without partners.
fn tidy_pdb(path: &Path) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| {
            let zero_cell = l.starts_with("CRYST1")
                && l.get(6..33)
                    .is_some_and(|c| c.split_whitespace().all(|v| v.parse() == Ok(0.0)));
            let empty_conect = l.starts_with("CONECT") && l.split_whitespace().count() <= 2;
            !zero_cell && !empty_conect
        })
        .collect();
    std::fs::write(path, kept.join("\n") + "\n")
}

#[cfg(unix)]
fn set_plain_permissions(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_plain_permissions(_: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Writes `frames` to `path` in chemfiles `format` (`"DCD"`, `"XYZ"`, `"PDB"`), atomically.
pub fn write_points(path: &Path, format: &str, frames: &[Vec<f64>]) -> Result<()> {
    write_frames(path, format, frames.len(), |k| Ok(frame_of(&frames[k])))
}

/// Every frame's atom positions as the file stores them, with the atoms' names and element
/// symbols where the format records them (empty strings where it does not). DCD files go
/// through the strict reader of [`super::dcd`]; other formats through chemfiles, without
/// trusting its frame count for allocation.
pub fn read_frames(path: &Path) -> Result<ReadFrames> {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("dcd"))
    {
        let d = super::dcd::read(path)?;
        let times = (d.frame_interval_ps > 0.0).then(|| {
            (0..d.frames.len())
                .map(|i| d.first_frame_ps + i as f64 * d.frame_interval_ps)
                .collect()
        });
        return Ok(ReadFrames {
            names: vec![String::new(); d.atoms],
            elements: vec![String::new(); d.atoms],
            residues: vec![String::new(); d.atoms],
            frames: d.frames,
            times_ps: times,
        });
    }
    quiet();
    check_text(path)?;
    let to_err = |e: chemfiles::Error| Error::parse(path, e.to_string());
    let mut trajectory = Trajectory::open(path, 'r').map_err(to_err)?;
    let n = trajectory.nsteps();
    let size = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    if n == 0 || n as u64 > size {
        return Err(Error::parse(
            path,
            format!("holds no readable frames (chemfiles counts {n})"),
        ));
    }
    let mut out = ReadFrames {
        frames: Vec::new(),
        names: Vec::new(),
        elements: Vec::new(),
        residues: Vec::new(),
        times_ps: None,
    };
    let mut frame = Frame::new();
    for k in 0..n {
        trajectory
            .read(&mut frame)
            .map_err(|e| Error::parse(path, format!("frame {k}: {e}")))?;
        if k == 0 {
            let topology = frame.topology();
            for i in 0..frame.size() {
                let atom = frame.atom(i);
                out.names.push(atom.name());
                out.elements.push(atom.atomic_type());
                out.residues.push(
                    topology
                        .residue_for_atom(i)
                        .map_or_else(String::new, |r| r.name()),
                );
            }
        } else if frame.size() == 0 && k + 1 == n {
            // A multi-model PDB (MDAnalysis, mdtraj) ends in CONECT/END records that chemfiles
            // counts as one more, empty, model: not a frame.
            break;
        } else if frame.size() != out.names.len() {
            return Err(Error::parse(
                path,
                format!(
                    "frame {k} has {} atoms, frame 0 has {}",
                    frame.size(),
                    out.names.len()
                ),
            ));
        }
        out.frames.push(frame.positions().to_vec());
    }
    Ok(out)
}

/// Formats chemfiles reads as text, by extension.
const TEXT_FORMATS: [&str; 12] = [
    "xyz",
    "pdb",
    "ent",
    "gro",
    "mol2",
    "sdf",
    "cif",
    "mmcif",
    "arc",
    "cssr",
    "lammpstrj",
    "cml",
];

/// Refuses a file of a text format that is not text: chemfiles would quote its bytes in an
/// error message that is not valid UTF-8, and its Rust binding panics on that.
fn check_text(path: &Path) -> Result<()> {
    let text_format = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| TEXT_FORMATS.contains(&e.as_str()));
    if !text_format {
        return Ok(());
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let control = |b: &u8| *b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c);
    if let Some(k) = bytes.iter().position(control) {
        return Err(Error::parse(
            path,
            format!(
                "holds a control byte ({:#04x} at byte {k}): not a text file, but its \
                 extension names a text format",
                bytes[k]
            ),
        ));
    }
    // PDB remarks written in another encoding (Latin-1) are read past: only the records whose
    // names tps reads must be UTF-8.
    let pdb = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pdb") || e.eq_ignore_ascii_case("ent"));
    let mut offset = 0;
    for (k, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let read_by_tps = !pdb || line.starts_with(b"ATOM") || line.starts_with(b"HETATM");
        if read_by_tps && let Err(e) = std::str::from_utf8(line) {
            return Err(Error::parse(
                path,
                format!(
                    "line {}: byte {} is not UTF-8 text{}",
                    k + 1,
                    offset + e.valid_up_to(),
                    if pdb {
                        " in an atom record"
                    } else {
                        " (is this a text file? its extension names a text format)"
                    }
                ),
            ));
        }
        offset += line.len() + 1;
    }
    Ok(())
}

/// Frames read from a file.
#[derive(Debug, Clone)]
pub struct ReadFrames {
    /// Positions as stored (Å for molecular formats), `[frame][atom]`.
    pub frames: Vec<Vec<[f64; 3]>>,
    /// Atom names, where the format has them.
    pub names: Vec<String>,
    /// Element symbols (chemfiles' atomic types), where the format has them.
    pub elements: Vec<String>,
    /// Residue name of every atom, where the format has residues (empty otherwise).
    pub residues: Vec<String>,
    /// Time of every frame (ps), where the file records it (DCD headers).
    pub times_ps: Option<Vec<f64>>,
}

/// Reads the positions of every frame (all atoms, flattened `x y z` per atom).
pub fn read_positions(path: &Path) -> Result<Vec<Vec<f64>>> {
    Ok(read_frames(path)?
        .frames
        .into_iter()
        .map(|f| f.into_iter().flatten().collect())
        .collect())
}
