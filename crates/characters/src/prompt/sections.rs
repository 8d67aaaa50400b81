//! The text sections of a prompt, built from the cards, persona, lorebook
//! hits, memories and settings, with macros expanded. Budgeting and
//! ordering happen later; this only produces the pieces.

use crate::card::Card;
use crate::lorebook::{LoreHit, LoreRole, Position, UiPrompt};
use crate::macros::{expand, split_examples, MacroContext};
use crate::persona::Persona;

use super::message::Memory;
use super::settings::{PromptSettings, PromptStyle, DEFAULT_SYSTEM_PROMPT, ROLEPLAY_POST_HISTORY, ROLEPLAY_SYSTEM_PROMPT};

/// Expands macros with stable seeds: the same chat gives the same text for
/// the same place in the prompt, turn after turn.
pub struct Expander<'a> {
    pub char_name: &'a str,
    pub user_name: &'a str,
    pub chat_seed: u64,
}

impl Expander<'_> {
    pub fn run(&self, text: &str, salt: u64) -> String {
        let ctx = MacroContext {
            char_name: self.char_name,
            user_name: self.user_name,
            chat_seed: self.chat_seed,
            seed: self.chat_seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15),
        };
        expand(text, &ctx).trim().to_string()
    }
}

/// Seed salts, one per section, so equal text in two places may differ.
mod salt {
    pub const SYSTEM: u64 = 1;
    pub const PERSONA: u64 = 2;
    pub const CHARACTER: u64 = 3;
    pub const LORE: u64 = 4;
    pub const MEMORY: u64 = 5;
    pub const EXAMPLES: u64 = 6;
    pub const AUTHORS_NOTE: u64 = 7;
    pub const POST_HISTORY: u64 = 8;
    pub const HISTORY: u64 = 1 << 32;
}
pub use salt::HISTORY as HISTORY_SALT;

/// A piece of the character block; `lore` marks lorebook text (counted
/// as lore in the token report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub text: String,
    pub lore: bool,
}

/// Lorebook text inserted inside the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepthLore {
    pub depth: u32,
    pub role: LoreRole,
    pub text: String,
}

/// All sections, expanded.
#[derive(Debug, Clone, Default)]
pub struct Sections {
    pub system: String,
    pub lore_before: String,
    pub persona: String,
    pub character: Vec<Piece>,
    pub lore_after: String,
    pub memories_header: String,
    /// (index in the input, text, pinned), in the caller's order.
    pub memories: Vec<(usize, String, bool)>,
    pub examples_header: String,
    pub lore_before_examples: String,
    pub examples: Vec<String>,
    pub lore_after_examples: String,
    /// Author's note text and the lorebook parts placed above and below it.
    pub authors_note_top: String,
    pub authors_note: String,
    pub authors_note_bottom: String,
    pub depth_lore: Vec<DepthLore>,
    pub post_history: String,
}

pub struct SectionInput<'a> {
    pub speaker: &'a Card,
    pub others: Vec<&'a Card>,
    pub persona: &'a Persona,
    pub lore: &'a [LoreHit],
    pub disabled: &'a [UiPrompt],
    pub memories: &'a [Memory],
    pub settings: &'a PromptSettings,
}

pub fn build(input: &SectionInput<'_>, x: &Expander<'_>) -> Sections {
    let s = input.settings;
    let lore_at = |pos: Position| -> String {
        let texts: Vec<String> = input
            .lore
            .iter()
            .filter(|h| h.position == pos)
            .enumerate()
            .map(|(i, h)| x.run(&h.content, salt::LORE + i as u64))
            .filter(|t| !t.is_empty())
            .collect();
        texts.join("\n")
    };

    let mut character = Vec::new();
    push_piece(&mut character, lore_at(Position::BeforeDesc), true);
    push_piece(&mut character, x.run(&input.speaker.description, salt::CHARACTER), false);
    push_piece(&mut character, lore_at(Position::AfterDesc), true);
    let personality = x.run(&input.speaker.personality, salt::CHARACTER + 1);
    if !personality.is_empty() {
        push_piece(&mut character, format!("{}'s personality: {personality}", x.char_name), false);
    }
    push_piece(&mut character, lore_at(Position::Personality), true);
    let scenario = x.run(&input.speaker.scenario, salt::CHARACTER + 2);
    if !scenario.is_empty() {
        push_piece(&mut character, format!("Scenario: {scenario}"), false);
    }
    push_piece(&mut character, lore_at(Position::Scenario), true);
    for (i, other) in input.others.iter().enumerate() {
        push_piece(&mut character, other_block(other, x, i as u64), false);
    }

    let memories = input
        .memories
        .iter()
        .enumerate()
        .map(|(i, m)| (i, x.run(&m.text, salt::MEMORY + 1 + i as u64), m.pinned))
        .filter(|(_, t, _)| !t.is_empty())
        .collect();

    let examples = split_examples(&input.speaker.mes_example)
        .iter()
        .enumerate()
        .map(|(i, e)| x.run(e, salt::EXAMPLES + 1 + i as u64))
        .filter(|t| !t.is_empty())
        .collect();

    let depth_lore = input
        .lore
        .iter()
        .enumerate()
        .filter_map(|(i, h)| match h.position {
            Position::AtDepth { depth, role } => {
                let text = x.run(&h.content, salt::LORE + 1000 + i as u64);
                (!text.is_empty()).then_some(DepthLore { depth, role, text })
            }
            _ => None,
        })
        .collect();

    Sections {
        system: x.run(&system_prompt(input), salt::SYSTEM),
        lore_before: lore_at(Position::BeforeChar),
        persona: input.persona.render(x.char_name, s.chat_seed, s.chat_seed ^ salt::PERSONA),
        character,
        lore_after: lore_at(Position::AfterChar),
        memories_header: x.run(&s.memories_header, salt::MEMORY),
        memories,
        examples_header: x.run(&s.examples_header, salt::EXAMPLES),
        lore_before_examples: lore_at(Position::BeforeExamples),
        examples,
        lore_after_examples: lore_at(Position::AfterExamples),
        authors_note_top: lore_at(Position::AuthorsNoteTop),
        authors_note: x.run(&s.authors_note, salt::AUTHORS_NOTE),
        authors_note_bottom: lore_at(Position::AuthorsNoteBottom),
        depth_lore,
        post_history: x.run(&post_history(input), salt::POST_HISTORY),
    }
}

