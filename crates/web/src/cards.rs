//! Character cards for the page: read any card file (PNG, CHARX, JSON of
//! any version), write one back out, and read standalone lorebook files.
//!
//! Cards cross the boundary as JSON text of the V3 `data` object, so the
//! page stores exactly what Rust reads and writes, extensions included.

use kindred_characters::card::{image_mime, write_as, Format};
use kindred_characters::lorebook::{read_lorebook_json, LorebookFormat};
use kindred_characters::{read_any, Card, CardSpec, CharacterBook};
use wasm_bindgen::prelude::*;

use crate::error::WebError;
use crate::js::{object, set};

/// A card file, read.
#[derive(Debug, Clone, PartialEq)]
pub struct CardFile {
    /// The V3 `data` object as JSON.
    pub card_json: String,
    pub spec: &'static str,
    pub avatar: Option<Vec<u8>>,
    pub avatar_mime: Option<&'static str>,
}

pub fn spec_name(spec: CardSpec) -> &'static str {
    match spec {
        CardSpec::V1 => "v1",
        CardSpec::V2 => "v2",
        CardSpec::V3 => "v3",
    }
}

fn parse_spec(spec: &str) -> Result<CardSpec, WebError> {
    match spec.trim().to_ascii_lowercase().as_str() {
        "v1" => Ok(CardSpec::V1),
        "v2" | "" => Ok(CardSpec::V2),
        "v3" => Ok(CardSpec::V3),
        _ => Err(WebError::UnknownChoice { what: "card spec", given: spec.chars().take(32).collect(), expected: "v1, v2, v3" }),
    }
}

fn parse_format(format: &str) -> Result<Format, WebError> {
    match format.trim().to_ascii_lowercase().as_str() {
        "png" => Ok(Format::Png),
        "json" => Ok(Format::Json),
        "charx" => Ok(Format::Charx),
        _ => Err(WebError::UnknownChoice { what: "card format", given: format.chars().take(32).collect(), expected: "png, json, charx" }),
    }
}

/// Reads any supported card file.
pub fn read_card_file(bytes: &[u8]) -> Result<CardFile, WebError> {
    let mut imported = read_any(bytes)?;
    if imported.avatar.is_some() && Format::sniff(bytes) == Some(Format::Charx) {
        forget_embedded_icon(&mut imported.card);
    }
    let card_json = serde_json::to_string(&imported.card).map_err(WebError::request("card"))?;
    // Only images a browser shows are kept as avatars.
    let avatar = imported.avatar.filter(|a| image_mime(a).is_some());
    let avatar_mime = avatar.as_deref().and_then(image_mime);
    Ok(CardFile { card_json, spec: spec_name(imported.spec), avatar, avatar_mime })
}

/// The app keeps the avatar beside the card, so the CHARX icon entry that
/// pointed at it inside the archive would dangle; the CHARX writer puts it
/// back. Without this a card would grow an asset on every CHARX round trip.
fn forget_embedded_icon(card: &mut Card) {
    if let Some(assets) = &mut card.assets {
        assets.retain(|a| !(a.kind == "icon" && a.name == "main" && a.uri.starts_with("embeded://")));
        if assets.is_empty() {
            card.assets = None;
        }
    }
}

/// Parses the page's card JSON (a V3 `data` object, or a whole card file's JSON).
pub fn parse_card(card_json: &str) -> Result<Card, WebError> {
    let value: serde_json::Value = serde_json::from_str(card_json).map_err(WebError::request("card"))?;
    if value.get("spec").is_some() || value.get("data").is_some() {
        return Ok(read_any(card_json.as_bytes())?.card);
    }
    serde_json::from_value(value).map_err(WebError::request("card"))
}

/// Writes a card as `png` (V2 and V3 chunks), `json` (`spec` v1/v2/v3) or `charx`.
pub fn write_card_file(card_json: &str, avatar: Option<&[u8]>, format: &str, spec: &str) -> Result<Vec<u8>, WebError> {
    let card = parse_card(card_json)?;
    let format = parse_format(format)?;
    let spec = if format == Format::Json { parse_spec(spec)? } else { CardSpec::V3 };
    Ok(write_as(&card, avatar.filter(|a| !a.is_empty()), format, spec)?)
}

