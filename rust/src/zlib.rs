//! Safe wrappers over zlib's raw deflate and inflate streams.
//!
//! [`Deflater`] and [`Inflater`] own one zlib stream each (zlib 1.3 built
//! from source by `libz-sys`, linked statically: no system package is
//! needed). They speak **raw** deflate (no zlib header or checksum), as RFC
//! 7692 requires, with the window and `memLevel` chosen by the caller, so
//! their memory follows zlib's formulas: a compressor holds
//! `(1 << (wbits + 2)) + (1 << (mem_level + 9))` bytes plus about 6 KiB of
//! state, a decompressor about 7 KiB plus its `1 << wbits` window, allocated
//! on the first byte it writes. [`Deflater::allocated`] and
//! [`Inflater::allocated`] report the exact bytes zlib holds.
//!
//! Output is written straight into a `Vec`'s spare capacity (never
//! zero-filled first), and the inflater never writes more than the caller
//! allows. Nothing here panics: a failed allocation is reported as `None`
//! or an error, and corrupt input is an error.
//!
//! This is the crate's only code that calls C. A zlib stream points back to
//! itself (its internal state holds the stream's address), so it lives in a
//! heap block of its own that never moves and is only reached through a raw
//! pointer; every `unsafe` block says why it is sound.
#![allow(unsafe_code)]

use std::alloc::{self, Layout};
use std::ffi::{c_int, c_uint, c_void};
use std::ptr::{self, NonNull};

use libz_sys as z;

/// Bytes reserved before each zlib allocation to remember its size.
const HEADER: usize = 16;

/// The largest piece handed to zlib in one call (its counters are 32-bit).
const MAX_PIECE: usize = 1 << 30;

/// A zlib stream and the byte count of its allocations, at a fixed address.
struct Raw {
    strm: z::z_stream,
    /// Bytes currently allocated by zlib for this stream (headers included).
    allocated: usize,
}

/// zlib's allocator: the Rust global allocator, counting into `opaque`.
///
/// # Safety
///
/// `opaque` is the `allocated` field of the [`Raw`] that owns the stream
/// (set in [`Raw::new`]); zlib calls this only from inside a call on that
/// stream, which needs `&mut` access to its owner.
// The block is aligned to HEADER (16) bytes, enough for the `usize` size.
#[allow(clippy::cast_ptr_alignment)]
unsafe extern "C" fn zalloc(opaque: *mut c_void, items: c_uint, size: c_uint) -> *mut c_void {
    let Some(bytes) = (items as usize)
        .checked_mul(size as usize)
        .and_then(|n| n.checked_add(HEADER))
    else {
        return ptr::null_mut();
    };
    let Ok(layout) = Layout::from_size_align(bytes, HEADER) else {
        return ptr::null_mut();
    };
    // SAFETY: `layout` has a non-zero size (at least HEADER bytes).
    let base = unsafe { alloc::alloc(layout) };
    if base.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: `base` is valid for `bytes >= HEADER` bytes and aligned to 16,
    // so it can hold a `usize`; `opaque` points at the owner's counter (see
    // the function's safety note).
    unsafe {
        base.cast::<usize>().write(bytes);
        *opaque.cast::<usize>() += bytes;
        base.add(HEADER).cast()
    }
}

/// zlib's deallocator, the counterpart of [`zalloc`].
///
/// # Safety
///
/// `address` was returned by [`zalloc`] with the same `opaque` and not
/// freed since.
#[allow(clippy::cast_ptr_alignment)]
unsafe extern "C" fn zfree(opaque: *mut c_void, address: *mut c_void) {
    if address.is_null() {
        return;
    }
    // SAFETY: `zalloc` returned `base + HEADER` and stored the block's size
    // at `base`, with the layout rebuilt here from that size.
    unsafe {
        let base = address.cast::<u8>().sub(HEADER);
        let bytes = base.cast::<usize>().read();
        *opaque.cast::<usize>() -= bytes;
        alloc::dealloc(base, Layout::from_size_align_unchecked(bytes, HEADER));
    }
}

