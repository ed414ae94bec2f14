//! Conversations with the core connection: states, misuse, queues, output.
//!
//! The vectors (`engine.rs`) pin bytes and flags for single inputs; these
//! tests follow a connection through several calls, and check what the
//! vectors cannot: errors returned for misuse, water marks over time, the
//! streamed denial, a failing random source, and the memory an idle
//! connection keeps.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use _native::connection::{flags, CallError, Limits, State};
use _native::error::{Fault, HandshakeError, LocalError, ProtocolError, ResponseError};
use _native::frame::encode_frame;
use _native::handshake::accept_key;
use _native::queue::MessageKind;
use _native::{Connection, Host, StdHost};

const REQUEST: &[u8] = b"GET /chat?room=1 HTTP/1.1\r\nHost: server.example.com\r\n\
Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\r\n";

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

fn masked(opcode: i64, payload: &[u8], fin: bool) -> Vec<u8> {
    encode_frame(opcode, payload, fin, false, Some(KEY)).unwrap()
}

fn unmasked(opcode: i64, payload: &[u8]) -> Vec<u8> {
    encode_frame(opcode, payload, true, false, None).unwrap()
}

fn open_server(limits: Limits) -> Connection<StdHost> {
    let mut conn = Connection::server(StdHost, limits);
    assert_eq!(conn.receive_data(REQUEST).unwrap(), flags::HANDSHAKE);
    assert_eq!(conn.accept::<&[u8], &[u8]>(Some("chat"), &[]).unwrap(), 0);
    let response = String::from_utf8(conn.data_to_send()).unwrap();
    assert!(response.contains("Sec-WebSocket-Protocol: chat\r\n"));
    assert_eq!(conn.state(), State::Open);
    conn
}

fn messages(conn: &mut Connection<StdHost>) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(m) = conn
        .next_message_with(|kind, data| match kind {
            MessageKind::Text => format!("text:{}", std::str::from_utf8(data).unwrap()),
            MessageKind::Binary => format!("binary:{data:?}"),
        })
        .unwrap()
    {
        out.push(m);
    }
    out
}

#[test]
fn request_is_parsed_and_kept_bytes_are_frames_after_accept() {
    let mut conn = Connection::server(StdHost, Limits::default());
    let mut data = REQUEST.to_vec();
    data.extend(masked(1, b"early", true));
    assert_eq!(conn.receive_data(&data).unwrap(), flags::HANDSHAKE);
    let request = conn.request().unwrap();
    assert_eq!(request.target, b"/chat?room=1");
    assert_eq!(request.info.subprotocols, ["chat", "superchat"]);
    assert_eq!(conn.queued_messages(), 0);
    assert_eq!(
        conn.accept::<&[u8], &[u8]>(None, &[]).unwrap(),
        flags::MESSAGES
    );
    assert_eq!(messages(&mut conn), ["text:early"]);
}

#[test]
fn misuse_returns_the_contract_errors() {
    let mut conn = Connection::server(StdHost, Limits::default());
    let err = conn.send_text("x", None).unwrap_err();
    assert_eq!(
        err,
        CallError::Local(LocalError::InvalidState {
            method: "send_text",
            state: State::Connecting
        })
    );
    assert_eq!(
        LocalError::InvalidState {
            method: "send_text",
            state: State::Connecting
        }
        .to_string(),
        "send_text() is not allowed in state CONNECTING"
    );
    assert!(conn.accept::<&[u8], &[u8]>(None, &[]).is_err());
    conn.receive_data(REQUEST).unwrap();
    assert_eq!(
        conn.accept::<&[u8], &[u8]>(Some("nope"), &[]).unwrap_err(),
        CallError::Local(LocalError::SubprotocolNotOffered("nope".into()))
    );
    for (name, value, err) in [
        (&b"bad name"[..], &b"v"[..], LocalError::InvalidHeaderName),
        (b"X", b"a\r\nb", LocalError::InvalidHeaderValue),
        (
            b"sec-websocket-protocol",
            b"chat",
            LocalError::SubprotocolHeader,
        ),
        (
            b"Sec-WebSocket-Extensions",
            b"permessage-deflate",
            LocalError::ExtensionsHeader,
        ),
    ] {
        assert_eq!(
            conn.accept(None, &[(name, value)]).unwrap_err(),
            CallError::Local(err)
        );
    }
    assert_eq!(
        conn.reject::<&[u8], &[u8]>(101, &[], b""),
        Err(LocalError::InvalidStatus(101))
    );
    assert_eq!(conn.state(), State::Connecting);
    conn.accept::<&[u8], &[u8]>(None, &[]).unwrap();
    conn.data_to_send();
    assert_eq!(
        conn.send_close(1005, "").unwrap_err(),
        CallError::Local(LocalError::InvalidCloseCode(1005))
    );
    assert_eq!(
        conn.send_close(1000, &"x".repeat(124)).unwrap_err(),
        CallError::Local(LocalError::CloseReasonTooLong)
    );
    assert_eq!(
        conn.send_ping(&[0; 126]).unwrap_err(),
        CallError::Local(LocalError::ControlPayloadTooLong)
    );
    assert_eq!(conn.pending_output(), 0, "failed calls queue nothing");
}

