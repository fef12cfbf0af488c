//! Compute device selection and host <-> tensor transfers.
//!
//! burn 0.22 chooses the backend at run time through a `Device`. Its float precision is a
//! process-wide setting per backend, fixed by the first tensor created, so it is chosen once here.

use burn::tensor::{Device, FloatDType, Tensor, TensorData};

use crate::error::{Error, Result};

/// Floating-point precision of all tensors on a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// Single precision (the default for models).
    F32,
    /// Double precision (exact references, tests).
    F64,
}

/// Which burn backend runs the tensors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// burn's pure-Rust CPU backend (the default; replaces the deprecated ndarray backend).
    Flex,
    /// GPU through wgpu (cargo feature `wgpu`); f32 only.
    Wgpu,
}

/// Keeps memory that tensors free for the next step instead of glibc's default of returning
/// every freed block above 128 KiB to the system: without it, each training step's activations
/// fault in fresh zeroed pages (an all-atom `tps train`: 9.7 M page faults and 20 s of system
/// time; 244 → 218 s wall, the same model). Process-wide; call once, at the start.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt changes the allocator's thresholds; it takes no pointer.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
    }
}

/// Returns a device for `backend` at `precision`.
///
/// Fails if the precision was already fixed differently in this process, or if the backend was
/// not compiled in.
pub fn device(backend: Backend, precision: Precision) -> Result<Device> {
    let mut device = match backend {
        Backend::Flex => Device::flex(),
        Backend::Wgpu => wgpu_device()?,
    };
    let wanted = match precision {
        Precision::F32 => FloatDType::F32,
        Precision::F64 => FloatDType::F64,
    };
    if backend == Backend::Wgpu && precision == Precision::F64 {
        return Err(Error::Device(
            "the wgpu backend runs in f32 only (f64 is unreliable on GPUs and software Vulkan)"
                .into(),
        ));
    }
    // Another thread may configure it between the check and the call: check again on failure.
    if device.settings().float_dtype != wanted
        && device.configure(wanted).is_err()
        && device.settings().float_dtype != wanted
    {
        return Err(Error::Device(format!(
            "{backend:?} is already running in {:?} in this process; cannot switch to {precision:?}",
            device.settings().float_dtype
        )));
    }
    Ok(device)
}

/// The wgpu device, probed with a one-element round trip: a machine without a usable adapter
/// gets an error, not a panic.
#[cfg(feature = "wgpu")]
fn wgpu_device() -> Result<Device> {
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let probe = std::panic::catch_unwind(|| {
        let device = Device::wgpu(burn::tensor::DeviceKind::DefaultDevice);
        let t = Tensor::<1>::from_data(TensorData::new(vec![1.0f32], [1]), &device);
        let _ = t.try_into_vec_as::<f32>();
        device
    });
    std::panic::set_hook(quiet);
    probe.map_err(|_| {
        Error::Device(
            "no usable GPU adapter: wgpu could not start; install a Vulkan driver (Mesa's \
             lavapipe for software rendering) or run with --device cpu"
                .into(),
        )
    })
}

#[cfg(not(feature = "wgpu"))]
fn wgpu_device() -> Result<Device> {
    Err(Error::Device(
        "this build has no GPU support (--device gpu); rebuild with \
         `cargo build --release --features wgpu`"
            .into(),
    ))
}

/// The device the benchmarks run on: `TPS_BENCH_DEVICE=gpu` for wgpu (a build with
/// `--features wgpu`), the CPU otherwise.
pub fn bench_backend() -> Backend {
    match std::env::var("TPS_BENCH_DEVICE").as_deref() {
        Ok("gpu") => Backend::Wgpu,
        _ => Backend::Flex,
    }
}

/// Uploads a row-major host matrix.
pub fn matrix(values: &[f64], rows: usize, cols: usize, device: &Device) -> Tensor<2> {
    assert_eq!(
        values.len(),
        rows * cols,
        "matrix data does not match its shape"
    );
    Tensor::from_data(TensorData::new(values.to_vec(), [rows, cols]), device)
}

/// Uploads a host vector.
pub fn vector(values: &[f64], device: &Device) -> Tensor<1> {
    Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
}

/// Downloads any tensor as a flat row-major `Vec<f64>`.
pub fn to_host<const D: usize>(tensor: Tensor<D>) -> Vec<f64> {
    tensor
        .try_into_vec_as::<f64>()
        .expect("a float tensor reads back as f64")
}

/// Downloads a scalar (a one-element tensor).
pub fn scalar<const D: usize>(tensor: Tensor<D>) -> f64 {
    to_host(tensor)[0]
}
