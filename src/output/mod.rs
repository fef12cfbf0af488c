//! Neutral file formats: trajectories (chemfiles, and a strict DCD reader), tables (CSV) and
//! plots. Every file is written to a temporary name and renamed into place.

pub mod colvar;
pub mod dcd;
pub mod json;
pub mod plot;
pub mod table;
pub mod trajectory;
