//! Lorebook activation semantics: constant / enabled, selective logic,
//! regex and case, insertion order and budget, recursion, probability,
//! timed effects across turns, and V3 decorators.

use kindred_characters::book::CharacterBook;
use kindred_characters::lorebook::{
    scan, HitReason, LoreRole, Lorebook, Position, ScanContext, ScanResult, ScanSettings, TimedState, UiPrompt,
};
use serde_json::{json, Value};

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

fn book(entries: Value) -> Lorebook {
    book_with(json!({ "entries": entries }))
}

fn book_with(v: Value) -> Lorebook {
    let b: CharacterBook = serde_json::from_value(v).expect("test book parses");
    Lorebook::from_book(&b, "t")
}

fn entry(id: i64, keys: &[&str], content: &str) -> Value {
    json!({"id": id, "keys": keys, "content": content, "enabled": true, "insertion_order": 100})
}

fn with(mut e: Value, extra: Value) -> Value {
    if let (Some(o), Some(x)) = (e.as_object_mut(), extra.as_object()) {
        for (k, v) in x {
            o.insert(k.clone(), v.clone());
        }
    }
    e
}

fn run(b: &Lorebook, msgs: &[&str], ctx: ScanContext, settings: &ScanSettings, state: &TimedState) -> ScanResult {
    scan(std::slice::from_ref(b), msgs, &ctx, settings, state, &words)
}

fn ids(r: &ScanResult) -> Vec<&str> {
    r.hits.iter().map(|h| h.uid.as_str()).collect()
}

fn at(len: u64) -> ScanContext {
    ScanContext { chat_length: len, character_turns: (len / 2) as u32, ..ScanContext::default() }
}

#[test]
fn constant_and_disabled() {
    let b = book(json!([
        with(entry(1, &[], "Always."), json!({"constant": true})),
        with(entry(2, &["dragon"], "Off."), json!({"enabled": false})),
        with(entry(3, &["dragon"], "   "), json!({})),
        entry(4, &["dragon"], "On."),
    ]));
    let r = run(&b, &["a dragon"], at(1), &ScanSettings::default(), &TimedState::default());
    assert_eq!(ids(&r), vec!["t#1", "t#4"]);
    assert_eq!(r.hits[0].reason, HitReason::Constant);
    assert_eq!(r.hits[1].reason, HitReason::Keys);
}

#[test]
fn insertion_order_sorts_hits() {
    let b = book(json!([
        with(entry(1, &["x"], "late"), json!({"insertion_order": 30})),
        with(entry(2, &["x"], "early"), json!({"insertion_order": -5})),
        with(entry(3, &["x"], "mid"), json!({"insertion_order": 10})),
    ]));
    let r = run(&b, &["x"], at(1), &ScanSettings::default(), &TimedState::default());
    let content: Vec<&str> = r.hits.iter().map(|h| h.content.as_str()).collect();
    assert_eq!(content, vec!["early", "mid", "late"]);
}

#[test]
fn selective_logic_from_st_extensions() {
    let mk = |logic: i64| {
        book(json!([with(
            entry(1, &["sword"], "Blade lore."),
            json!({"selective": true, "secondary_keys": ["fire", "ice"], "extensions": {"selectiveLogic": logic}})
        )]))
    };
    let cases = [
        (0, "a sword of fire", true),
        (0, "a plain sword", false),
        (1, "sword of fire and ice", false),
        (1, "sword of fire", true),
        (2, "sword of ice", false),
        (2, "plain sword", true),
        (3, "sword of fire", false),
        (3, "sword of fire and ice", true),
    ];
    for (logic, text, want) in cases {
        let r = run(&mk(logic), &[text], at(1), &ScanSettings::default(), &TimedState::default());
        assert_eq!(!r.hits.is_empty(), want, "logic {logic} on {text:?}");
    }
}

#[test]
fn case_sensitivity_and_regex() {
    let b = book(json!([
        with(entry(1, &["Rome"], "City."), json!({"case_sensitive": true})),
        entry(2, &["/\\bkn(ight|ave)s?\\b/i"], "Knights."),
        with(entry(3, &["dr[ae]gon"], "Regex entry."), json!({"use_regex": true})),
        entry(4, &["/(unclosed/"], "Broken regex never fires."),
    ]));
    let s = ScanSettings::default();
    let st = TimedState::default();
    assert_eq!(ids(&run(&b, &["rome was not built"], at(1), &s, &st)), Vec::<&str>::new());
    assert_eq!(ids(&run(&b, &["Rome was not built"], at(1), &s, &st)), vec!["t#1"]);
    assert_eq!(ids(&run(&b, &["Two KNAVES"], at(1), &s, &st)), vec!["t#2"]);
    assert_eq!(ids(&run(&b, &["a DRAGON"], at(1), &s, &st)), vec!["t#3"]);
    let cs = ScanSettings { case_sensitive: true, ..s };
    assert_eq!(ids(&run(&b, &["a DRAGON"], at(1), &cs, &st)), Vec::<&str>::new());
    assert!(run(&b, &["(unclosed"], at(1), &s, &st).hits.is_empty());
}

