//! CHARX: a zip archive holding `card.json` (V3) and the card's files under
//! `assets/`. Reading is bounded: entry count and inflated sizes are capped,
//! so a zip bomb is refused instead of filling memory.

use std::io::{Cursor, Read, Write};

use zip::result::ZipError;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::card::{self, image_mime, Asset, Card, CardSpec, ImportedCard, MAX_CARD_JSON};
use crate::error::CardError;

/// Most entries accepted in an archive. Cards with many expression images
/// have a few hundred.
pub const MAX_ENTRIES: usize = 10_000;

/// Largest avatar accepted, inflated.
pub const MAX_ICON_BYTES: usize = 32 * 1024 * 1024;

const CARD_PATH: &str = "card.json";
const ICON_DIR: &str = "assets/icon/";
/// The V3 spec's (misspelt) scheme for files inside the archive.
const EMBED_SCHEME: &str = "embeded://";

fn zip_error(e: ZipError) -> CardError {
    CardError::Charx(e.to_string())
}

/// Reads one entry, never inflating more than `limit` bytes.
fn read_entry(
    archive: &mut ZipArchive<Cursor<&[u8]>>,
    name: &str,
    limit: usize,
) -> Result<Option<Vec<u8>>, CardError> {
    let file = match archive.by_name(name) {
        Ok(f) => f,
        Err(ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(zip_error(e)),
    };
    if file.size() > limit as u64 {
        return Err(CardError::CharxEntryTooLarge {
            name: name.to_string(),
            limit,
        });
    }
    let mut out = Vec::new();
    // The declared size may lie; the bounded reader is what holds the line.
    file.take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| CardError::Charx(format!("{name}: {e}")))?;
    if out.len() > limit {
        return Err(CardError::CharxEntryTooLarge {
            name: name.to_string(),
            limit,
        });
    }
    Ok(Some(out))
}

/// The archive path of the card's main icon, if it is stored in the archive.
fn icon_path(card: &Card, archive: &ZipArchive<Cursor<&[u8]>>) -> Option<String> {
    let icons: Vec<&Asset> = card
        .assets
        .iter()
        .flatten()
        .filter(|a| a.kind == "icon")
        .collect();
    let main = icons.iter().find(|a| a.name == "main").or(icons.first());
    let embedded = main.and_then(|a| {
        a.uri
            .strip_prefix(EMBED_SCHEME)
            .or_else(|| a.uri.strip_prefix("embedded://"))
            .map(|p| p.trim_start_matches('/').to_string())
    });
    // Without a usable reference, any file under assets/icon/ will do.
    embedded.or_else(|| {
        archive
            .file_names()
            .filter_map(Result::ok)
            .filter(|n| n.starts_with(ICON_DIR) && !n.ends_with('/'))
            .min()
            .map(|n| n.into_owned())
    })
}

/// Reads a CHARX archive. The avatar is the card's main icon when the
/// archive holds it.
pub fn read_charx(bytes: &[u8]) -> Result<ImportedCard, CardError> {
    let mut archive = ZipArchive::new(Cursor::new(bytes)).map_err(zip_error)?;
    if archive.len() > MAX_ENTRIES {
        return Err(CardError::CharxTooManyEntries {
            count: archive.len(),
            limit: MAX_ENTRIES,
        });
    }
    let json = read_entry(&mut archive, CARD_PATH, MAX_CARD_JSON)?.ok_or(CardError::CharxNoCard)?;
    let (card, spec) = card::json::parse_card_json(&json)?;
    let avatar = match icon_path(&card, &archive) {
        Some(path) => read_entry(&mut archive, &path, MAX_ICON_BYTES)?,
        None => None,
    };
    Ok(ImportedCard { card, spec, avatar })
}

fn extension_for(image: &[u8]) -> &'static str {
    match image_mime(image) {
        Some("image/jpeg") => "jpeg",
        Some("image/webp") => "webp",
        Some("image/gif") => "gif",
        Some("image/avif") => "avif",
        _ => "png",
    }
}

/// Writes a CHARX archive: `card.json` (V3) and, when given, the avatar as
/// the main icon under `assets/icon/image/`, referenced from the card's
/// `assets` in place of any previous main icon.
pub fn write_charx(card: &Card, avatar: Option<&[u8]>) -> Result<Vec<u8>, CardError> {
    let mut card = card.clone();
    let icon = avatar.map(|image| {
        let ext = extension_for(image);
        let path = format!("{ICON_DIR}image/main.{ext}");
        let assets = card.assets.get_or_insert_with(Vec::new);
        assets.retain(|a| !(a.kind == "icon" && a.name == "main"));
        assets.insert(
            0,
            Asset {
                kind: "icon".into(),
                uri: format!("{EMBED_SCHEME}{path}"),
                name: "main".into(),
                ext: ext.into(),
                ..Asset::default()
            },
        );
        (path, image)
    });
    let json = card::to_json(&card, CardSpec::V3)?;

    let write_err = |e: ZipError| CardError::CharxWrite(e.to_string());
    let io_err = |e: std::io::Error| CardError::CharxWrite(e.to_string());
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    zip.start_file(CARD_PATH, deflated).map_err(write_err)?;
    zip.write_all(&json).map_err(io_err)?;
    if let Some((path, image)) = icon {
        // Images are compressed already; storing them saves time for nothing lost.
        let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
        zip.start_file(path, stored).map_err(write_err)?;
        zip.write_all(image).map_err(io_err)?;
    }
    Ok(zip.finish().map_err(write_err)?.into_inner())
}
