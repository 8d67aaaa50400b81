//! IndexedDB failures as the page sees them: the browser's own DOMException
//! wherever there is one, so `err.name` still says `QuotaExceededError` (a full
//! disk) or `InvalidStateError` (a connection another tab's upgrade closed) and
//! the page can act on it; otherwise an Error whose message says what failed.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::DomException;

pub fn js(err: idb::Error) -> JsValue {
    use idb::Error as E;
    let carried = match &err {
        E::DomException(d) => return d.clone().into(),
        E::AddFailed(v)
        | E::ClearFailed(v)
        | E::CountFailed(v)
        | E::DeleteFailed(v)
        | E::GetAllFailed(v)
        | E::GetAllKeysFailed(v)
        | E::GetFailed(v)
        | E::IndexedDbOpenFailed(v)
        | E::IndexNotFound(v)
        | E::KeyRangeCreateFailed(v)
        | E::ObjectStoreCreateFailed(v)
        | E::IndexCreateFailed(v)
        | E::ObjectStoreNotFound(v)
        | E::TransactionOpenFailed(v)
        | E::TransactionAbortError(v)
        | E::TransactionCommitError(v)
        | E::UpdateFailed(v) => Some(v),
        _ => None,
    };
    match carried {
        Some(v) if v.is_instance_of::<DomException>() || v.is_instance_of::<js_sys::Error>() => v.clone(),
        _ => message(&format!("Storage failed: {err}")),
    }
}

/// A plain JS Error with `text` as its message.
pub fn message(text: &str) -> JsValue {
    js_sys::Error::new(text).into()
}
