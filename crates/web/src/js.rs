//! Small helpers for building plain JS objects (not Maps) to hand back.

use wasm_bindgen::prelude::*;

pub fn object() -> js_sys::Object {
    js_sys::Object::new()
}

pub fn set(target: &js_sys::Object, key: &str, value: JsValue) -> Result<(), JsError> {
    js_sys::Reflect::set(target, &JsValue::from_str(key), &value)
        .map(|_| ())
        .map_err(|_| JsError::new("could not build the result object"))
}
