//! A chat seen from one character as a training conversation: its messages
//! are the assistant's, everyone else's are the user's side.

use serde::{Deserialize, Serialize};

use crate::chat::character::ChatCharacter;
use crate::chat::chat::Chat;
use crate::chat::message::{Author, Message};
use crate::chat::names::Names;
use crate::macros::{expand, MacroContext};

/// A `{role, content}` message as OpenAI and TRL expect it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: String,
    pub content: String,
    /// OpenAI fine-tuning only: 0 keeps an assistant turn out of training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u8>,
}

impl ChatMessage {
    pub fn new(role: &str, content: impl Into<String>) -> Self {
        Self {
            role: role.to_owned(),
            content: content.into(),
            weight: None,
        }
    }
}

/// Whose point of view a dataset takes, and how authors are named.
#[derive(Debug, Clone, Copy)]
pub struct DatasetContext<'a> {
    pub character: &'a ChatCharacter,
    pub names: &'a Names,
}

impl DatasetContext<'_> {
    pub fn is_assistant(&self, author: &Author) -> bool {
        author.character_id() == Some(self.character.id.as_str())
    }

    /// `text` with the card macros' names filled in (`{{char}}`, `{{user}}`):
    /// a model trained on a placeholder would write it.
    pub fn names_in(&self, text: &str) -> String {
        let ctx = MacroContext { char_name: &self.character.name, user_name: &self.names.user, chat_seed: 0, seed: 0 };
        expand(text, &ctx)
    }

    pub fn system(&self) -> ChatMessage {
        ChatMessage::new("system", self.names_in(&self.character.system_message()))
    }

    /// One message in this point of view. In a room the other characters and
    /// the narrator speak on the user's side, prefixed with their names.
    pub fn render(&self, m: &Message, room: bool) -> ChatMessage {
        match &m.author {
            a if self.is_assistant(a) => ChatMessage::new("assistant", self.names_in(m.text())),
            Author::System => ChatMessage::new("system", self.names_in(m.text())),
            Author::User if !room => ChatMessage::new("user", self.names_in(m.text())),
            a => ChatMessage::new("user", format!("{}: {}", self.names.of(a), self.names_in(m.text()))),
        }
    }

    /// The system message and the visible messages before `pos`, with
    /// consecutive same-side turns merged (many chat templates require
    /// alternating roles).
    pub fn prompt_before(&self, chat: &Chat, pos: usize) -> Vec<ChatMessage> {
        let room = is_room(chat, self);
        let mut out = vec![self.system()];
        for m in chat
            .messages
            .get(..pos)
            .unwrap_or(&[])
            .iter()
            .filter(|m| !m.hidden)
        {
            push_merged(&mut out, self.render(m, room));
        }
        out
    }
}

/// A chat is a room when a character other than this one speaks in it.
pub(crate) fn is_room(chat: &Chat, ctx: &DatasetContext) -> bool {
    chat.messages
        .iter()
        .any(|m| matches!(&m.author, Author::Character { id } if *id != ctx.character.id))
        || chat.messages.iter().any(|m| m.author == Author::Narrator)
}

pub(crate) fn push_merged(out: &mut Vec<ChatMessage>, msg: ChatMessage) {
    match out.last_mut() {
        Some(last)
            if last.role == msg.role && msg.role != "system" && last.weight == msg.weight =>
        {
            last.content.push_str("\n\n");
            last.content.push_str(&msg.content);
        }
        _ => out.push(msg),
    }
}
