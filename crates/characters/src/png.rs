//! Character cards inside PNG (and APNG) images.
//!
//! The card JSON sits base64-encoded in text chunks: `ccv3` holds V3, `chara`
//! holds V2 for older readers. Reading prefers `ccv3`. Writing replaces any
//! old card chunks and adds both, leaving every image chunk (including APNG
//! animation chunks) untouched.

use std::borrow::Cow;
use std::io::{Read, Write};

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};

use crate::card::{json, Card, CardSpec, ImportedCard, MAX_CARD_JSON};
use crate::error::CardError;

pub const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n'];

/// Largest base64 text accepted for a card: the JSON cap, encoded, plus slack
/// for line breaks some encoders insert.
const MAX_CARD_TEXT: usize = MAX_CARD_JSON / 3 * 4 + 4096;

/// Accepts padded and unpadded base64 alike; writers disagree.
const B64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const B64_URL_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// One chunk, borrowed from the file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chunk<'a> {
    pub kind: [u8; 4],
    pub data: &'a [u8],
    /// Byte offset of the chunk's length field.
    pub offset: usize,
}

impl Chunk<'_> {
    fn raw<'b>(&self, file: &'b [u8]) -> &'b [u8] {
        file.get(self.offset..self.offset + 12 + self.data.len())
            .unwrap_or_default()
    }

    fn kind_name(&self) -> String {
        String::from_utf8_lossy(&self.kind).into_owned()
    }
}

/// Splits a PNG into chunks, checking lengths and CRCs, up to and including IEND.
pub(crate) fn chunks(file: &[u8]) -> Result<Vec<Chunk<'_>>, CardError> {
    let Some(mut rest) = file.strip_prefix(&SIGNATURE) else {
        return Err(CardError::PngSignature);
    };
    let mut offset = SIGNATURE.len();
    let mut out = Vec::new();
    loop {
        let (Some(len), Some(kind)) = (rest.get(0..4), rest.get(4..8)) else {
            return Err(CardError::PngTruncated { offset });
        };
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
        if len > i32::MAX as u32 {
            return Err(CardError::PngMalformed("chunk length over 2^31-1"));
        }
        let len = len as usize;
        let (Some(data), Some(crc)) = (rest.get(8..8 + len), rest.get(8 + len..12 + len)) else {
            return Err(CardError::PngTruncated { offset });
        };
        let kind = [kind[0], kind[1], kind[2], kind[3]];
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&kind);
        hasher.update(data);
        let chunk = Chunk { kind, data, offset };
        if hasher.finalize() != u32::from_be_bytes([crc[0], crc[1], crc[2], crc[3]]) {
            return Err(CardError::PngBadCrc {
                chunk: chunk.kind_name(),
                offset,
            });
        }
        if out.is_empty() && &kind != b"IHDR" {
            return Err(CardError::PngMalformed("first chunk is not IHDR"));
        }
        out.push(chunk);
        if &kind == b"IEND" {
            return Ok(out);
        }
        rest = rest.get(12 + len..).unwrap_or_default();
        offset += 12 + len;
    }
}

/// A decoded text chunk: keyword and raw text bytes (inflated if needed).
struct TextChunk<'a> {
    keyword: &'a [u8],
    text: Cow<'a, [u8]>,
}

/// The keyword of a tEXt/zTXt/iTXt chunk, without inflating anything.
fn keyword<'a>(chunk: &Chunk<'a>) -> Option<&'a [u8]> {
    match &chunk.kind {
        b"tEXt" | b"zTXt" | b"iTXt" => chunk.data.split(|&b| b == 0).next(),
        _ => None,
    }
}

/// Whether a text chunk holds card data that a rewrite must replace: the V2
/// and V3 cards, V3 assets embedded in the PNG, and RisuAI's private copy of
/// the character (kept, it would go stale once the card is edited).
fn is_card_keyword(k: &[u8]) -> bool {
    k.eq_ignore_ascii_case(b"chara")
        || k.eq_ignore_ascii_case(b"ccv3")
        || k.eq_ignore_ascii_case(b"risuai")
        || k.get(..16)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"chara-ext-asset_"))
}

