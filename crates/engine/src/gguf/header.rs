//! The GGUF header (metadata and tensor table), read by the engine itself
//! so that every tensor type a file may name is seen, supported or not,
//! and a hostile or truncated header is an error, never a huge allocation
//! or a panic. Format: github.com/ggml-org/ggml/blob/master/docs/gguf.md.

use std::collections::HashMap;

use candle_core::quantized::gguf_file::Value;

use crate::error::{Error, Result};

/// One entry of the tensor table, as the file states it.
#[derive(Debug, Clone)]
pub struct TensorInfo {
    pub name: String,
    /// GGUF's `ne`: the fastest-varying dimension (a row's length) first.
    pub ne: Vec<u64>,
    pub ggml_type: u32,
    /// From the start of the tensor data.
    pub offset: u64,
}

#[derive(Debug)]
pub struct Header {
    pub metadata: HashMap<String, Value>,
    pub tensors: Vec<TensorInfo>,
    /// Where the tensor data starts in the file.
    pub data_offset: usize,
}

/// Nesting of arrays inside arrays accepted in metadata.
const MAX_DEPTH: usize = 4;

/// Array items in all of a file's metadata. Each costs far more memory
/// than its bytes in the file (a one-byte item is a 32-byte value), so a
/// file of a few hundred MB of byte arrays could ask for tens of GB. Real
/// files hold about a million (a 262,144-token vocabulary's tokens, scores
/// and types; Qwen's 151,387 merges).
const MAX_ITEMS: usize = 1 << 23;

pub fn read(b: &[u8]) -> Result<Header> {
    let mut r = Reader { b, pos: 0, items: 0 };
    if r.take(4)? != b"GGUF" {
        return Err(Error::NotGguf("the file does not start with the GGUF magic".into()));
    }
    let version = r.u32()?;
    if !(1..=3).contains(&version) {
        return Err(Error::Corrupt(format!("GGUF version {version} (this engine reads 1 to 3)")));
    }
    // Version 1 counted lengths in 32 bits.
    let wide = version >= 2;
    let n_tensors = r.len(wide)?;
    let n_kv = r.len(wide)?;
    let mut metadata = HashMap::new();
    for _ in 0..r.bounded(n_kv)? {
        let key = r.string(wide)?;
        let ty = r.u32()?;
        let value = r.value(ty, wide, 0)?;
        metadata.insert(key, value);
    }
    let mut tensors = Vec::new();
    for _ in 0..r.bounded(n_tensors)? {
        let name = r.string(wide)?;
        let n_dims = r.u32()? as usize;
        if n_dims > 8 {
            return Err(Error::Corrupt(format!("tensor `{name}` has {n_dims} dimensions")));
        }
        let ne = (0..n_dims).map(|_| r.u64_or_u32(wide)).collect::<Result<Vec<_>>>()?;
        let ggml_type = r.u32()?;
        let offset = r.u64()?;
        tensors.push(TensorInfo { name, ne, ggml_type, offset });
    }
    let alignment = match metadata.get("general.alignment") {
        Some(Value::U32(a)) if a.is_power_of_two() => *a as usize,
        Some(v) => return Err(Error::Corrupt(format!("general.alignment is {v:?}, not a power of two"))),
        None => 32,
    };
    let data_offset = r.pos.div_ceil(alignment) * alignment;
    Ok(Header { metadata, tensors, data_offset })
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    /// Array items read so far.
    items: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.b.len()).ok_or_else(|| {
            Error::Corrupt(format!("the header ends early: {n} bytes wanted at byte {} of {} (truncated?)", self.pos, self.b.len()))
        })?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }

    fn u64_or_u32(&mut self, wide: bool) -> Result<u64> {
        if wide { self.u64() } else { self.u32().map(u64::from) }
    }

    fn len(&mut self, wide: bool) -> Result<usize> {
        let n = self.u64_or_u32(wide)?;
        usize::try_from(n).map_err(|_| Error::Corrupt(format!("a length of {n} at byte {}", self.pos)))
    }

    /// A count of items each at least a byte long: no more than the bytes
    /// left, so a hostile count cannot make a loop or allocation outlast
    /// the file.
    fn bounded(&self, n: usize) -> Result<usize> {
        let left = self.b.len() - self.pos;
        if n > left {
            return Err(Error::Corrupt(format!("a count of {n} items with {left} bytes left (truncated?)")));
        }
        Ok(n)
    }

    fn string(&mut self, wide: bool) -> Result<String> {
        let n = self.len(wide)?;
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }

    fn value(&mut self, ty: u32, wide: bool, depth: usize) -> Result<Value> {
        let v = match ty {
            0 => Value::U8(self.take(1)?[0]),
            1 => Value::I8(self.take(1)?[0] as i8),
            2 => Value::U16(u16::from_le_bytes(self.take(2)?.try_into().unwrap())),
            3 => Value::I16(i16::from_le_bytes(self.take(2)?.try_into().unwrap())),
            4 => Value::U32(self.u32()?),
            5 => Value::I32(self.u32()? as i32),
            6 => Value::F32(f32::from_bits(self.u32()?)),
            7 => Value::Bool(self.take(1)?[0] != 0),
            8 => Value::String(self.string(wide)?),
            9 if depth < MAX_DEPTH => {
                let inner = self.u32()?;
                let n = self.len(wide)?;
                let n = self.bounded(n)?;
                self.items += n;
                if self.items > MAX_ITEMS {
                    return Err(Error::Corrupt(format!("more than {MAX_ITEMS} metadata values (at byte {})", self.pos)));
                }
                let mut items = Vec::with_capacity(n.min(1 << 20));
                for _ in 0..n {
                    items.push(self.value(inner, wide, depth + 1)?);
                }
                Value::Array(items)
            }
            10 => Value::U64(self.u64()?),
            11 => Value::I64(self.u64()? as i64),
            12 => Value::F64(f64::from_bits(self.u64()?)),
            _ => return Err(Error::Corrupt(format!("metadata value of type {ty} at byte {}", self.pos))),
        };
        Ok(v)
    }
}
