//! Small helpers for building plain JS objects (not Maps) to hand back.

use serde::Serialize;
use wasm_bindgen::prelude::*;

/// A Rust value as a plain JS value (objects, not Maps).
pub fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| JsError::new(&e.to_string()))
}

pub fn object() -> js_sys::Object {
    js_sys::Object::new()
}

pub fn set(target: &js_sys::Object, key: &str, value: JsValue) -> Result<(), JsError> {
    js_sys::Reflect::set(target, &JsValue::from_str(key), &value)
        .map(|_| ())
        .map_err(|_| JsError::new("could not build the result object"))
}
