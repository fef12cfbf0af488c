//! Physical constants in OpenMM's units (nm, kJ/mol, e).

/// Coulomb constant 1/(4π ε₀) in kJ·nm/(mol·e²), as OpenMM defines it.
pub const COULOMB: f64 = 1.0
    / (4.0
        * std::f64::consts::PI
        * (1e-6 * 8.8541878128e-12 / (1.602176634e-19 * 1.602176634e-19 * 6.02214076e23)));
