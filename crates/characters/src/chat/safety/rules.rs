//! The rule layer: per-category word lists the user can edit, a level (off,
//! standard, strict for minors) and an action per category and level.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::words::{find_all, phrase_words, words};

pub const MAX_TERMS_PER_CATEGORY: usize = 500;
pub const MAX_TERM_CHARS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Sexual,
    Violence,
    SelfHarm,
    Hate,
    PersonalData,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::Sexual,
        Category::Violence,
        Category::SelfHarm,
        Category::Hate,
        Category::PersonalData,
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Off,
    #[default]
    Standard,
    /// For minors: more terms, harsher actions.
    Strict,
}

/// Ordered by severity: the strongest finding decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Let it through and tell the user.
    Warn,
    /// Replace the matched words with asterisks (same length).
    Mask,
    /// Do not send it / do not show it.
    Block,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// What the user types.
    Input,
    /// What the model writes.
    Output,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryRules {
    pub enabled: bool,
    /// Flagged at the standard and strict levels.
    pub terms: Vec<String>,
    /// Flagged at the strict level only.
    #[serde(default)]
    pub strict_terms: Vec<String>,
    pub standard_action: Action,
    pub strict_action: Action,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SafetyRules {
    pub level: Level,
    pub check_input: bool,
    pub check_output: bool,
    pub categories: BTreeMap<Category, CategoryRules>,
    /// Flag e-mail addresses and phone numbers as personal data.
    #[serde(default = "yes")]
    pub detect_contact_details: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub category: Category,
    /// The configured term, or "email address" / "phone number".
    pub term: String,
    /// Byte span in the checked text.
    pub start: usize,
    pub end: usize,
    pub action: Action,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleVerdict {
    pub findings: Vec<Finding>,
    /// The strongest action of any finding; `None` when nothing matched.
    pub action: Option<Action>,
    /// The text with every `Mask` finding masked (unchanged otherwise).
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SafetyError {
    #[error("a term must have 1 to {MAX_TERM_CHARS} characters and at least one letter or digit")]
    InvalidTerm,
    #[error("a category holds at most {MAX_TERMS_PER_CATEGORY} terms")]
    TooManyTerms,
}

fn list(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

impl Default for SafetyRules {
    /// Short illustrative lists; users extend them.
    fn default() -> Self {
        use Action::*;
        let rules =
            |terms: &[&str], strict: &[&str], standard_action, strict_action| CategoryRules {
                enabled: true,
                terms: list(terms),
                strict_terms: list(strict),
                standard_action,
                strict_action,
            };
        let mut categories = BTreeMap::new();
        categories.insert(
            Category::Sexual,
            rules(
                &["porn", "pornographic", "explicit sex", "nudes"],
                &["sexy", "naked", "undress"],
                Mask,
                Block,
            ),
        );
        categories.insert(
            Category::Violence,
            rules(
                &["behead", "dismember", "torture"],
                &["kill", "stab", "blood", "gore"],
                Warn,
                Mask,
            ),
        );
        categories.insert(
            Category::SelfHarm,
            rules(
                &[
                    "kill myself",
                    "suicide",
                    "self-harm",
                    "cut myself",
                    "kill yourself",
                ],
                &["hurt myself", "overdose"],
                Warn,
                Block,
            ),
        );
        categories.insert(
            Category::Hate,
            rules(
                &["subhuman", "ethnic cleansing", "inferior race"],
                &["go back to your country"],
                Mask,
                Block,
            ),
        );
        categories.insert(
            Category::PersonalData,
            rules(
                &[
                    "social security number",
                    "credit card number",
                    "bank password",
                ],
                &[
                    "home address",
                    "phone number",
                    "what school",
                    "where do you live",
                ],
                Warn,
                Mask,
            ),
        );
        Self {
            level: Level::Standard,
            check_input: true,
            check_output: true,
            categories,
            detect_contact_details: true,
        }
    }
}

impl SafetyRules {
    /// Add a term to a category (for the strict level only when `strict`).
    /// Returns false when it was already there.
    pub fn add_term(
        &mut self,
        category: Category,
        term: &str,
        strict: bool,
    ) -> Result<bool, SafetyError> {
        let term = term.trim();
        if term.chars().count() > MAX_TERM_CHARS || phrase_words(term).is_empty() {
            return Err(SafetyError::InvalidTerm);
        }
        let rules = self
            .categories
            .entry(category)
            .or_insert_with(|| CategoryRules {
                enabled: true,
                terms: Vec::new(),
                strict_terms: Vec::new(),
                standard_action: Action::Warn,
                strict_action: Action::Block,
            });
        if rules
            .terms
            .iter()
            .chain(&rules.strict_terms)
            .any(|t| phrase_words(t) == phrase_words(term))
        {
            return Ok(false);
        }
        if rules.terms.len() + rules.strict_terms.len() >= MAX_TERMS_PER_CATEGORY {
            return Err(SafetyError::TooManyTerms);
        }
        if strict {
            &mut rules.strict_terms
        } else {
            &mut rules.terms
        }
        .push(term.to_owned());
        Ok(true)
    }

    /// Remove a term (matched case-insensitively) from both lists of a
    /// category. Returns whether anything was removed.
    pub fn remove_term(&mut self, category: Category, term: &str) -> bool {
        let Some(rules) = self.categories.get_mut(&category) else {
            return false;
        };
        let target = phrase_words(term);
        let before = rules.terms.len() + rules.strict_terms.len();
        rules.terms.retain(|t| phrase_words(t) != target);
        rules.strict_terms.retain(|t| phrase_words(t) != target);
        before != rules.terms.len() + rules.strict_terms.len()
    }

    /// The action a category takes at the current level (`None`: not active).
    pub fn action_for(&self, category: Category) -> Option<Action> {
        let rules = self.categories.get(&category).filter(|r| r.enabled)?;
        match self.level {
            Level::Off => None,
            Level::Standard => Some(rules.standard_action),
            Level::Strict => Some(rules.strict_action),
        }
    }

    pub fn applies_to(&self, direction: Direction) -> bool {
        match direction {
            Direction::Input => self.check_input,
            Direction::Output => self.check_output,
        }
    }

    /// Check a text going in the given direction.
    pub fn check(&self, text: &str, direction: Direction) -> RuleVerdict {
        let mut verdict = RuleVerdict {
            text: text.to_owned(),
            ..RuleVerdict::default()
        };
        if self.level == Level::Off || !self.applies_to(direction) {
            return verdict;
        }
        let text_words = words(text);
        for (&category, rules) in &self.categories {
            let Some(action) = self.action_for(category) else {
                continue;
            };
            let strict = if self.level == Level::Strict {
                rules.strict_terms.as_slice()
            } else {
                &[]
            };
            for term in rules.terms.iter().chain(strict) {
                for (start, end) in find_all(&text_words, &phrase_words(term)) {
                    verdict.findings.push(Finding {
                        category,
                        term: term.clone(),
                        start,
                        end,
                        action,
                    });
                }
            }
            if category == Category::PersonalData && self.detect_contact_details {
                for (start, end, what) in contact_details(text) {
                    verdict.findings.push(Finding {
                        category,
                        term: what.to_owned(),
                        start,
                        end,
                        action,
                    });
                }
            }
        }
        verdict.findings.sort_by_key(|f| (f.start, f.end));
        verdict.action = verdict.findings.iter().map(|f| f.action).max();
        let spans: Vec<(usize, usize)> = verdict
            .findings
            .iter()
            .filter(|f| f.action == Action::Mask)
            .map(|f| (f.start, f.end))
            .collect();
        verdict.text = mask(text, &spans);
        verdict
    }
}

/// Replace the letters and digits inside the spans with '*': one '*' per
/// character, so the text keeps its length in characters (and in bytes for
/// ASCII) and its spacing.
pub fn mask(text: &str, spans: &[(usize, usize)]) -> String {
    text.char_indices()
        .map(|(i, c)| {
            if c.is_alphanumeric() && spans.iter().any(|&(s, e)| i >= s && i < e) {
                '*'
            } else {
                c
            }
        })
        .collect()
}

/// E-mail addresses and phone numbers (9 to 15 digits, so dates and years
/// are not taken for phone numbers).
fn contact_details(text: &str) -> Vec<(usize, usize, &'static str)> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    // E-mail: local@domain.tld around each '@'.
    for (at, _) in text.match_indices('@') {
        let is_local = |b: u8| b.is_ascii_alphanumeric() || b"._%+-".contains(&b);
        let is_domain = |b: u8| b.is_ascii_alphanumeric() || b == b'.' || b == b'-';
        let mut s = at;
        while s > 0 && bytes.get(s - 1).copied().is_some_and(is_local) {
            s -= 1;
        }
        let mut e = at + 1;
        while bytes.get(e).copied().is_some_and(is_domain) {
            e += 1;
        }
        let domain = text.get(at + 1..e).unwrap_or("").trim_end_matches('.');
        let e = at + 1 + domain.len();
        let tld_ok = domain.rsplit_once('.').is_some_and(|(host, tld)| {
            !host.is_empty() && tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic())
        });
        if s < at && tld_ok {
            out.push((s, e, "email address"));
        }
    }
    // Phone numbers: runs of digits and separators.
    let mut i = 0;
    while i < bytes.len() {
        let starts = bytes
            .get(i)
            .copied()
            .is_some_and(|b| b.is_ascii_digit() || b == b'+' || b == b'(');
        let after_word = i > 0
            && bytes
                .get(i - 1)
                .copied()
                .is_some_and(|b| b.is_ascii_alphanumeric());
        if !starts || after_word {
            i += 1;
            continue;
        }
        let mut j = i;
        let mut digits = 0;
        while let Some(&b) = bytes.get(j) {
            if b.is_ascii_digit() {
                digits += 1;
            } else if !(b" -.()+".contains(&b)) {
                break;
            }
            j += 1;
        }
        // Trailing separators are not part of the number.
        while j > i
            && bytes
                .get(j - 1)
                .copied()
                .is_some_and(|b| !b.is_ascii_digit() && b != b')')
        {
            j -= 1;
        }
        let glued = bytes
            .get(j)
            .copied()
            .is_some_and(|b| b.is_ascii_alphanumeric());
        if (9..=15).contains(&digits) && !glued && !out.iter().any(|&(s, e, _)| i < e && j > s) {
            out.push((i, j, "phone number"));
        }
        i = j.max(i + 1);
    }
    out
}
