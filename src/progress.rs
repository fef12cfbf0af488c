//! How long work reports its progress: the library calls a [`Progress`], the binary shows it
//! (a bar on a terminal, a line per stage otherwise); the library knows nothing of terminals.

/// A sink for progress reports, shared across threads.
pub trait Progress: Sync {
    /// A stage starts with `total` units of work.
    fn stage(&self, name: &str, total: u64);
    /// `n` more units of the current stage are done.
    fn add(&self, n: u64);
    /// `done` units of the current stage are done.
    fn set(&self, done: u64);
    /// A short status (e.g. the current loss).
    fn message(&self, _text: &str) {}
}

/// Reports nothing.
pub struct Silent;

impl Progress for Silent {
    fn stage(&self, _: &str, _: u64) {}
    fn add(&self, _: u64) {}
    fn set(&self, _: u64) {}
}
