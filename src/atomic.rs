//! Outputs that are never half-written and never cost the previous result.
//!
//! * [`write`]: a whole file through a temporary file in the same directory, renamed over the
//!   target.
//! * [`Staged`]: a whole directory written as a hidden sibling `.NAME.partial-PID` and swapped
//!   in by [`Staged::publish`]: the old directory is renamed aside, the new one renamed in, then
//!   the old one deleted. A kill at any moment leaves either the old or the new directory in
//!   place; leftovers of dead processes are cleaned up (or, for an old directory whose
//!   replacement never arrived, restored) the next time that directory is staged. An interrupt
//!   (Ctrl-C) removes the staging directories of the running command before it exits.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Staging directories of this process, removed on an interrupt.
static ACTIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Installs the Ctrl-C handler that removes this process's staging directories and exits with
/// status 130. Call once, from the binary.
pub fn clean_up_on_interrupt() {
    let _ = ctrlc::set_handler(|| {
        if let Ok(dirs) = ACTIVE.lock() {
            for d in dirs.iter() {
                let _ = std::fs::remove_dir_all(d);
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
    published: bool,
}

impl Staged {
    /// Creates the staging directory next to `target` (and `target`'s parents), after
    /// cleaning up what dead processes left next to it.
    pub fn new(target: &Path) -> Result<Self> {
        let parent = parent_of(target);
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        let name = file_name(target)?;
        recover(parent, &name, target)?;
        let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|e| Error::io(&staging, e))?;
        }
        std::fs::create_dir(&staging).map_err(|e| Error::io(&staging, e))?;
        if let Ok(mut active) = ACTIVE.lock() {
            active.push(staging.clone());
        }
        Ok(Self {
            staging,
            target: target.to_path_buf(),
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

    /// Swaps the staging directory in for the target.
    pub fn publish(mut self) -> Result<PathBuf> {
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
            active.retain(|d| d != &self.staging);
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_dir_all(&self.staging);
            self.forget();
        }
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
    fn a_kill_between_the_renames_loses_nothing_and_leftovers_are_cleaned() {
        let dir = sandbox("kill");
        let target = dir.join("A-B");
        // A dead process set the previous result aside and died before renaming its own in.
        let aside = dir.join(format!(".A-B.old-{DEAD}"));
        std::fs::create_dir(&aside).unwrap();
        std::fs::write(aside.join("summary.json"), "{}").unwrap();
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