#[test]
fn close_handshake_initiated_by_us() {
    let mut conn = open_server(Limits::default());
    conn.send_close(1001, "going").unwrap();
    assert_eq!(conn.state(), State::Closing);
    assert_eq!(conn.close_sent(), Some((1001, "going")));
    assert_eq!(conn.data_to_send(), unmasked(8, b"\x03\xe9going"));
    // Data is parsed but discarded; pings are not answered; the Close completes.
    let mut input = masked(1, b"late", true);
    input.extend(masked(9, b"p", true));
    input.extend(masked(8, b"\x03\xe8", true));
    let got = conn.receive_data(&input).unwrap();
    assert_eq!(got, flags::CLOSE_RECEIVED | flags::CLOSED);
    assert!(conn.data_to_send().is_empty());
    assert_eq!(conn.queued_messages(), 0);
    assert_eq!(conn.close_result(), Some((1000, String::new())));
    assert_eq!(conn.receive_data(b"more").unwrap(), 0);
}

#[test]
fn peer_fault_in_open_queues_close_and_records_error() {
    let mut conn = open_server(Limits {
        max_size: Some(4),
        ..Limits::default()
    });
    let got = conn.receive_data(&masked(2, b"too big", true)).unwrap();
    assert_eq!(got, flags::FAILED | flags::OUTPUT | flags::CLOSED);
    assert_eq!(
        conn.error(),
        Some(&Fault::Frame(ProtocolError::MessageTooBig(4)))
    );
    assert_eq!(
        conn.data_to_send(),
        unmasked(8, b"\x03\xf1message exceeds 4 bytes")
    );
    assert_eq!(
        conn.close_result(),
        Some((1009, "message exceeds 4 bytes".into()))
    );
    assert!(messages(&mut conn).is_empty());
}

#[test]
fn peer_fault_behind_queued_messages_is_deferred() {
    let mut conn = open_server(Limits {
        max_size: Some(4),
        ..Limits::default()
    });
    let mut input = masked(2, b"ok", true);
    input.extend(masked(2, b"too big", true));
    input.extend(masked(9, b"ping", true));
    let got = conn.receive_data(&input).unwrap();
    assert_eq!(got, flags::MESSAGES | flags::DEFERRED);
    assert!(conn.failure_deferred());
    assert_eq!(conn.state(), State::Open);
    assert_eq!(conn.error(), None);
    assert!(!conn.close_expected());
    // Nothing after the fault is read: the Ping is not answered.
    assert!(conn.data_to_send().is_empty());
    assert_eq!(conn.receive_data(&masked(2, b"x", true)).unwrap(), 0);
    // The connection is still open for the answer to the queued message.
    conn.send_binary(b"ok", None).unwrap();
    assert_eq!(conn.data_to_send(), unmasked(2, b"ok"));
    let first = conn.next_message_with(|_, data| data.to_vec()).unwrap();
    assert_eq!(first.as_deref(), Some(&b"ok"[..]));
    assert!(conn.failure_deferred());
    // The call that finds the queue empty fails the connection.
    assert_eq!(conn.next_message_with(|_, _| ()).unwrap(), None);
    assert!(!conn.failure_deferred());
    assert_eq!(conn.state(), State::Closed);
    assert!(conn.close_expected());
    assert_eq!(
        conn.error(),
        Some(&Fault::Frame(ProtocolError::MessageTooBig(4)))
    );
    assert_eq!(
        conn.data_to_send(),
        unmasked(8, b"\x03\xf1message exceeds 4 bytes")
    );
    assert_eq!(conn.next_message_with(|_, _| ()).unwrap(), None);
    assert!(conn.data_to_send().is_empty());
}

