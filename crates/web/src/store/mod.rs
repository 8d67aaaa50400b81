//! The page's IndexedDB database through `idb`: the schema and its
//! migrations live here, and the page's stores (www/js/*-store.js) make every
//! read and write through a `Store`. Records stay JS values (structured
//! clones), so avatars and model chunks keep their ArrayBuffers and no field
//! the page adds is lost on the way through.

mod batch;
mod cascade;
mod error;
pub mod migrate;
mod readable;
pub mod schema;
mod tx;

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

use idb::{Query, TransactionMode};
use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::IdbDatabase;

use error::{js, message};
use readable::Skipped;
use tx::Tx;

/// An open connection to the page's database.
#[wasm_bindgen]
pub struct Store {
    db: IdbDatabase,
    skipped: Rc<RefCell<Skipped>>,
}

/// Opens (creating or upgrading) the database `name` (default "kindred").
/// Rejects when another tab holds an older version open, rather than wait.
#[wasm_bindgen(js_name = openStore)]
pub fn open_store(name: Option<String>) -> Promise {
    future_to_promise(async move {
        let name = name.unwrap_or_else(|| schema::NAME.to_string());
        let db = open(&name).await?;
        Ok(Store { db, skipped: Rc::default() }.into())
    })
}

/// A database a newer Kindred upgraded (its version above this one's) opens
/// as it is: stores are only ever added, so it holds every store this version
/// uses; the page says so (`Store.newer`), and records in a shape this version
/// does not know are left out of reads (`readable`).
async fn open(name: &str) -> Result<IdbDatabase, JsValue> {
    match open_at(name, Some(schema::VERSION)).await {
        Err(err) if err.dyn_ref::<web_sys::DomException>().is_some_and(|e| e.name() == "VersionError") => {
            let db = open_at(name, None).await?;
            let present = idb::Database::from(db.clone()).store_names();
            if let Some(missing) = schema::STORES.iter().find(|d| !present.iter().any(|p| p == d.name)) {
                db.close();
                return Err(message(&format!(
                    "The data here was saved by a newer version of Kindred without the \"{}\" store this version needs.",
                    missing.name
                )));
            }
            Ok(db)
        }
        other => other,
    }
}

async fn open_at(name: &str, version: Option<u32>) -> Result<IdbDatabase, JsValue> {
    let factory = idb::Factory::new().map_err(js)?;
    let mut request = factory.open(name, version).map_err(js)?;
    request.on_upgrade_needed(upgrade);
    let blocked = Promise::new(&mut |_, reject| {
        request.on_blocked(move |_| {
            let _ = reject.call1(&JsValue::UNDEFINED, &message("The database is blocked by another open tab."));
        });
    });
    let opened = future_to_promise(async move {
        let db = request.await.map_err(js)?;
        Ok(IdbDatabase::from(db).into())
    });
    let db: IdbDatabase = JsFuture::from(Promise::race(&Array::of2(&opened, &blocked))).await?.unchecked_into();
    // Another tab upgrading the schema must not be blocked by this one; the
    // page reopens on its next InvalidStateError.
    let closing = db.clone();
    let on_change = Closure::<dyn FnMut()>::new(move || closing.close());
    db.set_onversionchange(Some(on_change.as_ref().unchecked_ref()));
    on_change.forget();
    Ok(db)
}

/// Creates what the schema lacks, then migrates data in the same transaction.
fn upgrade(event: idb::event::VersionChangeEvent) {
    use idb::{DatabaseEvent, Event, Request};
    let Ok(request) = event.target() else { return };
    let Some(raw) = request.transaction() else { return };
    let tx = Tx::from_raw(raw.into());
    let created = event.database().and_then(|db| schema::create_missing(&db));
    let old = event.old_version().unwrap_or(0);
    if let Err(err) = created {
        warn(&format!("The database could not be upgraded: {err}"));
        tx.abort();
        return;
    }
    if (1..2).contains(&old) {
        let now = js_sys::Date::now();
        wasm_bindgen_futures::spawn_local(async move {
            if migrate::v1_messages(&tx, now).await.is_err() {
                // Rolls the upgrade back: the old data stays, the open fails.
                tx.abort();
            }
        });
    }
}

