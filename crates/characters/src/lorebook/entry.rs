//! A lorebook made ready for scanning: every entry's card fields,
//! SillyTavern extension fields and V3 decorators folded into one plain
//! struct, so the scanner never looks at raw JSON.

use serde_json::{Map, Value};

use super::decorators::{self, Decorators};
use super::types::{LoreRole, Position, SelectiveLogic};
use crate::book::{BookEntry, CharacterBook, EntryId, EntryPosition};

/// Most entries taken from one book; a hostile book cannot make a scan
/// quadratic in something huge.
pub const MAX_ENTRIES: usize = 4_096;
/// Longest sticky / cooldown / delay accepted, in messages.
const MAX_TIMED: u32 = 100_000;

/// One entry, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct LoreEntry {
    /// Unique within a scan: `<book key>#<entry id or index>`. Timed state
    /// (sticky, cooldown) is kept under this id.
    pub uid: String,
    /// Name or comment, for people.
    pub label: String,
    pub keys: Vec<String>,
    pub secondary_keys: Vec<String>,
    pub selective: bool,
    pub logic: SelectiveLogic,
    /// Content with decorators removed.
    pub content: String,
    pub enabled: bool,
    pub constant: bool,
    pub insertion_order: i64,
    pub priority: Option<i64>,
    pub position: Position,
    /// `None`: the scan's default applies.
    pub case_sensitive: Option<bool>,
    pub whole_words: Option<bool>,
    pub use_regex: bool,
    /// Messages scanned for this entry; `None`: the book's or the scan's default.
    pub scan_depth: Option<u32>,
    /// Percent chance to fire once matched; 100 = always.
    pub probability: u32,
    pub sticky: u32,
    pub cooldown: u32,
    pub delay: u32,
    /// Not triggered by other entries' content.
    pub exclude_recursion: bool,
    /// Its content does not trigger other entries.
    pub prevent_recursion: bool,
    /// Only triggered by other entries' content.
    pub delay_until_recursion: bool,
    pub decorators: Decorators,
}

impl Default for LoreEntry {
    fn default() -> Self {
        Self {
            uid: String::new(),
            label: String::new(),
            keys: Vec::new(),
            secondary_keys: Vec::new(),
            selective: false,
            logic: SelectiveLogic::AndAny,
            content: String::new(),
            enabled: true,
            constant: false,
            insertion_order: 100,
            priority: None,
            position: Position::BeforeChar,
            case_sensitive: None,
            whole_words: None,
            use_regex: false,
            scan_depth: None,
            probability: 100,
            sticky: 0,
            cooldown: 0,
            delay: 0,
            exclude_recursion: false,
            prevent_recursion: false,
            delay_until_recursion: false,
            decorators: Decorators::default(),
        }
    }
}

/// A book ready for scanning.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Lorebook {
    pub name: String,
    pub scan_depth: Option<u32>,
    pub token_budget: Option<usize>,
    /// `None`: the scan's setting decides.
    pub recursive_scanning: Option<bool>,
    pub entries: Vec<LoreEntry>,
}

impl Lorebook {
    /// Resolves a card or standalone book. `key` names the book within the
    /// app (e.g. `card` or a stored book id) and prefixes entry uids.
    pub fn from_book(book: &CharacterBook, key: &str) -> Self {
        let entries = book
            .entries
            .iter()
            .take(MAX_ENTRIES)
            .enumerate()
            .map(|(i, e)| resolve_entry(e, key, i))
            .collect();
        Self {
            name: book.name.clone().unwrap_or_default(),
            scan_depth: book.scan_depth,
            token_budget: book.token_budget.map(|b| b as usize),
            recursive_scanning: book.recursive_scanning,
            entries,
        }
    }
}

