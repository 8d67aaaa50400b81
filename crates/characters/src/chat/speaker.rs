//! Who speaks next in a room: manual, list order, natural order, pooled.

use serde::{Deserialize, Serialize};

use super::chat::Chat;
use crate::rng::Rng;
use super::room::Member;

/// A turn taker in a room.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Speaker {
    Character { id: String },
    Narrator,
}

impl Speaker {
    pub fn character(id: impl Into<String>) -> Self {
        Speaker::Character { id: id.into() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeakerStrategy {
    /// Nobody speaks until the user picks someone (force talk).
    Manual,
    /// Every member in list order, starting after the last speaker.
    ListOrder,
    /// Members named in the last message, then talkativeness rolls.
    #[default]
    Natural,
    /// The member who spoke least recently.
    Pooled,
}

/// The characters to speak after the chat's last visible message, in order.
/// Muted members never appear; the last speaker only when `allow_self`.
pub fn choose_speakers(
    strategy: SpeakerStrategy,
    members: &[Member],
    chat: &Chat,
    allow_self: bool,
    rng: &mut Rng,
) -> Vec<String> {
    let last = chat.visible().last();
    let last_speaker = last.and_then(|m| m.author.character_id());
    let eligible =
        |m: &&Member| !m.muted && (allow_self || Some(m.character_id.as_str()) != last_speaker);
    match strategy {
        SpeakerStrategy::Manual => Vec::new(),
        SpeakerStrategy::ListOrder => {
            let start = last_speaker
                .and_then(|id| members.iter().position(|m| m.character_id == id))
                .map_or(0, |p| p + 1);
            let n = members.len();
            (0..n)
                .filter_map(|k| members.get((start + k) % n))
                .filter(eligible)
                .map(|m| m.character_id.clone())
                .collect()
        }
        SpeakerStrategy::Natural => {
            let text = last.map(|m| m.text()).unwrap_or("");
            natural_order(members, text, &eligible, rng)
        }
        SpeakerStrategy::Pooled => {
            let candidates: Vec<&Member> = members.iter().filter(eligible).collect();
            let recency = |m: &Member| {
                chat.messages
                    .iter()
                    .rposition(|msg| msg.author.character_id() == Some(m.character_id.as_str()))
                    .map_or(0, |p| p + 1)
            };
            let oldest = candidates.iter().map(|m| recency(m)).min();
            let tied: Vec<&&Member> = candidates
                .iter()
                .filter(|m| Some(recency(m)) == oldest)
                .collect();
            let pick = rng.below(tied.len() as u64) as usize;
            tied.get(pick)
                .map(|m| vec![m.character_id.clone()])
                .unwrap_or_default()
        }
    }
}

fn natural_order(
    members: &[Member],
    last_text: &str,
    eligible: &dyn Fn(&&Member) -> bool,
    rng: &mut Rng,
) -> Vec<String> {
    let words = lower_words(last_text);
    let mut mentioned: Vec<(usize, &Member)> = members
        .iter()
        .filter(eligible)
        .filter_map(|m| mention_position(&words, &m.name).map(|p| (p, m)))
        .collect();
    mentioned.sort_by_key(|(p, _)| *p);
    let mut out: Vec<String> = mentioned
        .iter()
        .map(|(_, m)| m.character_id.clone())
        .collect();

    let mut rollers: Vec<&Member> = members
        .iter()
        .filter(eligible)
        .filter(|m| !out.contains(&m.character_id))
        .collect();
    rng.shuffle(&mut rollers);
    for m in rollers {
        if rng.next_f64() < f64::from(m.talkativeness) {
            out.push(m.character_id.clone());
        }
    }
    if out.is_empty() {
        let willing: Vec<&Member> = members
            .iter()
            .filter(eligible)
            .filter(|m| m.talkativeness > 0.0)
            .collect();
        if let Some(m) = willing.get(rng.below(willing.len() as u64) as usize) {
            out.push(m.character_id.clone());
        }
    }
    out
}

pub(crate) fn lower_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// First words of a name that do not name anyone on their own.
const NOT_A_NAME: &[&str] = &[
    "the", "a", "an", "mr", "mrs", "ms", "dr", "sir", "miss", "lady", "lord", "old", "young",
    "little",
];

/// Word position of the first whole-word, case-insensitive mention of a
/// name (the full name, or its first word for names of several words).
fn mention_position(words: &[String], name: &str) -> Option<usize> {
    let name_words = lower_words(name);
    let first = name_words.first()?;
    let full = find_phrase(words, &name_words);
    let short = if name_words.len() > 1
        && first.chars().count() >= 2
        && !NOT_A_NAME.contains(&first.as_str())
    {
        find_phrase(words, std::slice::from_ref(first))
    } else {
        None
    };
    match (full, short) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

pub(crate) fn find_phrase(words: &[String], phrase: &[String]) -> Option<usize> {
    if phrase.is_empty() || phrase.len() > words.len() {
        return None;
    }
    words.windows(phrase.len()).position(|w| w == phrase)
}
