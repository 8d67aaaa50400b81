//! A chat message: who wrote it and its swipes (alternative replies).

use serde::{Deserialize, Serialize};

use super::error::ChatError;
use super::swipe::{Rating, Swipe};

/// Swipes kept per message; regenerating past this is refused.
pub const MAX_SWIPES: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Author {
    User,
    Character { id: String },
    Narrator,
    System,
}

impl Author {
    pub fn character(id: impl Into<String>) -> Self {
        Author::Character { id: id.into() }
    }

    pub fn character_id(&self) -> Option<&str> {
        match self {
            Author::Character { id } => Some(id),
            _ => None,
        }
    }

    pub fn is_user(&self) -> bool {
        matches!(self, Author::User)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub author: Author,
    pub swipes: Vec<Swipe>,
    /// Index of the swipe shown and sent to the model.
    #[serde(default)]
    pub chosen: usize,
    /// Kept in the chat but left out of prompts, memory and datasets.
    #[serde(default)]
    pub hidden: bool,
    pub created_at_ms: u64,
    pub updated_at_ms: u64,
}

impl Message {
    pub fn new(id: impl Into<String>, author: Author, text: impl Into<String>, at_ms: u64) -> Self {
        Self {
            id: id.into(),
            author,
            swipes: vec![Swipe::new(text, at_ms)],
            chosen: 0,
            hidden: false,
            created_at_ms: at_ms,
            updated_at_ms: at_ms,
        }
    }

    /// A character's opening message: the greeting and its alternates become
    /// swipes, the first one chosen. Empty greetings are skipped; with none at
    /// all the message holds one empty swipe so it stays well-formed.
    pub fn greeting<S: AsRef<str>>(
        id: impl Into<String>,
        character_id: impl Into<String>,
        greetings: &[S],
        at_ms: u64,
    ) -> Self {
        let mut swipes: Vec<Swipe> = greetings
            .iter()
            .map(|g| g.as_ref())
            .filter(|g| !g.trim().is_empty())
            .take(MAX_SWIPES)
            .map(|g| Swipe::new(g, at_ms))
            .collect();
        if swipes.is_empty() {
            swipes.push(Swipe::new("", at_ms));
        }
        Self {
            id: id.into(),
            author: Author::character(character_id),
            swipes,
            chosen: 0,
            hidden: false,
            created_at_ms: at_ms,
            updated_at_ms: at_ms,
        }
    }

    /// The chosen swipe; `None` only for a corrupt stored message.
    pub fn chosen_swipe(&self) -> Option<&Swipe> {
        self.swipes.get(self.chosen)
    }

    pub fn chosen_swipe_mut(&mut self) -> Result<&mut Swipe, ChatError> {
        let (id, chosen, count) = (self.id.clone(), self.chosen, self.swipes.len());
        self.swipes.get_mut(chosen).ok_or(if count == 0 {
            ChatError::NoSwipes(id)
        } else {
            ChatError::SwipeOutOfRange {
                message: id,
                index: chosen,
                count,
            }
        })
    }

    /// The text of the chosen swipe ("" for a corrupt stored message).
    pub fn text(&self) -> &str {
        self.chosen_swipe().map(|s| s.text.as_str()).unwrap_or("")
    }

    pub fn swipe(&self, index: usize) -> Result<&Swipe, ChatError> {
        self.swipes
            .get(index)
            .ok_or_else(|| self.out_of_range(index))
    }

    pub fn choose(&mut self, index: usize, at_ms: u64) -> Result<(), ChatError> {
        if index >= self.swipes.len() {
            return Err(self.out_of_range(index));
        }
        self.chosen = index;
        self.updated_at_ms = at_ms;
        Ok(())
    }

    /// Add a new alternative reply and show it.
    pub fn add_swipe(&mut self, text: impl Into<String>, at_ms: u64) -> Result<usize, ChatError> {
        if self.swipes.len() >= MAX_SWIPES {
            return Err(ChatError::LimitReached {
                what: "swipes per message",
                max: MAX_SWIPES,
            });
        }
        self.swipes.push(Swipe::new(text, at_ms));
        self.chosen = self.swipes.len() - 1;
        self.updated_at_ms = at_ms;
        Ok(self.chosen)
    }

    /// Rate one swipe; `None` clears the rating.
    pub fn rate(&mut self, index: usize, rating: Option<Rating>) -> Result<(), ChatError> {
        let err = self.out_of_range(index);
        let swipe = self.swipes.get_mut(index).ok_or(err)?;
        swipe.rating = rating;
        Ok(())
    }

    /// Rated swipes, as (index, swipe, rating).
    pub fn rated_swipes(&self) -> impl Iterator<Item = (usize, &Swipe, Rating)> {
        self.swipes
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.rating.map(|r| (i, s, r)))
    }

    /// Repair a message read from storage: an out-of-range chosen index
    /// points back at the last swipe, and an empty swipe list gets one empty
    /// swipe.
    pub fn repair(&mut self) {
        if self.swipes.is_empty() {
            self.swipes.push(Swipe::new("", self.created_at_ms));
        }
        if self.chosen >= self.swipes.len() {
            self.chosen = self.swipes.len() - 1;
        }
    }

    fn out_of_range(&self, index: usize) -> ChatError {
        ChatError::SwipeOutOfRange {
            message: self.id.clone(),
            index,
            count: self.swipes.len(),
        }
    }
}
