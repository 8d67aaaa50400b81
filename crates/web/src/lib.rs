//! The engine as the page's Web Worker sees it. Every method returns a
//! `Result`: an error becomes a JS exception with a clear message, never a
//! panic (a panic would kill the worker and its model).

mod engine;

pub use engine::Engine;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(start)]
pub fn start() {
    // Should anything panic despite the above, say why in the console.
    console_error_panic_hook::set_once();
}
