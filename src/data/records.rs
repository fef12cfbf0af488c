//! Which COLVAR record belongs to which trajectory frame, and the bias each frame carries.

use std::path::Path;

use crate::error::{Error, Result};
use crate::molecule::Molecule;
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
        // then from the start.
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

/// The records that stand when each record going back in time overwrites those at or after
/// its time: their row numbers, in order.
fn written_last(times: &[f64]) -> Vec<usize> {
    let mut live: Vec<usize> = Vec::with_capacity(times.len());
    for (r, &t) in times.iter().enumerate() {
        while live.last().is_some_and(|&k| times[k] >= t) {
            live.pop();
        }
        live.push(r);
    }
    live
}

/// How closely a COLVAR's variables must match the frames', rad: 0.01 for full-precision
/// formats; 0.05 for XTC and GRO, whose positions are rounded to 0.001 nm (dihedrals then
/// move by up to ~0.03 rad).
fn variable_tolerance(trajectory: &Path) -> f64 {
    let rounded = trajectory
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("xtc") || e.eq_ignore_ascii_case("gro"));
    if rounded { 0.05 } else { 0.01 }
}

/// The bias of every frame from a COLVAR whose records are matched to the trajectory's frames
/// by time; where the COLVAR also holds the variables (by name), they must be the frames' to
/// within [`variable_tolerance`], and variables in degrees are recognised as such.
pub fn bias_of(
    colvar: &Path,
    column: &str,
    values: &[Vec<f64>],
    frame_times: Option<&[f64]>,
    molecule: &Molecule,
    trajectory: &Path,
) -> Result<Matched> {
    let c = Colvar::read(colvar)?;
    let all_times = c.column("time", colvar).ok();
    // After a restart (PLUMED's RESTART, GROMACS's -append) the COLVAR goes back in time and
    // writes again: the records written last for each time are the run's.
    let live = match &all_times {
        Some(t) => written_last(t),
        None => (0..c.rows.len()).collect(),
    };
    if live.len() < c.rows.len() {
        tracing::warn!(
            "{}: the times go back (a restart): {} record(s) of the segment written over are \
             left out, the later records of those times used",
            colvar.display(),
            c.rows.len() - live.len()
        );
    }
    let times = all_times.map(|t| live.iter().map(|&r| t[r]).collect::<Vec<_>>());
    let index: Vec<usize> = match_records(
        colvar,
        live.len(),
        times.as_deref(),
        frame_times,
        values.len(),
        trajectory,
    )?
    .into_iter()
    .map(|k| live[k])
    .collect();
    let tolerance = variable_tolerance(trajectory);
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
            .find(|(_, (r, v))| crate::molecule::cv::angle_difference(*r, v[k]).abs() > tolerance)
        {
            return Err(Error::Invalid(format!(
                "{}: the record of frame {i} has {name} = {r:.4}, but frame {i} of {} has \
                 {:.4} (more than {tolerance} rad apart): the records are not the frames",
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

#[cfg(test)]
mod tests {
    use super::written_last;

    #[test]
    fn a_restart_keeps_the_records_written_last() {
        // 0..4 written, the run restarted from t = 2 and went on to 5.
        let t = [0.0, 1.0, 2.0, 3.0, 4.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(written_last(&t), vec![0, 1, 5, 6, 7, 8]);
        assert_eq!(written_last(&[0.0, 1.0, 2.0]), vec![0, 1, 2]);
    }
}
