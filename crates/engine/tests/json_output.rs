//! Replies kept to JSON on a real model (the app's default instruct one):
//! the reply parses, fits the schema and ends when the value does; the same
//! request without the schema does not give such a value, so the constraint
//! is what made it.

mod common;

use kindred_engine::sampler::SamplerOptions;
use kindred_engine::session::{GenerateOptions, StopReason};
use kindred_engine::template::ChatMessage;
use kindred_engine::Session;
use serde_json::{json, Value};

fn cat_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": { "type": "string", "minLength": 1, "maxLength": 20 },
            "age": { "type": "integer" },
            "colour": { "enum": ["black", "white", "ginger", "grey"] },
            "toys": { "type": "array", "items": { "type": "string", "maxLength": 20 }, "maxItems": 3 }
        },
        "required": ["name", "age", "colour", "toys"]
    })
}

fn reply(s: &mut Session, question: &str, schema: Option<Value>, seed: u64) -> (String, StopReason) {
    let text = s.render_chat(&[ChatMessage::new("user", question)]).unwrap();
    let prompt = s.encode_prompt(&text).unwrap();
    let opts = GenerateOptions {
        sampler: SamplerOptions { seed, ..SamplerOptions::default() },
        max_tokens: 120,
        json_schema: schema,
        ..Default::default()
    };
    let out = s.generate(&prompt, opts, |_| true).unwrap();
    (out.text, out.stop_reason)
}

fn fits_cat(v: &Value) -> bool {
    let o = match v.as_object() {
        Some(o) => o,
        None => return false,
    };
    let short = |x: &Value| x.as_str().is_some_and(|s| s.chars().count() <= 20);
    o.len() == 4
        && o.get("name").is_some_and(|n| short(n) && !n.as_str().unwrap().is_empty())
        && o.get("age").is_some_and(|a| a.is_i64() || a.is_u64())
        && o.get("colour").and_then(Value::as_str).is_some_and(|c| ["black", "white", "ginger", "grey"].contains(&c))
        && o.get("toys").and_then(Value::as_array).is_some_and(|t| t.len() <= 3 && t.iter().all(short))
}

#[test]
fn a_reply_kept_to_a_schema_parses_fits_and_ends_with_the_value() {
    let mut s = Session::load(common::default_model_bytes()).unwrap();
    let ask = "Invent a cat: its name, age, colour and favourite toys.";
    for seed in [1, 2, 3] {
        let (text, reason) = reply(&mut s, ask, Some(cat_schema()), seed);
        let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("seed {seed}: {e}: {text}"));
        assert!(fits_cat(&v), "seed {seed}: {text}");
        assert_eq!(reason, StopReason::Eos, "seed {seed}: ends with the value: {text}");
        println!("seed {seed}: {text}");
    }
    let (free, _) = reply(&mut s, ask, None, 1);
    println!("without the schema: {free}");
    assert!(!serde_json::from_str::<Value>(&free).is_ok_and(|v| fits_cat(&v)), "{free}");
}

#[test]
fn any_object_and_a_greedy_reply_are_kept_to_json_too() {
    let mut s = Session::load(common::default_model_bytes()).unwrap();
    let text = s.render_chat(&[ChatMessage::new("user", "Say hello in French, as JSON.")]).unwrap();
    let prompt = s.encode_prompt(&text).unwrap();
    let opts = GenerateOptions { sampler: SamplerOptions::greedy(), max_tokens: 60, json_schema: Some(json!({ "type": "object" })), ..Default::default() };
    let out = s.generate(&prompt, opts, |_| true).unwrap();
    let v: Value = serde_json::from_str(&out.text).unwrap_or_else(|e| panic!("{e}: {}", out.text));
    assert!(v.is_object(), "{}", out.text);
    println!("greedy: {}", out.text);
    let bad = GenerateOptions { json_schema: Some(json!({ "type": "array", "minItems": 2, "maxItems": 1 })), ..Default::default() };
    let err = s.start(&prompt, bad).unwrap_err().to_string();
    assert!(err.contains("response schema"), "{err}");
}
