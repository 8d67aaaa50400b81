//! Card JSON in its three versions, loose typing from real exporters, and
//! conversions that keep every field.

use kindred_characters::book::{BookEntry, CharacterBook, EntryId, EntryPosition};
use kindred_characters::card::{self, Asset, Card, CardSpec};
use kindred_characters::CardError;
use serde_json::{json, Value};

const ELDORIA_WORLD_INFO: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/cards/sillytavern-eldoria-worldinfo.json"
));

fn read(v: Value) -> Result<kindred_characters::ImportedCard, CardError> {
    card::read_any(&serde_json::to_vec(&v).unwrap())
}

/// A card with every field set, including keys no spec defines.
fn full_card() -> Card {
    let mut extensions = serde_json::Map::new();
    extensions.insert(
        "depth_prompt".into(),
        json!({"prompt": "stay in character", "depth": 4}),
    );
    extensions.insert("x-unknown-app".into(), json!([1, 2, {"deep": [true]}]));
    let mut extra = serde_json::Map::new();
    extra.insert("some_future_field".into(), json!({"kept": "verbatim"}));
    let mut entry_extra = serde_json::Map::new();
    entry_extra.insert("probability".into(), json!(80));
    Card {
        name: "Aria".into(),
        description: "A lighthouse keeper.\r\nShe hums.".into(),
        personality: "calm".into(),
        scenario: "A storm".into(),
        first_mes: "Hello, {{user}}.".into(),
        mes_example: "<START>\n{{user}}: Hi\n{{char}}: Hello".into(),
        creator_notes: "notes".into(),
        system_prompt: "{{original}} Be kind.".into(),
        post_history_instructions: "Stay short.".into(),
        alternate_greetings: vec!["Hi.".into(), "Ahoy.".into()],
        group_only_greetings: vec!["Hello, all.".into()],
        character_book: Some(CharacterBook {
            name: Some("Coast".into()),
            description: Some("places".into()),
            scan_depth: Some(3),
            token_budget: Some(512),
            recursive_scanning: Some(true),
            extensions: serde_json::Map::new(),
            entries: vec![BookEntry {
                keys: vec!["lighthouse".into()],
                secondary_keys: vec!["lamp".into()],
                content: "The lamp is old.".into(),
                extensions: entry_extra.clone(),
                enabled: false,
                insertion_order: -3,
                case_sensitive: Some(true),
                use_regex: true,
                constant: true,
                name: Some("lamp".into()),
                priority: Some(7),
                id: Some(EntryId::Text("e-1".into())),
                comment: Some("c".into()),
                selective: true,
                position: Some(EntryPosition::AfterChar),
                extra: entry_extra,
            }],
            extra: serde_json::Map::new(),
        }),
        tags: vec!["sea".into(), "calm".into()],
        creator: "me".into(),
        character_version: "2".into(),
        nickname: Some("Ari".into()),
        source: Some(vec!["https://example.org/aria".into()]),
        assets: Some(vec![Asset {
            kind: "background".into(),
            uri: "https://example.org/bg.png".into(),
            name: "main".into(),
            ext: "png".into(),
            extra: serde_json::Map::new(),
        }]),
        creation_date: Some(1_700_000_000),
        modification_date: Some(1_700_000_123),
        creator_notes_multilingual: Some([("fr".to_string(), "notes".to_string())].into()),
        extensions,
        extra,
    }
}

#[test]
fn v1_flat_json_reads_with_app_fields_moved() {
    let got = read(json!({
        "name": "Old", "description": "d", "personality": "p", "scenario": "s",
        "first_mes": "f", "mes_example": "m", "talkativeness": 0.7, "fav": true,
        "creatorcomment": "by hand", "avatar": "none", "chat": "Old - 2023", "create_date": "2023",
        "tags": ["a"]
    }))
    .unwrap();
    assert_eq!(got.spec, CardSpec::V1);
    let c = got.card;
    assert_eq!(
        (
            c.name.as_str(),
            c.description.as_str(),
            c.personality.as_str()
        ),
        ("Old", "d", "p")
    );
    assert_eq!(
        (
            c.scenario.as_str(),
            c.first_mes.as_str(),
            c.mes_example.as_str()
        ),
        ("s", "f", "m")
    );
    assert_eq!(c.creator_notes, "by hand");
    assert_eq!(c.tags, vec!["a"]);
    assert_eq!(
        Value::Object(c.extensions),
        json!({"talkativeness": 0.7, "fav": true})
    );
    assert!(c.extra.is_empty());
}

