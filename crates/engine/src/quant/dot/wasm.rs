//! simd128 building blocks shared by the wasm kernels.

use core::arch::wasm32::*;

/// 16 bytes from `s` (at least 16 long); wasm loads need no alignment.
#[inline(always)]
pub fn load16(s: &[u8]) -> v128 {
    assert!(s.len() >= 16);
    // SAFETY: `s` holds at least 16 bytes, checked above.
    unsafe { v128_load(s.as_ptr() as *const v128) }
}

/// 16 signed activation bytes from `s` (at least 16 long).
#[inline(always)]
pub fn load16_i8(s: &[i8]) -> v128 {
    assert!(s.len() >= 16);
    // SAFETY: `s` holds at least 16 bytes, checked above.
    unsafe { v128_load(s.as_ptr() as *const v128) }
}

/// Products of 16 signed byte pairs, folded to 8 i16 lanes. Activations
/// lie in [-127, 127], so two products (at most 2 * 128 * 127) fit.
#[inline(always)]
fn products(w: v128, x: v128) -> v128 {
    i16x8_add(i16x8_extmul_low_i8x16(w, x), i16x8_extmul_high_i8x16(w, x))
}

/// Sum of 16 signed byte products, spread over 4 i32 lanes.
#[inline(always)]
pub fn dot16(w: v128, x: v128) -> v128 {
    i32x4_extadd_pairwise_i16x8(products(w, x))
}

/// Low and high nibbles of 16 bytes.
#[inline(always)]
pub fn nibbles(q: v128) -> (v128, v128) {
    (v128_and(q, u8x16_splat(0x0f)), u8x16_shr(q, 4))
}

/// 0xff in byte j of the pair (bytes 0..16, 16..32) where bit j of `bits`
/// is set, else 0.
#[inline(always)]
pub fn bits_to_bytes(bits: u32) -> (v128, v128) {
    let v = u32x4_splat(bits);
    // Byte j takes the source byte that holds bit j and keeps only bit j % 8.
    let lo = u8x16_swizzle(v, u8x16(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
    let hi = u8x16_swizzle(v, u8x16(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    let bit = u8x16(1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
    (u8x16_eq(v128_and(lo, bit), bit), u8x16_eq(v128_and(hi, bit), bit))
}

/// The 4 group sums of four `dot16` results (group k in `p[k]`), in order.
#[inline(always)]
pub fn group_sums(p: [v128; 4]) -> v128 {
    let s01 = i32x4_add(i32x4_shuffle::<0, 4, 2, 6>(p[0], p[1]), i32x4_shuffle::<1, 5, 3, 7>(p[0], p[1]));
    let s23 = i32x4_add(i32x4_shuffle::<0, 4, 2, 6>(p[2], p[3]), i32x4_shuffle::<1, 5, 3, 7>(p[2], p[3]));
    i32x4_add(i32x4_shuffle::<0, 1, 4, 5>(s01, s23), i32x4_shuffle::<2, 3, 6, 7>(s01, s23))
}

/// 4 consecutive groups' terms `gs * (sc * S)` (see `Combine`).
#[inline(always)]
pub fn terms(gs: v128, sc: v128, s: v128) -> v128 {
    f32x4_mul(gs, f32x4_mul(sc, f32x4_convert_i32x4(s)))
}

/// 4 consecutive groups' terms `gs * (sc * S - mn * G)` (see `Combine`).
#[inline(always)]
pub fn terms_min(gs: v128, sc: v128, s: v128, mn: v128, g: v128) -> v128 {
    let v = f32x4_sub(f32x4_mul(sc, f32x4_convert_i32x4(s)), f32x4_mul(mn, f32x4_convert_i32x4(g)));
    f32x4_mul(gs, v)
}

/// 4 activation group scales from `s` (at least 4 long).
#[inline(always)]
pub fn load4_f32(s: &[f32]) -> v128 {
    assert!(s.len() >= 4);
    // SAFETY: `s` holds at least 4 values, checked above.
    unsafe { v128_load(s.as_ptr() as *const v128) }
}

/// 4 activation group sums from `s` (at least 4 long).
#[inline(always)]
pub fn load4_i32(s: &[i32]) -> v128 {
    assert!(s.len() >= 4);
    // SAFETY: `s` holds at least 4 values, checked above.
    unsafe { v128_load(s.as_ptr() as *const v128) }
}

/// The four lanes of `t` as `Combine`'s sums.
#[inline(always)]
pub fn to_array(t: v128) -> [f32; 4] {
    [f32x4_extract_lane::<0>(t), f32x4_extract_lane::<1>(t), f32x4_extract_lane::<2>(t), f32x4_extract_lane::<3>(t)]
}
