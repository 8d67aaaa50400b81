//! Reading and writing standalone lorebook files: the V3 `lorebook_v3`
//! wrapper, a bare V2/V3 `character_book` object, or SillyTavern World Info.

use serde_json::{json, Map, Value};

use super::entry::MAX_ENTRIES;
use super::error::LorebookError;
use super::worldinfo::{from_world_info, is_world_info};
use crate::book::CharacterBook;

/// Largest lorebook file accepted, in bytes.
pub const MAX_LOREBOOK_JSON: usize = 16 * 1024 * 1024;

/// Which shape a lorebook file had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LorebookFormat {
    /// `{"spec": "lorebook_v3", "data": {...}}`
    V3,
    /// A bare `character_book` object with an `entries` array.
    Bare,
    /// SillyTavern World Info (`entries` keyed by uid).
    WorldInfo,
}

/// Parses any supported lorebook file.
pub fn read_lorebook_json(text: &str) -> Result<(CharacterBook, LorebookFormat), LorebookError> {
    if text.len() > MAX_LOREBOOK_JSON {
        return Err(LorebookError::TooLarge { size: text.len(), limit: MAX_LOREBOOK_JSON });
    }
    let value: Value = serde_json::from_str(text).map_err(LorebookError::Json)?;
    let Value::Object(root) = value else {
        return Err(LorebookError::NotALorebook("the JSON is not an object"));
    };
    match root.get("spec").and_then(Value::as_str) {
        Some("lorebook_v3") => {
            let Some(data @ Value::Object(_)) = root.get("data") else {
                return Err(LorebookError::NotALorebook("lorebook_v3 without a `data` object"));
            };
            Ok((bare(data.clone())?, LorebookFormat::V3))
        }
        Some(other) => Err(LorebookError::UnsupportedSpec(other.chars().take(64).collect())),
        None if is_world_info(&root) => Ok((from_world_info(&root)?, LorebookFormat::WorldInfo)),
        None if matches!(root.get("entries"), Some(Value::Array(_))) => {
            Ok((bare(Value::Object(root))?, LorebookFormat::Bare))
        }
        None => Err(LorebookError::NotALorebook("no `entries` found")),
    }
}

fn bare(data: Value) -> Result<CharacterBook, LorebookError> {
    let count = data.get("entries").map_or(0, |e| match e {
        Value::Array(a) => a.len(),
        Value::Object(o) => o.len(),
        _ => 0,
    });
    if count > MAX_ENTRIES {
        return Err(LorebookError::TooManyEntries { count, limit: MAX_ENTRIES });
    }
    serde_json::from_value(data).map_err(LorebookError::Json)
}

/// A lorebook as a V3 standalone file.
pub fn to_lorebook_v3_json(book: &CharacterBook) -> Result<String, LorebookError> {
    let data = serde_json::to_value(book).map_err(LorebookError::Json)?;
    let mut root = Map::new();
    root.insert("spec".into(), json!("lorebook_v3"));
    root.insert("data".into(), data);
    serde_json::to_string_pretty(&Value::Object(root)).map_err(LorebookError::Json)
}
