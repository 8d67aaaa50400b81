//! Keys and values of every processed position, per layer, in f32. Grows as
//! the chat grows (a 32k-token context is not reserved up front), and is
//! truncated back to a shared prefix when a new prompt diverges.
//!
//! A recurrent layer (Qwen3.5's DeltaNet) also carries a state that sums
//! every position before it and cannot be cut back. The cache keeps copies
//! of it at a few recent positions (checkpoints: where a read began and
//! before a read's last token, which is where a new prompt, a draft edited
//! or a reply swiped diverges), and a cut lands on the latest one at or
//! before the position asked for (`reachable`).

/// Checkpoints kept; the oldest goes first. Qwen3.5 0.8B's states are 19 MB a checkpoint.
const CHECKPOINTS: usize = 6;

pub struct KvCache {
    /// Floats a position of each layer's keys and values. Every attention
    /// layer of a model has the same; LFM2's convolution layers keep the
    /// convolution's input (the model's width) as their keys and no values.
    widths: Vec<(usize, usize)>,
    len: usize,
    pub(crate) k: Vec<Vec<f32>>,
    pub(crate) v: Vec<Vec<f32>>,
    /// Each recurrent layer's state after `len` positions (empty for the
    /// other layers; all empty in a model without one).
    states: Vec<Vec<f32>>,
    /// States at earlier positions, by position.
    checkpoints: Vec<Checkpoint>,
}

struct Checkpoint {
    at: usize,
    states: Vec<Vec<f32>>,
}

impl KvCache {
    pub fn new(n_layers: usize, kv_dim: usize) -> Self {
        Self::with_widths(vec![(kv_dim, kv_dim); n_layers])
    }

    /// A cache whose layer `i` holds `widths[i]` (key, value) floats a position.
    pub fn with_widths(widths: Vec<(usize, usize)>) -> Self {
        Self::with_states(widths, &[])
    }

    /// ... and a recurrent state of `state_sizes[i]` floats (0: none; an
    /// empty list: no layer has one).
    pub fn with_states(widths: Vec<(usize, usize)>, state_sizes: &[usize]) -> Self {
        let n = widths.len();
        let states = (0..n).map(|i| vec![0f32; state_sizes.get(i).copied().unwrap_or(0)]).collect();
        KvCache { widths, len: 0, k: vec![Vec::new(); n], v: vec![Vec::new(); n], states, checkpoints: Vec::new() }
    }

    /// Whether a layer carries a recurrent state (the cache then cuts back
    /// only to checkpoints and is never shifted).
    pub fn is_recurrent(&self) -> bool {
        self.states.iter().any(|s| !s.is_empty())
    }

    /// Layer `layer`'s recurrent state after the cached positions.
    pub(crate) fn state_mut(&mut self, layer: usize) -> &mut [f32] {
        &mut self.states[layer]
    }

    /// Every layer's state after `len` positions (`len` is what `reachable`
    /// gives), or None when the cache holds it no more.
    pub(crate) fn states_at(&self, len: usize) -> Option<Vec<Vec<f32>>> {
        if len == self.len || !self.is_recurrent() {
            return Some(self.states.clone());
        }
        if len == 0 {
            return Some(self.states.iter().map(|s| vec![0.0; s.len()]).collect());
        }
        self.checkpoints.iter().find(|c| c.at == len).map(|c| c.states.clone())
    }

    /// Keeps `states` as the state after `at` positions (a model's forward
    /// pass hands over the one before a read's last token).
    pub(crate) fn keep_checkpoint(&mut self, at: usize, states: Vec<Vec<f32>>) {
        if at == 0 || self.checkpoints.iter().any(|c| c.at == at) {
            return;
        }
        let i = self.checkpoints.partition_point(|c| c.at < at);
        self.checkpoints.insert(i, Checkpoint { at, states });
        if self.checkpoints.len() > CHECKPOINTS {
            self.checkpoints.remove(0);
        }
    }

    /// Keeps the current state (a read begins here).
    pub(crate) fn checkpoint(&mut self) {
        if self.is_recurrent() {
            self.keep_checkpoint(self.len, self.states.clone());
        }
    }

    /// The longest prefix of at most `len` positions the cache can be cut
    /// back to: `len` itself, but for a recurrent state, whose latest
    /// checkpoint at or before it (or nothing) is where a cut can land.
    pub fn reachable(&self, len: usize) -> usize {
        if len >= self.len || !self.is_recurrent() {
            return len;
        }
        self.checkpoints.iter().rev().map(|c| c.at).find(|&at| at <= len).unwrap_or(0)
    }

    /// Puts back states kept from elsewhere (a stored prefix).
    pub(crate) fn set_states(&mut self, states: Vec<Vec<f32>>) {
        self.states = states;
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

    /// Cuts the cache back to `reachable(len)` positions.
    pub fn truncate(&mut self, len: usize) {
        if len < self.len {
            let len = self.reachable(len);
            if self.is_recurrent() {
                self.states = self.states_at(len).expect("a reachable position has its states");
                self.checkpoints.retain(|c| c.at <= len);
            }
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
        let states = self.checkpoints.iter().flat_map(|c| &c.states).chain(&self.states);
        self.k.iter().chain(self.v.iter()).chain(states).map(|l| l.capacity() * 4).sum()
    }
}

/// Positions copied out of a cache (`KvCache::copy_rows`), every layer's.
pub(crate) struct Rows {
    n: usize,
    k: Vec<Vec<f32>>,
    v: Vec<Vec<f32>>,
}
