//! A read-write transaction and the moment it commits. IndexedDB reports a
//! failed write on the transaction, not always on its request (a full disk
//! aborts the transaction with QuotaExceededError after every request
//! succeeded), so a change counts as saved only once `complete` fires.

use idb::{ObjectStore, Transaction, TransactionMode};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbTransaction};

use super::error::{js, message};

pub struct Tx {
    raw: IdbTransaction,
    inner: Transaction,
}

impl Tx {
    pub fn open<S: AsRef<str>>(db: &IdbDatabase, stores: &[S], mode: TransactionMode) -> Result<Tx, JsValue> {
        let tx = idb::Database::from(db.clone()).transaction(stores, mode).map_err(js)?;
        Ok(Tx::from_raw(tx.into()))
    }

    /// The upgrade's own transaction, handed over by the open request.
    pub fn from_raw(raw: IdbTransaction) -> Tx {
        Tx { inner: Transaction::from(raw.clone()), raw }
    }

    pub fn store(&self, name: &str) -> Result<ObjectStore, JsValue> {
        self.inner.object_store(name).map_err(js)
    }

    pub fn abort(&self) {
        let _ = self.raw.abort();
    }

    /// Resolves when the transaction commits; fails with the transaction's
    /// error when it aborts (a request that failed aborts it).
    pub async fn done(self) -> Result<(), JsValue> {
        let tx = self.raw;
        let promise = js_sys::Promise::new(&mut |resolve, reject| {
            let aborted = tx.clone();
            let complete = Closure::once_into_js(move || {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            });
            let abort = Closure::once_into_js(move || {
                let err = aborted
                    .error()
                    .map(JsValue::from)
                    .unwrap_or_else(|| message("The change was not saved: the browser cancelled it."));
                let _ = reject.call1(&JsValue::UNDEFINED, &err);
            });
            tx.set_oncomplete(Some(complete.unchecked_ref()));
            tx.set_onabort(Some(abort.unchecked_ref()));
        });
        JsFuture::from(promise).await.map(|_| ())
    }
}
