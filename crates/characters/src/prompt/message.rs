//! Messages going into prompt assembly (chat history) and coming out of it
//! (role-tagged messages for a chat template).

use serde::{Deserialize, Serialize};

/// Who wrote a history message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Author {
    User,
    /// A character (the speaker or another member of a group).
    Char,
    System,
    Narrator,
}

/// One message of the chat history, as prompt assembly needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryMessage {
    pub author: Author,
    /// Display name; empty means the persona's name for the user and the
    /// speaking character's name for characters.
    #[serde(default)]
    pub name: String,
    pub text: String,
    /// Kept in the prompt whatever the budget.
    #[serde(default)]
    pub pinned: bool,
    /// Never sent to the model.
    #[serde(default)]
    pub hidden: bool,
}

impl HistoryMessage {
    pub fn new(author: Author, name: impl Into<String>, text: impl Into<String>) -> Self {
        Self { author, name: name.into(), text: text.into(), pinned: false, hidden: false }
    }

    pub fn user(text: impl Into<String>) -> Self {
        Self::new(Author::User, "", text)
    }

    pub fn char(text: impl Into<String>) -> Self {
        Self::new(Author::Char, "", text)
    }
}

/// A memory to include: a summary or fact kept from earlier in the chat.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Memory {
    pub text: String,
    /// Kept whatever the budget; unpinned memories go when space runs out.
    #[serde(default)]
    pub pinned: bool,
}

impl Memory {
    pub fn new(text: impl Into<String>, pinned: bool) -> Self {
        Self { text: text.into(), pinned }
    }
}

/// Role of an output message, as chat templates know them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// What part of the prompt an output message holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// System prompt, character, persona, lore, memories, examples.
    Context,
    /// A history message; holds its index in the input history.
    History(usize),
    /// A turn of the card's example dialogues (the role-play layout).
    Example,
    AuthorsNote,
    /// Lorebook entries inserted at a depth.
    Lore,
    PostHistory,
}

/// One message for a chat template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptMessage {
    pub role: Role,
    pub content: String,
    /// Speaker name, used by the plain transcript (`Name: text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub part: Part,
}
