//! The settings a person (the app's Settings page, the widget's attributes)
//! or a page (the worker's messages) gives a reply, with the range each is
//! held to and its default: the one table the app's form, the worker and
//! the CLI read. Values come from storage, backups and other pages, so
//! anything that is not a finite number in range is clamped or replaced by
//! the default, never an error.

use serde::Serialize;
use serde_json::Value;

use crate::sampler::SamplerOptions;
use crate::session::GenerateOptions;

/// A chat reply's length by default, in tokens.
pub const REPLY_TOKENS: usize = 120;

/// Stop strings a reply takes at most, and their longest length in chars.
const MAX_STOPS: usize = 16;
const MAX_STOP_CHARS: usize = 64;

/// One numeric setting.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Setting {
    pub name: &'static str,
    pub min: f64,
    pub max: f64,
    /// The step the form offers (1 for whole numbers).
    pub step: f64,
    pub default: f64,
}

impl Setting {
    fn integer(&self) -> bool {
        self.step == 1.0
    }

    /// `v` held to the range (rounded for whole numbers), or the default
    /// where it is not a finite number.
    pub fn check(&self, v: Option<&Value>) -> f64 {
        match v.and_then(Value::as_f64).filter(|v| v.is_finite()) {
            Some(v) => {
                let v = v.clamp(self.min, self.max);
                if self.integer() {
                    v.round()
                } else {
                    v
                }
            }
            None => self.default,
        }
    }
}

/// The settings, in the order the form shows them.
pub fn settings() -> [Setting; 6] {
    let d = SamplerOptions::default();
    let s = |name, min, max, step, default: f64| Setting { name, min, max, step, default };
    [
        s("temperature", 0.0, 2.0, 0.05, d.temperature as f64),
        s("top_p", 0.0, 1.0, 0.01, d.top_p as f64),
        s("top_k", 0.0, 200.0, 1.0, d.top_k as f64),
        s("min_p", 0.0, 1.0, 0.01, d.min_p as f64),
        s("repeat_penalty", 1.0, 2.0, 0.05, d.repeat_penalty as f64),
        s("max_tokens", 1.0, 2048.0, 1.0, REPLY_TOKENS as f64),
    ]
}

/// A reply's options from a JSON object of settings (others keep the
/// engine's defaults: DRY, the end-of-turn boost): each setting checked,
/// `seed` rounded, below 2^32 (else 0), `stop` at most 16 non-empty
/// strings of at most 64 chars; `response_format` as OpenAI's API takes it
/// (`json_schema` from it: see [`response_schema`]).
pub fn checked(raw: &Value) -> GenerateOptions {
    let get = |name: &str| raw.get(name);
    let [temperature, top_p, top_k, min_p, repeat_penalty, max_tokens] = settings().map(|s| s.check(get(s.name)));
    let seed = get("seed").and_then(Value::as_f64).map(f64::round).filter(|s| (0.0..4_294_967_296.0).contains(s));
    let stop = match get("stop") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .filter(|s| !s.is_empty() && s.chars().count() <= MAX_STOP_CHARS)
            .take(MAX_STOPS)
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    };
    GenerateOptions {
        sampler: SamplerOptions {
            temperature: temperature as f32,
            top_p: top_p as f32,
            top_k: top_k as usize,
            min_p: min_p as f32,
            repeat_penalty: repeat_penalty as f32,
            seed: seed.map_or(0, |s| s as u64),
            ..SamplerOptions::default()
        },
        max_tokens: max_tokens as usize,
        stop,
        json_schema: get("response_format").and_then(response_schema),
        ..GenerateOptions::default()
    }
}

