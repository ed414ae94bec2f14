//! Payload masking (RFC 6455 §5.3): `data[i] ^= key[(offset + i) % 4]`.
//!
//! [`apply_mask`] masks in place; [`mask_into_uninit`] and [`mask_extend`]
//! copy and mask in one pass (the binding writes straight into a new Python
//! `bytes`, the receive path into the message buffer). Each takes the position
//! in the key where the slice starts (`offset`, 0..=3), so a payload that
//! arrives in pieces is unmasked piece by piece. The loops work on 32-byte
//! blocks that the compiler vectorises; on x86-64 a copy compiled for AVX2 is
//! picked at run time when the CPU has it. [`apply_mask_reference`] is the
//! byte-at-a-time definition they are tested against.
//!
//! `unsafe` is allowed in this module only (the crate denies it elsewhere),
//! for two things: calling the AVX2 copy after detecting the feature, and
//! marking a `Vec`'s spare capacity initialised after writing it.
#![allow(unsafe_code)]

use std::mem::MaybeUninit;

/// Bytes per block of the fast loops (two SSE2 or one AVX2 register).
const BLOCK: usize = 32;

/// Return the key rotated so that its first byte applies at `offset`.
#[inline]
fn rotated(key: [u8; 4], offset: usize) -> [u8; 4] {
    let mut rot = key;
    rot.rotate_left(offset % 4);
    rot
}

/// Return `key` repeated to fill one block.
#[inline]
fn block_key(key: [u8; 4]) -> [u8; BLOCK] {
    let mut block = [0u8; BLOCK];
    for (i, byte) in block.iter_mut().enumerate() {
        *byte = key[i % 4];
    }
    block
}

// NOTE(gyrfalcon): `inline(always)` so that the body is compiled again, with
//   AVX2, inside the `target_feature` functions below; an out-of-line call
//   would run the SSE2 code.
#[allow(clippy::inline_always)]
#[inline(always)]
fn apply_generic(data: &mut [u8], key: [u8; 4]) {
    let block = block_key(key);
    let mut chunks = data.chunks_exact_mut(BLOCK);
    for chunk in &mut chunks {
        for (byte, k) in chunk.iter_mut().zip(block.iter()) {
            *byte ^= k;
        }
    }
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
}

