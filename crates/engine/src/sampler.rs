//! Picks the next token from logits: penalties, temperature, top-k, top-p,
//! min-p, then a draw from a seeded generator (same seed, same text).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SamplerOptions {
    /// 0 means greedy (argmax).
    pub temperature: f32,
    /// 0 disables.
    pub top_k: usize,
    /// 1 disables.
    pub top_p: f32,
    /// 0 disables.
    pub min_p: f32,
    /// Divides positive logits (multiplies negative ones) of recent tokens; 1 disables.
    pub repeat_penalty: f32,
    /// Subtracted once per earlier occurrence.
    pub frequency_penalty: f32,
    /// Subtracted once if the token occurred.
    pub presence_penalty: f32,
    /// How many recent tokens the penalties look at.
    pub penalty_last_n: usize,
    /// DRY ("don't repeat yourself"): a token that would extend a run of
    /// tokens already seen loses `dry_multiplier * dry_base^(run -
    /// dry_allowed_length)` from its logit once the run reaches the allowed
    /// length; 0 disables. Unlike the penalties above it spans the whole
    /// window, earlier turns and the card included.
    pub dry_multiplier: f32,
    pub dry_base: f32,
    pub dry_allowed_length: usize,
    /// How many recent tokens DRY looks at.
    pub dry_last_n: usize,
    /// Past `end_boost_after` tokens of a reply, each further token adds
    /// `end_boost` to the logits of the tokens that end a turn: a soft
    /// length. Where a sentence ends the end token already has some weight,
    /// so the reply ends there; mid-sentence it has next to none, and a few
    /// logits more leave it so. 0 disables.
    pub end_boost: f32,
    pub end_boost_after: usize,
    pub seed: u64,
    /// Tokens never sampled, sorted (a chat's guard against writing systems
    /// it does not use); set by the caller from the prompt, not a setting.
    /// Shared: every GPU step's settings hold it, and the GPU uploads it
    /// again only when it is another list.
    #[serde(skip)]
    pub suppress: std::sync::Arc<[u32]>,
}

/// A chat reply's sampling, as the app, the widget and the CLI use it: chosen
/// with the quality harness on the default model (docs/character-quality.md):
/// DRY at allowed length 4 ends repeated self-descriptions and copied card
/// lines, and the end-of-turn boost past 60 tokens keeps replies ending by
/// themselves, which DRY alone made run on.
impl Default for SamplerOptions {
    fn default() -> Self {
        SamplerOptions {
            temperature: 0.8,
            top_k: 40,
            top_p: 0.95,
            min_p: 0.05,
            repeat_penalty: 1.1,
            frequency_penalty: 0.0,
            presence_penalty: 0.0,
            penalty_last_n: 64,
            dry_multiplier: 0.8,
            dry_base: 1.75,
            dry_allowed_length: 4,
            dry_last_n: 1024,
            end_boost: 0.15,
            end_boost_after: 60,
            seed: 0,
            suppress: Default::default(),
        }
    }
}

impl SamplerOptions {
    /// The raw argmax: no penalty, no DRY, no end-of-turn boost.
    pub fn greedy() -> Self {
        SamplerOptions { temperature: 0.0, repeat_penalty: 1.0, dry_multiplier: 0.0, end_boost: 0.0, ..Default::default() }
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(Error::InvalidOption(what.into()));
        if !self.temperature.is_finite() || self.temperature < 0.0 {
            return bad("temperature must be a number >= 0");
        }
        if !(0.0..=1.0).contains(&self.top_p) {
            return bad("top_p must be between 0 and 1");
        }
        if !(0.0..=1.0).contains(&self.min_p) {
            return bad("min_p must be between 0 and 1");
        }
        if !self.repeat_penalty.is_finite() || self.repeat_penalty <= 0.0 {
            return bad("repeat_penalty must be > 0");
        }
        if !self.frequency_penalty.is_finite() || !self.presence_penalty.is_finite() {
            return bad("penalties must be numbers");
        }
        if !self.dry_multiplier.is_finite() || self.dry_multiplier < 0.0 {
            return bad("dry_multiplier must be a number >= 0");
        }
        if !self.dry_base.is_finite() || self.dry_base < 1.0 {
            return bad("dry_base must be >= 1");
        }
        if !self.end_boost.is_finite() || self.end_boost < 0.0 {
            return bad("end_boost must be a number >= 0");
        }
        Ok(())
    }
}

/// SplitMix64: tiny, seedable, identical on every platform.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// Runs longer than this count as this long (bounds the work and the penalty).
const MAX_DRY_RUN: usize = 48;

