//! Gemma 3 on the GPU: the same graph as `models::gemma3` (see
//! ../shared/notes/gemma3.md): embeddings scaled by sqrt(d), QK-norm,
//! post-norms added straight into the residual, sliding-window layers
//! (il % pattern < pattern - 1) with their own RoPE base, tanh-GELU gate,
//! LM head tied to the embedding table.

use super::attention::{attention_ops, AttnBuffers, AttnShape, GpuKvCache};
use super::buffers::scratch;
use super::error::GpuResult;
use super::graph::Builder;
use super::matvec::{embed_ops, matvec_ops};
use super::model::{capacity, vector, weight, Plan, Shared};
use super::ops::{self, Gate};
use crate::gguf::Gguf;
use crate::models::{meta_f32, meta_usize, vocab_size, Config};
use crate::ops::rope_inv_freq;

pub(crate) async fn build(g: &Gguf, b: &mut Builder<'_>, shared: &Shared) -> GpuResult<Plan> {
    let a = "gemma3";
    let d = meta_usize(g, a, "embedding_length")?;
    let n_layers = meta_usize(g, a, "block_count")?;
    let ffn = meta_usize(g, a, "feed_forward_length")?;
    let n_head = meta_usize(g, a, "attention.head_count")?;
    let n_kv_head = meta_usize(g, a, "attention.head_count_kv").unwrap_or(n_head);
    let hd = meta_usize(g, a, "attention.key_length").unwrap_or(d / n_head.max(1));
    let eps = meta_f32(g, a, "attention.layer_norm_rms_epsilon").unwrap_or(1e-6);
    let window = meta_usize(g, a, "attention.sliding_window").unwrap_or(512);
    let base_global = meta_f32(g, a, "rope.freq_base").unwrap_or(1_000_000.0);
    let base_local = meta_f32(g, a, "rope.freq_base_swa")
        .or_else(|_| meta_f32(g, a, "rope.local_freq_base"))
        .unwrap_or(10_000.0);
    let pattern = meta_usize(g, a, "attention.sliding_window_pattern")
        .or_else(|_| meta_usize(g, a, "attention.sliding_window_type"))
        .unwrap_or(6)
        .max(1);
    let n_vocab = vocab_size(g, a)?;
    let context_length = meta_usize(g, a, "context_length").unwrap_or(8192);
    let (qd, kvd) = (n_head * hd, n_kv_head * hd);
    let cap = capacity(shared, context_length);
    let gpu = b.gpu;
    let mut bytes = 0u64;

    let [x, h, q_raw, q, k_raw, k, v, att, o, gate, up] = [
        ("x", d),
        ("h", d),
        ("q raw", qd),
        ("q", qd),
        ("k raw", kvd),
        ("k", kvd),
        ("v", kvd),
        ("att", qd),
        ("o", d),
        ("gate", ffn),
        ("up", ffn),
    ]
    .map(|(name, n)| scratch(gpu, name, n));
    let (x, h, q_raw, q, k_raw, k, v, att, o, gate, up) = (x?, h?, q_raw?, q?, k_raw?, k?, v?, att?, o?, gate?, up?);
    let scores = scratch(gpu, "scores", n_head * cap)?;
    let logits = scratch(gpu, "logits", n_vocab)?;
    let cache = GpuKvCache::new(gpu, n_layers, kvd, cap)?;

    let embed = weight(gpu, g, "token_embd.weight", n_vocab, d, &mut bytes)?;
    let embed_chunks = embed_ops(b, &embed, &x, &shared.step, (d as f32).sqrt()).await?;
    let mut body = Vec::new();
    for il in 0..n_layers {
        let p = |s: &str| format!("blk.{il}.{s}.weight");
        let sliding = il % pattern < pattern - 1;
        let wq = weight(gpu, g, &p("attn_q"), qd, d, &mut bytes)?;
        let wk = weight(gpu, g, &p("attn_k"), kvd, d, &mut bytes)?;
        let wv = weight(gpu, g, &p("attn_v"), kvd, d, &mut bytes)?;
        let wo = weight(gpu, g, &p("attn_output"), d, qd, &mut bytes)?;
        let wg = weight(gpu, g, &p("ffn_gate"), ffn, d, &mut bytes)?;
        let wu = weight(gpu, g, &p("ffn_up"), ffn, d, &mut bytes)?;
        let wd = weight(gpu, g, &p("ffn_down"), d, ffn, &mut bytes)?;
        let attn_norm = vector(gpu, g, &p("attn_norm"), d, &mut bytes)?;
        let q_norm = vector(gpu, g, &p("attn_q_norm"), hd, &mut bytes)?;
        let k_norm = vector(gpu, g, &p("attn_k_norm"), hd, &mut bytes)?;
        let post_attn = vector(gpu, g, &p("post_attention_norm"), d, &mut bytes)?;
        let ffn_norm = vector(gpu, g, &p("ffn_norm"), d, &mut bytes)?;
        let post_ffn = vector(gpu, g, &p("post_ffw_norm"), d, &mut bytes)?;

        body.push(ops::rms_norm(b, &x, &attn_norm, &h, d, 1, eps, false).await?);
        body.extend(matvec_ops(b, &wq, &h, &q_raw, 0, false).await?);
        body.extend(matvec_ops(b, &wk, &h, &k_raw, 0, false).await?);
        body.extend(matvec_ops(b, &wv, &h, &v, 0, false).await?);
        body.push(ops::rms_norm(b, &q_raw, &q_norm, &q, hd, n_head, eps, false).await?);
        body.push(ops::rms_norm(b, &k_raw, &k_norm, &k, hd, n_kv_head, eps, false).await?);
        let table = if sliding { 0 } else { hd };
        body.push(ops::rope(b, &q, &shared.rope_table, n_head, hd, true, table).await?);
        body.push(ops::rope(b, &k, &shared.rope_table, n_kv_head, hd, true, table).await?);
        let shape = AttnShape {
            n_head,
            n_kv_head,
            head_dim: hd,
            window: if sliding { window } else { 0 },
            scale: 1.0 / (hd as f32).sqrt(),
        };
        let bufs = AttnBuffers {
            q: &q,
            k: &k,
            v: &v,
            k_cache: &cache.k[il],
            v_cache: &cache.v[il],
            scores: &scores,
            out: &att,
            step: &shared.step,
        };
        body.extend(attention_ops(b, &shape, bufs, cap).await?);
        body.extend(matvec_ops(b, &wo, &att, &o, 0, false).await?);
        body.push(ops::rms_norm(b, &o, &post_attn, &x, d, 1, eps, true).await?);

        body.push(ops::rms_norm(b, &x, &ffn_norm, &h, d, 1, eps, false).await?);
        body.extend(matvec_ops(b, &wg, &h, &gate, 0, false).await?);
        body.extend(matvec_ops(b, &wu, &h, &up, 0, false).await?);
        body.push(ops::glu(b, &gate, &up, ffn, Gate::GeluTanh).await?);
        body.extend(matvec_ops(b, &wd, &gate, &o, 0, false).await?);
        body.push(ops::rms_norm(b, &o, &post_ffn, &x, d, 1, eps, true).await?);
    }
    let output_norm = vector(gpu, g, "output_norm.weight", d, &mut bytes)?;
    let mut head = vec![ops::rms_norm(b, &x, &output_norm, &h, d, 1, eps, false).await?];
    head.extend(matvec_ops(b, &embed, &h, &logits, 0, false).await?);
    let name = g.get_str("general.name").unwrap_or_else(|_| "Gemma 3".into());
    Ok(Plan {
        config: Config {
            architecture: a.into(),
            name,
            n_vocab,
            context_length,
            n_layers,
            d_model: d,
            n_head,
            n_kv_head,
            head_dim: hd,
        },
        embed: embed_chunks,
        body,
        head,
        inv_freqs: vec![rope_inv_freq(hd, base_local, None), rope_inv_freq(hd, base_global, None)],
        logits,
        cache,
        weight_bytes: bytes,
    })
}
