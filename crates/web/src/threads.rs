//! The engine's threads in the tab. The shared-memory build (feature
//! `threads`, made by scripts/build-web.sh with nightly `-Zbuild-std` and
//! `+atomics`) runs its rayon pool on Web Workers; the worker starts the pool
//! with `initThreadPool(n)` before loading a model. The plain build has one
//! thread and no `initThreadPool`.

use wasm_bindgen::prelude::*;

#[cfg(all(feature = "threads", target_arch = "wasm32"))]
pub use wasm_bindgen_rayon::init_thread_pool;

/// Threads the engine's mat-vecs run on (1 in the plain build, or before
/// the pool is started).
#[wasm_bindgen(js_name = engineThreads)]
pub fn engine_threads() -> usize {
    kindred_engine::par::threads()
}
