//! Structured character profiles, beyond the card's free text.
//!
//! A profile follows CharacterGLM's split of a character into attributes
//! (identity, interests, viewpoints, experiences, achievements, social
//! relationships) and behaviours (linguistic style, emotional expression,
//! interaction patterns), plus traits: short first-person statements of
//! what the character values and how it acts, as in character training.
//!
//! The profile lives in the card under `extensions.kindred.profile`, so
//! other apps carry it along untouched, and [`Profile::compile`] writes it
//! out as the card's `description` and `personality` text that any app
//! (and the prompt) can use.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thiserror::Error;

use crate::card::Card;

/// Key of Kindred's object in a card's `extensions`.
pub const EXTENSION_KEY: &str = "kindred";
/// Key of the profile inside that object.
pub const PROFILE_KEY: &str = "profile";

/// Most items taken from one list when compiling.
const MAX_ITEMS: usize = 64;
/// Longest trait that still counts as "short".
pub const MAX_TRAIT_CHARS: usize = 240;

#[derive(Debug, Error)]
pub enum ProfileError {
    #[error("extensions.kindred.profile is not a valid profile: {0}")]
    Invalid(#[source] serde_json::Error),
    #[error("extensions.kindred is not an object")]
    NotAnObject,
}

/// Who the character is.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Attributes {
    /// One line: age, role, where they live ("a retired lighthouse keeper").
    pub identity: String,
    pub interests: Vec<String>,
    /// Opinions and beliefs.
    pub viewpoints: Vec<String>,
    /// Formative events.
    pub experiences: Vec<String>,
    pub achievements: Vec<String>,
    /// People in their life and how they relate.
    pub relationships: Vec<String>,
}

/// How the character comes across.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Behaviours {
    pub linguistic_style: String,
    pub emotional_expression: String,
    pub interaction_patterns: String,
}

/// A structured character profile.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Profile {
    pub attributes: Attributes,
    pub behaviours: Behaviours,
    /// First-person statements, e.g. "I explain with examples before rules."
    pub traits: Vec<String>,
    /// Fields from newer versions, kept for round trips.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Card text produced from a profile.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompiledProfile {
    pub description: String,
    pub personality: String,
}

/// Something a creator may want to fix in a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileIssue {
    MissingIdentity,
    EmptyTrait(usize),
    TraitTooLong(usize),
    /// Traits are written as the character speaking ("I ...", "My ...").
    TraitNotFirstPerson(usize),
}

impl Profile {
    /// Reads the profile stored in a card; `Ok(None)` when there is none.
    pub fn from_card(card: &Card) -> Result<Option<Profile>, ProfileError> {
        Self::from_extensions(&card.extensions)
    }

    pub fn from_extensions(ext: &Map<String, Value>) -> Result<Option<Profile>, ProfileError> {
        let Some(kindred) = ext.get(EXTENSION_KEY) else { return Ok(None) };
        let Value::Object(obj) = kindred else { return Err(ProfileError::NotAnObject) };
        match obj.get(PROFILE_KEY) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => serde_json::from_value(v.clone()).map(Some).map_err(ProfileError::Invalid),
        }
    }

    /// Stores the profile in the card's extensions, keeping every other key
    /// of `extensions.kindred`. A non-object `kindred` value is replaced.
    pub fn store_in(&self, card: &mut Card) -> Result<(), ProfileError> {
        let value = serde_json::to_value(self).map_err(ProfileError::Invalid)?;
        let slot = card.extensions.entry(EXTENSION_KEY.to_string()).or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        if let Value::Object(obj) = slot {
            obj.insert(PROFILE_KEY.to_string(), value);
        }
        Ok(())
    }

    /// Stores the profile and overwrites the card's description and
    /// personality with the compiled text.
    pub fn apply_to(&self, card: &mut Card) -> Result<(), ProfileError> {
        let compiled = self.compile();
        card.description = compiled.description;
        card.personality = compiled.personality;
        self.store_in(card)
    }

    /// Card text for this profile. Uses `{{char}}` for the name so the text
    /// follows renames and nicknames.
    pub fn compile(&self) -> CompiledProfile {
        let a = &self.attributes;
        let mut desc = Vec::new();
        if !a.identity.trim().is_empty() {
            desc.push(format!("{{{{char}}}} is {}.", sentence_body(&a.identity)));
        }
        push_inline(&mut desc, "Interests", &a.interests);
        push_list(&mut desc, "Viewpoints", &a.viewpoints);
        push_list(&mut desc, "Experiences", &a.experiences);
        push_list(&mut desc, "Achievements", &a.achievements);
        push_list(&mut desc, "Relationships", &a.relationships);

        let b = &self.behaviours;
        let mut pers = Vec::new();
        push_line(&mut pers, "Speaking style", &b.linguistic_style);
        push_line(&mut pers, "Emotional expression", &b.emotional_expression);
        push_line(&mut pers, "With others", &b.interaction_patterns);
        push_list(&mut pers, "In {{char}}'s own words", &self.traits);

        CompiledProfile { description: desc.join("\n"), personality: pers.join("\n") }
    }

    /// Checks the things a starter or a creator's profile should get right.
    pub fn lint(&self) -> Vec<ProfileIssue> {
        let mut issues = Vec::new();
        if self.attributes.identity.trim().is_empty() {
            issues.push(ProfileIssue::MissingIdentity);
        }
        for (i, t) in self.traits.iter().enumerate() {
            let t = t.trim();
            if t.is_empty() {
                issues.push(ProfileIssue::EmptyTrait(i));
                continue;
            }
            if t.chars().count() > MAX_TRAIT_CHARS {
                issues.push(ProfileIssue::TraitTooLong(i));
            }
            if !is_first_person(t) {
                issues.push(ProfileIssue::TraitNotFirstPerson(i));
            }
        }
        issues
    }
}

/// "I ...", "I'm ...", "My ...", "When I ..." — any first-person pronoun as
/// a whole word counts.
fn is_first_person(s: &str) -> bool {
    s.split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’')
        .map(|w| w.to_ascii_lowercase().replace('’', "'"))
        .any(|w| matches!(w.as_str(), "i" | "i'm" | "i've" | "i'd" | "i'll" | "my" | "me" | "myself" | "mine"))
}

/// Identity text ready to follow "X is": no trailing full stop.
fn sentence_body(s: &str) -> &str {
    s.trim().trim_end_matches('.')
}

fn items(list: &[String]) -> impl Iterator<Item = &str> {
    list.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).take(MAX_ITEMS)
}

fn push_inline(out: &mut Vec<String>, label: &str, list: &[String]) {
    let joined: Vec<&str> = items(list).map(|s| s.trim_end_matches('.')).collect();
    if !joined.is_empty() {
        out.push(format!("{label}: {}.", joined.join(", ")));
    }
}

fn push_list(out: &mut Vec<String>, label: &str, list: &[String]) {
    let lines: Vec<String> = items(list).map(|s| format!("- {s}")).collect();
    if !lines.is_empty() {
        out.push(format!("{label}:\n{}", lines.join("\n")));
    }
}

fn push_line(out: &mut Vec<String>, label: &str, text: &str) {
    let t = text.trim();
    if !t.is_empty() {
        out.push(format!("{label}: {t}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_person_detection() {
        assert!(is_first_person("I love a good argument."));
        assert!(is_first_person("My patience is long."));
        assert!(is_first_person("When a student is stuck, I slow down."));
        assert!(is_first_person("I’m honest."));
        assert!(!is_first_person("She is kind."));
        assert!(!is_first_person("Immediately helpful."));
    }
}
