//! Card macros: `{{char}}`, `{{user}}`, `<BOT>`, `<USER>`, `{{random:…}}`,
//! `{{pick:…}}`, `{{roll:…}}`, `{{// comment}}`, `{{trim}}`, and splitting
//! example dialogues on `<START>`.
//!
//! Expansion is a single pass: text produced by a macro (a user name, a
//! random choice) is never scanned again, so a name such as `{{user}}` stays
//! literal and nothing can expand without end. Macros may nest inside
//! another macro's arguments (`{{random:{{char}},{{user}}}}`) up to
//! [`MAX_DEPTH`] levels, and the total growth of the text is capped at
//! [`MAX_GROWTH`] bytes; past either limit macros are left as written.
//!
//! Randomness comes from [`Rng`](crate::rng::Rng) and the seeds the caller passes in,
//! so results are reproducible.

use crate::rng::Rng;

/// Deepest nesting of macros inside macro arguments that is expanded.
pub const MAX_DEPTH: usize = 8;

/// Most bytes expansion may add to a text.
pub const MAX_GROWTH: usize = 4 * 1024 * 1024;

/// Most dice in one `{{roll}}`, and most sides per die.
const MAX_DICE: u64 = 1000;
const MAX_SIDES: u64 = 1_000_000;

/// Names and seeds for one expansion.
#[derive(Debug, Clone, Copy)]
pub struct MacroContext<'a> {
    /// What `{{char}}` and `<BOT>` become.
    pub char_name: &'a str,
    /// What `{{user}}` and `<USER>` become.
    pub user_name: &'a str,
    /// Fixed for a chat: `{{pick}}` depends only on it, the macro's place in
    /// the text and its options, so it picks the same every time in a chat.
    pub chat_seed: u64,
    /// Varies per generation: feeds `{{random}}` and `{{roll}}`.
    pub seed: u64,
}

/// Expands the macros in `text`.
pub fn expand(text: &str, ctx: &MacroContext<'_>) -> String {
    let Some(pairs) = brace_pairs(text) else {
        return text.to_string();
    };
    let mut ex = Expander {
        text,
        pairs,
        ctx,
        rng: Rng::new(ctx.seed),
        budget: MAX_GROWTH,
    };
    let mut out = String::with_capacity(text.len());
    ex.expand_range(0, text.len(), 0, &mut out);
    out
}

/// Matches `{{` with `}}` in one pass, as (open, close) byte offsets sorted
/// by `open`. Tokens are read left to right, two bytes at a time for braces,
/// exactly as [`Expander::expand_range`] walks them. `None` for texts too long
/// for 32-bit offsets.
fn brace_pairs(text: &str) -> Option<Vec<(u32, u32)>> {
    u32::try_from(text.len()).ok()?;
    let b = text.as_bytes();
    let (mut stack, mut pairs) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < b.len() {
        match (b.get(i), b.get(i + 1)) {
            (Some(b'{'), Some(b'{')) => {
                stack.push(i as u32);
                i += 2;
            }
            (Some(b'}'), Some(b'}')) => {
                if let Some(open) = stack.pop() {
                    pairs.push((open, i as u32));
                }
                i += 2;
            }
            _ => i += 1,
        }
    }
    pairs.sort_unstable();
    Some(pairs)
}

struct Expander<'a, 'c> {
    text: &'a str,
    pairs: Vec<(u32, u32)>,
    ctx: &'c MacroContext<'c>,
    rng: Rng,
    /// Bytes expansion may still add.
    budget: usize,
}

enum Outcome {
    Text(String),
    Remove,
    Trim,
}

impl Expander<'_, '_> {
    fn close_of(&self, open: usize) -> Option<usize> {
        let open = u32::try_from(open).ok()?;
        let idx = self.pairs.binary_search_by_key(&open, |p| p.0).ok()?;
        self.pairs.get(idx).map(|p| p.1 as usize)
    }

    fn slice(&self, start: usize, end: usize) -> &str {
        self.text.get(start..end).unwrap_or_default()
    }

    fn expand_range(&mut self, start: usize, end: usize, depth: usize, out: &mut String) {
        let b = self.text.as_bytes();
        let (mut i, mut lit) = (start, start);
        let mut trim_next = false;
        let flush = |out: &mut String, s: &str, trim_next: &mut bool| {
            if *trim_next {
                let t = s.trim_start();
                if !t.is_empty() {
                    *trim_next = false;
                }
                out.push_str(t);
            } else {
                out.push_str(s);
            }
        };
        while i < end {
            match (b.get(i), b.get(i + 1)) {
                (Some(b'{'), Some(b'{')) => {
                    let Some(close) = self.close_of(i).filter(|&c| c + 2 <= end) else {
                        i += 2;
                        continue;
                    };
                    flush(out, self.slice(lit, i), &mut trim_next);
                    match self.expand_macro(i, close, depth) {
                        Outcome::Text(s) => {
                            trim_next = false;
                            out.push_str(&s);
                        }
                        Outcome::Remove => {}
                        Outcome::Trim => {
                            out.truncate(out.trim_end().len());
                            trim_next = true;
                        }
                    }
                    i = close + 2;
                    lit = i;
                }
                (Some(b'}'), Some(b'}')) => i += 2,
                (Some(b'<'), _) => {
                    let rest = self.slice(i, end);
                    let alias = [
                        ("<bot>", self.ctx.char_name),
                        ("<user>", self.ctx.user_name),
                    ]
                    .into_iter()
                    .find(|(tag, _)| {
                        rest.get(..tag.len())
                            .is_some_and(|r| r.eq_ignore_ascii_case(tag))
                    });
                    match alias {
                        Some((tag, name)) if self.spend(name.len()) => {
                            flush(out, self.slice(lit, i), &mut trim_next);
                            trim_next = false;
                            out.push_str(name);
                            i += tag.len();
                            lit = i;
                        }
                        _ => i += 1,
                    }
                }
                _ => i += 1,
            }
        }
        flush(out, self.slice(lit, end), &mut trim_next);
    }