#[test]
fn scan_depth_book_and_entry() {
    let msgs = ["the key", "b", "c", "d"];
    let b = book_with(json!({"scan_depth": 4, "entries": [entry(1, &["key"], "found")]}));
    assert_eq!(ids(&run(&b, &msgs, at(4), &ScanSettings::default(), &TimedState::default())), vec!["t#1"]);
    let shallow = book_with(json!({"scan_depth": 3, "entries": [entry(1, &["key"], "found")]}));
    assert!(run(&shallow, &msgs, at(4), &ScanSettings::default(), &TimedState::default()).hits.is_empty());
    // The @@scan_depth decorator beats the book.
    let deco = book_with(json!({"scan_depth": 1, "entries": [entry(1, &["key"], "@@scan_depth 10\nfound")]}));
    let r = run(&deco, &msgs, at(4), &ScanSettings::default(), &TimedState::default());
    assert_eq!(r.hits[0].content, "found");
}

#[test]
fn token_budget_keeps_highest_priority() {
    let b = book_with(json!({"token_budget": 5, "entries": [
        with(entry(1, &["x"], "one two three"), json!({"priority": 1})),
        with(entry(2, &["x"], "four five six"), json!({"priority": 9})),
        with(entry(3, &["x"], "seven eight"), json!({"priority": 5})),
    ]}));
    let r = run(&b, &["x"], at(1), &ScanSettings::default(), &TimedState::default());
    assert_eq!(ids(&r), vec!["t#2", "t#3"]);
    assert_eq!(r.dropped, vec!["t#1"]);
    assert_eq!(r.hits.iter().map(|h| h.tokens).sum::<usize>(), 5);
    // Without priority, the higher insertion order is more important.
    let b = book_with(json!({"token_budget": 3, "entries": [
        with(entry(1, &["x"], "a b c"), json!({"insertion_order": 1})),
        with(entry(2, &["x"], "d e f"), json!({"insertion_order": 2})),
    ]}));
    assert_eq!(ids(&run(&b, &["x"], at(1), &ScanSettings::default(), &TimedState::default())), vec!["t#2"]);
    // The scan setting overrides the book.
    let s = ScanSettings { token_budget: Some(100), ..ScanSettings::default() };
    assert_eq!(run(&b, &["x"], at(1), &s, &TimedState::default()).hits.len(), 2);
}

#[test]
fn recursion_with_step_limit() {
    let chain = json!([
        entry(1, &["alpha"], "mentions beta"),
        entry(2, &["beta"], "mentions gamma"),
        entry(3, &["gamma"], "mentions delta"),
        entry(4, &["delta"], "the end"),
    ]);
    let flat = book(chain.clone());
    assert_eq!(ids(&run(&flat, &["alpha"], at(1), &ScanSettings::default(), &TimedState::default())), vec!["t#1"]);

    let rec = book_with(json!({"recursive_scanning": true, "entries": chain}));
    let r = run(&rec, &["alpha"], at(1), &ScanSettings::default(), &TimedState::default());
    assert_eq!(ids(&r), vec!["t#1", "t#2", "t#3", "t#4"]);
    assert_eq!(r.hits.iter().map(|h| h.step).collect::<Vec<_>>(), vec![0, 1, 2, 3]);
    assert_eq!(r.hits[1].reason, HitReason::Recursion);

    let limited = ScanSettings { max_recursion_steps: 1, ..ScanSettings::default() };
    assert_eq!(ids(&run(&rec, &["alpha"], at(1), &limited, &TimedState::default())), vec!["t#1", "t#2"]);
}

#[test]
fn recursion_flags() {
    let b = book_with(json!({"recursive_scanning": true, "entries": [
        with(entry(1, &["alpha"], "beta here"), json!({"extensions": {"prevent_recursion": true}})),
        entry(2, &["alpha"], "gamma here"),
        with(entry(3, &["beta"], "B"), json!({})),
        with(entry(4, &["gamma"], "G"), json!({"extensions": {"exclude_recursion": true}})),
        with(entry(5, &["alpha"], "delayed"), json!({"extensions": {"delay_until_recursion": true}})),
        with(entry(6, &["gamma"], "delayed gamma"), json!({"extensions": {"delay_until_recursion": true}})),
    ]}));
    let r = run(&b, &["alpha"], at(1), &ScanSettings::default(), &TimedState::default());
    // 1 and 2 fire on the chat; 3 is not reached (1 prevents recursion);
    // 4 refuses recursion; 5 waits for the first recursion pass (which
    // still sees the chat); 6 fires on 2's content.
    assert_eq!(ids(&r), vec!["t#1", "t#2", "t#5", "t#6"]);
    let steps: Vec<u32> = r.hits.iter().map(|h| h.step).collect();
    assert_eq!(steps, vec![0, 0, 1, 1]);
}

