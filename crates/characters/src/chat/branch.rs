//! Branches (a new chat sharing history up to a message) and checkpoints
//! (named branches).

use serde::{Deserialize, Serialize};

use super::chat::{check_id, Chat};
use super::error::ChatError;

/// Where a branched chat came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BranchLink {
    pub parent_chat_id: String,
    pub parent_message_id: String,
}

/// A named branch recorded on the chat it was taken from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub name: String,
    pub chat_id: String,
    pub message_id: String,
    pub created_at_ms: u64,
}

/// Checkpoints recorded per chat.
pub const MAX_CHECKPOINTS: usize = 1024;

impl Chat {
    /// A new chat holding copies of the messages up to and including `at`,
    /// linked to this chat and message. Summaries and pinned memories that
    /// only concern the copied messages come along.
    pub fn branch(
        &self,
        at: &str,
        new_chat_id: impl Into<String>,
        at_ms: u64,
    ) -> Result<Chat, ChatError> {
        let pos = self
            .position(at)
            .ok_or_else(|| ChatError::UnknownMessage(at.to_owned()))?;
        let mut child = Chat::new(new_chat_id, at_ms)?;
        child.messages = self
            .messages
            .get(..=pos)
            .map(<[_]>::to_vec)
            .unwrap_or_default();
        child.next_seq = self.next_seq;
        child.parent = Some(BranchLink {
            parent_chat_id: self.id.clone(),
            parent_message_id: at.to_owned(),
        });
        let kept: std::collections::HashSet<&str> =
            child.messages.iter().map(|m| m.id.as_str()).collect();
        child.memory = self.memory.restricted_to(&kept);
        Ok(child)
    }

    /// A branch with a name, recorded in this chat's checkpoint list.
    pub fn checkpoint(
        &mut self,
        at: &str,
        name: impl Into<String>,
        new_chat_id: impl Into<String>,
        at_ms: u64,
    ) -> Result<Chat, ChatError> {
        let name = name.into();
        check_id(&name)?;
        if self.checkpoints.len() >= MAX_CHECKPOINTS {
            return Err(ChatError::LimitReached {
                what: "checkpoints per chat",
                max: MAX_CHECKPOINTS,
            });
        }
        let mut child = self.branch(at, new_chat_id, at_ms)?;
        child.checkpoint_name = Some(name.clone());
        self.checkpoints.push(Checkpoint {
            name,
            chat_id: child.id.clone(),
            message_id: at.to_owned(),
            created_at_ms: at_ms,
        });
        Ok(child)
    }

    pub fn find_checkpoint(&self, name: &str) -> Result<&Checkpoint, ChatError> {
        self.checkpoints
            .iter()
            .rev()
            .find(|c| c.name == name)
            .ok_or_else(|| ChatError::UnknownCheckpoint(name.to_owned()))
    }
}
