//! Every way the GPU backend can fail. A missing adapter, a lost device or
//! an allocation the GPU refuses is an error the caller can act on (fall
//! back to the CPU backend), never a panic.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum GpuError {
    #[error("no usable GPU adapter: {0}")]
    NoAdapter(String),
    #[error("the GPU adapter refused a device: {0}")]
    RequestDevice(String),
    #[error("the GPU ran out of memory: {0}")]
    OutOfMemory(String),
    #[error("the GPU rejected a command (a bug in the GPU backend): {0}")]
    Validation(String),
    #[error("the GPU device was lost: {0}")]
    DeviceLost(String),
    #[error("reading a result back from the GPU failed: {0}")]
    Readback(String),
    #[error("not supported by the GPU backend: {0}")]
    Unsupported(String),
    #[error(transparent)]
    Model(#[from] crate::Error),
}

pub type GpuResult<T> = std::result::Result<T, GpuError>;

impl From<wgpu::Error> for GpuError {
    fn from(e: wgpu::Error) -> Self {
        match e {
            wgpu::Error::OutOfMemory { .. } => GpuError::OutOfMemory(e.to_string()),
            other => GpuError::Validation(other.to_string()),
        }
    }
}
