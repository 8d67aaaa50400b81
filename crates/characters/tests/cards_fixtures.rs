//! Real cards exported by SillyTavern and RisuAI import field by field, and
//! survive being written back out.

use kindred_characters::book::{EntryId, EntryPosition};
use kindred_characters::card::{self, CardSpec};
use kindred_characters::{charx, png};
use serde_json::json;

const SERAPHINA: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/cards/sillytavern-seraphina-v2.png"
));
const RIKA: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/cards/risuai-rika-v1.png"
));

#[test]
fn seraphina_v2_png_imports_field_by_field() {
    let imported = card::read_any(SERAPHINA).expect("Seraphina imports");
    assert_eq!(imported.spec, CardSpec::V2);
    let c = &imported.card;
    assert_eq!(c.name, "Seraphina");
    assert_eq!(c.description.chars().count(), 2851);
    assert!(c
        .description
        .starts_with("[Seraphina's Personality= \"caring\", \"protective\""));
    assert!(c
        .description
        .ends_with("brought you to her glade where you are recovering.]"));
    // CRLF line breaks inside strings are kept as written.
    assert_eq!(c.description.matches("\r\n").count(), 7);
    assert_eq!(c.first_mes.chars().count(), 785);
    assert!(c
        .first_mes
        .starts_with("*You wake with a start, recalling the events"));
    assert_eq!(c.personality, "");
    assert_eq!(c.scenario, "");
    assert_eq!(c.mes_example, "");
    assert_eq!(
        c.creator_notes,
        "ST Default Bot contest winner: roleplay bots category"
    );
    assert_eq!(c.system_prompt, "");
    assert_eq!(c.post_history_instructions, "");
    assert_eq!(c.creator, "OtisAlejandro");
    assert_eq!(c.character_version, "1.0.0");
    assert!(c.tags.is_empty());
    assert!(c.alternate_greetings.is_empty());
    assert!(c.group_only_greetings.is_empty());
    assert_eq!(c.nickname, None);
    assert_eq!(c.assets, None);
    assert!(
        c.extra.is_empty(),
        "unexpected extra keys: {:?}",
        c.extra.keys().collect::<Vec<_>>()
    );
    assert_eq!(
        serde_json::Value::Object(c.extensions.clone()),
        json!({"talkativeness": "0.5", "fav": false, "world": "Eldoria"})
    );

    let book = c.character_book.as_ref().expect("character_book");
    assert_eq!(book.name.as_deref(), Some("Eldoria"));
    assert_eq!(book.entries.len(), 4);
    let keys: Vec<Vec<&str>> = book
        .entries
        .iter()
        .map(|e| e.keys.iter().map(String::as_str).collect())
        .collect();
    assert_eq!(
        keys,
        vec![
            vec!["eldoria", "wood", "forest", "magical forest"],
            vec!["shadowfang", "beast", "monster", "monsters", "beasts"],
            vec!["glade", "safe haven", "refuge"],
            vec!["power", "magic", "ability"],
        ]
    );
    let lengths: Vec<usize> = book
        .entries
        .iter()
        .map(|e| e.content.chars().count())
        .collect();
    assert_eq!(lengths, vec![1551, 914, 954, 710]);
    for (i, e) in book.entries.iter().enumerate() {
        assert_eq!(e.id, Some(EntryId::Number(i as i64)));
        assert!(e.content.starts_with("{{user}}: \"What"));
        assert!(e.secondary_keys.is_empty());
        assert_eq!(e.comment.as_deref(), Some(""));
        assert!(!e.constant && !e.selective && !e.use_regex);
        assert!(e.enabled);
        assert_eq!(e.insertion_order, 100);
        assert_eq!(e.position, Some(EntryPosition::BeforeChar));
        assert_eq!(e.case_sensitive, None);
        assert_eq!(
            serde_json::Value::Object(e.extensions.clone()),
            json!({"position": 0, "probability": null, "useProbability": false})
        );
    }

    // The avatar is the image without its card chunk.
    let avatar = imported.avatar.as_deref().expect("avatar");
    assert_eq!(avatar.len(), SERAPHINA.len() - (18038 + 12));
    assert!(
        png::read_png(avatar).is_err(),
        "card chunk must be gone from the avatar"
    );
}

