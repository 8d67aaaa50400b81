//! Turn discipline: where a character's reply ends. One rule for the app,
//! the widget, rooms, the CLI and the quality harness: a reply stops where
//! another speaker's turn begins (the user's or persona's name, any other
//! member's, a role label, a chat template's markup), a reply cut at the
//! token limit loses its dangling half-sentence, and control tokens never
//! show.

use serde::{Deserialize, Serialize};

/// Chat-template markup a reply must never show. Anything from one of these
/// on belongs to another turn.
pub const CONTROL_MARKERS: &[&str] = &[
    "<|im_start|>",
    "<|im_end|>",
    "<|endoftext|>",
    "<|eot_id|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|begin_of_text|>",
    "<|end|>",
    "<|user|>",
    "<|assistant|>",
    "<|system|>",
    "<start_of_turn>",
    "<end_of_turn>",
    "<bos>",
    "<eos>",
    "</s>",
    "[INST]",
    "[/INST]",
    "<START>",
];

/// Role labels small models write when they start someone else's turn.
pub const ROLE_LABELS: &[&str] = &["User", "You", "Human", "Assistant", "AI", "System", "{{user}}", "{{char}}"];

/// Who takes part in the chat: the character replying, the person, and any
/// other members (a room's characters, the narrator).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Speakers {
    pub char_name: String,
    pub user_name: String,
    pub others: Vec<String>,
}

/// Why a reply ended, as the engine reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// The model ended its turn (end-of-turn token).
    #[default]
    Eos,
    /// A stop string (another speaker's turn) cut it.
    Stop,
    /// The token limit cut it.
    MaxTokens,
    /// The context window filled up.
    ContextFull,
    /// The person stopped it.
    User,
}

impl Ending {
    /// The engine's and the worker's names for it; anything else is `Eos`.
    pub fn parse(s: &str) -> Ending {
        match s {
            "stop" => Ending::Stop,
            "max_tokens" => Ending::MaxTokens,
            "context_full" => Ending::ContextFull,
            "user" | "cancelled" => Ending::User,
            _ => Ending::Eos,
        }
    }

    /// True when the reply was cut short rather than finished.
    pub fn truncated(self) -> bool {
        matches!(self, Ending::MaxTokens | Ending::ContextFull)
    }
}

/// What [`finish`] did to a reply, for the harness to show.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Finished {
    pub text: String,
    /// Template markup was found and cut.
    pub control: bool,
    /// Another speaker's turn was found and cut (the label that began it).
    pub other_turn: Option<String>,
    /// A half-sentence after the token limit was dropped.
    pub dangling: bool,
}

impl Speakers {
    /// Names whose `Name:` at a line start begins another turn: the user,
    /// the other members, the character itself (a second turn of its own
    /// means the model is writing a transcript), and the generic labels.
    fn labels(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let names = [&self.user_name, &self.char_name].into_iter().chain(self.others.iter());
        for n in names.map(|n| n.trim()).chain(ROLE_LABELS.iter().copied()) {
            if !n.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(n)) {
                out.push(n.to_string());
            }
        }
        out
    }

    /// Stop strings for the engine: text that can only mean another turn
    /// began. The newest-first order matters to no one; at most 12.
    pub fn stop_strings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let user = self.user_name.trim();
        if !user.is_empty() {
            out.push(format!("\n{user}:"));
            out.push(format!("{user}:"));
            out.push(format!("({user})"));
            out.push(format!("\n*{user} "));
        }
        for label in ["User", "You"] {
            if !label.eq_ignore_ascii_case(user) {
                out.push(format!("\n{label}:"));
            }
        }
        let me = self.char_name.trim();
        if !me.is_empty() {
            out.push(format!("\n{me}:"));
            // The role-play layout's closing instruction, which a small model
            // echoes once it has answered (`ROLEPLAY_POST_HISTORY`).
            out.push(format!("[Reply as {me}"));
        }
        for other in self.others.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
            out.push(format!("\n{other}:"));
        }
        out.dedup();
        out.truncate(12);
        out
    }
}

/// The reply as it is shown and stored. `continuing`: the text continues a
/// message, so a leading `Name:` is not stripped and its leading space stays.
pub fn finish(raw: &str, ending: Ending, speakers: &Speakers, continuing: bool) -> Finished {
    let mut out = Finished::default();
    let mut text = without_thinking(raw);
    if let Some(at) = first_marker(&text) {
        text.truncate(at);
        out.control = true;
    }
    if !continuing {
        text = strip_own_label(&text, &speakers.char_name);
    }
    if let Some((at, label)) = find_other_turn(&text, speakers) {
        text.truncate(at);
        out.other_turn = Some(label);
    }
    if ending.truncated() && out.other_turn.is_none() && !out.control {
        if let Some(end) = last_sentence_end(&text) {
            if end < text.trim_end().len() {
                text.truncate(end);
                out.dangling = true;
            }
        }
    }
    out.text = if continuing { text.trim_end().to_string() } else { text.trim().to_string() };
    if out.text.matches('*').count() % 2 == 1 {
        // An action left open by a cut: close it rather than leave the
        // rest of the reply in italics.
        out.text.push('*');
    }
    out
}

