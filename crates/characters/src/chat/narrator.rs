//! The narrator / game master of a room: describes the world and the outcome
//! of actions, and rolls dice with `{{roll:…}}`.

use serde::{Deserialize, Serialize};

use super::character::ChatCharacter;
use super::dice::{expand_rolls, DiceRoll};
use super::room::{Room, SpeakerPrompt};
use super::speaker::Speaker;

/// When the narrator takes a turn on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NarratorCadence {
    /// Only when the user asks for it.
    Manual,
    /// After every user message, before the characters.
    #[default]
    AfterUser,
    /// Before every round of characters.
    EveryRound,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Narrator {
    pub name: String,
    /// The game's rules and tone, written by the game master.
    #[serde(default)]
    pub instructions: String,
    #[serde(default)]
    pub cadence: NarratorCadence,
    /// Whether the narrator is told it may roll dice.
    #[serde(default = "yes")]
    pub dice: bool,
}

fn yes() -> bool {
    true
}

impl Default for Narrator {
    fn default() -> Self {
        Self {
            name: "Narrator".into(),
            instructions: String::new(),
            cadence: NarratorCadence::default(),
            dice: true,
        }
    }
}

impl Narrator {
    /// The narrator's prompt: its role, the game's instructions, the cast.
    pub fn prompt(&self, room: &Room, cast: &[ChatCharacter]) -> SpeakerPrompt {
        let mut text = String::from(
            "You are the narrator and game master of an interactive text game. Describe the scene, \
             the world's reactions and the outcome of {{user}}'s actions in vivid, concise prose. \
             Never speak or decide for {{user}}; leave the characters' own words to them.",
        );
        if self.dice {
            text.push_str(
                " When an outcome is uncertain, roll dice by writing a roll macro such as {{roll:d20}} \
                 or {{roll:2d6+1}}; the game replaces it with the result, and you narrate accordingly.",
            );
        }
        if !self.instructions.trim().is_empty() {
            text.push_str("\n\nGame rules:\n");
            text.push_str(self.instructions.trim());
        }
        let members: Vec<String> = room
            .members
            .iter()
            .map(|m| match cast.iter().find(|c| c.id == m.character_id) {
                Some(c) if !c.description.trim().is_empty() => {
                    format!("- {}: {}", m.name, first_sentence(c.description.trim()))
                }
                _ => format!("- {}", m.name),
            })
            .collect();
        if !members.is_empty() {
            text.push_str("\n\nCharacters present:\n");
            text.push_str(&members.join("\n"));
        }
        SpeakerPrompt {
            speaker: Speaker::Narrator,
            speaker_name: self.name.clone(),
            character_text: text,
            nudge: format!(
                "[Write the next reply only as {}, the narrator.]",
                self.name
            ),
        }
    }

    /// Expand the dice the narrator (or the user) wrote, with the room's
    /// generator so a stored room replays the same rolls.
    pub fn resolve_dice(room: &mut Room, text: &str) -> (String, Vec<DiceRoll>) {
        expand_rolls(text, &mut room.rng)
    }
}

fn first_sentence(s: &str) -> &str {
    let end = s.find(['.', '!', '?', '\n']).map_or(s.len(), |p| p + 1);
    super::memory::summary::cut_chars(s.get(..end).unwrap_or(s), 200)
}