pub struct Sampler {
    pub opts: SamplerOptions,
    rng: Rng,
    /// Sorted token ids no DRY run crosses, and never penalised by it.
    breakers: Vec<u32>,
    /// The tokens that end a turn (`end_boost` raises them).
    ends: Vec<u32>,
}

impl Sampler {
    pub fn new(opts: SamplerOptions) -> Result<Self> {
        opts.validate()?;
        let rng = Rng::new(opts.seed);
        Ok(Sampler { opts, rng, breakers: Vec::new(), ends: Vec::new() })
    }

    /// Sets the tokens DRY's runs stop at (the tokenizer's `breakers`).
    pub fn with_breakers(mut self, breakers: &[u32]) -> Self {
        if self.opts.dry_multiplier > 0.0 {
            self.breakers = breakers.to_vec();
        }
        self
    }

    /// Sets the tokens that end a turn (the tokenizer's end-of-generation ids).
    pub fn with_ends(mut self, ends: &[u32]) -> Self {
        self.ends = ends.to_vec();
        self
    }

    /// What `end_boost` adds to the end tokens' logits when the reply holds
    /// `n_reply` tokens.
    pub fn end_bias(&self, n_reply: usize) -> f32 {
        let past = n_reply.saturating_sub(self.opts.end_boost_after);
        if self.opts.end_boost > 0.0 && past > 0 && !self.ends.is_empty() {
            self.opts.end_boost * past as f32
        } else {
            0.0
        }
    }

    pub fn ends(&self) -> &[u32] {
        &self.ends
    }

    /// `sample` for the reply's token after `n_reply` others: the end tokens
    /// raised as `end_boost` says, after the penalties (which would
    /// otherwise shrink the raise of an end token seen in the prompt's tail).
    pub fn sample_reply(&mut self, logits: &mut [f32], recent: &[u32], n_reply: usize) -> u32 {
        let bias = self.end_bias(n_reply);
        self.sample_biased(logits, recent, bias)
    }

    /// The uniform number the next non-greedy `sample` would use, drawn now
    /// for a backend that samples elsewhere (the GPU) with the same rule.
    pub fn draw(&mut self) -> f32 {
        self.rng.next_f32()
    }

    /// `recent`: the tokens the penalties apply to (prompt tail and reply).
    pub fn sample(&mut self, logits: &mut [f32], recent: &[u32]) -> u32 {
        self.sample_biased(logits, recent, 0.0)
    }

    fn sample_biased(&mut self, logits: &mut [f32], recent: &[u32], end_bias: f32) -> u32 {
        for &t in self.opts.suppress.iter() {
            if let Some(l) = logits.get_mut(t as usize) {
                *l = f32::NEG_INFINITY;
            }
        }
        self.apply_penalties(logits, recent);
        self.apply_dry(logits, recent);
        if end_bias != 0.0 {
            for &t in &self.ends {
                if let Some(l) = logits.get_mut(t as usize) {
                    *l += end_bias;
                }
            }
        }
        if self.opts.temperature <= 0.0 {
            return argmax(logits);
        }
        let t = self.opts.temperature;
        let mut cand: Vec<(u32, f32)> =
            logits.iter().enumerate().filter(|(_, l)| !l.is_nan()).map(|(i, &l)| (i as u32, l / t)).collect();
        if self.opts.top_k > 0 && self.opts.top_k < cand.len() {
            cand.select_nth_unstable_by(self.opts.top_k - 1, |a, b| b.1.total_cmp(&a.1));
            cand.truncate(self.opts.top_k);
        }
        // min-p first: it is cheap and removes most of a 262k vocabulary.
        let max = cand.iter().map(|c| c.1).fold(f32::NEG_INFINITY, f32::max);
        if self.opts.min_p > 0.0 {
            let floor = max + self.opts.min_p.ln();
            cand.retain(|c| c.1 >= floor);
        }
        cand.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut probs: Vec<f32> = cand.iter().map(|c| (c.1 - max).exp()).collect();
        let sum: f32 = probs.iter().sum();
        // A broken model's logits (all NaN, or every token suppressed) leave
        // nothing to draw from: the reply still gets a token, not a panic.
        if !(sum > 0.0 && sum.is_finite()) {
            return argmax(logits);
        }
        probs.iter_mut().for_each(|p| *p /= sum);
        if self.opts.top_p < 1.0 {
            let mut acc = 0.0;
            let mut keep = probs.len();
            for (i, p) in probs.iter().enumerate() {
                acc += p;
                if acc >= self.opts.top_p {
                    keep = i + 1;
                    break;
                }
            }
            probs.truncate(keep);
            let s: f32 = probs.iter().sum();
            probs.iter_mut().for_each(|p| *p /= s);
        }
        let r = self.rng.next_f32();
        let mut acc = 0.0;
        for (i, p) in probs.iter().enumerate() {
            acc += p;
            if r < acc {
                return cand[i].0;
            }
        }
        cand[probs.len().saturating_sub(1)].0
    }

