//! The whole server receive path: the opening handshake, then frames.
//!
//! The first byte picks small limits and how the rest is chunked, so size,
//! fragment and queue limits are crossed often; its top bit also turns on
//! permessage-deflate (offered in the prefixed request), so compressed
//! messages are inflated under those limits. Whatever the input: no panic,
//! nothing after CLOSED or a deferred fault, a fault always leaves `error`
//! set (once the queued messages are taken, for a deferred one), and no
//! message is longer than `max_size`.
#![no_main]

use _native::connection::{flags, Limits, State};
use _native::deflate::DeflateOptions;
use _native::queue::MessageKind;
use _native::{Connection, StdHost};
use libfuzzer_sys::fuzz_target;

const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n";

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let mut limits = Limits::default();
    if control & 1 != 0 {
        limits.max_size = Some(64);
        limits.max_frame_size = Some(16);
        limits.max_fragments = Some(4);
        limits.max_queue = Some(2);
        limits.max_queue_bytes = Some(32);
        // Still room for the request below (its longest line is 44 bytes).
        limits.max_request_line = 48;
        limits.max_header_line = 48;
        limits.max_headers = 8;
    }
    let mut conn: Connection<StdHost> = Connection::server(StdHost, limits);
    if control & 0x80 != 0 {
        let options = DeflateOptions {
            threshold: 0,
            window_bits: 9,
            ..DeflateOptions::default()
        };
        conn = conn.with_compression(options);
    }
    // Bit 1: prefix a valid request, so that most inputs reach the frames.
    if control & 2 != 0 {
        let flags = conn.receive_data(REQUEST).unwrap();
        assert_eq!(flags & flags::FAILED, 0, "{:?}", conn.error());
    }
    let chunk = usize::from(control >> 2) + 1;
    for piece in rest.chunks(chunk) {
        let closed_before = conn.state() == State::Closed || conn.failure_deferred();
        let got = conn.receive_data(piece).unwrap();
        if closed_before {
            assert_eq!(got, 0);
        }
        if got & flags::FAILED != 0 {
            assert!(conn.error().is_some());
            assert_eq!(conn.state(), State::Closed);
        }
        if got & flags::DEFERRED != 0 {
            assert!(conn.failure_deferred() && conn.error().is_none());
            assert_eq!(conn.state(), State::Open);
            assert!(conn.queued_messages() > 0);
        }
        if got & flags::HANDSHAKE != 0 && conn.state() == State::Connecting {
            let _ = conn.accept::<&[u8], &[u8]>(None, &[]).unwrap();
        }
        while let Some((kind, len)) = conn
            .next_message_with(|kind, data| {
                if kind == MessageKind::Text {
                    assert!(std::str::from_utf8(data).is_ok());
                }
                (kind, data.len())
            })
            .unwrap()
        {
            let _ = kind;
            assert!(limits.max_size.is_none_or(|max| len as u64 <= max));
        }
        // The last call found the queue empty: no failure waits any more.
        assert!(!conn.failure_deferred());
        let pending = conn.pending_output();
        assert_eq!(conn.data_to_send().len(), pending);
        if conn.state() == State::Open && control & 0x80 != 0 {
            conn.send_text("echo", None).unwrap();
        }
    }
    assert_eq!(conn.close_expected(), conn.state() == State::Closed);
    conn.receive_eof();
    assert!(conn.close_result().is_some());
});
