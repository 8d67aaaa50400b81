//! The starter characters shipped in www/characters: every card parses
//! with the crate's own reader, has what a starter needs, carries a profile
//! that compiles to its card text, has a safe SVG avatar, and the index
//! lists exactly the files that exist.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use kindred_characters::card::{read_json, Card};
use kindred_characters::lorebook::{scan, Lorebook, ScanContext, ScanSettings, TimedState};
use kindred_characters::macros::split_examples;
use kindred_characters::persona::Persona;
use kindred_characters::profile::Profile;
use kindred_characters::prompt::{assemble, HistoryMessage, PromptInput, PromptSettings};
use kindred_characters::CardSpec;
use serde_json::Value;

/// Greetings are read by a small model: keep them short.
const MAX_GREETING_CHARS: usize = 320;
const MAX_GREETING_SENTENCES: usize = 3;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../www/characters")
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("read www/characters/{name}: {e}"))
}

struct Entry {
    id: String,
    name: String,
    tags: Vec<String>,
    file: String,
    avatar: String,
}

fn index() -> Vec<Entry> {
    let v: Value = serde_json::from_slice(&read("index.json")).expect("index.json is JSON");
    assert_eq!(v["version"], 1);
    let list = v["characters"].as_array().expect("characters array");
    list.iter()
        .map(|e| Entry {
            id: e["id"].as_str().expect("id").to_string(),
            name: e["name"].as_str().expect("name").to_string(),
            tags: e["tags"].as_array().expect("tags").iter().filter_map(|t| t.as_str().map(str::to_string)).collect(),
            file: e["file"].as_str().expect("file").to_string(),
            avatar: e["avatar"].as_str().expect("avatar").to_string(),
        })
        .collect()
}

fn load(e: &Entry) -> Card {
    let imported = read_json(&read(&e.file)).unwrap_or_else(|err| panic!("{}: {err}", e.file));
    assert_eq!(imported.spec, CardSpec::V3, "{} is a V3 card", e.file);
    imported.card
}

/// Sentence ends: ., ! or ? followed by a space, a closing mark or the
/// end ("Mr." style abbreviations count, which only makes the check
/// stricter). Text in parentheses — a translation gloss — is skipped.
fn sentences(text: &str) -> usize {
    let mut depth = 0usize;
    let plain: String = text
        .chars()
        .filter(|c| {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth = depth.saturating_sub(1);
                    return false;
                }
                _ => {}
            }
            depth == 0
        })
        .collect();
    let chars: Vec<char> = plain.trim().chars().collect();
    let mut n = 0;
    for (i, c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let closes = next.is_none_or(|n| n.is_whitespace() || matches!(n, '"' | '\'' | ')' | '*'));
        if matches!(c, '.' | '!' | '?') && closes && !matches!(next, Some('.')) {
            n += 1;
        }
    }
    n.max(1)
}

#[test]
fn index_matches_files() {
    let idx = index();
    assert!(idx.len() >= 12, "at least twelve starters, found {}", idx.len());
    let ids: BTreeSet<&str> = idx.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), idx.len(), "ids are unique");
    let mut on_disk_json = BTreeSet::new();
    let mut on_disk_svg = BTreeSet::new();
    for f in std::fs::read_dir(dir()).expect("www/characters exists") {
        let name = f.expect("dir entry").file_name().to_string_lossy().to_string();
        if let Some(stem) = name.strip_suffix(".json") {
            if stem != "index" {
                on_disk_json.insert(stem.to_string());
            }
        } else if let Some(stem) = name.strip_suffix(".svg") {
            on_disk_svg.insert(stem.to_string());
        }
    }
    let listed: BTreeSet<String> = ids.iter().map(|s| s.to_string()).collect();
    assert_eq!(on_disk_json, listed, "every card is listed and every listed card exists");
    assert_eq!(on_disk_svg, listed, "every avatar belongs to a listed card");
    for e in &idx {
        assert_eq!(e.file, format!("{}.json", e.id));
        assert_eq!(e.avatar, format!("{}.svg", e.id));
        assert!(e.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "id {}", e.id);
        let card = load(e);
        assert_eq!(card.name, e.name, "{}: index name", e.id);
        assert_eq!(card.tags, e.tags, "{}: index tags", e.id);
    }
}

