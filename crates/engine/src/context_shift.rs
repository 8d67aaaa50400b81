//! Context shift: which cached tokens a new prompt can keep beyond their
//! common prefix. When a chat outgrows the context, its prompt leaves out
//! old turns (or examples), and what sits before the history (a rolling
//! summary) changes; the turns after that are still in the cache, at
//! positions too high. They are kept, re-rotated into place, instead of
//! read again, as llama.cpp's server reuses cached chunks; the tokens
//! between them are read.

use std::collections::HashMap;

/// The shortest cached run that is kept: shorter matches are chance (a
/// repeated phrase), not the history the prompt goes on with.
pub const MIN_RUN: usize = 32;

/// `len` tokens the cache holds at `from` and the prompt has at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    pub at: usize,
    pub from: usize,
    pub len: usize,
}

/// The runs of at least `MIN_RUN` tokens, in order in both the prompt and
/// the cache, that the prompt takes from `cached` after their common first
/// `common` tokens. Greedy: at each prompt position the longest run at or
/// after the end of the previous one in the cache is taken.
pub fn runs(cached: &[u32], prompt: &[u32], common: usize) -> Vec<Run> {
    let mut out = Vec::new();
    if cached.len() < common + MIN_RUN || prompt.len() < common + MIN_RUN {
        return out;
    }
    // Cache positions by the MIN_RUN tokens that start there.
    let mut starts: HashMap<&[u32], Vec<usize>> = HashMap::new();
    for c in common..=cached.len() - MIN_RUN {
        starts.entry(&cached[c..c + MIN_RUN]).or_default().push(c);
    }
    let (mut p, mut floor) = (common, common);
    while p + MIN_RUN <= prompt.len() {
        let best = starts
            .get(&prompt[p..p + MIN_RUN])
            .into_iter()
            .flatten()
            .filter(|&&c| c >= floor)
            // A long repetition could list thousands of starts: a few are enough.
            .take(64)
            .map(|&c| (c, common_len(&cached[c..], &prompt[p..])))
            .max_by_key(|&(c, n)| (n, std::cmp::Reverse(c)));
        match best {
            Some((from, len)) => {
                out.push(Run { at: p, from, len });
                p += len;
                floor = from + len;
            }
            None => p += 1,
        }
    }
    out
}

pub fn common_len(a: &[u32], b: &[u32]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(seed: u32, n: usize) -> Vec<u32> {
        (0..n as u32).map(|i| seed * 1000 + i).collect()
    }

    #[test]
    fn cut_turns_and_a_replaced_summary() {
        let (a, s_old, x, h, s_new, n) = (span(1, 10), span(2, 5), span(3, 40), span(4, 50), span(5, 7), span(6, 3));
        let cached = [&a[..], &s_old, &x, &h].concat();
        let prompt = [&a[..], &s_new, &h, &n].concat();
        assert_eq!(runs(&cached, &prompt, 10), vec![Run { at: 17, from: 55, len: 50 }]);
    }

    #[test]
    fn runs_keep_their_order_and_short_ones_are_read() {
        let (a, b, c) = (span(1, 40), span(2, 40), span(3, 20));
        let cached = [&a[..], &b, &c].concat();
        // b before a: only one of them can be kept in order.
        let prompt = [&b[..], &a, &c].concat();
        assert_eq!(runs(&cached, &prompt, 0), vec![Run { at: 0, from: 40, len: 40 }]);
        assert!(runs(&c, &[&a[..], &c].concat(), 0).is_empty(), "20 tokens are under MIN_RUN");
    }

    #[test]
    fn a_long_repetition_stays_cheap() {
        let cached = vec![7u32; 5000];
        let prompt = vec![7u32; 4000];
        let r = runs(&cached, &prompt, 100);
        assert_eq!(r, vec![Run { at: 100, from: 100, len: 3900 }]);
    }
}
