//! GPU time per kernel, from timestamps written between dispatches: what
//! the benchmarks print to show where a token's time goes. Only natively,
//! only when `KINDRED_GPU_PROFILE` is set and the adapter can write
//! timestamps inside a compute pass; the timestamps serialise the
//! dispatches, so profiled runs are a little slower than plain ones.

use std::collections::BTreeMap;

use super::device::Gpu;
use super::error::GpuResult;
use super::kernels::{Kernel, Layout};

const CAPACITY: u32 = 4096;

/// CPU time since `start` natively; nothing in the browser, where
/// `std::time::Instant` is unavailable (and profiling is off).
#[derive(Clone, Copy)]
pub struct Stopwatch {
    #[cfg(not(target_arch = "wasm32"))]
    at: std::time::Instant,
}

impl Stopwatch {
    pub fn start() -> Stopwatch {
        Stopwatch {
            #[cfg(not(target_arch = "wasm32"))]
            at: std::time::Instant::now(),
        }
    }

    pub fn nanos(&self) -> f64 {
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.at.elapsed().as_nanos() as f64
        }
        #[cfg(target_arch = "wasm32")]
        {
            0.0
        }
    }
}

pub struct Profiler {
    set: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    staging: wgpu::Buffer,
    period_ns: f64,
    /// The kernel dispatched after each timestamp (None: end of a pass).
    marks: Vec<Option<Kernel>>,
    /// Which part of the step is being recorded ("decode", "prefill", "head").
    pub section: &'static str,
    sections: Vec<&'static str>,
    /// Nanoseconds and dispatches per (section, kernel).
    pub totals: BTreeMap<(String, String), (f64, u64)>,
}

impl Profiler {
    /// A profiler when the environment asks for one and the device allows it.
    pub fn new(gpu: &Gpu) -> Option<Profiler> {
        if !gpu.profiling {
            return None;
        }
        let set = gpu.device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("profile"),
            ty: wgpu::QueryType::Timestamp,
            count: CAPACITY,
        });
        let size = CAPACITY as u64 * 8;
        let resolve = gpu.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("profile resolve"),
            size,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let staging = super::buffers::staging(gpu, "profile readback", size);
        Some(Profiler {
            set,
            resolve,
            staging,
            period_ns: gpu.queue.get_timestamp_period() as f64,
            marks: Vec::new(),
            section: "decode",
            sections: Vec::new(),
            totals: BTreeMap::new(),
        })
    }

    fn write(&mut self, pass: &mut wgpu::ComputePass<'_>, k: Option<Kernel>) {
        if (self.marks.len() as u32) < CAPACITY {
            pass.write_timestamp(&self.set, self.marks.len() as u32);
            self.marks.push(k);
            self.sections.push(self.section);
        }
    }

    /// A timestamp before dispatching `k`.
    pub fn mark(&mut self, pass: &mut wgpu::ComputePass<'_>, k: Kernel) {
        self.write(pass, Some(k));
    }

    /// A timestamp closing the pass's last dispatch.
    pub fn end(&mut self, pass: &mut wgpu::ComputePass<'_>) {
        self.write(pass, None);
    }

    /// Copies this encoder's timestamps out, to be read after the submit.
    pub fn resolve(&self, enc: &mut wgpu::CommandEncoder) {
        let n = self.marks.len() as u32;
        if n > 0 {
            enc.resolve_query_set(&self.set, 0..n, &self.resolve, 0);
            enc.copy_buffer_to_buffer(&self.resolve, 0, &self.staging, 0, n as u64 * 8);
        }
    }

    /// CPU time spent on the step (recording commands is not free in wgpu).
    pub fn add_cpu(&mut self, what: &str, ns: f64) {
        let e = self.totals.entry(("cpu".to_string(), what.to_string())).or_insert((0.0, 0));
        e.0 += ns;
        e.1 += 1;
    }

    /// Reads the submitted timestamps and adds each dispatch's time to its kernel.
    pub async fn collect(&mut self, gpu: &Gpu) -> GpuResult<()> {
        let n = self.marks.len();
        if n == 0 {
            return Ok(());
        }
        let bytes = super::readback::read(gpu, &self.staging, n as u64 * 8).await?;
        let ts: Vec<u64> = bytes.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect();
        for i in 0..n.saturating_sub(1) {
            if let Some(k) = self.marks[i] {
                let ns = ts[i + 1].saturating_sub(ts[i]) as f64 * self.period_ns;
                let e = self.totals.entry((self.sections[i].to_string(), kernel_name(k))).or_insert((0.0, 0));
                e.0 += ns;
                e.1 += 1;
            }
        }
        self.marks.clear();
        self.sections.clear();
        Ok(())
    }
}

/// `MatVec(Q4K, layout)` -> `MatVec Q4K 1x64x64` (rows a thread x threads
/// a row x workgroup size; `+norm` where the kernel
/// normalises its input).
fn kernel_name(k: Kernel) -> String {
    let l = |l: Layout| format!("{}x{}x{}", l.rpt, l.tpr, l.wg);
    let norm = |n: bool| if n { " +norm" } else { "" };
    match k {
        Kernel::MatVec(q, lay) => format!("MatVec {q:?} {}", l(lay)),
        Kernel::MatVecGlu(q, lay, n) => format!("MatVecGlu {q:?} {}{}", l(lay), norm(n)),
        Kernel::MatVecQkv(q, lay, n) => format!("MatVecQkv {q:?} {}{}", l(lay), norm(n)),
        _ => format!("{k:?}").replace('(', " ").replace(')', ""),
    }
}
