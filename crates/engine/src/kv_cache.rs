//! Keys and values of every processed position, per layer, in f32. Grows as
//! the chat grows (a 32k-token context is not reserved up front), and is
//! truncated back to a shared prefix when a new prompt diverges.

pub struct KvCache {
    /// Floats a position of each layer's keys and values. Every attention
    /// layer of a model has the same; LFM2's convolution layers keep the
    /// convolution's input (the model's width) as their keys and no values.
    widths: Vec<(usize, usize)>,
    len: usize,
    pub(crate) k: Vec<Vec<f32>>,
    pub(crate) v: Vec<Vec<f32>>,
}

impl KvCache {
    pub fn new(n_layers: usize, kv_dim: usize) -> Self {
        Self::with_widths(vec![(kv_dim, kv_dim); n_layers])
    }

    /// A cache whose layer `i` holds `widths[i]` (key, value) floats a position.
    pub fn with_widths(widths: Vec<(usize, usize)>) -> Self {
        let n = widths.len();
        KvCache { widths, len: 0, k: vec![Vec::new(); n], v: vec![Vec::new(); n] }
    }

    /// Positions held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// (key, value) floats a position, per layer.
    pub fn widths(&self) -> &[(usize, usize)] {
        &self.widths
    }

    pub fn n_layers(&self) -> usize {
        self.k.len()
    }

    /// Layer `layer`'s keys, position after position.
    pub fn keys(&self, layer: usize) -> &[f32] {
        &self.k[layer][..self.len * self.widths[layer].0]
    }

    /// Layer `layer`'s values, position after position.
    pub fn values(&self, layer: usize) -> &[f32] {
        &self.v[layer][..self.len * self.widths[layer].1]
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn truncate(&mut self, len: usize) {
        if len < self.len {
            self.len = len;
            for ((k, v), &(kw, vw)) in self.k.iter_mut().zip(&mut self.v).zip(&self.widths) {
                k.truncate(len * kw);
                v.truncate(len * vw);
            }
        }
    }

    /// Appends `t` positions of keys and values for `layer`, rounded to f16
    /// precision as llama.cpp's f16 cache stores them.
    pub fn push(&mut self, layer: usize, k: &[f32], v: &[f32]) {
        self.k[layer].extend(k.iter().map(|&x| crate::ops::round_f16(x)));
        self.v[layer].extend(v.iter().map(|&x| crate::ops::round_f16(x)));
    }

    /// A copy of positions `from..from + n` of every layer, each layer's
    /// keys handed to `rekey(layer, keys)` (which re-rotates them for the
    /// place they will take) and rounded to f16 again, as a cache that
    /// stores f16 would hold them.
    pub(crate) fn copy_rows(&self, from: usize, n: usize, mut rekey: impl FnMut(usize, &mut [f32])) -> Rows {
        assert!(from + n <= self.len, "rows {from}..+{n} of a cache of {}", self.len);
        let k = (self.k.iter().enumerate())
            .map(|(layer, keys)| {
                let w = self.widths[layer].0;
                let mut moved = keys[from * w..(from + n) * w].to_vec();
                rekey(layer, &mut moved);
                moved.iter_mut().for_each(|x| *x = crate::ops::round_f16(*x));
                moved
            })
            .collect();
        let v = (self.v.iter().zip(&self.widths)).map(|(values, &(_, w))| values[from * w..(from + n) * w].to_vec()).collect();
        Rows { n, k, v }
    }

    /// Appends copied rows after the last position.
    pub(crate) fn append_rows(&mut self, rows: &Rows) {
        for (dst, src) in self.k.iter_mut().zip(&rows.k).chain(self.v.iter_mut().zip(&rows.v)) {
            dst.extend_from_slice(src);
        }
        self.len += rows.n;
    }

    /// Called once all layers have pushed `t` new positions.
    pub fn advance(&mut self, t: usize) {
        self.len += t;
    }

    pub fn bytes(&self) -> usize {
        self.k.iter().chain(self.v.iter()).map(|l| l.capacity() * 4).sum()
    }
}

/// Positions copied out of a cache (`KvCache::copy_rows`), every layer's.
pub(crate) struct Rows {
    n: usize,
    k: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
}
