//! Robust readers for what a model answers when asked for a list, a ranking
//! or a reply: JSON (possibly wrapped in prose or code fences), numbered or
//! bulleted lists, or loose text.

use serde_json::Value;

use crate::chat::memory::summary::cut_chars;
use crate::chat::safety::detect_persona_break;

/// Attempts at finding a JSON value inside prose.
const MAX_JSON_STARTS: usize = 32;

/// The first JSON array or object in `text`, wherever it starts; trailing
/// prose is ignored.
pub fn extract_json(text: &str) -> Option<Value> {
    let mut tried = 0;
    for (i, c) in text.char_indices() {
        if c != '[' && c != '{' {
            continue;
        }
        tried += 1;
        if tried > MAX_JSON_STARTS {
            break;
        }
        let rest = text.get(i..)?;
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        if let Some(Ok(v)) = stream.next() {
            return Some(v);
        }
    }
    None
}

/// Split a list marker ("1.", "2)", "-", "*", "•", "Q3:", "(4)") off a
/// line. Returns whether there was one, and the rest.
pub fn strip_marker(line: &str) -> (bool, &str) {
    strip_marker_with(line, &["question", "q", "#"])
}

/// Like [`strip_marker`], with only "#" as a word prefix, so "Candidate 3"
/// keeps its number.
fn strip_list_marker(line: &str) -> (bool, &str) {
    strip_marker_with(line, &["#"])
}

fn strip_marker_with<'a>(line: &'a str, prefixes: &[&str]) -> (bool, &'a str) {
    let t = line.trim_start();
    for bullet in ["- ", "* ", "• ", "+ ", "– "] {
        if let Some(rest) = t.strip_prefix(bullet) {
            return (true, rest.trim());
        }
    }
    let mut s = t;
    let mut prefixed = false;
    for word in prefixes {
        if s.len() >= word.len()
            && s.get(..word.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(word))
        {
            let after = s.get(word.len()..).unwrap_or("").trim_start();
            if after.starts_with(|c: char| c.is_ascii_digit()) {
                s = after;
                prefixed = true;
                break;
            }
        }
    }
    let s2 = s.strip_prefix('(').unwrap_or(s);
    let digits = s2.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits <= 3 {
        let after = s2.get(digits..).unwrap_or("");
        for sep in ['.', ')', ':', ']'] {
            if let Some(rest) = after.strip_prefix(sep) {
                return (true, rest.trim());
            }
        }
        if prefixed {
            return (true, after.trim());
        }
    }
    (false, t.trim())
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    for (open, close) in [('"', '"'), ('“', '”'), ('\'', '\''), ('«', '»')] {
        if let Some(inner) = s.strip_prefix(open).and_then(|x| x.strip_suffix(close)) {
            return inner.trim();
        }
    }
    s
}

fn strings_of(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|x| match x {
                    Value::String(s) => Some(s.clone()),
                    Value::Object(o) => o.values().find_map(|y| y.as_str().map(str::to_owned)),
                    _ => None,
                })
                .collect(),
        ),
        Value::Object(o) => o.values().find_map(strings_of),
        _ => None,
    }
}

/// The items of a list the model was asked for: a JSON array of strings (or
/// an object holding one), else the lines with list markers, else lines
/// ending in '?', else (when there are several) every line that is not an
/// introduction ("Here are…:").
/// Duplicates (ignoring case) and empty items are dropped.
pub fn parse_list(text: &str, max_items: usize, max_chars: usize) -> Vec<String> {
    let text = strip_fences(text);
    let raw: Vec<String> = match extract_json(text)
        .as_ref()
        .and_then(strings_of)
        .filter(|v| !v.is_empty())
    {
        Some(items) => items,
        None => {
            let lines: Vec<(bool, &str)> = text
                .lines()
                .map(strip_marker)
                .filter(|(_, l)| !l.is_empty())
                .collect();
            let marked: Vec<&str> = lines.iter().filter(|(m, _)| *m).map(|(_, l)| *l).collect();
            let questions: Vec<&str> = lines
                .iter()
                .map(|(_, l)| *l)
                .filter(|l| l.ends_with('?'))
                .collect();
            let picked = if !marked.is_empty() {
                marked
            } else if !questions.is_empty() {
                questions
            } else {
                // Loose lines only make a list when there are several: a
                // single sentence is more likely a refusal than a list.
                let loose: Vec<&str> = lines
                    .iter()
                    .map(|(_, l)| *l)
                    .filter(|l| !l.ends_with(':'))
                    .collect();
                if loose.len() >= 2 {
                    loose
                } else {
                    Vec::new()
                }
            };
            picked.into_iter().map(str::to_owned).collect()
        }
    };
    let mut out: Vec<String> = Vec::new();
    for item in raw {
        let item = cut_chars(unquote(&item), max_chars).trim().to_owned();
        if item.is_empty()
            || item.ends_with(':')
            || out.iter().any(|o| o.eq_ignore_ascii_case(&item))
        {
            continue;
        }
        out.push(item);
        if out.len() >= max_items {
            break;
        }
    }
    out
}

