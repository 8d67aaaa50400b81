//! Reading a buffer back to the CPU. Mapping is asynchronous in WebGPU; on
//! native the device is polled until the map completes, in the browser the
//! future resolves when the page's event loop delivers the callback.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use super::device::Gpu;
use super::error::{GpuError, GpuResult};

#[derive(Default)]
struct Slot {
    result: Option<Result<(), wgpu::BufferAsyncError>>,
    waker: Option<Waker>,
}

/// Resolves once the map callback has run.
struct MapDone(Arc<Mutex<Slot>>);

impl Future for MapDone {
    type Output = Result<(), GpuError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Ok(mut s) = self.0.lock() else {
            return Poll::Ready(Err(GpuError::Readback("map state poisoned".into())));
        };
        match s.result.take() {
            Some(r) => Poll::Ready(r.map_err(|e| GpuError::Readback(e.to_string()))),
            None => {
                s.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Copies the first `size` bytes of a MAP_READ buffer (already filled by a
/// submitted copy) to the CPU.
pub async fn read(gpu: &Gpu, staging: &wgpu::Buffer, size: u64) -> GpuResult<Vec<u8>> {
    read_after(gpu, staging, size, None).await
}

/// `read`, natively waiting only for submission `done` (the one that filled
/// `staging`), not for work submitted after it: a step queued ahead keeps
/// the GPU busy while the CPU takes this one's result. (In the browser the
/// map is the browser's to resolve: Chromium's Dawn resolves it when the
/// buffer's own last use is done, which is the same.)
pub async fn read_after(gpu: &Gpu, staging: &wgpu::Buffer, size: u64, done: Option<wgpu::SubmissionIndex>) -> GpuResult<Vec<u8>> {
    let slot = Arc::new(Mutex::new(Slot::default()));
    let cb_slot = slot.clone();
    let slice = staging.slice(0..size);
    slice.map_async(wgpu::MapMode::Read, move |r| {
        if let Ok(mut s) = cb_slot.lock() {
            s.result = Some(r);
            if let Some(w) = s.waker.take() {
                w.wake();
            }
        }
    });
    #[cfg(target_arch = "wasm32")]
    let _ = done;
    #[cfg(not(target_arch = "wasm32"))]
    gpu.device
        .poll(wgpu::PollType::Wait { submission_index: done, timeout: None })
        .map_err(|e| GpuError::DeviceLost(format!("waiting for the GPU: {e}")))?;
    MapDone(slot).await?;
    // Unmapped whatever happens: a buffer left mapped fails every later
    // submit that copies into it.
    let bytes = slice.get_mapped_range().map(|view| view.to_vec());
    staging.unmap();
    gpu.check()?;
    bytes.map_err(|e| GpuError::Readback(e.to_string()))
}

pub fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}
