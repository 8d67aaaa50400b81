//! JSON read one byte at a time against a compiled schema. Every prefix it
//! accepts can still be completed into a value the schema allows (keys left
//! to give, a string's minimum length, an array's item count are all
//! checked before the byte that would close too soon), so a reply whose
//! tokens are kept to accepted bytes never ends up stuck.
//!
//! A `Matcher` that refused a byte is left in no useful state: callers feed
//! a copy when they only ask.

use super::schema::{Schema, ANY_NODE, ARRAY, BOOLEAN, INTEGER, NULL, NUMBER, OBJECT, STRING};

/// Whitespace bytes in a row between tokens: enough to indent, too few to
/// let a model pad a reply to its length limit.
const MAX_SPACE: u8 = 24;
/// Characters of one number (digits, sign, point, exponent).
const MAX_NUMBER: u8 = 32;
/// Open values at once: a schema needs at most about half (its own depth is
/// bounded), and parsers refuse deeper nesting (serde_json at 128). Where a
/// value may be anything, past this it is a string, number or literal.
const MAX_NESTING: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ObjAt {
    /// After `{`: a key or `}`.
    Open,
    /// After `,`: a key.
    Key,
    /// After a key: `:`.
    Colon,
    /// After a value: `,` or `}`.
    Next,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NumAt {
    Start,
    Minus,
    Zero,
    Int,
    Dot,
    Frac,
    Exp,
    ExpSign,
    ExpDigits,
    /// Two exponent digits: a third would overflow a double (or nearly).
    ExpDigits2,
}

impl NumAt {
    fn complete(self) -> bool {
        matches!(self, NumAt::Zero | NumAt::Int | NumAt::Frac | NumAt::ExpDigits | NumAt::ExpDigits2)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// A value of this node comes next.
    Value(u32),
    /// `seen`: bits of the listed keys given; `pending`: the node of the
    /// value after the key just read.
    Object { node: u32, seen: u64, at: ObjAt, pending: u32 },
    /// `next`: a value was given (`,` or `]` come next).
    Array { node: u32, count: u32, next: bool },
    /// Inside a string, after its opening quote. `esc`: 0 none, 1 after a
    /// backslash, 2..=5 hex digits of a `\u` escape still to come (+1), 6
    /// the second digit after a first `d`, which must keep the escape out
    /// of the surrogates (a lone one is not text, and parsers refuse it).
    /// `utf8`: continuation bytes the character being written still needs.
    Str { min: u32, max: u32, len: u32, esc: u8, key: bool, utf8: Utf8 },
    /// One of a literal set (enum values, listed keys, true/false/null):
    /// `cand` the candidates still matching after `pos` bytes.
    Lit { set: u32, cand: u64, pos: u32, key: bool },
    Num { integer: bool, at: NumAt, len: u8 },
}

/// Where a UTF-8 character stands: continuation bytes still to come, and
/// the range the next one must lie in (narrower after E0, ED, F0 and F4,
/// which would otherwise allow overlong forms and surrogates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Utf8 {
    left: u8,
    lo: u8,
    hi: u8,
}

impl Utf8 {
    /// After byte `b` (not in an escape): the new state, or None when `b`
    /// cannot come here.
    fn after(self, b: u8) -> Option<Utf8> {
        let next = |left, lo, hi| Some(Utf8 { left, lo, hi });
        if self.left > 0 {
            return (self.lo..=self.hi).contains(&b).then_some(Utf8 { left: self.left - 1, lo: 0x80, hi: 0xbf });
        }
        match b {
            0x00..=0x7f => next(0, 0, 0),
            0xc2..=0xdf => next(1, 0x80, 0xbf),
            0xe0 => next(2, 0xa0, 0xbf),
            0xed => next(2, 0x80, 0x9f),
            0xe1..=0xef => next(2, 0x80, 0xbf),
            0xf0 => next(3, 0x90, 0xbf),
            0xf1..=0xf3 => next(3, 0x80, 0xbf),
            0xf4 => next(3, 0x80, 0x8f),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Matcher {
    stack: Vec<Frame>,
    space: u8,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn first_bits(n: usize) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

impl Matcher {
    pub fn new(schema: &Schema) -> Self {
        Matcher { stack: vec![Frame::Value(schema.root)], space: 0 }
    }

    /// The value is complete: nothing more belongs to it.
    pub fn done(&self) -> bool {
        self.stack.is_empty()
    }

    /// The reply may end here: the value is complete, or it is a number or
    /// literal that could end here as well as go on (`12` of `123`).
    pub fn can_end(&self, schema: &Schema) -> bool {
        match self.stack.as_slice() {
            [] => true,
            [Frame::Num { at, .. }] => at.complete(),
            [Frame::Lit { set, cand, pos, .. }] => exact(schema, *set, *cand, *pos).is_some(),
            _ => false,
        }
    }

    fn space(&mut self) -> bool {
        self.space += 1;
        self.space <= MAX_SPACE
    }

    /// Whether `b` may come next; when it may, it is taken.
    pub fn feed(&mut self, s: &Schema, b: u8) -> bool {
        if !is_space(b) {
            self.space = 0;
        }
        loop {
            let Some(top) = self.stack.last_mut() else {
                return is_space(b) && self.space();
            };
            match *top {
                Frame::Value(node) => {
                    if is_space(b) {
                        return self.space();
                    }
                    let n = s.node(node);
                    if let Some(set) = n.literals {
                        *top = Frame::Lit { set, cand: first_bits(s.literal_set(set).len()), pos: 0, key: false };
                        continue;
                    }
                    let k = n.kinds;
                    let room = self.stack.len() < MAX_NESTING;
                    let Some(top) = self.stack.last_mut() else { return false };
                    *top = match b {
                        b'{' if k & OBJECT != 0 && room => Frame::Object { node, seen: 0, at: ObjAt::Open, pending: ANY_NODE },
                        b'[' if k & ARRAY != 0 && room => Frame::Array { node, count: 0, next: false },
                        b'"' if k & STRING != 0 => Frame::Str { min: n.min_len, max: n.max_len, len: 0, esc: 0, key: false, utf8: Utf8::default() },
                        b'-' | b'0'..=b'9' if k & (NUMBER | INTEGER) != 0 => {
                            *top = Frame::Num { integer: k & NUMBER == 0, at: NumAt::Start, len: 0 };
                            continue;
                        }
                        b't' | b'f' if k & BOOLEAN != 0 => {
                            *top = Frame::Lit { set: Schema::BOOLEAN_SET, cand: 0b11, pos: 0, key: false };
                            continue;
                        }
                        b'n' if k & NULL != 0 => {
                            *top = Frame::Lit { set: Schema::NULL_SET, cand: 1, pos: 0, key: false };
                            continue;
                        }
                        _ => return false,
                    };
                    return true;
                }
                Frame::Object { node, seen, at, pending } => {
                    if is_space(b) {
                        return self.space();
                    }
                    let n = s.node(node);
                    let unseen = first_bits(n.values.len()) & !seen;
                    let may_close = n.required & !seen == 0;
                    match (at, b) {
                        (ObjAt::Open | ObjAt::Key, b'"') => {
                            *top = Frame::Object { node, seen, at: ObjAt::Colon, pending };
                            match n.keys {
                                Some(set) => {
                                    self.stack.push(Frame::Lit { set, cand: unseen, pos: 0, key: true });
                                    continue;
                                }
                                None => self.stack.push(Frame::Str { min: 0, max: u32::MAX, len: 0, esc: 0, key: true, utf8: Utf8::default() }),
                            }
                            return true;
                        }
                        (ObjAt::Open, b'}') | (ObjAt::Next, b'}') if may_close => {
                            self.stack.pop();
                            return true;
                        }
                        (ObjAt::Next, b',') if n.keys.is_none() || unseen != 0 => {
                            *top = Frame::Object { node, seen, at: ObjAt::Key, pending };
                            return true;
                        }
                        (ObjAt::Colon, b':') => {
                            *top = Frame::Object { node, seen, at: ObjAt::Next, pending };
                            self.stack.push(Frame::Value(pending));
                            return true;
                        }
                        _ => return false,
                    }
                }
                Frame::Array { node, count, next } => {
                    if is_space(b) {
                        return self.space();
                    }
                    let n = s.node(node);
                    match (next, b) {
                        (false, b']') if n.min_items == 0 => {
                            self.stack.pop();
                            return true;
                        }
                        (false, _) if n.max_items >= 1 => {
                            *top = Frame::Array { node, count: 1, next: true };
                            self.stack.push(Frame::Value(n.items));
                            continue;
                        }
                        (true, b',') if count < n.max_items => {
                            *top = Frame::Array { node, count: count + 1, next: true };
                            self.stack.push(Frame::Value(n.items));
                            return true;
                        }
                        (true, b']') if count >= n.min_items => {
                            self.stack.pop();
                            return true;
                        }
                        _ => return false,
                    }
                }
                Frame::Str { min, max, len, esc, key, utf8 } => {
                    if utf8.left > 0 {
                        let Some(utf8) = utf8.after(b) else { return false };
                        *top = Frame::Str { min, max, len, esc, key, utf8 };
                        return true;
                    }
                    let (len, esc) = match (esc, b) {
                        (1, b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => (len, 0),
                        (1, b'u') => (len, 5),
                        (1, _) => return false,
                        (5, b'd' | b'D') => (len, 6),
                        (6, b'0'..=b'7') => (len, 3),
                        (6, _) => return false,
                        (2..=5, _) if b.is_ascii_hexdigit() => (len, if esc == 2 { 0 } else { esc - 1 }),
                        (2..=5, _) => return false,
                        (_, b'"') => {
                            if len < min {
                                return false;
                            }
                            self.stack.pop();
                            if key {
                                self.read_key(s, None);
                            }
                            return true;
                        }
                        (_, 0..=0x1f) => return false,
                        (_, _) if len >= max => return false,
                        (_, b'\\') => (len + 1, 1),
                        (_, _) => {
                            let Some(utf8) = utf8.after(b) else { return false };
                            *top = Frame::Str { min, max, len: len + 1, esc: 0, key, utf8 };
                            return true;
                        }
                    };
                    *top = Frame::Str { min, max, len, esc, key, utf8 };
                    return true;
                }
                Frame::Lit { set, cand, pos, key } => {
                    let lits = s.literal_set(set);
                    let mut next = 0u64;
                    for (i, l) in lits.iter().enumerate().take(64) {
                        if cand & (1 << i) != 0 && l.get(pos as usize) == Some(&b) {
                            next |= 1 << i;
                        }
                    }
                    if next != 0 {
                        let pos = pos + 1;
                        *top = Frame::Lit { set, cand: next, pos, key };
                        // A literal no other candidate goes on from is complete now
                        // (strings and keys always: they end in a quote).
                        if let Some(i) = exact(s, set, next, pos) {
                            if next.count_ones() == 1 {
                                self.stack.pop();
                                if key {
                                    self.read_key(s, Some(i));
                                }
                            }
                        }
                        return true;
                    }
                    // Not a continuation: a literal that is complete ends here and
                    // the byte belongs to what holds it.
                    match exact(s, set, cand, pos) {
                        Some(i) => {
                            self.stack.pop();
                            if key {
                                self.read_key(s, Some(i));
                            }
                            continue;
                        }
                        None => return false,
                    }
                }
                Frame::Num { integer, at, len } => {
                    let digit = b.is_ascii_digit();
                    let next = match (at, b) {
                        (NumAt::Start, b'-') => Some(NumAt::Minus),
                        (NumAt::Start | NumAt::Minus, b'0') => Some(NumAt::Zero),
                        (NumAt::Start | NumAt::Minus, b'1'..=b'9') => Some(NumAt::Int),
                        (NumAt::Int, _) if digit => Some(NumAt::Int),
                        (NumAt::Zero | NumAt::Int, b'.') if !integer => Some(NumAt::Dot),
                        (NumAt::Dot | NumAt::Frac, _) if digit => Some(NumAt::Frac),
                        (NumAt::Zero | NumAt::Int | NumAt::Frac, b'e' | b'E') if !integer => Some(NumAt::Exp),
                        (NumAt::Exp, b'+' | b'-') => Some(NumAt::ExpSign),
                        (NumAt::Exp | NumAt::ExpSign, _) if digit => Some(NumAt::ExpDigits),
                        (NumAt::ExpDigits, _) if digit => Some(NumAt::ExpDigits2),
                        _ => None,
                    };
                    // A number left incomplete (`1e`) needs one more character: room for it
                    // is kept, or the number could not end.
                    let room = |at: NumAt| usize::from(len) + if at.complete() { 1 } else { 2 } <= usize::from(MAX_NUMBER);
                    match next {
                        Some(at) if room(at) => {
                            *top = Frame::Num { integer, at, len: len + 1 };
                            return true;
                        }
                        Some(_) => return false,
                        None if at.complete() => {
                            self.stack.pop();
                            continue;
                        }
                        None => return false,
                    }
                }
            }
        }
    }

    /// A key was read (the `i`-th listed one, or any key): its object
    /// expects `:` and that key's value.
    fn read_key(&mut self, s: &Schema, listed: Option<usize>) {
        if let Some(Frame::Object { node, seen, pending, .. }) = self.stack.last_mut() {
            let n = s.node(*node);
            match listed {
                Some(i) => {
                    *seen |= 1 << i;
                    *pending = n.values[i];
                }
                None => *pending = n.any_key,
            }
        }
    }
}

/// The candidate of `cand` that is exactly `pos` bytes long, if any.
fn exact(s: &Schema, set: u32, cand: u64, pos: u32) -> Option<usize> {
    s.literal_set(set).iter().enumerate().take(64).find(|(i, l)| cand & (1 << i) != 0 && l.len() == pos as usize).map(|(i, _)| i)
}
