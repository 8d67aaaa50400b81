//! Adaptive examples: a character's best-rated replies, with the user line
//! they answered, become example dialogues for its card (bounded in number
//! and tokens, returned for the user to review).

use serde::{Deserialize, Serialize};

use super::example::{format_example, ExampleDialogue, ExampleSource};
use crate::chat::chat::Chat;
use crate::chat::message::Author;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdaptiveConfig {
    pub max_examples: usize,
    /// Tokens of all examples together.
    pub max_tokens: usize,
    /// Lowest rating that counts as a good reply.
    pub min_rating: u8,
}

impl Default for AdaptiveConfig {
    fn default() -> Self {
        Self {
            max_examples: 4,
            max_tokens: 600,
            min_rating: 4,
        }
    }
}

/// The best replies of `character_id` across `chats`: highest rating first,
/// then newest; each reply text once.
pub fn adaptive_examples(
    chats: &[&Chat],
    character_id: &str,
    config: &AdaptiveConfig,
    count: &dyn Fn(&str) -> usize,
) -> Vec<ExampleDialogue> {
    struct Candidate<'a> {
        chat_id: &'a str,
        message_id: &'a str,
        user: Option<&'a str>,
        reply: &'a str,
        rating: u8,
        at: u64,
    }
    let mut candidates = Vec::new();
    for chat in chats {
        let visible: Vec<_> = chat.visible().collect();
        for (i, m) in visible.iter().enumerate() {
            if m.author.character_id() != Some(character_id) {
                continue;
            }
            let user = i
                .checked_sub(1)
                .and_then(|p| visible.get(p))
                .filter(|prev| prev.author == Author::User)
                .map(|prev| prev.text());
            for (_, swipe, rating) in m.rated_swipes() {
                if rating.stars() >= config.min_rating && !swipe.text.trim().is_empty() {
                    candidates.push(Candidate {
                        chat_id: &chat.id,
                        message_id: &m.id,
                        user,
                        reply: &swipe.text,
                        rating: rating.stars(),
                        at: swipe.created_at_ms,
                    });
                }
            }
        }
    }
    candidates.sort_by(|a, b| b.rating.cmp(&a.rating).then(b.at.cmp(&a.at)));

    let mut out: Vec<ExampleDialogue> = Vec::new();
    let mut used = 0usize;
    let mut seen: Vec<&str> = Vec::new();
    for c in candidates {
        if out.len() >= config.max_examples {
            break;
        }
        if seen.contains(&c.reply.trim()) {
            continue;
        }
        let text = format_example(c.user, c.reply);
        let tokens = count(&text);
        if used + tokens > config.max_tokens {
            continue;
        }
        used += tokens;
        seen.push(c.reply.trim());
        out.push(ExampleDialogue {
            text,
            rating: Some(c.rating),
            source: ExampleSource::Chat {
                chat_id: c.chat_id.to_owned(),
                message_id: c.message_id.to_owned(),
            },
            tokens,
        });
    }
    out
}