impl Raw {
    /// Allocate a stream block and initialise it with `init`.
    ///
    /// Returns `None` when `init` does not return `Z_OK` (bad parameters or
    /// no memory); the block is freed then.
    fn new(init: impl FnOnce(*mut z::z_stream) -> c_int) -> Option<NonNull<Self>> {
        let raw = Box::into_raw(Box::new(Self {
            strm: z::z_stream {
                next_in: ptr::null_mut(),
                avail_in: 0,
                total_in: 0,
                next_out: ptr::null_mut(),
                avail_out: 0,
                total_out: 0,
                msg: ptr::null_mut(),
                state: ptr::null_mut(),
                zalloc,
                zfree,
                opaque: ptr::null_mut(),
                data_type: 0,
                adler: 0,
                reserved: 0,
            },
            allocated: 0,
        }));
        // SAFETY: `raw` comes from `Box::into_raw`, so it is valid and
        // unaliased; the counter's address stays valid as long as the block.
        let ok = unsafe {
            (*raw).strm.opaque = ptr::addr_of_mut!((*raw).allocated).cast();
            init(ptr::addr_of_mut!((*raw).strm)) == z::Z_OK
        };
        if ok {
            NonNull::new(raw)
        } else {
            // SAFETY: a failed init leaves nothing allocated inside the
            // stream (zlib frees its state on error), and `raw` is ours.
            drop(unsafe { Box::from_raw(raw) });
            None
        }
    }
}

/// The outcome of one [`Inflater::inflate`] call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Input bytes consumed.
    pub consumed: usize,
    /// Output bytes appended.
    pub produced: usize,
    /// The deflate stream ended (a final block was completed).
    pub stream_end: bool,
}

/// The input is not a valid raw deflate stream (or zlib ran out of memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CorruptData;

/// A raw deflate decompressor (RFC 1951) with a fixed window.
pub struct Inflater {
    raw: NonNull<Raw>,
}

// SAFETY: a zlib stream has no thread affinity; all access goes through
// `&mut self` (or `&self` for the read-only counter), so it is never used
// from two threads at once.
unsafe impl Send for Inflater {}
// SAFETY: `&self` methods only read the allocation counter.
unsafe impl Sync for Inflater {}

impl std::fmt::Debug for Inflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inflater")
            .field("allocated", &self.allocated())
            .finish()
    }
}

impl std::fmt::Debug for Deflater {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflater")
            .field("allocated", &self.allocated())
            .finish()
    }
}

impl Inflater {
    /// Return a decompressor for a raw stream with a `window_bits` window (8..=15).
    ///
    /// Returns `None` for a window outside that range or when zlib cannot
    /// allocate its state. The window itself is allocated on first output.
    #[must_use]
    pub fn new(window_bits: u8) -> Option<Self> {
        if !(8..=15).contains(&window_bits) {
            return None;
        }
        let raw = Raw::new(|strm| {
            // SAFETY: `strm` is a valid, pinned stream with our allocator set;
            // the version and size are those of the zlib we link.
            unsafe {
                z::inflateInit2_(
                    strm,
                    -c_int::from(window_bits),
                    z::zlibVersion(),
                    c_int::try_from(std::mem::size_of::<z::z_stream>()).unwrap_or(0),
                )
            }
        })?;
        Some(Self { raw })
    }

    /// Return the bytes zlib holds for this stream.
    #[must_use]
    pub fn allocated(&self) -> usize {
        // SAFETY: `raw` is valid for the lifetime of `self`.
        unsafe { (*self.raw.as_ptr()).allocated }
    }

