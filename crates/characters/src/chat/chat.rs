//! A chat: an ordered list of messages and the operations the UI offers on
//! them (append, regenerate, continue, edit, delete, hide, rate).

use serde::{Deserialize, Serialize};

use super::branch::{BranchLink, Checkpoint};
use super::error::ChatError;
use super::memory::ChatMemory;
use super::message::{Author, Message};
use super::swipe::Rating;

/// Messages per chat; far beyond any real chat, low enough to bound memory.
pub const MAX_MESSAGES: usize = 200_000;
/// Longest id accepted from a caller.
pub const MAX_ID_LEN: usize = 128;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chat {
    pub id: String,
    pub messages: Vec<Message>,
    /// Set when this chat was branched off another one.
    #[serde(default)]
    pub parent: Option<BranchLink>,
    /// Set when this chat is a named checkpoint of its parent.
    #[serde(default)]
    pub checkpoint_name: Option<String>,
    /// Checkpoints taken from this chat.
    #[serde(default)]
    pub checkpoints: Vec<Checkpoint>,
    #[serde(default)]
    pub memory: ChatMemory,
    /// Counter behind generated message ids ("m1", "m2", …).
    #[serde(default)]
    pub next_seq: u64,
    pub created_at_ms: u64,
    pub updated_at_ms: u64,
}

pub(crate) fn check_id(id: &str) -> Result<(), ChatError> {
    let len = id.chars().count();
    if len == 0 || len > MAX_ID_LEN {
        return Err(ChatError::InvalidId {
            len,
            max: MAX_ID_LEN,
        });
    }
    Ok(())
}

impl Chat {
    pub fn new(id: impl Into<String>, at_ms: u64) -> Result<Self, ChatError> {
        let id = id.into();
        check_id(&id)?;
        Ok(Self {
            id,
            messages: Vec::new(),
            parent: None,
            checkpoint_name: None,
            checkpoints: Vec::new(),
            memory: ChatMemory::default(),
            next_seq: 0,
            created_at_ms: at_ms,
            updated_at_ms: at_ms,
        })
    }

