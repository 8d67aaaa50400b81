//! Character Card V3 decorators: `@@name value` lines at the top of an
//! entry's content that tune when and where it fires.
//!
//! Unknown or invalid decorators are ignored, the first of a repeated name
//! wins, and a `@@@fallback` line is tried only when the decorator (or
//! fallback) right above it was not applied.

use super::types::{LoreRole, Position};

/// Most decorator lines read from one entry; the rest are left as content.
const MAX_DECORATOR_LINES: usize = 64;
/// Most values kept from one comma list.
const MAX_LIST_VALUES: usize = 64;

/// UI prompts an entry may switch off while it is active.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UiPrompt {
    SystemPrompt,
    PostHistoryInstructions,
}

/// Everything the decorators of one entry asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Decorators {
    pub activate_only_after: Option<u32>,
    pub activate_only_every: Option<u32>,
    pub keep_activate_after_match: bool,
    pub dont_activate_after_match: bool,
    pub depth: Option<u32>,
    pub role: Option<LoreRole>,
    pub scan_depth: Option<u32>,
    pub is_greeting: Option<u32>,
    pub position: Option<Position>,
    pub ignore_on_max_context: bool,
    pub additional_keys: Vec<String>,
    pub exclude_keys: Vec<String>,
    pub dont_activate: bool,
    pub activate: bool,
    pub disable_ui_prompt: Vec<UiPrompt>,
}

impl Decorators {
    /// Where the content goes: `@@position` beats `@@depth`.
    pub fn placement(&self) -> Option<Position> {
        if let Some(p) = self.position {
            return Some(p);
        }
        self.depth.map(|depth| Position::AtDepth { depth, role: self.role.unwrap_or_default() })
    }
}

/// Splits `content` into its decorators and the text left for the prompt
/// (decorator lines and the blank lines around them removed).
pub fn parse(content: &str) -> (Decorators, String) {
    let mut deco = Decorators::default();
    let mut seen: Vec<String> = Vec::new();
    let mut chain_applied = false;
    let mut body_start = 0usize;
    let mut count = 0usize;

    for line in content.split_inclusive('\n') {
        let trimmed = line.trim();
        if trimmed.is_empty() && count > 0 {
            body_start += line.len();
            continue;
        }
        if !trimmed.starts_with("@@") || count >= MAX_DECORATOR_LINES {
            break;
        }
        count += 1;
        body_start += line.len();
        if let Some(rest) = trimmed.strip_prefix("@@@") {
            if !chain_applied {
                chain_applied = apply(&mut deco, &mut seen, rest);
            }
        } else if let Some(rest) = trimmed.strip_prefix("@@") {
            chain_applied = apply(&mut deco, &mut seen, rest);
        }
    }
    let body = content.get(body_start..).unwrap_or("");
    let body = if count > 0 { body.trim_start_matches(['\n', '\r']) } else { body };
    (deco, body.to_string())
}

/// Applies one decorator; false when it is unknown, invalid or repeated.
fn apply(deco: &mut Decorators, seen: &mut Vec<String>, text: &str) -> bool {
    let (name, value) = match text.split_once(char::is_whitespace) {
        Some((n, v)) => (n, v.trim()),
        None => (text, ""),
    };
    let name = name.to_ascii_lowercase();
    if seen.contains(&name) {
        // The first occurrence wins; a repeat counts as applied so its
        // fallbacks stay unused.
        return true;
    }
    let applied = match name.as_str() {
        "activate_only_after" => set_num(&mut deco.activate_only_after, value),
        "activate_only_every" => set_positive(&mut deco.activate_only_every, value),
        "keep_activate_after_match" => flag(&mut deco.keep_activate_after_match),
        "dont_activate_after_match" => flag(&mut deco.dont_activate_after_match),
        "depth" => set_num(&mut deco.depth, value),
        "scan_depth" => set_num(&mut deco.scan_depth, value),
        "is_greeting" => set_num(&mut deco.is_greeting, value),
        "role" => match LoreRole::parse(value) {
            Some(r) => {
                deco.role = Some(r);
                true
            }
            None => false,
        },
        "position" => match Position::parse_decorator(value) {
            Some(p) => {
                deco.position = Some(p);
                true
            }
            None => false,
        },
        "ignore_on_max_context" => flag(&mut deco.ignore_on_max_context),
        "additional_keys" => set_list(&mut deco.additional_keys, value),
        "exclude_keys" => set_list(&mut deco.exclude_keys, value),
        "dont_activate" => flag(&mut deco.dont_activate),
        "activate" => flag(&mut deco.activate),
        "disable_ui_prompt" => match value.to_ascii_lowercase().as_str() {
            "system_prompt" => push_ui(deco, UiPrompt::SystemPrompt),
            "post_history_instructions" => push_ui(deco, UiPrompt::PostHistoryInstructions),
            _ => false,
        },
        // Chat-based prompts ignore the instruct and reverse forms, as the
        // spec asks; returning false lets their fallbacks take over.
        _ => false,
    };
    if applied {
        seen.push(name);
    }
    applied
}