/// The schema a `response_format` asks the reply to keep to: `{type:
/// "json_object"}` any object, `{type: "json_schema", json_schema: {schema}}`
/// that schema, `{type: "text"}` none. Any other shape gives, in place of a
/// schema, the reason as a string (null would not survive the trip through
/// JS), which the schema compiler refuses with that reason when the reply
/// starts: never a reply written unconstrained.
pub fn response_schema(format: &Value) -> Option<Value> {
    let why = |s: &str| Some(Value::String(s.into()));
    match format.get("type").and_then(Value::as_str) {
        Some("text") => None,
        Some("json_object") => Some(serde_json::json!({ "type": "object" })),
        Some("json_schema") => format.pointer("/json_schema/schema").cloned().or_else(|| why("json_schema.schema is missing")),
        _ => why("response_format.type must be text, json_object or json_schema"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nothing_given_is_the_engines_defaults() {
        let o = checked(&json!({}));
        let d = SamplerOptions::default();
        assert_eq!((o.sampler.temperature, o.sampler.top_k, o.sampler.top_p), (d.temperature, d.top_k, d.top_p));
        assert_eq!((o.sampler.min_p, o.sampler.repeat_penalty, o.sampler.dry_multiplier), (d.min_p, d.repeat_penalty, d.dry_multiplier));
        assert_eq!((o.max_tokens, o.sampler.seed, o.stop.len()), (REPLY_TOKENS, 0, 0));
        assert_eq!(checked(&json!("junk")).max_tokens, REPLY_TOKENS, "not an object: every default");
    }

    #[test]
    fn settings_are_held_to_their_ranges() {
        let o = checked(&json!({
            "temperature": 9, "top_p": -1, "top_k": 12.6, "min_p": "0.5", "repeat_penalty": 0.2,
            "max_tokens": 1e9, "seed": 41.6,
        }));
        assert_eq!(o.sampler.temperature, 2.0);
        assert_eq!(o.sampler.top_p, 0.0);
        assert_eq!(o.sampler.top_k, 13, "whole numbers are rounded");
        assert_eq!(o.sampler.min_p, SamplerOptions::default().min_p, "a string is not a number");
        assert_eq!(o.sampler.repeat_penalty, 1.0);
        assert_eq!(o.max_tokens, 2048);
        assert_eq!(o.sampler.seed, 42);
        for seed in [json!(-1), json!(5e9), json!(null), json!("7")] {
            assert_eq!(checked(&json!({ "seed": seed })).sampler.seed, 0, "{seed}");
        }
    }

    #[test]
    fn a_response_format_becomes_the_schema_the_reply_keeps_to() {
        assert_eq!(checked(&json!({})).json_schema, None);
        assert_eq!(checked(&json!({ "response_format": { "type": "text" } })).json_schema, None);
        assert_eq!(checked(&json!({ "response_format": { "type": "json_object" } })).json_schema, Some(json!({ "type": "object" })));
        let schema = json!({ "type": "array", "items": { "type": "integer" } });
        let format = json!({ "type": "json_schema", "json_schema": { "name": "n", "schema": schema } });
        assert_eq!(checked(&json!({ "response_format": format })).json_schema, Some(schema));
        for (bad, why) in [
            (json!({ "type": "xml" }), "must be text, json_object or json_schema"),
            (json!({ "type": "json_schema" }), "json_schema.schema is missing"),
            (json!("json"), "must be text, json_object or json_schema"),
        ] {
            let s = checked(&json!({ "response_format": bad })).json_schema.expect("not dropped");
            assert!(!s.is_null(), "a null would be lost on the way through JS");
            let err = crate::json_output::JsonOutput::new(&s).err().expect("refused when the reply starts").to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn stop_strings_are_bounded() {
        let long = "x".repeat(65);
        let mut stops = vec![json!(""), json!(7), json!(long), json!("\nUser:")];
        stops.extend((0..20).map(|i| json!(format!("s{i}"))));
        let o = checked(&json!({ "stop": stops }));
        assert_eq!(o.stop.len(), MAX_STOPS);
        assert_eq!(o.stop[0], "\nUser:");
        assert!(checked(&json!({ "stop": "\nUser:" })).stop.is_empty(), "not a list");
    }

    #[test]
    fn every_default_lies_in_its_range() {
        for s in settings() {
            assert!(s.min <= s.default && s.default <= s.max, "{}", s.name);
            assert_eq!(s.check(None), s.default);
        }
    }
}
