//! Sampling on the GPU against the CPU sampler: greedy (temperature 0,
//! top-k 1) is the argmax; the picked token is always inside the set the
//! CPU's top-k / top-p / min-p allow; for a fixed uniform number the GPU
//! picks what a CPU reference of the same inverse-CDF rule picks (written
//! here, and also the CPU sampler itself seeded to draw that number); and
//! penalties move the choice as the CPU's do.
//!
//! Needs a GPU adapter (lavapipe will do); with none the tests fail.
#![cfg(feature = "gpu")]

use kindred_engine::gpu::{GpuOptions, Oneshot, SampleParams};
use kindred_engine::sampler::{argmax, Rng, Sampler, SamplerOptions};

fn gpu() -> Oneshot {
    match Oneshot::new_blocking(&GpuOptions::default()) {
        Ok(o) => o,
        Err(e) => panic!("no GPU adapter for the GPU tests ({e}); install a Vulkan driver (mesa-vulkan-drivers gives lavapipe)"),
    }
}

/// Logits spread over `spread` units, so the nucleus holds tens of tokens.
fn logits(rng: &mut Rng, n: usize, spread: f32) -> Vec<f32> {
    (0..n).map(|_| (rng.next_f32() - 0.5) * spread).collect()
}

fn opts(temperature: f32, top_k: usize, top_p: f32, min_p: f32) -> SamplerOptions {
    SamplerOptions { temperature, top_k, top_p, min_p, repeat_penalty: 1.0, ..Default::default() }
}

fn pick(o: &mut Oneshot, l: &[f32], s: &SamplerOptions, recent: &[u32], u: f32) -> u32 {
    pollster::block_on(o.sample(l, &SampleParams::new(s, recent, u))).unwrap()
}

/// The CPU reference: the candidates the CPU sampler keeps (top-k, min-p,
/// sorted by value then index, top-p), with their probabilities.
fn allowed(l: &[f32], s: &SamplerOptions) -> Vec<(u32, f32)> {
    let t = s.temperature;
    let mut cand: Vec<(u32, f32)> = l.iter().enumerate().map(|(i, &v)| (i as u32, v / t)).collect();
    cand.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    if s.top_k > 0 {
        cand.truncate(s.top_k);
    }
    let max = cand[0].1;
    if s.min_p > 0.0 {
        let floor = max + s.min_p.ln();
        cand.retain(|c| c.1 >= floor);
    }
    let mut probs: Vec<f32> = cand.iter().map(|c| (c.1 - max).exp()).collect();
    let sum: f32 = probs.iter().sum();
    probs.iter_mut().for_each(|p| *p /= sum);
    let mut keep = probs.len();
    if s.top_p < 1.0 {
        let mut acc = 0.0;
        for (i, p) in probs.iter().enumerate() {
            acc += p;
            if acc >= s.top_p {
                keep = i + 1;
                break;
            }
        }
        probs.truncate(keep);
        let kept: f32 = probs.iter().sum();
        probs.iter_mut().for_each(|p| *p /= kept);
    }
    cand.truncate(keep);
    cand.iter().zip(probs).map(|(c, p)| (c.0, p)).collect()
}

/// The inverse-CDF rule over `allowed`: the first candidate whose
/// cumulative probability exceeds `u`. Also returns how far `u` is from
/// the nearest boundary (a float-rounding tie between the backends there
/// is not a disagreement about the rule).
fn reference_pick(l: &[f32], s: &SamplerOptions, u: f32) -> (u32, f32) {
    let cand = allowed(l, s);
    let mut acc = 0.0f32;
    let mut gap = f32::INFINITY;
    for &(id, p) in &cand {
        let before = acc;
        acc += p;
        gap = gap.min((u - before).abs()).min((u - acc).abs());
        if u < acc {
            return (id, gap);
        }
    }
    (cand[cand.len() - 1].0, gap)
}

