//! The lorebook embedded in a card (`character_book`), in the Character Card
//! V2/V3 shape.
//!
//! These are plain data: activation (key scanning, budgets, recursion) lives
//! elsewhere and builds on these types. Every field the specs define is a
//! public field here; keys the specs do not define are kept in `extra`, and
//! app-specific data stays in `extensions`, so a book survives import and
//! export unchanged.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::card::lenient;

/// A lorebook: entries that are inserted into the prompt when their keys
/// appear in the recent chat.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CharacterBook {
    /// Display name of the book.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub name: Option<String>,
    /// Free text about the book, for people.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub description: Option<String>,
    /// How many recent messages are scanned for keys; `None` means the app default.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_u32"
    )]
    pub scan_depth: Option<u32>,
    /// Token budget for all inserted entries together; `None` means the app default.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_u32"
    )]
    pub token_budget: Option<u32>,
    /// Whether inserted entry content is itself scanned for further keys.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_bool"
    )]
    pub recursive_scanning: Option<bool>,
    /// App-specific data, kept verbatim.
    #[serde(default, deserialize_with = "lenient::map")]
    pub extensions: Map<String, Value>,
    /// The entries, in file order.
    #[serde(default, deserialize_with = "entries")]
    pub entries: Vec<BookEntry>,
    /// Keys outside the spec, kept verbatim for round trips.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One lorebook entry.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BookEntry {
    /// Primary keys: the entry fires when any of them appears in the scanned text.
    #[serde(default, deserialize_with = "lenient::string_list")]
    pub keys: Vec<String>,
    /// Secondary keys, consulted only when `selective` is true: then one
    /// primary key and one secondary key must both appear.
    #[serde(default, deserialize_with = "lenient::string_list")]
    pub secondary_keys: Vec<String>,
    /// Text inserted into the prompt when the entry fires.
    #[serde(default, deserialize_with = "lenient::string")]
    pub content: String,
    /// App-specific data (SillyTavern keeps its depth, probability, etc. here).
    #[serde(default, deserialize_with = "lenient::map")]
    pub extensions: Map<String, Value>,
    /// A disabled entry never fires. Defaults to true when absent.
    #[serde(
        default = "lenient::default_true",
        deserialize_with = "lenient::bool_or_true"
    )]
    pub enabled: bool,
    /// Lower values are inserted higher up in the prompt.
    #[serde(default, deserialize_with = "lenient::i64_or_zero")]
    pub insertion_order: i64,
    /// Key matching respects case; `None` means the app default.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_bool"
    )]
    pub case_sensitive: Option<bool>,
    /// Keys are regular expressions (V3). Defaults to false.
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub use_regex: bool,
    /// Always inserted, whatever the keys.
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub constant: bool,
    /// Entry name, for people only.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub name: Option<String>,
    /// When the budget runs out, entries with lower priority are dropped first.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub priority: Option<i64>,
    /// Identifier (V2: number; V3: number or string).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "entry_id"
    )]
    pub id: Option<EntryId>,
    /// Note for people, never sent to the model.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub comment: Option<String>,
    /// Whether `secondary_keys` must also match.
    #[serde(default, deserialize_with = "lenient::bool_or_false")]
    pub selective: bool,
    /// Where the content goes relative to the character definition.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "position"
    )]
    pub position: Option<EntryPosition>,
    /// Keys outside the spec, kept verbatim for round trips.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An entry id: V2 allows numbers, V3 numbers or strings.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EntryId {
    Number(i64),
    Text(String),
}

/// Placement of an entry's content relative to the character definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryPosition {
    BeforeChar,
    AfterChar,
}

fn entries<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<BookEntry>, D::Error> {
    // Some exporters write entries as an object keyed by uid; take its values.
    let items = match Value::deserialize(d)? {
        Value::Array(items) => items,
        Value::Object(m) => m.into_iter().map(|(_, v)| v).collect(),
        _ => Vec::new(),
    };
    Ok(items
        .into_iter()
        .filter(Value::is_object)
        .filter_map(|v| serde_json::from_value(v).ok())
        .collect())
}

fn entry_id<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<EntryId>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(EntryId::Text(s)),
        v => lenient::value_to_i64(&v).map(EntryId::Number),
    })
}

fn position<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<EntryPosition>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "before_char" => Some(EntryPosition::BeforeChar),
            "after_char" => Some(EntryPosition::AfterChar),
            _ => None,
        },
        // SillyTavern's numeric positions: 0 before, 1 after the character.
        v => match lenient::value_to_i64(&v) {
            Some(0) => Some(EntryPosition::BeforeChar),
            Some(1) => Some(EntryPosition::AfterChar),
            _ => None,
        },
    })
}
