//! A room: several characters (and optionally a narrator) in one chat.

use serde::{Deserialize, Serialize};

use super::character::ChatCharacter;
use super::chat::{check_id, Chat};
use super::error::ChatError;
use super::message::{Author, Message};
use super::narrator::{Narrator, NarratorCadence};
use crate::rng::Rng;
use super::speaker::{choose_speakers, Speaker, SpeakerStrategy};

pub const MAX_MEMBERS: usize = 64;

/// The nudge appended to a room prompt so the model writes for one speaker.
pub const GROUP_NUDGE: &str = "[Write the next reply only as {{char}}.]";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    pub character_id: String,
    pub name: String,
    /// Chance (0..1) to speak up in natural order without being named.
    pub talkativeness: f32,
    #[serde(default)]
    pub muted: bool,
}

/// How a speaker's prompt presents the cast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptMode {
    /// Only the speaker's card.
    #[default]
    Swap,
    /// Every member's description.
    Join,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Room {
    pub id: String,
    pub members: Vec<Member>,
    #[serde(default)]
    pub strategy: SpeakerStrategy,
    #[serde(default)]
    pub allow_self_responses: bool,
    #[serde(default)]
    pub prompt_mode: PromptMode,
    #[serde(default)]
    pub narrator: Option<Narrator>,
    pub rng: Rng,
}

/// The character part of one speaker's prompt; the prompt assembler places
/// `character_text` where a card's description goes and `nudge` last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpeakerPrompt {
    pub speaker: Speaker,
    pub speaker_name: String,
    pub character_text: String,
    pub nudge: String,
}

impl Room {
    pub fn new(id: impl Into<String>, seed: u64) -> Result<Self, ChatError> {
        let id = id.into();
        check_id(&id)?;
        Ok(Self {
            id,
            members: Vec::new(),
            strategy: SpeakerStrategy::default(),
            allow_self_responses: false,
            prompt_mode: PromptMode::default(),
            narrator: None,
            rng: Rng::new(seed),
        })
    }

    pub fn add_member(
        &mut self,
        character_id: &str,
        name: &str,
        talkativeness: f32,
    ) -> Result<(), ChatError> {
        check_id(character_id)?;
        if !(0.0..=1.0).contains(&talkativeness) {
            return Err(ChatError::InvalidTalkativeness(talkativeness));
        }
        if self.members.len() >= MAX_MEMBERS {
            return Err(ChatError::LimitReached {
                what: "room members",
                max: MAX_MEMBERS,
            });
        }
        if self.member(character_id).is_ok() {
            return Err(ChatError::DuplicateMember(character_id.to_owned()));
        }
        self.members.push(Member {
            character_id: character_id.to_owned(),
            name: name.to_owned(),
            talkativeness,
            muted: false,
        });
        Ok(())
    }

    pub fn remove_member(&mut self, character_id: &str) -> Result<Member, ChatError> {
        let pos = self
            .members
            .iter()
            .position(|m| m.character_id == character_id)
            .ok_or_else(|| ChatError::UnknownMember(character_id.to_owned()))?;
        Ok(self.members.remove(pos))
    }

    pub fn member(&self, character_id: &str) -> Result<&Member, ChatError> {
        self.members
            .iter()
            .find(|m| m.character_id == character_id)
            .ok_or_else(|| ChatError::UnknownMember(character_id.to_owned()))
    }

    fn member_mut(&mut self, character_id: &str) -> Result<&mut Member, ChatError> {
        self.members
            .iter_mut()
            .find(|m| m.character_id == character_id)
            .ok_or_else(|| ChatError::UnknownMember(character_id.to_owned()))
    }

    pub fn set_muted(&mut self, character_id: &str, muted: bool) -> Result<(), ChatError> {
        self.member_mut(character_id)?.muted = muted;
        Ok(())
    }

