//! Outputs that are never half-written and never cost the previous result.
//!
//! * [`write`](fn@write): a whole file through a temporary file in the same directory,
//!   renamed over the target.
//! * [`Staged`]: a whole directory written as a hidden sibling `.NAME.partial-PID` and swapped
//!   in by [`Staged::publish`]: the old directory is renamed aside, the new one renamed in, then
//!   the old one deleted. A kill at any moment leaves either the old or the new directory in
//!   place; leftovers of dead processes are cleaned up (or, for an old directory whose
//!   replacement never arrived, restored) the next time that directory is staged. An interrupt
//!   (Ctrl-C, SIGTERM) removes the staging directories of the running command before it exits.
//!   A directory carries a `.tps-output` marker listing what tps wrote in it: a directory
//!   without one, or holding files tps did not write, is never replaced (a sub-directory that
//!   is itself a tps result, with nothing foreign in it, counts as tps's); and a lock file
//!   next to the target keeps two runs from writing it at once.
//! * [`write_together`]: several files that belong together (a model and its surfaces) all
//!   replaced, or none.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Staging directories of this process, removed on an interrupt.
static ACTIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Installs the handler of Ctrl-C and SIGTERM (what `kill` and `timeout` send) that removes
/// this process's staging directories and exits with status 130. Call once, from the binary.
pub fn clean_up_on_interrupt() {
    let _ = ctrlc::set_handler(|| {
        if let Ok(paths) = ACTIVE.lock() {
            for p in paths.iter() {
                if p.is_dir() {
                    let _ = std::fs::remove_dir_all(p);
                } else {
                    let _ = std::fs::remove_file(p);
                }
            }
        }
        eprintln!("error: {}", Error::Interrupted);
        std::process::exit(130);
    });
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

fn file_name(path: &Path) -> Result<String> {
    path.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .ok_or_else(|| Error::Invalid(format!("{} is not a file path", path.display())))
}

/// Writes `bytes` to `path` atomically, creating parent directories.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = parent_of(path);
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let tmp = dir.join(format!(".{}.tmp{}", file_name(path)?, std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    Ok(())
}

/// Writes every `(path, bytes)` so that all are replaced or none: each goes to a temporary
/// file first; then the old files are renamed aside, the new ones renamed in, and on any
/// failure the old ones are put back.
pub fn write_together(files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    let pid = std::process::id();
    let mut temporaries = Vec::new();
    let clean = |paths: &[PathBuf]| {
        for p in paths {
            let _ = std::fs::remove_file(p);
        }
    };
    if let Some((path, _)) = files.iter().find(|(p, _)| p.exists() && !p.is_file()) {
        return Err(Error::Invalid(format!(
            "{} exists and is not a file; tps will not replace it",
            path.display()
        )));
    }
    for (path, bytes) in files {
        let dir = parent_of(path);
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let tmp = dir.join(format!(".{}.new{pid}", file_name(path)?));
        let written = (|| {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()
        })();
        temporaries.push(tmp);
        if let Err(e) = written {
            clean(&temporaries);
            return Err(Error::io(path, e));
        }
    }
    let mut asides: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut placed: Vec<&Path> = Vec::new();
    let undo = |asides: &[(PathBuf, PathBuf)], placed: &[&Path]| {
        for p in placed {
            let _ = std::fs::remove_file(p);
        }
        for (aside, path) in asides {
            let _ = std::fs::rename(aside, path);
        }
    };
    for ((path, _), tmp) in files.iter().zip(&temporaries) {
        if path.exists() {
            let aside = parent_of(path).join(format!(".{}.old{pid}", file_name(path)?));
            if let Err(e) = std::fs::rename(path, &aside) {
                undo(&asides, &placed);
                clean(&temporaries);
                return Err(Error::io(path, e));
            }
            asides.push((aside, path.clone()));
        }
        if let Err(e) = std::fs::rename(tmp, path) {
            undo(&asides, &placed);
            clean(&temporaries);
            return Err(Error::io(path, e));
        }
        placed.push(path);
    }
    for (aside, _) in &asides {
        let _ = std::fs::remove_file(aside);
    }
    Ok(())
}

/// Whether process `pid` is alive (Linux `/proc`; elsewhere every process counts as alive, so
/// nothing is cleaned up that might be in use).
fn alive(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new(&format!("/proc/{pid}")).exists()
}

/// A directory being written in place of `target`.
#[derive(Debug)]
pub struct Staged {
    staging: PathBuf,
    target: PathBuf,
    lock: PathBuf,
    published: bool,
}

/// The file in every output directory that says tps wrote it, and what it wrote.
pub const MARKER: &str = ".tps-output";

/// Takes the lock on `target` (a `.NAME.lock` file holding the pid), or fails naming the run
/// that holds it; a lock of a dead process is taken over.
fn lock(parent: &Path, name: &str, target: &Path) -> Result<PathBuf> {
    let lock = parent.join(format!(".{name}.lock"));
    for _ in 0..2 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(mut f) => {
                let _ = write!(f, "{}", std::process::id());
                return Ok(lock);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let holder = std::fs::read_to_string(&lock)
                    .ok()
                    .and_then(|t| t.trim().parse::<u32>().ok());
                match holder {
                    Some(pid) if alive(pid) => {
                        return Err(Error::Invalid(format!(
                            "{} is being written by another tps run (process {pid}); wait for \
                             it or choose another --out",
                            target.display()
                        )));
                    }
                    _ => {
                        let _ = std::fs::remove_file(&lock);
                    }
                }
            }
            Err(e) => return Err(Error::io(&lock, e)),
        }
    }
    Err(Error::Invalid(format!(
        "cannot take the lock {} on {}",
        lock.display(),
        target.display()
    )))
}