    /// Tokens of history the sampler wants to see (`recent`'s length).
    pub fn window(&self) -> usize {
        let dry = if self.opts.dry_multiplier > 0.0 { self.opts.dry_last_n } else { 0 };
        self.opts.penalty_last_n.max(dry)
    }

    /// For each earlier place the last token occurred, the token that came
    /// next would repeat what followed it: it is penalised by the length of
    /// the run the two places share (the longest such run per token).
    /// Returns each penalised token with what DRY adds to its logit
    /// (negative), sorted by token.
    pub fn dry_penalties(&self, recent: &[u32]) -> Vec<(u32, f32)> {
        let o = &self.opts;
        if o.dry_multiplier <= 0.0 || recent.len() < 2 {
            return Vec::new();
        }
        let ctx = &recent[recent.len().saturating_sub(o.dry_last_n)..];
        let n = ctx.len();
        let last = ctx[n - 1];
        let breaks = |t: u32| self.breakers.binary_search(&t).is_ok();
        if breaks(last) {
            return Vec::new();
        }
        let mut runs: std::collections::BTreeMap<u32, usize> = std::collections::BTreeMap::new();
        for i in (0..n - 1).filter(|&i| ctx[i] == last) {
            let mut run = 1;
            while run <= i && run < MAX_DRY_RUN && ctx[i - run] == ctx[n - 1 - run] && !breaks(ctx[i - run]) {
                run += 1;
            }
            let next = ctx[i + 1];
            if !breaks(next) {
                let r = runs.entry(next).or_default();
                *r = (*r).max(run);
            }
        }
        runs.into_iter()
            .filter(|&(_, run)| run >= o.dry_allowed_length)
            .map(|(token, run)| (token, -o.dry_multiplier * o.dry_base.powi((run - o.dry_allowed_length) as i32)))
            .collect()
    }

    fn apply_dry(&self, logits: &mut [f32], recent: &[u32]) {
        for (token, add) in self.dry_penalties(recent) {
            if let Some(l) = logits.get_mut(token as usize) {
                *l += add;
            }
        }
    }

    fn apply_penalties(&self, logits: &mut [f32], recent: &[u32]) {
        let o = &self.opts;
        if o.repeat_penalty == 1.0 && o.frequency_penalty == 0.0 && o.presence_penalty == 0.0 {
            return;
        }
        let tail = &recent[recent.len().saturating_sub(o.penalty_last_n)..];
        let mut counts: std::collections::HashMap<u32, u32> = std::collections::HashMap::new();
        for &t in tail {
            *counts.entry(t).or_default() += 1;
        }
        for (&t, &n) in &counts {
            let Some(l) = logits.get_mut(t as usize) else { continue };
            if o.repeat_penalty != 1.0 {
                *l = if *l > 0.0 { *l / o.repeat_penalty } else { *l * o.repeat_penalty };
            }
            *l -= o.frequency_penalty * n as f32 + o.presence_penalty;
        }
    }
}

