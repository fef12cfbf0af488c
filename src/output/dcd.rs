//! A strict reader for CHARMM/NAMD DCD trajectories (what OpenMM, MDAnalysis, mdtraj, VMD and
//! chemfiles write): every record marker and the frame count in the header are checked, so a
//! truncated file or a header without frames is an error rather than a silent half-read or an
//! allocation failure, and a file whose unit cell is all zeros (as MDAnalysis writes for
//! systems without a box) reads like any other.

use std::path::Path;

use crate::error::{Error, Result};

/// The frames of a DCD file: positions as stored (Å), `[frame][atom]`.
#[derive(Debug, Clone)]
pub struct Dcd {
    /// Atom count.
    pub atoms: usize,
    /// Positions of every frame, Å.
    pub frames: Vec<Vec<[f64; 3]>>,
    /// Unit cell lengths (Å) of every frame where the file has a non-zero cell.
    pub cells: Vec<Option<[f64; 3]>>,
    /// Time between frames (ps) as the header records it (`DELTA × NSAVC` in AKMA units);
    /// 0 when the file records none.
    pub frame_interval_ps: f64,
    /// Time of the first frame (ps), `ISTART × DELTA` (0 when the file records none).
    pub first_frame_ps: f64,
}

/// One AKMA time unit (the unit of a DCD header's `DELTA`) in ps.
pub const AKMA_PS: f64 = 0.048_888_212_9;

/// Records in the header of the DCD file at `path` that its frames are `interval` MD steps of
/// `timestep_ps` apart (`ISTART = NSAVC = interval`, `NSTEP = frames × interval`, `DELTA` in
/// AKMA units, as OpenMM writes them), so that readers report the true time between frames.
pub fn set_frame_interval(path: &Path, timestep_ps: f64, interval: u64) -> Result<()> {
    let mut bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let dcd = parse(&bytes, path)?;
    let big_endian = i32::from_le_bytes(bytes[..4].try_into().expect("4 bytes")) != 84;
    let int = |v: i64| {
        let v = i32::try_from(v).unwrap_or(i32::MAX);
        if big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let interval = interval as i64;
    // icntrl[k] sits at byte 8 + 4k (record marker, then `CORD`).
    bytes[12..16].copy_from_slice(&int(interval));
    bytes[16..20].copy_from_slice(&int(interval));
    bytes[20..24].copy_from_slice(&int(dcd.frames.len() as i64 * interval));
    let delta = (timestep_ps / AKMA_PS) as f32;
    bytes[44..48].copy_from_slice(&if big_endian {
        delta.to_be_bytes()
    } else {
        delta.to_le_bytes()
    });
    crate::atomic::write(path, &bytes)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    big_endian: bool,
    path: &'a Path,
}

impl Reader<'_> {
    fn bad(&self, message: impl std::fmt::Display) -> Error {
        Error::parse(self.path, format!("DCD byte {}: {message}", self.at))
    }

    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let slice = self
            .bytes
            .get(self.at..self.at + n)
            .ok_or_else(|| self.bad("the file ends in the middle of a record (truncated?)"))?;
        self.at += n;
        Ok(slice)
    }

    fn i32(&mut self) -> Result<i32> {
        let b: [u8; 4] = self.take(4)?.try_into().expect("4 bytes");
        Ok(if self.big_endian {
            i32::from_be_bytes(b)
        } else {
            i32::from_le_bytes(b)
        })
    }

    /// A Fortran record: its length marker, body and matching end marker.
    fn record(&mut self) -> Result<&[u8]> {
        let len = self.i32()?;
        let len = usize::try_from(len).map_err(|_| self.bad(format!("record length {len}")))?;
        let start = self.at;
        self.take(len)?;
        let end = self.i32()?;
        if usize::try_from(end).ok() != Some(len) {
            return Err(self.bad(format!(
                "record markers disagree ({len} then {end}): not a DCD file, or corrupt"
            )));
        }
        Ok(&self.bytes[start..start + len])
    }

    fn f32s(&self, body: &[u8]) -> Vec<f64> {
        body.chunks_exact(4)
            .map(|c| {
                let b: [u8; 4] = c.try_into().expect("4 bytes");
                f64::from(if self.big_endian {
                    f32::from_be_bytes(b)
                } else {
                    f32::from_le_bytes(b)
                })
            })
            .collect()
    }

    fn f64s(&self, body: &[u8]) -> Vec<f64> {
        body.chunks_exact(8)
            .map(|c| {
                let b: [u8; 8] = c.try_into().expect("8 bytes");
                if self.big_endian {
                    f64::from_be_bytes(b)
                } else {
                    f64::from_le_bytes(b)
                }
            })
            .collect()
    }
}

/// Reads a DCD file.
pub fn read(path: &Path) -> Result<Dcd> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse(&bytes, path)
}

