//! Placing the author's note and depth lore inside the history.
//!
//! Depth counts kept messages from the newest: 0 goes after the last
//! message, 1 before it, and a depth past the oldest goes before the
//! oldest. Insertions at the same place with the same role are merged into
//! one message.

use super::message::{Part, PromptMessage, Role};

/// Something to insert at a depth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insert {
    pub depth: u32,
    pub role: Role,
    pub part: Part,
    pub text: String,
}

/// Weaves `inserts` (in priority order: earlier ones go first at a shared
/// depth) into `history` (oldest first).
pub fn weave(history: Vec<PromptMessage>, inserts: &[Insert]) -> Vec<PromptMessage> {
    let n = history.len();
    let at = |ins: &Insert| n.saturating_sub(ins.depth as usize);
    let mut out = Vec::with_capacity(n + inserts.len());
    let mut hist = history.into_iter();
    for k in 0..=n {
        let mut group: Vec<PromptMessage> = Vec::new();
        for ins in inserts.iter().filter(|i| at(i) == k && !i.text.trim().is_empty()) {
            match group.last_mut() {
                Some(last) if last.role == ins.role && last.part == ins.part => {
                    last.content.push('\n');
                    last.content.push_str(&ins.text);
                }
                _ => group.push(PromptMessage { role: ins.role, content: ins.text.clone(), name: None, part: ins.part }),
            }
        }
        out.extend(group);
        if let Some(m) = hist.next() {
            out.push(m);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(i: usize) -> PromptMessage {
        PromptMessage { role: Role::User, content: format!("m{i}"), name: None, part: Part::History(i) }
    }

    fn ins(depth: u32, text: &str) -> Insert {
        Insert { depth, role: Role::System, part: Part::Lore, text: text.into() }
    }

    fn contents(v: &[PromptMessage]) -> Vec<String> {
        v.iter().map(|m| m.content.clone()).collect()
    }

    #[test]
    fn depths() {
        let hist = vec![h(0), h(1), h(2)];
        let out = weave(hist, &[ins(0, "end"), ins(1, "d1"), ins(9, "top"), ins(1, "d1b")]);
        assert_eq!(contents(&out), vec!["top", "m0", "m1", "d1\nd1b", "m2", "end"]);
    }

    #[test]
    fn empty_history() {
        let out = weave(Vec::new(), &[ins(4, "x")]);
        assert_eq!(contents(&out), vec!["x"]);
    }
}
