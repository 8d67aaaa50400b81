//! Turn discipline for the worker: the finished reply as it is shown and
//! stored (`kindred_characters::reply::finish`, the rule the CLI and the
//! quality harness use too).

use kindred_characters::reply::{finish, Ending, Speakers};
use wasm_bindgen::prelude::*;

/// `raw`: the reply as the engine wrote it; `stop_reason`: the engine's
/// (`eos`, `stop`, `max_tokens`, `context_full`) or `user`; `speakers`: the
/// prompt reply's `speakers` as JSON text; `continuing`: the text continues
/// a message (its leading space is kept). Returns the text to show.
#[wasm_bindgen]
pub fn finish_reply(raw: &str, stop_reason: &str, speakers: &str, continuing: bool) -> Result<String, JsError> {
    let who: Speakers = serde_json::from_str(speakers).map_err(|e| JsError::new(&format!("speakers: {e}")))?;
    Ok(finish(raw, Ending::parse(stop_reason), &who, continuing).text)
}
