//! What a chat needs to know about a character: the card fields that feed
//! greetings, room prompts, narration and dataset system messages.

use serde::{Deserialize, Serialize};

use crate::card::Card;

/// Talkativeness of a card that does not say (SillyTavern's default too).
pub const DEFAULT_TALKATIVENESS: f32 = 0.5;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCharacter {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub personality: String,
    #[serde(default)]
    pub scenario: String,
    #[serde(default)]
    pub system_prompt: String,
    #[serde(default)]
    pub first_mes: String,
    #[serde(default)]
    pub alternate_greetings: Vec<String>,
    #[serde(default)]
    pub group_only_greetings: Vec<String>,
}

impl ChatCharacter {
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            name: name.into(),
            ..Self::default()
        }
    }

    /// The chat's view of a card; `{{char}}` is the card's nickname when it
    /// has one.
    pub fn from_card(id: impl Into<String>, card: &Card) -> Self {
        let name = card
            .nickname
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or(&card.name);
        Self {
            id: id.into(),
            name: name.to_owned(),
            description: card.description.clone(),
            personality: card.personality.clone(),
            scenario: card.scenario.clone(),
            system_prompt: card.system_prompt.clone(),
            first_mes: card.first_mes.clone(),
            alternate_greetings: card.alternate_greetings.clone(),
            group_only_greetings: card.group_only_greetings.clone(),
        }
    }

    /// The card's talkativeness (`extensions.talkativeness`, a number or a
    /// numeric string as SillyTavern writes it), clamped to 0..1.
    pub fn talkativeness(card: &Card) -> f32 {
        let v = card.extensions.get("talkativeness");
        let t = v
            .and_then(|v| {
                v.as_f64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            })
            .filter(|t| t.is_finite())
            .map_or(DEFAULT_TALKATIVENESS, |t| t as f32);
        t.clamp(0.0, 1.0)
    }

    /// Greetings of a one-to-one chat: the first message, then the alternates.
    pub fn greetings(&self) -> Vec<&str> {
        std::iter::once(self.first_mes.as_str())
            .chain(self.alternate_greetings.iter().map(String::as_str))
            .filter(|g| !g.trim().is_empty())
            .collect()
    }

    /// Greetings in a room: the group-only ones (written for several
    /// characters) first, then the ordinary ones.
    pub fn room_greetings(&self) -> Vec<&str> {
        self.group_only_greetings
            .iter()
            .map(String::as_str)
            .filter(|g| !g.trim().is_empty())
            .chain(self.greetings())
            .collect()
    }

    /// The character's description block: description, personality and
    /// scenario, each on its own paragraph when present.
    pub fn description_block(&self, with_scenario: bool) -> String {
        let mut parts = Vec::new();
        if !self.description.trim().is_empty() {
            parts.push(self.description.trim().to_owned());
        }
        if !self.personality.trim().is_empty() {
            parts.push(format!(
                "{}'s personality: {}",
                self.name,
                self.personality.trim()
            ));
        }
        if with_scenario && !self.scenario.trim().is_empty() {
            parts.push(format!("Scenario: {}", self.scenario.trim()));
        }
        parts.join("\n\n")
    }

    /// A system message for this character (datasets, simple prompts): the
    /// card's own system prompt if it has one, then the description block.
    pub fn system_message(&self) -> String {
        let mut out = String::new();
        if self.system_prompt.trim().is_empty() {
            out.push_str(&format!(
                "You are {}. Stay in character and reply as {} only.",
                self.name, self.name
            ));
        } else {
            out.push_str(self.system_prompt.trim());
        }
        let block = self.description_block(true);
        if !block.is_empty() {
            out.push_str("\n\n");
            out.push_str(&block);
        }
        out
    }
}
