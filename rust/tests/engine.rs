//! The shared conformance vectors (`tests/vectors/*.json`), run on the core.
//!
//! The Python suite runs the same files on both engines through the binding;
//! this runs them on the protocol core alone, with no interpreter: each
//! vector is fed whole, one byte at a time, and split at every point when
//! its input is under 64 bytes, and every expectation the vector names is
//! checked. The format is described in `tests/vectors/README.md`, including
//! the compression additions (`extensions`, `after`, the `deflate` and
//! `request_sent` expectations). Unknown options, calls and expectation keys
//! fail the test, so that a new key in the vectors is noticed here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use _native::connection::{Limits, State};
use _native::deflate::DeflateOptions;
use _native::handshake;
use _native::queue::MessageKind;
use _native::{Connection, Host};
use serde_json::{json, Value};

/// Inputs shorter than this are also fed split at every point.
const SPLIT_LIMIT: usize = 64;

/// The RFC 6455 §5.7 mask key, repeated: the vectors' deterministic random source.
#[derive(Debug, Default)]
struct Deterministic {
    position: usize,
}

impl Host for Deterministic {
    type Payload = Vec<u8>;
    type Error = Infallible;

    fn random(&mut self, buf: &mut [u8]) -> Result<(), Infallible> {
        const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];
        for byte in buf {
            *byte = KEY[self.position % 4];
            self.position += 1;
        }
        Ok(())
    }
}

type Conn = Connection<Deterministic>;

const STANDARD_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\n\
Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Version: 13\r\n\r\n";

fn vector_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("vectors")
}

fn load_vectors() -> Vec<(String, Value)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(vector_dir())
        .map(|dir| dir.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|e| e == "json"));
    paths.sort();
    let mut vectors = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let cases: Vec<Value> = serde_json::from_str(&text).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        vectors.extend(cases.into_iter().map(|case| (name.clone(), case)));
    }
    vectors
}

fn unhex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap())
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

fn limits(options: &Value) -> Limits {
    let mut limits = Limits::default();
    let Some(options) = options.as_object() else {
        return limits;
    };
    for (name, value) in options {
        let value = value.as_u64();
        match name.as_str() {
            "max_size" => limits.max_size = value,
            "max_frame_size" => limits.max_frame_size = value,
            "max_fragments" => limits.max_fragments = value,
            "max_queue" => limits.max_queue = value,
            "max_queue_bytes" => limits.max_queue_bytes = value,
            "write_limit" => limits.write_limit = value.unwrap(),
            "max_request_line" => limits.max_request_line = value.unwrap(),
            "max_header_line" => limits.max_header_line = value.unwrap(),
            "max_headers" => limits.max_headers = value.unwrap(),
            "subprotocols"
            | "compression"
            | "compression_threshold"
            | "deflate_window_bits"
            | "deflate_mem_level"
            | "deflate_level"
            | "deflate_no_context_takeover" => {}
            other => panic!("unknown option {other}"),
        }
    }
    limits
}

/// The compression keywords of a vector's options (`None` unless `compression`).
fn compression(options: &Value) -> Option<DeflateOptions> {
    if !options["compression"].as_bool().unwrap_or(false) {
        return None;
    }
    let int = |name: &str, default: i64| options[name].as_i64().unwrap_or(default);
    Some(
        DeflateOptions::new(
            int("compression_threshold", 128),
            int("deflate_window_bits", 12),
            int("deflate_mem_level", 5),
            int("deflate_level", 6),
            options["deflate_no_context_takeover"]
                .as_bool()
                .unwrap_or(false),
        )
        .unwrap(),
    )
}

fn with_compression(conn: Conn, options: &Value) -> Conn {
    match compression(options) {
        Some(deflate) => conn.with_compression(deflate),
        None => conn,
    }
}