    /// A chat opened by a character: its greeting and alternate greetings
    /// become the swipes of the first message.
    pub fn with_greeting<S: AsRef<str>>(
        id: impl Into<String>,
        character_id: impl Into<String>,
        greetings: &[S],
        at_ms: u64,
    ) -> Result<Self, ChatError> {
        let mut chat = Self::new(id, at_ms)?;
        let msg_id = chat.fresh_id();
        chat.messages
            .push(Message::greeting(msg_id, character_id, greetings, at_ms));
        Ok(chat)
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    pub fn position(&self, id: &str) -> Option<usize> {
        self.messages.iter().position(|m| m.id == id)
    }

    pub fn get(&self, id: &str) -> Result<&Message, ChatError> {
        self.messages
            .iter()
            .find(|m| m.id == id)
            .ok_or_else(|| ChatError::UnknownMessage(id.to_owned()))
    }

    pub fn last(&self) -> Option<&Message> {
        self.messages.last()
    }

    /// Messages that go into prompts (not hidden), in order.
    pub fn visible(&self) -> impl Iterator<Item = &Message> {
        self.messages.iter().filter(|m| !m.hidden)
    }

    fn get_mut(&mut self, id: &str) -> Result<&mut Message, ChatError> {
        self.messages
            .iter_mut()
            .find(|m| m.id == id)
            .ok_or_else(|| ChatError::UnknownMessage(id.to_owned()))
    }

    /// Next generated id that no message of this chat uses yet.
    fn fresh_id(&mut self) -> String {
        loop {
            self.next_seq = self.next_seq.wrapping_add(1);
            let id = format!("m{}", self.next_seq);
            if self.position(&id).is_none() {
                return id;
            }
        }
    }

    /// Append a message with a generated id; returns the id.
    pub fn append(
        &mut self,
        author: Author,
        text: impl Into<String>,
        at_ms: u64,
    ) -> Result<String, ChatError> {
        let id = self.fresh_id();
        self.append_with_id(id.clone(), author, text, at_ms)?;
        Ok(id)
    }

    /// Append a message whose id the caller chose.
    pub fn append_with_id(
        &mut self,
        id: impl Into<String>,
        author: Author,
        text: impl Into<String>,
        at_ms: u64,
    ) -> Result<(), ChatError> {
        let id = id.into();
        check_id(&id)?;
        if self.messages.len() >= MAX_MESSAGES {
            return Err(ChatError::LimitReached {
                what: "messages per chat",
                max: MAX_MESSAGES,
            });
        }
        if self.position(&id).is_some() {
            return Err(ChatError::DuplicateMessageId(id));
        }
        self.messages.push(Message::new(id, author, text, at_ms));
        self.updated_at_ms = at_ms;
        Ok(())
    }

    /// A new reply for the message, added as a swipe and shown. Returns its
    /// swipe index.
    pub fn regenerate(
        &mut self,
        id: &str,
        text: impl Into<String>,
        at_ms: u64,
    ) -> Result<usize, ChatError> {
        let index = self.get_mut(id)?.add_swipe(text, at_ms)?;
        self.touched(id, at_ms);
        Ok(index)
    }

    /// Extend the shown swipe with more generated text ("continue").
    pub fn continue_message(&mut self, id: &str, more: &str, at_ms: u64) -> Result<(), ChatError> {
        let msg = self.get_mut(id)?;
        msg.chosen_swipe_mut()?.text.push_str(more);
        msg.updated_at_ms = at_ms;
        self.touched(id, at_ms);
        Ok(())
    }

    /// Replace the shown swipe's text; the old text stays in its history.
    pub fn edit(
        &mut self,
        id: &str,
        new_text: impl Into<String>,
        at_ms: u64,
    ) -> Result<(), ChatError> {
        let msg = self.get_mut(id)?;
        msg.chosen_swipe_mut()?.edit(new_text, at_ms);
        msg.updated_at_ms = at_ms;
        self.touched(id, at_ms);
        Ok(())
    }

    pub fn choose_swipe(&mut self, id: &str, index: usize, at_ms: u64) -> Result<(), ChatError> {
        self.get_mut(id)?.choose(index, at_ms)?;
        self.touched(id, at_ms);
        Ok(())
    }

    /// Rate a swipe (`None` clears). Ratings do not change the text, so
    /// summaries stay valid.
    pub fn rate(
        &mut self,
        id: &str,
        swipe: usize,
        rating: Option<Rating>,
    ) -> Result<(), ChatError> {
        self.get_mut(id)?.rate(swipe, rating)
    }

    pub fn set_hidden(&mut self, id: &str, hidden: bool, at_ms: u64) -> Result<(), ChatError> {
        let msg = self.get_mut(id)?;
        if msg.hidden != hidden {
            msg.hidden = hidden;
            msg.updated_at_ms = at_ms;
            self.touched(id, at_ms);
        }
        Ok(())
    }

    /// Remove a message; returns it.
    pub fn delete(&mut self, id: &str, at_ms: u64) -> Result<Message, ChatError> {
        let pos = self
            .position(id)
            .ok_or_else(|| ChatError::UnknownMessage(id.to_owned()))?;
        self.touched(id, at_ms);
        Ok(self.messages.remove(pos))
    }

    /// Repair every message read from storage (see [`Message::repair`]).
    pub fn repair(&mut self) {
        for m in &mut self.messages {
            m.repair();
        }
    }

    /// What the text of a message changed: summaries that covered it no
    /// longer describe the chat and are rolled back.
    fn touched(&mut self, id: &str, at_ms: u64) {
        self.memory.invalidate_message(id);
        self.updated_at_ms = at_ms;
    }
}