#[allow(clippy::inline_always)]
#[inline(always)]
fn copy_generic(dst: &mut [MaybeUninit<u8>], src: &[u8], key: [u8; 4]) {
    let block = block_key(key);
    let mut dst_chunks = dst.chunks_exact_mut(BLOCK);
    let mut src_chunks = src.chunks_exact(BLOCK);
    for (d, s) in (&mut dst_chunks).zip(&mut src_chunks) {
        for ((d, s), k) in d.iter_mut().zip(s.iter()).zip(block.iter()) {
            d.write(s ^ k);
        }
    }
    let tail = dst_chunks.into_remainder();
    for (i, (d, s)) in tail.iter_mut().zip(src_chunks.remainder()).enumerate() {
        d.write(s ^ key[i % 4]);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn apply_avx2(data: &mut [u8], key: [u8; 4]) {
    apply_generic(data, key);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn copy_avx2(dst: &mut [MaybeUninit<u8>], src: &[u8], key: [u8; 4]) {
    copy_generic(dst, src, key);
}

/// Return True when the AVX2 copies may be called (detected once, then cached).
#[cfg(target_arch = "x86_64")]
#[inline]
fn has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

/// Below this many bytes the feature check costs more than it saves.
const SIMD_MIN: usize = 128;

/// Mask `data` in place, starting at position `offset` of the key.
///
/// Returns the key position after the last byte, to pass as the `offset`
/// of the next piece of the same payload.
pub fn apply_mask(data: &mut [u8], key: [u8; 4], offset: usize) -> usize {
    let end = (offset + data.len()) % 4;
    let key = rotated(key, offset);
    #[cfg(target_arch = "x86_64")]
    if data.len() >= SIMD_MIN && has_avx2() {
        // SAFETY: the CPU supports AVX2 (checked just above), the only
        // requirement of calling a `#[target_feature(enable = "avx2")]` function.
        unsafe { apply_avx2(data, key) };
        return end;
    }
    apply_generic(data, key);
    end
}

/// Write `src` masked into `dst`, starting at key position `offset`.
///
/// Every byte of `dst[..min(dst.len(), src.len())]` is initialised. Returns
/// the key position after the last byte written.
pub fn mask_into_uninit(
    dst: &mut [MaybeUninit<u8>],
    src: &[u8],
    key: [u8; 4],
    offset: usize,
) -> usize {
    let len = dst.len().min(src.len());
    let (dst, src) = (&mut dst[..len], &src[..len]);
    let key = rotated(key, offset);
    #[cfg(target_arch = "x86_64")]
    if len >= SIMD_MIN && has_avx2() {
        // SAFETY: the CPU supports AVX2 (checked just above), the only
        // requirement of calling a `#[target_feature(enable = "avx2")]` function.
        unsafe { copy_avx2(dst, src, key) };
        return (offset + len) % 4;
    }
    copy_generic(dst, src, key);
    (offset + len) % 4
}

/// Append `src` masked to `out`, starting at key position `offset`.
///
/// Returns the key position after the last byte. The bytes are written once,
/// straight into `out`'s spare capacity.
pub fn mask_extend(out: &mut Vec<u8>, src: &[u8], key: [u8; 4], offset: usize) -> usize {
    out.reserve(src.len());
    let start = out.len();
    let end = mask_into_uninit(&mut out.spare_capacity_mut()[..src.len()], src, key, offset);
    // SAFETY: `reserve` made room for `src.len()` more bytes, and
    // `mask_into_uninit` initialised exactly those `src.len()` bytes of the
    // spare capacity (its output is the shorter of its two slices, and both
    // are `src.len()` long).
    unsafe { out.set_len(start + src.len()) };
    end
}

/// Mask `data` in place one byte at a time: the definition of RFC 6455 §5.3.
///
/// Kept for differential tests of the fast versions.
pub fn apply_mask_reference(data: &mut [u8], key: [u8; 4], offset: usize) -> usize {
    for (i, byte) in data.iter_mut().enumerate() {
        *byte ^= key[(offset + i) % 4];
    }
    (offset + data.len()) % 4
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

    fn sample(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + 3) as u8).collect()
    }

    fn check(len: usize, offset: usize) {
        let mut expected = sample(len);
        let end = apply_mask_reference(&mut expected, KEY, offset);
        let mut fast = sample(len);
        assert_eq!(apply_mask(&mut fast, KEY, offset), end);
        assert_eq!(fast, expected, "apply_mask len {len} offset {offset}");
        let mut out = vec![9u8];
        assert_eq!(mask_extend(&mut out, &sample(len), KEY, offset), end);
        assert_eq!(
            &out[1..],
            &expected[..],
            "mask_extend len {len} offset {offset}"
        );
        assert_eq!(out[0], 9);
        generic_matches(len, offset, &expected);
    }

    /// The portable loops, whatever the CPU picks at run time.
    fn generic_matches(len: usize, offset: usize, expected: &[u8]) {
        let mut data = sample(len);
        apply_generic(&mut data, rotated(KEY, offset));
        assert_eq!(data, expected);
        let mut out: Vec<u8> = Vec::with_capacity(len);
        copy_generic(
            &mut out.spare_capacity_mut()[..len],
            &sample(len),
            rotated(KEY, offset),
        );
        // SAFETY: `copy_generic` initialised all `len` bytes.
        unsafe { out.set_len(len) };
        assert_eq!(out, expected);
    }

    #[test]
    fn every_length_and_offset_matches_the_reference() {
        for len in 0..=64 {
            for offset in 0..=3 {
                check(len, offset);
            }
        }
        // Past the SIMD threshold, around block boundaries.
        for len in [127, 128, 129, 159, 160, 161, 1000, 4099] {
            for offset in 0..=3 {
                check(len, offset);
            }
        }
    }

    #[test]
    fn piecewise_masking_equals_whole() {
        let data = sample(700);
        let mut whole = data.clone();
        apply_mask_reference(&mut whole, KEY, 0);
        for split in [1usize, 3, 5, 33, 64, 199, 513] {
            let mut pieces = data.clone();
            let (a, b) = pieces.split_at_mut(split);
            let offset = apply_mask(a, KEY, 0);
            apply_mask(b, KEY, offset);
            assert_eq!(pieces, whole, "split {split}");
            let mut out = Vec::new();
            let offset = mask_extend(&mut out, &data[..split], KEY, 0);
            mask_extend(&mut out, &data[split..], KEY, offset);
            assert_eq!(out, whole, "extend split {split}");
        }
    }

    #[test]
    fn rfc_hello() {
        let mut data = *b"Hello";
        apply_mask(&mut data, KEY, 0);
        assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
    }
}