/// The `Sec-WebSocket-Extensions` line a vector adds to the standard handshake.
fn extension_line(vector: &Value) -> String {
    vector["extensions"]
        .as_str()
        .map(|value| format!("Sec-WebSocket-Extensions: {value}\r\n"))
        .unwrap_or_default()
}

fn subprotocols(options: &Value) -> Vec<String> {
    options["subprotocols"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn new_client(options: &Value) -> Conn {
    let conn = Connection::client(
        Deterministic::default(),
        limits(options),
        "server.example.com",
        "/chat",
        subprotocols(options),
        Vec::new(),
        None,
    )
    .unwrap();
    let mut conn = with_compression(conn, options);
    conn.send_request().unwrap();
    conn
}

fn new_server(options: &Value) -> Conn {
    with_compression(
        Connection::server(Deterministic::default(), limits(options)),
        options,
    )
}

/// Take the oldest message, in the vectors' format (`null` when there is none).
fn next_message(conn: &mut Conn) -> Value {
    conn.next_message_with(|kind, data| match kind {
        MessageKind::Text => {
            json!({"type": "text", "data": std::str::from_utf8(data).unwrap()})
        }
        MessageKind::Binary => json!({"type": "binary", "data": hex(data)}),
    })
    .unwrap()
    .unwrap_or(Value::Null)
}

/// Make one of a vector's `actions` or `after` calls; return its flags.
///
/// What `next_message` returns is appended to `popped`.
fn call(conn: &mut Conn, action: &Value, popped: &mut Vec<Value>) -> u32 {
    let args = &action["args"];
    match action["call"].as_str().unwrap() {
        "send_close" => {
            conn.send_close(args[0].as_i64().unwrap(), args[1].as_str().unwrap())
                .unwrap();
            0
        }
        "fail" => {
            conn.fail(args[0].as_i64().unwrap(), args[1].as_str().unwrap())
                .unwrap();
            0
        }
        "send_text" => {
            conn.send_text(args[0].as_str().unwrap(), None).unwrap();
            0
        }
        "next_message" => {
            popped.push(next_message(conn));
            0
        }
        "receive_data" => conn
            .receive_data(&unhex(args[0].as_str().unwrap()))
            .unwrap(),
        "accept" => {
            let subprotocol = args[0].as_str();
            let headers: Vec<(Vec<u8>, Vec<u8>)> = args[1]
                .as_array()
                .into_iter()
                .flatten()
                .map(|pair| (latin1_bytes(&pair[0]), latin1_bytes(&pair[1])))
                .collect();
            conn.accept(subprotocol, &headers).unwrap()
        }
        other => panic!("unknown action {other}"),
    }
}

fn latin1_bytes(text: &Value) -> Vec<u8> {
    text.as_str()
        .unwrap()
        .chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap())
        .collect()
}

/// Build the connection a vector starts from; also return what `send_request()` queued.
fn build(vector: &Value) -> (Conn, Vec<u8>) {
    let options = &vector["options"];
    let role = vector["role"].as_str().unwrap();
    let open = vector["open"].as_bool().unwrap_or(true);
    let extensions = extension_line(vector);
    let mut request_sent = Vec::new();
    let mut conn = match (role, open) {
        ("server", true) => {
            let mut conn = new_server(options);
            let head = &STANDARD_REQUEST[..STANDARD_REQUEST.len() - 2];
            let mut request = head.to_vec();
            request.extend_from_slice(extensions.as_bytes());
            request.extend_from_slice(b"\r\n");
            conn.receive_data(&request).unwrap();
            conn.accept::<Vec<u8>, Vec<u8>>(None, &[]).unwrap();
            conn
        }
        ("server", false) => new_server(options),
        (_, true) => {
            let mut conn = new_client(options);
            let request = conn.data_to_send();
            let request = String::from_utf8(request).unwrap();
            let key = request
                .split("Sec-WebSocket-Key: ")
                .nth(1)
                .and_then(|rest| rest.split("\r\n").next())
                .unwrap();
            let response = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n{extensions}\r\n",
                handshake::accept_key(key.as_bytes())
            );
            conn.receive_data(response.as_bytes()).unwrap();
            assert_eq!(conn.state(), State::Open);
            conn
        }
        (_, false) => {
            let mut conn = new_client(options);
            request_sent = conn.data_to_send();
            conn
        }
    };
    conn.data_to_send();
    for action in vector["actions"].as_array().into_iter().flatten() {
        call(&mut conn, action, &mut Vec::new());
        conn.data_to_send();
    }
    (conn, request_sent)
}