    /// Takes `n` bytes from the growth budget, if there are that many left.
    fn spend(&mut self, n: usize) -> bool {
        match self.budget.checked_sub(n) {
            Some(left) => {
                self.budget = left;
                true
            }
            None => false,
        }
    }

    fn expand_macro(&mut self, open: usize, close: usize, depth: usize) -> Outcome {
        let raw = self.slice(open + 2, close);
        if raw.trim_start().starts_with("//") {
            return Outcome::Remove;
        }
        if depth >= MAX_DEPTH {
            return Outcome::Text(self.slice(open, close + 2).to_string());
        }
        let mut body = String::with_capacity(raw.len());
        self.expand_range(open + 2, close, depth + 1, &mut body);
        match self.evaluate(&body, open) {
            Some(Outcome::Text(s)) if !self.spend(s.len()) => {
                Outcome::Text(format!("{{{{{body}}}}}"))
            }
            Some(outcome) => outcome,
            None => Outcome::Text(format!("{{{{{body}}}}}")),
        }
    }

    /// The value of one macro body, `None` when it is not a known macro.
    fn evaluate(&mut self, body: &str, position: usize) -> Option<Outcome> {
        let trimmed = body.trim();
        let (name, args) = match trimmed.find(':') {
            Some(at) => (trimmed.get(..at)?, Some(trimmed.get(at + 1..)?)),
            None => (trimmed, None),
        };
        let text = |s: &str| Some(Outcome::Text(s.to_string()));
        match (name.trim().to_ascii_lowercase().as_str(), args) {
            ("char", None) => text(self.ctx.char_name),
            ("user", None) => text(self.ctx.user_name),
            ("trim", None) => Some(Outcome::Trim),
            ("random", Some(args)) => {
                let options = split_options(args);
                let i = self.rng.below(options.len() as u64) as usize;
                Some(Outcome::Text(
                    options.get(i).map(|s| s.to_string()).unwrap_or_default(),
                ))
            }
            ("pick", Some(args)) => {
                let options = split_options(args);
                let mut rng = Rng::new(
                    self.ctx.chat_seed ^ fnv1a(&position.to_le_bytes()) ^ fnv1a(body.as_bytes()),
                );
                let i = rng.below(options.len() as u64) as usize;
                Some(Outcome::Text(
                    options.get(i).map(|s| s.to_string()).unwrap_or_default(),
                ))
            }
            ("roll", Some(args)) => roll(args, &mut self.rng).map(|n| Outcome::Text(n.to_string())),
            _ => None,
        }
    }
}

/// `a,b,c` or, when the text after the colon starts with another colon,
/// `:a::b::c` (the form that allows commas inside options).
fn split_options(args: &str) -> Vec<&str> {
    let parts: Vec<&str> = match args.strip_prefix(':') {
        Some(rest) => rest.split("::").collect(),
        None => args.split(',').collect(),
    };
    if parts.len() == 1 && parts.first().is_some_and(|p| p.trim().is_empty()) {
        return Vec::new();
    }
    parts.into_iter().map(str::trim).collect()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Rolls dice written as `d20`, `2d6`, `2d6+3`, `1d8-1` or a bare `20` (one
/// die of that many sides). `None` for anything else or absurd sizes.
fn roll(spec: &str, rng: &mut Rng) -> Option<i64> {
    let spec: String = spec
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let (dice, modifier) = match spec.find(['+', '-']) {
        Some(at) => (spec.get(..at)?, spec.get(at..)?.parse::<i64>().ok()?),
        None => (spec.as_str(), 0),
    };
    let (count, sides) = match dice.split_once('d') {
        Some(("", sides)) => (1, sides.parse::<u64>().ok()?),
        Some((count, sides)) => (count.parse::<u64>().ok()?, sides.parse::<u64>().ok()?),
        None => (1, dice.parse::<u64>().ok()?),
    };
    if !(1..=MAX_DICE).contains(&count)
        || !(1..=MAX_SIDES).contains(&sides)
        || modifier.unsigned_abs() > 1_000_000_000
    {
        return None;
    }
    let total: u64 = (0..count).map(|_| rng.below(sides) + 1).sum();
    i64::try_from(total).ok()?.checked_add(modifier)
}

/// Splits `mes_example` into example dialogues at each `<START>` (any case),
/// trimmed, empty ones dropped.
pub fn split_examples(mes_example: &str) -> Vec<String> {
    const MARK: &str = "<start>";
    let lower = mes_example.to_ascii_lowercase();
    let mut blocks = Vec::new();
    let mut from = 0;
    // Lower-casing ASCII keeps byte offsets, so offsets in `lower` index `mes_example`.
    while let Some(at) = lower.get(from..).and_then(|s| s.find(MARK)) {
        blocks.push(mes_example.get(from..from + at).unwrap_or_default());
        from += at + MARK.len();
    }
    blocks.push(mes_example.get(from..).unwrap_or_default());
    blocks
        .into_iter()
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(str::to_string)
        .collect()
}