#[test]
fn greedy_and_top_k_1_are_the_argmax() {
    let mut o = gpu();
    let mut rng = Rng::new(31);
    for n in [262_144, 1000, 3] {
        let l = logits(&mut rng, n, 8.0);
        let want = argmax(&l);
        assert_eq!(pick(&mut o, &l, &opts(0.0, 40, 0.95, 0.05), &[], 0.5), want, "temperature 0, {n} logits");
        assert_eq!(pick(&mut o, &l, &opts(0.8, 1, 0.95, 0.0), &[], 0.99), want, "top-k 1, {n} logits");
    }
}

#[test]
fn picks_stay_inside_the_cpu_allowed_set_and_follow_the_inverse_cdf() {
    let mut o = gpu();
    let mut rng = Rng::new(32);
    let settings = [
        opts(0.8, 40, 1.0, 0.0),
        opts(1.0, 0, 0.9, 0.0),
        opts(0.7, 0, 1.0, 0.1),
        opts(1.3, 20, 0.8, 0.02),
        opts(0.8, 40, 0.95, 0.05),
    ];
    let mut checked = 0;
    for s in &settings {
        let l = logits(&mut rng, 4096, 40.0);
        let set = allowed(&l, s);
        assert!(set.len() > 1 && set.len() < 1024, "{} candidates: a test that can tell sets apart", set.len());
        for _ in 0..12 {
            let u = rng.next_f32();
            let got = pick(&mut o, &l, s, &[], u);
            assert!(set.iter().any(|c| c.0 == got), "{s:?} u {u}: token {got} outside the CPU's allowed set");
            let (want, gap) = reference_pick(&l, s, u);
            if gap > 1e-5 {
                assert_eq!(got, want, "{s:?} u {u}: the inverse-CDF pick");
                checked += 1;
            }
        }
    }
    assert!(checked >= 50, "only {checked} picks away from a boundary");
}

/// The CPU sampler seeded with `seed` draws `Rng::new(seed).next_f32()`:
/// handed that number, the GPU picks the CPU sampler's token, also on a
/// Gemma-sized vocabulary.
#[test]
fn same_token_as_the_cpu_sampler_for_its_draw() {
    let mut o = gpu();
    let mut rng = Rng::new(33);
    let l = logits(&mut rng, 262_144, 30.0);
    for seed in 0..8u64 {
        let s = SamplerOptions { seed, repeat_penalty: 1.0, ..Default::default() };
        let u = Rng::new(seed).next_f32();
        let want = Sampler::new(s.clone()).unwrap().sample(&mut l.clone(), &[]);
        let (reference, gap) = reference_pick(&l, &s, u);
        assert_eq!(reference, want, "the test's reference is the CPU sampler's rule");
        if gap > 1e-5 {
            assert_eq!(pick(&mut o, &l, &s, &[], u), want, "seed {seed}");
        }
    }
}

#[test]
fn penalties_change_the_pick_as_on_the_cpu() {
    let mut o = gpu();
    let mut rng = Rng::new(34);
    let mut l = logits(&mut rng, 5000, 4.0);
    // A clear favourite that was just said twice, and a runner-up.
    l[7] = 6.0;
    l[9] = 5.5;
    l[11] = -3.0;
    let recent = [7u32, 3, 7, 11];
    let cases = [
        SamplerOptions { repeat_penalty: 1.3, ..SamplerOptions::greedy() },
        SamplerOptions { frequency_penalty: 0.4, ..SamplerOptions::greedy() },
        SamplerOptions { presence_penalty: 0.6, ..SamplerOptions::greedy() },
        SamplerOptions { repeat_penalty: 1.05, ..SamplerOptions::greedy() },
    ];
    let mut moved = 0;
    for s in &cases {
        let want = Sampler::new(s.clone()).unwrap().sample(&mut l.clone(), &recent);
        let got = pick(&mut o, &l, s, &recent, 0.0);
        assert_eq!(got, want, "{s:?}");
        moved += (want != 7) as usize;
    }
    assert_eq!(moved, 3, "the three strong penalties move the pick off token 7, the weak one does not");
    // Without penalties the favourite wins.
    assert_eq!(pick(&mut o, &l, &SamplerOptions::greedy(), &recent, 0.0), 7);
    // Penalties before temperature: a sampled pick never lands on a token
    // the penalty pushed out of the candidates.
    let s = SamplerOptions { temperature: 0.5, top_k: 2, top_p: 1.0, min_p: 0.0, repeat_penalty: 6.0, ..Default::default() };
    for i in 0..10 {
        let got = pick(&mut o, &l, &s, &recent, i as f32 / 10.0);
        assert_ne!(got, 7, "token 7 fell out of the top 2 after its penalty");
    }
}

