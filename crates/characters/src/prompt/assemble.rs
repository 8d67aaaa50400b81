//! Prompt assembly: cards, persona, lore, memories and history in, an
//! ordered message list out, under a token budget.
//!
//! Order (after SillyTavern's): system prompt, lore "before", persona,
//! description / personality / scenario, lore "after", memories, example
//! dialogues — all in one context message — then the history with the
//! author's note and depth lore woven in, then post-history instructions.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::card::Card;
use crate::lorebook::{LoreHit, LoreRole, UiPrompt};
use crate::persona::{one_line, Persona, MAX_NAME_CHARS};

use super::budget::{select, Costs, Selection};
use super::depth::{weave, Insert};
use super::message::{Author, HistoryMessage, Memory, Part, PromptMessage, Role};
use super::sections::{build, Expander, SectionInput, Sections, HISTORY_SALT};
use super::settings::{PromptSettings, PromptStyle};

/// Name used when a card has none.
const UNNAMED_CHARACTER: &str = "Character";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PromptError {
    #[error("no character at index {index} (the chat has {count})")]
    NoSpeaker { index: usize, count: usize },
}

/// Everything a prompt is made from.
#[derive(Debug, Clone, Copy)]
pub struct PromptInput<'a> {
    /// The characters of the chat (one, or a group).
    pub characters: &'a [Card],
    /// Which of them replies next.
    pub speaker: usize,
    pub persona: &'a Persona,
    /// Oldest first.
    pub history: &'a [HistoryMessage],
    /// Lorebook hits from [`crate::lorebook::scan`].
    pub lore: &'a [LoreHit],
    /// UI prompts switched off by lorebook decorators.
    pub disabled_prompts: &'a [UiPrompt],
    pub memories: &'a [Memory],
    pub settings: &'a PromptSettings,
}

/// Tokens used by each part of the prompt. Separators between parts and
/// template markup beyond `overhead` are not counted per part, so the
/// parts may sum to a little less than `total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SectionTokens {
    pub system: usize,
    pub lore: usize,
    pub persona: usize,
    pub character: usize,
    pub memories: usize,
    pub examples: usize,
    pub history: usize,
    pub authors_note: usize,
    pub post_history: usize,
    /// `message_overhead` times the number of messages.
    pub overhead: usize,
    /// Every message's content plus overhead.
    pub total: usize,
}

/// An assembled prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub messages: Vec<PromptMessage>,
    /// History indices left out to fit the budget (hidden ones are not
    /// listed). They are always older than every kept unpinned message.
    pub cut: Vec<usize>,
    /// Memory indices left out to fit the budget.
    pub memories_cut: Vec<usize>,
    pub examples_used: usize,
    pub examples_total: usize,
    pub tokens: SectionTokens,
    /// Tokens the prompt may use (context minus reply reserve).
    pub budget: usize,
    /// The fixed parts alone do not fit.
    pub over_budget: bool,
    pub char_name: String,
    pub user_name: String,
}

/// A visible history message, expanded.
struct Visible {
    index: usize,
    role: Role,
    name: String,
    content: String,
    mandatory: bool,
}

