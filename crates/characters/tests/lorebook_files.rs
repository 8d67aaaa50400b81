//! Reading lorebook files: SillyTavern World Info (the Eldoria fixture and
//! synthetic ones), V3 `lorebook_v3` files, bare books, and bad input.

use kindred_characters::book::EntryId;
use kindred_characters::lorebook::{
    read_lorebook_json, scan, to_lorebook_v3_json, LoreRole, Lorebook, LorebookError, LorebookFormat, Position,
    ScanContext, ScanSettings, SelectiveLogic, TimedState,
};
use serde_json::json;

const ELDORIA: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/cards/sillytavern-eldoria-worldinfo.json"));

fn words(s: &str) -> usize {
    s.split_whitespace().count()
}

fn fired(book: &Lorebook, messages: &[&str]) -> Vec<String> {
    let ctx = ScanContext { chat_length: messages.len() as u64, ..ScanContext::default() };
    let r = scan(std::slice::from_ref(book), messages, &ctx, &ScanSettings::default(), &TimedState::default(), &words);
    r.hits.into_iter().map(|h| h.uid).collect()
}

#[test]
fn eldoria_world_info_converts() {
    let (book, format) = read_lorebook_json(ELDORIA).expect("fixture parses");
    assert_eq!(format, LorebookFormat::WorldInfo);
    assert_eq!(book.entries.len(), 4);
    let ids: Vec<Option<EntryId>> = book.entries.iter().map(|e| e.id.clone()).collect();
    assert_eq!(ids, (0..4).map(|i| Some(EntryId::Number(i))).collect::<Vec<_>>());
    let first = &book.entries[0];
    assert_eq!(first.keys, vec!["eldoria", "wood", "forest", "magical forest"]);
    assert!(first.content.starts_with("{{user}}: \"What is Eldoria?\""));
    assert_eq!(first.insertion_order, 100);
    assert!(first.enabled && !first.constant && !first.selective);
    // World Info's numeric position is kept in extensions for the resolver.
    assert_eq!(first.extensions.get("position"), Some(&json!(0)));
    assert_eq!(book.entries[1].keys, vec!["shadowfang", "beast", "monster", "monsters", "beasts"]);
}

#[test]
fn eldoria_entries_fire_on_their_keys() {
    let (book, _) = read_lorebook_json(ELDORIA).unwrap();
    let lore = Lorebook::from_book(&book, "eldoria");
    assert_eq!(fired(&lore, &["Where am I? This forest is strange."]), vec!["eldoria#0"]);
    assert_eq!(fired(&lore, &["What were those Shadowfangs?", "Monsters, corrupted beasts."]), vec!["eldoria#1"]);
    assert_eq!(fired(&lore, &["Is this glade a refuge?"]), vec!["eldoria#2"]);
    assert_eq!(fired(&lore, &["Show me your magic."]), vec!["eldoria#3"]);
    assert_eq!(fired(&lore, &["Good morning."]), Vec::<String>::new());
    // Several at once, ordered by insertion order then file order.
    assert_eq!(fired(&lore, &["The magic of the forest keeps the beasts away."]), vec![
        "eldoria#0",
        "eldoria#1",
        "eldoria#3"
    ]);
}

#[test]
fn eldoria_whole_words_and_scan_depth() {
    let (book, _) = read_lorebook_json(ELDORIA).unwrap();
    let lore = Lorebook::from_book(&book, "e");
    // "woodpecker" contains "wood" but not as a whole word.
    assert!(fired(&lore, &["A woodpecker knocks."]).is_empty());
    // Default scan depth is 2: a key three messages back is out of reach.
    assert!(fired(&lore, &["The forest!", "Yes?", "Nothing."]).is_empty());
    assert_eq!(fired(&lore, &["Yes?", "The forest!", "Nothing."]), vec!["e#0"]);
}

#[test]
fn world_info_fields_land_in_extensions_and_resolve() {
    let wi = json!({
        "name": "Test World",
        "entries": {
            "10": {"uid": 10, "key": ["tower"], "keysecondary": ["night", "storm"], "comment": "Tower",
                   "content": "The tower hums.", "constant": false, "selective": true, "selectiveLogic": 3,
                   "order": 50, "position": 4, "depth": 2, "role": 2, "disable": false,
                   "probability": 75, "useProbability": true, "sticky": 2, "cooldown": 1, "delay": 3,
                   "excludeRecursion": true, "preventRecursion": false, "caseSensitive": true,
                   "matchWholeWords": false, "scanDepth": 5, "vectorized": false, "someFutureField": [1, 2]},
            "2": {"uid": 2, "key": "a, b", "content": "Second.", "order": 10, "disable": true}
        }
    });
    let (book, format) = read_lorebook_json(&wi.to_string()).unwrap();
    assert_eq!(format, LorebookFormat::WorldInfo);
    assert_eq!(book.name.as_deref(), Some("Test World"));
    // Sorted by uid: 2 before 10, not string order.
    assert_eq!(book.entries[0].id, Some(EntryId::Number(2)));
    assert_eq!(book.entries[0].keys, vec!["a", "b"]);
    assert!(!book.entries[0].enabled);
    let e = &book.entries[1];
    assert_eq!(e.secondary_keys, vec!["night", "storm"]);
    assert_eq!(e.case_sensitive, Some(true));
    assert_eq!(e.comment.as_deref(), Some("Tower"));
    for (k, v) in [
        ("someFutureField", json!([1, 2])),
        ("exclude_recursion", json!(true)),
        ("scan_depth", json!(5)),
        ("match_whole_words", json!(false)),
        ("probability", json!(75)),
        ("selectiveLogic", json!(3)),
        ("vectorized", json!(false)),
    ] {
        assert_eq!(e.extensions.get(k), Some(&v), "extension {k}");
    }

    let lore = Lorebook::from_book(&book, "w");
    let r = &lore.entries[1];
    assert_eq!(r.uid, "w#10");
    assert_eq!(r.position, Position::AtDepth { depth: 2, role: LoreRole::Assistant });
    assert_eq!(r.logic, SelectiveLogic::AndAll);
    assert_eq!((r.probability, r.sticky, r.cooldown, r.delay), (75, 2, 1, 3));
    assert_eq!(r.scan_depth, Some(5));
    assert_eq!(r.whole_words, Some(false));
    assert_eq!(r.case_sensitive, Some(true));
    assert!(r.exclude_recursion && !r.prevent_recursion);
}

