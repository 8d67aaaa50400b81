//! Every GPU kernel against the CPU backend on random data: the fused
//! mat-vec of each weight type (odd row counts, one-row tensors, rows that
//! start 2-byte aligned, tensors split across bindings, grids past 65,535
//! workgroups), the embedding lookup, decode attention and argmax.
//!
//! These tests need a GPU adapter; a software one (lavapipe) will do. With
//! none they fail: a missing adapter must not look like a pass.
#![cfg(feature = "gpu")]

use kindred_engine::gpu::attention::AttnShape;
use kindred_engine::gpu::kernels::Layout;
use kindred_engine::gpu::{GpuOptions, Oneshot};
use kindred_engine::ops::{attention, round_f16, AttnShape as CpuAttnShape};
use kindred_engine::quant::{dequantize_row, dot_row, QType};
use kindred_engine::sampler::{argmax, Rng};

fn gpu(opts: GpuOptions) -> Oneshot {
    match Oneshot::new_blocking(&opts) {
        Ok(o) => o,
        Err(e) => panic!("no GPU adapter for the GPU tests ({e}); install a Vulkan driver (mesa-vulkan-drivers gives lavapipe)"),
    }
}

fn random(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| (rng.next_f32() - 0.5) * 4.0).collect()
}

/// A `[rows, cols]` tensor of random values in GGUF blocks of type `q`.
fn quantized(q: QType, rows: usize, cols: usize, rng: &mut Rng) -> Vec<u8> {
    kindred_engine::quant::quantize(q, &random(rng, rows * cols))
}

/// GPU mat-vec of random data against `dot_row` per row; returns how many
/// binding chunks the weight needed.
fn check_matvec(o: &mut Oneshot, q: QType, rows: usize, cols: usize, rng: &mut Rng) -> usize {
    check_matvec_in(o, q, rows, cols, rng, None)
}

/// `check_matvec` in a given workgroup layout.
fn check_matvec_in(o: &mut Oneshot, q: QType, rows: usize, cols: usize, rng: &mut Rng, layout: Option<Layout>) -> usize {
    let bytes = quantized(q, rows, cols, rng);
    let x = random(rng, cols);
    let w = o.upload("w", q, rows, cols, &bytes).unwrap();
    let got = pollster::block_on(o.matvec_with(&w, &x, layout)).unwrap();
    assert_eq!(got.len(), rows);
    let rb = q.row_bytes(cols);
    let mut deq = vec![0f32; cols];
    for r in 0..rows {
        let row = &bytes[r * rb..(r + 1) * rb];
        let want = dot_row(q, row, &x);
        dequantize_row(q, row, &mut deq);
        let scale: f32 = deq.iter().zip(&x).map(|(a, b)| (a * b).abs()).sum();
        assert!(
            (got[r] - want).abs() <= 1e-5 * scale.max(1.0),
            "{q:?} {rows}x{cols} {layout:?} row {r}: gpu {} cpu {want}",
            got[r]
        );
    }
    w.chunks.len()
}


#[test]
fn adapter_is_found_and_reported() {
    let o = gpu(GpuOptions::default());
    let r = &o.gpu.report;
    eprintln!("{}", serde_json::to_string_pretty(r).unwrap());
    assert!(r.max_storage_binding >= 1 << 27, "WebGPU guarantees 128 MiB bindings");
    assert!(o.gpu.max_binding <= r.max_storage_binding);
    assert!(!r.adapter.is_empty());
}

#[test]
fn matvec_every_type_matches_cpu() {
    let mut o = gpu(GpuOptions::default());
    let mut rng = Rng::new(11);
    for q in QType::quantized() {
        let k = if q.block_elems() == 256 { [256, 1024, 2048] } else { [32, 640, 2048] };
        for (rows, cols) in [(1, k[0]), (67, k[1]), (130, k[2])] {
            check_matvec(&mut o, q, rows, cols, &mut rng);
        }
    }
    for q in QType::ALL.iter().copied().filter(|q| q.block_elems() == 1) {
        for (rows, cols) in [(1, 37), (65, 64), (3, 301)] {
            check_matvec(&mut o, q, rows, cols, &mut rng);
        }
    }
}

/// Every workgroup layout the mat-vec may be given (rows a thread x
/// threads a row), on row counts that leave the last workgroup partly
/// empty, so the clamped rows and the skipped writes are both exercised.
#[test]
fn matvec_every_layout_matches_cpu() {
    let mut o = gpu(GpuOptions::default());
    let mut rng = Rng::new(15);
    let shapes = [(1, 64, 64), (1, 16, 64), (2, 4, 64), (2, 64, 64), (3, 32, 64), (4, 16, 64), (1, 256, 256), (2, 32, 128)];
    for (rpt, tpr, wg) in shapes {
        {
            let l = Some(Layout { rpt, tpr, wg });
            check_matvec_in(&mut o, QType::Q4K, 37, 512, &mut rng, l);
            check_matvec_in(&mut o, QType::Q5_0, 5, 96, &mut rng, l);
            check_matvec_in(&mut o, QType::Q6K, 1, 256, &mut rng, l);
        }
    }
}

/// Qwen's ffn_down: 35 Q6_K blocks a row, 7,350 bytes, so every other row
/// starts 2 bytes past a word boundary; Gemma's K=640 Q8_0/Q5_0 rows.
#[test]
fn matvec_rows_not_word_aligned() {
    let mut o = gpu(GpuOptions::default());
    let mut rng = Rng::new(12);
    assert_eq!(QType::Q6K.row_bytes(8960) % 4, 2);
    check_matvec(&mut o, QType::Q6K, 5, 8960, &mut rng);
    assert_eq!(QType::Q8_0.row_bytes(32) % 4, 2);
    check_matvec(&mut o, QType::Q8_0, 9, 32, &mut rng);
    check_matvec(&mut o, QType::Q5_0, 33, 640, &mut rng);
    check_matvec(&mut o, QType::F16, 7, 37, &mut rng);
}