pub fn assemble(input: &PromptInput<'_>, count_tokens: &dyn Fn(&str) -> usize) -> Result<Prompt, PromptError> {
    let count = input.characters.len();
    let speaker = input
        .characters
        .get(input.speaker)
        .ok_or(PromptError::NoSpeaker { index: input.speaker, count })?;
    let char_name = match one_line(speaker.display_name(), MAX_NAME_CHARS) {
        n if n.is_empty() => UNNAMED_CHARACTER.to_string(),
        n => n,
    };
    let user_name = input.persona.display_name();
    let s = input.settings;
    let x = Expander { char_name: &char_name, user_name: &user_name, chat_seed: s.chat_seed };
    let others = input.characters.iter().enumerate().filter(|(i, _)| *i != input.speaker).map(|(_, c)| c).collect();
    let sec = build(
        &SectionInput {
            speaker,
            others,
            persona: input.persona,
            lore: input.lore,
            disabled: input.disabled_prompts,
            memories: input.memories,
            settings: s,
        },
        &x,
    );
    let visible = visible_history(input, &x, &char_name, &user_name, count > 1);

    let c = |t: &str| if t.is_empty() { 0 } else { count_tokens(t) };
    let oh = s.message_overhead;
    let budget = s.prompt_budget();
    let an_text = join_nonempty(&[&sec.authors_note_top, &sec.authors_note, &sec.authors_note_bottom], "\n");

    let pinned_memories: Vec<&str> = sec.memories.iter().filter(|m| m.2).map(|m| m.1.as_str()).collect();
    let mut fixed = c(&sec.system)
        + c(&sec.lore_before)
        + c(&sec.persona)
        + sec.character.iter().map(|p| c(&p.text)).sum::<usize>()
        + c(&sec.lore_after)
        + c(&sec.lore_before_examples)
        + c(&sec.lore_after_examples)
        + pinned_memories.iter().map(|m| c(&memory_line(m))).sum::<usize>()
        + if pinned_memories.is_empty() { 0 } else { c(&sec.memories_header) }
        + oh;
    if !an_text.is_empty() {
        fixed += c(&an_text) + oh;
    }
    fixed += sec.depth_lore.iter().map(|d| c(&d.text) + oh).sum::<usize>();
    if !sec.post_history.is_empty() {
        fixed += c(&sec.post_history) + oh;
    }
    fixed += visible.iter().filter(|v| v.mandatory).map(|v| c(&v.content) + oh).sum::<usize>();

    let unpinned: Vec<usize> = (0..sec.memories.len()).filter(|&i| !sec.memories[i].2).collect();
    let costs = Costs {
        fixed,
        memories: unpinned.iter().map(|&i| c(&memory_line(&sec.memories[i].1))).collect(),
        memories_header: if pinned_memories.is_empty() { c(&sec.memories_header) } else { 0 },
        history: visible.iter().rev().filter(|v| !v.mandatory).map(|v| (v.index, c(&v.content) + oh)).collect(),
        examples: sec.examples.iter().map(|e| c(e)).collect(),
        examples_header: c(&sec.examples_header),
    };
    let mut sel = select(&costs, budget);
    // Map memory positions back to positions in `sec.memories`.
    sel.memories = sel.memories.iter().filter_map(|&k| unpinned.get(k).copied()).collect();

    // The estimate leaves out separators; trim further until the real
    // count fits, oldest history first, then examples, then memories.
    let (messages, total) = loop {
        let messages = render_messages(&sec, &visible, &sel, &an_text, s, (&char_name, &user_name));
        let total: usize = messages.iter().map(|m| c(&m.content) + oh).sum();
        if total <= budget || !shrink(&mut sel) {
            break (messages, total);
        }
    };

    let keep = kept_flags(&sel, input.history.len());
    let kept = |v: &&Visible| v.mandatory || keep.get(v.index).copied().unwrap_or(false);
    let kept_history: Vec<&Visible> = visible.iter().filter(kept).collect();
    let cut = visible.iter().filter(|v| !kept(v)).map(|v| v.index).collect();
    let memories_cut = sec
        .memories
        .iter()
        .enumerate()
        .filter(|(pos, m)| !m.2 && !sel.memories.contains(pos))
        .map(|(_, m)| m.0)
        .collect();
    let kept_memories: Vec<&str> = memory_lines(&sec, &sel);
    let lore = c(&sec.lore_before)
        + c(&sec.lore_after)
        + sec.character.iter().filter(|p| p.lore).map(|p| c(&p.text)).sum::<usize>()
        + c(&sec.lore_before_examples)
        + c(&sec.lore_after_examples)
        + c(&sec.authors_note_top)
        + c(&sec.authors_note_bottom)
        + sec.depth_lore.iter().map(|d| c(&d.text)).sum::<usize>();
    let tokens = SectionTokens {
        system: c(&sec.system),
        lore,
        persona: c(&sec.persona),
        character: sec.character.iter().filter(|p| !p.lore).map(|p| c(&p.text)).sum(),
        memories: if kept_memories.is_empty() {
            0
        } else {
            c(&sec.memories_header) + kept_memories.iter().map(|m| c(&memory_line(m))).sum::<usize>()
        },
        examples: if sel.examples == 0 {
            0
        } else {
            c(&sec.examples_header) + sec.examples.iter().take(sel.examples).map(|e| c(e)).sum::<usize>()
        },
        history: kept_history.iter().map(|v| c(&v.content)).sum(),
        authors_note: c(&sec.authors_note),
        post_history: c(&sec.post_history),
        overhead: oh * messages.len(),
        total,
    };
    Ok(Prompt {
        messages,
        cut,
        memories_cut,
        examples_used: sel.examples,
        examples_total: sec.examples.len(),
        tokens,
        budget,
        over_budget: total > budget,
        char_name,
        user_name,
    })
}

