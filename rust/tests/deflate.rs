//! permessage-deflate (RFC 7692) through whole connections, both roles.
//!
//! The vectors (`engine.rs`, `tests/vectors/deflate.json`) pin negotiation
//! bytes and single inputs against payloads compressed by `CPython`'s zlib;
//! these tests run conversations between our own client and server: many
//! messages with and without context takeover both ways, fragmented and
//! trickled compressed messages, the RSV1 rules, corrupt data, prepared
//! frames, and memory that stays unallocated until used.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use _native::connection::{flags, Limits, State};
use _native::deflate::{self, Compression, DeflateOptions};
use _native::error::{Fault, LocalError, ProtocolError, ResponseError};
use _native::frame::{encode_frame, OpCode};
use _native::queue::MessageKind;
use _native::{Connection, StdHost};

type Conn = Connection<StdHost>;

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn options(no_context_takeover: bool) -> DeflateOptions {
    DeflateOptions {
        threshold: 0,
        no_context_takeover,
        ..DeflateOptions::default()
    }
}

/// Open a client and a server with these settings (`None`: compression off).
fn pair(
    client: Option<DeflateOptions>,
    server: Option<DeflateOptions>,
    limits: Limits,
) -> (Conn, Conn) {
    let mut c = Connection::client(
        StdHost,
        limits,
        "example.com",
        "/",
        Vec::new(),
        Vec::new(),
        None,
    )
    .unwrap();
    if let Some(options) = client {
        c = c.with_compression(options);
    }
    let mut s = Connection::server(StdHost, limits);
    if let Some(options) = server {
        s = s.with_compression(options);
    }
    c.send_request().unwrap();
    assert_eq!(s.receive_data(&c.data_to_send()).unwrap(), flags::HANDSHAKE);
    assert_eq!(s.accept::<&[u8], &[u8]>(None, &[]).unwrap(), 0);
    assert_eq!(c.receive_data(&s.data_to_send()).unwrap(), flags::HANDSHAKE);
    assert_eq!((c.state(), s.state()), (State::Open, State::Open));
    (c, s)
}

fn messages(conn: &mut Conn) -> Vec<(MessageKind, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some(m) = conn
        .next_message_with(|kind, data| (kind, data.to_vec()))
        .unwrap()
    {
        out.push(m);
    }
    out
}

/// Raw-deflate `data` with a fresh stream, tail removed (a peer's compressor).
fn compress(data: &[u8], window_bits: u8) -> Vec<u8> {
    deflate::compress_fresh(
        data,
        Compression {
            window_bits,
            mem_level: 8,
            level: 9,
        },
    )
    .unwrap()
}

fn frame_error(conn: &Conn) -> Option<ProtocolError> {
    match conn.error() {
        Some(Fault::Frame(err)) => Some(err.clone()),
        _ => None,
    }
}

fn json(i: usize) -> Vec<u8> {
    format!(
        r#"{{"seq": {i}, "event": "tick", "price": {}.25, "symbol": "GYR"}}"#,
        i * 7
    )
    .into_bytes()
}

#[test]
fn negotiated_parameters_both_sides() {
    let (c, s) = pair(
        Some(options(false)),
        Some(options(false)),
        Limits::default(),
    );
    let expected = deflate::Params {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 12,
        client_max_window_bits: 12,
    };
    assert_eq!(c.deflate_params(), Some(&expected));
    assert_eq!(s.deflate_params(), Some(&expected));
    let (c, s) = pair(Some(options(true)), Some(options(false)), Limits::default());
    assert!(c.deflate_params().unwrap().client_no_context_takeover);
    assert!(s.deflate_params().unwrap().client_no_context_takeover);
    // Either side off: no extension, and RSV1 stays a fault.
    for (client, server) in [(None, Some(options(false))), (Some(options(false)), None)] {
        let (mut c, mut s) = pair(client, server, Limits::default());
        assert_eq!(c.deflate_params(), None);
        assert_eq!(s.deflate_params(), None);
        let mut frame = encode_frame(1, b"x", true, true, Some(KEY)).unwrap();
        assert_eq!(frame[0], 0xC1);
        assert_eq!(
            s.receive_data(&frame).unwrap() & flags::FAILED,
            flags::FAILED
        );
        assert_eq!(frame_error(&s), Some(ProtocolError::ReservedBits));
        frame = encode_frame(1, b"x", true, true, None).unwrap();
        c.receive_data(&frame).unwrap();
        assert_eq!(frame_error(&c), Some(ProtocolError::ReservedBits));
    }
}

