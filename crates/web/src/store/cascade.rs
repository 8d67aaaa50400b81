//! Deletes that take what hangs off a record with it, in one transaction: a
//! chat with its messages, memories and stored prompt prefixes, a character
//! with its chats (and its trained adapter, when no other character names
//! it), a model with its chunks and prefixes. Nothing is left half deleted if the browser stops midway.

use idb::{KeyRange, Query, TransactionMode};
use wasm_bindgen::prelude::*;
use web_sys::IdbDatabase;

use super::error::js;
use super::tx::Tx;

pub async fn chats(db: &IdbDatabase, ids: &[String]) -> Result<(), JsValue> {
    let tx = Tx::open(db, &["chats", "messages", "memories", "prefixes", "prefix-data"], TransactionMode::ReadWrite)?;
    for id in ids {
        chat_in(&tx, &JsValue::from_str(id)).await?;
    }
    tx.done().await
}

pub async fn character(db: &IdbDatabase, id: &str) -> Result<(), JsValue> {
    let stores = ["characters", "chats", "messages", "memories", "prefixes", "prefix-data", "models", "model-chunks"];
    let tx = Tx::open(db, &stores, TransactionMode::ReadWrite)?;
    let key = JsValue::from_str(id);
    let characters = tx.store("characters")?;
    let adapter = characters.get(key.clone()).map_err(js)?.await.map_err(js)?.as_ref().and_then(adapter_of);
    characters.delete(key.clone()).map_err(js)?;
    let by_character = tx.store("chats")?.index("characterId").map_err(js)?;
    let chat_ids = by_character.get_all_keys(Some(Query::from(key)), None).map_err(js)?.await.map_err(js)?;
    for chat in &chat_ids {
        chat_in(&tx, chat).await?;
    }
    if let Some(adapter) = adapter {
        let others = characters.get_all(None, None).map_err(js)?.await.map_err(js)?;
        if !others.iter().any(|c| adapter_of(c).as_deref() == Some(adapter.as_str())) {
            model_in(&tx, &JsValue::from_str(&adapter)).await?;
        }
    }
    tx.done().await
}

/// The stored adapter a character record names (`adapter.id`).
fn adapter_of(record: &JsValue) -> Option<String> {
    let adapter = js_sys::Reflect::get(record, &JsValue::from_str("adapter")).ok()?;
    js_sys::Reflect::get(&adapter, &JsValue::from_str("id")).ok()?.as_string()
}

async fn chat_in(tx: &Tx, id: &JsValue) -> Result<(), JsValue> {
    tx.store("chats")?.delete(id.clone()).map_err(js)?;
    tx.store("memories")?.delete(id.clone()).map_err(js)?;
    let messages = tx.store("messages")?;
    let keys = messages
        .index("chatId")
        .map_err(js)?
        .get_all_keys(Some(Query::from(id.clone())), None)
        .map_err(js)?
        .await
        .map_err(js)?;
    for key in keys {
        messages.delete(key).map_err(js)?;
    }
    // A stored prefix holds the chat's words (as token ids): it goes too.
    prefixes_in(tx, "chatId", id).await
}

async fn prefixes_in(tx: &Tx, index: &str, id: &JsValue) -> Result<(), JsValue> {
    let prefixes = tx.store("prefixes")?;
    let keys = prefixes.index(index).map_err(js)?.get_all_keys(Some(Query::from(id.clone())), None).map_err(js)?.await.map_err(js)?;
    let data = tx.store("prefix-data")?;
    for key in keys {
        data.delete(key.clone()).map_err(js)?;
        prefixes.delete(key).map_err(js)?;
    }
    Ok(())
}

pub async fn model(db: &IdbDatabase, id: &str) -> Result<(), JsValue> {
    let tx = Tx::open(db, &["models", "model-chunks", "prefixes", "prefix-data"], TransactionMode::ReadWrite)?;
    model_in(&tx, &JsValue::from_str(id)).await?;
    tx.done().await
}

async fn model_in(tx: &Tx, key: &JsValue) -> Result<(), JsValue> {
    tx.store("models")?.delete(key.clone()).map_err(js)?;
    prefixes_in(tx, "model", key).await?;
    let from = js_sys::Array::of2(key, &JsValue::from_f64(0.0));
    let to = js_sys::Array::of2(key, &JsValue::from_f64(f64::INFINITY));
    let range = KeyRange::bound(&from, &to, None, None).map_err(js)?;
    tx.store("model-chunks")?.delete(Query::from(range)).map_err(js)?;
    Ok(())
}
