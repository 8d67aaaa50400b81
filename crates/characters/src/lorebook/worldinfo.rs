//! SillyTavern World Info files converted into the card lorebook shape.
//!
//! World Info keeps entries in an object keyed by uid, with camelCase
//! fields. Fields the card format has (keys, content, order, ...) are
//! mapped onto it; every other field goes into the entry's `extensions`
//! under the name SillyTavern itself uses there when it embeds a book in a
//! card (`depth`, `probability`, `selectiveLogic`, `exclude_recursion`...),
//! so converted books and embedded books resolve the same way.

use serde_json::{Map, Value};

use super::entry::MAX_ENTRIES;
use super::error::LorebookError;
use super::types::Position;
use crate::book::{BookEntry, CharacterBook, EntryId, EntryPosition};

/// World Info field -> extension key, where the two differ.
const RENAMES: &[(&str, &str)] = &[
    ("excludeRecursion", "exclude_recursion"),
    ("preventRecursion", "prevent_recursion"),
    ("delayUntilRecursion", "delay_until_recursion"),
    ("scanDepth", "scan_depth"),
    ("matchWholeWords", "match_whole_words"),
    ("groupOverride", "group_override"),
    ("groupWeight", "group_weight"),
    ("useGroupScoring", "use_group_scoring"),
    ("automationId", "automation_id"),
    ("displayIndex", "display_index"),
];

/// Fields consumed into the card entry itself.
const MAPPED: &[&str] =
    &["uid", "key", "keysecondary", "comment", "content", "constant", "selective", "order", "disable", "caseSensitive"];

/// True when `root` looks like World Info (entries keyed by uid, with
/// World Info's `key` field).
pub fn is_world_info(root: &Map<String, Value>) -> bool {
    match root.get("entries") {
        Some(Value::Object(entries)) => entries.values().any(|e| e.get("key").is_some() || e.get("uid").is_some()),
        _ => false,
    }
}

/// Converts a World Info object into a card lorebook.
pub fn from_world_info(root: &Map<String, Value>) -> Result<CharacterBook, LorebookError> {
    let Some(Value::Object(entries)) = root.get("entries") else {
        return Err(LorebookError::NotALorebook("World Info without an `entries` object"));
    };
    if entries.len() > MAX_ENTRIES {
        return Err(LorebookError::TooManyEntries { count: entries.len(), limit: MAX_ENTRIES });
    }
    let mut converted: Vec<(i64, String, BookEntry)> = entries
        .iter()
        .filter_map(|(k, v)| v.as_object().map(|o| (k, o)))
        .map(|(k, o)| {
            let uid = o.get("uid").and_then(as_i64).or_else(|| k.parse().ok()).unwrap_or(i64::MAX);
            (uid, k.clone(), convert_entry(o, uid))
        })
        .collect();
    // Object key order is not meaningful; uid order is stable and matches
    // the order people see in SillyTavern's editor by default.
    converted.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));

    let mut extensions = Map::new();
    for (k, v) in root {
        if k != "entries" && k != "name" {
            extensions.insert(k.clone(), v.clone());
        }
    }
    Ok(CharacterBook {
        name: root.get("name").and_then(Value::as_str).map(str::to_string),
        extensions,
        entries: converted.into_iter().map(|(_, _, e)| e).collect(),
        ..CharacterBook::default()
    })
}

fn convert_entry(o: &Map<String, Value>, uid: i64) -> BookEntry {
    let mut extensions = Map::new();
    for (k, v) in o {
        if MAPPED.contains(&k.as_str()) {
            continue;
        }
        let name = RENAMES.iter().find(|(from, _)| *from == k).map_or(k.as_str(), |(_, to)| to);
        extensions.insert(name.to_string(), v.clone());
    }
    // Keep case sensitivity in extensions too when it is unset (null), so
    // a round trip back to World Info loses nothing.
    let case_sensitive = o.get("caseSensitive").and_then(Value::as_bool);
    if case_sensitive.is_none() {
        if let Some(v) = o.get("caseSensitive") {
            extensions.insert("case_sensitive".into(), v.clone());
        }
    }
    let st_position = o.get("position").and_then(as_i64).unwrap_or(0);
    let card_position = match Position::from_st(st_position, 0, Default::default()).card_field() {
        "before_char" => EntryPosition::BeforeChar,
        _ => EntryPosition::AfterChar,
    };
    let comment = o.get("comment").and_then(Value::as_str).unwrap_or("").to_string();
    BookEntry {
        keys: strings(o.get("key")),
        secondary_keys: strings(o.get("keysecondary")),
        content: o.get("content").and_then(Value::as_str).unwrap_or("").to_string(),
        extensions,
        enabled: !o.get("disable").and_then(Value::as_bool).unwrap_or(false),
        insertion_order: o.get("order").and_then(as_i64).unwrap_or(100),
        case_sensitive,
        use_regex: false,
        constant: o.get("constant").and_then(Value::as_bool).unwrap_or(false),
        id: (uid != i64::MAX).then_some(EntryId::Number(uid)),
        comment: Some(comment),
        selective: o.get("selective").and_then(Value::as_bool).unwrap_or(false),
        position: Some(card_position),
        ..BookEntry::default()
    }
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A key list: an array of strings, or one comma-separated string.
fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .filter(|s| !s.trim().is_empty())
            .collect(),
        Some(Value::String(s)) => s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect(),
        _ => Vec::new(),
    }
}