    /// Inflate `input`, appending at most `max_out` bytes to `out`.
    ///
    /// Consumes as much input as zlib can use while output space remains:
    /// the call stops early when `max_out` bytes were produced (call again
    /// with more room, or stop: the caller decides), or at the end of the
    /// deflate stream. `out` grows by at most `max_out` bytes of capacity.
    /// Returns [`CorruptData`] when zlib rejects the input; `out` then keeps
    /// the bytes produced before the fault.
    pub fn inflate(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        max_out: usize,
    ) -> Result<Step, CorruptData> {
        let input = &input[..input.len().min(MAX_PIECE)];
        let room = max_out.min(MAX_PIECE);
        out.reserve(room);
        let raw = self.raw.as_ptr();
        let start = out.len();
        // SAFETY: `raw` is valid and only reached through `&mut self`. zlib
        // reads at most `avail_in` bytes from `input` and writes at most
        // `avail_out` bytes into `out`'s spare capacity (reserved above), and
        // keeps neither pointer after the call (they are cleared below).
        let (code, left_in, left_out) = unsafe {
            let strm = ptr::addr_of_mut!((*raw).strm);
            (*strm).next_in = input.as_ptr().cast_mut();
            (*strm).avail_in = input.len() as c_uint;
            (*strm).next_out = out.as_mut_ptr().add(start);
            (*strm).avail_out = room as c_uint;
            let code = z::inflate(strm, z::Z_SYNC_FLUSH);
            let left = ((*strm).avail_in as usize, (*strm).avail_out as usize);
            (*strm).next_in = ptr::null_mut();
            (*strm).next_out = ptr::null_mut();
            (*strm).avail_in = 0;
            (*strm).avail_out = 0;
            (code, left.0, left.1)
        };
        let produced = room - left_out;
        // SAFETY: zlib initialised exactly `produced` bytes after `start`,
        // within the capacity reserved above (also when it reports an error:
        // `avail_out` always counts what it wrote).
        unsafe { out.set_len(start + produced) };
        let step = Step {
            consumed: input.len() - left_in,
            produced,
            stream_end: code == z::Z_STREAM_END,
        };
        match code {
            z::Z_OK | z::Z_STREAM_END | z::Z_BUF_ERROR => Ok(step),
            _ => Err(CorruptData),
        }
    }

    /// Start a new stream with the same window, keeping the allocations.
    pub fn reset(&mut self) {
        // SAFETY: `raw` is valid and initialised; inflateReset cannot fail on it.
        unsafe {
            z::inflateReset(ptr::addr_of_mut!((*self.raw.as_ptr()).strm));
        }
    }
}

impl Drop for Inflater {
    fn drop(&mut self) {
        let raw = self.raw.as_ptr();
        // SAFETY: `raw` came from `Box::into_raw` and was initialised with
        // inflateInit2; inflateEnd frees zlib's allocations through our
        // allocator while the counter is still alive, then the block goes.
        unsafe {
            z::inflateEnd(ptr::addr_of_mut!((*raw).strm));
            drop(Box::from_raw(raw));
        }
    }
}

/// A raw deflate compressor (RFC 1951) with a fixed window and `memLevel`.
pub struct Deflater {
    raw: NonNull<Raw>,
}

// SAFETY: as for `Inflater`: no thread affinity, `&mut self` access only.
unsafe impl Send for Deflater {}
// SAFETY: `&self` methods only read the allocation counter.
unsafe impl Sync for Deflater {}

impl Deflater {
    /// Return a compressor: `level` 0..=9, `window_bits` 9..=15, `mem_level` 1..=9.
    ///
    /// Returns `None` for parameters outside those ranges (zlib cannot write
    /// a raw stream with an 8-bit window) or when zlib cannot allocate.
    #[must_use]
    pub fn new(level: u8, window_bits: u8, mem_level: u8) -> Option<Self> {
        if level > 9 || !(9..=15).contains(&window_bits) || !(1..=9).contains(&mem_level) {
            return None;
        }
        let raw = Raw::new(|strm| {
            // SAFETY: as in `Inflater::new`.
            unsafe {
                z::deflateInit2_(
                    strm,
                    c_int::from(level),
                    z::Z_DEFLATED,
                    -c_int::from(window_bits),
                    c_int::from(mem_level),
                    z::Z_DEFAULT_STRATEGY,
                    z::zlibVersion(),
                    c_int::try_from(std::mem::size_of::<z::z_stream>()).unwrap_or(0),
                )
            }
        })?;
        Some(Self { raw })
    }

