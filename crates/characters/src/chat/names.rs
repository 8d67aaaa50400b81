//! Display names of a chat's authors, for rendering messages as text
//! (summaries, recalled memories, datasets).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::message::Author;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Names {
    pub user: String,
    pub narrator: String,
    pub system: String,
    /// Character id -> name.
    #[serde(default)]
    pub characters: BTreeMap<String, String>,
}

impl Default for Names {
    /// Macro placeholders, so rendered text can still be expanded later.
    fn default() -> Self {
        Self {
            user: "{{user}}".into(),
            narrator: "Narrator".into(),
            system: "System".into(),
            characters: BTreeMap::new(),
        }
    }
}

impl Names {
    pub fn new(user: impl Into<String>) -> Self {
        Self {
            user: user.into(),
            ..Self::default()
        }
    }

    pub fn with_character(mut self, id: impl Into<String>, name: impl Into<String>) -> Self {
        self.characters.insert(id.into(), name.into());
        self
    }

    /// A character without a known name is `{{char}}`.
    pub fn of<'a>(&'a self, author: &'a Author) -> &'a str {
        match author {
            Author::User => &self.user,
            Author::Narrator => &self.narrator,
            Author::System => &self.system,
            Author::Character { id } => self
                .characters
                .get(id)
                .map(String::as_str)
                .unwrap_or("{{char}}"),
        }
    }
}