fn text_chunk<'a>(chunk: &Chunk<'a>) -> Result<Option<TextChunk<'a>>, CardError> {
    let Some(keyword) = keyword(chunk) else {
        return Ok(None);
    };
    let after = chunk.data.get(keyword.len() + 1..).unwrap_or_default();
    let text = match &chunk.kind {
        b"tEXt" => Cow::Borrowed(after),
        b"zTXt" => {
            // Compression method byte (0 = zlib), then the stream.
            let stream = after.get(1..).unwrap_or_default();
            Cow::Owned(inflate(stream, chunk)?)
        }
        b"iTXt" => {
            let (Some(&flag), Some(_method)) = (after.first(), after.get(1)) else {
                return Err(CardError::PngMalformed("iTXt chunk too short"));
            };
            let mut parts = after.get(2..).unwrap_or_default().splitn(3, |&b| b == 0);
            let (_lang, _translated) = (parts.next(), parts.next());
            let body = parts
                .next()
                .ok_or(CardError::PngMalformed("iTXt chunk missing its text"))?;
            if flag == 1 {
                Cow::Owned(inflate(body, chunk)?)
            } else {
                Cow::Borrowed(body)
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(TextChunk { keyword, text }))
}

/// Inflates a zlib stream, stopping one byte past the cap so a small chunk
/// cannot expand into gigabytes.
fn inflate(stream: &[u8], chunk: &Chunk<'_>) -> Result<Vec<u8>, CardError> {
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(stream)
        .take(MAX_CARD_TEXT as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|_| CardError::PngInflate {
            chunk: chunk.kind_name(),
        })?;
    if out.len() > MAX_CARD_TEXT {
        return Err(CardError::TooLarge {
            what: "card text chunk",
            size: out.len(),
            limit: MAX_CARD_TEXT,
        });
    }
    Ok(out)
}

/// Card JSON from a chunk's text: base64 as the specs say, or raw JSON,
/// which a few writers emit.
fn decode_card_text(keyword: &[u8], text: &[u8]) -> Result<(Card, CardSpec), CardError> {
    if text.len() > MAX_CARD_TEXT {
        return Err(CardError::TooLarge {
            what: "card text chunk",
            size: text.len(),
            limit: MAX_CARD_TEXT,
        });
    }
    let trimmed = text.trim_ascii();
    if trimmed.first() == Some(&b'{') {
        return json::parse_card_json(trimmed);
    }
    let compact: Vec<u8> = trimmed
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let decoded = B64_LENIENT
        .decode(&compact)
        .or_else(|e| B64_URL_LENIENT.decode(&compact).map_err(|_| e));
    match decoded {
        Ok(bytes) => json::parse_card_json(&bytes),
        Err(source) => Err(CardError::BadBase64 {
            chunk: String::from_utf8_lossy(keyword).into_owned(),
            source,
        }),
    }
}

/// Reads the card from a PNG/APNG. The avatar is the image with its card
/// chunks removed.
pub fn read_png(file: &[u8]) -> Result<ImportedCard, CardError> {
    let all = chunks(file)?;
    let (mut ccv3, mut chara) = (None, None);
    for chunk in &all {
        // Only card chunks are decoded: other compressed text is never inflated.
        match keyword(chunk) {
            Some(k) if k.eq_ignore_ascii_case(b"ccv3") && ccv3.is_none() => {
                ccv3 = text_chunk(chunk).transpose()
            }
            Some(k) if k.eq_ignore_ascii_case(b"chara") && chara.is_none() => {
                chara = text_chunk(chunk).transpose()
            }
            _ => {}
        }
    }
    let decode = |t: Option<Result<TextChunk<'_>, CardError>>| {
        t.map(|r| r.and_then(|t| decode_card_text(t.keyword, &t.text)))
    };
    // A broken V3 chunk next to a good V2 one still yields the card.
    let (card, spec) = match (decode(ccv3), chara) {
        (Some(Ok(found)), _) => found,
        (Some(Err(e)), chara) => match decode(chara) {
            Some(Ok(found)) => found,
            _ => return Err(e),
        },
        (None, chara) => decode(chara).unwrap_or(Err(CardError::PngNoCard))?,
    };
    Ok(ImportedCard {
        card,
        spec,
        avatar: Some(without_card_chunks(file, &all)),
    })
}