    /// Return the bytes zlib holds for this stream.
    #[must_use]
    pub fn allocated(&self) -> usize {
        // SAFETY: `raw` is valid for the lifetime of `self`.
        unsafe { (*self.raw.as_ptr()).allocated }
    }

    /// Compress `input` and append it to `out`, ending with a sync flush.
    ///
    /// Everything given is flushed to a byte boundary: the output ends with
    /// an empty stored block, `00 00 ff ff` (RFC 7692 §7.2.1 removes it),
    /// unless zlib had nothing at all to write. Returns `false` if zlib
    /// reports an error (which a valid stream never does).
    pub fn compress_sync(&mut self, input: &[u8], out: &mut Vec<u8>) -> bool {
        let mut pieces = input.chunks(MAX_PIECE).peekable();
        if input.is_empty() {
            return self.deflate_piece(&[], out, z::Z_SYNC_FLUSH);
        }
        while let Some(piece) = pieces.next() {
            let flush = if pieces.peek().is_some() {
                z::Z_NO_FLUSH
            } else {
                z::Z_SYNC_FLUSH
            };
            if !self.deflate_piece(piece, out, flush) {
                return false;
            }
        }
        true
    }

    /// Feed one piece (at most `MAX_PIECE` bytes) until zlib has nothing left to write.
    fn deflate_piece(&mut self, piece: &[u8], out: &mut Vec<u8>, flush: c_int) -> bool {
        let raw = self.raw.as_ptr();
        // A first guess at the output: about the size of the input for
        // incompressible data, plus room for the flush marker.
        let mut room = piece.len() / 2 + 64;
        let mut fed = false;
        loop {
            out.reserve(room);
            let spare = (out.capacity() - out.len()).min(MAX_PIECE);
            let start = out.len();
            // SAFETY: as in `Inflater::inflate`: zlib reads at most
            // `avail_in` bytes of `piece` (given once, then continued from
            // its own position) and writes at most `avail_out` bytes into the
            // reserved spare capacity; the pointers are cleared afterwards.
            let (code, left_out) = unsafe {
                let strm = ptr::addr_of_mut!((*raw).strm);
                if !fed {
                    (*strm).next_in = piece.as_ptr().cast_mut();
                    (*strm).avail_in = piece.len() as c_uint;
                    fed = true;
                }
                (*strm).next_out = out.as_mut_ptr().add(start);
                (*strm).avail_out = spare as c_uint;
                let code = z::deflate(strm, flush);
                let left_out = (*strm).avail_out as usize;
                (*strm).next_out = ptr::null_mut();
                (*strm).avail_out = 0;
                (code, left_out)
            };
            // SAFETY: zlib initialised exactly `spare - left_out` bytes.
            unsafe { out.set_len(start + spare - left_out) };
            match code {
                z::Z_OK | z::Z_BUF_ERROR => {}
                _ => {
                    self.clear_input();
                    return false;
                }
            }
            // zlib is done once it returns with output space left over.
            if left_out > 0 {
                self.clear_input();
                return true;
            }
            room = room.saturating_mul(2);
        }
    }

    fn clear_input(&mut self) {
        // SAFETY: `raw` is valid; this only forgets the caller's input.
        unsafe {
            let strm = ptr::addr_of_mut!((*self.raw.as_ptr()).strm);
            (*strm).next_in = ptr::null_mut();
            (*strm).avail_in = 0;
        }
    }

    /// Start a new stream with the same parameters, keeping the allocations.
    pub fn reset(&mut self) {
        // SAFETY: `raw` is valid and initialised; deflateReset cannot fail on it.
        unsafe {
            z::deflateReset(ptr::addr_of_mut!((*self.raw.as_ptr()).strm));
        }
    }
}