/// A standalone lorebook file, read: the book as `character_book` JSON and
/// the shape it came in.
pub fn read_lorebook_file(text: &str) -> Result<(String, &'static str, usize), WebError> {
    let (book, format) = read_lorebook_json(text)?;
    let json = serde_json::to_string(&book).map_err(WebError::request("lorebook"))?;
    let format = match format {
        LorebookFormat::V3 => "lorebook_v3",
        LorebookFormat::Bare => "character_book",
        LorebookFormat::WorldInfo => "world_info",
    };
    Ok((json, format, book.entries.len()))
}

/// Parses a stored lorebook (`character_book` JSON).
pub fn parse_book(book_json: &str) -> Result<CharacterBook, WebError> {
    serde_json::from_str(book_json).map_err(WebError::request("lorebook"))
}

fn js_err(e: WebError) -> JsError {
    JsError::new(&e.to_string())
}

/// `{card, spec, avatar, avatar_mime}`: `card` is the V3 data object,
/// `avatar` a Uint8Array or null.
#[wasm_bindgen]
pub fn import_card(bytes: &[u8]) -> Result<JsValue, JsError> {
    let file = read_card_file(bytes).map_err(js_err)?;
    let out = object();
    set(&out, "card", js_sys::JSON::parse(&file.card_json).map_err(|_| JsError::new("card JSON could not be handed to the page"))?)?;
    set(&out, "spec", JsValue::from_str(file.spec))?;
    set(&out, "avatar", file.avatar.as_deref().map_or(JsValue::NULL, |a| js_sys::Uint8Array::from(a).into()))?;
    set(&out, "avatar_mime", file.avatar_mime.map_or(JsValue::NULL, JsValue::from_str))?;
    Ok(out.into())
}

/// The card (JSON text of its data) as file bytes.
#[wasm_bindgen]
pub fn export_card(card_json: &str, avatar: Option<Vec<u8>>, format: &str, spec: &str) -> Result<Vec<u8>, JsError> {
    write_card_file(card_json, avatar.as_deref(), format, spec).map_err(js_err)
}

/// The card re-read through Rust: a card the page built or edited comes
/// back with every field in its checked, defaulted form.
#[wasm_bindgen]
pub fn normalize_card(card_json: &str) -> Result<JsValue, JsError> {
    let card = parse_card(card_json).map_err(js_err)?;
    let json = serde_json::to_string(&card).map_err(|e| JsError::new(&e.to_string()))?;
    js_sys::JSON::parse(&json).map_err(|_| JsError::new("card JSON could not be handed to the page"))
}