/// The end-of-turn raise (`end_boost`) lands on the same tokens, after the
/// same penalties, greedy and sampled (the CPU sampler seeded so that its
/// draw is the number the GPU is handed).
#[test]
fn the_end_bias_picks_as_on_the_cpu() {
    let mut o = gpu();
    let mut rng = Rng::new(36);
    let mut l = logits(&mut rng, 5000, 4.0);
    l[7] = 6.0;
    // End tokens behind the favourite (no raise makes a tie: the backends
    // may order equal values apart); one of them in the penalty window.
    l[40] = 5.1;
    l[41] = 4.45;
    let ends = [40u32, 41, 4999];
    let recent = [40u32, 3];
    let mut ended = 0;
    for (after, n_reply) in [(0, 0), (10, 12), (10, 14), (10, 30), (0, 100)] {
        for seed in 0..4u64 {
            let base = if seed == 0 { SamplerOptions { repeat_penalty: 1.3, ..SamplerOptions::greedy() } } else { opts(0.7, 40, 0.9, 0.05) };
            let s = SamplerOptions { end_boost: 0.5, end_boost_after: after, seed, ..base };
            let mut cpu = Sampler::new(s.clone()).unwrap().with_ends(&ends);
            let bias = cpu.end_bias(n_reply);
            let want = cpu.sample_reply(&mut l.clone(), &recent, n_reply);
            let u = Rng::new(seed).next_f32();
            let params = SampleParams::new(&s, &recent, u).with_end_bias(&ends, bias);
            let got = pollster::block_on(o.sample(&l, &params)).unwrap();
            assert_eq!(got, want, "{s:?}, reply token {n_reply}");
            ended += ends.contains(&got) as usize;
        }
    }
    assert!(ended >= 6 && ended < 20, "the raise ended the turn in {ended} of 20 picks: the cases tell nothing apart");
}

/// DRY's penalties, worked out on the CPU and added on the GPU, pick as
/// the CPU sampler picks with DRY on.
#[test]
fn dry_penalties_pick_as_on_the_cpu() {
    let mut o = gpu();
    let mut rng = Rng::new(38);
    let mut l = logits(&mut rng, 5000, 4.0);
    // "1 2 3" was followed by 7 before and just came again: 7 would repeat.
    l[7] = 6.0;
    l[9] = 5.5;
    let recent = [1u32, 2, 3, 7, 40, 1, 2, 3];
    let mut moved = 0;
    for seed in 0..6u64 {
        let base = if seed == 0 { SamplerOptions::greedy() } else { opts(0.8, 40, 0.95, 0.05) };
        let s = SamplerOptions { dry_multiplier: 0.8, dry_allowed_length: 2, seed, ..base };
        let cpu = Sampler::new(s.clone()).unwrap();
        let penalties = cpu.dry_penalties(&recent);
        assert_eq!(penalties.len(), 1, "one token would repeat: {penalties:?}");
        let want = Sampler::new(s.clone()).unwrap().sample(&mut l.clone(), &recent);
        let params = SampleParams::new(&s, &recent, Rng::new(seed).next_f32()).with_biases(penalties);
        let got = pollster::block_on(o.sample(&l, &params)).unwrap();
        assert_eq!(got, want, "seed {seed}");
        moved += (got != 7) as usize;
    }
    assert!(moved >= 4, "DRY moved the pick off the repeat in {moved} of 6");
}