fn warn(text: &str) {
    let console = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("console")).unwrap_or(JsValue::UNDEFINED);
    if let Ok(warn) = js_sys::Reflect::get(&console, &JsValue::from_str("warn")) {
        if let Some(warn) = warn.dyn_ref::<js_sys::Function>() {
            let _ = warn.call1(&console, &JsValue::from_str(text));
        }
    }
}

fn promise<F>(work: F) -> Promise
where
    F: Future<Output = Result<JsValue, JsValue>> + 'static,
{
    future_to_promise(work)
}

#[wasm_bindgen]
impl Store {
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.db.name()
    }

    #[wasm_bindgen(getter)]
    pub fn version(&self) -> f64 {
        self.db.version()
    }

    /// Whether a newer Kindred saved this database (its version is above the
    /// schema this page knows).
    #[wasm_bindgen(getter)]
    pub fn newer(&self) -> bool {
        self.db.version() > f64::from(schema::VERSION)
    }

    /// The object stores, sorted.
    #[wasm_bindgen(js_name = storeNames)]
    pub fn store_names(&self) -> Vec<String> {
        let mut names = idb::Database::from(self.db.clone()).store_names();
        names.sort();
        names
    }

    /// The stores a person's data lives in (what a backup carries).
    #[wasm_bindgen(js_name = dataStores)]
    pub fn data_stores() -> Vec<String> {
        schema::DATA_STORES.iter().map(|s| s.to_string()).collect()
    }

    pub fn close(&self) {
        self.db.close();
    }

    /// Of the person's data, the records every read has left out so far
    /// because the page cannot use them (see `readable`): `{store: count}`.
    /// They stay in the database as they are.
    pub fn unreadable(&self) -> js_sys::Object {
        self.skipped.borrow().counts()
    }

    /// The record under `key`, or undefined (also for one the page cannot use).
    pub fn get(&self, store: String, key: JsValue) -> Promise {
        let (db, skipped) = (self.db.clone(), self.skipped.clone());
        promise(async move {
            let tx = Tx::open(&db, &[&store], TransactionMode::ReadOnly)?;
            let found = tx.store(&store)?.get(Query::from(key)).map_err(js)?.await.map_err(js)?;
            Ok(found.filter(|row| skipped.borrow_mut().keep(&store, row)).unwrap_or(JsValue::UNDEFINED))
        })
    }

    /// Every record of `store`, in key order.
    #[wasm_bindgen(js_name = getAll)]
    pub fn get_all(&self, store: String) -> Promise {
        let (db, skipped) = (self.db.clone(), self.skipped.clone());
        promise(async move {
            let tx = Tx::open(&db, &[&store], TransactionMode::ReadOnly)?;
            let rows = tx.store(&store)?.get_all(None, None).map_err(js)?.await.map_err(js)?;
            Ok(skipped.borrow_mut().filter(&store, rows).into())
        })
    }

    /// The records of `store` whose `index` field equals `key`.
    #[wasm_bindgen(js_name = getAllBy)]
    pub fn get_all_by(&self, store: String, index: String, key: JsValue) -> Promise {
        let (db, skipped) = (self.db.clone(), self.skipped.clone());
        promise(async move {
            let tx = Tx::open(&db, &[&store], TransactionMode::ReadOnly)?;
            let by = tx.store(&store)?.index(&index).map_err(js)?;
            let rows = by.get_all(Some(Query::from(key)), None).map_err(js)?.await.map_err(js)?;
            Ok(skipped.borrow_mut().filter(&store, rows).into())
        })
    }

    /// Every record of several stores, read in one transaction (a consistent
    /// snapshot for a backup): an array of arrays, in the order asked.
    #[wasm_bindgen(js_name = getAllOf)]
    pub fn get_all_of(&self, stores: Vec<String>) -> Promise {
        let (db, skipped) = (self.db.clone(), self.skipped.clone());
        promise(async move {
            let tx = Tx::open(&db, &stores, TransactionMode::ReadOnly)?;
            let out = Array::new();
            for name in &stores {
                let rows = tx.store(name)?.get_all(None, None).map_err(js)?.await.map_err(js)?;
                out.push(&skipped.borrow_mut().filter(name, rows));
            }
            Ok(out.into())
        })
    }

    pub fn count(&self, store: String) -> Promise {
        let db = self.db.clone();
        promise(async move {
            let tx = Tx::open(&db, &[&store], TransactionMode::ReadOnly)?;
            let n = tx.store(&store)?.count(None).map_err(js)?.await.map_err(js)?;
            Ok(JsValue::from(n))
        })
    }

    /// Writes `value` (replacing any record with its key); resolves to its
    /// key once committed.
    pub fn put(&self, store: String, value: JsValue) -> Promise {
        self.write_one(batch::Op::Put { store, value })
    }

    /// Adds `value`, which must not exist yet; resolves to its key (the new
    /// id in an auto-increment store) once committed.
    pub fn add(&self, store: String, value: JsValue) -> Promise {
        self.write_one(batch::Op::Add { store, value })
    }

    pub fn delete(&self, store: String, key: JsValue) -> Promise {
        self.write_one(batch::Op::Delete { store, key })
    }

    fn write_one(&self, op: batch::Op) -> Promise {
        let db = self.db.clone();
        promise(async move { Ok(batch::run(&db, vec![op]).await?.get(0)) })
    }

    /// Several writes in one transaction (see `batch`): all land or none.
    /// Resolves to the keys written.
    pub fn write(&self, ops: Array) -> Promise {
        let db = self.db.clone();
        promise(async move {
            let ops = batch::read_ops(&ops)?;
            Ok(batch::run(&db, ops).await?.into())
        })
    }

    /// Reads the record under `key`, assigns `changes` over it and writes it
    /// back, in one transaction. Resolves to whether there was a record.
    pub fn merge(&self, store: String, key: JsValue, changes: js_sys::Object) -> Promise {
        let db = self.db.clone();
        promise(async move {
            let tx = Tx::open(&db, &[&store], TransactionMode::ReadWrite)?;
            let records = tx.store(&store)?;
            let found = records.get(Query::from(key)).map_err(js)?.await.map_err(js)?;
            let Some(record) = found.filter(JsValue::is_object) else {
                tx.done().await?;
                return Ok(JsValue::FALSE);
            };
            let copy = js_sys::Object::assign(&js_sys::Object::new(), record.unchecked_ref());
            let merged = js_sys::Object::assign(&copy, &changes);
            records.put(&merged, None).map_err(js)?;
            tx.done().await?;
            Ok(JsValue::TRUE)
        })
    }

    /// Empties the named stores together.
    pub fn clear(&self, stores: Vec<String>) -> Promise {
        let db = self.db.clone();
        promise(async move {
            let ops = stores.into_iter().map(|store| batch::Op::Clear { store }).collect();
            batch::run(&db, ops).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Deletes chats with their messages and memories.
    #[wasm_bindgen(js_name = deleteChats)]
    pub fn delete_chats(&self, ids: Vec<String>) -> Promise {
        let db = self.db.clone();
        promise(async move {
            cascade::chats(&db, &ids).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Deletes a character with all its chats, their messages and memories.
    #[wasm_bindgen(js_name = deleteCharacter)]
    pub fn delete_character(&self, id: String) -> Promise {
        let db = self.db.clone();
        promise(async move {
            cascade::character(&db, &id).await?;
            Ok(JsValue::UNDEFINED)
        })
    }

    /// Deletes a stored model with all its chunks.
    #[wasm_bindgen(js_name = deleteModel)]
    pub fn delete_model(&self, id: String) -> Promise {
        let db = self.db.clone();
        promise(async move {
            cascade::model(&db, &id).await?;
            Ok(JsValue::UNDEFINED)
        })
    }
}
