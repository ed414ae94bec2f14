//! A decompression bomb costs what `max_size` allows, not what it claims.
//!
//! RFC 7692 §8.1 and CVE-2018-1000518 / CVE-2016-10544: a small compressed
//! frame that would inflate to a huge message must fail with 1009 after at
//! most `max_size + 1` inflated bytes. This binary counts every allocation
//! (its own global allocator; one test per binary, so nothing else runs
//! meanwhile) and checks the peak while the bomb is received.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use _native::connection::{flags, Limits};
use _native::deflate::{self, Compression, DeflateOptions};
use _native::error::{Fault, ProtocolError};
use _native::frame::encode_frame;
use _native::{Connection, StdHost};

/// The system allocator, counting live bytes and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments and
// only adds bookkeeping on atomics.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(live, Ordering::SeqCst);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn one_kib_inflating_to_a_mebibyte_and_one_mib_to_a_gibibyte_cost_max_size() {
    const MAX_SIZE: u64 = 256 * 1024;
    // Built from stored-block-free repetition: 1 GiB of zeros would take a
    // while to compress, so compress 1 MiB and repeat the compressed body,
    // which (sync-flushed, no final block) inflates to 1 MiB each time.
    let piece = deflate::compress_fresh(
        &vec![0u8; 1 << 20],
        Compression {
            window_bits: 15,
            mem_level: 9,
            level: 9,
        },
    )
    .unwrap();
    assert!(piece.len() <= 1100, "{}", piece.len());
    let bomb = piece.repeat(1024);
    let options = DeflateOptions {
        window_bits: 15,
        ..DeflateOptions::default()
    };
    let limits = Limits {
        max_size: Some(MAX_SIZE),
        ..Limits::default()
    };
    let mut server = Connection::server(StdHost, limits).with_compression(options);
    let request = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n";
    assert_eq!(server.receive_data(request).unwrap(), flags::HANDSHAKE);
    server.accept::<&[u8], &[u8]>(None, &[]).unwrap();
    server.data_to_send();
    // A 1 KiB frame inflating to 1 MiB, and a 1 MiB frame inflating to 1 GiB.
    for input in [piece.clone(), bomb] {
        let frame = encode_frame(2, &input, true, true, Some([1, 2, 3, 4])).unwrap();
        let mut conn = Connection::server(StdHost, limits).with_compression(options);
        conn.receive_data(request).unwrap();
        conn.accept::<&[u8], &[u8]>(None, &[]).unwrap();
        conn.data_to_send();
        let before = LIVE.load(Ordering::SeqCst);
        PEAK.store(before, Ordering::SeqCst);
        let got = conn.receive_data(&frame).unwrap();
        let peak = PEAK.load(Ordering::SeqCst) - before;
        assert_eq!(got, flags::FAILED | flags::OUTPUT | flags::CLOSED);
        assert_eq!(
            conn.error(),
            Some(&Fault::Frame(ProtocolError::MessageTooBig(MAX_SIZE)))
        );
        // The inflated message (at most max_size + 1 bytes, in a buffer that
        // grows by doubling), the unmasked input, and zlib's state.
        let bound = 2 * (MAX_SIZE as usize + 1) + 2 * input.len() + 64 * 1024;
        assert!(
            peak <= bound,
            "peak {peak} > {bound} for {} input bytes",
            input.len()
        );
    }
    drop(server);
}