/// Whether `dir` holds a summary of an earlier tps (one that wrote no marker).
fn written_by_old_tps(dir: &Path) -> bool {
    ["summary.json", "barrier.json", "geodesic.json"]
        .iter()
        .any(|f| std::fs::read_to_string(dir.join(f)).is_ok_and(|t| t.contains("\"tps_version\"")))
}

/// Files an earlier tps (one that wrote no marker) put in its output directories.
const OLD_TPS_FILES: &[&str] = &[
    "summary.json",
    "barrier.json",
    "geodesic.json",
    "compare.json",
    "paths.csv",
    "route.csv",
    "mep.csv",
    "geodesic.csv",
    "compare.csv",
    "cv.csv",
    "energies.csv",
    "fes.dat",
    "relaxed_map.dat",
    "topology.pdb",
    "surface.png",
    "energy_profile.png",
    "geodesic.png",
    "compare.png",
    "fes.png",
];

/// Whether `name` is one an earlier tps wrote: a fixed name or a numbered trajectory
/// (`path_NNN.{dcd,xyz,csv}`, `walker_NNN.dcd`, `colvar_NNN.dat`).
fn old_tps_name(name: &str) -> bool {
    let numbered = |prefix: &str, exts: &[&str]| {
        name.strip_prefix(prefix)
            .and_then(|r| r.split_once('.'))
            .is_some_and(|(n, ext)| {
                n.len() >= 3 && n.bytes().all(|b| b.is_ascii_digit()) && exts.contains(&ext)
            })
    };
    OLD_TPS_FILES.contains(&name)
        || numbered("path_", &["dcd", "xyz", "csv"])
        || numbered("walker_", &["dcd"])
        || numbered("colvar_", &["dat"])
}

/// The entries of `dir` (sorted) that `known` does not accept, each a plain file or not.
fn unknown_entries(dir: &Path, known: impl Fn(&str, bool) -> bool) -> Result<Vec<String>> {
    let mut unknown: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let is_file = e.file_type().is_ok_and(|t| t.is_file());
            !known(&name, is_file)
        })
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    unknown.sort();
    Ok(unknown)
}

fn refuse_foreign(target: &Path, foreign: &[String]) -> Result<()> {
    if foreign.is_empty() {
        return Ok(());
    }
    Err(Error::Invalid(format!(
        "{} holds files tps did not write ({}); tps will not delete them: move them or \
         choose another --out",
        target.display(),
        foreign.join(", ")
    )))
}

