//! Row-parallel loops: rayon natively, a plain loop in the single-threaded
//! wasm build (threads in the tab are the CPU-backend issue's work).

/// Calls `f(first_index, chunk)` for consecutive chunks of `out`, each
/// `chunk` elements long (the last may be shorter), in parallel where
/// threads exist.
#[cfg(not(target_arch = "wasm32"))]
pub fn for_chunks<F>(out: &mut [f32], chunk: usize, f: F)
where
    F: Fn(usize, &mut [f32]) + Sync + Send,
{
    use rayon::prelude::*;
    out.par_chunks_mut(chunk.max(1)).enumerate().for_each(|(i, c)| f(i * chunk.max(1), c));
}

#[cfg(target_arch = "wasm32")]
pub fn for_chunks<F>(out: &mut [f32], chunk: usize, f: F)
where
    F: Fn(usize, &mut [f32]),
{
    for (i, c) in out.chunks_mut(chunk.max(1)).enumerate() {
        f(i * chunk.max(1), c);
    }
}

/// Threads available to `for_chunks`.
pub fn threads() -> usize {
    #[cfg(not(target_arch = "wasm32"))]
    {
        rayon::current_num_threads()
    }
    #[cfg(target_arch = "wasm32")]
    {
        1
    }
}
