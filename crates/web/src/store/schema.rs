//! The database's object stores, as of version 4.
//!
//! | store        | key                      | index       | record                                       |
//! | ------------ | ------------------------ | ----------- | -------------------------------------------- |
//! | models       | `id`                     |             | `{id, url, bytes, sha256, chunkSize, chunks, complete, savedAt}` |
//! | model-chunks | `[modelId, index]`       |             | `{modelId, index, data: ArrayBuffer}`        |
//! | characters   | `id`                     |             | `{id, card, spec, avatar, avatarMime, origin, lorebooks, createdAt, updatedAt}` |
//! | chats        | `id`                     | characterId | `{id, characterId, title, createdAt, updatedAt, parent?, cutUntil?, needsGreeting?, kind?, room?, loreState?}` |
//! | messages     | `id` (auto-increment)    | chatId      | `{id, chatId, pos, role, swipes: [{text, status, rating, createdAt, stats?, edits?}], chosen, greeting?, author?, createdAt}` |
//! | settings     | `key`                    |             | `{key, value}`                               |
//! | memories     | `chatId`                 |             | `{chatId, pinned, nextPin, summaries, lastUsed}` |
//! | prefixes     | `key`                    | chatId, model | `{key, model, chatId, tokens, bytes, usedAt}`: a stored prompt prefix |
//! | prefix-data  | `key`                    |             | `{key, data: ArrayBuffer}`: its keys and values (engine `kv_snapshot`) |
//!
//! Version 1 had models, model-chunks and messages `{id, chatId, role,
//! content, status, createdAt}`; version 2 added characters, chats and
//! settings and turned each message into one with swipes (see `migrate`);
//! version 3 added memories; version 4 the stored prompt prefixes, a cache
//! that a chat's deletion takes with it and a backup leaves out. A room is a chat with `kind: "room"` and `room`
//! set; a model record is written with `complete: false` before its first
//! chunk and flipped only after the last, so a torn download is never trusted.

use idb::{Database, IndexParams, KeyPath, ObjectStoreParams};

pub const NAME: &str = "kindred";
pub const VERSION: u32 = 4;

pub struct StoreDef {
    pub name: &'static str,
    /// One name, or several for a compound key.
    pub key: &'static [&'static str],
    pub auto_increment: bool,
    /// Indexes, each on the field of its own name.
    pub indexes: &'static [&'static str],
}

pub const STORES: &[StoreDef] = &[
    StoreDef { name: "models", key: &["id"], auto_increment: false, indexes: &[] },
    StoreDef { name: "model-chunks", key: &["modelId", "index"], auto_increment: false, indexes: &[] },
    StoreDef { name: "messages", key: &["id"], auto_increment: true, indexes: &["chatId"] },
    StoreDef { name: "characters", key: &["id"], auto_increment: false, indexes: &[] },
    StoreDef { name: "chats", key: &["id"], auto_increment: false, indexes: &["characterId"] },
    StoreDef { name: "settings", key: &["key"], auto_increment: false, indexes: &[] },
    StoreDef { name: "memories", key: &["chatId"], auto_increment: false, indexes: &[] },
    StoreDef { name: "prefixes", key: &["key"], auto_increment: false, indexes: &["chatId", "model"] },
    StoreDef { name: "prefix-data", key: &["key"], auto_increment: false, indexes: &[] },
];

/// The stores a person's data lives in: what a backup carries and "Delete
/// everything" clears (the model stores are separate: a model is downloaded
/// again, not backed up).
pub const DATA_STORES: &[&str] = &["characters", "chats", "messages", "settings", "memories"];

/// Creates every store this version has and the database lacks. Stores are
/// only ever added, so an upgrade from any older version is this plus the
/// data migrations.
pub fn create_missing(db: &Database) -> Result<(), idb::Error> {
    let present = db.store_names();
    for def in STORES.iter().filter(|d| !present.iter().any(|p| p == d.name)) {
        let mut params = ObjectStoreParams::new();
        params.auto_increment(def.auto_increment);
        params.key_path(Some(key_path(def.key)));
        let store = db.create_object_store(def.name, params)?;
        for index in def.indexes {
            store.create_index(index, KeyPath::new_single(index), Some(IndexParams::new()))?;
        }
    }
    Ok(())
}

fn key_path(names: &[&str]) -> KeyPath {
    match names {
        [one] => KeyPath::new_single(one),
        many => KeyPath::new_array(many.iter().copied()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_names_are_unique_and_data_stores_exist() {
        for (i, a) in STORES.iter().enumerate() {
            assert!(STORES[i + 1..].iter().all(|b| b.name != a.name), "{} twice", a.name);
            assert!(!a.key.is_empty(), "{} has no key", a.name);
        }
        for name in DATA_STORES {
            assert!(STORES.iter().any(|d| d.name == *name), "{name} is not in the schema");
        }
        assert!(!DATA_STORES.contains(&"model-chunks"), "backups must not carry model weights");
    }

    #[test]
    fn the_auto_increment_store_has_a_single_key() {
        // IndexedDB refuses auto-increment with a compound key path.
        for def in STORES.iter().filter(|d| d.auto_increment) {
            assert_eq!(def.key.len(), 1, "{}", def.name);
        }
    }
}