/// Refuses to replace `target` unless tps wrote it and everything in it: a directory without
/// the marker, or holding files the marker does not list, belongs to someone else.
fn check_replaceable(target: &Path) -> Result<()> {
    if !target.exists() {
        return Ok(());
    }
    if !target.is_dir() {
        return Err(Error::Invalid(format!(
            "{} exists and is not a directory; tps will not replace it: move it or choose \
             another --out",
            target.display()
        )));
    }
    let listed: Vec<String> = match std::fs::read_to_string(target.join(MARKER)) {
        Ok(text) => text.lines().skip(1).map(str::to_string).collect(),
        // Results of tps versions before the marker (their summaries name tps) are replaced
        // only when every entry is a plain file of a name tps writes: a copy without the
        // hidden marker, with a user's file added, must keep that file.
        Err(_) if written_by_old_tps(target) => {
            let foreign = unknown_entries(target, |n, file| file && old_tps_name(n))?;
            refuse_foreign(target, &foreign)?;
            tracing::warn!(
                "replacing {}, written by an earlier tps without an output marker",
                target.display()
            );
            return Ok(());
        }
        Err(_) => {
            return Err(Error::Invalid(format!(
                "{} exists but was not written by tps (no {MARKER} in it); tps will not \
                 replace it: move it or choose another --out",
                target.display()
            )));
        }
    };
    // A result tps wrote into it later (`tps committor RUN` writes `RUN/committor/`) is tps's
    // too, as long as it holds nothing else.
    let foreign = unknown_entries(target, |n, file| {
        n == MARKER
            || listed.iter().any(|l| l == n)
            || (!file
                && target.join(n).join(MARKER).is_file()
                && check_replaceable(&target.join(n)).is_ok())
    })?;
    refuse_foreign(target, &foreign)
}

impl Staged {
    /// Creates the staging directory next to `target` (and `target`'s parents), after
    /// cleaning up what dead processes left next to it.
    pub fn new(target: &Path) -> Result<Self> {
        let parent = parent_of(target);
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        let name = file_name(target)?;
        let lock = lock(parent, &name, target)?;
        let release = |e: Error| {
            let _ = std::fs::remove_file(&lock);
            e
        };
        recover(parent, &name, target).map_err(release)?;
        check_replaceable(target).map_err(release)?;
        let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| release(Error::io(&staging, e)))?;
        }
        std::fs::create_dir(&staging).map_err(|e| release(Error::io(&staging, e)))?;
        if let Ok(mut active) = ACTIVE.lock() {
            active.push(staging.clone());
            active.push(lock.clone());
        }
        Ok(Self {
            staging,
            target: target.to_path_buf(),
            lock,
            published: false,
        })
    }

    /// Where to write.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// The directory it will replace.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Swaps the staging directory in for the target (checked again: it may have changed
    /// while the run computed), with the marker listing what was written.
    pub fn publish(mut self) -> Result<PathBuf> {
        check_replaceable(&self.target)?;
        let mut names: Vec<String> = std::fs::read_dir(&self.staging)
            .map_err(|e| Error::io(&self.staging, e))?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        let marker = format!(
            "written by tps {} (process {})\n{}\n",
            env!("CARGO_PKG_VERSION"),
            std::process::id(),
            names.join("\n")
        );
        std::fs::write(self.staging.join(MARKER), marker)
            .map_err(|e| Error::io(&self.staging, e))?;
        let parent = parent_of(&self.target);
        let aside = parent.join(format!(
            ".{}.old-{}",
            file_name(&self.target)?,
            std::process::id()
        ));
        let had_old = self.target.exists();
        if had_old {
            std::fs::rename(&self.target, &aside).map_err(|e| Error::io(&self.target, e))?;
        }
        if let Err(e) = std::fs::rename(&self.staging, &self.target) {
            if had_old {
                let _ = std::fs::rename(&aside, &self.target);
            }
            return Err(Error::io(&self.target, e));
        }
        self.published = true;
        self.forget();
        if had_old {
            std::fs::remove_dir_all(&aside).map_err(|e| Error::io(&aside, e))?;
        }
        Ok(self.target.clone())
    }

    fn forget(&self) {
        if let Ok(mut active) = ACTIVE.lock() {
            active.retain(|d| d != &self.staging && d != &self.lock);
        }
        let _ = std::fs::remove_file(&self.lock);
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
        self.forget();
    }
}

