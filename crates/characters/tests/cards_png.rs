//! PNG card chunks: reading every text chunk kind, writing and replacing
//! chunks, and refusing corrupt files with a clear error.

use std::io::Write;

use base64::Engine;
use kindred_characters::card::{self, Card, CardSpec};
use kindred_characters::{png, CardError};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut h = crc32fast::Hasher::new();
    h.update(kind);
    h.update(data);
    out.extend_from_slice(&h.finalize().to_be_bytes());
    out
}

fn text(keyword: &str, value: &[u8]) -> Vec<u8> {
    let mut data = keyword.as_bytes().to_vec();
    data.push(0);
    data.extend_from_slice(value);
    chunk(b"tEXt", &data)
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    z.write_all(data).unwrap();
    z.finish().unwrap()
}

/// The placeholder image with extra chunks inserted before IEND.
fn png_with(extra: &[Vec<u8>]) -> Vec<u8> {
    let base = png::placeholder_png("x");
    let iend = base.len() - 12;
    let mut out = base[..iend].to_vec();
    for c in extra {
        out.extend_from_slice(c);
    }
    out.extend_from_slice(&base[iend..]);
    out
}

/// (type, keyword) of every chunk, walked independently of the library.
fn chunk_list(file: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut at = 8;
    while at + 12 <= file.len() {
        let len = u32::from_be_bytes(file[at..at + 4].try_into().unwrap()) as usize;
        let kind = String::from_utf8_lossy(&file[at + 4..at + 8]).into_owned();
        let data = &file[at + 8..at + 8 + len];
        let keyword = if kind == "tEXt" {
            String::from_utf8_lossy(data.split(|&b| b == 0).next().unwrap()).into_owned()
        } else {
            String::new()
        };
        out.push((kind, keyword));
        at += 12 + len;
    }
    out
}

fn v2_json(name: &str) -> Vec<u8> {
    format!(r#"{{"spec":"chara_card_v2","spec_version":"2.0","data":{{"name":"{name}"}}}}"#)
        .into_bytes()
}

fn v3_json(name: &str) -> Vec<u8> {
    format!(r#"{{"spec":"chara_card_v3","spec_version":"3.0","data":{{"name":"{name}"}}}}"#)
        .into_bytes()
}

#[test]
fn placeholder_is_a_valid_png_and_depends_on_the_name() {
    let a = png::placeholder_png("Aria");
    let b = png::placeholder_png("Bram");
    assert_ne!(a, b);
    assert_eq!(&a[..8], &png::SIGNATURE);
    let list = chunk_list(&a);
    let kinds: Vec<&str> = list.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, vec!["IHDR", "IDAT", "IEND"]);
    // 64x64, 8-bit RGB.
    assert_eq!(&a[16..24], &[0, 0, 0, 64, 0, 0, 0, 64]);
    assert_eq!(&a[24..26], &[8, 2]);
    // The pixel data inflates to 64 rows of filter byte + 64 RGB pixels.
    let idat_len = u32::from_be_bytes(a[33..37].try_into().unwrap()) as usize;
    let mut raw = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::ZlibDecoder::new(&a[41..41 + idat_len]),
        &mut raw,
    )
    .unwrap();
    assert_eq!(raw.len(), 64 * (1 + 64 * 3));
}

#[test]
fn write_without_image_makes_a_placeholder_card() {
    let card = Card {
        name: "Aria".into(),
        first_mes: "Hi {{user}}".into(),
        ..Card::default()
    };
    let file = png::write_png(&card, None).unwrap();
    let list = chunk_list(&file);
    let kinds: Vec<(&str, &str)> = list.iter().map(|(k, w)| (k.as_str(), w.as_str())).collect();
    assert_eq!(
        kinds,
        vec![
            ("IHDR", ""),
            ("IDAT", ""),
            ("tEXt", "chara"),
            ("tEXt", "ccv3"),
            ("IEND", "")
        ]
    );
    let back = card::read_any(&file).unwrap();
    assert_eq!(back.spec, CardSpec::V3);
    assert_eq!(back.card, card);
    assert_eq!(
        back.avatar.as_deref(),
        Some(png::placeholder_png("Aria").as_slice())
    );
}