#[test]
fn deferred_fault_gives_way_to_our_close_or_eof() {
    let faulty = |conn: &mut Connection<StdHost>| {
        let mut input = masked(1, b"a", true);
        input.extend(masked(3, b"", true));
        assert_eq!(
            conn.receive_data(&input).unwrap(),
            flags::MESSAGES | flags::DEFERRED
        );
    };
    let mut conn = open_server(Limits::default());
    faulty(&mut conn);
    conn.send_close(1000, "bye").unwrap();
    assert_eq!(conn.state(), State::Closed);
    assert!(conn.close_expected() && !conn.failure_deferred());
    assert_eq!(conn.error(), None);
    assert_eq!(conn.close_result(), Some((1000, "bye".into())));
    assert_eq!(messages(&mut conn), ["text:a"]);
    assert_eq!(conn.data_to_send(), unmasked(8, b"\x03\xe8bye"));

    let mut conn = open_server(Limits::default());
    faulty(&mut conn);
    conn.fail(1011, "app").unwrap();
    assert_eq!(conn.error(), None);
    assert_eq!(conn.close_result(), Some((1011, "app".into())));
    assert_eq!(messages(&mut conn), ["text:a"]);

    let mut conn = open_server(Limits::default());
    faulty(&mut conn);
    assert_eq!(conn.receive_eof(), flags::FAILED | flags::CLOSED);
    assert!(conn.data_to_send().is_empty());
    assert_eq!(
        conn.error(),
        Some(&Fault::Frame(ProtocolError::ReservedOpcode(3)))
    );
    assert_eq!(messages(&mut conn), ["text:a"]);
    assert!(conn.data_to_send().is_empty());
}

#[test]
fn fail_in_each_state() {
    let mut conn = Connection::server(StdHost, Limits::default());
    assert!(matches!(
        conn.fail(1011, ""),
        Err(CallError::Local(LocalError::InvalidState { .. }))
    ));
    let mut conn = open_server(Limits::default());
    let reason = "é".repeat(100);
    conn.fail(1011, &reason).unwrap();
    assert_eq!(conn.state(), State::Closed);
    assert_eq!(conn.close_sent().unwrap().1.len(), 122);
    assert!(conn.close_expected());
    conn.fail(1011, "again").unwrap();
    let mut conn = open_server(Limits::default());
    conn.send_close(1000, "").unwrap();
    conn.data_to_send();
    conn.fail(4000, "").unwrap();
    assert!(conn.data_to_send().is_empty());
    assert_eq!(conn.close_result(), Some((1000, String::new())));
}

#[test]
fn eof_drops_partial_message_and_sets_1006() {
    let mut conn = open_server(Limits::default());
    conn.receive_data(&masked(1, b"par", false)).unwrap();
    assert_eq!(conn.receive_eof(), flags::CLOSED);
    assert_eq!(conn.receive_eof(), 0);
    assert_eq!(conn.error(), None);
    assert_eq!(conn.close_result(), Some((1006, String::new())));
    assert_eq!(conn.queued_messages(), 0);
}

#[test]
fn water_marks_pause_and_resume() {
    let mut conn = open_server(Limits {
        max_queue: Some(4),
        max_queue_bytes: None,
        ..Limits::default()
    });
    let frame = masked(2, b"m", true);
    for i in 1..=4 {
        let got = conn.receive_data(&frame).unwrap();
        let paused = if i == 4 { flags::PAUSE } else { 0 };
        assert_eq!(got, flags::MESSAGES | paused, "message {i}");
    }
    assert!(conn.reading_paused());
    // Still accepted: the engine never refuses input because of the queue.
    assert_eq!(
        conn.receive_data(&frame).unwrap(),
        flags::MESSAGES | flags::PAUSE
    );
    for remaining in (1..=4).rev() {
        conn.next_message_with(|_, _| ()).unwrap().unwrap();
        assert_eq!(conn.reading_paused(), remaining > 1, "{remaining} left");
    }
}

