//! The checks that come before key matching: enabled, decorators, timed
//! effects (sticky, cooldown, delay) and turn counters.

use super::entry::LoreEntry;
use super::timed::TimedState;

/// Facts about the chat at scan time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScanContext {
    /// Messages in the chat so far (the clock for sticky/cooldown/delay).
    pub chat_length: u64,
    /// Messages written by characters so far (for `@@activate_only_after`
    /// and `@@activate_only_every`).
    pub character_turns: u32,
    /// Index of the greeting the chat opened with (0 = `first_mes`).
    pub greeting_index: Option<u32>,
    /// The prompt is at its context limit (for `@@ignore_on_max_context`).
    pub context_full: bool,
}

/// Why an entry is in the prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HitReason {
    Constant,
    Keys,
    /// Keys found in another entry's content.
    Recursion,
    /// Still active from an earlier activation.
    Sticky,
    /// `@@activate` or `@@keep_activate_after_match`.
    Decorator,
}

/// What the pre-checks decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Cannot fire in this scan.
    Never,
    /// Fires without keys or a probability roll.
    Force(HitReason),
    /// Fires if the probability roll passes (constant entries).
    Constant,
    /// Keys decide.
    Keys,
}

pub fn gate(e: &LoreEntry, ctx: &ScanContext, state: &TimedState) -> Gate {
    let d = &e.decorators;
    let now = ctx.chat_length;
    if !e.enabled || e.content.trim().is_empty() {
        return Gate::Never;
    }
    if d.activate {
        return Gate::Force(HitReason::Decorator);
    }
    if d.dont_activate {
        return Gate::Never;
    }
    if let (Some(want), Some(have)) = (d.is_greeting, ctx.greeting_index) {
        if want != have {
            return Gate::Never;
        }
    }
    if state.matched_before(&e.uid, now) {
        if d.keep_activate_after_match {
            return Gate::Force(HitReason::Decorator);
        }
        if d.dont_activate_after_match {
            return Gate::Never;
        }
    }
    if d.activate_only_after.is_some_and(|n| ctx.character_turns < n) {
        return Gate::Never;
    }
    // `is_multiple_of` is newer than the crate's minimum Rust version.
    #[allow(clippy::manual_is_multiple_of)]
    let off_beat = d.activate_only_every.is_some_and(|n| n > 0 && ctx.character_turns % n != 0);
    if off_beat {
        return Gate::Never;
    }
    if now < u64::from(e.delay) {
        return Gate::Never;
    }
    if let Some(t) = state.get(&e.uid, now) {
        if t.is_sticky(now) {
            return Gate::Force(HitReason::Sticky);
        }
        if t.is_cooling(now) {
            return Gate::Never;
        }
    }
    if d.ignore_on_max_context && ctx.context_full {
        return Gate::Never;
    }
    if e.constant {
        Gate::Constant
    } else {
        Gate::Keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e() -> LoreEntry {
        LoreEntry { uid: "b#1".into(), keys: vec!["k".into()], content: "c".into(), ..LoreEntry::default() }
    }

    fn ctx(len: u64, turns: u32) -> ScanContext {
        ScanContext { chat_length: len, character_turns: turns, ..ScanContext::default() }
    }

    #[test]
    fn disabled_and_empty_never_fire() {
        let st = TimedState::default();
        let mut a = e();
        a.enabled = false;
        a.decorators.activate = true;
        assert_eq!(gate(&a, &ctx(1, 1), &st), Gate::Never);
        let mut b = e();
        b.content = "  \n".into();
        assert_eq!(gate(&b, &ctx(1, 1), &st), Gate::Never);
    }

    #[test]
    fn activate_beats_dont_activate() {
        let st = TimedState::default();
        let mut a = e();
        a.decorators.dont_activate = true;
        assert_eq!(gate(&a, &ctx(1, 1), &st), Gate::Never);
        a.decorators.activate = true;
        assert_eq!(gate(&a, &ctx(1, 1), &st), Gate::Force(HitReason::Decorator));
    }

    #[test]
    fn turn_counters() {
        let st = TimedState::default();
        let mut a = e();
        a.decorators.activate_only_after = Some(3);
        assert_eq!(gate(&a, &ctx(9, 2), &st), Gate::Never);
        assert_eq!(gate(&a, &ctx(9, 3), &st), Gate::Keys);
        let mut b = e();
        b.decorators.activate_only_every = Some(2);
        assert_eq!(gate(&b, &ctx(9, 3), &st), Gate::Never);
        assert_eq!(gate(&b, &ctx(9, 4), &st), Gate::Keys);
    }

    #[test]
    fn delay_and_greeting() {
        let st = TimedState::default();
        let mut a = e();
        a.delay = 4;
        assert_eq!(gate(&a, &ctx(3, 0), &st), Gate::Never);
        assert_eq!(gate(&a, &ctx(4, 0), &st), Gate::Keys);
        let mut g = e();
        g.decorators.is_greeting = Some(1);
        let mut c = ctx(1, 0);
        c.greeting_index = Some(0);
        assert_eq!(gate(&g, &c, &st), Gate::Never);
        c.greeting_index = Some(1);
        assert_eq!(gate(&g, &c, &st), Gate::Keys);
    }

    #[test]
    fn after_match_decorators() {
        let mut st = TimedState::default();
        st.record("b#1", 2, 0, 0);
        let mut keep = e();
        keep.decorators.keep_activate_after_match = true;
        assert_eq!(gate(&keep, &ctx(5, 0), &st), Gate::Force(HitReason::Decorator));
        let mut stop = e();
        stop.decorators.dont_activate_after_match = true;
        assert_eq!(gate(&stop, &ctx(5, 0), &st), Gate::Never);
        assert_eq!(gate(&stop, &ctx(2, 0), &st), Gate::Keys, "same turn is not 'before'");
    }
}