/// Cleans what dead processes left next to `target`: staging directories are removed; an old
/// directory set aside is restored if its replacement never arrived, else removed.
fn recover(parent: &Path, name: &str, target: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().to_string();
        let Some(rest) = file.strip_prefix(&format!(".{name}.")) else {
            continue;
        };
        let (kind, pid) = match rest.split_once('-') {
            Some((k, p)) => (k, p.parse::<u32>().ok()),
            None => continue,
        };
        let Some(pid) = pid.filter(|&p| !alive(p)) else {
            continue;
        };
        let path = entry.path();
        match kind {
            "partial" => {
                let _ = std::fs::remove_dir_all(&path);
            }
            "old" if !target.exists() => {
                std::fs::rename(&path, target).map_err(|e| Error::io(target, e))?;
                tracing::warn!(
                    "restored {} from an interrupted replacement (process {pid})",
                    target.display()
                );
            }
            "old" => {
                let _ = std::fs::remove_dir_all(&path);
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sandbox(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("tps-atomic-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// A pid that is not running (pid_max on Linux is at most 2²²).
    const DEAD: u32 = 4_194_304 + 17;

    #[test]
    fn publish_replaces_the_old_directory_and_a_dropped_stage_leaves_it_alone() {
        let dir = sandbox("publish");
        let target = dir.join("A-B");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("old.txt"), "old").unwrap();
        std::fs::write(target.join(MARKER), "written by tps\nold.txt\n").unwrap();
        let s = Staged::new(&target).unwrap();
        std::fs::write(s.path().join("new.txt"), "new").unwrap();
        drop(s);
        assert!(
            target.join("old.txt").exists(),
            "an unpublished stage changes nothing"
        );
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no leftovers");
        let s = Staged::new(&target).unwrap();
        std::fs::write(s.path().join("new.txt"), "new").unwrap();
        s.publish().unwrap();
        assert!(target.join("new.txt").exists() && !target.join("old.txt").exists());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no leftovers");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unmarked_copy_of_a_result_with_a_users_file_is_never_replaced() {
        let dir = sandbox("unmarked");
        let target = dir.join("A-B");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("summary.json"), r#"{"tps_version": "0.1"}"#).unwrap();
        std::fs::write(target.join("path_000.dcd"), "x").unwrap();
        std::fs::write(target.join("notes.txt"), "mine").unwrap();
        let err = Staged::new(&target).unwrap_err().to_string();
        assert!(
            err.contains("notes.txt") && !err.contains("summary.json"),
            "{err}"
        );
        assert!(target.join("notes.txt").exists());
        // A sub-directory is not a file tps wrote either.
        std::fs::remove_file(target.join("notes.txt")).unwrap();
        std::fs::create_dir(target.join("path_001.dcd")).unwrap();
        let err = Staged::new(&target).unwrap_err().to_string();
        assert!(err.contains("path_001.dcd"), "{err}");
        // Only names tps writes: an earlier result, replaced.
        std::fs::remove_dir(target.join("path_001.dcd")).unwrap();
        let s = Staged::new(&target).unwrap();
        std::fs::write(s.path().join("summary.json"), "{}").unwrap();
        s.publish().unwrap();
        assert!(!target.join("path_000.dcd").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_kill_between_the_renames_loses_nothing_and_leftovers_are_cleaned() {
        let dir = sandbox("kill");
        let target = dir.join("A-B");
        // A dead process set the previous result aside and died before renaming its own in.
        let aside = dir.join(format!(".A-B.old-{DEAD}"));
        std::fs::create_dir(&aside).unwrap();
        std::fs::write(aside.join("summary.json"), "{}").unwrap();
        std::fs::write(aside.join(MARKER), "written by tps\nsummary.json\n").unwrap();
        let partial = dir.join(format!(".A-B.partial-{DEAD}"));
        std::fs::create_dir(&partial).unwrap();
        let s = Staged::new(&target).unwrap();
        assert!(
            target.join("summary.json").exists(),
            "previous result restored"
        );
        assert!(!partial.exists() && !aside.exists(), "leftovers removed");
        drop(s);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