#[test]
fn v1_without_name_is_not_a_card() {
    // A SillyTavern World Info file is JSON but not a card.
    assert!(matches!(
        card::read_any(ELDORIA_WORLD_INFO),
        Err(CardError::NotACard(_))
    ));
    assert!(matches!(
        read(json!({"description": "x"})),
        Err(CardError::NotACard(_))
    ));
    assert!(matches!(
        card::read_json(b"[1, 2]"),
        Err(CardError::NotACard(_))
    ));
    assert!(matches!(
        card::read_any(b"[1, 2]"),
        Err(CardError::UnknownFormat)
    ));
}

#[test]
fn v2_with_loose_types_from_other_apps() {
    let got = read(json!({
        "spec": "chara_card_v2", "spec_version": "2.0",
        "data": {
            "name": "Loose", "description": null, "tags": null, "character_version": 3,
            "alternate_greetings": "only one", "extensions": null,
            "character_book": {
                "scan_depth": "5", "entries": [
                    {"keys": "single", "content": "a", "insertion_order": 12.9, "id": "7", "position": 1},
                    {"keys": ["k"], "content": "b", "enabled": "false", "insertion_order": "4", "position": "AFTER_CHAR"},
                    "not an entry"
                ]
            }
        }
    }))
    .unwrap();
    assert_eq!(got.spec, CardSpec::V2);
    let c = got.card;
    assert_eq!(c.description, "");
    assert!(c.tags.is_empty());
    assert_eq!(c.character_version, "3");
    assert_eq!(c.alternate_greetings, vec!["only one"]);
    assert!(c.extensions.is_empty());
    let book = c.character_book.unwrap();
    assert_eq!(book.scan_depth, Some(5));
    assert_eq!(book.entries.len(), 2);
    let (a, b) = (&book.entries[0], &book.entries[1]);
    assert_eq!(a.keys, vec!["single"]);
    assert_eq!(a.insertion_order, 12);
    assert_eq!(a.id, Some(EntryId::Text("7".into())));
    assert_eq!(a.position, Some(EntryPosition::AfterChar));
    assert!(a.enabled, "enabled defaults to true");
    assert!(!b.enabled);
    assert_eq!(b.insertion_order, 4);
    assert_eq!(b.position, Some(EntryPosition::AfterChar));
}

#[test]
fn book_entries_keyed_by_uid_are_read_as_a_list() {
    let got = read(
        json!({"spec": "chara_card_v2", "data": {"name": "N", "character_book": {
        "entries": {"0": {"keys": ["x"], "content": "X"}, "1": {"keys": ["y"], "content": "Y"}}}}}),
    )
    .unwrap();
    let contents: Vec<String> = got
        .card
        .character_book
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.content)
        .collect();
    assert_eq!(contents, vec!["X", "Y"]);
}

#[test]
fn v3_full_card_round_trips_through_v3_and_v2() {
    let card = full_card();
    let v3 = card::to_json(&card, CardSpec::V3).unwrap();
    let back = card::read_any(&v3).unwrap();
    assert_eq!(back.spec, CardSpec::V3);
    assert_eq!(back.card, card);

    // V3 -> V2 -> V3 keeps V3-only fields too.
    let v2 = card::to_json(&back.card, CardSpec::V2).unwrap();
    let from_v2 = card::read_any(&v2).unwrap();
    assert_eq!(from_v2.spec, CardSpec::V2);
    assert_eq!(from_v2.card, card);
    let v3_again = card::to_json_value(&from_v2.card, CardSpec::V3).unwrap();
    assert_eq!(v3_again, serde_json::from_slice::<Value>(&v3).unwrap());
}