/// Send `count` messages each way and check them, the sizes on the wire, and memory.
fn conversation(client_nct: bool, server_nct: bool, count: usize) {
    let (mut c, mut s) = pair(
        Some(options(client_nct)),
        Some(options(server_nct)),
        Limits::default(),
    );
    let mut wire = [0usize; 2];
    for i in 0..count {
        let message = json(i);
        s.send_text(std::str::from_utf8(&message).unwrap(), None)
            .unwrap();
        let bytes = s.data_to_send();
        assert_eq!(bytes[0], 0xC1, "RSV1 and FIN set, TEXT");
        wire[0] += bytes.len();
        assert_eq!(c.receive_data(&bytes).unwrap(), flags::MESSAGES);
        assert_eq!(messages(&mut c), [(MessageKind::Text, message.clone())]);
        c.send_binary(&message, None).unwrap();
        let bytes = c.data_to_send();
        assert_eq!(bytes[0], 0xC2);
        wire[1] += bytes.len();
        assert_eq!(s.receive_data(&bytes).unwrap(), flags::MESSAGES);
        assert_eq!(messages(&mut s), [(MessageKind::Binary, message)]);
    }
    let plain: usize = (0..count).map(|i| json(i).len()).sum();
    for (direction, (sent, no_context)) in wire.iter().zip([server_nct, client_nct]).enumerate() {
        // With context takeover, similar messages compress far better.
        if no_context {
            assert!(*sent * 10 > plain * 6, "{direction}: {sent} of {plain}");
        } else {
            assert!(*sent * 10 < plain * 4, "{direction}: {sent} of {plain}");
        }
    }
    // A side without context takeover releases its compressor, and the
    // receiving side its decompressor, after every message.
    let idle = std::mem::size_of::<deflate::Deflate>() + 600;
    if server_nct && client_nct {
        assert!(s.heap_size() < idle, "{}", s.heap_size());
        assert!(c.heap_size() < idle, "{}", c.heap_size());
    } else {
        assert!(s.heap_size() > 11 * 1024);
    }
}

#[test]
fn ten_thousand_messages_with_context_takeover_both_ways() {
    conversation(false, false, 10_000);
}

#[test]
fn context_takeover_off_on_either_side() {
    conversation(true, false, 200);
    conversation(false, true, 200);
    conversation(true, true, 200);
}

#[test]
fn fragmented_and_trickled_compressed_messages() {
    let (_, mut s) = pair(
        Some(options(false)),
        Some(options(false)),
        Limits::default(),
    );
    let text = "Καλημέρα κόσμε, permessage-deflate! ".repeat(40);
    let compressed = compress(text.as_bytes(), 12);
    let mut stream = Vec::new();
    let thirds = compressed.len() / 3;
    // RSV1 on the first frame only (RFC 7692 §6.1), a Ping in between.
    stream.extend(encode_frame(1, &compressed[..thirds], false, true, Some(KEY)).unwrap());
    stream
        .extend(encode_frame(0, &compressed[thirds..2 * thirds], false, false, Some(KEY)).unwrap());
    stream.extend(encode_frame(9, b"ping", true, false, Some(KEY)).unwrap());
    stream.extend(encode_frame(0, &compressed[2 * thirds..], true, false, Some(KEY)).unwrap());
    // The same message again: the peer's context is kept between messages.
    let again = compress(text.as_bytes(), 12);
    stream.extend(encode_frame(1, &again, true, true, Some(KEY)).unwrap());
    for chunk in [stream.len(), 7, 1] {
        let (_, mut s2) = pair(
            Some(options(false)),
            Some(options(false)),
            Limits::default(),
        );
        let mut seen = 0;
        for piece in stream.chunks(chunk) {
            seen |= s2.receive_data(piece).unwrap();
        }
        assert_eq!(seen, flags::MESSAGES | flags::OUTPUT, "chunk {chunk}");
        let got = messages(&mut s2);
        assert_eq!(got.len(), 2);
        assert!(got
            .iter()
            .all(|(kind, data)| *kind == MessageKind::Text && data == text.as_bytes()));
    }
    // A split multi-byte character across inflated pieces is fine; an invalid one fails fast.
    let bad = compress(b"ok \xce\xce", 12);
    s.receive_data(&encode_frame(1, &bad, true, true, Some(KEY)).unwrap())
        .unwrap();
    assert_eq!(frame_error(&s), Some(ProtocolError::InvalidUtf8));
}

