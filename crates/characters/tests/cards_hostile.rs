//! Hostile input: size caps, nesting, and thousands of mutated files that
//! must each come back as Ok or Err, never a panic.

use base64::Engine;
use kindred_characters::card::{self, CardSpec, MAX_CARD_JSON};
use kindred_characters::macros::{expand, MacroContext};
use kindred_characters::rng::Rng;
use kindred_characters::{charx, png, CardError};

const SERAPHINA: &[u8] = include_bytes!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/cards/sillytavern-seraphina-v2.png"
));

#[test]
fn oversized_card_json_is_refused_and_says_so() {
    let mut big = br#"{"name":"x","description":""#.to_vec();
    big.resize(MAX_CARD_JSON + 10, b'a');
    big.extend_from_slice(b"\"}");
    match card::read_any(&big) {
        Err(e @ CardError::TooLarge { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("card JSON") && msg.contains("16 MiB"), "{msg}");
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    // Just under the cap is fine.
    let prefix = br#"{"name":"x","description":""#;
    let mut ok = prefix.to_vec();
    ok.resize(MAX_CARD_JSON - 2, b'a');
    ok.extend_from_slice(b"\"}");
    assert_eq!(ok.len(), MAX_CARD_JSON);
    assert_eq!(
        card::read_any(&ok).unwrap().card.description.len(),
        MAX_CARD_JSON - 2 - prefix.len()
    );
}

#[test]
fn a_card_too_big_to_read_back_is_refused_on_write() {
    let card = kindred_characters::Card {
        description: "a".repeat(MAX_CARD_JSON),
        ..Default::default()
    };
    assert!(matches!(
        card::to_json(&card, CardSpec::V3),
        Err(CardError::TooLarge { .. })
    ));
    assert!(matches!(
        png::write_png(&card, None),
        Err(CardError::TooLarge { .. })
    ));
}

#[test]
fn deeply_nested_json_hits_the_recursion_limit() {
    for depth in [200, 100_000] {
        let doc = format!(
            r#"{{"spec":"chara_card_v2","data":{{"name":"x","extensions":{{"a":{}{}}}}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        assert!(
            matches!(
                card::read_any(doc.as_bytes()),
                Err(CardError::TooDeeplyNested)
            ),
            "depth {depth}"
        );
    }
    // Ordinary nesting in extensions is kept.
    let doc = format!(
        r#"{{"name":"x","extensions":{{"a":{}{}}}}}"#,
        "[".repeat(50),
        "]".repeat(50)
    );
    assert!(card::read_any(doc.as_bytes()).is_ok());
}

#[test]
fn deep_nesting_inside_a_png_chunk_is_the_same_error() {
    let doc = format!(
        r#"{{"name":"x","extensions":{{"a":{}{}}}}}"#,
        "{\"a\":".repeat(5000),
        "}".repeat(5000)
    );
    let text = base64::engine::general_purpose::STANDARD.encode(doc);
    let image = png::placeholder_png("x");
    let iend = image.len() - 12;
    let mut data = b"chara\0".to_vec();
    data.extend_from_slice(text.as_bytes());
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(b"tEXt");
    chunk.extend_from_slice(&data);
    let mut h = crc32fast::Hasher::new();
    h.update(b"tEXt");
    h.update(&data);
    chunk.extend_from_slice(&h.finalize().to_be_bytes());
    let file = [&image[..iend], &chunk, &image[iend..]].concat();
    assert!(matches!(
        card::read_any(&file),
        Err(CardError::TooDeeplyNested)
    ));
}

/// Recomputes every chunk CRC so mutations reach the text and JSON layers
/// instead of stopping at the checksum.
fn fix_crcs(file: &mut [u8]) {
    let mut at = 8;
    while at + 12 <= file.len() {
        let len = u32::from_be_bytes([file[at], file[at + 1], file[at + 2], file[at + 3]]) as usize;
        let Some(end) = (at + 8).checked_add(len).filter(|&e| e + 4 <= file.len()) else {
            return;
        };
        let crc = crc32fast::hash(&file[at + 4..end]);
        file[end..end + 4].copy_from_slice(&crc.to_be_bytes());
        at = end + 4;
    }
}

fn mutate(seed_bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = seed_bytes.to_vec();
    for _ in 0..1 + rng.below(4) {
        if b.is_empty() {
            b.push(0);
        }
        let at = rng.below(b.len() as u64) as usize;
        match rng.below(7) {
            0 => b[at] ^= 1 << rng.below(8),
            1 => b[at] = [0, 0xFF, b'{', b'"', b'\\', b'[', 0x80, b'='][rng.below(8) as usize],
            2 => {
                let n = (rng.below(64) as usize).min(b.len() - at);
                b.drain(at..at + n);
            }
            3 => {
                let junk: Vec<u8> = (0..rng.below(32)).map(|_| rng.next_u64() as u8).collect();
                b.splice(at..at, junk);
            }
            4 => b.truncate(at),
            5 => {
                let n = (rng.below(256) as usize).min(b.len() - at);
                let copy = b[at..at + n].to_vec();
                let to = rng.below(b.len() as u64) as usize;
                b.splice(to..to, copy);
            }
            _ => b[at..].iter_mut().take(4).for_each(|x| *x = 0xFF),
        }
    }
    b
}

#[test]
fn thousands_of_mutated_cards_never_panic() {
    let seraphina = card::read_any(SERAPHINA).unwrap().card;
    // Small containers carrying the real card keep each iteration cheap.
    let small_png = png::write_png(&seraphina, None).unwrap();
    let v2_json = card::to_json(&seraphina, CardSpec::V2).unwrap();
    let v3_json = card::to_json(&seraphina, CardSpec::V3).unwrap();
    let archive = charx::write_charx(&seraphina, Some(&png::placeholder_png("s"))).unwrap();
    let seeds: [(&[u8], bool); 4] = [
        (&small_png, true),
        (&v2_json, false),
        (&v3_json, false),
        (&archive, false),
    ];

    let mut rng = Rng::new(0x5eed);
    let (mut ok, mut err) = (0, 0);
    for i in 0..4000 {
        let (seed, is_png) = seeds[i % seeds.len()];
        let mut input = mutate(seed, &mut rng);
        if is_png && i % 8 != 0 {
            fix_crcs(&mut input);
        }
        match card::read_any(&input) {
            Ok(got) => {
                ok += 1;
                // Whatever was read can be written again.
                let _ = card::to_json(&got.card, CardSpec::V3).unwrap();
            }
            Err(e) => {
                err += 1;
                assert!(!e.to_string().is_empty());
            }
        }
    }
    // Both outcomes occur, so the mutations are neither all fatal nor all harmless.
    assert!(ok > 100 && err > 100, "ok {ok}, err {err}");
}

#[test]
fn mutated_fixture_png_never_panics() {
    let mut rng = Rng::new(99);
    for _ in 0..200 {
        let mut input = mutate(SERAPHINA, &mut rng);
        fix_crcs(&mut input);
        let _ = card::read_any(&input);
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng::new(1);
    for len in 0..2000 {
        let noise: Vec<u8> = (0..len % 300).map(|_| rng.next_u64() as u8).collect();
        let prefix: &[u8] = match len % 4 {
            0 => &png::SIGNATURE,
            1 => b"PK\x03\x04",
            2 => b"{\"name\":",
            _ => b"",
        };
        let bytes = [prefix, &noise].concat();
        assert!(card::read_any(&bytes).is_err() || len % 4 == 2);
    }
}

#[test]
fn mutated_macro_text_never_panics() {
    let mut rng = Rng::new(7);
    let base = "{{char}} {{random:a,{{user}},c}} {{pick::x::y}} {{roll:2d6+1}} <BOT> {{// c}} {{trim}} <START>".as_bytes();
    for i in 0..3000 {
        let bytes = mutate(base, &mut rng);
        let text = String::from_utf8_lossy(&bytes);
        let ctx = MacroContext {
            char_name: "C",
            user_name: "U",
            chat_seed: i,
            seed: i,
        };
        let _ = expand(&text, &ctx);
        let _ = kindred_characters::macros::split_examples(&text);
    }
}
