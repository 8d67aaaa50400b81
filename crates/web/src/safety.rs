//! Safety for the page: the chat domain's rule layer, model-layer hook and
//! persona-break detection over JSON.
//!
//! The page stores only what the user chooses: the level and, per category,
//! the word lists they edited. Actions per category and level stay in Rust
//! ([`SafetyRules::default`]), so a stored setting can never weaken them, and
//! a category the user never edited follows the built-in lists.

use std::collections::BTreeMap;

use kindred_characters::chat::safety::{
    check, detect_persona_break, Action, Category, Direction, Finding, Level, NoClassifier,
    SafetyConfig, SafetyRules,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use wasm_bindgen::prelude::*;

/// One category's lists as the user edits them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Lists {
    pub terms: Vec<String>,
    pub strict_terms: Vec<String>,
}

/// The stored safety setting.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SafetySettings {
    pub level: Level,
    pub lists: BTreeMap<Category, Lists>,
}

/// The setting with every list filled in (the built-in one where the user
/// has none) and the terms that were refused, with why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Normalized {
    pub settings: SafetySettings,
    pub rejected: Vec<String>,
}

/// Builds the rules for a setting: built-in actions, the user's lists.
/// Invalid or repeated terms are left out and named in the second value.
pub fn rules(settings: &SafetySettings) -> (SafetyRules, Vec<String>) {
    let mut rules = SafetyRules { level: settings.level, ..SafetyRules::default() };
    let mut rejected = Vec::new();
    for (&category, lists) in &settings.lists {
        if let Some(r) = rules.categories.get_mut(&category) {
            r.terms.clear();
            r.strict_terms.clear();
        }
        for (terms, strict) in [(&lists.terms, false), (&lists.strict_terms, true)] {
            for term in terms {
                if term.trim().is_empty() {
                    continue;
                }
                if let Err(e) = rules.add_term(category, term, strict) {
                    rejected.push(format!("\u{201c}{}\u{201d}: {e}", term.trim()));
                }
            }
        }
    }
    (rules, rejected)
}

pub fn normalize(settings: &SafetySettings) -> Normalized {
    let (rules, rejected) = rules(settings);
    let lists = rules
        .categories
        .iter()
        .map(|(&c, r)| (c, Lists { terms: r.terms.clone(), strict_terms: r.strict_terms.clone() }))
        .collect();
    Normalized { settings: SafetySettings { level: rules.level, lists }, rejected }
}

fn parse_settings(json: &str) -> Result<SafetySettings, String> {
    // An empty value means "never set": the defaults.
    if json.trim().is_empty() || json.trim() == "null" {
        return Ok(SafetySettings::default());
    }
    serde_json::from_str(json).map_err(|e| format!("The safety settings are not valid: {e}"))
}

fn parse_direction(direction: &str) -> Result<Direction, String> {
    match direction {
        "input" => Ok(Direction::Input),
        "output" => Ok(Direction::Output),
        other => Err(format!("Unknown safety direction \u{201c}{other}\u{201d} (input or output).")),
    }
}

fn category_name(c: Category) -> &'static str {
    match c {
        Category::Sexual => "sexual content",
        Category::Violence => "violence",
        Category::SelfHarm => "self-harm",
        Category::Hate => "hate",
        Category::PersonalData => "personal data",
    }
}

/// A sentence for the user: what was found and what was done.
fn message(action: Option<Action>, findings: &[Finding], direction: Direction) -> String {
    let Some(action) = action else {
        return String::new();
    };
    let mut categories: Vec<&str> = findings.iter().map(|f| category_name(f.category)).collect();
    categories.dedup();
    categories.sort_unstable();
    categories.dedup();
    let what = categories.join(", ");
    match (action, direction) {
        (Action::Block, Direction::Input) => {
            format!("Not sent: the message contains words the safety settings block ({what}).")
        }
        (Action::Block, Direction::Output) => {
            format!("Hidden: the reply contained words the safety settings block ({what}).")
        }
        (Action::Mask, _) => format!("Some words were masked by the safety settings ({what})."),
        (Action::Warn, _) => format!("Safety warning: {what}."),
    }
}

/// `{settings, rejected}` for a stored setting (or none).
pub fn settings_json(json: &str) -> Result<String, String> {
    let normalized = normalize(&parse_settings(json)?);
    serde_json::to_string(&normalized).map_err(|e| e.to_string())
}

/// What a masked letter becomes on the page. Not the domain's '*': the page
/// renders messages as Markdown, where a run of asterisks is emphasis and
/// would swallow the mask.
pub const MASK: char = '\u{2022}';

/// `text` with the letters and digits of the masked findings replaced by
/// [`MASK`], one for one.
fn mask_for_page(text: &str, findings: &[Finding]) -> String {
    let spans: Vec<(usize, usize)> =
        findings.iter().filter(|f| f.action == Action::Mask).map(|f| (f.start, f.end)).collect();
    text.char_indices()
        .map(|(i, c)| {
            if c.is_alphanumeric() && spans.iter().any(|&(s, e)| i >= s && i < e) {
                MASK
            } else {
                c
            }
        })
        .collect()
}

