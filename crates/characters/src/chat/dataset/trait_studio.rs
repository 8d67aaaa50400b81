//! The trait studio, after the character-training recipe: for each trait,
//! the model writes questions that would reveal it, answers each in
//! character several times, and ranks its answers by how well they show the
//! trait. The rankings become preference pairs and the best answers example
//! dialogues.
//!
//! The engine is a plain function from prompt to answer, so the pipeline is
//! the same for the in-page model, a native one, or a scripted test.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::conversation::ChatMessage;
use super::example::{format_example, ExampleDialogue, ExampleSource};
use super::parse::{clean_reply, parse_list, parse_ranking};
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

fn trait_line(t: &TraitSpec) -> String {
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
         Write {n} different messages a user might send to {name} whose replies would clearly show \
         whether {name} has this trait. Vary topic and tone; do not name the trait.\n\
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

/// Run the whole pipeline. Malformed answers are retried, then skipped and
/// reported in `issues`; an engine error stops the run.
pub fn run_trait_studio<E: std::fmt::Display>(
    character: &ChatCharacter,
    traits: &[TraitSpec],
    config: &StudioConfig,
    engine: &mut dyn FnMut(&str) -> Result<String, E>,
) -> Result<StudioResult, StudioError<E>> {
    let traits: Vec<&TraitSpec> = traits
        .iter()
        .filter(|t| !t.name.trim().is_empty())
        .take(config.max_traits)
        .collect();
    if traits.is_empty() {
        return Err(StudioError::NoTraits);
    }
    let mut result = StudioResult::default();
    let mut ask = |prompt: &str| engine(prompt).map_err(StudioError::Engine);
    for t in traits {
        let prompt = question_prompt(character, t, config.questions_per_trait);
        let mut questions = Vec::new();
        for _ in 0..=config.retries {
            questions = parse_list(
                &ask(&prompt)?,
                config.questions_per_trait,
                config.max_question_chars,
            );
            if !questions.is_empty() {
                break;
            }
        }
        if questions.is_empty() {
            result.issues.push(StudioIssue::NoQuestions {
                trait_name: t.name.clone(),
            });
            continue;
        }
        for question in questions {
            let mut candidates: Vec<String> = Vec::new();
            for k in 0..config.candidates_per_question {
                let answer = ask(&candidate_prompt(character, &question, k))?;
                if let Some(reply) = clean_reply(&answer, &character.name, config.max_reply_chars) {
                    if !candidates.contains(&reply) {
                        candidates.push(reply);
                    }
                }
            }
            if candidates.len() < 2 {
                result.issues.push(StudioIssue::TooFewCandidates {
                    trait_name: t.name.clone(),
                    question,
                    got: candidates.len(),
                });
                continue;
            }
            let prompt = ranking_prompt(character, t, &question, &candidates);
            let mut ranking = None;
            for _ in 0..=config.retries {
                ranking = parse_ranking(&ask(&prompt)?, candidates.len());
                if ranking.is_some() {
                    break;
                }
            }
            match ranking {
                Some(ranking) => result.items.push(StudioItem {
                    trait_name: t.name.clone(),
                    question,
                    candidates,
                    ranking,
                }),
                None => result.issues.push(StudioIssue::UnreadableRanking {
                    trait_name: t.name.clone(),
                    question,
                }),
            }
        }
    }
    Ok(result)
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
