//! The trait studio, after the character-training recipe: for each trait,
//! the model writes questions that would reveal it, answers each in
//! character several times, and ranks its answers by how well they show the
//! trait. The rankings become preference pairs and the best answers example
//! dialogues.
//!
//! The steps, one model answer each, are walked by `StudioRun`
//! (studio_run.rs): the page's engine worker and `run_trait_studio` (a plain
//! function from prompt to answer: a native model or a scripted test) drive
//! the same run.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::conversation::ChatMessage;
use super::example::{format_example, ExampleDialogue, ExampleSource};
use super::preference::PreferencePair;
use crate::chat::character::ChatCharacter;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraitSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudioConfig {
    pub questions_per_trait: usize,
    pub candidates_per_question: usize,
    pub max_traits: usize,
    /// Extra attempts when an answer cannot be read.
    pub retries: usize,
    pub max_question_chars: usize,
    pub max_reply_chars: usize,
}

impl StudioConfig {
    /// The page's run: counts a person picks, within what a small model
    /// answers in minutes (1-10 questions a trait, 2-5 replies each), and
    /// questions short enough to be a chat message.
    pub fn for_page(questions: usize, candidates: usize) -> Self {
        Self {
            questions_per_trait: questions.clamp(1, 10),
            candidates_per_question: candidates.clamp(2, 5),
            max_traits: 8,
            max_question_chars: 200,
            ..Self::default()
        }
    }

    /// Tokens an instruction's answer may take: `n` questions of at most
    /// `max_question_chars` (about three characters a token) in a JSON array.
    pub fn question_tokens(&self) -> usize {
        self.questions_per_trait * (self.max_question_chars / 3 + 4) + 8
    }
}