#[test]
fn probability_is_seeded_and_deterministic() {
    let b = book(json!([with(entry(1, &["x"], "maybe"), json!({"extensions": {"probability": 50, "useProbability": true}}))]));
    let roll = |seed: u64, len: u64| {
        let s = ScanSettings { seed, ..ScanSettings::default() };
        !run(&b, &["x"], at(len), &s, &TimedState::default()).hits.is_empty()
    };
    let first: Vec<bool> = (0..200).map(|n| roll(7, n)).collect();
    let again: Vec<bool> = (0..200).map(|n| roll(7, n)).collect();
    assert_eq!(first, again, "same seed, same rolls");
    let rate = first.iter().filter(|b| **b).count();
    assert!((70..130).contains(&rate), "about half fire: {rate}/200");
    let other: Vec<bool> = (0..200).map(|n| roll(8, n)).collect();
    assert_ne!(first, other, "another seed rolls differently");

    let never = book(json!([with(entry(1, &["x"], "no"), json!({"extensions": {"probability": 0}}))]));
    assert!((0..50).all(|n| run(&never, &["x"], at(n), &ScanSettings::default(), &TimedState::default()).hits.is_empty()));
}

#[test]
fn sticky_cooldown_and_delay_across_turns() {
    let b = book(json!([
        with(entry(1, &["storm"], "Storm lore."), json!({"extensions": {"sticky": 2, "cooldown": 2}})),
        with(entry(2, &["storm"], "Late lore."), json!({"extensions": {"delay": 5}})),
    ]));
    let s = ScanSettings { scan_depth: 1, ..ScanSettings::default() };
    let mut state = TimedState::default();
    let mut log = Vec::new();
    // The key appears at chat length 2 and on every later turn.
    let turns: [(u64, &str); 8] =
        [(1, "calm"), (2, "storm"), (3, "calm"), (4, "calm"), (5, "storm"), (6, "storm"), (7, "storm"), (8, "calm")];
    for (len, text) in turns {
        let r = run(&b, &[text], at(len), &s, &state);
        log.push((len, ids(&r).join(","), r.hits.first().map(|h| h.reason)));
        state = r.state;
    }
    let expected = [
        (1, "", None),
        (2, "t#1", Some(HitReason::Keys)),
        (3, "t#1", Some(HitReason::Sticky)),
        (4, "t#1", Some(HitReason::Sticky)),
        // Sticky over: cooldown blocks 5 and 6, the delayed entry is free from 5 on.
        (5, "t#2", Some(HitReason::Keys)),
        (6, "t#2", Some(HitReason::Keys)),
        (7, "t#1,t#2", Some(HitReason::Keys)),
        (8, "t#1", Some(HitReason::Sticky)),
    ];
    let expected: Vec<(u64, String, Option<HitReason>)> =
        expected.iter().map(|(l, s, r)| (*l, s.to_string(), *r)).collect();
    assert_eq!(log, expected);

    // The state is plain serde data and survives a round trip.
    let json = serde_json::to_string(&state).unwrap();
    assert_eq!(serde_json::from_str::<TimedState>(&json).unwrap(), state);
}

#[test]
fn rewinding_the_chat_drops_future_state() {
    let b = book(json!([with(entry(1, &["storm"], "S"), json!({"extensions": {"sticky": 3}}))]));
    let r = run(&b, &["storm"], at(10), &ScanSettings::default(), &TimedState::default());
    assert_eq!(r.hits.len(), 1);
    assert!(r.state.entries.contains_key("t#1"));
    // The chat was cut back to 4 messages: the activation at 10 never happened.
    let r2 = run(&b, &["calm"], at(4), &ScanSettings::default(), &r.state);
    assert!(r2.hits.is_empty());
    assert!(r2.state.entries.is_empty());
    // Firing again at 5 starts a fresh sticky period from 5.
    let r3 = run(&b, &["storm"], at(5), &ScanSettings::default(), &r2.state);
    let r4 = run(&b, &["calm"], at(6), &ScanSettings::default(), &r3.state);
    assert_eq!(r4.hits.first().map(|h| h.reason), Some(HitReason::Sticky));
}

