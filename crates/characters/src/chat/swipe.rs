//! One alternative reply of a message, its star rating and its edit history.

use serde::{Deserialize, Serialize};

use super::error::ChatError;

/// Edits kept per swipe; older ones are dropped so a much-edited reply cannot
/// grow without bound.
pub const MAX_EDIT_HISTORY: usize = 64;

/// A 1–4 star rating. "Not rated" is `Option::None`, never zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Rating(u8);

impl Rating {
    pub const MIN: u8 = 1;
    pub const MAX: u8 = 4;

    pub fn new(stars: u8) -> Result<Self, ChatError> {
        if (Self::MIN..=Self::MAX).contains(&stars) {
            Ok(Self(stars))
        } else {
            Err(ChatError::InvalidRating(stars))
        }
    }

    pub fn stars(self) -> u8 {
        self.0
    }

    /// 3–4 stars count as a good reply, 1–2 as a bad one (KTO labels,
    /// fine-tuning weights).
    pub fn is_good(self) -> bool {
        self.0 >= 3
    }
}

impl TryFrom<u8> for Rating {
    type Error = ChatError;
    fn try_from(stars: u8) -> Result<Self, ChatError> {
        Rating::new(stars)
    }
}

impl From<Rating> for u8 {
    fn from(r: Rating) -> u8 {
        r.0
    }
}

/// The text a swipe had before one edit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditRecord {
    pub previous_text: String,
    pub edited_at_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Swipe {
    pub text: String,
    #[serde(default)]
    pub rating: Option<Rating>,
    pub created_at_ms: u64,
    #[serde(default)]
    pub edits: Vec<EditRecord>,
}

impl Swipe {
    pub fn new(text: impl Into<String>, at_ms: u64) -> Self {
        Self {
            text: text.into(),
            rating: None,
            created_at_ms: at_ms,
            edits: Vec::new(),
        }
    }

    /// Replace the text, keeping the old one in the history.
    pub fn edit(&mut self, new_text: impl Into<String>, at_ms: u64) {
        let previous = std::mem::replace(&mut self.text, new_text.into());
        self.edits.push(EditRecord {
            previous_text: previous,
            edited_at_ms: at_ms,
        });
        if self.edits.len() > MAX_EDIT_HISTORY {
            let excess = self.edits.len() - MAX_EDIT_HISTORY;
            self.edits.drain(..excess);
        }
    }
}
