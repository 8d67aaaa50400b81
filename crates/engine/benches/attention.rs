//! Time of one layer's attention on the CPU over a KV cache of the real
//! models' head shapes: a decode step (one query row) and a prompt chunk (64
//! rows), at 128 and 1,024 cached positions, on the pool's threads
//! (`RAYON_NUM_THREADS=1` for one). Each figure is the best of many runs.
//! Run: `cargo bench -p kindred-engine --bench attention`.

use std::hint::black_box;
use std::time::Instant;

use kindred_engine::attention::{attention, AttnShape};
use kindred_engine::par;
use kindred_engine::sampler::Rng;

const RUNS: usize = 30;

fn main() {
    let mut rng = Rng::new(3);
    let shapes = [("Gemma 3 270M", 4, 1, 256), ("Qwen2.5 1.5B", 12, 2, 128)];
    println!("{} threads", par::threads());
    println!("{:<13} {:>6} {:>5} {:>12} {:>14}", "heads", "keys", "rows", "us a call", "us a row");
    for (name, n_head, n_kv_head, head_dim) in shapes {
        let s = AttnShape { n_head, n_kv_head, head_dim, window: None, scale: (head_dim as f32).powf(-0.5), softcap: None };
        for keys in [128, 1024] {
            for t in [1, 64] {
                let mut values = |n: usize| -> Vec<f32> { (0..n).map(|_| rng.next_f32() - 0.5).collect() };
                let q = values(t * n_head * head_dim);
                let k = values(keys * n_kv_head * head_dim);
                let v = values(keys * n_kv_head * head_dim);
                let mut out = vec![0f32; q.len()];
                let reps = (20_000 / keys / t).max(1);
                let mut best = f64::INFINITY;
                for _ in 0..RUNS {
                    let t0 = Instant::now();
                    for _ in 0..reps {
                        attention(black_box(&q), &k, &v, keys - t, t, &s, &mut out);
                        black_box(&out);
                    }
                    best = best.min(t0.elapsed().as_secs_f64() / reps as f64);
                }
                let us = best * 1e6;
                println!("{name:<13} {keys:>6} {t:>5} {us:>12.1} {:>14.2}", us / t as f64);
            }
        }
    }
}