fn pair(value: Option<(u16, &str)>) -> Value {
    value.map_or(Value::Null, |(code, reason)| json!([code, reason]))
}

fn latin1(bytes: &[u8]) -> String {
    handshake::latin1(bytes)
}

fn headers(headers: &[(Vec<u8>, Vec<u8>)]) -> Value {
    headers
        .iter()
        .map(|(n, v)| json!([latin1(n), latin1(v)]))
        .collect()
}

/// What feeding a vector produced.
struct Run {
    conn: Conn,
    flags: u32,
    output: Vec<u8>,
    request_sent: Vec<u8>,
    /// What the `next_message` calls among `after` returned.
    popped: Vec<Value>,
}

/// Collect what `expect` names, in the vectors' format.
fn observe(run: &mut Run, expect: &Value) -> Value {
    let conn = &mut run.conn;
    let mut seen = serde_json::Map::new();
    for key in expect.as_object().unwrap().keys() {
        let value = match key.as_str() {
            "flags" => json!(run.flags),
            "output" => json!(hex(&run.output)),
            "request_sent" => json!(latin1(&run.request_sent)),
            "popped" => Value::Array(run.popped.clone()),
            "failure_deferred" => json!(conn.failure_deferred()),
            "deflate" => conn.deflate_params().map_or(Value::Null, |p| {
                json!({
                    "server_no_context_takeover": p.server_no_context_takeover,
                    "client_no_context_takeover": p.client_no_context_takeover,
                    "server_max_window_bits": p.server_max_window_bits,
                    "client_max_window_bits": p.client_max_window_bits,
                })
            }),
            "state" => json!(conn.state().name()),
            "error" => conn.error().map_or(Value::Null, |fault| {
                json!([fault.code(), fault.to_string()])
            }),
            "close_received" => pair(conn.close_received()),
            "close_sent" => pair(conn.close_sent()),
            "close_expected" => json!(conn.close_expected()),
            "close_code" => conn.close_result().map_or(Value::Null, |(c, _)| json!(c)),
            "close_reason" => conn.close_result().map_or(Value::Null, |(_, r)| json!(r)),
            "last_pong" => conn.last_pong().map_or(Value::Null, |p| json!(hex(p))),
            "queued_messages" => json!(conn.queued_messages()),
            "queued_bytes" => json!(conn.queued_bytes()),
            "reading_paused" => json!(conn.reading_paused()),
            "request" => observe_request(conn, &expect[key]),
            "response" => observe_response(conn, &expect[key]),
            "messages" => continue,
            other => panic!("unknown expect key {other}"),
        };
        seen.insert(key.clone(), value);
    }
    // Taken last: the call that finds the queue empty may make a deferred
    // failure take effect.
    if expect.get("messages").is_some() {
        let mut messages = Vec::new();
        loop {
            let message = next_message(conn);
            if message.is_null() {
                break;
            }
            messages.push(message);
        }
        seen.insert("messages".into(), Value::Array(messages));
    }
    Value::Object(seen)
}

fn subset(found: &Value, wanted: &Value) -> Value {
    let Some(wanted) = wanted.as_object() else {
        return found.clone();
    };
    let found = found.as_object().unwrap();
    Value::Object(
        wanted
            .keys()
            .map(|k| (k.clone(), found[k].clone()))
            .collect(),
    )
}

