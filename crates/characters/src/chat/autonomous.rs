//! Autonomous mode: the characters of a room talk among themselves for a
//! number of turns, until the user speaks or the mode is stopped.

use serde::{Deserialize, Serialize};

use super::chat::Chat;
use super::message::Author;
use super::room::Room;
use super::speaker::Speaker;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// All requested turns were taken.
    TurnsDone,
    UserSpoke,
    /// `stop()` was called.
    Stopped,
    /// The strategy chose nobody (e.g. manual, or everyone muted).
    NoSpeaker,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AutonomousState {
    Running { turns_left: u32 },
    Stopped { reason: StopReason },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Autonomous {
    pub state: AutonomousState,
    /// Speakers chosen for the current round, not yet yielded.
    #[serde(default)]
    pub queue: Vec<Speaker>,
    /// Id of the chat's last message when the previous speaker was yielded.
    #[serde(default)]
    pub last_seen_id: Option<String>,
}

impl Autonomous {
    pub fn start(turns: u32, chat: &Chat) -> Self {
        let state = if turns == 0 {
            AutonomousState::Stopped {
                reason: StopReason::TurnsDone,
            }
        } else {
            AutonomousState::Running { turns_left: turns }
        };
        Self {
            state,
            queue: Vec::new(),
            last_seen_id: chat.last().map(|m| m.id.clone()),
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self.state, AutonomousState::Running { .. })
    }

    pub fn stop(&mut self) {
        self.halt(StopReason::Stopped);
    }

    /// The app may report a user message directly instead of waiting for
    /// `next` to notice it in the chat.
    pub fn user_spoke(&mut self) {
        self.halt(StopReason::UserSpoke);
    }

    fn halt(&mut self, reason: StopReason) {
        if self.is_running() {
            self.state = AutonomousState::Stopped { reason };
            self.queue.clear();
        }
    }

    /// The next speaker, or `None` once stopped. Stops when a user message
    /// appeared since the last call.
    pub fn next(&mut self, room: &mut Room, chat: &Chat) -> Option<Speaker> {
        let AutonomousState::Running { turns_left } = self.state else {
            return None;
        };
        let since = match self.last_seen_id.as_deref().map(|id| chat.position(id)) {
            Some(Some(p)) => p + 1,
            // The seen message was deleted: judge only what comes after now.
            Some(None) => chat.len(),
            None => 0,
        };
        if chat
            .messages
            .get(since..)
            .unwrap_or(&[])
            .iter()
            .any(|m| m.author == Author::User)
        {
            self.halt(StopReason::UserSpoke);
            return None;
        }
        if turns_left == 0 {
            self.halt(StopReason::TurnsDone);
            return None;
        }
        if self.queue.is_empty() {
            self.queue = room.next_speakers(chat);
        }
        if self.queue.is_empty() {
            self.halt(StopReason::NoSpeaker);
            return None;
        }
        let speaker = self.queue.remove(0);
        self.state = AutonomousState::Running {
            turns_left: turns_left - 1,
        };
        self.last_seen_id = chat.last().map(|m| m.id.clone());
        Some(speaker)
    }
}