/// The file with every card chunk dropped; all other chunks byte for byte.
fn without_card_chunks(file: &[u8], all: &[Chunk<'_>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(file.len());
    out.extend_from_slice(&SIGNATURE);
    for chunk in all {
        if !keyword(chunk).is_some_and(is_card_keyword) {
            out.extend_from_slice(chunk.raw(file));
        }
    }
    out
}

fn write_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    // Callers only pass data far below 2^31 bytes (card JSON is capped).
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(kind);
    hasher.update(data);
    out.extend_from_slice(&hasher.finalize().to_be_bytes());
}

fn text_chunk_data(keyword: &str, text: &[u8]) -> Vec<u8> {
    let mut data = Vec::with_capacity(keyword.len() + 1 + text.len());
    data.extend_from_slice(keyword.as_bytes());
    data.push(0);
    data.extend_from_slice(text);
    data
}

/// Writes the card into a PNG: `chara` (V2) and `ccv3` (V3) text chunks go
/// just before IEND, replacing any earlier card chunks. Without an image a
/// small placeholder is drawn.
pub fn write_png(card: &Card, image: Option<&[u8]>) -> Result<Vec<u8>, CardError> {
    let placeholder;
    let image = match image {
        Some(bytes) => bytes,
        None => {
            placeholder = placeholder_png(card.display_name());
            &placeholder
        }
    };
    let all = chunks(image)?;
    let card = &with_image_as_icon(card);
    let v2 = base64::engine::general_purpose::STANDARD
        .encode(json::to_json_compact(card, CardSpec::V2)?);
    let v3 = base64::engine::general_purpose::STANDARD
        .encode(json::to_json_compact(card, CardSpec::V3)?);
    let mut out = Vec::with_capacity(image.len() + v2.len() + v3.len() + 64);
    out.extend_from_slice(&SIGNATURE);
    for chunk in &all {
        if &chunk.kind == b"IEND" {
            write_chunk(&mut out, b"tEXt", &text_chunk_data("chara", v2.as_bytes()));
            write_chunk(&mut out, b"tEXt", &text_chunk_data("ccv3", v3.as_bytes()));
        }
        if !keyword(chunk).is_some_and(is_card_keyword) {
            out.extend_from_slice(chunk.raw(image));
        }
    }
    Ok(out)
}

/// In a PNG card the image itself is the main icon (`ccdefault:` in V3). A
/// main icon pointing into a CHARX archive would dangle here, so it is
/// pointed at the image instead.
fn with_image_as_icon(card: &Card) -> Cow<'_, Card> {
    let dangling = |a: &crate::card::Asset| {
        a.kind == "icon" && a.name == "main" && a.uri.starts_with("embeded://")
    };
    if !card.assets.iter().flatten().any(dangling) {
        return Cow::Borrowed(card);
    }
    let mut card = card.clone();
    for asset in card.assets.iter_mut().flatten().filter(|a| dangling(a)) {
        asset.uri = "ccdefault:".into();
        asset.ext = "png".into();
    }
    Cow::Owned(card)
}

/// Side of the placeholder image, in pixels.
const PLACEHOLDER_SIZE: u32 = 64;

/// A solid-colour square whose colour follows from the name, so different
/// characters get different placeholders.
pub fn placeholder_png(name: &str) -> Vec<u8> {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let [r, g, b] = [(h >> 16) as u8, (h >> 8) as u8, h as u8].map(|c| 64 + c / 2);
    let size = PLACEHOLDER_SIZE;
    // Each row: filter byte 0 (none), then the pixels.
    let row: Vec<u8> = std::iter::once(0)
        .chain([r, g, b].repeat(size as usize))
        .collect();
    let raw = row.repeat(size as usize);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let idat = z
        .write_all(&raw)
        .and_then(|_| z.finish())
        .unwrap_or_default();

    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&size.to_be_bytes());
    ihdr.extend_from_slice(&size.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace
    let mut out = Vec::with_capacity(idat.len() + 64);
    out.extend_from_slice(&SIGNATURE);
    write_chunk(&mut out, b"IHDR", &ihdr);
    write_chunk(&mut out, b"IDAT", &idat);
    write_chunk(&mut out, b"IEND", &[]);
    out
}