/// Drops one more thing, least important first; false when nothing
/// droppable is left.
fn shrink(sel: &mut Selection) -> bool {
    if sel.examples > 0 {
        sel.examples -= 1;
        return true;
    }
    if !sel.history.is_empty() {
        // `history` is newest first: the oldest kept is last.
        sel.history.pop();
        return true;
    }
    sel.memories.pop().is_some()
}

fn visible_history(
    input: &PromptInput<'_>,
    x: &Expander<'_>,
    char_name: &str,
    user_name: &str,
    group: bool,
) -> Vec<Visible> {
    let mut out: Vec<Visible> = Vec::new();
    for (i, m) in input.history.iter().enumerate() {
        if m.hidden {
            continue;
        }
        let content = x.run(&m.text, HISTORY_SALT + i as u64);
        if content.is_empty() {
            continue;
        }
        let given = one_line(&m.name, MAX_NAME_CHARS);
        let given = given.as_str();
        let (role, name) = match m.author {
            Author::User => (Role::User, if given.is_empty() { user_name } else { given }),
            Author::Char => (Role::Assistant, if given.is_empty() { char_name } else { given }),
            Author::System => (Role::System, ""),
            Author::Narrator => (Role::System, if given.is_empty() { "Narrator" } else { given }),
        };
        // In a group every character speaks as "assistant"; the name tells
        // them apart.
        let content = if group && m.author == Author::Char && !content.starts_with(&format!("{name}:")) {
            format!("{name}: {content}")
        } else {
            content
        };
        let first = out.is_empty();
        out.push(Visible {
            index: i,
            role,
            name: name.to_string(),
            content,
            mandatory: m.pinned || (first && m.author == Author::Char),
        });
    }
    if let Some(last) = out.last_mut() {
        last.mandatory = true;
    }
    out
}

/// `kept[i]` is true when history index `i` was selected.
fn kept_flags(sel: &Selection, len: usize) -> Vec<bool> {
    let mut kept = vec![false; len];
    for &i in &sel.history {
        if let Some(k) = kept.get_mut(i) {
            *k = true;
        }
    }
    kept
}

fn memory_lines<'s>(sec: &'s Sections, sel: &Selection) -> Vec<&'s str> {
    sec.memories
        .iter()
        .enumerate()
        .filter(|(pos, m)| m.2 || sel.memories.contains(pos))
        .map(|(_, m)| m.1.as_str())
        .collect()
}

