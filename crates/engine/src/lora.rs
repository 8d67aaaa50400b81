//! LoRA adapters in GGUF, as llama.cpp reads them (`general.type` adapter,
//! `adapter.type` lora, `adapter.lora.alpha`, and for each adapted matrix
//! `NAME.lora_a` of rank x cols and `NAME.lora_b` of rows x rank): a
//! character trained elsewhere on the data the app exports, brought back
//! onto the base model it was trained from. An adapted matrix computes
//! `W x + s B (A x)` with `s = scale * alpha / rank` (`scale` alone when the
//! file gives no alpha), on top of the model's weights, which stay as they are.

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::gguf::Gguf;
use crate::kv_snapshot::{fnv1a, fingerprint};
use crate::matrix::Weight;
use crate::par;
use crate::quant::dot_row;

pub struct Adapter {
    file: Gguf,
    /// (A, B) by the name of the matrix they adapt.
    pairs: HashMap<String, Arc<(Weight, Weight)>>,
    scale: f32,
    /// 0 when the file gives none.
    alpha: f32,
    fingerprint: u64,
}

impl Adapter {
    /// Reads an adapter file and checks it against the model it is for.
    pub fn load(bytes: Vec<u8>, scale: f32, model: &Gguf) -> Result<Arc<Adapter>> {
        let bad = |why: String| Error::Adapter(why);
        if !scale.is_finite() {
            return Err(bad(format!("a scale of {scale}")));
        }
        let file = Gguf::from_bytes(bytes)?;
        if file.get_str("general.type").ok().as_deref() != Some("adapter") || file.get_str("adapter.type").ok().as_deref() != Some("lora") {
            return Err(bad("not a LoRA adapter (general.type adapter, adapter.type lora)".into()));
        }
        let (arch, base) = (file.architecture()?, model.architecture()?);
        if arch != base {
            return Err(bad(format!("made for {arch}, and this model is {base}")));
        }
        let alpha = file.get_f32("adapter.lora.alpha").unwrap_or(0.0);
        let mut pairs = HashMap::new();
        for name in file.tensors.keys().filter_map(|n| n.strip_suffix(".lora_a")) {
            let (a, b) = (file.tensor(&format!("{name}.lora_a"))?, file.tensor(&format!("{name}.lora_b"))?);
            if name.starts_with("token_embd") {
                return Err(bad(format!("{name}: adapters of the embedding are not supported")));
            }
            let w = model.tensor(name).map_err(|_| bad(format!("{name} is not in the model: an adapter of another base model?")))?;
            let (rows, cols) = match w.dims.as_slice() {
                [r, c] => (*r, *c),
                _ => return Err(bad(format!("{name} is not a matrix"))),
            };
            let rank = a.dims.first().copied().unwrap_or(0);
            if rank == 0 || a.dims != [rank, cols] || b.dims != [rows, rank] {
                return Err(bad(format!("{name}: A {:?} and B {:?} do not fit a {rows}x{cols} matrix", a.dims, b.dims)));
            }
            pairs.insert(name.to_string(), Arc::new((Weight::from_ref(a, rank, cols)?, Weight::from_ref(b, rows, rank)?)));
        }
        if file.tensors.keys().any(|n| n.ends_with(".lora_b") && !pairs.contains_key(n.trim_end_matches(".lora_b"))) {
            return Err(bad("a lora_b without its lora_a".into()));
        }
        if pairs.is_empty() {
            return Err(bad("it adapts no matrix".into()));
        }
        let fingerprint = fnv1a(&scale.to_bits().to_le_bytes(), fingerprint(file.bytes()));
        Ok(Arc::new(Adapter { file, pairs, scale, alpha, fingerprint }))
    }

    /// Names the adapter and its scale (stored prefixes of an adapted model are its own).
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// Matrices it adapts.
    pub fn matrices(&self) -> usize {
        self.pairs.len()
    }

    /// The adapter of rows `row0..` of the matrix `name`, if any.
    pub(crate) fn lora(self: &Arc<Self>, name: &str, row0: usize) -> Option<Lora> {
        let ab = self.pairs.get(name)?;
        let scale = if self.alpha != 0.0 { self.scale * self.alpha / ab.0.rows as f32 } else { self.scale };
        Some(Lora { adapter: self.clone(), ab: ab.clone(), row0, scale })
    }
}

/// One matrix's adapter (a row range of it, for a tensor read in parts).
#[derive(Clone)]
pub struct Lora {
    /// Holds the file A and B are read from.
    adapter: Arc<Adapter>,
    /// A and B (behind an Arc: a `Weight` holds its `Lora`).
    ab: Arc<(Weight, Weight)>,
    row0: usize,
    scale: f32,
}

impl std::fmt::Debug for Lora {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Lora({} from row {}, scale {})", self.ab.1.name, self.row0, self.scale)
    }
}

/// An adapted part's matrices as a backend uploads them.
pub(crate) struct LoraParts<'a> {
    pub a_type: crate::quant::QType,
    pub rank: usize,
    pub cols: usize,
    /// A, rank x cols.
    pub a: &'a [u8],
    pub b_type: crate::quant::QType,
    /// B's rows of the part, rows x rank.
    pub b: &'a [u8],
    pub scale: f32,
}

impl Lora {
    /// A, and B's `rows` rows from this part's first, with the scale.
    pub(crate) fn parts(&self, rows: usize) -> LoraParts<'_> {
        let (a, b) = (&self.ab.0, &self.ab.1);
        let bytes = self.adapter.file.bytes();
        LoraParts {
            a_type: a.qtype,
            rank: a.rows,
            cols: a.cols,
            a: a.rows_bytes(bytes, 0, a.rows),
            b_type: b.qtype,
            b: b.rows_bytes(bytes, self.row0, rows),
            scale: self.scale,
        }
    }

    /// Adds `s B (A x)` for rows `r0..r0 + n` (of the part) to `out`, which
    /// holds those rows for each of the `t` tokens of `x`.
    pub(crate) fn add(&self, x: &[f32], t: usize, r0: usize, n: usize, out: &mut [f32]) {
        let (a, b) = (&self.ab.0, &self.ab.1);
        let bytes = self.adapter.file.bytes();
        let rank = a.rows;
        let mut ax = vec![0f32; t * rank];
        a.matmul(bytes, x, t, &mut ax);
        par::for_chunks(&mut out[..t * n], n, |first, row| {
            let ax = &ax[(first / n) * rank..(first / n + 1) * rank];
            for (i, o) in row.iter_mut().enumerate() {
                *o += self.scale * dot_row(b.qtype, b.row(bytes, self.row0 + r0 + i), ax);
            }
        });
    }
}