#[test]
fn cards_have_required_fields() {
    for e in index() {
        let c = load(&e);
        let id = &e.id;
        assert_eq!(c.creator, "Kindred", "{id}");
        assert!(!c.tags.is_empty(), "{id}: tags");
        assert!(!c.description.trim().is_empty() && !c.personality.trim().is_empty(), "{id}: text");
        assert!(!c.scenario.trim().is_empty(), "{id}: scenario");
        assert!(!c.creator_notes.trim().is_empty(), "{id}: creator notes");
        let greetings: Vec<&String> = std::iter::once(&c.first_mes).chain(c.alternate_greetings.iter()).collect();
        assert!((1..=3).contains(&greetings.len()), "{id}: 1-3 greetings");
        for g in greetings {
            assert!(!g.trim().is_empty(), "{id}: empty greeting");
            assert!(g.chars().count() <= MAX_GREETING_CHARS, "{id}: greeting too long: {g}");
            assert!(sentences(g) <= MAX_GREETING_SENTENCES, "{id}: greeting over three sentences: {g}");
        }
        let examples = split_examples(&c.mes_example);
        assert!(examples.len() >= 2, "{id}: two or more example dialogues");
        assert!(c.mes_example.trim_start().starts_with("<START>"), "{id}: examples start with <START>");
        for ex in &examples {
            assert!(ex.contains("{{user}}:") && ex.contains("{{char}}:"), "{id}: example has both speakers: {ex}");
        }
        let kindred = &c.extensions["kindred"];
        assert_eq!(kindred["id"], Value::from(id.as_str()), "{id}: extensions.kindred.id");
        assert_eq!(kindred["avatar"], Value::from(e.avatar.as_str()), "{id}: extensions.kindred.avatar");
    }
}

#[test]
fn profiles_compile_to_the_card_text() {
    for e in index() {
        let c = load(&e);
        let p = Profile::from_card(&c).expect("profile parses").unwrap_or_else(|| panic!("{}: profile", e.id));
        assert_eq!(p.lint(), vec![], "{}: profile issues", e.id);
        assert!(p.traits.len() >= 3, "{}: at least three traits", e.id);
        let a = &p.attributes;
        for (what, list) in [("interests", &a.interests), ("viewpoints", &a.viewpoints), ("experiences", &a.experiences)] {
            assert!(!list.is_empty(), "{}: {what}", e.id);
        }
        let b = &p.behaviours;
        assert!(
            ![&b.linguistic_style, &b.emotional_expression, &b.interaction_patterns].iter().any(|s| s.trim().is_empty()),
            "{}: behaviours",
            e.id
        );
        let compiled = p.compile();
        assert_eq!(c.description, compiled.description, "{}: description is the compiled profile", e.id);
        assert_eq!(c.personality, compiled.personality, "{}: personality is the compiled profile", e.id);
    }
}

#[test]
fn starters_assemble_into_a_small_context() {
    // About four characters a token: a rough count, enough to keep the
    // whole character under a quarter of a 4096-token window.
    let approx = |s: &str| s.chars().count().div_ceil(4);
    for e in index() {
        let card = load(&e);
        let cards = vec![card.clone()];
        let persona = Persona::new("Alex", "");
        let history = vec![HistoryMessage::char(card.first_mes.clone()), HistoryMessage::user("Hello!")];
        let settings = PromptSettings::default();
        let p = assemble(
            &PromptInput {
                characters: &cards,
                speaker: 0,
                persona: &persona,
                history: &history,
                lore: &[],
                disabled_prompts: &[],
                memories: &[],
                settings: &settings,
            },
            &approx,
        )
        .expect("assembles");
        assert!(p.tokens.total < 1024, "{}: {} tokens", e.id, p.tokens.total);
        assert_eq!(p.examples_used, p.examples_total, "{}: examples fit", e.id);
        for m in &p.messages {
            assert!(!m.content.contains("{{"), "{}: macro left in prompt: {}", e.id, m.content);
            assert!(!m.content.contains("<START>"), "{}: <START> left in prompt", e.id);
        }
    }
}

