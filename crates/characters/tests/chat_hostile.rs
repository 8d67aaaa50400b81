//! Hostile and random input through every parser of the chat module: no
//! panic, bounded output.

use kindred_characters::chat::dataset::parse::{clean_reply, parse_list, parse_ranking};
use kindred_characters::chat::dataset::{parse_csv_pairs, parse_jsonl_pairs};
use kindred_characters::chat::dice::expand_rolls;
use kindred_characters::chat::memory::{keep_requests, tokenize, Bm25Index};
use kindred_characters::chat::safety::{detect_persona_break, Direction, Level, SafetyRules};
use kindred_characters::chat::{Chat, Rng};

const PIECES: &[&str] = &[
    "{{",
    "}}",
    "roll:",
    "d",
    "20",
    "+",
    "-",
    "\"",
    ",",
    "\n",
    "\r\n",
    "@",
    ".",
    "org",
    "İ",
    "ß",
    "😀",
    "é",
    "\u{0}",
    "[",
    "]",
    "{",
    "}",
    ":",
    "1.",
    " ",
    "Sam",
    "{{user}}",
    "as an AI",
    "remember that ",
    "porn",
    "9",
    "(",
    ")",
    "\u{feff}",
    "*",
    "#",
    "Candidate",
    "```",
    "'",
    "’",
];

fn random_text(rng: &mut Rng, len: usize) -> String {
    (0..len)
        .map(|_| PIECES[rng.below(PIECES.len() as u64) as usize])
        .collect()
}

#[test]
fn random_text_never_panics() {
    let mut rng = Rng::new(2024);
    let rules = SafetyRules {
        level: Level::Strict,
        ..SafetyRules::default()
    };
    for round in 0..3000 {
        let len = 1 + rng.below(60) as usize;
        let text = random_text(&mut rng, len);
        let v = rules.check(&text, Direction::Input);
        assert_eq!(
            v.text.chars().count(),
            text.chars().count(),
            "masking keeps length: {text:?}"
        );
        for f in &v.findings {
            assert!(
                text.is_char_boundary(f.start) && text.is_char_boundary(f.end) && f.start < f.end
            );
        }
        let pb = detect_persona_break(&text, "Sam");
        if let Some(t) = pb.truncate_at {
            assert!(text.get(..t).is_some());
        }
        let (expanded, rolls) = expand_rolls(&text, &mut rng);
        assert!(expanded.len() <= text.len() + 16 * rolls.len());
        assert!(parse_list(&text, 5, 50).len() <= 5);
        if let Some(r) = parse_ranking(&text, 3) {
            let mut sorted = r.clone();
            sorted.sort();
            assert_eq!(sorted, [0, 1, 2]);
        }
        let _ = clean_reply(&text, "Sam", 100);
        let _ = keep_requests(&text);
        let _ = tokenize(&text);
        let _ = parse_csv_pairs(&text);
        let _ = parse_jsonl_pairs(&text);
        if round % 100 == 0 {
            let docs: Vec<String> = (0..20).map(|_| random_text(&mut rng, 10)).collect();
            let index = Bm25Index::new(docs.iter().map(String::as_str));
            assert!(index.top(&text, 5).len() <= 5);
        }
    }
}

#[test]
fn hostile_stored_chats_are_refused_or_repaired() {
    for bad in [
        r#"{"id":"c","messages":[{"id":"m1","author":{"kind":"user"},"swipes":[{"text":"x","rating":0,"created_at_ms":0}],"created_at_ms":0,"updated_at_ms":0}],"created_at_ms":0,"updated_at_ms":0}"#,
        r#"{"id":"c","messages":[{"id":"m1","author":{"kind":"alien"},"swipes":[],"created_at_ms":0,"updated_at_ms":0}],"created_at_ms":0,"updated_at_ms":0}"#,
        r#"{"id":"c","messages":"nope","created_at_ms":0,"updated_at_ms":0}"#,
    ] {
        assert!(serde_json::from_str::<Chat>(bad).is_err(), "{bad}");
    }
    let empty_swipes = r#"{"id":"c","messages":[{"id":"m1","author":{"kind":"user"},"swipes":[],"chosen":99,"created_at_ms":5,"updated_at_ms":5}],"created_at_ms":0,"updated_at_ms":0}"#;
    let mut chat: Chat = serde_json::from_str(empty_swipes).unwrap();
    assert_eq!(chat.messages[0].text(), "");
    assert!(chat.edit("m1", "x", 1).is_err());
    assert!(
        chat.regenerate("m1", "y", 1).is_ok(),
        "regenerate works even on a broken message"
    );
    chat.repair();
    assert_eq!(chat.messages[0].chosen, 0);
    chat.repair();
    assert_eq!(chat.messages[0].text(), "y");
}