/// With a 64 KiB binding cap, tensors split into many row chunks, as
/// Gemma's 178 MB LM head does under WebGPU's default 128 MiB.
#[test]
fn matvec_splits_tensors_larger_than_a_binding() {
    let mut o = gpu(GpuOptions { max_binding_bytes: Some(1 << 16), ..Default::default() });
    assert_eq!(o.gpu.max_binding, 1 << 16);
    let mut rng = Rng::new(13);
    let chunks = check_matvec(&mut o, QType::Q8_0, 500, 640, &mut rng);
    assert!(chunks >= 5, "500 rows of 680 bytes in 64 KiB bindings: {chunks} chunks");
    let chunks = check_matvec(&mut o, QType::Q6K, 20, 8960, &mut rng);
    assert!(chunks >= 3, "{chunks} chunks");
    let chunks = check_matvec(&mut o, QType::Q4K, 300, 1024, &mut rng);
    assert!(chunks >= 2, "{chunks} chunks");
}

#[test]
fn matvec_grid_beyond_65535_workgroups() {
    let mut o = gpu(GpuOptions::default());
    let mut rng = Rng::new(14);
    let rows = o.gpu.max_workgroups_per_dim() as usize + 1000;
    check_matvec_in(&mut o, QType::Q8_0, rows, 32, &mut rng, Some(Layout { rpt: 1, tpr: 64, wg: 64 }));
}

#[test]
fn embedding_rows_match_dequantize() {
    let mut o = gpu(GpuOptions { max_binding_bytes: Some(1 << 16), ..Default::default() });
    let mut rng = Rng::new(15);
    let cases = [
        (QType::Q8_0, 300, 640),
        (QType::Q6K, 40, 1536),
        (QType::Q4K, 50, 512),
        (QType::Q5K, 20, 768),
        (QType::Q5_0, 7, 96),
        (QType::Q4_0, 5, 64),
        (QType::F32, 9, 40),
        (QType::F16, 9, 37),
        (QType::BF16, 3, 40),
    ];
    for (q, rows, cols) in cases {
        let bytes = quantized(q, rows, cols, &mut rng);
        let w = o.upload("embd", q, rows, cols, &bytes).unwrap();
        let rb = q.row_bytes(cols);
        for r in [0, rows / 2, rows - 1] {
            let got = pollster::block_on(o.embed(&w, r, 25.3)).unwrap();
            let mut want = vec![0f32; cols];
            dequantize_row(q, &bytes[r * rb..(r + 1) * rb], &mut want);
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                let w = w * 25.3;
                assert!((g - w).abs() <= 1e-5 * w.abs().max(1.0), "{q:?} row {r} elem {i}: gpu {g} cpu {w}");
            }
        }
    }
}

#[test]
fn attention_matches_cpu_with_gqa_and_window() {
    let mut o = gpu(GpuOptions::default());
    let mut rng = Rng::new(16);
    // (heads, kv heads, head dim, window, position)
    for (nh, nkv, hd, window, pos) in [(4, 1, 256, 0, 0), (4, 1, 256, 5, 9), (12, 2, 128, 0, 70), (9, 3, 64, 64, 200), (4, 4, 32, 0, 3)] {
        let kvd = nkv * hd;
        let q = random(&mut rng, nh * hd);
        let k = random(&mut rng, (pos + 1) * kvd);
        let v = random(&mut rng, (pos + 1) * kvd);
        let scale = 1.0 / (hd as f32).sqrt();
        let shape = AttnShape { n_head: nh, n_kv_head: nkv, head_dim: hd, window, scale, softcap: 0.0 };
        let got = pollster::block_on(o.attention(&q, &k, &v, pos, &shape)).unwrap();
        let (k16, v16): (Vec<f32>, Vec<f32>) = k.iter().zip(&v).map(|(a, b)| (round_f16(*a), round_f16(*b))).unzip();
        let cpu_shape = CpuAttnShape { n_head: nh, n_kv_head: nkv, head_dim: hd, window: (window > 0).then_some(window), scale, softcap: None };
        let mut want = vec![0f32; nh * hd];
        attention(&q, &k16, &v16, pos, 1, &cpu_shape, &mut want);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((g - w).abs() < 1e-4, "heads {nh}/{nkv} dim {hd} window {window} pos {pos} elem {i}: gpu {g} cpu {w}");
        }
    }
}

#[test]
fn argmax_matches_cpu_sampler() {
    let mut o = gpu(GpuOptions::default());
    let mut rng = Rng::new(17);
    let mut v = random(&mut rng, 262_144);
    assert_eq!(pollster::block_on(o.argmax(&v)).unwrap(), argmax(&v));
    // A tie: the lower index wins, as on the CPU.
    v[1000] = 10.0;
    v[200_000] = 10.0;
    assert_eq!(pollster::block_on(o.argmax(&v)).unwrap(), 1000);
    v[5] = f32::NAN;
    assert_eq!(pollster::block_on(o.argmax(&v)).unwrap(), 1000);
    let small = [-3.0f32, -1.0, -2.0];
    assert_eq!(pollster::block_on(o.argmax(&small)).unwrap(), 1);
}