fn resolve_entry(e: &BookEntry, book_key: &str, index: usize) -> LoreEntry {
    let ext = &e.extensions;
    let (deco, content) = decorators::parse(&e.content);
    let id_part = match &e.id {
        Some(EntryId::Number(n)) => n.to_string(),
        Some(EntryId::Text(s)) if !s.is_empty() => s.clone(),
        _ => format!("i{index}"),
    };
    let label = e
        .name
        .clone()
        .filter(|n| !n.is_empty())
        .or_else(|| e.comment.clone())
        .unwrap_or_default();

    let role = ext_i64(ext, &["role"]).map(LoreRole::from_st).unwrap_or_default();
    let depth = ext_u32(ext, &["depth"]).unwrap_or(4);
    let base_position = match ext_i64(ext, &["position"]) {
        Some(n) => Position::from_st(n, depth, role),
        None => match e.position {
            Some(EntryPosition::AfterChar) => Position::AfterChar,
            _ => Position::BeforeChar,
        },
    };
    let position = deco.placement().unwrap_or(base_position);

    // SillyTavern writes probability 100 with useProbability false for
    // "always"; an explicit false switches the roll off.
    let use_probability = ext_bool(ext, &["useProbability", "use_probability"]).unwrap_or(true);
    let probability = if use_probability {
        ext_i64(ext, &["probability"]).map_or(100, |p| p.clamp(0, 100) as u32)
    } else {
        100
    };

    LoreEntry {
        uid: format!("{book_key}#{id_part}"),
        label,
        keys: e.keys.clone(),
        secondary_keys: e.secondary_keys.clone(),
        selective: e.selective,
        logic: ext_i64(ext, &["selectiveLogic", "selective_logic"])
            .map(SelectiveLogic::from_st)
            .unwrap_or_default(),
        content,
        enabled: e.enabled,
        constant: e.constant,
        insertion_order: e.insertion_order,
        priority: e.priority,
        position,
        case_sensitive: e.case_sensitive.or_else(|| ext_bool(ext, &["case_sensitive", "caseSensitive"])),
        whole_words: ext_bool(ext, &["match_whole_words", "matchWholeWords"]),
        use_regex: e.use_regex,
        scan_depth: deco.scan_depth.or_else(|| ext_u32(ext, &["scan_depth", "scanDepth"])),
        probability,
        sticky: ext_u32(ext, &["sticky"]).unwrap_or(0).min(MAX_TIMED),
        cooldown: ext_u32(ext, &["cooldown"]).unwrap_or(0).min(MAX_TIMED),
        delay: ext_u32(ext, &["delay"]).unwrap_or(0).min(MAX_TIMED),
        exclude_recursion: ext_bool(ext, &["exclude_recursion", "excludeRecursion"]).unwrap_or(false),
        prevent_recursion: ext_bool(ext, &["prevent_recursion", "preventRecursion"]).unwrap_or(false),
        delay_until_recursion: ext_bool(ext, &["delay_until_recursion", "delayUntilRecursion"])
            .unwrap_or(false),
        decorators: deco,
    }
}

/// First of `names` present as an integer (numbers or numeric strings).
pub(crate) fn ext_i64(ext: &Map<String, Value>, names: &[&str]) -> Option<i64> {
    names.iter().find_map(|n| match ext.get(*n)? {
        Value::Number(num) => num.as_i64().or_else(|| num.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    })
}

pub(crate) fn ext_u32(ext: &Map<String, Value>, names: &[&str]) -> Option<u32> {
    ext_i64(ext, names).map(|n| n.clamp(0, i64::from(u32::MAX)) as u32)
}

pub(crate) fn ext_bool(ext: &Map<String, Value>, names: &[&str]) -> Option<bool> {
    names.iter().find_map(|n| match ext.get(*n)? {
        Value::Bool(b) => Some(*b),
        Value::Number(num) => num.as_i64().map(|i| i != 0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(v: Value) -> BookEntry {
        serde_json::from_value(v).unwrap_or_default()
    }

    #[test]
    fn st_extensions_are_read() {
        let e = entry(json!({
            "keys": ["a"], "content": "x", "id": 7, "insertion_order": 5,
            "extensions": {"position": 4, "depth": 2, "role": 1, "probability": 40,
                "useProbability": true, "selectiveLogic": 3, "sticky": 2, "cooldown": "3",
                "match_whole_words": false, "exclude_recursion": true}
        }));
        let r = resolve_entry(&e, "card", 0);
        assert_eq!(r.uid, "card#7");
        assert_eq!(r.position, Position::AtDepth { depth: 2, role: LoreRole::User });
        assert_eq!(r.probability, 40);
        assert_eq!(r.logic, SelectiveLogic::AndAll);
        assert_eq!((r.sticky, r.cooldown), (2, 3));
        assert_eq!(r.whole_words, Some(false));
        assert!(r.exclude_recursion);
    }

    #[test]
    fn decorators_override_fields() {
        let e = entry(json!({
            "keys": ["a"], "content": "@@depth 1\n@@role assistant\n@@scan_depth 6\nLore text",
            "position": "after_char"
        }));
        let r = resolve_entry(&e, "b", 3);
        assert_eq!(r.uid, "b#i3");
        assert_eq!(r.content, "Lore text");
        assert_eq!(r.position, Position::AtDepth { depth: 1, role: LoreRole::Assistant });
        assert_eq!(r.scan_depth, Some(6));
    }

    #[test]
    fn probability_off_means_always() {
        let e = entry(json!({"keys": ["a"], "content": "x",
            "extensions": {"probability": 10, "useProbability": false}}));
        assert_eq!(resolve_entry(&e, "b", 0).probability, 100);
    }
}