fn set_num(slot: &mut Option<u32>, value: &str) -> bool {
    match value.parse::<u32>() {
        Ok(n) => {
            *slot = Some(n);
            true
        }
        Err(_) => false,
    }
}

/// Like `set_num` but refuses 0 (a period of zero has no meaning).
fn set_positive(slot: &mut Option<u32>, value: &str) -> bool {
    match value.parse::<u32>() {
        Ok(n) if n > 0 => {
            *slot = Some(n);
            true
        }
        _ => false,
    }
}

fn flag(slot: &mut bool) -> bool {
    *slot = true;
    true
}

fn set_list(slot: &mut Vec<String>, value: &str) -> bool {
    let items = split_list(value);
    if items.is_empty() {
        return false;
    }
    *slot = items;
    true
}

fn push_ui(deco: &mut Decorators, ui: UiPrompt) -> bool {
    if !deco.disable_ui_prompt.contains(&ui) {
        deco.disable_ui_prompt.push(ui);
    }
    true
}

/// Comma list with `\,` as an escaped comma.
fn split_list(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&',') {
            cur.push(',');
            chars.next();
        } else if c == ',' {
            push_item(&mut out, &mut cur);
        } else {
            cur.push(c);
        }
        if out.len() >= MAX_LIST_VALUES {
            return out;
        }
    }
    push_item(&mut out, &mut cur);
    out
}

fn push_item(out: &mut Vec<String>, cur: &mut String) {
    let item = cur.trim();
    if !item.is_empty() {
        out.push(item.to_string());
    }
    cur.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_strips() {
        let (d, body) = parse("@@depth 4\n@@role assistant\n\nThe tower is old.\n");
        assert_eq!(d.depth, Some(4));
        assert_eq!(d.role, Some(LoreRole::Assistant));
        assert_eq!(body, "The tower is old.\n");
        assert_eq!(d.placement(), Some(Position::AtDepth { depth: 4, role: LoreRole::Assistant }));
    }

    #[test]
    fn no_decorators_keeps_content() {
        let (d, body) = parse("\nplain @@depth 3 text");
        assert_eq!(d, Decorators::default());
        assert_eq!(body, "\nplain @@depth 3 text");
    }

    #[test]
    fn position_beats_depth() {
        let (d, _) = parse("@@depth 2\n@@position after_desc\nx");
        assert_eq!(d.placement(), Some(Position::AfterDesc));
    }

    #[test]
    fn first_wins_and_invalid_ignored() {
        let (d, _) = parse("@@depth x\n@@depth 3\n@@depth 9\nbody");
        assert_eq!(d.depth, Some(3));
    }

    #[test]
    fn fallback_used_only_when_needed() {
        let (d, _) = parse("@@unknown_thing 4\n@@@activate_only_after 4\n@@scan_depth 2\n@@@scan_depth 7\nb");
        assert_eq!(d.activate_only_after, Some(4));
        assert_eq!(d.scan_depth, Some(2));
        let (d2, _) = parse("@@instruct_depth 5\n@@@nope\n@@@depth 5\nb");
        assert_eq!(d2.depth, Some(5));
    }

    #[test]
    fn lists_and_flags() {
        let (d, body) = parse("@@additional_keys sword, shield\\, round ,\n@@dont_activate\n@@activate\n@@disable_ui_prompt system_prompt\nText");
        assert_eq!(d.additional_keys, vec!["sword".to_string(), "shield, round".to_string()]);
        assert!(d.dont_activate && d.activate);
        assert_eq!(d.disable_ui_prompt, vec![UiPrompt::SystemPrompt]);
        assert_eq!(body, "Text");
    }

    #[test]
    fn line_cap_bounds_work() {
        let many = "@@activate\n".repeat(200) + "tail";
        let (d, body) = parse(&many);
        assert!(d.activate);
        assert!(body.starts_with("@@activate"), "lines past the cap stay content");
    }
}