impl Drop for Deflater {
    fn drop(&mut self) {
        let raw = self.raw.as_ptr();
        // SAFETY: as in `Inflater::drop`, with deflateEnd.
        unsafe {
            z::deflateEnd(ptr::addr_of_mut!((*raw).strm));
            drop(Box::from_raw(raw));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

    fn inflate_all(inflater: &mut Inflater, mut input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let step = inflater.inflate(input, &mut out, 1000).unwrap();
            input = &input[step.consumed..];
            if input.is_empty() && step.produced < 1000 {
                return out;
            }
        }
    }

    #[test]
    fn round_trip_with_sync_flush() {
        let text = b"Hello, Hello, Hello, permessage-deflate! ".repeat(50);
        let mut deflater = Deflater::new(6, 12, 5).unwrap();
        let mut compressed = Vec::new();
        assert!(deflater.compress_sync(&text, &mut compressed));
        assert!(compressed.ends_with(&TAIL));
        assert!(compressed.len() < text.len() / 10);
        let mut inflater = Inflater::new(12).unwrap();
        assert_eq!(inflate_all(&mut inflater, &compressed), text);
        // The second message refers back to the first (context takeover).
        let mut second = Vec::new();
        assert!(deflater.compress_sync(&text, &mut second));
        assert!(second.len() < 64, "{second:?}");
        assert_eq!(inflate_all(&mut inflater, &second), text);
    }

    #[test]
    fn memory_follows_zlib_formulas() {
        let mut deflater = Deflater::new(6, 12, 5).unwrap();
        let expected = (1 << (12 + 2)) + (1 << (5 + 9));
        let held = deflater.allocated();
        assert!(held >= expected && held < expected + 8 * 1024, "{held}");
        let mut inflater = Inflater::new(12).unwrap();
        let before = inflater.allocated();
        assert!(before < 10 * 1024, "{before}");
        let mut compressed = Vec::new();
        assert!(deflater.compress_sync(b"some text to compress", &mut compressed));
        inflate_all(&mut inflater, &compressed);
        assert!(inflater.allocated() >= before + 4096);
        assert!(inflater.allocated() < before + 4096 + 256);
    }

    #[test]
    fn the_output_cap_holds() {
        let zeros = vec![0u8; 1 << 20];
        let mut deflater = Deflater::new(9, 15, 9).unwrap();
        let mut bomb = Vec::new();
        assert!(deflater.compress_sync(&zeros, &mut bomb));
        assert!(bomb.len() < 2048);
        let mut inflater = Inflater::new(15).unwrap();
        let mut out = Vec::new();
        let step = inflater.inflate(&bomb, &mut out, 100).unwrap();
        assert_eq!(step.produced, 100);
        assert_eq!(out.len(), 100);
        assert!(out.capacity() < 4096);
    }

    #[test]
    fn corrupt_input_and_stream_end() {
        let mut inflater = Inflater::new(15).unwrap();
        // BTYPE 11 is reserved (RFC 1951 §3.2.3).
        assert_eq!(
            inflater.inflate(&[0xff, 0xff], &mut Vec::new(), 100),
            Err(CorruptData)
        );
        // A final empty fixed block ends the stream: 03 00.
        let mut inflater = Inflater::new(15).unwrap();
        let step = inflater.inflate(&[0x03, 0x00, 0x41], &mut Vec::new(), 100);
        assert_eq!(
            step,
            Ok(Step {
                consumed: 2,
                produced: 0,
                stream_end: true
            })
        );
        inflater.reset();
        let mut deflater = Deflater::new(6, 9, 1).unwrap();
        let mut compressed = Vec::new();
        assert!(deflater.compress_sync(b"after reset", &mut compressed));
        assert_eq!(inflate_all(&mut inflater, &compressed), b"after reset");
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(Deflater::new(6, 8, 5).is_none());
        assert!(Deflater::new(10, 12, 5).is_none());
        assert!(Deflater::new(6, 12, 0).is_none());
        assert!(Inflater::new(7).is_none());
        assert!(Inflater::new(8).is_some());
    }

    #[test]
    fn an_empty_message_after_a_flush() {
        let mut deflater = Deflater::new(6, 12, 5).unwrap();
        let mut first = Vec::new();
        assert!(deflater.compress_sync(b"", &mut first));
        assert!(first.ends_with(&TAIL));
        // A second sync flush with no input writes nothing (Z_BUF_ERROR).
        let mut second = Vec::new();
        assert!(deflater.compress_sync(b"", &mut second));
        assert!(second.is_empty());
    }
}
