//! The trait studio as a walk of steps, one model answer each, so that
//! whoever runs the model (the page's engine worker, one reply at a time
//! with progress and Stop; `run_trait_studio` for a native model or a
//! scripted test) follows the same rules: which prompt comes next, what its
//! answer must look like, how many tries a malformed answer gets, what is
//! skipped and reported.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::parse::{clean_reply, parse_list, parse_ranking};
use super::trait_studio::{
    candidate_prompt, question_prompt, ranking_prompt, StudioConfig, StudioError, StudioIssue,
    StudioItem, StudioResult, TraitSpec,
};
use crate::chat::character::ChatCharacter;
use crate::prompt::HistoryMessage;

/// Questions shorter than this are not questions a character can show a
/// trait in (and a schema that allowed "" would let a small model write it).
const MIN_QUESTION_CHARS: usize = 8;

/// What the model is asked next.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StudioStep {
    /// An instruction to the model as itself (one user message in its chat
    /// format). `schema`: the JSON Schema its answer is read against, for an
    /// engine that can keep decoding to one; `max_tokens`: room enough for
    /// the answer.
    Questions {
        trait_name: String,
        prompt: String,
        schema: Value,
        max_tokens: usize,
    },
    /// A reply in character to `question`: `history` is the chat it answers
    /// (the greeting, then the question), as a chat reply is assembled;
    /// `variant` tells the candidates apart (a seed, or an angle in
    /// `candidate_prompt`).
    Candidate {
        trait_name: String,
        question: String,
        variant: usize,
        history: Vec<HistoryMessage>,
    },
    /// An instruction, as `Questions`: the candidates ranked.
    Ranking {
        trait_name: String,
        question: String,
        prompt: String,
        schema: Value,
        max_tokens: usize,
    },
}

/// Where the walk is within the current trait.
#[derive(Debug, Clone)]
enum Stage {
    Questions { tries: usize },
    Candidates { left: VecDeque<String>, question: String, candidates: Vec<String>, asked: usize },
    Ranking { left: VecDeque<String>, question: String, candidates: Vec<String>, tries: usize },
    Done,
}

#[derive(Debug, Clone)]
pub struct StudioRun {
    character: ChatCharacter,
    traits: Vec<TraitSpec>,
    config: StudioConfig,
    at: usize,
    stage: Stage,
    answered: usize,
    result: StudioResult,
}

impl StudioRun {
    /// Blank traits are dropped and at most `config.max_traits` kept.
    pub fn new(character: ChatCharacter, traits: &[TraitSpec], config: StudioConfig) -> Result<Self, StudioError<String>> {
        let traits: Vec<TraitSpec> = traits.iter().filter(|t| !t.name.trim().is_empty()).take(config.max_traits).cloned().collect();
        if traits.is_empty() {
            return Err(StudioError::NoTraits);
        }
        Ok(Self { character, traits, config, at: 0, stage: Stage::Questions { tries: 0 }, answered: 0, result: StudioResult::default() })
    }

    pub fn traits(&self) -> &[TraitSpec] {
        &self.traits
    }

    pub fn result(&self) -> &StudioResult {
        &self.result
    }

    pub fn into_result(self) -> StudioResult {
        self.result
    }

    /// Answers taken so far, and that plus the answers still planned (a
    /// retry or a skipped question moves the second).
    pub fn progress(&self) -> (usize, usize) {
        let per_question = self.config.candidates_per_question + 1;
        let per_trait = 1 + self.config.questions_per_trait * per_question;
        let later = self.traits.len().saturating_sub(self.at + 1) * per_trait;
        let here = match &self.stage {
            Stage::Questions { .. } => per_trait,
            Stage::Candidates { left, asked, .. } => self.config.candidates_per_question - asked + 1 + left.len() * per_question,
            Stage::Ranking { left, .. } => 1 + left.len() * per_question,
            Stage::Done => return (self.answered, self.answered),
        };
        (self.answered, self.answered + here + later)
    }

    pub fn done(&self) -> bool {
        matches!(self.stage, Stage::Done)
    }