#[test]
fn starter_lorebooks_fire() {
    let mut with_books = 0;
    for e in index() {
        let card = load(&e);
        let Some(book) = card.character_book.as_ref() else { continue };
        with_books += 1;
        let lore = Lorebook::from_book(book, "card");
        assert!(!lore.entries.is_empty(), "{}: empty book", e.id);
        for entry in &lore.entries {
            let key = entry.keys.first().unwrap_or_else(|| panic!("{}: entry without keys", e.id));
            let msg = format!("Tell me about the {key}.");
            let ctx = ScanContext { chat_length: 1, ..ScanContext::default() };
            let r = scan(std::slice::from_ref(&lore), &[msg.as_str()], &ctx, &ScanSettings::default(), &TimedState::default(), &|s: &str| s.len());
            assert!(r.hits.iter().any(|h| h.uid == entry.uid), "{}: {} does not fire on {key:?}", e.id, entry.uid);
        }
    }
    assert!(with_books >= 1, "at least one starter shows off a lorebook");
}

/// Tag names in document order, with a check that every element closes.
fn check_svg_structure(svg: &str) -> Result<(), String> {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let after = &rest[start + 1..];
        let end = after.find('>').ok_or("unclosed tag")?;
        let tag = &after[..end];
        rest = &after[end + 1..];
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        }
        if let Some(name) = tag.strip_prefix('/') {
            let open = stack.pop().ok_or(format!("stray </{name}>"))?;
            if open != name.trim() {
                return Err(format!("<{open}> closed by </{name}>"));
            }
        } else if !tag.ends_with('/') {
            let name = tag.split_whitespace().next().unwrap_or("").to_string();
            stack.push(name);
        }
    }
    if stack.is_empty() { Ok(()) } else { Err(format!("unclosed {stack:?}")) }
}

/// True when some attribute name starts with "on" (event handlers).
fn has_event_attribute(svg: &str) -> bool {
    let lower = svg.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    lower.match_indices("on").any(|(i, _)| {
        let before_ok = i > 0 && bytes[i - 1].is_ascii_whitespace();
        let name_end = lower[i..].find(|c: char| !c.is_ascii_alphanumeric()).map(|n| i + n);
        let eq_follows = name_end.is_some_and(|n| lower[n..].trim_start().starts_with('='));
        before_ok && eq_follows
    })
}

#[test]
fn avatars_are_safe_svg() {
    for e in index() {
        let bytes = read(&e.avatar);
        let svg = String::from_utf8(bytes).unwrap_or_else(|_| panic!("{}: avatar is UTF-8", e.id));
        let lower = svg.to_ascii_lowercase();
        assert!(lower.trim_start().starts_with("<svg"), "{}: starts with <svg", e.id);
        assert!(svg.contains(r#"xmlns="http://www.w3.org/2000/svg""#), "{}: SVG namespace", e.id);
        assert!(!lower.contains("<script"), "{}: script", e.id);
        assert!(!has_event_attribute(&svg), "{}: on* attribute", e.id);
        for banned in ["href", "<image", "<foreignobject", "<iframe", "javascript:", "@import", "<style"] {
            assert!(!lower.contains(banned), "{}: contains {banned}", e.id);
        }
        // The namespace is the only URL allowed: nothing to fetch.
        assert_eq!(lower.matches("http").count(), 1, "{}: external reference", e.id);
        assert!(svg.len() < 16 * 1024, "{}: avatar stays small", e.id);
        check_svg_structure(&svg).unwrap_or_else(|err| panic!("{}: malformed SVG: {err}", e.id));
    }
}

#[test]
fn svg_checks_catch_bad_avatars() {
    assert!(has_event_attribute(r#"<svg><circle onclick="x()"/></svg>"#));
    assert!(has_event_attribute(r#"<svg onload = "x()"></svg>"#));
    assert!(!has_event_attribute(r#"<svg><title>Lion on stone</title><g font="x"/></svg>"#));
    assert!(check_svg_structure("<svg><g></svg>").is_err());
    assert!(check_svg_structure("<svg><g/></svg>").is_ok());
    assert_eq!(sentences("Hi there. How are you? Good!"), 3);
    assert_eq!(sentences("Wait... what?"), 2);
    assert_eq!(sentences("*Nods.* ¡Hola! ¿Qué tal? (Hi! How are you?)"), 3);
}
