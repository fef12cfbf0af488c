//! The integration tests against exact references in f64 (closed forms, mixtures with exact
//! denoisers, other tools' fixtures), in one test binary; why one binary per precision is
//! said in `tests/end_to_end.rs`.

mod common;

mod denoiser_mlp;
mod frames_surface;
mod geodesic_variants;
mod geometry_exact;
mod import;
mod model_density;
mod routes_exact;
mod systems;
mod trajectory_fixture;
