//! What the commands compute on a loaded system, each from start to finish: [`learning`]
//! (`tps train`: the data and the model), [`transition`] (`tps sample` and `tps compare`:
//! paths between two states by every route, scored), [`committor`] (where unbiased dynamics
//! from a frame commit: the judge of transition states).

pub mod committor;
pub mod learning;
pub mod transition;