#[test]
fn rsv1_on_continuation_or_control_frames_fails() {
    let frames = [
        // RSV1 on a continuation of a compressed message.
        [
            encode_frame(1, &compress(b"abc", 12), false, true, Some(KEY)).unwrap(),
            encode_frame(0, b"", true, true, Some(KEY)).unwrap(),
        ]
        .concat(),
        // RSV1 on a continuation of an uncompressed message.
        [
            encode_frame(2, b"abc", false, false, Some(KEY)).unwrap(),
            encode_frame(0, b"", true, true, Some(KEY)).unwrap(),
        ]
        .concat(),
        encode_frame(9, b"", true, true, Some(KEY)).unwrap(),
        encode_frame(8, &[0x03, 0xe8], true, true, Some(KEY)).unwrap(),
    ];
    for stream in frames {
        let (_, mut s) = pair(
            Some(options(false)),
            Some(options(false)),
            Limits::default(),
        );
        let got = s.receive_data(&stream).unwrap();
        assert_eq!(got & flags::FAILED, flags::FAILED);
        assert_eq!(frame_error(&s), Some(ProtocolError::ReservedBits));
        assert_eq!(s.close_sent().unwrap().0, 1002);
    }
}

#[test]
fn corrupt_data_fails_with_1007() {
    let valid = compress(b"hello", 12);
    let cases: [Vec<u8>; 3] = [
        // BTYPE 11 is reserved (RFC 1951 §3.2.3).
        vec![0xff, 0xff, 0xff],
        // A sync-flushed "a" (4a 04 00 00 00 ff ff), then BTYPE 11.
        vec![0x4a, 0x04, 0x00, 0x00, 0x00, 0xff, 0xff, 0x06],
        // A fixed block whose first symbol is a match one byte back, before
        // any byte exists ("invalid distance too far back").
        vec![0x03, 0x02, 0x00],
    ];
    for (i, payload) in cases.iter().enumerate() {
        let (_, mut s) = pair(
            Some(options(false)),
            Some(options(false)),
            Limits::default(),
        );
        let got = s
            .receive_data(&encode_frame(2, payload, true, true, Some(KEY)).unwrap())
            .unwrap();
        assert_eq!(
            got,
            flags::FAILED | flags::OUTPUT | flags::CLOSED,
            "case {i}"
        );
        assert_eq!(frame_error(&s), Some(ProtocolError::InvalidCompressedData));
        assert_eq!(s.close_sent(), Some((1007, "invalid compressed data")));
    }
    // The valid payload, for contrast.
    let (_, mut s) = pair(
        Some(options(false)),
        Some(options(false)),
        Limits::default(),
    );
    s.receive_data(&encode_frame(2, &valid, true, true, Some(KEY)).unwrap())
        .unwrap();
    assert_eq!(messages(&mut s), [(MessageKind::Binary, b"hello".to_vec())]);
}

