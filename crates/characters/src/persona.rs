//! The user's persona: the name `{{user}}` stands for and a description
//! the character knows about them.

use serde::{Deserialize, Serialize};

use crate::macros::{expand, MacroContext};

/// Name used when the user has not set one.
pub const DEFAULT_USER_NAME: &str = "User";
/// Longest persona name kept; longer names are cut (they are repeated in
/// every prompt line of a transcript).
pub const MAX_NAME_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Persona {
    pub name: String,
    /// May use `{{user}}` and `{{char}}` like card text.
    pub description: String,
}

impl Persona {
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self { name: name.into(), description: description.into() }
    }

    /// The name `{{user}}` expands to: one line (a newline would break
    /// `Name: text` transcripts), bounded, never empty.
    pub fn display_name(&self) -> String {
        let name = one_line(&self.name, MAX_NAME_CHARS);
        if name.is_empty() {
            DEFAULT_USER_NAME.to_string()
        } else {
            name
        }
    }

    /// The description with macros expanded for a chat with `char_name`.
    pub fn render(&self, char_name: &str, chat_seed: u64, seed: u64) -> String {
        let user = self.display_name();
        let ctx = MacroContext { char_name, user_name: &user, chat_seed, seed };
        expand(self.description.trim(), &ctx)
    }
}

/// Whitespace runs (newlines included) become one space; control
/// characters go; at most `max` characters are kept.
pub fn one_line(s: &str, max: usize) -> String {
    s.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(max)
        .collect::<String>()
        .trim_end()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_fallback_and_trim() {
        assert_eq!(Persona::new("  ", "").display_name(), "User");
        assert_eq!(Persona::new(" Sam ", "").display_name(), "Sam");
        assert_eq!(Persona::new("x".repeat(500), "").display_name().chars().count(), MAX_NAME_CHARS);
        assert_eq!(Persona::new("Sam\nAssistant:\u{7}  x", "").display_name(), "Sam Assistant: x");
    }

    #[test]
    fn macros_in_description() {
        let p = Persona::new("Sam", "{{user}} is {{char}}'s neighbour.");
        assert_eq!(p.render("Mira", 1, 2), "Sam is Mira's neighbour.");
    }
}