/// `{book, format, entries}` from a lorebook file's text.
#[wasm_bindgen]
pub fn import_lorebook(text: &str) -> Result<JsValue, JsError> {
    let (json, format, entries) = read_lorebook_file(text).map_err(js_err)?;
    let out = object();
    set(&out, "book", js_sys::JSON::parse(&json).map_err(|_| JsError::new("lorebook JSON could not be handed to the page"))?)?;
    set(&out, "format", JsValue::from_str(format))?;
    set(&out, "entries", JsValue::from_f64(entries as f64))?;
    Ok(out.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERAPHINA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/cards/sillytavern-seraphina-v2.png");

    #[test]
    fn png_round_trip_keeps_the_card() {
        let bytes = std::fs::read(SERAPHINA).expect("the shared card fixtures sit beside the repository");
        let first = read_card_file(&bytes).unwrap();
        assert_eq!(first.spec, "v2");
        assert_eq!(first.avatar_mime, Some("image/png"));
        let card: serde_json::Value = serde_json::from_str(&first.card_json).unwrap();
        assert_eq!(card["name"], "Seraphina");
        let png = write_card_file(&first.card_json, first.avatar.as_deref(), "png", "v3").unwrap();
        let again = read_card_file(&png).unwrap();
        assert_eq!(again.spec, "v3", "the ccv3 chunk is read first");
        assert_eq!(again.card_json, first.card_json);
        assert_eq!(again.avatar, first.avatar, "the image is kept byte for byte");
    }

    #[test]
    fn json_and_charx_round_trips() {
        let card = r#"{"name":"Ada","description":"<script>x</script>","first_mes":"Hi","tags":["a"],"extensions":{"x":1}}"#;
        for (format, spec) in [("json", "v2"), ("json", "v3"), ("charx", "v3"), ("png", "")] {
            let bytes = write_card_file(card, None, format, spec).unwrap();
            let back = read_card_file(&bytes).unwrap();
            let v: serde_json::Value = serde_json::from_str(&back.card_json).unwrap();
            assert_eq!(v["name"], "Ada", "{format}");
            assert_eq!(v["description"], "<script>x</script>", "{format}");
            assert_eq!(v["extensions"]["x"], 1, "{format}");
        }
        // With an avatar, CHARX gives back the same card and the same image.
        let avatar = kindred_characters::png::placeholder_png("Ada");
        let start = read_card_file(&write_card_file(card, None, "json", "v3").unwrap()).unwrap();
        let charx = write_card_file(&start.card_json, Some(&avatar), "charx", "").unwrap();
        let back = read_card_file(&charx).unwrap();
        assert_eq!(back.card_json, start.card_json);
        assert_eq!(back.avatar.as_deref(), Some(avatar.as_slice()));
        let v2 = String::from_utf8(write_card_file(card, None, "json", "v2").unwrap()).unwrap();
        assert!(v2.contains("\"chara_card_v2\""));
        let v3 = String::from_utf8(write_card_file(card, None, "json", "v3").unwrap()).unwrap();
        assert!(v3.contains("\"chara_card_v3\""));
    }

    #[test]
    fn whole_card_files_are_accepted_as_card_json() {
        let file = r#"{"spec":"chara_card_v2","spec_version":"2.0","data":{"name":"Bo","first_mes":"Yo"}}"#;
        assert_eq!(parse_card(file).unwrap().name, "Bo");
        assert_eq!(parse_card(r#"{"name":"Cy"}"#).unwrap().name, "Cy");
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(matches!(read_card_file(b"GIF89a...."), Err(WebError::Card(_))));
        assert!(read_card_file(b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR").is_err());
        assert!(read_card_file(b"PK\x03\x04garbage").is_err());
        assert!(read_card_file(b"{\"spec\":\"chara_card_v9\",\"data\":{}}").is_err());
        assert!(matches!(write_card_file("{", None, "png", ""), Err(WebError::Request { .. })));
        let e = write_card_file(r#"{"name":"A"}"#, None, "gif", "").unwrap_err();
        assert_eq!(e.to_string(), "unknown card format \"gif\" (expected one of: png, json, charx)");
        assert!(write_card_file(r#"{"name":"A"}"#, None, "json", "v7").is_err());
        // A non-PNG avatar cannot be a PNG card's image: a placeholder is drawn.
        let png = write_card_file(r#"{"name":"A"}"#, Some(b"\xFF\xD8\xFFjpeg"), "png", "").unwrap();
        assert!(read_card_file(&png).unwrap().avatar.is_some());
    }

    #[test]
    fn lorebooks_in_every_shape() {
        let v3 = r#"{"spec":"lorebook_v3","data":{"name":"World","entries":[{"keys":["moon"],"content":"The moon is red."}]}}"#;
        let (json, format, n) = read_lorebook_file(v3).unwrap();
        assert_eq!((format, n), ("lorebook_v3", 1));
        assert_eq!(parse_book(&json).unwrap().entries[0].content, "The moon is red.");
        let wi = r#"{"entries":{"0":{"uid":0,"key":["sun"],"keysecondary":[],"content":"Hot.","comment":"Sun"}}}"#;
        let (_, format, n) = read_lorebook_file(wi).unwrap();
        assert_eq!((format, n), ("world_info", 1));
        assert!(read_lorebook_file("[1,2]").is_err());
        assert!(read_lorebook_file(r#"{"spec":"lorebook_v9"}"#).is_err());
    }
}