#[test]
fn rika_v1_png_imports_and_skips_the_private_risuai_chunk() {
    let imported = card::read_any(RIKA).expect("Rika imports");
    assert_eq!(imported.spec, CardSpec::V1);
    let c = &imported.card;
    assert_eq!(c.name, "Rika");
    assert_eq!(c.description.chars().count(), 3196);
    assert!(c
        .description
        .starts_with("Character: Rika\nGender: Female\nSpecies: "));
    assert_eq!(c.first_mes.chars().count(), 1470);
    assert!(c
        .first_mes
        .starts_with("\"Oh my gosh, {{user}}! I can't believe I ran into "));
    assert_eq!(c.mes_example, "<START>");
    assert_eq!(c.personality, "");
    assert_eq!(c.scenario, "");
    assert_eq!(c.character_book, None);
    // The V1 string `talkativeness` moves into extensions, as V2 keeps it;
    // the exporter's own state (avatar file, chat file, date) is dropped.
    assert_eq!(
        serde_json::Value::Object(c.extensions.clone()),
        json!({"talkativeness": "0.5"})
    );
    assert!(
        c.extra.is_empty(),
        "unexpected extra keys: {:?}",
        c.extra.keys().collect::<Vec<_>>()
    );
    // Avatar without the 6.5 KB chara chunk and the 3.5 MB risuai chunk.
    let avatar = imported.avatar.as_deref().expect("avatar");
    assert_eq!(avatar.len(), RIKA.len() - (6530 + 12) - (3_538_939 + 12));
}

#[test]
fn seraphina_png_round_trip_keeps_the_card_identical() {
    let first = card::read_any(SERAPHINA).unwrap();
    let written = png::write_png(&first.card, first.avatar.as_deref()).unwrap();
    let again = card::read_any(&written).unwrap();
    assert_eq!(again.spec, CardSpec::V3, "ccv3 is preferred over chara");
    assert_eq!(again.card, first.card);
    // The image chunks are untouched: stripping the card again gives the same avatar.
    assert_eq!(again.avatar, first.avatar);
}

#[test]
fn seraphina_survives_json_v2_v3_and_charx() {
    let c = card::read_any(SERAPHINA).unwrap().card;
    for spec in [CardSpec::V2, CardSpec::V3] {
        let bytes = card::to_json(&c, spec).unwrap();
        let back = card::read_any(&bytes).unwrap();
        assert_eq!(back.spec, spec);
        assert_eq!(back.card, c, "{spec:?} JSON round trip");
    }
    // V2 -> V3 -> V2 as documents.
    let v3 = card::read_json(&card::to_json(&c, CardSpec::V3).unwrap())
        .unwrap()
        .card;
    let v2 = card::to_json_value(&v3, CardSpec::V2).unwrap();
    assert_eq!(card::to_json_value(&c, CardSpec::V2).unwrap(), v2);

    let archive = charx::write_charx(&c, None).unwrap();
    let back = card::read_any(&archive).unwrap();
    assert_eq!(back.card, c);
    assert_eq!(back.avatar, None);
}

#[test]
fn rika_converts_to_v2_png_readable_as_v2_by_chara_alone() {
    let rika = card::read_any(RIKA).unwrap();
    let written = png::write_png(&rika.card, rika.avatar.as_deref()).unwrap();
    // Another app that knows only `chara` would see the V2 document.
    let v2 = card::to_json_value(&rika.card, CardSpec::V2).unwrap();
    assert_eq!(v2["spec"], "chara_card_v2");
    assert_eq!(v2["data"]["name"], "Rika");
    assert_eq!(v2["name"], "Rika", "V1 fields repeated at the top level");
    assert_eq!(card::read_any(&written).unwrap().card, rika.card);
    assert!(
        written.len() < RIKA.len(),
        "the stale risuai chunk is not carried over"
    );
}
