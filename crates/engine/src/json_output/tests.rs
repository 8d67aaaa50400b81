use serde_json::{json, Value};

use super::matcher::Matcher;
use super::schema::Schema;
use crate::sampler::Rng;

fn person() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": { "type": "string", "minLength": 2, "maxLength": 12 },
            "age": { "type": "integer" },
            "mood": { "enum": ["calm", "cross", "curious"] },
            "tags": { "type": "array", "items": { "type": "string" }, "minItems": 1, "maxItems": 3 },
            "score": { "type": "number" },
            "open": { "type": "boolean" },
            "note": { "type": ["string", "null"] }
        },
        "required": ["name", "age", "mood"]
    })
}

/// Feeds `text`; Some(done) when every byte was taken, None at the first refused.
fn run(schema: &Schema, text: &str) -> Option<bool> {
    let mut m = Matcher::new(schema);
    for &b in text.as_bytes() {
        if !m.feed(schema, b) {
            return None;
        }
    }
    Some(m.done() || m.can_end(schema))
}

#[test]
fn values_the_schema_allows_are_read_whole() {
    let s = Schema::compile(&person()).unwrap();
    for ok in [
        r#"{"name": "Wren", "age": 31, "mood": "calm"}"#,
        "{\n  \"mood\": \"curious\",\n  \"age\": -4,\n  \"name\": \"Ada \\\"L\\u00e9\\\"\",\n  \"tags\": [\"tea\", \"books\"],\n  \"score\": 1.5e-3,\n  \"open\": false,\n  \"note\": null\n}",
        r#"{"name":"Ré","age":0,"mood":"cross","note":"x"}"#,
    ] {
        assert_eq!(run(&s, ok), Some(true), "{ok}");
        serde_json::from_str::<Value>(ok).unwrap();
    }
}

