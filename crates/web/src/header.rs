//! Whether the engine runs a model file, asked of its first bytes while
//! the rest downloads (the worker refuses an architecture or weight type it
//! does not run after the first chunk, not after the whole file).

use serde::Serialize;
use wasm_bindgen::prelude::*;

use kindred_engine::models::header_check::check_header;

/// `null` while `prefix` does not yet hold the whole header; else the
/// model's shape (`{config, weight_bytes}`); throws the error loading the
/// file would give. `file_len` 0: the length is not known.
#[wasm_bindgen(js_name = checkModelHeader)]
pub fn check_model_header(prefix: &[u8], file_len: f64) -> Result<JsValue, JsError> {
    let len = if file_len >= 1.0 && file_len < usize::MAX as f64 { file_len as usize } else { usize::MAX };
    match check_header(prefix, len) {
        Ok(None) => Ok(JsValue::NULL),
        // Plain objects (not Maps), as the engine's other answers.
        Ok(Some(c)) => c.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string())),
        Err(e) => Err(JsError::new(&e.to_string())),
    }
}
