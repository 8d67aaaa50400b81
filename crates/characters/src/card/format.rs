//! Card file formats: telling them apart by their first bytes, and reading
//! or writing whichever one a file calls for.

use super::{Card, CardSpec, ImportedCard};
use crate::error::CardError;
use crate::{charx, png};

/// A card container format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Json,
    Png,
    Charx,
}

impl Format {
    /// Recognises a format from the file's first bytes.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(&png::SIGNATURE) {
            return Some(Format::Png);
        }
        // Local file header, or the end record of an empty archive.
        if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
            return Some(Format::Charx);
        }
        let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        match text.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => Some(Format::Json),
            _ => None,
        }
    }

    /// The format a file name's extension calls for (`json`, `png`, `charx`).
    pub fn from_extension(path: &str) -> Option<Format> {
        let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "json" => Some(Format::Json),
            "png" | "apng" => Some(Format::Png),
            "charx" | "zip" => Some(Format::Charx),
            _ => None,
        }
    }
}

/// Reads a card from any supported file: PNG/APNG, CHARX or JSON.
pub fn read_any(bytes: &[u8]) -> Result<ImportedCard, CardError> {
    match Format::sniff(bytes) {
        Some(Format::Png) => png::read_png(bytes),
        Some(Format::Charx) => charx::read_charx(bytes),
        Some(Format::Json) => super::read_json(bytes),
        None => Err(CardError::UnknownFormat),
    }
}

/// Writes a card in the given format. `spec` chooses the JSON version; a PNG
/// always carries both V2 and V3, and CHARX is V3 by definition. The avatar
/// becomes the PNG image (when it is a PNG; otherwise a placeholder is drawn)
/// or the CHARX icon.
pub fn write_as(
    card: &Card,
    avatar: Option<&[u8]>,
    format: Format,
    spec: CardSpec,
) -> Result<Vec<u8>, CardError> {
    match format {
        Format::Json => super::to_json(card, spec),
        Format::Png => png::write_png(card, avatar.filter(|a| a.starts_with(&png::SIGNATURE))),
        Format::Charx => charx::write_charx(card, avatar),
    }
}

/// The MIME type of an image, from its signature.
pub fn image_mime(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&png::SIGNATURE) {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        Some("image/webp")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.get(4..12) == Some(b"ftypavif") {
        Some("image/avif")
    } else {
        None
    }
}