/// Suppressed tokens (a chat's script guard) are never picked, also when
/// they are recent (penalised) or favourites, and the rest picks as on the
/// CPU; the list is uploaded once and a shorter one replaces it.
#[test]
fn suppressed_tokens_are_never_picked_as_on_the_cpu() {
    let mut o = gpu();
    let mut rng = Rng::new(37);
    let mut l = logits(&mut rng, 5000, 4.0);
    l[7] = 9.0;
    l[9] = 8.5;
    l[11] = 8.0;
    let recent = [9u32, 3];
    let lists: [Vec<u32>; 3] = [(0..2500).chain([7, 9].into_iter()).collect(), vec![7, 9], vec![7]];
    for suppress in lists {
        let mut suppress = suppress;
        suppress.sort_unstable();
        suppress.dedup();
        for seed in 0..6u64 {
            let base = if seed == 0 { SamplerOptions { repeat_penalty: 1.3, ..SamplerOptions::greedy() } } else { opts(1.0, 40, 1.0, 0.0) };
            let s = SamplerOptions { seed, suppress: suppress.clone().into(), ..base };
            let want = Sampler::new(s.clone()).unwrap().sample(&mut l.clone(), &recent);
            let got = pick(&mut o, &l, &s, &recent, Rng::new(seed).next_f32());
            assert_eq!(got, want, "{} suppressed, seed {seed}", suppress.len());
            assert!(suppress.binary_search(&got).is_err(), "picked suppressed {got}");
        }
    }
}

/// A step queued before the CPU read its input token counts that token on
/// the GPU (`SampleParams::after_pending`): the pick equals the CPU
/// sampler's with the whole window known, whether the input token is new
/// to the window, already in it, or about to leave it.
#[test]
fn the_pending_input_token_counts_as_recent() {
    let mut o = gpu();
    let mut rng = Rng::new(35);
    let mut l = logits(&mut rng, 5000, 4.0);
    l[7] = 6.0;
    l[9] = 5.8;
    l[11] = 5.6;
    l[13] = 5.4;
    let cases = [
        SamplerOptions { repeat_penalty: 1.3, penalty_last_n: 4, ..SamplerOptions::greedy() },
        SamplerOptions { frequency_penalty: 0.3, penalty_last_n: 4, ..SamplerOptions::greedy() },
        SamplerOptions { presence_penalty: 0.5, repeat_penalty: 1.0, penalty_last_n: 1, ..SamplerOptions::greedy() },
        SamplerOptions { presence_penalty: 0.5, repeat_penalty: 1.0, penalty_last_n: 3, ..SamplerOptions::greedy() },
    ];
    // Known tokens (oldest first), then the input still on the GPU.
    let windows: [(&[u32], u32); 5] = [(&[3, 5, 2], 7), (&[7, 3, 9], 7), (&[9, 7, 3], 11), (&[], 7), (&[7, 7, 9, 11], 9)];
    let mut moved = 0;
    for s in &cases {
        for &(known, input) in &windows {
            let mut all = known.to_vec();
            all.push(input);
            let want = Sampler::new(s.clone()).unwrap().sample(&mut l.clone(), &all);
            let params = SampleParams::after_pending(s, known, 0.0);
            let got = pollster::block_on(o.sample_after(&l, &params, input)).unwrap();
            assert_eq!(got, want, "{s:?}, known {known:?}, input {input}");
            moved += (want != 7) as usize;
        }
    }
    assert!(moved >= 8, "the penalties moved the pick in {moved} cases: the cases test nothing");
}