/// The reply without a thinking model's `<think>…</think>` blocks (Qwen3
/// and its kin), which are neither shown nor sent back in the next prompt;
/// a block the reply never closed takes the rest of it.
pub fn without_thinking(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("<think>") {
        out.push_str(&rest[..at]);
        match rest[at..].find("</think>") {
            Some(end) => rest = &rest[at + end + "</think>".len()..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

/// Where in `text` another speaker's turn begins, and the label that
/// begins it.
pub fn find_other_turn(text: &str, speakers: &Speakers) -> Option<(usize, String)> {
    other_turn(text, &speakers.labels(), &speakers.char_name)
}

/// Where in `text` the first control marker is.
pub fn first_marker(text: &str) -> Option<usize> {
    CONTROL_MARKERS.iter().filter_map(|m| text.find(m)).min()
}

/// `Wren: Hello` -> `Hello`: the reply's own speaker label adds nothing.
fn strip_own_label(text: &str, char_name: &str) -> String {
    let t = text.trim_start();
    let name = char_name.trim();
    if !name.is_empty() {
        if let Some(rest) = strip_prefix_ci(t, name).and_then(|r| r.strip_prefix(':')) {
            return rest.trim_start().to_string();
        }
    }
    text.to_string()
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// Where another speaker's turn begins: a line starting with `Name:`,
/// `*Name ` (an action written for someone else), `(Name)` or `[Name]`;
/// or `User:`/the user's name followed by a colon anywhere. The character's
/// own label counts only after the first line.
fn other_turn(text: &str, labels: &[String], char_name: &str) -> Option<(usize, String)> {
    let user_like: Vec<&String> = labels.iter().filter(|l| !l.eq_ignore_ascii_case(char_name.trim())).collect();
    let mut best: Option<(usize, String)> = None;
    let mut consider = |at: usize, label: &str| {
        if best.as_ref().is_none_or(|(b, _)| at < *b) {
            best = Some((at, label.to_string()));
        }
    };
    let mut line_start = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let trimmed = line.trim_start();
        let lead = line.len() - trimmed.len();
        for label in labels {
            let own = label.eq_ignore_ascii_case(char_name.trim());
            if own && i == 0 {
                continue;
            }
            if starts_turn(trimmed, label, !own) {
                consider(line_start + lead, label);
            }
        }
        line_start += line.len();
    }
    // Mid-line, names as written: "... so I said. Sam: no way" starts the
    // user's turn, "*Sam sits down.*" writes the user's actions.
    for label in user_like {
        let action = !label.starts_with("{{") && !label.eq_ignore_ascii_case("you");
        let patterns = [Some(format!("{label}:")), Some(format!("({label})")), action.then(|| format!("*{label} "))];
        for pat in patterns.iter().flatten() {
            let mut from = 0;
            while let Some(pos) = text[from..].find(pat.as_str()) {
                let at = from + pos;
                let before = text[..at].chars().last();
                if before.is_none_or(|c| c.is_whitespace() || matches!(c, '*' | '"' | '(' | '[')) {
                    consider(at, label);
                    break;
                }
                from = at + pat.len();
            }
        }
    }
    best
}

/// `Name:`, `(Name)`, `[Name]`, or for someone else `*Name ` at the start.
fn starts_turn(line: &str, label: &str, action: bool) -> bool {
    let after = |t: &str| strip_prefix_ci(t, label).map(str::to_string);
    if let Some(rest) = after(line) {
        if rest.starts_with(':') {
            return true;
        }
    }
    for (open, close) in [('(', ')'), ('[', ']')] {
        if let Some(rest) = line.strip_prefix(open).and_then(after) {
            if rest.starts_with(close) {
                return true;
            }
        }
    }
    if action {
        if let Some(rest) = line.strip_prefix('*').and_then(after) {
            return rest.starts_with(' ') && !label.starts_with("{{");
        }
    }
    false
}

/// The byte offset just past the last finished sentence (its terminator and
/// any closing quote, bracket or asterisk), if any.
fn last_sentence_end(text: &str) -> Option<usize> {
    let t = text.trim_end();
    let mut end = None;
    let mut chars = t.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if matches!(c, '.' | '!' | '?' | '…' | '。' | '！' | '？') {
            let mut stop = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if matches!(d, '.' | '!' | '?' | '"' | '\'' | '”' | '’' | ')' | ']' | '*' | '…') {
                    stop = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            let next = t[stop..].chars().next();
            if next.is_none_or(char::is_whitespace) {
                end = Some(stop);
            }
        }
    }
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who() -> Speakers {
        Speakers { char_name: "Wren".into(), user_name: "Sam".into(), others: vec!["Innkeeper".into()] }
    }

    fn fin(raw: &str, ending: Ending) -> Finished {
        finish(raw, ending, &who(), false)
    }

    #[test]
    fn another_speakers_turn_is_cut() {
        assert_eq!(fin("Hello there!\nSam: Hi Wren.", Ending::Eos).text, "Hello there!");
        assert_eq!(fin("Hello there!\n(User) I don't think so!", Ending::Eos).text, "Hello there!");
        assert_eq!(fin("Fine. User: and you?", Ending::Eos).text, "Fine.");
        assert_eq!(fin("Sure.\n\nWren: Why?\nSam: because", Ending::Eos).text, "Sure.");
        assert_eq!(fin("Tea?\nInnkeeper: We have none.", Ending::Eos).text, "Tea?");
        assert_eq!(fin("I wave. *Sam sits down on my lap.*", Ending::Eos).text, "I wave.");
        let f = fin("Hi!\n[Sam] hello", Ending::Eos);
        assert_eq!((f.text.as_str(), f.other_turn.as_deref()), ("Hi!", Some("Sam")));
    }

    #[test]
    fn a_thinking_block_is_never_shown() {
        assert_eq!(fin("<think>\nThe user greets me.\n</think>\n\nHello, Sam!", Ending::Eos).text, "Hello, Sam!");
        assert_eq!(fin("<think>\n\n</think>\n\nHi.", Ending::Eos).text, "Hi.");
        assert_eq!(fin("<think>I should say hi and", Ending::MaxTokens).text, "", "an unclosed block takes the rest");
        assert_eq!(fin("Hi. <think>aside</think>Bye.", Ending::Eos).text, "Hi. Bye.");
        assert_eq!(fin("I think, therefore I am.", Ending::Eos).text, "I think, therefore I am.");
    }

    #[test]
    fn the_characters_own_label_and_words_stay() {
        assert_eq!(fin("Wren: Hello, Sam!", Ending::Eos).text, "Hello, Sam!");
        assert_eq!(fin("*Wren smiles.* Samuel was my teacher: a good one.", Ending::Eos).text, "*Wren smiles.* Samuel was my teacher: a good one.");
        assert_eq!(fin("I asked you, Sam, what you meant.", Ending::Eos).other_turn, None);
    }

    #[test]
    fn control_markup_never_shows() {
        let f = fin("Of course.<|im_end|>\n<|im_start|>user\nthanks", Ending::Eos);
        assert_eq!(f.text, "Of course.");
        assert!(f.control);
        assert_eq!(fin("Yes<end_of_turn>", Ending::Eos).text, "Yes");
    }

    #[test]
    fn a_reply_cut_at_the_limit_loses_its_half_sentence() {
        let f = fin("I love the sea. It calms me. And when the tide", Ending::MaxTokens);
        assert_eq!(f.text, "I love the sea. It calms me.");
        assert!(f.dangling);
        assert_eq!(fin("\"Come in!\" she says. Then she", Ending::MaxTokens).text, "\"Come in!\" she says.");
        assert_eq!(fin("*She smiles.* And then", Ending::MaxTokens).text, "*She smiles.*");
        // Nothing finished: the text is all there is.
        assert_eq!(fin("And when the tide", Ending::MaxTokens).text, "And when the tide");
        // A reply that ended by itself keeps its last words.
        assert_eq!(fin("I love the sea. And you", Ending::Eos).text, "I love the sea. And you");
        assert_eq!(fin("Version 2.5 is out", Ending::MaxTokens).text, "Version 2.5 is out");
    }

    #[test]
    fn an_open_action_is_closed() {
        assert_eq!(fin("*She looks away", Ending::Eos).text, "*She looks away*");
    }

    #[test]
    fn a_continuation_keeps_its_leading_space() {
        let f = finish(" and the tide.\nSam: ok", Ending::Eos, &who(), true);
        assert_eq!(f.text, " and the tide.");
    }

    #[test]
    fn stop_strings_name_the_user_members_and_labels() {
        let s = who().stop_strings();
        for want in ["\nSam:", "Sam:", "(Sam)", "\nUser:", "\nYou:", "\nWren:", "[Reply as Wren", "\nInnkeeper:"] {
            assert!(s.contains(&want.to_string()), "{want:?} in {s:?}");
        }
        let named_user = Speakers { user_name: "User".into(), ..who() }.stop_strings();
        assert_eq!(named_user.iter().filter(|s| *s == "\nUser:").count(), 1);
        assert!(s.len() <= 12);
    }

    #[test]
    fn endings_parse_from_the_engines_names() {
        assert_eq!(Ending::parse("max_tokens"), Ending::MaxTokens);
        assert_eq!(Ending::parse("stop"), Ending::Stop);
        assert_eq!(Ending::parse("eos"), Ending::Eos);
        assert!(Ending::parse("context_full").truncated());
    }
}
