//! Keys and values of every processed position, per layer, in f32. Grows as
//! the chat grows (a 32k-token context is not reserved up front), and is
//! truncated back to a shared prefix when a new prompt diverges.

pub struct KvCache {
    kv_dim: usize,
    len: usize,
    pub(crate) k: Vec<Vec<f32>>,
    pub(crate) v: Vec<Vec<f32>>,
}

impl KvCache {
    pub fn new(n_layers: usize, kv_dim: usize) -> Self {
        KvCache { kv_dim, len: 0, k: vec![Vec::new(); n_layers], v: vec![Vec::new(); n_layers] }
    }

    /// Positions held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Key (and value) floats per position and layer.
    pub fn kv_dim(&self) -> usize {
        self.kv_dim
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn truncate(&mut self, len: usize) {
        if len < self.len {
            self.len = len;
            for l in self.k.iter_mut().chain(self.v.iter_mut()) {
                l.truncate(len * self.kv_dim);
            }
        }
    }

    /// Appends `t` positions of keys and values for `layer`, rounded to f16
    /// precision as llama.cpp's f16 cache stores them.
    pub fn push(&mut self, layer: usize, k: &[f32], v: &[f32]) {
        self.k[layer].extend(k.iter().map(|&x| crate::ops::round_f16(x)));
        self.v[layer].extend(v.iter().map(|&x| crate::ops::round_f16(x)));
    }

    /// Called once all layers have pushed `t` new positions.
    pub fn advance(&mut self, t: usize) {
        self.len += t;
    }

    pub fn bytes(&self) -> usize {
        self.k.iter().chain(self.v.iter()).map(|l| l.capacity() * 4).sum()
    }
}
