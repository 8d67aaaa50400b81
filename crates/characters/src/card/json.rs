//! Card JSON: reading V1/V2/V3, writing V1/V2/V3.

use serde_json::{Map, Value};

use super::{Card, CardSpec, ImportedCard, MAX_CARD_JSON};
use crate::error::CardError;

const SPEC_V2: &str = "chara_card_v2";
const SPEC_V3: &str = "chara_card_v3";

/// V1 keys that record the exporting app's own state (its avatar file name,
/// its chat file, its clock), meaningless to any other app.
const V1_APP_STATE: [&str; 3] = ["avatar", "chat", "create_date"];

/// V1 app settings that V2 moved into `extensions`.
const V1_TO_EXTENSIONS: [&str; 2] = ["talkativeness", "fav"];

/// Fields a V1 reader looks for at the top level of a V2 file.
const V1_FIELDS: [&str; 6] = [
    "name",
    "description",
    "personality",
    "scenario",
    "first_mes",
    "mes_example",
];

/// Reads a card from JSON bytes (V1 flat, V2 or V3).
pub fn read_json(bytes: &[u8]) -> Result<ImportedCard, CardError> {
    let (card, spec) = parse_card_json(bytes)?;
    Ok(ImportedCard {
        card,
        spec,
        avatar: None,
    })
}

/// Parses card JSON, enforcing the size cap before any parsing happens.
pub(crate) fn parse_card_json(bytes: &[u8]) -> Result<(Card, CardSpec), CardError> {
    if bytes.len() > MAX_CARD_JSON {
        return Err(CardError::TooLarge {
            what: "card JSON",
            size: bytes.len(),
            limit: MAX_CARD_JSON,
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if std::str::from_utf8(bytes).is_err() {
        return Err(CardError::NotUtf8);
    }
    let value: Value = serde_json::from_slice(bytes).map_err(CardError::from_json)?;
    card_from_value(value)
}

/// Interprets a parsed JSON document as a card of whichever version it is.
pub(crate) fn card_from_value(value: Value) -> Result<(Card, CardSpec), CardError> {
    let Value::Object(mut top) = value else {
        return Err(CardError::NotACard("the JSON is not an object"));
    };
    let spec = match top.get("spec") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    match spec.as_deref() {
        Some(SPEC_V3) => Ok((data_card(&mut top)?, CardSpec::V3)),
        Some(SPEC_V2) => Ok((data_card(&mut top)?, CardSpec::V2)),
        Some(other) => Err(CardError::UnsupportedSpec {
            spec: other.chars().take(64).collect(),
            version: top
                .get("spec_version")
                .map(|v| v.to_string().chars().take(32).collect())
                .unwrap_or_default(),
        }),
        // Some exporters wrap V2 data without naming the spec.
        None if top.get("data").is_some_and(|d| d.get("name").is_some()) => {
            Ok((data_card(&mut top)?, CardSpec::V2))
        }
        None => Ok((v1_card(top)?, CardSpec::V1)),
    }
}

fn data_card(top: &mut Map<String, Value>) -> Result<Card, CardError> {
    match top.remove("data") {
        Some(data @ Value::Object(_)) => serde_json::from_value(data).map_err(CardError::from_json),
        _ => Err(CardError::NotACard("the `data` object is missing")),
    }
}

fn v1_card(mut top: Map<String, Value>) -> Result<Card, CardError> {
    if !top.contains_key("name") {
        return Err(CardError::NotACard("no `spec` and no `name` field"));
    }
    for key in V1_APP_STATE {
        top.remove(key);
    }
    let mut extensions = match top.remove("extensions") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    for key in V1_TO_EXTENSIONS {
        if let Some(v) = top.remove(key) {
            extensions.entry(key.to_string()).or_insert(v);
        }
    }
    if let Some(note) = top.remove("creatorcomment") {
        top.entry("creator_notes".to_string()).or_insert(note);
    }
    top.insert("extensions".to_string(), Value::Object(extensions));
    serde_json::from_value(Value::Object(top)).map_err(CardError::from_json)
}

/// The card as a JSON document of the given version.
///
/// V3 is the full card. V2 carries the same `data` minus V3-only fields that
/// are empty, so a V2 card read and written again comes out as it went in;
/// V3-only fields that are set stay in `data`, where V2 readers ignore them
/// and this reader finds them again. V2 also repeats the V1 fields at the top
/// level, for readers that only know V1. V1 is the flat legacy form and drops
/// everything V1 has no place for.
pub fn to_json_value(card: &Card, spec: CardSpec) -> Result<Value, CardError> {
    let data = serde_json::to_value(card).map_err(CardError::Json)?;
    let Value::Object(mut data) = data else {
        return Err(CardError::NotACard("card did not serialise to an object"));
    };
    let mut top = Map::new();
    match spec {
        CardSpec::V3 => {
            top.insert("spec".into(), SPEC_V3.into());
            top.insert("spec_version".into(), "3.0".into());
            top.insert("data".into(), Value::Object(data));
        }
        CardSpec::V2 => {
            if card.group_only_greetings.is_empty() {
                data.remove("group_only_greetings");
            }
            for key in V1_FIELDS {
                if let Some(v) = data.get(key) {
                    top.insert(key.into(), v.clone());
                }
            }
            top.insert("spec".into(), SPEC_V2.into());
            top.insert("spec_version".into(), "2.0".into());
            top.insert("data".into(), Value::Object(data));
        }
        CardSpec::V1 => {
            for key in V1_FIELDS {
                if let Some(v) = data.remove(key) {
                    top.insert(key.into(), v);
                }
            }
            if !card.creator_notes.is_empty() {
                top.insert("creatorcomment".into(), card.creator_notes.clone().into());
            }
            for key in V1_TO_EXTENSIONS {
                if let Some(v) = card.extensions.get(key) {
                    top.insert(key.into(), v.clone());
                }
            }
        }
    }
    Ok(Value::Object(top))
}

/// The card as pretty-printed JSON bytes of the given version.
pub fn to_json(card: &Card, spec: CardSpec) -> Result<Vec<u8>, CardError> {
    let bytes = serde_json::to_vec_pretty(&to_json_value(card, spec)?).map_err(CardError::Json)?;
    check_written_size(bytes)
}

/// Compact JSON, as embedded in PNG chunks.
pub(crate) fn to_json_compact(card: &Card, spec: CardSpec) -> Result<Vec<u8>, CardError> {
    let bytes = serde_json::to_vec(&to_json_value(card, spec)?).map_err(CardError::Json)?;
    check_written_size(bytes)
}

/// A card too big to read back is refused at write time too.
fn check_written_size(bytes: Vec<u8>) -> Result<Vec<u8>, CardError> {
    if bytes.len() > MAX_CARD_JSON {
        return Err(CardError::TooLarge {
            what: "card JSON",
            size: bytes.len(),
            limit: MAX_CARD_JSON,
        });
    }
    Ok(bytes)
}