#[test]
fn rewriting_replaces_old_card_chunks_and_keeps_other_chunks() {
    // An APNG-like image with animation chunks and an unrelated text chunk,
    // already carrying stale card chunks.
    let actl = chunk(b"acTL", &[0, 0, 0, 1, 0, 0, 0, 0]);
    let comment = text("Comment", b"drawn by hand");
    let image = png_with(&[
        actl.clone(),
        text("chara", B64.encode(v2_json("Old")).as_bytes()),
        comment.clone(),
        text("ccv3", B64.encode(v3_json("Old")).as_bytes()),
        text("chara-ext-asset_:0", b"AAAA"),
    ]);
    let card = Card {
        name: "New".into(),
        ..Card::default()
    };
    let once = png::write_png(&card, Some(&image)).unwrap();
    let twice = png::write_png(&card, Some(&once)).unwrap();
    assert_eq!(once, twice, "writing is idempotent");
    let list = chunk_list(&twice);
    let keywords: Vec<&str> = list
        .iter()
        .filter(|(k, _)| k == "tEXt")
        .map(|(_, w)| w.as_str())
        .collect();
    assert_eq!(keywords, vec!["Comment", "chara", "ccv3"]);
    assert!(list.iter().any(|(k, _)| k == "acTL"));
    assert!(
        twice.windows(actl.len()).any(|w| w == actl.as_slice()),
        "acTL copied byte for byte"
    );
    assert!(twice
        .windows(comment.len())
        .any(|w| w == comment.as_slice()));
    assert_eq!(card::read_any(&twice).unwrap().card.name, "New");
}

#[test]
fn ccv3_is_preferred_over_chara() {
    let file = png_with(&[
        text("chara", B64.encode(v2_json("FromV2")).as_bytes()),
        text("ccv3", B64.encode(v3_json("FromV3")).as_bytes()),
    ]);
    let got = png::read_png(&file).unwrap();
    assert_eq!((got.card.name.as_str(), got.spec), ("FromV3", CardSpec::V3));
}

#[test]
fn a_broken_ccv3_falls_back_to_chara() {
    let file = png_with(&[
        text("ccv3", b"!!not base64!!"),
        text("chara", B64.encode(v2_json("Fallback")).as_bytes()),
    ]);
    let got = png::read_png(&file).unwrap();
    assert_eq!(
        (got.card.name.as_str(), got.spec),
        ("Fallback", CardSpec::V2)
    );
}

#[test]
fn bad_base64_is_reported_with_the_chunk_name() {
    let file = png_with(&[text("chara", b"@@@@ definitely not base64")]);
    match png::read_png(&file) {
        Err(CardError::BadBase64 { chunk, .. }) => assert_eq!(chunk, "chara"),
        other => panic!("expected BadBase64, got {other:?}"),
    }
}

#[test]
fn unpadded_wrapped_base64_and_raw_json_are_accepted() {
    let encoded = B64.encode(v2_json("Loose"));
    let wrapped: String = encoded
        .trim_end_matches('=')
        .as_bytes()
        .chunks(60)
        .map(|c| std::str::from_utf8(c).unwrap().to_string() + "\n")
        .collect();
    let got = png::read_png(&png_with(&[text("chara", wrapped.as_bytes())])).unwrap();
    assert_eq!(got.card.name, "Loose");
    let got = png::read_png(&png_with(&[text("Chara", &v2_json("Raw"))])).unwrap();
    assert_eq!(got.card.name, "Raw");
}

#[test]
fn ztxt_and_itxt_chunks_are_read() {
    let mut z = b"chara\0\0".to_vec();
    z.extend_from_slice(&zlib(B64.encode(v2_json("Zipped")).as_bytes()));
    let got = png::read_png(&png_with(&[chunk(b"zTXt", &z)])).unwrap();
    assert_eq!(got.card.name, "Zipped");

    let mut i = b"ccv3\0\x01\0en\0\0".to_vec();
    i.extend_from_slice(&zlib(B64.encode(v3_json("Intl")).as_bytes()));
    let got = png::read_png(&png_with(&[chunk(b"iTXt", &i)])).unwrap();
    assert_eq!((got.card.name.as_str(), got.spec), ("Intl", CardSpec::V3));

    let mut plain = b"ccv3\0\0\0\0\0".to_vec();
    plain.extend_from_slice(B64.encode(v3_json("Plain")).as_bytes());
    assert_eq!(
        png::read_png(&png_with(&[chunk(b"iTXt", &plain)]))
            .unwrap()
            .card
            .name,
        "Plain"
    );
}

