//! Profiles: compiling to card text, storing under `extensions.kindred`,
//! surviving a card JSON round trip, linting traits, and personas.

use kindred_characters::card::{read_json, to_json, Card};
use kindred_characters::persona::Persona;
use kindred_characters::profile::{Attributes, Behaviours, Profile, ProfileError, ProfileIssue};
use kindred_characters::CardSpec;
use serde_json::json;

fn profile() -> Profile {
    Profile {
        attributes: Attributes {
            identity: "a retired lighthouse keeper on Gull Rock.".into(),
            interests: vec!["tide tables".into(), "knot tying.".into(), " ".into()],
            viewpoints: vec!["The sea owes nobody an apology.".into()],
            experiences: vec!["Kept the lamp lit through the great storm of '98.".into()],
            achievements: vec![],
            relationships: vec!["Writes to her sister Ada every month.".into()],
        },
        behaviours: Behaviours {
            linguistic_style: "Short sentences, nautical words.".into(),
            emotional_expression: "Shows worry by making tea.".into(),
            interaction_patterns: String::new(),
        },
        traits: vec!["I tell the truth even when it is cold.".into(), "My door is open in a storm.".into()],
        ..Profile::default()
    }
}

#[test]
fn compile_produces_card_text() {
    let c = profile().compile();
    assert_eq!(
        c.description,
        "{{char}} is a retired lighthouse keeper on Gull Rock.\n\
         Interests: tide tables, knot tying.\n\
         Viewpoints:\n- The sea owes nobody an apology.\n\
         Experiences:\n- Kept the lamp lit through the great storm of '98.\n\
         Relationships:\n- Writes to her sister Ada every month."
    );
    assert_eq!(
        c.personality,
        "Speaking style: Short sentences, nautical words.\n\
         Emotional expression: Shows worry by making tea.\n\
         In {{char}}'s own words:\n- I tell the truth even when it is cold.\n- My door is open in a storm."
    );
    assert_eq!(Profile::default().compile().description, "");
}

#[test]
fn stored_in_extensions_and_round_trips_through_card_json() {
    let mut card = Card { name: "Mira".into(), ..Card::default() };
    card.extensions.insert("kindred".into(), json!({"other": 1}));
    card.extensions.insert("someone_else".into(), json!({"x": [1, 2]}));
    let p = profile();
    p.apply_to(&mut card).unwrap();
    assert!(card.description.starts_with("{{char}} is a retired lighthouse keeper"));
    assert_eq!(card.extensions["kindred"]["other"], json!(1), "other kindred keys kept");
    assert_eq!(card.extensions["kindred"]["profile"]["traits"][0], json!("I tell the truth even when it is cold."));

    for spec in [CardSpec::V2, CardSpec::V3] {
        let bytes = to_json(&card, spec).unwrap();
        let back = read_json(&bytes).unwrap().card;
        assert_eq!(back.extensions, card.extensions, "{spec:?}");
        assert_eq!(Profile::from_card(&back).unwrap(), Some(p.clone()));
    }
}

#[test]
fn unknown_profile_fields_survive() {
    let mut card = Card::default();
    card.extensions.insert(
        "kindred".into(),
        json!({"profile": {"attributes": {"identity": "a cat"}, "traits": ["I nap."], "future_field": {"a": 1}}}),
    );
    let p = Profile::from_card(&card).unwrap().unwrap();
    assert_eq!(p.attributes.identity, "a cat");
    assert_eq!(p.extra.get("future_field"), Some(&json!({"a": 1})));
    let mut again = Card::default();
    p.store_in(&mut again).unwrap();
    assert_eq!(again.extensions["kindred"]["profile"]["future_field"], json!({"a": 1}));
}

#[test]
fn missing_and_bad_profiles() {
    assert_eq!(Profile::from_card(&Card::default()).unwrap(), None);
    let mut card = Card::default();
    card.extensions.insert("kindred".into(), json!("nope"));
    assert!(matches!(Profile::from_card(&card), Err(ProfileError::NotAnObject)));
    card.extensions.insert("kindred".into(), json!({"profile": {"traits": "not a list"}}));
    assert!(matches!(Profile::from_card(&card), Err(ProfileError::Invalid(_))));
    // A non-object `kindred` is replaced when storing.
    card.extensions.insert("kindred".into(), json!(3));
    profile().store_in(&mut card).unwrap();
    assert!(Profile::from_card(&card).unwrap().is_some());
}

#[test]
fn lint_flags_trait_problems() {
    assert!(profile().lint().is_empty());
    let mut p = profile();
    p.attributes.identity.clear();
    p.traits = vec!["She is kind.".into(), "".into(), format!("I {}", "really ".repeat(60))];
    assert_eq!(p.lint(), vec![
        ProfileIssue::MissingIdentity,
        ProfileIssue::TraitNotFirstPerson(0),
        ProfileIssue::EmptyTrait(1),
        ProfileIssue::TraitTooLong(2),
    ]);
}

#[test]
fn persona_macros() {
    let p = Persona::new("Robin", "{{user}} visits {{char}} every Tuesday. <USER> brings bread.");
    assert_eq!(p.render("Mira", 0, 0), "Robin visits Mira every Tuesday. Robin brings bread.");
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(serde_json::from_str::<Persona>(&json).unwrap(), p);
}
