//! Choosing what fits the context budget.
//!
//! Fixed parts always go in: the context block (system prompt, lore,
//! persona, character), pinned memories, the greeting, pinned messages,
//! the newest message, the author's note, depth lore and post-history
//! instructions. What is left is filled in this order: unpinned memories,
//! then history from the newest message back (the oldest is cut first, and
//! the cut is one clean point), then example dialogues in their order with
//! the space left — so examples give way one by one as the chat grows, and
//! are gone once any history has to be cut.

/// Costs of everything that competes for space, in tokens.
#[derive(Debug, Clone, Default)]
pub struct Costs {
    pub fixed: usize,
    /// Unpinned memories, in order.
    pub memories: Vec<usize>,
    /// Header cost paid with the first memory (0 when pinned ones already pay it).
    pub memories_header: usize,
    /// History messages that may be cut, newest first: (history index, cost).
    pub history: Vec<(usize, usize)>,
    /// Example dialogues, in order.
    pub examples: Vec<usize>,
    /// Header cost paid with the first example.
    pub examples_header: usize,
}

/// What fits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Positions in `Costs::memories` kept.
    pub memories: Vec<usize>,
    /// History indices kept (among the cuttable ones).
    pub history: Vec<usize>,
    /// How many examples are kept (always a prefix).
    pub examples: usize,
}

pub fn select(costs: &Costs, budget: usize) -> Selection {
    let mut left = budget.saturating_sub(costs.fixed);
    let mut sel = Selection::default();

    let mut header_paid = costs.memories_header == 0;
    for (i, &c) in costs.memories.iter().enumerate() {
        let need = c + if header_paid { 0 } else { costs.memories_header };
        if need <= left {
            left -= need;
            header_paid = true;
            sel.memories.push(i);
        }
    }

    for &(index, c) in &costs.history {
        if c > left {
            // History that does not fit matters more than examples.
            return sel;
        }
        left -= c;
        sel.history.push(index);
    }

    for (i, &c) in costs.examples.iter().enumerate() {
        let need = c + if i == 0 { costs.examples_header } else { 0 };
        if need > left {
            break;
        }
        left -= need;
        sel.examples += 1;
    }
    sel
}

#[cfg(test)]
mod tests {
    use super::*;

    fn costs() -> Costs {
        Costs {
            fixed: 50,
            memories: vec![10, 30, 5],
            memories_header: 2,
            history: vec![(9, 10), (8, 10), (7, 10), (6, 10)],
            examples: vec![10, 10],
            examples_header: 3,
        }
    }

    #[test]
    fn everything_fits() {
        let s = select(&costs(), 1000);
        assert_eq!(s.memories, vec![0, 1, 2]);
        assert_eq!(s.history, vec![9, 8, 7, 6]);
        assert_eq!(s.examples, 2);
    }

    #[test]
    fn examples_go_first_then_oldest_history() {
        // 50 fixed + 47 memories (with header) + 40 history = 137; room for one example (13).
        let s = select(&costs(), 150);
        assert_eq!(s.examples, 1);
        let s = select(&costs(), 140);
        assert_eq!(s.examples, 0);
        assert_eq!(s.history, vec![9, 8, 7, 6]);
        let s = select(&costs(), 120);
        assert_eq!(s.history, vec![9, 8], "oldest history is cut first");
    }

    #[test]
    fn cut_is_one_point() {
        let mut c = costs();
        c.history = vec![(3, 5), (2, 100), (1, 1), (0, 1)];
        c.memories.clear();
        let s = select(&c, 70);
        assert_eq!(s.history, vec![3], "a small old message must not jump over the cut");
    }

    #[test]
    fn fixed_over_budget_leaves_nothing_else() {
        let s = select(&costs(), 10);
        assert_eq!(s, Selection::default());
    }
}