#[test]
fn what_the_schema_rules_out_is_refused_at_its_first_byte() {
    let s = Schema::compile(&person()).unwrap();
    // Each case: the longest prefix taken, then the byte refused.
    for (taken, refused) in [
        (r#"{"name": "Wren", "age": 31"#, "}"),             // mood is required
        (r#"{"name": "Wren", "#, "\"x"),                   // not a listed key
        (r#"{"name": "Wren", "n"#, "a"),                   // a key twice: only "note" is left
        (r#"{"name": "W"#, "\""),                          // shorter than minLength
        (r#"{"name": "abcdefghijkl"#, "m"),                // longer than maxLength
        (r#"{"age": 3"#, "."),                             // an integer
        (r#"{"age": 0"#, "1"),                             // no leading zero
        (r#"{"mood": "c"#, "l"),                           // not one of the enum
        (r#"{"tags": ["#, "]"),                            // at least one item
        (r#"{"tags": ["a", "b", "c""#, ","),               // at most three
        (r#"{"open": "#, "\""),                            // a boolean
        (r#"{"note": "a"#, "\n"),                          // a raw control character in a string
        (r#"{"note": "\"#, "x"),                           // an unknown escape
        (r#"{"note": "\ud"#, "e"),                        // a surrogate half
        ("", "["),                                          // the root is an object
    ] {
        assert_eq!(run(&s, taken), Some(false), "{taken} should be taken, not complete");
        assert_eq!(run(&s, &format!("{taken}{refused}")), None, "{taken} then {refused}");
    }
}

#[test]
fn numbers_and_literals_may_end_a_top_level_value() {
    let n = Schema::compile(&json!({ "type": "number" })).unwrap();
    assert_eq!(run(&n, "12"), Some(true));
    assert_eq!(run(&n, "12."), Some(false));
    assert_eq!(run(&n, "-"), Some(false));
    assert_eq!(run(&n, "1e99"), Some(true));
    assert_eq!(run(&n, "1e999"), None, "past a double's range");
    let long = "1".repeat(31);
    assert_eq!(run(&n, &format!("{long}e")), None, "no room left for the exponent's digit");
    assert_eq!(run(&n, &format!("{long}0")), Some(true));
    assert_eq!(run(&n, &format!("{long}00")), None, "at most 32 characters");
    let e = Schema::compile(&json!({ "enum": [1, 10, "x"] })).unwrap();
    assert_eq!(run(&e, "1"), Some(true), "1 may end, or go on to 10");
    let mut m = Matcher::new(&e);
    for &b in b"10" {
        assert!(m.feed(&e, b));
    }
    assert!(m.done(), "nothing goes on from 10");
    assert_eq!(run(&e, "2"), None);
}

#[test]
fn strings_are_whole_utf8_characters_counted_once() {
    let s = Schema::compile(&json!({ "type": "string", "maxLength": 2 })).unwrap();
    assert_eq!(run(&s, "\"é😀\""), Some(true), "two characters, five bytes");
    assert_eq!(run(&s, "\"éé"), Some(false));
    assert_eq!(run(&s, "\"ééé"), None, "a third character");
    let bytes = |b: &[u8]| {
        let mut m = Matcher::new(&s);
        b.iter().all(|&x| m.feed(&s, x))
    };
    assert!(!bytes(b"\"\x80"), "a continuation byte alone");
    assert!(!bytes(b"\"\xc3\""), "a character cut short");
    assert!(!bytes(b"\"\xed\xa0"), "a surrogate's encoding");
    assert!(!bytes(b"\"\xc0\x80"), "an overlong form");
    assert!(!bytes(b"\"\xf5"), "past U+10FFFF");
}

#[test]
fn nesting_is_bounded_where_a_value_may_be_anything() {
    let s = Schema::any_object();
    let deep = format!("{{\"a\":{}", "[".repeat(62));
    assert_eq!(run(&s, &deep), Some(false));
    assert_eq!(run(&s, &format!("{deep}[")), None, "nested past the limit");
    assert_eq!(run(&s, &format!("{deep}1{}}}", "]".repeat(62))), Some(true));
}

#[test]
fn whitespace_is_bounded() {
    let s = Schema::any_object();
    assert_eq!(run(&s, &format!("{{{}}}", " ".repeat(24))), Some(true));
    assert_eq!(run(&s, &format!("{{{}}}", " ".repeat(25))), None);
}

/// An independent check of what the walk below writes.
fn valid(v: &Value, schema: &Value) -> bool {
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        return e.contains(v);
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(t)) => t.iter().filter_map(Value::as_str).collect(),
        _ => vec!["object", "array", "string", "number", "boolean", "null"],
    };
    let fits = |t: &str| match (t, v) {
        ("object", Value::Object(o)) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let required = schema.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
            required.iter().all(|r| o.contains_key(r.as_str().unwrap()))
                && o.iter().all(|(k, x)| match props {
                    Some(p) => p.get(k).is_some_and(|sub| valid(x, sub)),
                    None => true,
                })
        }
        ("array", Value::Array(a)) => {
            let n = a.len() as u64;
            n >= schema.get("minItems").and_then(Value::as_u64).unwrap_or(0)
                && n <= schema.get("maxItems").and_then(Value::as_u64).unwrap_or(u64::MAX)
                && a.iter().all(|x| schema.get("items").is_none_or(|i| valid(x, i)))
        }
        ("string", Value::String(s)) => {
            let n = s.chars().count() as u64;
            n >= schema.get("minLength").and_then(Value::as_u64).unwrap_or(0)
                && n <= schema.get("maxLength").and_then(Value::as_u64).unwrap_or(u64::MAX)
        }
        // serde reads -0 as a float; JSON Schema counts it an integer.
        ("integer", Value::Number(x)) => x.is_i64() || x.is_u64() || x.as_f64() == Some(0.0),
        ("number", Value::Number(_)) | ("boolean", Value::Bool(_)) | ("null", Value::Null) => true,
        _ => false,
    };
    types.into_iter().any(fits)
}

#[test]
fn a_random_walk_through_allowed_bytes_never_sticks_and_always_validates() {
    // Bytes that close things come up often enough for walks to finish.
    let alphabet: Vec<u8> = "{}[],:\"\"\"\"0123456789-.eE+ \ntrufalsenmoydgchkxé😀\\/u".bytes().collect();
    let schemas = [
        person(),
        json!({ "type": "array", "items": person(), "maxItems": 2 }),
        json!({ "type": "object" }),
        json!({ "type": "object", "additionalProperties": { "type": "integer" } }),
        json!({ "$defs": { "p": person() }, "type": "object", "properties": { "who": { "$ref": "#/$defs/p" } }, "required": ["who"] }),
    ];
    for (si, schema) in schemas.iter().enumerate() {
        let s = Schema::compile(schema).unwrap();
        let mut finished = 0;
        for seed in 0..300u64 {
            let mut rng = Rng::new(seed * 7919 + si as u64);
            let mut m = Matcher::new(&s);
            let mut out = Vec::new();
            while !m.done() && out.len() < 4000 {
                let allowed: Vec<u8> = (0..=255u8).filter(|&b| m.clone().feed(&s, b)).collect();
                assert!(!allowed.is_empty(), "stuck after {:?}", String::from_utf8_lossy(&out));
                let preferred: Vec<u8> = allowed.iter().copied().filter(|b| alphabet.contains(b)).collect();
                let pool = if preferred.is_empty() { &allowed } else { &preferred };
                let b = pool[(rng.next_u64() % pool.len() as u64) as usize];
                assert!(m.feed(&s, b));
                out.push(b);
            }
            if m.done() {
                finished += 1;
                let text = String::from_utf8(out.clone()).expect("whole UTF-8 characters");
                let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
                assert!(valid(&v, schema), "{text} against {schema}");
            }
        }
        assert!(finished > 100, "schema {si}: only {finished} walks finished");
    }
}

#[test]
fn schemas_it_cannot_keep_to_are_refused() {
    for bad in [
        json!({ "type": "tuple" }),
        json!({ "type": "array", "minItems": 3, "maxItems": 2 }),
        json!({ "$ref": "#" }),
        json!({ "properties": { "a": { "$ref": "#/properties/a" } } }),
        json!({ "$ref": "#/nowhere" }),
        json!({ "enum": [] }),
        json!("object"),
        json!({ "properties": (0..65).map(|i| (format!("k{i}"), json!({}))).collect::<serde_json::Map<_, _>>() }),
    ] {
        let err = Schema::compile(&bad).unwrap_err().to_string();
        assert!(err.contains("response schema"), "{bad}: {err}");
    }
    let mut deep = json!({ "type": "string" });
    for _ in 0..40 {
        deep = json!({ "type": "array", "items": deep });
    }
    assert!(Schema::compile(&deep).is_err(), "nested past the limit");
}