#[test]
fn written_documents_have_the_spec_shapes() {
    let card = full_card();
    let v3 = card::to_json_value(&card, CardSpec::V3).unwrap();
    assert_eq!(v3["spec"], "chara_card_v3");
    assert_eq!(v3["spec_version"], "3.0");
    assert_eq!(v3["data"]["nickname"], "Ari");
    assert_eq!(v3["data"]["group_only_greetings"], json!(["Hello, all."]));
    assert_eq!(v3["data"]["some_future_field"], json!({"kept": "verbatim"}));
    assert_eq!(
        v3["data"]["character_book"]["entries"][0]["use_regex"],
        true
    );
    assert_eq!(
        v3["data"]["character_book"]["entries"][0]["position"],
        "after_char"
    );
    assert_eq!(
        v3["data"]["character_book"]["entries"][0]["probability"],
        80
    );
    assert_eq!(v3["data"]["assets"][0]["type"], "background");

    let v2 = card::to_json_value(&card, CardSpec::V2).unwrap();
    assert_eq!(v2["spec"], "chara_card_v2");
    assert_eq!(v2["spec_version"], "2.0");
    assert_eq!(v2["first_mes"], "Hello, {{user}}.");

    // A plain V2 card gains no V3 keys when written as V2.
    let plain = Card {
        name: "P".into(),
        ..Card::default()
    };
    let data = card::to_json_value(&plain, CardSpec::V2).unwrap()["data"].clone();
    for key in [
        "group_only_greetings",
        "nickname",
        "assets",
        "source",
        "creation_date",
        "character_book",
    ] {
        assert!(data.get(key).is_none(), "{key} should be absent");
    }
    let v3 = card::to_json_value(&plain, CardSpec::V3).unwrap();
    assert_eq!(v3["data"]["group_only_greetings"], json!([]));

    // V1 is flat.
    let v1 = card::to_json_value(&card, CardSpec::V1).unwrap();
    assert!(v1.get("spec").is_none() && v1.get("data").is_none());
    assert_eq!(v1["name"], "Aria");
    assert_eq!(v1["creatorcomment"], "notes");
    let back = card::read_any(&serde_json::to_vec(&v1).unwrap()).unwrap();
    assert_eq!(back.spec, CardSpec::V1);
    assert_eq!(back.card.mes_example, card.mes_example);
}

#[test]
fn unknown_spec_and_missing_data_are_errors() {
    match read(json!({"spec": "chara_card_v9", "spec_version": "9.0", "data": {"name": "x"}})) {
        Err(CardError::UnsupportedSpec { spec, .. }) => assert_eq!(spec, "chara_card_v9"),
        other => panic!("expected UnsupportedSpec, got {other:?}"),
    }
    assert!(matches!(
        read(json!({"spec": "chara_card_v2", "data": "x"})),
        Err(CardError::NotACard(_))
    ));
    assert!(matches!(
        read(json!({"spec": "chara_card_v3"})),
        Err(CardError::NotACard(_))
    ));
}

#[test]
fn spec_less_wrapper_with_data_reads_as_v2_and_bom_is_skipped() {
    let got = read(json!({"data": {"name": "Wrapped"}})).unwrap();
    assert_eq!(
        (got.spec, got.card.name.as_str()),
        (CardSpec::V2, "Wrapped")
    );

    let mut bytes = b"\xEF\xBB\xBF \n".to_vec();
    bytes.extend_from_slice(
        br#"{"spec":"chara_card_v3","spec_version":"3.0","data":{"name":"Bom"}}"#,
    );
    assert_eq!(card::read_any(&bytes).unwrap().card.name, "Bom");
}

#[test]
fn broken_json_is_a_json_error_and_text_is_unknown_format() {
    assert!(matches!(
        card::read_any(b"{\"name\": "),
        Err(CardError::Json(_))
    ));
    assert!(matches!(
        card::read_any(b"name: x"),
        Err(CardError::UnknownFormat)
    ));
    assert!(matches!(card::read_any(b""), Err(CardError::UnknownFormat)));
    assert!(matches!(
        card::read_any(b"{\"name\": \"\xff\"}"),
        Err(CardError::NotUtf8)
    ));
}

#[test]
fn display_name_prefers_the_nickname() {
    let mut c = Card {
        name: "Seraphina".into(),
        ..Card::default()
    };
    assert_eq!(c.display_name(), "Seraphina");
    c.nickname = Some("Sera".into());
    assert_eq!(c.display_name(), "Sera");
    c.nickname = Some("  ".into());
    assert_eq!(c.display_name(), "Seraphina");
}

/// Found by the `read_json` fuzz target (2026-12-08): a number no f64 holds
/// exactly, in a field the app keeps as it is (a 110-digit integer in an
/// unknown key), read back one digit off after a write: serde_json's fast
/// float parsing is not correctly rounded, so the shortest text written for
/// the first reading parsed to a neighbouring value. Parsed exactly
/// (`float_roundtrip`), a card reads back the same.
#[test]
fn numbers_in_kept_fields_read_back_the_same() {
    let found = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fuzz/regressions/read_json/crash-63ccacd31347481123a0ec926ed519c4bdd62638"
    ))
    .unwrap();
    let small = br#"{"spec":"chara_card_v3","spec_version":"3.0","data":{"name":"N","odd":[5555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555555, 0.1e-320, 1.7976931348623157e308]}}"#;
    for bytes in [found.as_slice(), small.as_slice()] {
        let got = card::read_json(bytes).unwrap();
        let again = card::read_json(&card::to_json(&got.card, CardSpec::V3).unwrap()).unwrap();
        assert_eq!(again.card, got.card);
    }
}