fn render_messages(
    sec: &Sections,
    visible: &[Visible],
    sel: &Selection,
    an_text: &str,
    s: &PromptSettings,
    (char_name, user_name): (&str, &str),
) -> Vec<PromptMessage> {
    let mut context: Vec<String> = Vec::new();
    for part in [&sec.system, &sec.lore_before, &sec.persona] {
        if !part.is_empty() {
            context.push(part.clone());
        }
    }
    let character: Vec<&str> = sec.character.iter().map(|p| p.text.as_str()).collect();
    if !character.is_empty() {
        context.push(character.join("\n"));
    }
    if !sec.lore_after.is_empty() {
        context.push(sec.lore_after.clone());
    }
    let memories = memory_lines(sec, sel);
    if !memories.is_empty() {
        let lines: Vec<String> = memories.iter().map(|m| memory_line(m)).collect();
        context.push(format!("{}\n{}", sec.memories_header, lines.join("\n")).trim().to_string());
    }
    if !sec.lore_before_examples.is_empty() {
        context.push(sec.lore_before_examples.clone());
    }
    let mut example_turns = Vec::new();
    let mut example_text: Vec<&str> = Vec::new();
    for block in sec.examples.iter().take(sel.examples) {
        match (s.style == PromptStyle::Roleplay).then(|| example_dialogue(block, char_name, user_name)).flatten() {
            Some(turns) => example_turns.extend(turns),
            None => example_text.push(block),
        }
    }
    if !example_text.is_empty() {
        context.push(format!("{}\n{}", sec.examples_header, example_text.join("\n\n")).trim().to_string());
    }
    if !sec.lore_after_examples.is_empty() {
        context.push(sec.lore_after_examples.clone());
    }

    let mut out = Vec::new();
    if !context.is_empty() {
        out.push(PromptMessage { role: Role::System, content: context.join("\n\n"), name: None, part: Part::Context });
    }
    out.extend(example_turns);
    let keep = kept_flags(sel, visible.last().map_or(0, |v| v.index + 1));
    let history: Vec<PromptMessage> = visible
        .iter()
        .filter(|v| v.mandatory || keep.get(v.index).copied().unwrap_or(false))
        .map(|v| PromptMessage {
            role: v.role,
            content: v.content.clone(),
            name: (!v.name.is_empty()).then(|| v.name.clone()),
            part: Part::History(v.index),
        })
        .collect();
    let mut inserts = Vec::new();
    if !an_text.is_empty() {
        inserts.push(Insert {
            depth: s.authors_note_depth,
            role: Role::System,
            part: Part::AuthorsNote,
            text: an_text.to_string(),
        });
    }
    for d in &sec.depth_lore {
        inserts.push(Insert { depth: d.depth, role: role_of(d.role), part: Part::Lore, text: d.text.clone() });
    }
    out.extend(weave(history, &inserts));
    if !sec.post_history.is_empty() {
        out.push(PromptMessage {
            role: Role::System,
            content: sec.post_history.clone(),
            name: None,
            part: Part::PostHistory,
        });
    }
    out
}

/// An example block as turns (`Name: text` lines of the user and the
/// character; unlabelled lines join the turn above), or none when it holds
/// no labelled line of each.
fn example_dialogue(block: &str, char_name: &str, user_name: &str) -> Option<Vec<PromptMessage>> {
    let mut turns: Vec<PromptMessage> = Vec::new();
    for line in block.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let labelled = |name: &str| line.strip_prefix(name).and_then(|r| r.strip_prefix(':')).map(str::trim);
        let (role, name, text) = match (labelled(user_name), labelled(char_name)) {
            (Some(t), _) => (Role::User, user_name, t),
            (None, Some(t)) => (Role::Assistant, char_name, t),
            (None, None) => {
                let last = turns.last_mut()?;
                last.content.push('\n');
                last.content.push_str(line);
                continue;
            }
        };
        match turns.last_mut() {
            Some(last) if last.role == role => {
                last.content.push('\n');
                last.content.push_str(text);
            }
            _ => turns.push(PromptMessage { role, content: text.to_string(), name: Some(name.to_string()), part: Part::Example }),
        }
    }
    let has = |r: Role| turns.iter().any(|t| t.role == r);
    (has(Role::User) && has(Role::Assistant)).then_some(turns)
}

fn memory_line(text: &str) -> String {
    format!("- {text}")
}

fn role_of(r: LoreRole) -> Role {
    match r {
        LoreRole::System => Role::System,
        LoreRole::User => Role::User,
        LoreRole::Assistant => Role::Assistant,
    }
}

fn join_nonempty(parts: &[&str], sep: &str) -> String {
    parts.iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join(sep)
}
