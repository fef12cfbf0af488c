//! Everything `tps` writes: trajectories (chemfiles), tables (CSV), summaries (JSON) and plots.
//! Every file is written to a temporary name and renamed into place.

pub mod plot;
pub mod table;
pub mod trajectory;
