//! The reply settings (`kindred_engine::reply_settings`) for the page: the
//! ranges and defaults the Settings form offers, and the worker's check of
//! the options a page sends with a reply.

use kindred_engine::reply_settings;
use wasm_bindgen::prelude::*;

use crate::js::to_js;

/// `[{name, min, max, step, default}]` in the form's order.
#[wasm_bindgen]
pub fn reply_settings() -> Result<JsValue, JsError> {
    to_js(&reply_settings::settings())
}

/// The options a reply runs with, from what a page sent: every setting held
/// to its range, what is missing or not a number its default.
#[wasm_bindgen]
pub fn check_options(raw: JsValue) -> Result<JsValue, JsError> {
    let value: serde_json::Value = serde_wasm_bindgen::from_value(raw).unwrap_or(serde_json::Value::Null);
    to_js(&reply_settings::checked(&value))
}
