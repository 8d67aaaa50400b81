//! Several writes that land together or not at all: a new chat with its
//! greeting, a branch with its copied messages, a restored backup. Each op is
//! `{op: "put" | "add", store, value}`, `{op: "delete", store, key}` or
//! `{op: "clear", store}`; they run in order in one transaction.

use std::future::Future;
use std::pin::Pin;

use std::future::IntoFuture;

use idb::TransactionMode;
use wasm_bindgen::prelude::*;

use super::error::{js, message};
use super::tx::Tx;

pub enum Op {
    Put { store: String, value: JsValue },
    Add { store: String, value: JsValue },
    Delete { store: String, key: JsValue },
    Clear { store: String },
}

impl Op {
    fn store(&self) -> &str {
        match self {
            Op::Put { store, .. } | Op::Add { store, .. } | Op::Delete { store, .. } | Op::Clear { store } => store,
        }
    }
}

pub fn read_ops(ops: &js_sys::Array) -> Result<Vec<Op>, JsValue> {
    ops.iter()
        .enumerate()
        .map(|(i, op)| {
            let get = |key: &str| js_sys::Reflect::get(&op, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED);
            let store = get("store")
                .as_string()
                .ok_or_else(|| message(&format!("write {i}: no store named")))?;
            match get("op").as_string().as_deref() {
                Some("put") => Ok(Op::Put { store, value: get("value") }),
                Some("add") => Ok(Op::Add { store, value: get("value") }),
                Some("delete") => Ok(Op::Delete { store, key: get("key") }),
                Some("clear") => Ok(Op::Clear { store }),
                other => Err(message(&format!(
                    "write {i}: unknown op {:?} (put, add, delete or clear)",
                    other.unwrap_or("")
                ))),
            }
        })
        .collect()
}

/// Runs `ops` in one read-write transaction; the keys that puts and adds
/// wrote, in order (undefined for deletes and clears).
pub async fn run(db: &web_sys::IdbDatabase, ops: Vec<Op>) -> Result<js_sys::Array, JsValue> {
    let keys = js_sys::Array::new();
    if ops.is_empty() {
        return Ok(keys);
    }
    let mut stores: Vec<&str> = ops.iter().map(Op::store).collect();
    stores.sort_unstable();
    stores.dedup();
    let tx = Tx::open(db, &stores, TransactionMode::ReadWrite)?;
    // Every request is queued before the first await: the transaction stays
    // alive on its own queue, and the keys are collected as they come back.
    type Key = Pin<Box<dyn Future<Output = Result<JsValue, idb::Error>>>>;
    let mut pending: Vec<Option<Key>> = Vec::new();
    for op in &ops {
        let queued = tx.store(op.store()).and_then(|store| match op {
            Op::Put { value, .. } => Ok(Some(Box::pin(store.put(value, None).map_err(js)?.into_future()) as Key)),
            Op::Add { value, .. } => Ok(Some(Box::pin(store.add(value, None).map_err(js)?.into_future()) as Key)),
            Op::Delete { key, .. } => store.delete(key.clone()).map(|_| None).map_err(js),
            Op::Clear { .. } => store.clear().map(|_| None).map_err(js),
        });
        match queued {
            Ok(request) => pending.push(request),
            // A write refused as it is queued (a value that cannot be stored, a
            // bad key) must take the ones queued before it along: all or none.
            // Their requests then fail, and are awaited so that their handlers
            // are still there when the browser calls them.
            Err(err) => {
                tx.abort();
                for request in pending.into_iter().flatten() {
                    let _ = request.await;
                }
                return Err(err);
            }
        }
    }
    for request in pending {
        let key = match request {
            Some(put) => match put.await {
                Ok(key) => key,
                // The transaction aborts with the reason; `done` reports it.
                Err(_) => break,
            },
            None => JsValue::UNDEFINED,
        };
        keys.push(&key);
    }
    tx.done().await?;
    Ok(keys)
}