#[test]
fn streamed_denial_chunked() {
    let mut conn = Connection::server(StdHost, Limits::default());
    conn.receive_data(REQUEST).unwrap();
    conn.reject_start(401, &[(&b"WWW-Authenticate"[..], &b"Basic"[..])])
        .unwrap();
    assert_eq!(conn.pending_output(), 0);
    assert!(conn.accept::<&[u8], &[u8]>(None, &[]).is_err());
    conn.reject_body(b"abc", true).unwrap();
    conn.reject_body(b"", true).unwrap();
    conn.reject_body(b"de", false).unwrap();
    assert_eq!(conn.state(), State::Closed);
    let out = String::from_utf8(conn.data_to_send()).unwrap();
    assert_eq!(
        out,
        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\n\
Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    );
    assert_eq!(
        conn.reject_body(b"x", false),
        Err(LocalError::InvalidState {
            method: "reject_body",
            state: State::Closed
        })
    );
}

#[test]
fn trickled_huge_header_fails_at_the_limit() {
    let mut conn = Connection::server(StdHost, Limits::default());
    conn.receive_data(b"GET / HTTP/1.1\r\nX: ").unwrap();
    let mut accepted = 0;
    let mut got = 0;
    while got == 0 {
        got = conn.receive_data(b"a").unwrap();
        accepted += 1;
        assert!(accepted <= 8192, "the limit was not enforced");
    }
    assert_eq!(got, flags::FAILED | flags::OUTPUT | flags::CLOSED);
    assert_eq!(accepted, 8190);
    assert_eq!(
        conn.error(),
        Some(&Fault::Handshake(HandshakeError::HeaderLineTooLong(8192)))
    );
    let out = String::from_utf8(conn.data_to_send()).unwrap();
    assert!(out.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
}

#[test]
fn receive_request_is_validated_like_bytes() {
    let mut conn = Connection::server(StdHost, Limits::default());
    let headers: [(&[u8], &[u8]); 4] = [
        (b"host", b"x"),
        (b"upgrade", b"websocket"),
        (b"connection", b"upgrade"),
        (b"sec-websocket-version", b" 13 "),
    ];
    let got = conn.receive_request("GET", b"/", &headers, "1.1").unwrap();
    assert_eq!(got, flags::FAILED | flags::OUTPUT | flags::CLOSED);
    assert_eq!(
        conn.error(),
        Some(&Fault::Handshake(HandshakeError::MissingKey))
    );
    let mut conn = Connection::server(StdHost, Limits::default());
    conn.receive_data(b"G").unwrap();
    assert!(conn.receive_request("GET", b"/", &headers, "1.1").is_err());
}

/// A host whose random source fails after a number of bytes.
struct Flaky {
    left: usize,
}

impl Host for Flaky {
    type Payload = Vec<u8>;
    type Error = &'static str;

    fn random(&mut self, buf: &mut [u8]) -> Result<(), &'static str> {
        if buf.len() > self.left {
            return Err("exhausted");
        }
        self.left -= buf.len();
        buf.fill(0x11);
        Ok(())
    }
}

fn client(left: usize) -> Connection<Flaky> {
    Connection::client(
        Flaky { left },
        Limits::default(),
        "example.com",
        "/",
        vec!["chat".into()],
        vec![],
        Some("https://example.com".into()),
    )
    .unwrap()
}

fn open_client(left: usize) -> Connection<Flaky> {
    let mut conn = client(left);
    conn.send_request().unwrap();
    let request = String::from_utf8(conn.data_to_send()).unwrap();
    assert!(request.contains("Origin: https://example.com\r\n"));
    assert!(request.contains("Sec-WebSocket-Protocol: chat\r\n"));
    let key = "EREREREREREREREREREREQ==";
    assert!(request.contains(key));
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: chat\r\n\r\n",
        accept_key(key.as_bytes())
    );
    let mut data = response.into_bytes();
    data.extend(unmasked(1, b"hi"));
    assert_eq!(
        conn.receive_data(&data).unwrap(),
        flags::HANDSHAKE | flags::MESSAGES
    );
    assert_eq!(
        conn.response().unwrap().subprotocol.as_deref(),
        Some("chat")
    );
    conn
}

#[test]
fn client_masks_with_its_random_source_and_reports_its_failure() {
    let mut conn = open_client(20);
    conn.send_binary(b"ab", None).unwrap();
    assert_eq!(
        conn.data_to_send(),
        [0x82, 0x82, 0x11, 0x11, 0x11, 0x11, b'a' ^ 0x11, b'b' ^ 0x11]
    );
    // The source is exhausted: an automatic Pong cannot be masked.
    assert_eq!(conn.receive_data(&unmasked(9, b"p")), Err("exhausted"));
    assert_eq!(conn.send_text("x", None), Err(CallError::Host("exhausted")));
}