/// Parses the bytes of a DCD file (`path` names it in errors).
pub fn parse(bytes: &[u8], path: &Path) -> Result<Dcd> {
    let first: [u8; 4] = bytes
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::parse(path, "not a DCD file: shorter than its header"))?;
    let big_endian = match (i32::from_le_bytes(first), i32::from_be_bytes(first)) {
        (84, _) => false,
        (_, 84) => true,
        _ => {
            return Err(Error::parse(
                path,
                "not a DCD file (the first record is not the 84-byte CORD header)",
            ));
        }
    };
    let mut r = Reader {
        bytes,
        at: 0,
        big_endian,
        path,
    };
    let header = r.record()?.to_vec();
    if &header[..4] != b"CORD" {
        return Err(r.bad("not a coordinate DCD (no CORD tag)"));
    }
    // A header word in little-endian order, whatever the file's.
    let word = |c: &[u8]| -> [u8; 4] {
        let mut b: [u8; 4] = c.try_into().expect("4 bytes");
        if big_endian {
            b.reverse();
        }
        b
    };
    let icntrl: Vec<i32> = header[4..84]
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes(word(c)))
        .collect();
    let declared = icntrl[0];
    let delta = f64::from(f32::from_le_bytes(word(&header[40..44])));
    let frame_interval_ps = delta * f64::from(icntrl[2]) * AKMA_PS;
    let first_frame_ps = delta * f64::from(icntrl[1]) * AKMA_PS;
    let fixed = icntrl[8];
    let has_cell = icntrl[10] != 0;
    if icntrl[11] != 0 {
        return Err(r.bad("4-D DCD files are not supported"));
    }
    r.record()?; // titles
    let natoms_record = r.record()?.to_vec();
    if natoms_record.len() != 4 {
        return Err(r.bad("the atom-count record is not 4 bytes"));
    }
    let atoms = {
        let n = i32::from_le_bytes(word(&natoms_record));
        usize::try_from(n)
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| r.bad(format!("atom count {n}")))?
    };
    if fixed != 0 {
        return Err(r.bad("DCD files with fixed atoms are not supported"));
    }
    let frame_bytes = (if has_cell { 56 } else { 0 }) + 3 * (8 + 4 * atoms);
    let body = bytes.len() - r.at;
    let count = body / frame_bytes;
    if !body.is_multiple_of(frame_bytes) {
        return Err(Error::parse(
            path,
            format!(
                "DCD: {count} whole frames of {atoms} atoms and {} stray bytes: the file is \
                 truncated or corrupt",
                body % frame_bytes
            ),
        ));
    }
    if declared > 0 && usize::try_from(declared).ok() != Some(count) {
        return Err(Error::parse(
            path,
            format!(
                "DCD: the header declares {declared} frames but the file holds {count}: truncated?"
            ),
        ));
    }
    if count == 0 {
        return Err(Error::parse(path, "DCD: the file holds no frames"));
    }
    let mut frames = Vec::with_capacity(count);
    let mut cells = Vec::with_capacity(count);
    for _ in 0..count {
        cells.push(if has_cell { read_cell(&mut r)? } else { None });
        frames.push(read_positions(&mut r, atoms)?);
    }
    Ok(Dcd {
        atoms,
        frames,
        cells,
        frame_interval_ps,
        first_frame_ps,
    })
}

/// A frame's unit cell record: its lengths (Å), or `None` for an all-zero cell (no box).
fn read_cell(r: &mut Reader) -> Result<Option<[f64; 3]>> {
    let body = r_record(r, 48)?;
    let c = r.f64s(body);
    // CHARMM order: a, γ, b, β, α, c.
    let lengths = [c[0], c[2], c[5]];
    Ok((lengths.iter().any(|v| *v != 0.0)).then_some(lengths))
}

/// A frame's x, y and z records as positions (Å).
fn read_positions(r: &mut Reader, atoms: usize) -> Result<Vec<[f64; 3]>> {
    let mut xyz = Vec::with_capacity(3);
    for _ in 0..3 {
        let body = r_record(r, 4 * atoms)?;
        xyz.push(r.f32s(body));
    }
    Ok((0..atoms)
        .map(|i| [xyz[0][i], xyz[1][i], xyz[2][i]])
        .collect())
}

/// A record that must have `len` bytes.
fn r_record<'a>(r: &mut Reader<'a>, len: usize) -> Result<&'a [u8]> {
    let at = r.at;
    let found = r.record()?.len();
    if found != len {
        return Err(Error::parse(
            r.path,
            format!("DCD byte {at}: a record of {found} bytes where {len} were expected"),
        ));
    }
    // Re-borrow from the underlying bytes for the caller's lifetime.
    Ok(&r.bytes[r.at - 4 - len..r.at - 4])
}
