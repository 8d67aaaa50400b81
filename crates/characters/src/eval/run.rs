//! One character's probe conversation as it runs: the next user turn to
//! send, each reply recorded (turn discipline applied, then scored). The
//! caller assembles the prompt and runs the model: the CLI natively, the
//! app in its engine worker, both through this.

use serde::{Deserialize, Serialize};

use super::probes::{conversation, ProbeSet, ReadyProbe};
use super::score::{score, Character, Check, Reply};
use crate::card::Card;
use crate::prompt::HistoryMessage;
use crate::reply::{finish, Ending};

/// One reply with its verdicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplyRecord {
    pub probe: ReadyProbe,
    /// The model's text before turn discipline.
    pub raw: String,
    /// What a person sees.
    pub shown: String,
    pub ending: Ending,
    pub checks: Vec<Check>,
    #[serde(default)]
    pub tokens: usize,
    #[serde(default)]
    pub ms: u64,
}

impl ReplyRecord {
    pub fn failures(&self) -> usize {
        self.checks.iter().filter(|c| !c.pass).count()
    }
}

/// A character's probe conversation on one model in one prompt format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CharacterRun {
    pub character: String,
    pub model: String,
    pub format: String,
    pub user_name: String,
    pub replies: Vec<ReplyRecord>,
}

pub struct ProbeRun {
    character: Character,
    probes: Vec<ReadyProbe>,
    greeting: String,
    pub record: CharacterRun,
}

impl ProbeRun {
    pub fn new(card: &Card, set: &ProbeSet, user_name: &str, limit: Option<usize>, model: &str, format: &str) -> ProbeRun {
        ProbeRun {
            character: Character::new(card, user_name),
            probes: conversation(card, set, user_name, limit),
            greeting: card.first_mes.clone(),
            record: CharacterRun {
                character: card.display_name().trim().to_string(),
                model: model.to_string(),
                format: format.to_string(),
                user_name: user_name.to_string(),
                replies: Vec::new(),
            },
        }
    }

    pub fn total(&self) -> usize {
        self.probes.len()
    }

    /// The next user turn, or none when the conversation is done.
    pub fn next_probe(&self) -> Option<&ReadyProbe> {
        self.probes.get(self.record.replies.len())
    }

    /// The chat so far as the app's history (greeting, then turns with the
    /// shown replies), ending with the next user turn.
    pub fn history(&self) -> Vec<HistoryMessage> {
        let mut h = Vec::new();
        if !self.greeting.trim().is_empty() {
            h.push(HistoryMessage::char(self.greeting.clone()));
        }
        for r in &self.record.replies {
            h.push(HistoryMessage::user(r.probe.text.clone()));
            h.push(HistoryMessage::char(r.shown.clone()));
        }
        if let Some(p) = self.next_probe() {
            h.push(HistoryMessage::user(p.text.clone()));
        }
        h
    }

    /// Records the model's reply to the current probe; returns it scored.
    /// Ignored (none) once every probe has its reply.
    pub fn record_reply(&mut self, raw: &str, ending: Ending, tokens: usize, ms: u64) -> Option<&ReplyRecord> {
        let probe = self.next_probe()?.clone();
        let shown = finish(raw, ending, &self.character.speakers, false).text;
        let earlier: Vec<String> = self.record.replies.iter().map(|r| r.shown.clone()).collect();
        let checks = score(&self.character, &Reply { probe: &probe, raw, shown: &shown, ending, earlier: &earlier });
        self.record.replies.push(ReplyRecord { probe, raw: raw.to_string(), shown, ending, checks, tokens, ms });
        self.record.replies.last()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::Author;

    #[test]
    fn a_run_walks_the_probes_and_keeps_shown_replies() {
        let card: Card = serde_json::from_value(serde_json::json!({"name": "Wren", "first_mes": "Evening!"})).unwrap();
        let mut run = ProbeRun::new(&card, &ProbeSet::shipped(), "Sam", Some(2), "m", "roleplay");
        assert_eq!(run.total(), 2);
        let h = run.history();
        assert_eq!((h.len(), h[0].author, h[1].author), (2, Author::Char, Author::User));
        let rec = run.record_reply("Hello Sam!\nSam: hi", Ending::Stop, 5, 10).unwrap();
        assert_eq!(rec.shown, "Hello Sam!");
        assert_eq!(run.history()[2].text, "Hello Sam!");
        run.record_reply("Biscuit, a fine name.", Ending::Eos, 5, 10);
        assert!(run.next_probe().is_none());
        assert!(run.record_reply("more", Ending::Eos, 1, 1).is_none());
        assert_eq!(run.record.replies.len(), 2);
    }
}