#[test]
fn data_after_a_final_block_is_ignored() {
    // RFC 7692 §7.2.3.4, verbatim: "Hello" in a final block, then 0x00.
    let rfc = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    let hello = (MessageKind::Text, b"Hello".to_vec());
    let streams = [
        // Whole, then a message that must start a fresh stream.
        [
            encode_frame(1, &rfc, true, true, Some(KEY)).unwrap(),
            encode_frame(1, &rfc, true, true, Some(KEY)).unwrap(),
        ]
        .concat(),
        // The trailing bytes in a later frame, even bytes zlib would
        // reject, with a Ping between the fragments.
        [
            encode_frame(1, &rfc[..7], false, true, Some(KEY)).unwrap(),
            encode_frame(9, b"p", true, false, Some(KEY)).unwrap(),
            encode_frame(0, &[0x00, 0xff, 0x06], true, false, Some(KEY)).unwrap(),
            encode_frame(1, &rfc, true, true, Some(KEY)).unwrap(),
        ]
        .concat(),
    ];
    for stream in streams {
        for piece in [stream.len(), 1] {
            let (_, mut s) = pair(
                Some(options(false)),
                Some(options(false)),
                Limits {
                    max_size: Some(5),
                    ..Limits::default()
                },
            );
            for chunk in stream.chunks(piece) {
                s.receive_data(chunk).unwrap();
            }
            assert_eq!(s.error(), None);
            assert_eq!(s.state(), State::Open);
            assert_eq!(messages(&mut s), [hello.clone(), hello.clone()]);
        }
    }
}

#[test]
fn max_size_applies_to_the_inflated_size() {
    let limits = Limits {
        max_size: Some(4096),
        ..Limits::default()
    };
    // A 1 KiB-ish frame that would inflate to 1 MiB.
    let bomb = compress(&vec![b'a'; 1 << 20], 12);
    assert!(bomb.len() < 1100, "{}", bomb.len());
    let (_, mut s) = pair(Some(options(false)), Some(options(false)), limits);
    let got = s
        .receive_data(&encode_frame(1, &bomb, true, true, Some(KEY)).unwrap())
        .unwrap();
    assert_eq!(got, flags::FAILED | flags::OUTPUT | flags::CLOSED);
    assert_eq!(frame_error(&s), Some(ProtocolError::MessageTooBig(4096)));
    assert_eq!(s.close_sent(), Some((1009, "message exceeds 4096 bytes")));
    // Exactly max_size inflated bytes, declared wire length aside, are fine;
    // one more fails, also when it only appears with the tail or in a later fragment.
    for (size, ok) in [(4096, true), (4097, false)] {
        let payload = compress(&vec![b'b'; size], 12);
        let half = payload.len() / 2;
        let (_, mut s) = pair(Some(options(false)), Some(options(false)), limits);
        let stream = [
            encode_frame(2, &payload[..half], false, true, Some(KEY)).unwrap(),
            encode_frame(0, &payload[half..], true, false, Some(KEY)).unwrap(),
        ]
        .concat();
        let got = s.receive_data(&stream).unwrap();
        assert_eq!(got == flags::MESSAGES, ok, "{size}");
    }
}

#[test]
fn compression_threshold_and_fallback_frames() {
    let threshold = DeflateOptions {
        threshold: 100,
        ..DeflateOptions::default()
    };
    let (mut c, mut s) = pair(Some(threshold), Some(threshold), Limits::default());
    s.send_text(&"x".repeat(99), None).unwrap();
    let small = s.data_to_send();
    assert_eq!(&small[..2], &[0x81, 99]);
    s.send_text(&"x".repeat(100), None).unwrap();
    let large = s.data_to_send();
    assert_eq!(large[0], 0xC1);
    assert!(large.len() < 20);
    // Control frames are never compressed.
    s.send_ping(&[b'p'; 125]).unwrap();
    assert_eq!(s.data_to_send()[0], 0x89);
    c.receive_data(&[small, large].concat()).unwrap();
    let got = messages(&mut c);
    assert_eq!(got[0].1.len(), 99);
    assert_eq!(got[1].1.len(), 100);
    // Empty messages with a threshold of 0: the payload is one `00` byte.
    let (mut c, mut s) = pair(
        Some(options(false)),
        Some(options(false)),
        Limits::default(),
    );
    for _ in 0..3 {
        s.send_binary(b"", None).unwrap();
        assert_eq!(s.data_to_send(), [0xC2, 0x01, 0x00]);
    }
    s.send_binary(b"after", None).unwrap();
    c.receive_data(&[vec![0xC2, 0x01, 0x00], s.data_to_send()].concat())
        .unwrap();
    assert_eq!(
        messages(&mut c),
        [
            (MessageKind::Binary, Vec::new()),
            (MessageKind::Binary, b"after".to_vec())
        ]
    );
}

