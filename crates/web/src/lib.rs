//! The engine as the page's Web Worker sees it, and the character side of
//! the app (cards, lorebooks, prompt assembly, storage) for the page and the
//! worker. The page's own thread loads a build without the engine.
//! Every function returns a `Result`: an error becomes a JS exception with a
//! clear message, never a panic (a panic would kill the wasm instance).

// The engine's side: what the worker drives. Left out of the page's own
// build (`--no-default-features`, www/pkg-ui/), which has the rest.
#[cfg(feature = "engine")]
mod bench;
#[cfg(feature = "engine")]
mod bench_gpu;
#[cfg(feature = "engine")]
mod engine;
#[cfg(feature = "engine")]
pub mod eval;
#[cfg(feature = "engine")]
mod header;
#[cfg(feature = "engine")]
pub mod prepare;
#[cfg(feature = "engine")]
pub mod script_guard;
#[cfg(feature = "engine")]
pub mod studio;
#[cfg(feature = "engine")]
pub mod threads;

pub mod cards;
pub mod datasets;
pub mod error;
mod js;
pub mod memory;
pub mod profile;
pub mod reply;
pub mod reply_options;
pub mod prompt;
pub mod rooms;
pub mod safety;
pub mod store;
pub mod turns;

#[cfg(feature = "engine")]
pub use engine::Engine;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
pub fn start() {
    // Should anything panic despite the above, say why in the console.
    console_error_panic_hook::set_once();
}