/// `{action, text, findings, model, message}`: `action` is null, "warn",
/// "mask" or "block"; `text` is what to send or show (masked with [`MASK`]
/// where the rules masked); `model` is the classifier's report (the page
/// supplies none yet, so it says "not_run").
pub fn check_json(settings: &str, text: &str, direction: &str) -> Result<String, String> {
    let direction = parse_direction(direction)?;
    let (rules, _) = rules(&parse_settings(settings)?);
    let config = SafetyConfig { rules, ..SafetyConfig::default() };
    let report = check(&config, &mut NoClassifier, text, direction);
    let message = message(report.action, &report.rules.findings, direction);
    Ok(json!({
        "action": report.action,
        "text": mask_for_page(text, &report.rules.findings),
        "findings": report.rules.findings,
        "model": report.model,
        "message": message,
    })
    .to_string())
}

/// `{is_break, ai_disclaimers, user_line_at, truncate_at}` for a reply.
/// Offsets are in UTF-16 code units, as JS strings count them.
pub fn persona_break_json(text: &str, user_name: &str) -> String {
    let found = detect_persona_break(text, user_name);
    let utf16 = |byte: usize| text.get(..byte).map_or(0, |s| s.encode_utf16().count());
    let phrases: Vec<&str> = found.ai_disclaimers.iter().map(|h| h.phrase.as_str()).collect();
    json!({
        "is_break": found.is_break(),
        "ai_disclaimers": phrases,
        "user_line_at": found.user_line_at.map(utf16),
        "truncate_at": found.truncate_at.map(utf16),
    })
    .to_string()
}

fn js(r: Result<String, String>) -> Result<String, JsError> {
    r.map_err(|e| JsError::new(&e))
}

#[wasm_bindgen]
pub fn safety_settings(json: &str) -> Result<String, JsError> {
    js(settings_json(json))
}

#[wasm_bindgen]
pub fn safety_check(settings: &str, text: &str, direction: &str) -> Result<String, JsError> {
    js(check_json(settings, text, direction))
}

#[wasm_bindgen]
pub fn safety_persona_break(text: &str, user_name: &str) -> String {
    persona_break_json(text, user_name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn checked(settings: &str, text: &str, direction: &str) -> Value {
        serde_json::from_str(&check_json(settings, text, direction).unwrap()).unwrap()
    }

    const PINEAPPLE: &str = r#"{"level":"strict","lists":{"sexual":{"terms":["pineapple"]}}}"#;

    #[test]
    fn strict_blocks_a_listed_word_in_input() {
        let v = checked(PINEAPPLE, "I like Pineapple pizza", "input");
        assert_eq!(v["action"], "block");
        assert!(v["message"].as_str().unwrap().starts_with("Not sent"), "{v}");
        assert_eq!(v["model"]["status"], "not_run");
    }

    #[test]
    fn standard_masks_the_same_word() {
        let settings = PINEAPPLE.replace("strict", "standard");
        let v = checked(&settings, "I like pineapple pizza", "input");
        assert_eq!(v["action"], "mask");
        assert_eq!(v["text"], "I like ••••••••• pizza");
    }

    #[test]
    fn off_lets_everything_through() {
        let settings = PINEAPPLE.replace("strict", "off");
        let v = checked(&settings, "pineapple porn suicide", "output");
        assert_eq!(v["action"], Value::Null);
        assert_eq!(v["text"], "pineapple porn suicide");
        assert_eq!(v["message"], "");
    }

    #[test]
    fn an_edited_list_replaces_the_built_in_one() {
        let v = checked(PINEAPPLE.replace("strict", "standard").as_str(), "porn", "input");
        assert_eq!(v["action"], Value::Null, "the user removed the built-in sexual terms");
        // Categories the user did not edit keep their built-in lists.
        let v = checked("null", "porn", "output");
        assert_eq!(v["action"], "mask");
    }

    #[test]
    fn settings_are_filled_in_and_bad_terms_named() {
        let v: Value = serde_json::from_str(
            &settings_json(r#"{"level":"strict","lists":{"hate":{"terms":["???", "x", "X", "  "]}}}"#).unwrap(),
        )
        .unwrap();
        assert_eq!(v["settings"]["level"], "strict");
        assert_eq!(v["settings"]["lists"]["hate"]["terms"], json!(["x"]));
        assert!(v["settings"]["lists"]["violence"]["terms"].as_array().unwrap().len() > 1);
        let rejected = v["rejected"].as_array().unwrap();
        assert_eq!(rejected.len(), 1, "{rejected:?}");
        assert!(rejected[0].as_str().unwrap().contains("???"));
        let defaults: Value = serde_json::from_str(&settings_json("").unwrap()).unwrap();
        assert_eq!(defaults["settings"]["level"], "standard");
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(check_json("{", "x", "input").is_err());
        assert!(check_json(r#"{"level":"max"}"#, "x", "input").is_err());
        assert!(check_json("null", "x", "sideways").is_err());
        assert!(settings_json("[1]").is_err());
    }

    #[test]
    fn persona_breaks_are_found_with_js_offsets() {
        let v: Value = serde_json::from_str(&persona_break_json("Well… As an AI language model, I can't.", "Sam")).unwrap();
        assert_eq!(v["is_break"], true);
        assert_eq!(v["ai_disclaimers"], json!(["as an ai language model"]));
        let text = "Ahoy 🌊!\nSam: I reply for the user";
        let v: Value = serde_json::from_str(&persona_break_json(text, "Sam")).unwrap();
        let at = v["truncate_at"].as_u64().unwrap() as usize;
        let units: Vec<u16> = text.encode_utf16().collect();
        assert_eq!(String::from_utf16(&units[..at]).unwrap().trim_end(), "Ahoy 🌊!");
        let v: Value = serde_json::from_str(&persona_break_json("Hello there.", "Sam")).unwrap();
        assert_eq!(v["is_break"], false);
    }
}