#[test]
fn prepared_frames_keep_the_peer_in_step() {
    let (mut c, mut s) = pair(
        Some(options(false)),
        Some(options(false)),
        Limits::default(),
    );
    // A message that fills our compressor's window.
    s.send_text(&"history ".repeat(100), None).unwrap();
    c.receive_data(&s.data_to_send()).unwrap();
    let frame = deflate::prepare_frame(
        OpCode::Text,
        b"broadcast broadcast broadcast",
        Some(Compression {
            window_bits: 12,
            mem_level: 5,
            level: 6,
        }),
    )
    .unwrap();
    s.send_prepared(&frame, None, true).unwrap();
    s.send_prepared(
        &deflate::prepare_frame(OpCode::Binary, b"plain", None).unwrap(),
        None,
        false,
    )
    .unwrap();
    // Our compressor was reset: the next message does not refer back.
    s.send_text(&"history ".repeat(100), None).unwrap();
    c.receive_data(&s.data_to_send()).unwrap();
    let got = messages(&mut c);
    assert_eq!(got.len(), 4);
    assert_eq!(got[1].1, b"broadcast broadcast broadcast");
    assert_eq!(got[2], (MessageKind::Binary, b"plain".to_vec()));
    assert_eq!(got[3].1, "history ".repeat(100).as_bytes());
    // Misuse.
    let (_, mut plain) = pair(None, None, Limits::default());
    assert_eq!(
        plain.send_prepared(&frame, None, true),
        Err(LocalError::NotNegotiated)
    );
    let mut fresh = Connection::server(StdHost, Limits::default());
    assert!(matches!(
        fresh.send_prepared(&frame, None, true),
        Err(LocalError::InvalidState {
            method: "send_prepared",
            ..
        })
    ));
}

#[test]
fn zlib_memory_is_allocated_on_first_use() {
    let (mut c, mut s) = pair(
        Some(options(false)),
        Some(options(false)),
        Limits::default(),
    );
    let idle = s.heap_size();
    assert!(idle < 2 * 1024, "{idle}");
    s.send_text("short but compressed", None).unwrap();
    let sent = s.data_to_send();
    let compressing = s.heap_size();
    assert!(
        compressing > 32 * 1024 && compressing < 48 * 1024,
        "{compressing}"
    );
    c.receive_data(&sent).unwrap();
    messages(&mut c);
    // 12-bit window: about 7 KiB of state and a 4 KiB window.
    let inflating = c.heap_size();
    assert!(
        inflating > 10 * 1024 && inflating < 14 * 1024,
        "{inflating}"
    );
    // Closing releases both.
    s.fail(1001, "").unwrap();
    assert!(s.heap_size() < idle + 64, "{}", s.heap_size());
}

#[test]
fn client_rejects_answers_it_did_not_ask_for() {
    let answers = [
        ("permessage-deflate; server_max_window_bits=13", ResponseError::InvalidExtensions),
        ("permessage-deflate", ResponseError::InvalidExtensions),
        ("permessage-deflate; server_max_window_bits=12; client_max_window_bits", ResponseError::InvalidExtensions),
        ("x-other", ResponseError::InvalidExtensions),
        ("permessage-deflate; server_max_window_bits=12, permessage-deflate; server_max_window_bits=12", ResponseError::InvalidExtensions),
        ("permessage-deflate; ;", ResponseError::InvalidExtensions),
    ];
    for (answer, err) in answers {
        let mut c = Connection::client(
            StdHost,
            Limits::default(),
            "h",
            "/",
            Vec::new(),
            Vec::new(),
            None,
        )
        .unwrap()
        .with_compression(DeflateOptions::default());
        c.send_request().unwrap();
        let request = String::from_utf8(c.data_to_send()).unwrap();
        assert!(request.contains(
            "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits; server_max_window_bits=12\r\n"
        ));
        let key = request
            .split("Sec-WebSocket-Key: ")
            .nth(1)
            .unwrap()
            .split("\r\n")
            .next()
            .unwrap();
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Extensions: {answer}\r\n\r\n",
            _native::handshake::accept_key(key.as_bytes())
        );
        assert_eq!(
            c.receive_data(response.as_bytes()).unwrap(),
            flags::FAILED | flags::CLOSED
        );
        assert_eq!(c.error(), Some(&Fault::Response(err)), "{answer}");
    }
}