    /// The step the next answer is for; none when the run is over.
    pub fn next(&self) -> Option<StudioStep> {
        let t = self.traits.get(self.at)?;
        let name = t.name.clone();
        match &self.stage {
            Stage::Questions { .. } => {
                let n = self.config.questions_per_trait;
                let item = json!({ "type": "string", "minLength": MIN_QUESTION_CHARS, "maxLength": self.config.max_question_chars });
                let schema = json!({ "type": "array", "items": item, "minItems": n, "maxItems": n });
                let (prompt, max_tokens) = (question_prompt(&self.character, t, n), self.config.question_tokens());
                Some(StudioStep::Questions { trait_name: name, prompt, schema, max_tokens })
            }
            Stage::Candidates { question, asked, .. } => {
                let mut history = Vec::new();
                if !self.character.first_mes.trim().is_empty() {
                    history.push(HistoryMessage::char(self.character.first_mes.clone()));
                }
                history.push(HistoryMessage::user(question.clone()));
                Some(StudioStep::Candidate { trait_name: name, question: question.clone(), variant: *asked, history })
            }
            Stage::Ranking { question, candidates, .. } => {
                let k = candidates.len();
                let schema = json!({ "type": "array", "items": { "enum": (1..=k).collect::<Vec<_>>() }, "minItems": k, "maxItems": k });
                Some(StudioStep::Ranking {
                    trait_name: name,
                    question: question.clone(),
                    prompt: ranking_prompt(&self.character, t, question, candidates),
                    schema,
                    // "[1, 2, 3]": a token or two a number.
                    max_tokens: 3 * k + 8,
                })
            }
            Stage::Done => None,
        }
    }

    /// Takes the model's answer to `next()`'s step and moves on. An answer
    /// after the end is ignored.
    pub fn answer(&mut self, text: &str) {
        let Some(t) = self.traits.get(self.at) else { return };
        let trait_name = t.name.clone();
        self.answered += 1;
        let stage = std::mem::replace(&mut self.stage, Stage::Done);
        self.stage = match stage {
            Stage::Questions { tries } => {
                let questions = parse_list(text, self.config.questions_per_trait, self.config.max_question_chars);
                let mut left: VecDeque<String> = questions.into_iter().filter(|q| q.chars().count() >= MIN_QUESTION_CHARS).collect();
                match left.pop_front() {
                    Some(question) => Stage::Candidates { left, question, candidates: Vec::new(), asked: 0 },
                    None if tries < self.config.retries => Stage::Questions { tries: tries + 1 },
                    None => {
                        self.result.issues.push(StudioIssue::NoQuestions { trait_name });
                        self.next_trait()
                    }
                }
            }
            Stage::Candidates { left, question, mut candidates, asked } => {
                if let Some(reply) = clean_reply(text, &self.character.name, self.config.max_reply_chars) {
                    if !candidates.contains(&reply) {
                        candidates.push(reply);
                    }
                }
                if asked + 1 < self.config.candidates_per_question {
                    Stage::Candidates { left, question, candidates, asked: asked + 1 }
                } else if candidates.len() < 2 {
                    self.result.issues.push(StudioIssue::TooFewCandidates { trait_name, question, got: candidates.len() });
                    self.next_question(left)
                } else {
                    Stage::Ranking { left, question, candidates, tries: 0 }
                }
            }
            Stage::Ranking { left, question, candidates, tries } => match parse_ranking(text, candidates.len()) {
                Some(ranking) => {
                    self.result.items.push(StudioItem { trait_name, question, candidates, ranking });
                    self.next_question(left)
                }
                None if tries < self.config.retries => Stage::Ranking { left, question, candidates, tries: tries + 1 },
                None => {
                    self.result.issues.push(StudioIssue::UnreadableRanking { trait_name, question });
                    self.next_question(left)
                }
            },
            Stage::Done => Stage::Done,
        };
    }

    fn next_question(&mut self, mut left: VecDeque<String>) -> Stage {
        match left.pop_front() {
            Some(question) => Stage::Candidates { left, question, candidates: Vec::new(), asked: 0 },
            None => self.next_trait(),
        }
    }

    fn next_trait(&mut self) -> Stage {
        self.at += 1;
        if self.at < self.traits.len() {
            Stage::Questions { tries: 0 }
        } else {
            Stage::Done
        }
    }
}

/// The whole run with `engine` answering each prompt (a candidate is asked
/// with `candidate_prompt`, its angle chosen by the variant). Malformed
/// answers are retried, then skipped and reported in `issues`; an engine
/// error stops the run.
pub fn run_trait_studio<E: std::fmt::Display>(
    character: &ChatCharacter,
    traits: &[TraitSpec],
    config: &StudioConfig,
    engine: &mut dyn FnMut(&str) -> Result<String, E>,
) -> Result<StudioResult, StudioError<E>> {
    let mut run = StudioRun::new(character.clone(), traits, config.clone()).map_err(|_| StudioError::NoTraits)?;
    while let Some(step) = run.next() {
        let prompt = match step {
            StudioStep::Questions { prompt, .. } | StudioStep::Ranking { prompt, .. } => prompt,
            StudioStep::Candidate { question, variant, .. } => candidate_prompt(character, &question, variant),
        };
        let answer = engine(&prompt).map_err(StudioError::Engine)?;
        run.answer(&answer);
    }
    Ok(run.into_result())
}
