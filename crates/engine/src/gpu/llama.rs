//! Llama-family decoders on the GPU, the graph of `models::llama`: Llama
//! 2/3 (NORM RoPE, optional `rope_freqs`) and Qwen2 (q/k/v biases, NEOX
//! RoPE); pre-norm blocks whose projections add straight into the residual,
//! SwiGLU, untied or tied LM head.

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
    let a = g.architecture()?;
    let a = a.as_str();
    let d = meta_usize(g, a, "embedding_length")?;
    let n_layers = meta_usize(g, a, "block_count")?;
    let ffn = meta_usize(g, a, "feed_forward_length")?;
    let n_head = meta_usize(g, a, "attention.head_count")?;
    let n_kv_head = meta_usize(g, a, "attention.head_count_kv").unwrap_or(n_head);
    let hd = meta_usize(g, a, "attention.key_length").unwrap_or(d / n_head.max(1));
    let eps = meta_f32(g, a, "attention.layer_norm_rms_epsilon").unwrap_or(1e-5);
    let base = meta_f32(g, a, "rope.freq_base").unwrap_or(10_000.0);
    let rope_dims = meta_usize(g, a, "rope.dimension_count").unwrap_or(hd);
    let n_vocab = vocab_size(g, a)?;
    let context_length = meta_usize(g, a, "context_length").unwrap_or(4096);
    let (qd, kvd) = (n_head * hd, n_kv_head * hd);
    let qwen = a == "qwen2";
    let cap = capacity(shared, context_length);
    let gpu = b.gpu;
    let mut bytes = 0u64;

    let [x, h, q, k, v, att, gate, up] =
        [("x", d), ("h", d), ("q", qd), ("k", kvd), ("v", kvd), ("att", qd), ("gate", ffn), ("up", ffn)]
            .map(|(name, n)| scratch(gpu, name, n));
    let (x, h, q, k, v, att, gate, up) = (x?, h?, q?, k?, v?, att?, gate?, up?);
    let scores = scratch(gpu, "scores", n_head * cap)?;
    let logits = scratch(gpu, "logits", n_vocab)?;
    let cache = GpuKvCache::new(gpu, n_layers, kvd, cap)?;

    let embed = weight(gpu, g, "token_embd.weight", n_vocab, d, &mut bytes)?;
    let embed_chunks = embed_ops(b, &embed, &x, &shared.step, 1.0).await?;
    let mut body = Vec::new();
    for il in 0..n_layers {
        let p = |s: &str| format!("blk.{il}.{s}.weight");
        let bias = |s: &str| format!("blk.{il}.{s}.bias");
        let wq = weight(gpu, g, &p("attn_q"), qd, d, &mut bytes)?;
        let wk = weight(gpu, g, &p("attn_k"), kvd, d, &mut bytes)?;
        let wv = weight(gpu, g, &p("attn_v"), kvd, d, &mut bytes)?;
        let wo = weight(gpu, g, &p("attn_output"), d, qd, &mut bytes)?;
        let wg = weight(gpu, g, &p("ffn_gate"), ffn, d, &mut bytes)?;
        let wu = weight(gpu, g, &p("ffn_up"), ffn, d, &mut bytes)?;
        let wd = weight(gpu, g, &p("ffn_down"), d, ffn, &mut bytes)?;
        let attn_norm = vector(gpu, g, &p("attn_norm"), d, &mut bytes)?;
        let ffn_norm = vector(gpu, g, &p("ffn_norm"), d, &mut bytes)?;

        body.push(ops::rms_norm(b, &x, &attn_norm, &h, d, 1, eps, false).await?);
        body.extend(matvec_ops(b, &wq, &h, &q, 0, false).await?);
        body.extend(matvec_ops(b, &wk, &h, &k, 0, false).await?);
        body.extend(matvec_ops(b, &wv, &h, &v, 0, false).await?);
        if qwen || g.has_tensor(&bias("attn_q")) {
            for (dst, name, n) in [(&q, "attn_q", qd), (&k, "attn_k", kvd), (&v, "attn_v", kvd)] {
                let bv = vector(gpu, g, &bias(name), n, &mut bytes)?;
                body.push(ops::add(b, dst, &bv, n).await?);
            }
        }
        body.push(ops::rope(b, &q, &shared.rope_table, n_head, hd, qwen, 0).await?);
        body.push(ops::rope(b, &k, &shared.rope_table, n_kv_head, hd, qwen, 0).await?);
        let shape = AttnShape { n_head, n_kv_head, head_dim: hd, window: 0, scale: 1.0 / (hd as f32).sqrt() };
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
        body.extend(matvec_ops(b, &wo, &att, &x, 0, true).await?);

        body.push(ops::rms_norm(b, &x, &ffn_norm, &h, d, 1, eps, false).await?);
        body.extend(matvec_ops(b, &wg, &h, &gate, 0, false).await?);
        body.extend(matvec_ops(b, &wu, &h, &up, 0, false).await?);
        body.push(ops::glu(b, &gate, &up, ffn, Gate::Silu).await?);
        body.extend(matvec_ops(b, &wd, &gate, &x, 0, true).await?);
    }
    let output_norm = vector(gpu, g, "output_norm.weight", d, &mut bytes)?;
    let lm_head = if g.has_tensor("output.weight") { Some(weight(gpu, g, "output.weight", n_vocab, d, &mut bytes)?) } else { None };
    let mut head = vec![ops::rms_norm(b, &x, &output_norm, &h, d, 1, eps, false).await?];
    head.extend(matvec_ops(b, lm_head.as_ref().unwrap_or(&embed), &h, &logits, 0, false).await?);
    let factors = if g.has_tensor("rope_freqs.weight") {
        Some(crate::matrix::load_vector(g, "rope_freqs.weight", rope_dims / 2)?)
    } else {
        None
    };
    let name = g.get_str("general.name").unwrap_or_else(|_| a.into());
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
        inv_freqs: vec![rope_inv_freq(hd, base, factors.as_deref())],
        logits,
        cache,
        weight_bytes: bytes,
    })
}