fn push_piece(out: &mut Vec<Piece>, text: String, lore: bool) {
    if !text.trim().is_empty() {
        out.push(Piece { text, lore });
    }
}

/// A group member other than the speaker: name, description, personality.
fn other_block(card: &Card, x: &Expander<'_>, i: u64) -> String {
    let name = crate::persona::one_line(card.display_name(), crate::persona::MAX_NAME_CHARS);
    let name = name.as_str();
    let other = Expander { char_name: name, user_name: x.user_name, chat_seed: x.chat_seed };
    let mut lines = vec![format!("[{name}]")];
    let desc = other.run(&card.description, salt::CHARACTER + 100 + i);
    if !desc.is_empty() {
        lines.push(desc);
    }
    let pers = other.run(&card.personality, salt::CHARACTER + 200 + i);
    if !pers.is_empty() {
        lines.push(format!("{name}'s personality: {pers}"));
    }
    lines.join("\n")
}

/// The user's prompt beats the card's; the card's may embed the app's
/// with `{{original}}`. `@@disable_ui_prompt system_prompt` removes the
/// app's part.
fn system_prompt(input: &SectionInput<'_>) -> String {
    let s = input.settings;
    let disabled = input.disabled.contains(&UiPrompt::SystemPrompt);
    if let Some(user) = s.system_prompt.as_deref().filter(|p| !p.trim().is_empty()) {
        return if disabled { String::new() } else { user.to_string() };
    }
    // The role-play layout speaks to the model as the character; a default
    // the app or the person changed is theirs to keep.
    let roleplay = s.style == PromptStyle::Roleplay && s.default_system_prompt == DEFAULT_SYSTEM_PROMPT;
    let original = match (disabled, roleplay) {
        (true, _) => "",
        (false, true) => ROLEPLAY_SYSTEM_PROMPT,
        (false, false) => s.default_system_prompt.as_str(),
    };
    let card = input.speaker.system_prompt.trim();
    if s.use_card_prompts && !card.is_empty() {
        replace_original(card, original)
    } else {
        original.to_string()
    }
}

fn post_history(input: &SectionInput<'_>) -> String {
    let s = input.settings;
    let disabled = input.disabled.contains(&UiPrompt::PostHistoryInstructions);
    let roleplay = s.style == PromptStyle::Roleplay && s.post_history.trim().is_empty();
    let original = match (disabled, roleplay) {
        (true, _) => "",
        (false, true) => ROLEPLAY_POST_HISTORY,
        (false, false) => s.post_history.as_str(),
    };
    let card = input.speaker.post_history_instructions.trim();
    if s.use_card_prompts && !card.is_empty() {
        replace_original(card, original)
    } else {
        original.to_string()
    }
}

/// Replaces `{{original}}` (any case) with `with`.
fn replace_original(text: &str, with: &str) -> String {
    const MARK: &str = "{{original}}";
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len() + with.len());
    let mut from = 0;
    // ASCII lowercasing keeps byte offsets aligned with `text`.
    while let Some(at) = lower.get(from..).and_then(|s| s.find(MARK)) {
        out.push_str(text.get(from..from + at).unwrap_or(""));
        out.push_str(with);
        from += at + MARK.len();
    }
    out.push_str(text.get(from..).unwrap_or(""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn original_is_replaced_any_case() {
        assert_eq!(replace_original("A {{original}} B {{ORIGINAL}}", "x"), "A x B x");
        assert_eq!(replace_original("none", "x"), "none");
    }
}
