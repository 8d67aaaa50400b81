//! CHARX archives: writing and reading back, finding the icon, and refusing
//! zip bombs and other hostile archives.

use std::io::{Cursor, Write};

use kindred_characters::card::{self, Asset, Card, CardSpec};
use kindred_characters::{charx, png, CardError};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

fn deflated() -> SimpleFileOptions {
    SimpleFileOptions::default().compression_method(CompressionMethod::Deflated)
}

/// An archive from (path, contents) pairs.
fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    for (path, data) in files {
        zip.start_file(*path, deflated()).unwrap();
        zip.write_all(data).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

const V3: &[u8] = br#"{"spec":"chara_card_v3","spec_version":"3.0","data":{"name":"Zipped"}}"#;

#[test]
fn write_and_read_back_with_a_png_icon() {
    let card = Card {
        name: "Aria".into(),
        description: "keeper".into(),
        ..Card::default()
    };
    let icon = png::placeholder_png("Aria");
    let bytes = charx::write_charx(&card, Some(&icon)).unwrap();
    assert_eq!(&bytes[..4], b"PK\x03\x04");

    let got = card::read_any(&bytes).unwrap();
    assert_eq!(got.spec, CardSpec::V3);
    assert_eq!(got.avatar.as_deref(), Some(icon.as_slice()));
    assert_eq!(got.card.name, "Aria");
    assert_eq!(got.card.description, "keeper");
    let assets = got.card.assets.clone().unwrap();
    assert_eq!(assets.len(), 1);
    assert_eq!(
        (
            assets[0].kind.as_str(),
            assets[0].uri.as_str(),
            assets[0].name.as_str(),
            assets[0].ext.as_str()
        ),
        (
            "icon",
            "embeded://assets/icon/image/main.png",
            "main",
            "png"
        )
    );
    // Writing the imported card again changes nothing.
    let again = charx::write_charx(&got.card, got.avatar.as_deref()).unwrap();
    assert_eq!(card::read_any(&again).unwrap(), got);
}

#[test]
fn the_previous_main_icon_is_replaced_and_other_assets_kept() {
    let bg = Asset {
        kind: "background".into(),
        uri: "https://example.org/bg.jpg".into(),
        name: "main".into(),
        ext: "jpg".into(),
        ..Asset::default()
    };
    let old_icon = Asset {
        kind: "icon".into(),
        uri: "embeded://assets/icon/image/old.png".into(),
        name: "main".into(),
        ext: "png".into(),
        ..Asset::default()
    };
    let card = Card {
        name: "A".into(),
        assets: Some(vec![bg.clone(), old_icon]),
        ..Card::default()
    };
    let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 4];
    let got = card::read_any(&charx::write_charx(&card, Some(&jpeg)).unwrap()).unwrap();
    let assets = got.card.assets.unwrap();
    assert_eq!(assets.len(), 2);
    assert_eq!(assets[0].uri, "embeded://assets/icon/image/main.jpeg");
    assert_eq!(assets[0].ext, "jpeg");
    assert_eq!(assets[1], bg);
    assert_eq!(got.avatar.as_deref(), Some(jpeg.as_slice()));
}

#[test]
fn an_icon_without_an_asset_entry_is_found_under_assets_icon() {
    let bytes = archive(&[
        ("card.json", V3),
        ("assets/icon/", b""),
        ("assets/icon/image/face.webp", b"RIFF....WEBPdata"),
    ]);
    let got = card::read_any(&bytes).unwrap();
    assert_eq!(got.card.name, "Zipped");
    assert_eq!(got.avatar.as_deref(), Some(b"RIFF....WEBPdata".as_slice()));

    // An icon reference to a file that is not there yields no avatar, not an error.
    let json = br#"{"spec":"chara_card_v3","data":{"name":"N","assets":[{"type":"icon","uri":"embeded://assets/icon/gone.png","name":"main","ext":"png"}]}}"#;
    let got = card::read_any(&archive(&[("card.json", json)])).unwrap();
    assert_eq!(got.avatar, None);
}

#[test]
fn an_archive_without_card_json_says_so() {
    let bytes = archive(&[("readme.txt", b"hello")]);
    assert!(matches!(
        card::read_any(&bytes),
        Err(CardError::CharxNoCard)
    ));
}

#[test]
fn garbage_after_the_zip_signature_is_a_charx_error() {
    let mut bytes = b"PK\x03\x04".to_vec();
    bytes.extend_from_slice(&[0x5a; 200]);
    assert!(matches!(card::read_any(&bytes), Err(CardError::Charx(_))));
}

#[test]
fn a_card_json_bomb_is_refused() {
    // 24 MiB of spaces after the card: valid JSON, deflates to ~25 KiB.
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("card.json", deflated()).unwrap();
    zip.write_all(V3).unwrap();
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..24 {
        zip.write_all(&spaces).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    assert!(bytes.len() < 1 << 20);
    match card::read_any(&bytes) {
        Err(e @ CardError::CharxEntryTooLarge { .. }) => {
            assert!(
                e.to_string().contains("card.json") && e.to_string().contains("16 MiB"),
                "{e}"
            );
        }
        other => panic!("expected CharxEntryTooLarge, got {other:?}"),
    }
}

#[test]
fn a_bomb_that_lies_about_its_size_is_still_stopped() {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("card.json", deflated()).unwrap();
    zip.write_all(V3).unwrap();
    let spaces = vec![b' '; 1 << 20];
    for _ in 0..20 {
        zip.write_all(&spaces).unwrap();
    }
    let mut bytes = zip.finish().unwrap().into_inner();
    // Rewrite the declared uncompressed size (local header at 22, central
    // directory entry at 24 past its signature) to a harmless 100 bytes.
    let declared = (V3.len() + 20 * (1 << 20)) as u32;
    let mut patched = 0;
    for at in 0..bytes.len() - 4 {
        if bytes[at..at + 4] == declared.to_le_bytes() {
            bytes[at..at + 4].copy_from_slice(&100u32.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2);
    let result = card::read_any(&bytes);
    assert!(
        matches!(
            result,
            Err(CardError::CharxEntryTooLarge { .. }) | Err(CardError::Charx(_))
        ),
        "{result:?}"
    );
}

#[test]
fn an_icon_bomb_is_refused() {
    let json = br#"{"spec":"chara_card_v3","data":{"name":"N","assets":[{"type":"icon","uri":"embeded://assets/icon/big.png","name":"main","ext":"png"}]}}"#;
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("card.json", deflated()).unwrap();
    zip.write_all(json).unwrap();
    zip.start_file("assets/icon/big.png", deflated()).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..(charx::MAX_ICON_BYTES >> 20) + 1 {
        zip.write_all(&zeros).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    match card::read_any(&bytes) {
        Err(CardError::CharxEntryTooLarge { name, .. }) => assert_eq!(name, "assets/icon/big.png"),
        other => panic!("expected CharxEntryTooLarge, got {other:?}"),
    }
}

#[test]
fn too_many_entries_are_refused() {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    zip.start_file("card.json", stored).unwrap();
    zip.write_all(V3).unwrap();
    for i in 0..charx::MAX_ENTRIES {
        zip.start_file(format!("assets/other/{i}"), stored).unwrap();
    }
    let bytes = zip.finish().unwrap().into_inner();
    match card::read_any(&bytes) {
        Err(CardError::CharxTooManyEntries { count, limit }) => {
            assert_eq!((count, limit), (10_001, 10_000))
        }
        other => panic!("expected CharxTooManyEntries, got {other:?}"),
    }
}
