//! Format sniffing and writing a card in whichever format a file calls for.

use kindred_characters::card::{self, image_mime, write_as, Card, CardSpec, Format};
use kindred_characters::png;

#[test]
fn formats_are_sniffed_from_content_and_named_by_extension() {
    assert_eq!(Format::sniff(&png::placeholder_png("a")), Some(Format::Png));
    assert_eq!(Format::sniff(b"PK\x03\x04rest"), Some(Format::Charx));
    assert_eq!(
        Format::sniff(b"\xEF\xBB\xBF\r\n {\"name\":1}"),
        Some(Format::Json)
    );
    assert_eq!(Format::sniff(b"GIF89a"), None);
    assert_eq!(Format::from_extension("out/Card.PNG"), Some(Format::Png));
    assert_eq!(Format::from_extension("a.b.charx"), Some(Format::Charx));
    assert_eq!(Format::from_extension("x.json"), Some(Format::Json));
    assert_eq!(Format::from_extension("x.txt"), None);
    assert_eq!(Format::from_extension("noext"), None);
}

#[test]
fn image_types_are_recognised() {
    assert_eq!(image_mime(&png::placeholder_png("a")), Some("image/png"));
    assert_eq!(image_mime(&[0xFF, 0xD8, 0xFF, 0xDB]), Some("image/jpeg"));
    assert_eq!(image_mime(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
    assert_eq!(image_mime(b"GIF87a"), Some("image/gif"));
    assert_eq!(image_mime(b"hello"), None);
}

#[test]
fn write_as_round_trips_in_every_format() {
    let card = Card {
        name: "Aria".into(),
        tags: vec!["x".into()],
        ..Card::default()
    };
    let avatar = png::placeholder_png("avatar");
    for (format, spec, want_spec) in [
        (Format::Json, CardSpec::V2, CardSpec::V2),
        (Format::Json, CardSpec::V3, CardSpec::V3),
        (Format::Png, CardSpec::V2, CardSpec::V3),
        (Format::Charx, CardSpec::V2, CardSpec::V3),
    ] {
        let bytes = write_as(&card, Some(&avatar), format, spec).unwrap();
        assert_eq!(Format::sniff(&bytes), Some(format));
        let back = card::read_any(&bytes).unwrap();
        assert_eq!(back.spec, want_spec, "{format:?}");
        assert_eq!(back.card.name, "Aria");
        assert_eq!(back.card.tags, vec!["x"]);
        match format {
            Format::Json => assert_eq!(back.avatar, None),
            _ => assert_eq!(
                back.avatar.as_deref(),
                Some(avatar.as_slice()),
                "{format:?}"
            ),
        }
    }
    // A JPEG avatar cannot carry PNG chunks: the PNG gets a placeholder image.
    let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0];
    let bytes = write_as(&card, Some(&jpeg), Format::Png, CardSpec::V3).unwrap();
    assert_eq!(
        card::read_any(&bytes).unwrap().avatar,
        Some(png::placeholder_png("Aria"))
    );
}

#[test]
fn a_charx_icon_becomes_the_png_image() {
    let card = Card {
        name: "Aria".into(),
        ..Card::default()
    };
    let icon = png::placeholder_png("icon");
    let from_charx =
        card::read_any(&write_as(&card, Some(&icon), Format::Charx, CardSpec::V3).unwrap())
            .unwrap();
    let as_png = write_as(
        &from_charx.card,
        from_charx.avatar.as_deref(),
        Format::Png,
        CardSpec::V3,
    )
    .unwrap();
    let back = card::read_any(&as_png).unwrap();
    assert_eq!(back.avatar.as_deref(), Some(icon.as_slice()));
    let assets = back.card.assets.unwrap();
    assert_eq!(
        (assets[0].uri.as_str(), assets[0].kind.as_str()),
        ("ccdefault:", "icon")
    );
}
