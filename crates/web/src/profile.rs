//! Structured profiles for the character editor: read a card's profile,
//! compile a profile into card text (with what a creator may want to fix),
//! and store one in a card. Everything crosses the boundary as JSON text,
//! so the page keeps exactly what Rust reads and writes.

use kindred_characters::profile::{Profile, ProfileError, ProfileIssue, MAX_TRAIT_CHARS};
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::cards::parse_card;
use crate::error::WebError;

/// What the editor shows under a profile: the card text it makes and the
/// problems worth pointing out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompiledView {
    pub description: String,
    pub personality: String,
    pub issues: Vec<String>,
}

fn profile_error(e: ProfileError) -> String {
    e.to_string()
}

/// Parses profile JSON from the page; `null` or an empty text is the empty profile.
pub fn parse_profile(profile_json: &str) -> Result<Profile, String> {
    let text = profile_json.trim();
    if text.is_empty() || text == "null" {
        return Ok(Profile::default());
    }
    serde_json::from_str(text).map_err(|e| format!("profile: {e}"))
}

/// A person's words for each lint issue; indices count from one.
pub fn issue_text(issue: &ProfileIssue) -> String {
    match issue {
        ProfileIssue::MissingIdentity => "Add an identity: one line on who the character is.".to_string(),
        ProfileIssue::EmptyTrait(i) => format!("Trait {} is empty.", i + 1),
        ProfileIssue::TraitTooLong(i) => format!("Trait {} is longer than {MAX_TRAIT_CHARS} characters.", i + 1),
        ProfileIssue::TraitNotFirstPerson(i) => {
            format!("Trait {} should be in the character's own words (\"I ...\", \"My ...\").", i + 1)
        }
    }
}

pub fn compile_view(profile: &Profile) -> CompiledView {
    let compiled = profile.compile();
    CompiledView {
        description: compiled.description,
        personality: compiled.personality,
        issues: profile.lint().iter().map(issue_text).collect(),
    }
}

/// The profile stored in a card, as JSON text, or `null` when it has none.
pub fn card_profile(card_json: &str) -> Result<String, String> {
    let card = parse_card(card_json).map_err(|e: WebError| e.to_string())?;
    match Profile::from_card(&card).map_err(profile_error)? {
        Some(p) => serde_json::to_string(&p).map_err(|e| e.to_string()),
        None => Ok("null".to_string()),
    }
}

/// The card with the profile stored under `extensions.kindred.profile`
/// (other keys kept); with `compile`, its description and personality
/// become the profile's text.
pub fn card_with_profile(card_json: &str, profile_json: &str, compile: bool) -> Result<String, String> {
    let mut card = parse_card(card_json).map_err(|e: WebError| e.to_string())?;
    let profile = parse_profile(profile_json)?;
    if compile {
        profile.apply_to(&mut card).map_err(profile_error)?;
    } else {
        profile.store_in(&mut card).map_err(profile_error)?;
    }
    serde_json::to_string(&card).map_err(|e| e.to_string())
}

/// `{description, personality, issues}` for profile JSON, as JSON text.
#[wasm_bindgen]
pub fn compile_profile(profile_json: &str) -> Result<String, JsError> {
    let profile = parse_profile(profile_json).map_err(|e| JsError::new(&e))?;
    serde_json::to_string(&compile_view(&profile)).map_err(|e| JsError::new(&e.to_string()))
}

/// The card's profile as JSON text, or `null`.
#[wasm_bindgen]
pub fn read_card_profile(card_json: &str) -> Result<String, JsError> {
    card_profile(card_json).map_err(|e| JsError::new(&e))
}

/// The card JSON with the profile stored in it (see [`card_with_profile`]).
#[wasm_bindgen]
pub fn store_card_profile(card_json: &str, profile_json: &str, compile: bool) -> Result<String, JsError> {
    card_with_profile(card_json, profile_json, compile).map_err(|e| JsError::new(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const PROFILE: &str = r#"{"attributes":{"identity":"a beekeeper.","interests":["honey","maps"]},
        "behaviours":{"linguistic_style":"Slow and warm."},"traits":["I keep my promises.","She is shy."]}"#;

    #[test]
    fn compiles_with_issues_in_plain_words() {
        let view: Value = serde_json::from_str(&compile_profile_text(PROFILE)).unwrap();
        assert_eq!(view["description"], "{{char}} is a beekeeper.\nInterests: honey, maps.");
        assert!(view["personality"].as_str().unwrap().contains("- I keep my promises."));
        assert_eq!(view["issues"][0], "Trait 2 should be in the character's own words (\"I ...\", \"My ...\").");
        let empty = compile_view(&parse_profile("null").unwrap());
        assert_eq!(empty.issues, ["Add an identity: one line on who the character is."]);
    }

    fn compile_profile_text(json: &str) -> String {
        serde_json::to_string(&compile_view(&parse_profile(json).unwrap())).unwrap()
    }

    #[test]
    fn stores_and_reads_back_keeping_other_extensions() {
        let card = r#"{"name":"Bea","description":"old","extensions":{"kindred":{"id":"x"},"other":{"a":1}}}"#;
        let kept = card_with_profile(card, PROFILE, false).unwrap();
        let v: Value = serde_json::from_str(&kept).unwrap();
        assert_eq!(v["description"], "old");
        assert_eq!(v["extensions"]["kindred"]["id"], "x");
        assert_eq!(v["extensions"]["other"]["a"], 1);
        assert_eq!(v["extensions"]["kindred"]["profile"]["traits"][0], "I keep my promises.");
        let compiled: Value = serde_json::from_str(&card_with_profile(card, PROFILE, true).unwrap()).unwrap();
        assert_eq!(compiled["description"], "{{char}} is a beekeeper.\nInterests: honey, maps.");
        let back: Value = serde_json::from_str(&card_profile(&kept).unwrap()).unwrap();
        assert_eq!(back["attributes"]["identity"], "a beekeeper.");
        assert_eq!(card_profile(r#"{"name":"Bea"}"#).unwrap(), "null");
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        assert!(parse_profile("{").is_err());
        assert!(parse_profile(r#"{"traits":"not a list"}"#).is_err());
        assert!(card_with_profile("[1]", "null", true).is_err());
        assert!(card_profile(r#"{"name":"A","extensions":{"kindred":{"profile":{"traits":7}}}}"#).is_err());
        assert!(card_profile(r#"{"name":"A","extensions":{"kindred":3}}"#).is_err());
    }
}
