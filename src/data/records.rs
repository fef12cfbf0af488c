//! Which COLVAR record belongs to which trajectory frame, and the bias each frame carries.

use std::path::Path;

use crate::error::{Error, Result};
use crate::mm::Molecule;
use crate::output::colvar::Colvar;

/// The bias of every frame, and how many records had no frame.
pub struct Matched {
    pub bias: Vec<f64>,
    pub dropped: usize,
}

/// Which record of a COLVAR is each of `frames` frames: by time where the trajectory records
/// its frames' times (DCD headers); else by count, a record at t = 0 without a frame (PLUMED
/// prints one at step 0, trajectory writers do not) and a COLVAR written a whole number of
/// times more often than the frames being recognised by the COLVAR's own times.
fn match_records(
    colvar: &Path,
    records: usize,
    times: Option<&[f64]>,
    frame_times: Option<&[f64]>,
    frames: usize,
    trajectory: &Path,
) -> Result<Vec<usize>> {
    let cannot = |why: String| {
        Error::Invalid(format!(
            "{}: its records cannot be matched to the {frames} frames of {}: {why}",
            colvar.display(),
            trajectory.display()
        ))
    };
    if let (Some(t), Some(f)) = (times, frame_times) {
        let spacing = t
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .filter(|d| *d > 0.0)
            .fold(f64::INFINITY, f64::min);
        let tolerance = if spacing.is_finite() {
            0.25 * spacing
        } else {
            1e-6
        };
        // Both run forward in time: each frame's record is sought from the last one matched,
        // then from the start (a COLVAR whose times go back, as after a restart).
        let mut from = 0;
        return f
            .iter()
            .enumerate()
            .map(|(i, ft)| {
                let at = |r: &f64| (r - ft).abs() <= tolerance;
                let k = t[from..]
                    .iter()
                    .position(at)
                    .map(|k| from + k)
                    .or_else(|| t.iter().position(at))
                    .ok_or_else(|| cannot(format!("no record at t = {ft:.3} ps (frame {i})")))?;
                from = k;
                Ok(k)
            })
            .collect();
    }
    if records == frames {
        return Ok((0..frames).collect());
    }
    let Some(t) = times else {
        return Err(cannot(format!("{records} records and no `time` column")));
    };
    let offset = usize::from(records == frames + 1 || (t.len() > 1 && t[0] <= 0.0));
    let per_frame = (records - offset) / frames.max(1);
    if per_frame >= 1 && per_frame * frames == records - offset {
        // Records at a uniform finer stride: the frame's is the last of its block.
        let uniform = t[offset..].windows(2).all(|w| {
            ((w[1] - w[0]) - (t[offset + 1] - t[offset])).abs() < 1e-6 * (1.0 + w[1].abs())
        });
        if uniform {
            return Ok((0..frames)
                .map(|i| offset + (i + 1) * per_frame - 1)
                .collect());
        }
    }
    Err(cannot(format!(
        "{records} records are not one per frame, one per frame after a record at t = 0, or a \
         whole number per frame; write both at matching strides"
    )))
}

/// The bias of every frame from a COLVAR whose records are matched to the trajectory's frames
/// by time; where the COLVAR also holds the variables (by name), they must be the frames' to
/// 0.01 rad, and variables in degrees are recognised as such.
pub fn bias_of(
    colvar: &Path,
    column: &str,
    values: &[Vec<f64>],
    frame_times: Option<&[f64]>,
    molecule: &Molecule,
    trajectory: &Path,
) -> Result<Matched> {
    let c = Colvar::read(colvar)?;
    let times = c.column("time", colvar).ok();
    let index = match_records(
        colvar,
        c.rows.len(),
        times.as_deref(),
        frame_times,
        values.len(),
        trajectory,
    )?;
    for (k, name) in molecule.cv.names.iter().enumerate() {
        let Ok(recorded) = c.column(name, colvar) else {
            continue;
        };
        let largest = recorded.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if largest > std::f64::consts::PI + 1e-3 && largest <= 180.0 + 1e-6 {
            return Err(Error::Invalid(format!(
                "{}: column `{name}` holds values up to {largest:.2}: degrees, where tps \
                 (and PLUMED) write radians; convert the column to rad",
                colvar.display()
            )));
        }
        if let Some((i, (r, v))) = index
            .iter()
            .map(|&r| recorded[r])
            .zip(values)
            .enumerate()
            .find(|(_, (r, v))| crate::mm::cv::angle_difference(*r, v[k]).abs() > 0.01)
        {
            return Err(Error::Invalid(format!(
                "{}: the record of frame {i} has {name} = {r:.4}, but frame {i} of {} has \
                 {:.4}: the records are not the frames",
                colvar.display(),
                trajectory.display(),
                v[k]
            )));
        }
    }
    let bias = c.column(column, colvar)?;
    Ok(Matched {
        bias: index.iter().map(|&r| bias[r]).collect(),
        dropped: c.rows.len() - index.len(),
    })
}
