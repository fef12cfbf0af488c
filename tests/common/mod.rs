//! Helpers shared by the integration tests.
#![allow(dead_code)]

use burn::tensor::Device;
use tps::compute::{self, Backend, Precision};

/// The f64 CPU device (each integration-test binary is its own process, so the precision
/// chosen here does not leak into other test files).
pub fn f64_device() -> Device {
    compute::device(Backend::Flex, Precision::F64).expect("flex in f64")
}

/// f64 device with autodiff.
pub fn f64_autodiff() -> Device {
    f64_device().autodiff()
}

/// Relative difference with an absolute floor.
pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-12)
}
