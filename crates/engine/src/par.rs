//! Row-parallel loops: a rayon pool where the `threads` feature is on (always
//! natively; in the browser only in the shared-memory build, whose pool
//! threads are Web Workers), a plain loop otherwise. A pool of one thread
//! also gets the plain loop: handing it the work costs two context switches
//! a call (~40 us measured natively).

/// Calls `f(first_index, chunk)` for consecutive chunks of `out`, each
/// `chunk` elements long (the last may be shorter), in parallel where
/// threads exist.
#[cfg(feature = "threads")]
pub fn for_chunks<F>(out: &mut [f32], chunk: usize, f: F)
where
    F: Fn(usize, &mut [f32]) + Sync + Send,
{
    use rayon::prelude::*;
    let chunk = chunk.max(1);
    if threads() > 1 {
        out.par_chunks_mut(chunk).enumerate().for_each(|(i, c)| f(i * chunk, c));
    } else {
        out.chunks_mut(chunk).enumerate().for_each(|(i, c)| f(i * chunk, c));
    }
}

#[cfg(not(feature = "threads"))]
pub fn for_chunks<F>(out: &mut [f32], chunk: usize, f: F)
where
    F: Fn(usize, &mut [f32]) + Sync + Send,
{
    for (i, c) in out.chunks_mut(chunk.max(1)).enumerate() {
        f(i * chunk.max(1), c);
    }
}

/// `f(i)` for each `i in 0..n`, in parallel where threads exist.
#[cfg(feature = "threads")]
pub fn for_each<F>(n: usize, f: F)
where
    F: Fn(usize) + Sync + Send,
{
    use rayon::prelude::*;
    if threads() > 1 {
        (0..n).into_par_iter().for_each(f);
    } else {
        (0..n).for_each(f);
    }
}

#[cfg(not(feature = "threads"))]
pub fn for_each<F>(n: usize, f: F)
where
    F: Fn(usize) + Sync + Send,
{
    (0..n).for_each(f);
}

/// `[f(0), .., f(n - 1)]`, computed in parallel where threads exist.
#[cfg(feature = "threads")]
pub fn map<T, F>(n: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize) -> T + Sync + Send,
{
    use rayon::prelude::*;
    if threads() > 1 && n > 1 {
        (0..n).into_par_iter().map(f).collect()
    } else {
        (0..n).map(f).collect()
    }
}

#[cfg(not(feature = "threads"))]
pub fn map<T, F>(n: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize) -> T + Sync + Send,
{
    (0..n).map(f).collect()
}

/// Threads available to `for_chunks`.
pub fn threads() -> usize {
    #[cfg(feature = "threads")]
    {
        rayon::current_num_threads()
    }
    #[cfg(not(feature = "threads"))]
    {
        1
    }
}