#[test]
fn decorators_gate_activation() {
    let b = book(json!([
        entry(1, &["x"], "@@activate_only_after 3\nafter three"),
        entry(2, &["x"], "@@activate_only_every 2\nevery other"),
        entry(3, &["x"], "@@dont_activate\nnever"),
        entry(4, &[], "@@activate\nalways"),
        entry(5, &["x"], "@@is_greeting 1\nsecond greeting only"),
        entry(6, &["x"], "@@exclude_keys calm\nnot when calm"),
        entry(7, &["x"], "@@additional_keys night\nonly at night"),
    ]));
    let s = ScanSettings::default();
    let st = TimedState::default();
    let ctx = |turns: u32, greeting: u32| ScanContext {
        chat_length: 10,
        character_turns: turns,
        greeting_index: Some(greeting),
        context_full: false,
    };
    assert_eq!(ids(&run(&b, &["x"], ctx(1, 0), &s, &st)), vec!["t#4", "t#6"]);
    assert_eq!(ids(&run(&b, &["x"], ctx(2, 0), &s, &st)), vec!["t#2", "t#4", "t#6"]);
    assert_eq!(ids(&run(&b, &["x"], ctx(3, 1), &s, &st)), vec!["t#1", "t#4", "t#5", "t#6"]);
    assert_eq!(ids(&run(&b, &["x calm at night"], ctx(3, 0), &s, &st)), vec!["t#1", "t#4", "t#7"]);
}

#[test]
fn decorators_set_position_role_and_ui() {
    let b = book(json!([
        entry(1, &["x"], "@@depth 2\n@@role user\nat depth"),
        entry(2, &["x"], "@@position after_desc\n@@depth 3\nafter description"),
        entry(3, &["x"], "@@disable_ui_prompt post_history_instructions\nquiet"),
        with(entry(4, &["x"], "card field"), json!({"position": "after_char"})),
    ]));
    let r = run(&b, &["x"], at(1), &ScanSettings::default(), &TimedState::default());
    let pos: Vec<Position> = r.hits.iter().map(|h| h.position).collect();
    assert_eq!(pos, vec![
        Position::AtDepth { depth: 2, role: LoreRole::User },
        Position::AfterDesc,
        Position::BeforeChar,
        Position::AfterChar
    ]);
    assert_eq!(r.disabled_ui_prompts, vec![UiPrompt::PostHistoryInstructions]);
}

#[test]
fn after_match_decorators_use_state() {
    let b = book(json!([
        entry(1, &["x"], "@@keep_activate_after_match\nkept"),
        entry(2, &["x"], "@@dont_activate_after_match\nonce"),
    ]));
    let s = ScanSettings::default();
    let r1 = run(&b, &["x"], at(1), &s, &TimedState::default());
    assert_eq!(ids(&r1), vec!["t#1", "t#2"]);
    let r2 = run(&b, &["nothing"], at(2), &s, &r1.state);
    assert_eq!(ids(&r2), vec!["t#1"]);
    let r3 = run(&b, &["x"], at(3), &s, &r2.state);
    assert_eq!(ids(&r3), vec!["t#1"]);
}

#[test]
fn ignore_on_max_context() {
    let b = book(json!([entry(1, &["x"], "@@ignore_on_max_context\nextra")]));
    let full = ScanContext { context_full: true, ..at(1) };
    assert!(run(&b, &["x"], full, &ScanSettings::default(), &TimedState::default()).hits.is_empty());
    assert_eq!(run(&b, &["x"], at(1), &ScanSettings::default(), &TimedState::default()).hits.len(), 1);
}

#[test]
fn several_books_scan_together() {
    let a = book(json!([entry(1, &["x"], "from a")]));
    let b = book_with(json!({"entries": [entry(1, &["x"], "from b")]}));
    let b = Lorebook { entries: b.entries.into_iter().map(|mut e| { e.uid = e.uid.replace("t#", "u#"); e }).collect(), ..b };
    let r = scan(&[a, b], &["x"], &at(1), &ScanSettings::default(), &TimedState::default(), &words);
    assert_eq!(ids(&r), vec!["t#1", "u#1"]);
}

#[test]
fn hostile_book_stays_bounded() {
    // A regex that would explode, thousands of entries, and huge recursion.
    let mut entries = vec![with(entry(0, &["(a+)+$"], "boom"), json!({"use_regex": true}))];
    for i in 1..3000 {
        entries.push(entry(i, &["loop"], "loop loop loop"));
    }
    let b = book_with(json!({"recursive_scanning": true, "entries": entries}));
    let text = "a".repeat(10_000) + "!";
    let r = run(&b, &[text.as_str(), "loop"], at(2), &ScanSettings::default(), &TimedState::default());
    assert_eq!(r.hits.len(), 2999);
}
