//! The engine as the page's Web Worker sees it, and the character side of
//! the app (cards, lorebooks, prompt assembly) for the page and the worker.
//! Every function returns a `Result`: an error becomes a JS exception with a
//! clear message, never a panic (a panic would kill the wasm instance).

mod bench;
mod bench_gpu;
mod engine;
mod header;

pub mod cards;
pub mod error;
pub mod eval;
mod js;
pub mod memory;
pub mod prepare;
pub mod profile;
pub mod reply;
pub mod reply_options;
pub mod prompt;
pub mod rooms;
pub mod safety;
pub mod script_guard;
pub mod store;
pub mod threads;
pub mod turns;

pub use engine::Engine;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
pub fn start() {
    // Should anything panic despite the above, say why in the console.
    console_error_panic_hook::set_once();
}