fn observe_request(conn: &Conn, wanted: &Value) -> Value {
    let Some(request) = conn.request() else {
        return Value::Null;
    };
    let (raw_path, query) = handshake::split_target(&request.target);
    let found = json!({
        "method": request.method,
        "target": latin1(&request.target),
        "path": handshake::percent_decode(raw_path),
        "raw_path": latin1(raw_path),
        "query_string": latin1(query),
        "http_version": "1.1",
        "key": request.info.key,
        "subprotocols": request.info.subprotocols,
        "extensions": extensions(&request.info.extensions),
        "headers": headers(&request.headers),
    });
    subset(&found, wanted)
}

fn extensions(offers: &[handshake::ExtensionOffer]) -> Value {
    offers
        .iter()
        .map(|(name, params)| {
            json!([
                name,
                params
                    .iter()
                    .map(|(k, v)| json!([k, v]))
                    .collect::<Vec<_>>()
            ])
        })
        .collect()
}

fn observe_response(conn: &Conn, wanted: &Value) -> Value {
    let Some(response) = conn.response() else {
        return Value::Null;
    };
    let found = json!({
        "status": response.status,
        "reason": handshake::utf8_lossy(&response.reason),
        "headers": headers(&response.headers),
        "subprotocol": response.subprotocol,
        "extensions": extensions(&response.extensions),
        "body": hex(&response.body),
    });
    subset(&found, wanted)
}

/// Put `expect` in the form `observe` produces (hex without spaces).
fn normalise(expect: &Value) -> Value {
    let mut wanted = expect.clone();
    if let Some(output) = expect["output"].as_str() {
        wanted["output"] = json!(hex(&unhex(output)));
    }
    if let Some(body) = expect["response"]["body"].as_str() {
        wanted["response"]["body"] = json!(hex(&unhex(body)));
    }
    if expect.get("request").is_some_and(Value::is_null) {
        wanted["request"] = Value::Null;
    }
    wanted
}

fn run(vector: &Value, pieces: &[&[u8]]) -> Value {
    let (mut conn, request_sent) = build(vector);
    let mut flags = 0;
    let mut output = Vec::new();
    for piece in pieces {
        flags |= conn.receive_data(piece).unwrap();
        output.extend(conn.data_to_send());
    }
    if vector["eof"].as_bool().unwrap_or(false) {
        flags |= conn.receive_eof();
        output.extend(conn.data_to_send());
    }
    let mut popped = Vec::new();
    for action in vector["after"].as_array().into_iter().flatten() {
        flags |= call(&mut conn, action, &mut popped);
        output.extend(conn.data_to_send());
    }
    let mut run = Run {
        conn,
        flags,
        output,
        request_sent,
        popped,
    };
    observe(&mut run, &vector["expect"])
}

#[test]
fn vectors_whole_byte_by_byte_and_split() {
    let vectors = load_vectors();
    assert!(
        !vectors.is_empty(),
        "no vectors in {}",
        vector_dir().display()
    );
    let mut failures = Vec::new();
    let mut runs = 0;
    for (file, vector) in &vectors {
        let id = vector["id"].as_str().unwrap();
        let input = unhex(vector["input"].as_str().unwrap());
        let wanted = normalise(&vector["expect"]);
        let mut modes: Vec<(String, Vec<&[u8]>)> = vec![("whole".into(), vec![&input[..]])];
        if input.len() > 1 {
            modes.push(("byte-by-byte".into(), input.chunks(1).collect()));
        }
        if input.len() < SPLIT_LIMIT {
            for point in 1..input.len() {
                let (a, b) = input.split_at(point);
                modes.push((format!("split-at-{point}"), vec![a, b]));
            }
        }
        for (mode, pieces) in modes {
            runs += 1;
            let seen = run(vector, &pieces);
            if seen != wanted {
                failures.push(format!(
                    "{file} {id} [{mode}]\n  want {wanted}\n  seen {seen}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {runs} runs failed:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(runs >= vectors.len());
}