impl Default for StudioConfig {
    fn default() -> Self {
        Self {
            questions_per_trait: 5,
            candidates_per_question: 3,
            max_traits: 16,
            retries: 1,
            max_question_chars: 400,
            max_reply_chars: 2_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudioItem {
    pub trait_name: String,
    pub question: String,
    pub candidates: Vec<String>,
    /// Candidate indices, best first.
    pub ranking: Vec<usize>,
}

impl StudioItem {
    pub fn best(&self) -> Option<&str> {
        self.ranking
            .first()
            .and_then(|&i| self.candidates.get(i))
            .map(String::as_str)
    }
}

/// Something the pipeline skipped, for the user to see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StudioIssue {
    NoQuestions {
        trait_name: String,
    },
    TooFewCandidates {
        trait_name: String,
        question: String,
        got: usize,
    },
    UnreadableRanking {
        trait_name: String,
        question: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StudioResult {
    pub items: Vec<StudioItem>,
    pub issues: Vec<StudioIssue>,
}

#[derive(Debug, Error)]
pub enum StudioError<E: std::fmt::Display> {
    #[error("the engine failed: {0}")]
    Engine(E),
    #[error("no traits to work on")]
    NoTraits,
}

pub(super) fn trait_line(t: &TraitSpec) -> String {
    if t.description.trim().is_empty() {
        t.name.trim().to_owned()
    } else {
        format!("{}: {}", t.name.trim(), t.description.trim())
    }
}

pub fn question_prompt(character: &ChatCharacter, t: &TraitSpec, n: usize) -> String {
    format!(
        "You are helping to write training conversations for the character {name}.\n\n{about}\n\n\
         Trait: {trait_line}\n\n\
         Write {n} different messages that a visitor might send to {name} in a chat, each giving \
         {name} a chance to show this trait in the reply. Write them as the visitor would type them, \
         talking to {name} about their own life; vary topic and tone; never mention the trait itself.\n\n\
         For example, for a character who is brave: [\"There is a strange noise in the cellar and I \
         am scared to go down.\", \"My boss wants me to speak in front of the whole company tomorrow.\"]\n\n\
         Answer with a JSON array of {n} strings and nothing else.",
        name = character.name,
        about = character.description_block(true),
        trait_line = trait_line(t),
    )
}

const ANGLES: &[&str] = &[
    "",
    "Keep it short.",
    "Take your time and include a concrete detail.",
    "Let your mood colour the reply.",
    "Answer in an unexpected way that is still true to you.",
];

pub fn candidate_prompt(character: &ChatCharacter, question: &str, variant: usize) -> String {
    let angle = ANGLES.get(variant % ANGLES.len()).copied().unwrap_or("");
    format!(
        "{system}\n\n{{{{user}}}}: {question}\n\n\
         Reply as {name}, in character, in your own voice. {angle}\n\
         Write only {name}'s reply.",
        system = character.system_message(),
        name = character.name,
    )
}

pub fn ranking_prompt(
    character: &ChatCharacter,
    t: &TraitSpec,
    question: &str,
    candidates: &[String],
) -> String {
    let mut out = format!(
        "You judge replies written for the character {name}.\n\nTrait: {trait_line}\n\nMessage: {question}\n\n",
        name = character.name,
        trait_line = trait_line(t),
    );
    for (i, c) in candidates.iter().enumerate() {
        out.push_str(&format!("Candidate {}:\n{}\n\n", i + 1, c));
    }
    out.push_str(
        "Rank the candidates from the one that shows the trait best (while staying natural and in \
         character) to the one that shows it least. Answer with a JSON array of candidate numbers, \
         best first, for example [2, 1, 3].",
    );
    out
}

impl StudioResult {
    /// For every question, the best candidate is preferred over each other
    /// one; the prompt is the card's system message and the question.
    pub fn preference_pairs(&self, character: &ChatCharacter) -> Vec<PreferencePair> {
        let system = ChatMessage::new("system", character.system_message());
        let mut out = Vec::new();
        for item in &self.items {
            let Some(best) = item.best() else { continue };
            let prompt = vec![
                system.clone(),
                ChatMessage::new("user", item.question.clone()),
            ];
            for other in item
                .ranking
                .iter()
                .skip(1)
                .filter_map(|&i| item.candidates.get(i))
            {
                out.push(PreferencePair {
                    source: format!("trait:{}", item.trait_name),
                    prompt: prompt.clone(),
                    chosen: best.to_owned(),
                    rejected: other.clone(),
                    chosen_rating: None,
                    rejected_rating: None,
                });
            }
        }
        out
    }

    /// The best answers as example dialogues, taking traits in turn so every
    /// trait is represented, within a count and token bound.
    pub fn example_dialogues(
        &self,
        max_examples: usize,
        max_tokens: usize,
        count: &dyn Fn(&str) -> usize,
    ) -> Vec<ExampleDialogue> {
        let mut by_trait: Vec<(&str, Vec<&StudioItem>)> = Vec::new();
        for item in &self.items {
            match by_trait
                .iter_mut()
                .find(|(name, _)| *name == item.trait_name)
            {
                Some((_, list)) => list.push(item),
                None => by_trait.push((&item.trait_name, vec![item])),
            }
        }
        let mut out = Vec::new();
        let mut used = 0;
        let depth = by_trait.iter().map(|(_, l)| l.len()).max().unwrap_or(0);
        'outer: for round in 0..depth {
            for (name, list) in &by_trait {
                if out.len() >= max_examples {
                    break 'outer;
                }
                let Some(item) = list.get(round) else {
                    continue;
                };
                let Some(best) = item.best() else { continue };
                let text = format_example(Some(&item.question), best);
                let tokens = count(&text);
                if used + tokens > max_tokens {
                    continue;
                }
                used += tokens;
                out.push(ExampleDialogue {
                    text,
                    rating: None,
                    source: ExampleSource::TraitStudio {
                        trait_name: (*name).to_owned(),
                    },
                    tokens,
                });
            }
        }
        out
    }
}
