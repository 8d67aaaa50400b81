//! What a record of a person's data must hold for the page to use it. A
//! record without it (damaged, or saved by a newer Kindred in a shape this
//! one does not know) is left where it is, untouched, and kept out of what
//! reads return, so the rest of the app opens; `Store::unreadable` tells the
//! page how many there were. Only the fields the page cannot do without are
//! checked: an older or newer record with other fields besides passes.

use std::collections::{BTreeMap, BTreeSet};

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

use super::schema;

/// Whether the page can use `record` from `store` (records of stores that
/// are not the person's data are not checked).
pub fn usable(store: &str, record: &JsValue) -> bool {
    if !schema::DATA_STORES.contains(&store) {
        return true;
    }
    let text = |name| field(record, name).as_string().is_some_and(|s| !s.is_empty());
    is_object(record)
        && match store {
            "characters" => text("id") && is_object(&field(record, "card")),
            // A room is a chat without a character.
            "chats" => text("id") && (text("characterId") || field(record, "kind").as_string().as_deref() == Some("room") && is_object(&field(record, "room"))),
            "messages" => text("chatId") && text("role") && field(record, "chosen").as_f64().is_some() && swipes_readable(&field(record, "swipes")),
            "memories" => text("chatId"),
            "settings" => text("key"),
            _ => true,
        }
}

fn swipes_readable(swipes: &JsValue) -> bool {
    if !Array::is_array(swipes) {
        return false;
    }
    let list = Array::from(swipes);
    list.length() > 0 && list.iter().all(|s| is_object(&s) && field(&s, "text").is_string())
}

fn is_object(v: &JsValue) -> bool {
    v.is_object() && !Array::is_array(v)
}

fn field(record: &JsValue, name: &str) -> JsValue {
    Reflect::get(record, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// The records a connection has kept out of its reads, by store and key,
/// each counted once however often it is read.
#[derive(Default)]
pub struct Skipped(BTreeMap<&'static str, BTreeSet<String>>);

impl Skipped {
    /// `rows` without the records the page cannot use, noting those.
    pub fn filter(&mut self, store: &str, rows: impl IntoIterator<Item = JsValue>) -> Array {
        rows.into_iter().filter(|row| self.keep(store, row)).collect()
    }

    pub fn keep(&mut self, store: &str, row: &JsValue) -> bool {
        if usable(store, row) {
            return true;
        }
        if let Some(def) = schema::STORES.iter().find(|d| d.name == store) {
            let key = def.key.iter().map(|k| js_sys::JSON::stringify(&field(row, k)).map(String::from).unwrap_or_default());
            self.0.entry(def.name).or_default().insert(key.collect::<Vec<_>>().join(","));
        }
        false
    }

    /// `{store: count}` of the records kept out so far.
    pub fn counts(&self) -> Object {
        let out = Object::new();
        for (store, keys) in &self.0 {
            let _ = Reflect::set(&out, &JsValue::from_str(store), &JsValue::from(keys.len() as u32));
        }
        out
    }
}