#[test]
fn a_compressed_text_bomb_is_refused() {
    // 40 MiB of 'A' (valid base64 alphabet) deflates to a few dozen KiB.
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let block = vec![b'A'; 1 << 20];
    for _ in 0..40 {
        z.write_all(&block).unwrap();
    }
    let mut data = b"chara\0\0".to_vec();
    data.extend_from_slice(&z.finish().unwrap());
    assert!(data.len() < 1 << 20);
    assert!(matches!(
        png::read_png(&png_with(&[chunk(b"zTXt", &data)])),
        Err(CardError::TooLarge { .. })
    ));
}

#[test]
fn a_broken_zlib_stream_is_an_inflate_error() {
    let file = png_with(&[chunk(b"zTXt", b"chara\0\0not zlib at all")]);
    assert!(matches!(
        png::read_png(&file),
        Err(CardError::PngInflate { .. })
    ));
}

#[test]
fn a_png_without_card_chunks_says_so() {
    let file = png_with(&[text("Comment", b"just an image")]);
    assert!(matches!(png::read_png(&file), Err(CardError::PngNoCard)));
}

#[test]
fn a_wrong_crc_is_reported_with_chunk_and_offset() {
    let mut file = png_with(&[text("chara", B64.encode(v2_json("X")).as_bytes())]);
    let chara_at = chunk_list(&file)
        .iter()
        .position(|(_, w)| w == "chara")
        .unwrap();
    // Offset of that chunk: walk the lengths again.
    let mut at = 8;
    for _ in 0..chara_at {
        at += 12 + u32::from_be_bytes(file[at..at + 4].try_into().unwrap()) as usize;
    }
    file[at + 10] ^= 0x20; // flip a bit inside the data
    match png::read_png(&file) {
        Err(CardError::PngBadCrc { chunk, offset }) => {
            assert_eq!((chunk.as_str(), offset), ("tEXt", at))
        }
        other => panic!("expected PngBadCrc, got {other:?}"),
    }
}

#[test]
fn truncated_files_and_bad_signatures_are_errors() {
    let file = png_with(&[text("chara", B64.encode(v2_json("X")).as_bytes())]);
    for cut in [9, 20, 40, file.len() - 30, file.len() - 1] {
        assert!(
            matches!(
                png::read_png(&file[..cut]),
                Err(CardError::PngTruncated { .. })
            ),
            "cut at {cut}: {:?}",
            png::read_png(&file[..cut])
        );
    }
    assert!(matches!(
        png::read_png(b"\x89PNG\r\n\x1a\x0b"),
        Err(CardError::PngSignature)
    ));
    assert!(matches!(
        png::write_png(&Card::default(), Some(b"GIF89a....")),
        Err(CardError::PngSignature)
    ));
    // A chunk claiming 3 GB.
    let mut huge = png::SIGNATURE.to_vec();
    huge.extend_from_slice(&[0xC0, 0, 0, 0]);
    huge.extend_from_slice(b"IHDR");
    assert!(matches!(
        png::read_png(&huge),
        Err(CardError::PngMalformed(_))
    ));
    // A first chunk other than IHDR.
    let mut wrong = png::SIGNATURE.to_vec();
    wrong.extend_from_slice(&chunk(b"tEXt", b"a\0b"));
    assert!(matches!(
        png::read_png(&wrong),
        Err(CardError::PngMalformed(_))
    ));
}

#[test]
fn an_oversized_chunk_is_refused_before_decoding() {
    let big = vec![b'A'; card::MAX_CARD_JSON / 3 * 4 + 8192];
    match png::read_png(&png_with(&[text("chara", &big)])) {
        Err(e @ CardError::TooLarge { .. }) => assert!(e.to_string().contains("over the limit")),
        other => panic!("expected TooLarge, got {other:?}"),
    }
}