/// A ranking of `n` candidates, best first, as 0-based indices covering all
/// of them (unranked ones follow in their original order). Accepts a JSON
/// array (numbers or "Candidate 2"), an object holding one, a numbered list
/// ("1. Candidate 3"), or loose text ("2 > 1 > 3"). `None` when no candidate
/// number can be found.
pub fn parse_ranking(text: &str, n: usize) -> Option<Vec<usize>> {
    if n == 0 {
        return None;
    }
    let text = strip_fences(text);
    let mut order: Vec<usize> = Vec::new();
    let push = |k: u64, order: &mut Vec<usize>| {
        if k >= 1 && k <= n as u64 {
            let i = (k - 1) as usize;
            if !order.contains(&i) {
                order.push(i);
            }
        }
    };
    if let Some(v) = extract_json(text) {
        let list = match &v {
            Value::Array(a) => Some(a.clone()),
            Value::Object(o) => o.values().find_map(|x| x.as_array().cloned()),
            _ => None,
        };
        for item in list.unwrap_or_default() {
            match item {
                Value::Number(k) => push(k.as_u64().unwrap_or(0), &mut order),
                Value::String(s) => {
                    if let Some(k) = numbers(&s).first() {
                        push(*k, &mut order);
                    }
                }
                _ => {}
            }
        }
    }
    if order.is_empty() {
        let lines: Vec<(bool, &str)> = text.lines().map(strip_list_marker).collect();
        if lines.iter().filter(|(m, _)| *m).count() >= 2 {
            for (_, rest) in lines.iter().filter(|(m, _)| *m) {
                if let Some(k) = numbers(rest).first() {
                    push(*k, &mut order);
                }
            }
        }
    }
    if order.is_empty() {
        for k in numbers(text) {
            push(k, &mut order);
        }
    }
    if order.is_empty() {
        return None;
    }
    for i in 0..n {
        if !order.contains(&i) {
            order.push(i);
        }
    }
    Some(order)
}

/// Every run of ASCII digits (at most 9 long) in the text.
fn numbers(text: &str) -> Vec<u64> {
    text.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty() && s.len() <= 9)
        .filter_map(|s| s.parse().ok())
        .collect()
}

/// The inside of a ``` fence if the text has one.
pub fn strip_fences(text: &str) -> &str {
    let t = text.trim();
    let Some(start) = t.find("```") else { return t };
    let after = t.get(start + 3..).unwrap_or("");
    let body_start = after.find('\n').map_or(0, |p| p + 1);
    let body = after.get(body_start..).unwrap_or("");
    match body.find("```") {
        Some(end) => body.get(..end).unwrap_or(body).trim(),
        None => body.trim(),
    }
}

/// A reply the model wrote in character, without stray framing: code
/// fences, an introduction line ("Sure! Here is…:"), a leading speaker name
/// ("Rika:" / "{{char}}:"), enclosing quotes, and anything from a line
/// spoken as the user on. `None` when nothing is left.
pub fn clean_reply(text: &str, char_name: &str, max_chars: usize) -> Option<String> {
    let mut t = strip_fences(text);
    if let Some((first, rest)) = t.split_once('\n') {
        let f = first.trim();
        if f.ends_with(':') && !rest.trim().is_empty() && f.split_whitespace().count() > 1 {
            t = rest.trim();
        }
    }
    for name in ["{{char}}", char_name.trim()] {
        if name.is_empty() {
            continue;
        }
        if t.len() > name.len()
            && t.get(..name.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(name))
        {
            if let Some(rest) = t
                .get(name.len()..)
                .and_then(|r| r.trim_start().strip_prefix(':'))
            {
                t = rest.trim();
            }
        }
    }
    let pb = detect_persona_break(t, "");
    if let Some(cut) = pb.truncate_at {
        t = t.get(..cut).unwrap_or(t);
    }
    let t = cut_chars(unquote(t), max_chars).trim();
    (!t.is_empty()).then(|| t.to_owned())
}
