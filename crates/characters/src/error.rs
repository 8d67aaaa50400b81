//! Errors from reading and writing character cards.
//!
//! Cards come from strangers, so every way a file can be wrong has its own
//! variant with a message a user can act on.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CardError {
    #[error("not a character card: the file is neither PNG, CHARX (zip) nor JSON")]
    UnknownFormat,

    #[error("{what} is {size} bytes, over the limit of {}", human_size(*.limit))]
    TooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
    },

    #[error("card JSON is nested too deeply to be a character card")]
    TooDeeplyNested,

    #[error("card JSON is invalid: {0}")]
    Json(#[source] serde_json::Error),

    #[error("not a character card: {0}")]
    NotACard(&'static str),

    #[error("unsupported card spec {spec:?} (version {version:?})")]
    UnsupportedSpec { spec: String, version: String },

    #[error("card text is not valid UTF-8")]
    NotUtf8,

    #[error("card data in the {chunk:?} chunk is not valid base64: {source}")]
    BadBase64 {
        chunk: String,
        #[source]
        source: base64::DecodeError,
    },

    #[error("not a PNG file (bad signature)")]
    PngSignature,

    #[error("PNG is truncated: chunk at byte {offset} runs past the end of the file")]
    PngTruncated { offset: usize },

    #[error("PNG chunk {chunk:?} at byte {offset} has a wrong CRC (file is corrupt)")]
    PngBadCrc { chunk: String, offset: usize },

    #[error("PNG is malformed: {0}")]
    PngMalformed(&'static str),

    #[error("PNG has no character data (no `ccv3` or `chara` text chunk)")]
    PngNoCard,

    #[error("compressed PNG text chunk {chunk:?} could not be inflated")]
    PngInflate { chunk: String },

    #[error("CHARX archive is unreadable: {0}")]
    Charx(String),

    #[error("CHARX archive has no card.json")]
    CharxNoCard,

    #[error("CHARX archive has {count} entries, over the limit of {limit}")]
    CharxTooManyEntries { count: usize, limit: usize },

    #[error("CHARX entry {name:?} inflates past the limit of {}", human_size(*.limit))]
    CharxEntryTooLarge { name: String, limit: usize },

    #[error("could not write CHARX archive: {0}")]
    CharxWrite(String),
}

impl CardError {
    /// Classifies a serde_json error, singling out the recursion limit that
    /// guards against deeply nested hostile input.
    pub(crate) fn from_json(e: serde_json::Error) -> Self {
        if e.to_string().contains("recursion limit exceeded") {
            CardError::TooDeeplyNested
        } else {
            CardError::Json(e)
        }
    }
}

/// `16 MiB` rather than `16777216 bytes`, for limits people read.
fn human_size(bytes: usize) -> String {
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}