/// Index of the largest logit; the lowest index wins a tie, as on llama.cpp's CPU path.
pub fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, &l) in logits.iter().enumerate() {
        if l > logits[best] || logits[best].is_nan() {
            best = i;
        }
    }
    best as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// DRY at llama.cpp's usual allowed length of 2 (the app's is 4).
    fn dry(multiplier: f32) -> Sampler {
        Sampler::new(SamplerOptions { dry_multiplier: multiplier, dry_allowed_length: 2, ..SamplerOptions::greedy() }).unwrap()
    }

    #[test]
    fn end_boost_raises_the_end_tokens_only_past_its_start() {
        let opts = SamplerOptions { end_boost: 0.5, end_boost_after: 10, ..SamplerOptions::greedy() };
        let mut s = Sampler::new(opts).unwrap().with_ends(&[2, 5]);
        assert_eq!(s.end_bias(10), 0.0);
        assert_eq!(s.end_bias(14), 2.0);
        // A sentence just ended: the end token is second, 1.5 behind.
        let mut logits = vec![0.0; 8];
        logits[1] = 1.5;
        assert_eq!(s.sample_reply(&mut logits.clone(), &[], 10), 1, "not yet: the favourite");
        assert_eq!(s.sample_reply(&mut logits.clone(), &[], 13), 1, "+1.5 only ties it (the lower id wins a tie)");
        let mut l = logits.clone();
        assert_eq!(s.sample_reply(&mut l, &[], 14), 2, "+2 ends the turn");
        assert_eq!((l[2], l[5], l[1]), (2.0, 2.0, 1.5), "both end tokens raised, nothing else");
        // Mid-sentence the end token is far behind: a few logits leave it there.
        let mut l = vec![0.0; 8];
        l[3] = 9.0;
        assert_eq!(s.sample_reply(&mut l, &[], 20), 3);
        // The end tokens of a plain `sample` (and of a sampler without ends) stay as they are.
        assert_eq!(s.sample(&mut logits.clone(), &[]), 1);
        let none = Sampler::new(SamplerOptions { end_boost: 0.5, ..SamplerOptions::greedy() }).unwrap();
        assert_eq!(none.end_bias(100), 0.0);
        assert!(Sampler::new(SamplerOptions { end_boost: -1.0, ..SamplerOptions::greedy() }).is_err());
    }

    #[test]
    fn suppressed_tokens_are_never_picked() {
        let mut logits = vec![0.0; 6];
        logits[4] = 9.0;
        logits[5] = 8.0;
        let greedy = SamplerOptions { suppress: vec![4].into(), ..SamplerOptions::greedy() };
        assert_eq!(Sampler::new(greedy).unwrap().sample(&mut logits.clone(), &[]), 5);
        for seed in 0..20 {
            let o = SamplerOptions { suppress: vec![4, 5].into(), temperature: 1.5, min_p: 0.0, top_k: 0, seed, ..Default::default() };
            let t = Sampler::new(o).unwrap().sample(&mut logits.clone(), &[]);
            assert!(t < 4, "seed {seed}: {t}");
        }
    }

    #[test]
    fn a_broken_models_logits_still_give_a_token() {
        // Found by the model-file fuzzer: all-NaN logits left min-p nothing to keep.
        for opts in [SamplerOptions::default(), SamplerOptions { min_p: 0.0, top_p: 0.5, ..Default::default() }] {
            let mut s = Sampler::new(opts).unwrap();
            assert!(s.sample(&mut vec![f32::NAN; 5], &[]) < 5);
            assert!(s.sample(&mut vec![f32::NEG_INFINITY; 5], &[]) < 5);
            let mut one = vec![f32::NAN; 5];
            one[3] = 1.0;
            assert_eq!(s.sample(&mut one, &[]), 3, "the one number there is");
        }
    }

    #[test]
    fn dry_penalises_the_token_that_would_repeat_a_run() {
        // "1 2 3" was followed by 4 once; it just came again: 4 would repeat a run of 3.
        let recent = [1, 2, 3, 4, 9, 1, 2, 3];
        let mut logits = vec![0.0; 10];
        logits[4] = 1.0;
        logits[7] = 0.5;
        assert_eq!(dry(0.0).sample(&mut logits.clone(), &recent), 4, "off: the repeat wins");
        let mut l = logits.clone();
        assert_eq!(dry(0.8).sample(&mut l, &recent), 7, "on: another token");
        assert!((l[4] - (1.0 - 0.8 * 1.75)).abs() < 1e-6, "run 3, allowed 2: multiplier * base^1, got {}", l[4]);
    }

    #[test]
    fn dry_runs_stop_at_breakers_which_it_never_penalises() {
        // 8 is a breaker (a line break): the run "1 8 2 3" is only "2 3" long,
        // and 9 (an end of turn) after it keeps its logit.
        let recent = [1, 8, 2, 3, 9, 1, 8, 2, 3];
        let s = |m| dry(m).with_breakers(&[8, 9]);
        let mut logits = vec![0.0; 10];
        s(0.8).sample(&mut logits, &recent);
        assert_eq!(logits[9], 0.0, "a breaker is never penalised");
        let recent = [1, 8, 2, 3, 4, 1, 8, 2, 3];
        let mut logits = vec![0.0; 10];
        s(0.8).sample(&mut logits, &recent);
        assert!((logits[4] + 0.8).abs() < 1e-6, "run of 2 (stopped at 8): multiplier * base^0, got {}", logits[4]);
    }

    #[test]
    fn dry_leaves_short_runs_and_new_tokens_alone() {
        // 3 came after 5 before and after 7 now: a run of 1, below the allowed 2.
        let recent = [5, 3, 4, 7, 3];
        let mut logits = vec![0.0; 10];
        logits[4] = 1.0;
        assert_eq!(dry(0.8).sample(&mut logits, &recent), 4);
        assert_eq!(logits[4], 1.0);
        assert_eq!(dry(0.8).window(), 1024, "DRY widens the history the sampler sees");
        assert_eq!(dry(0.0).window(), 64);
    }
}
