//! Adapter and device: which GPU we got, what it allows, and whether using it
//! is a good idea.
//!
//! The device is requested with the adapter's real limits, not WebGPU's
//! defaults: a 270M model's LM head alone (178 MB) exceeds the default
//! 128 MiB binding, and most adapters offer far more. `shader-f16` is never
//! required (every kernel computes in f32 and packs halves by hand), and
//! subgroups are noted but not used: the kernels reduce through workgroup
//! memory, which every adapter has. Measured on an H100 (Vulkan, 32-lane
//! subgroups): the mat-vecs' row sums by subgroup shuffles instead of
//! workgroup memory and barriers decoded no faster (Gemma 3 270M shapes 463
//! tokens/s either way, Qwen2.5 1.5B 221 against 231), so the one code path
//! stays.

use std::sync::{Arc, Mutex};

use super::error::{GpuError, GpuResult};

/// Choices a caller (or a test) can make about the device.
#[derive(Debug, Clone, Default)]
pub struct GpuOptions {
    /// Caps the size of one storage binding below the adapter's limit, so
    /// tests can force tensors to be split without a huge tensor.
    pub max_binding_bytes: Option<u64>,
    /// Restricts the backends tried (default: all that are compiled in;
    /// the `WGPU_BACKEND` environment variable also applies natively).
    pub backends: Option<wgpu::Backends>,
}

/// Why the GPU backend is or is not worth using on this machine.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GpuReport {
    pub adapter: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    /// A software rasteriser (lavapipe, SwiftShader, WARP): correct, but
    /// slower than the CPU backend for a quantized mat-vec.
    pub software: bool,
    pub shader_f16: bool,
    pub subgroups: bool,
    pub max_storage_binding: u64,
    pub max_buffer: u64,
    pub max_workgroups_per_dim: u32,
    pub max_workgroup_storage: u32,
    pub max_invocations: u32,
    /// Whether to prefer this GPU over the CPU backend.
    pub recommended: bool,
    pub reason: String,
}

/// Errors the device reports asynchronously (outside an error scope) are
/// collected here and turned into a `GpuError` at the next check, instead of
/// wgpu's default of panicking.
#[derive(Clone, Default)]
pub(crate) struct ErrorSink(Arc<Mutex<Vec<GpuError>>>);

impl ErrorSink {
    fn push(&self, e: GpuError) {
        if let Ok(mut v) = self.0.lock() {
            v.push(e);
        }
    }

    /// The first error seen since the last check, if any.
    pub(crate) fn take(&self) -> Option<GpuError> {
        let mut v = self.0.lock().ok()?;
        if v.is_empty() {
            None
        } else {
            let first = v.remove(0);
            v.clear();
            Some(first)
        }
    }
}

pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub limits: wgpu::Limits,
    pub report: GpuReport,
    /// Largest storage binding the kernels may use (the adapter's limit,
    /// or the caller's lower cap), a multiple of 4.
    pub max_binding: u64,
    pub(crate) errors: ErrorSink,
    /// Timestamps between dispatches (`profile`), asked for by the
    /// `KINDRED_GPU_PROFILE` environment variable.
    pub profiling: bool,
    /// The model's weights on this device, by name, so that a model built
    /// again over the same file (`GpuModel::rebuild`) uploads only what
    /// changed.
    pub(crate) kept: std::sync::Mutex<super::buffers::KeptWeights>,
}

impl Gpu {
    /// Finds an adapter and opens a device on it with the adapter's limits.
    pub async fn new(opts: &GpuOptions) -> GpuResult<Gpu> {
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        if let Some(b) = opts.backends {
            desc.backends = b;
        }
        let backends = desc.backends;
        let instance = wgpu::Instance::new(desc);
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                ..Default::default()
            })
            .await
            .map_err(|e| GpuError::NoAdapter(format!("{e} (backends tried: {backends:?})")))?;
        let info = adapter.get_info();
        let limits = adapter.limits();
        let features = adapter.features();
        let timestamps = wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::TIMESTAMP_QUERY_INSIDE_PASSES;
        let profiling = cfg!(not(target_arch = "wasm32"))
            && std::env::var_os("KINDRED_GPU_PROFILE").is_some()
            && features.contains(timestamps);
        let required_features = if profiling { timestamps } else { wgpu::Features::empty() };
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("kindred"),
                required_features,
                required_limits: limits.clone(),
                experimental_features: wgpu::ExperimentalFeatures::disabled(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: wgpu::Trace::Off,
            })
            .await
            .map_err(|e| GpuError::RequestDevice(e.to_string()))?;
        let errors = ErrorSink::default();
        let sink = errors.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| sink.push(GpuError::from(e))));
        let sink = errors.clone();
        device.set_device_lost_callback(move |reason, msg| {
            sink.push(GpuError::DeviceLost(format!("{reason:?}: {msg}")));
        });

        let binding_limit = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
        // Offsets inside a binding are computed in 32-bit shader arithmetic.
        let mut max_binding = binding_limit.min(u32::MAX as u64 & !3);
        if let Some(cap) = opts.max_binding_bytes {
            max_binding = max_binding.min(cap);
        }
        let max_binding = max_binding & !3;
        let software = info.device_type == wgpu::DeviceType::Cpu;
        let (recommended, reason) = if software {
            (false, "software adapter: correct but slower than the CPU backend".to_string())
        } else {
            (true, format!("{:?} adapter with {} MiB bindings", info.device_type, binding_limit >> 20))
        };
        let report = GpuReport {
            adapter: info.name.clone(),
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            driver: format!("{} {}", info.driver, info.driver_info).trim().to_string(),
            software,
            shader_f16: features.contains(wgpu::Features::SHADER_F16),
            subgroups: features.contains(wgpu::Features::SUBGROUP),
            max_storage_binding: limits.max_storage_buffer_binding_size,
            max_buffer: limits.max_buffer_size,
            max_workgroups_per_dim: limits.max_compute_workgroups_per_dimension,
            max_workgroup_storage: limits.max_compute_workgroup_storage_size,
            max_invocations: limits.max_compute_invocations_per_workgroup,
            recommended,
            reason,
        };
        if max_binding < 1 << 16 {
            return Err(GpuError::Unsupported(format!("storage bindings of only {max_binding} bytes")));
        }
        if limits.max_compute_invocations_per_workgroup < 256 || limits.max_compute_workgroup_storage_size < 4096 {
            return Err(GpuError::Unsupported("the adapter offers less than WebGPU's compute minimum".into()));
        }
        Ok(Gpu { device, queue, limits, report, max_binding, errors, profiling, kept: Default::default() })
    }

    /// Blocking `new` for native callers.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn new_blocking(opts: &GpuOptions) -> GpuResult<Gpu> {
        pollster::block_on(Self::new(opts))
    }

    /// Turns an error the device reported since the last check into `Err`.
    pub fn check(&self) -> GpuResult<()> {
        match self.errors.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    pub fn max_workgroups_per_dim(&self) -> u32 {
        self.limits.max_compute_workgroups_per_dimension.max(1)
    }
}