#[test]
fn lorebook_v3_round_trip() {
    let v3 = json!({
        "spec": "lorebook_v3",
        "data": {
            "name": "Harbour", "scan_depth": 4, "token_budget": 300, "recursive_scanning": true,
            "extensions": {"x": 1},
            "entries": [
                {"keys": ["harbour"], "content": "@@position after_desc\nGulls everywhere.", "extensions": {},
                 "enabled": true, "insertion_order": 1, "use_regex": false, "constant": false, "id": "h1"},
                {"keys": ["/light ?house/i"], "content": "A lighthouse.", "extensions": {}, "enabled": true,
                 "insertion_order": 2, "use_regex": false}
            ]
        }
    });
    let (book, format) = read_lorebook_json(&v3.to_string()).unwrap();
    assert_eq!(format, LorebookFormat::V3);
    assert_eq!((book.scan_depth, book.token_budget, book.recursive_scanning), (Some(4), Some(300), Some(true)));
    let written = to_lorebook_v3_json(&book).unwrap();
    let (again, format) = read_lorebook_json(&written).unwrap();
    assert_eq!(format, LorebookFormat::V3);
    assert_eq!(again, book);

    let lore = Lorebook::from_book(&book, "h");
    assert_eq!(lore.entries[0].position, Position::AfterDesc);
    assert_eq!(lore.entries[0].content, "Gulls everywhere.");
    assert_eq!(fired(&lore, &["Is that a Light House?"]), vec!["h#i1"], "no id: the index names it");
    assert_eq!(fired(&lore, &["the harbour"]), vec!["h#h1"]);
}

#[test]
fn bare_book_is_read() {
    let bare = json!({"entries": [{"keys": ["x"], "content": "X."}]});
    let (book, format) = read_lorebook_json(&bare.to_string()).unwrap();
    assert_eq!(format, LorebookFormat::Bare);
    assert_eq!(book.entries.len(), 1);
}

#[test]
fn bad_files_give_clear_errors() {
    assert!(matches!(read_lorebook_json("{not json"), Err(LorebookError::Json(_))));
    assert!(matches!(read_lorebook_json("[1,2]"), Err(LorebookError::NotALorebook(_))));
    assert!(matches!(read_lorebook_json("{\"name\": 1}"), Err(LorebookError::NotALorebook(_))));
    assert!(matches!(
        read_lorebook_json("{\"spec\": \"chara_card_v2\", \"data\": {}}"),
        Err(LorebookError::UnsupportedSpec(s)) if s == "chara_card_v2"
    ));
    assert!(matches!(read_lorebook_json("{\"spec\": \"lorebook_v3\"}"), Err(LorebookError::NotALorebook(_))));
    let huge = " ".repeat(kindred_characters::lorebook::file::MAX_LOREBOOK_JSON + 1);
    assert!(matches!(read_lorebook_json(&huge), Err(LorebookError::TooLarge { .. })));
    let many: serde_json::Map<String, serde_json::Value> =
        (0..5000).map(|i| (i.to_string(), json!({"uid": i, "key": ["k"], "content": "c"}))).collect();
    let many = json!({ "entries": many }).to_string();
    assert!(matches!(read_lorebook_json(&many), Err(LorebookError::TooManyEntries { count: 5000, .. })));
}

#[test]
fn seraphina_card_book_fires() {
    let bytes =
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/cards/sillytavern-seraphina-v2.png"));
    let imported = kindred_characters::read_any(bytes).expect("fixture card reads");
    let book = imported.card.character_book.expect("Seraphina has a book");
    let lore = Lorebook::from_book(&book, "card");
    assert_eq!(lore.entries.len(), 4);
    let hits = fired(&lore, &["*I wake up in a glade.* Who are you?"]);
    assert_eq!(hits.len(), 1);
    assert!(lore.entries.iter().any(|e| e.uid == hits[0] && e.keys.iter().any(|k| k == "glade")));
}