#[test]
fn deferred_failure_waits_for_the_random_source() {
    // 16 bytes: the key only. Masking the deferred Close fails, and the
    // failure stays deferred.
    let mut conn = open_client(16);
    assert_eq!(
        conn.receive_data(&unmasked(3, b"")).unwrap(),
        flags::DEFERRED
    );
    assert!(conn.next_message_with(|_, _| ()).unwrap().is_some());
    assert_eq!(conn.next_message_with(|_, _| ()), Err("exhausted"));
    assert!(conn.failure_deferred());
    assert_eq!(conn.state(), State::Open);
    assert_eq!(conn.error(), None);
    assert!(conn.data_to_send().is_empty());
}

#[test]
fn client_rejects_what_would_break_its_request() {
    let build = |host: &str, target: &str, protocol: &str, origin: Option<&str>| {
        Connection::client(
            StdHost,
            Limits::default(),
            host,
            target,
            vec![protocol.into()],
            vec![(b"X".to_vec(), b"1".to_vec())],
            origin.map(Into::into),
        )
        .map(|_| ())
    };
    assert_eq!(
        build("h:1", "/a?b=%20", "v2.chat", Some("https://ö")),
        Ok(())
    );
    for host in ["h\r\nX: 1", "h\n", "h\0"] {
        assert_eq!(build(host, "/", "p", None), Err(LocalError::InvalidHost));
    }
    for target in ["", "chat", "*", "/a b", "/\u{e4}", "/\x7f", "/\r\nX: 1"] {
        assert_eq!(
            build("h", target, "p", None),
            Err(LocalError::InvalidTarget)
        );
    }
    for protocol in ["", "a b", "a,b", "\u{fc}", "p\r\nX: 1"] {
        assert_eq!(
            build("h", "/", protocol, None),
            Err(LocalError::InvalidSubprotocol)
        );
    }
    for origin in ["o\r\nX: 1", "o\n", "o\0"] {
        assert_eq!(
            build("h", "/", "p", Some(origin)),
            Err(LocalError::InvalidOrigin)
        );
    }
    // In argument order: host, target, subprotocols, headers, origin.
    assert_eq!(
        build("h\n", "x", "", Some("\n")),
        Err(LocalError::InvalidHost)
    );
    assert_eq!(
        build("h", "x", "", Some("\n")),
        Err(LocalError::InvalidTarget)
    );
    assert_eq!(
        build("h", "/", "", Some("\n")),
        Err(LocalError::InvalidSubprotocol)
    );
    let bad_header = Connection::client(
        StdHost,
        Limits::default(),
        "h",
        "/",
        Vec::new(),
        vec![(b"X".to_vec(), b"\n".to_vec())],
        Some("\n".into()),
    );
    assert_eq!(bad_header.err(), Some(LocalError::InvalidHeaderValue));
}

#[test]
fn client_rejection_waits_for_its_body() {
    let mut conn = client(16);
    conn.send_request().unwrap();
    let head = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nno";
    assert_eq!(conn.receive_data(head).unwrap(), 0);
    assert!(conn.response().is_none());
    assert_eq!(
        conn.receive_data(b"pe!!").unwrap(),
        flags::FAILED | flags::CLOSED
    );
    assert_eq!(conn.response().unwrap().body, b"nope!");
    assert_eq!(
        conn.error(),
        Some(&Fault::Response(ResponseError::Rejected(403)))
    );
    assert_eq!(conn.close_result(), Some((1006, String::new())));
}

#[test]
fn idle_open_connection_holds_no_buffer() {
    let mut conn = open_server(Limits::default());
    conn.take_request();
    assert_eq!(conn.heap_size(), 0);
    let mut input = Vec::new();
    for _ in 0..1000 {
        input.extend(masked(1, b"0123456789abcdef0123456789abcdef", true));
    }
    conn.receive_data(&input).unwrap();
    assert!(conn.heap_size() >= 32_000);
    assert_eq!(messages(&mut conn).len(), 1000);
    conn.send_text("reply", None).unwrap();
    conn.data_to_send();
    assert!(conn.heap_size() <= 512, "{}", conn.heap_size());
    assert!(std::mem::size_of::<Connection<StdHost>>() <= 640);
}
