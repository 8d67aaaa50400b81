//! Character cards: the V3 card data, and reading/writing the V1, V2 and V3
//! formats as JSON, PNG and CHARX.
//!
//! [`Card`] is the V3 `data` object. Older versions are converted on read;
//! fields a version lacks take their defaults. Keys no spec defines are kept
//! in [`Card::extra`] and app data in [`Card::extensions`], so a card written
//! back out carries everything it came in with.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::book::CharacterBook;

mod format;
pub(crate) mod json;
pub(crate) mod lenient;

pub use format::{image_mime, read_any, write_as, Format};
pub use json::{read_json, to_json, to_json_value};

/// Largest card JSON accepted, in bytes. A real card with a big lorebook is a
/// few hundred KiB; anything near this is hostile or broken.
pub const MAX_CARD_JSON: usize = 16 * 1024 * 1024;

/// The card data, as in the V3 spec's `data` object (field names follow the
/// spec's snake_case).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Card {
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub description: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub personality: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub scenario: String,
    /// The greeting that opens a chat.
    #[serde(default, deserialize_with = "lenient::string")]
    pub first_mes: String,
    /// Example dialogues, each introduced by `<START>`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub mes_example: String,
    /// Notes for people (never sent to the model).
    #[serde(default, deserialize_with = "lenient::string")]
    pub creator_notes: String,
    /// Replaces the app's system prompt when non-empty (`{{original}}` keeps it).
    #[serde(default, deserialize_with = "lenient::string")]
    pub system_prompt: String,
    /// Sent after the chat history ("jailbreak" slot).
    #[serde(default, deserialize_with = "lenient::string")]
    pub post_history_instructions: String,
    /// Other greetings the user can swipe to.
    #[serde(default, deserialize_with = "lenient::string_list")]
    pub alternate_greetings: Vec<String>,
    /// Greetings used only in group chats (V3).
    #[serde(default, deserialize_with = "lenient::string_list")]
    pub group_only_greetings: Vec<String>,
    /// The embedded lorebook.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "book"
    )]
    pub character_book: Option<CharacterBook>,
    #[serde(default, deserialize_with = "lenient::string_list")]
    pub tags: Vec<String>,
    #[serde(default, deserialize_with = "lenient::string")]
    pub creator: String,
    #[serde(default, deserialize_with = "lenient::string")]
    pub character_version: String,
    /// Name used in place of `name` for `{{char}}` (V3).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub nickname: Option<String>,
    /// Where the card came from: URLs or ids (V3).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string_list"
    )]
    pub source: Option<Vec<String>>,
    /// Images and other files the card refers to (V3).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "assets"
    )]
    pub assets: Option<Vec<Asset>>,
    /// Unix time in seconds (V3).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub creation_date: Option<i64>,
    /// Unix time in seconds (V3).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_i64"
    )]
    pub modification_date: Option<i64>,
    /// Creator notes by ISO 639-1 language code (V3).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string_map"
    )]
    pub creator_notes_multilingual: Option<BTreeMap<String, String>>,
    /// App-specific data (e.g. SillyTavern's `talkativeness`, `world`), kept verbatim.
    #[serde(default, deserialize_with = "lenient::map")]
    pub extensions: Map<String, Value>,
    /// Keys of `data` that no spec defines, kept verbatim for round trips.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A file the card refers to (V3 `assets`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Asset {
    /// `icon`, `background`, `user_icon`, `emotion`, or an app-defined type.
    #[serde(rename = "type", default, deserialize_with = "lenient::string")]
    pub kind: String,
    /// `embeded://path/in/charx`, `ccdefault:`, a URL or a data URL.
    #[serde(default, deserialize_with = "lenient::string")]
    pub uri: String,
    /// `main` marks the primary asset of its type.
    #[serde(default, deserialize_with = "lenient::string")]
    pub name: String,
    /// File extension without the dot, e.g. `png`.
    #[serde(default, deserialize_with = "lenient::string")]
    pub ext: String,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The card format version a card was read from or is written as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CardSpec {
    /// Flat JSON without `spec` (Tavern / early Pygmalion cards).
    V1,
    /// `spec: "chara_card_v2"`.
    V2,
    /// `spec: "chara_card_v3"`.
    V3,
}

/// A card as read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedCard {
    pub card: Card,
    /// The version the card data was read from.
    pub spec: CardSpec,
    /// The avatar image: for a PNG card the PNG without its card chunks, for
    /// CHARX the icon asset. `None` for JSON cards or a CHARX without an icon.
    pub avatar: Option<Vec<u8>>,
}

impl Card {
    /// The name `{{char}}` stands for: the nickname when set, else the name.
    pub fn display_name(&self) -> &str {
        match &self.nickname {
            Some(n) if !n.trim().is_empty() => n,
            _ => &self.name,
        }
    }
}

fn book<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<CharacterBook>, D::Error> {
    Ok(match Value::deserialize(d)? {
        v @ Value::Object(_) => serde_json::from_value(v).ok(),
        _ => None,
    })
}

fn assets<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<Asset>>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => Some(
            items
                .into_iter()
                .filter(Value::is_object)
                .filter_map(|v| serde_json::from_value(v).ok())
                .collect(),
        ),
        _ => None,
    })
}