    pub fn set_talkativeness(
        &mut self,
        character_id: &str,
        talkativeness: f32,
    ) -> Result<(), ChatError> {
        if !(0.0..=1.0).contains(&talkativeness) {
            return Err(ChatError::InvalidTalkativeness(talkativeness));
        }
        self.member_mut(character_id)?.talkativeness = talkativeness;
        Ok(())
    }

    /// Who answers the chat's last message, in order. A narrator answering
    /// after the user goes first (it tells what the user's action did).
    pub fn next_speakers(&mut self, chat: &Chat) -> Vec<Speaker> {
        let mut out = Vec::new();
        let last_author = chat.visible().last().map(|m| &m.author);
        if let Some(n) = &self.narrator {
            let narrate = match n.cadence {
                NarratorCadence::Manual => false,
                NarratorCadence::AfterUser => matches!(last_author, Some(Author::User)),
                NarratorCadence::EveryRound => !matches!(last_author, Some(Author::Narrator)),
            };
            if narrate {
                out.push(Speaker::Narrator);
            }
        }
        let ids = choose_speakers(
            self.strategy,
            &self.members,
            chat,
            self.allow_self_responses,
            &mut self.rng,
        );
        out.extend(ids.into_iter().map(Speaker::character));
        out
    }

    /// The user makes a member speak now, muted or not.
    pub fn force_talk(&self, character_id: &str) -> Result<Speaker, ChatError> {
        self.member(character_id)
            .map(|m| Speaker::character(m.character_id.clone()))
    }

    /// The character part of the prompt for one speaker. `cast` holds the
    /// members' cards (looked up by id; a member without one contributes its
    /// name only).
    pub fn speaker_prompt(
        &self,
        speaker: &Speaker,
        cast: &[ChatCharacter],
    ) -> Result<SpeakerPrompt, ChatError> {
        let id = match speaker {
            Speaker::Narrator => {
                let narrator = self.narrator.clone().unwrap_or_default();
                return Ok(narrator.prompt(self, cast));
            }
            Speaker::Character { id } => id,
        };
        let member = self.member(id)?;
        let card = cast.iter().find(|c| &c.id == id);
        let character_text = match self.prompt_mode {
            PromptMode::Swap => card.map(|c| c.description_block(true)).unwrap_or_default(),
            PromptMode::Join => {
                let mut parts = Vec::new();
                for m in self
                    .members
                    .iter()
                    .filter(|m| !m.muted || &m.character_id == id)
                {
                    match cast.iter().find(|c| c.id == m.character_id) {
                        Some(c) => {
                            parts.push(format!("[{}]\n{}", m.name, c.description_block(false)))
                        }
                        None => parts.push(format!("[{}]", m.name)),
                    }
                }
                if let Some(c) = card.filter(|c| !c.scenario.trim().is_empty()) {
                    parts.push(format!("Scenario: {}", c.scenario.trim()));
                }
                parts.join("\n\n")
            }
        };
        Ok(SpeakerPrompt {
            speaker: speaker.clone(),
            speaker_name: member.name.clone(),
            character_text,
            nudge: GROUP_NUDGE.replace("{{char}}", &member.name),
        })
    }

    /// Opening messages of a room chat: one greeting message per unmuted
    /// member that has greetings, offering its group-only greetings first.
    pub fn open_chat(
        &self,
        chat: &mut Chat,
        cast: &[ChatCharacter],
        at_ms: u64,
    ) -> Result<Vec<String>, ChatError> {
        let mut ids = Vec::new();
        for m in self.members.iter().filter(|m| !m.muted) {
            let Some(card) = cast.iter().find(|c| c.id == m.character_id) else {
                continue;
            };
            let greetings = card.room_greetings();
            if greetings.is_empty() {
                continue;
            }
            let id = chat.append(Author::character(m.character_id.clone()), "", at_ms)?;
            if let Some(msg) = chat.messages.iter_mut().find(|x| x.id == id) {
                *msg = Message::greeting(id.clone(), m.character_id.clone(), &greetings, at_ms);
            }
            ids.push(id);
        }
        Ok(ids)
    }
}
