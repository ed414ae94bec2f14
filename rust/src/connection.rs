//! The sans-I/O connection state machine, for both roles.
//!
//! A [`Connection`] takes bytes from the network ([`Connection::receive_data`],
//! [`Connection::receive_eof`]) and calls from the application (`accept`,
//! `send_*`, `fail`), and produces three things: complete messages
//! ([`Connection::next_message_with`]), bytes to send (the [`Outbound`]
//! queue), and a small set of [`flags`] saying what an input call produced.
//! The peer's faults never return an error: they are recorded
//! ([`Connection::error`]), answered with the right Close frame or HTTP
//! response, and reported with [`flags::FAILED`]. A frame fault found while
//! complete messages are still queued is *deferred* ([`flags::DEFERRED`]):
//! nothing more is read, the connection stays open for sending, and the
//! failure takes effect once the application has taken those messages and
//! asks for the next one. Our own misuse returns
//! [`CallError::Local`] at once. The only other error is the host's own
//! (its random source failing), passed through as [`CallError::Host`].
//!
//! The connection holds no buffer while idle: the frame header in progress
//! lives in a 14-byte array, payloads grow with the bytes actually received,
//! and the queues release their buffers when they drain. With
//! permessage-deflate (RFC 7692, [`crate::deflate`]) the zlib streams are
//! allocated on first use, released after every message when context
//! takeover is off, and released when the connection closes.

use std::convert::Infallible;

use crate::close::{self, CloseCode};
use crate::deflate::{self, Deflate, DeflateOptions, InflateError, Params};
use crate::error::{Fault, HandshakeError, LocalError, ProtocolError, ResponseError};
use crate::frame::{self, FrameHeader, OpCode, MAX_HEADER_LEN};
use crate::handshake::{self, ExtensionOffer, HeadKind, HeadLimits, HeadParser, RequestInfo};
use crate::queue::{InboundQueue, MessageKind, Outbound};
use crate::utf8::Utf8Validator;

/// The bits returned by the input methods (`gyrfalcon.protocol.common.Flags`).
pub mod flags {
    /// A server parsed a valid request; a client validated a 101.
    pub const HANDSHAKE: u32 = 1;
    /// One or more complete messages were queued.
    pub const MESSAGES: u32 = 2;
    /// Output was queued (auto-pong, close echo, failure response).
    pub const OUTPUT: u32 = 4;
    /// At the end of the call `reading_paused` is True.
    pub const PAUSE: u32 = 8;
    /// One or more Pongs arrived.
    pub const PONG: u32 = 16;
    /// The peer's Close frame arrived.
    pub const CLOSE_RECEIVED: u32 = 32;
    /// The peer faulted; `error` is set.
    pub const FAILED: u32 = 64;
    /// `close_expected()` became True.
    pub const CLOSED: u32 = 128;
    /// The peer faulted while complete messages were queued: the failure
    /// waits for them to be taken ([`super::Connection::failure_deferred`]).
    pub const DEFERRED: u32 = 256;
}

/// Most bytes kept after a server's request head before `accept()`/`reject()`.
pub const MAX_BEFORE_ACCEPT: usize = 65536;

/// Most body bytes a client keeps from a rejection response.
pub const MAX_REJECTION_BODY: usize = 65536;

/// Which end of the connection we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// We accept connections; frames we receive must be masked.
    Server,
    /// We open connections; frames we send are masked.
    Client,
}

/// The state of a connection (RFC 6455 §4, §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    /// The opening handshake is under way.
    Connecting = 0,
    /// Messages flow both ways.
    Open = 1,
    /// We sent a Close and wait for the peer's.
    Closing = 2,
    /// Both Close frames were exchanged, or the connection failed or ended.
    Closed = 3,
}

impl State {
    /// Return the member name of `gyrfalcon.protocol.common.State`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Connecting => "CONNECTING",
            Self::Open => "OPEN",
            Self::Closing => "CLOSING",
            Self::Closed => "CLOSED",
        }
    }
}

/// What the connection needs from its environment.
pub trait Host {
    /// A payload kept by reference in the output queue until it is joined.
    type Payload;
    /// The error of the random source.
    type Error;
    /// Fill `buf` with random bytes (the client's key and mask keys).
    fn random(&mut self, buf: &mut [u8]) -> Result<(), Self::Error>;
}

/// A host for Rust callers: an OS-seeded CSPRNG and owned payloads.
#[derive(Debug, Default, Clone, Copy)]
pub struct StdHost;

impl Host for StdHost {
    type Payload = Vec<u8>;
    type Error = Infallible;

    fn random(&mut self, buf: &mut [u8]) -> Result<(), Infallible> {
        fill_random(buf);
        Ok(())
    }
}

/// Fill `buf` from the thread's OS-seeded CSPRNG (`rand`'s `ThreadRng`, a `ChaCha12`).
pub fn fill_random(buf: &mut [u8]) {
    use rand::Rng;
    rand::rng().fill_bytes(buf);
}

/// An error from a method called by the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallError<E> {
    /// The caller misused the connection.
    Local(LocalError),
    /// The host's random source failed.
    Host(E),
}

impl<E> From<LocalError> for CallError<E> {
    fn from(err: LocalError) -> Self {
        Self::Local(err)
    }
}

/// The limits of a connection (`None` means no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest message, in payload bytes after reassembly.
    pub max_size: Option<u64>,
    /// Largest frame payload.
    pub max_frame_size: Option<u64>,
    /// Most data frames per message.
    pub max_fragments: Option<u64>,
    /// Inbound queue high-water mark in messages.
    pub max_queue: Option<u64>,
    /// Inbound queue high-water mark in payload bytes.
    pub max_queue_bytes: Option<u64>,
    /// Outbound buffer high-water mark.
    pub write_limit: u64,
    /// Longest request or status line.
    pub max_request_line: u64,
    /// Longest header line.
    pub max_header_line: u64,
    /// Most header lines.
    pub max_headers: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_size: Some(16 * 1024 * 1024),
            max_frame_size: None,
            max_fragments: None,
            max_queue: Some(32),
            max_queue_bytes: Some(4 * 1024 * 1024),
            write_limit: 65536,
            max_request_line: 8192,
            max_header_line: 8192,
            max_headers: 128,
        }
    }
}

impl Limits {
    fn head(&self) -> HeadLimits {
        let clamp = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        HeadLimits {
            max_first_line: clamp(self.max_request_line),
            max_header_line: clamp(self.max_header_line),
            max_headers: clamp(self.max_headers),
        }
    }
}

/// Check one limit argument: ≥ 1, or `None` where allowed.
pub fn check_limit(name: &'static str, value: Option<i64>) -> Result<Option<u64>, LocalError> {
    match value {
        None => Ok(None),
        Some(v) if v >= 1 => Ok(Some(v.unsigned_abs())),
        Some(_) => Err(LocalError::NotPositive(name)),
    }
}

/// A parsed opening request (server role).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The request method.
    pub method: String,
    /// The raw request-target.
    pub target: Vec<u8>,
    /// Every header, in order, values stripped.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// The key, subprotocols and extensions.
    pub info: RequestInfo,
}

/// A parsed opening response (client role).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code.
    pub status: u16,
    /// The reason phrase, as sent.
    pub reason: Vec<u8>,
    /// Every header, in order, values stripped.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// The subprotocol the server selected.
    pub subprotocol: Option<String>,
    /// The extensions the server accepted.
    pub extensions: Vec<ExtensionOffer>,
    /// The body of a rejection.
    pub body: Vec<u8>,
}

/// Where a server is in answering the request.
#[derive(Debug)]
enum Answer {
    /// No answer yet.
    None,
    /// `reject_start()` was called; the head is not queued yet.
    Started {
        status: u16,
        headers: Vec<(Vec<u8>, Vec<u8>)>,
    },
    /// The head is queued; body chunks follow.
    Streaming { chunked: bool },
}

/// Server-side handshake state, dropped once the connection opens or closes.
#[derive(Debug)]
struct ServerHandshake {
    parser: HeadParser,
    /// Whether any request byte was received (`receive_request()` is then refused).
    started: bool,
    /// Whether a valid request head was received.
    received: bool,
    /// The request's key and offered subprotocols, for `accept()`.
    key: String,
    subprotocols: Vec<String>,
    /// Bytes received after the head, before the answer.
    pending: Vec<u8>,
    answer: Answer,
    /// The permessage-deflate offer `accept()` will take, if any.
    deflate: Option<deflate::Agreement>,
}

/// Client-side handshake state, dropped once the connection opens or closes.
#[derive(Debug)]
struct ClientHandshake {
    host: String,
    target: String,
    origin: Option<String>,
    subprotocols: Vec<String>,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    key: Option<String>,
    parser: HeadParser,
    /// A rejection waiting for its body.
    rejection: Option<Box<Rejection>>,
}

/// A client's rejection response, waiting for its body.
#[derive(Debug)]
struct Rejection {
    head: ResponseHead,
    /// How many body bytes to wait for.
    wanted: usize,
}

#[derive(Debug)]
enum Handshake {
    Server(ServerHandshake),
    Client(ClientHandshake),
}

/// Why frame processing stopped early.
enum Stop<E> {
    /// The peer faulted.
    Fault(ProtocolError),
    /// The host's random source failed.
    Host(E),
}

/// The frame being received.
#[derive(Debug, Clone, Copy)]
struct FrameState {
    opcode: OpCode,
    fin: bool,
    mask: Option<[u8; 4]>,
    remaining: u64,
    key_offset: usize,
}

/// The data message being received.
#[derive(Debug, Clone, Copy)]
struct MessageState {
    text: bool,
    /// RSV1 was set on its first frame: the payload is deflated (RFC 7692).
    compressed: bool,
    /// Payload bytes so far (inflated bytes for a compressed message).
    size: u64,
    fragments: u64,
    /// Payloads are dropped (we sent a Close: §7.1.3 allows ignoring data).
    discard: bool,
}

/// The frame parser's state.
#[derive(Debug, Default)]
struct Reader {
    header: [u8; MAX_HEADER_LEN],
    header_len: u8,
    frame: Option<FrameState>,
    message: Option<MessageState>,
    utf8: Utf8Validator,
    control: Vec<u8>,
}

/// A WebSocket connection, server or client role.
#[derive(Debug)]
pub struct Connection<H: Host> {
    host: H,
    role: Role,
    state: State,
    limits: Limits,
    handshake: Option<Box<Handshake>>,
    request: Option<Box<RequestHead>>,
    response: Option<Box<ResponseHead>>,
    reader: Reader,
    inbound: InboundQueue,
    out: Outbound<H::Payload>,
    close_sent: Option<(u16, String)>,
    close_received: Option<(u16, String)>,
    error: Option<Fault>,
    /// A frame fault waiting for the queued messages to be taken.
    deferred: Option<ProtocolError>,
    last_pong: Option<Vec<u8>>,
    close_expected: bool,
    reading_paused: bool,
    /// The permessage-deflate settings (`None`: compression is off).
    compression: Option<DeflateOptions>,
    /// The agreed parameters, once negotiated.
    deflate_params: Option<Params>,
    /// The compression state while messages can flow (released on close).
    deflate: Option<Box<Deflate>>,
}

impl<H: Host> Connection<H> {
    fn new(host: H, role: Role, limits: Limits, handshake: Handshake) -> Self {
        Self {
            host,
            role,
            state: State::Connecting,
            limits,
            handshake: Some(Box::new(handshake)),
            request: None,
            response: None,
            reader: Reader::default(),
            inbound: InboundQueue::default(),
            out: Outbound::default(),
            close_sent: None,
            close_received: None,
            error: None,
            deferred: None,
            last_pong: None,
            close_expected: false,
            reading_paused: false,
            compression: None,
            deflate_params: None,
            deflate: None,
        }
    }

    /// Enable permessage-deflate (RFC 7692) with these settings.
    ///
    /// A server accepts the first acceptable offer in `accept()`; a client
    /// offers it in `send_request()`. Call before the handshake.
    #[must_use]
    pub fn with_compression(mut self, options: DeflateOptions) -> Self {
        self.compression = Some(options);
        self
    }

    /// Return a server-role connection waiting for a request.
    pub fn server(host: H, limits: Limits) -> Self {
        let parser = HeadParser::new(HeadKind::Request, limits.head());
        let handshake = Handshake::Server(ServerHandshake {
            parser,
            started: false,
            received: false,
            key: String::new(),
            subprotocols: Vec::new(),
            pending: Vec::new(),
            answer: Answer::None,
            deflate: None,
        });
        Self::new(host, Role::Server, limits, handshake)
    }

    /// Return a client-role connection; call [`send_request`](Self::send_request) next.
    ///
    /// # Errors
    ///
    /// The request would carry something that breaks it: see
    /// [`handshake::check_client_request`].
    pub fn client(
        host: H,
        limits: Limits,
        server_host: &str,
        target: &str,
        subprotocols: Vec<String>,
        headers: Vec<(Vec<u8>, Vec<u8>)>,
        origin: Option<String>,
    ) -> Result<Self, LocalError> {
        handshake::check_client_request(
            server_host,
            target,
            &subprotocols,
            &headers,
            origin.as_deref(),
        )?;
        let parser = HeadParser::new(HeadKind::Response, limits.head());
        let handshake = Handshake::Client(ClientHandshake {
            host: server_host.to_owned(),
            target: target.to_owned(),
            origin,
            subprotocols,
            headers,
            key: None,
            parser,
            rejection: None,
        });
        Ok(Self::new(host, Role::Client, limits, handshake))
    }

    // --- accessors ------------------------------------------------------------

    /// Return the role.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// Return the state.
    #[must_use]
    pub fn state(&self) -> State {
        self.state
    }

    /// Return the limits.
    #[must_use]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Return the host.
    #[must_use]
    pub fn host(&self) -> &H {
        &self.host
    }

    /// Return the host, to change it.
    pub fn host_mut(&mut self) -> &mut H {
        &mut self.host
    }

    /// Return the parsed request (server role), once valid.
    #[must_use]
    pub fn request(&self) -> Option<&RequestHead> {
        self.request.as_deref()
    }

    /// Remove and return the parsed request (the binding keeps its own copy).
    pub fn take_request(&mut self) -> Option<Box<RequestHead>> {
        self.request.take()
    }

    /// Remove and return the parsed response (the binding keeps its own copy).
    pub fn take_response(&mut self) -> Option<Box<ResponseHead>> {
        self.response.take()
    }

    /// Return the parsed response (client role), once received.
    #[must_use]
    pub fn response(&self) -> Option<&ResponseHead> {
        self.response.as_deref()
    }

    /// Return the peer's fault, if any.
    #[must_use]
    pub fn error(&self) -> Option<&Fault> {
        self.error.as_ref()
    }

    /// Return True while a peer fault waits for the queued messages to be taken.
    ///
    /// Meanwhile the state is still `OPEN` (messages may be sent), input is
    /// ignored, and `error` is not set: the call to
    /// [`next_message_with`](Self::next_message_with) that finds the queue
    /// empty fails the connection.
    #[must_use]
    pub fn failure_deferred(&self) -> bool {
        self.deferred.is_some()
    }

    /// Return the Close frame we sent: `(code, reason)`.
    #[must_use]
    pub fn close_sent(&self) -> Option<(u16, &str)> {
        self.close_sent.as_ref().map(|(c, r)| (*c, r.as_str()))
    }

    /// Return the peer's Close frame: `(code, reason)`.
    #[must_use]
    pub fn close_received(&self) -> Option<(u16, &str)> {
        self.close_received.as_ref().map(|(c, r)| (*c, r.as_str()))
    }

    /// Return the close code and reason once `CLOSED`.
    ///
    /// The peer's Close, else a frame fault, else our Close, else 1006.
    #[must_use]
    pub fn close_result(&self) -> Option<(u16, String)> {
        if self.state != State::Closed {
            return None;
        }
        if let Some((code, reason)) = &self.close_received {
            return Some((*code, reason.clone()));
        }
        if let Some(Fault::Frame(err)) = &self.error {
            return Some((err.close_code(), err.to_string()));
        }
        if let Some((code, reason)) = &self.close_sent {
            return Some((*code, reason.clone()));
        }
        Some((CloseCode::AbnormalClosure as u16, String::new()))
    }

    /// Return the compression settings (`None`: compression is off).
    #[must_use]
    pub fn compression(&self) -> Option<&DeflateOptions> {
        self.compression.as_ref()
    }

    /// Return the agreed permessage-deflate parameters, once negotiated.
    #[must_use]
    pub fn deflate_params(&self) -> Option<&Params> {
        self.deflate_params.as_ref()
    }

    /// Return the payload of the most recent Pong.
    #[must_use]
    pub fn last_pong(&self) -> Option<&[u8]> {
        self.last_pong.as_deref()
    }

    /// Return the number of complete messages queued.
    #[must_use]
    pub fn queued_messages(&self) -> usize {
        self.inbound.len()
    }

    /// Return the payload bytes of the complete messages queued.
    #[must_use]
    pub fn queued_bytes(&self) -> usize {
        self.inbound.bytes()
    }

    /// Return True while the inbound queue is above its high-water mark.
    #[must_use]
    pub fn reading_paused(&self) -> bool {
        self.reading_paused
    }

    /// Return True once the transport should be closed after flushing output.
    #[must_use]
    pub fn close_expected(&self) -> bool {
        self.close_expected
    }

    /// Return the number of bytes waiting to be sent.
    #[must_use]
    pub fn pending_output(&self) -> usize {
        self.out.len()
    }

    /// Return True when the pending output is at or above `write_limit`.
    #[must_use]
    pub fn writing_paused(&self) -> bool {
        self.out.len() as u64 >= self.limits.write_limit
    }

    /// Return the output queue, to drain it.
    pub fn output(&mut self) -> &mut Outbound<H::Payload> {
        &mut self.out
    }

    /// Return everything pending joined, and clear it.
    pub fn data_to_send(&mut self) -> Vec<u8>
    where
        H::Payload: AsRef<[u8]>,
    {
        self.out.take_joined()
    }

    /// Return the heap bytes held by the engine for this connection.
    ///
    /// Payloads kept by reference are not counted (they belong to the caller).
    #[must_use]
    pub fn heap_size(&self) -> usize {
        let handshake = if self.handshake.is_some() {
            std::mem::size_of::<Handshake>()
        } else {
            0
        };
        handshake
            + self
                .request
                .as_ref()
                .map_or(0, |_| std::mem::size_of::<RequestHead>())
            + self
                .response
                .as_ref()
                .map_or(0, |_| std::mem::size_of::<ResponseHead>())
            + self.reader.control.capacity()
            + self.inbound.heap_size()
            + self.out.heap_size()
            + self.close_sent.as_ref().map_or(0, |(_, r)| r.capacity())
            + self
                .close_received
                .as_ref()
                .map_or(0, |(_, r)| r.capacity())
            + self.last_pong.as_ref().map_or(0, Vec::capacity)
            + self
                .deflate
                .as_ref()
                .map_or(0, |d| std::mem::size_of::<Deflate>() + d.heap_size())
    }

    /// Pop the oldest complete message and hand it to `f`.
    ///
    /// `f` gets the message type and payload; a TEXT payload is valid UTF-8
    /// (it was validated on the way in). Returns `None` when the queue is
    /// empty. Resumes reading once the queue is at or below both low-water
    /// marks.
    ///
    /// With a deferred failure and an empty queue, the failure takes effect
    /// here, as an immediate one would have: `error` is set, the Close frame
    /// is queued and the state is `CLOSED`. So after `None`, check
    /// [`close_expected`](Self::close_expected). The only error is the
    /// host's random source failing while a client masks that Close frame
    /// (the failure then stays deferred).
    pub fn next_message_with<T>(
        &mut self,
        f: impl FnOnce(MessageKind, &[u8]) -> T,
    ) -> Result<Option<T>, H::Error> {
        let Some(result) = self.inbound.pop_with(f) else {
            if let Some(err) = self.deferred.clone() {
                self.fail_now(err)?;
            }
            return Ok(None);
        };
        if self.reading_paused {
            let low_count = self
                .limits
                .max_queue
                .is_none_or(|max| self.inbound.len() as u64 <= max / 4);
            let low_bytes = self
                .limits
                .max_queue_bytes
                .is_none_or(|max| self.inbound.bytes() as u64 <= max / 4);
            if low_count && low_bytes {
                self.reading_paused = false;
            }
        }
        Ok(Some(result))
    }

    // --- input ------------------------------------------------------------------

    /// Feed bytes received from the network; return the flags of this call.
    ///
    /// Afterwards, send the pending output to the peer and act on the flags.
    /// The peer's faults do not return an error. The only error is the host's
    /// random source failing while a client queues an automatic frame.
    /// Whatever is kept (a partial frame or message, bytes before
    /// `accept()`) is copied: `data` is not borrowed past the call.
    ///
    /// While a failure is deferred, input is ignored and `0` returned.
    pub fn receive_data(&mut self, data: &[u8]) -> Result<u32, H::Error> {
        if data.is_empty() || self.state == State::Closed || self.deferred.is_some() {
            return Ok(0);
        }
        let flags = match self.state {
            State::Connecting => match self.role {
                Role::Server => self.receive_request_bytes(data),
                Role::Client => self.receive_response_bytes(data)?,
            },
            _ => self.receive_frames(data)?,
        };
        Ok(self.finish_input(flags))
    }

    /// Record that the peer closed its side of TCP; return the flags.
    ///
    /// Returns [`flags::CLOSED`], plus [`flags::FAILED`] when a deferred
    /// failure is recorded in `error` (nothing is queued: the peer is gone).
    /// Queued messages can still be taken.
    pub fn receive_eof(&mut self) -> u32 {
        if self.state == State::Closed {
            return 0;
        }
        let deferred = self.deferred.take();
        self.state = State::Closed;
        self.close_expected = true;
        self.handshake = None;
        self.reader.frame = None;
        self.reader.message = None;
        self.reader.control = Vec::new();
        self.inbound.abort();
        self.deflate = None;
        match deferred {
            Some(err) => {
                self.error = Some(Fault::Frame(err));
                flags::FAILED | flags::CLOSED
            }
            None => flags::CLOSED,
        }
    }

    /// Hand over a request that a server already parsed (ASGI servers).
    pub fn receive_request(
        &mut self,
        method: &str,
        target: &[u8],
        headers: &[(&[u8], &[u8])],
        http_version: &str,
    ) -> Result<u32, LocalError> {
        let allowed = self.state == State::Connecting
            && matches!(self.handshake.as_deref(), Some(Handshake::Server(hs)) if !hs.started);
        if !allowed {
            return Err(LocalError::InvalidState {
                method: "receive_request",
                state: self.state,
            });
        }
        if let Some(hs) = self.server_handshake() {
            hs.started = true;
        }
        if headers.len() as u64 > self.limits.max_headers {
            let err = HandshakeError::TooManyHeaders(self.limits.max_headers as usize);
            let flags = self.fail_handshake(err);
            return Ok(self.finish_input(flags));
        }
        let stripped: Vec<(&[u8], &[u8])> = headers
            .iter()
            .map(|(n, v)| (*n, handshake::strip_ows(v)))
            .collect();
        let flags =
            self.complete_request(method.as_bytes(), target, http_version == "1.1", &stripped);
        Ok(self.finish_input(flags))
    }

    /// Add PAUSE (and update `reading_paused`) at the end of an input call.
    fn finish_input(&mut self, mut flags: u32) -> u32 {
        let over_count = self
            .limits
            .max_queue
            .is_some_and(|max| self.inbound.len() as u64 >= max);
        let over_bytes = self
            .limits
            .max_queue_bytes
            .is_some_and(|max| self.inbound.bytes() as u64 >= max);
        if over_count || over_bytes {
            self.reading_paused = true;
        }
        if self.reading_paused {
            flags |= flags::PAUSE;
        }
        flags
    }

    fn server_handshake(&mut self) -> Option<&mut ServerHandshake> {
        match self.handshake.as_deref_mut() {
            Some(Handshake::Server(hs)) => Some(hs),
            _ => None,
        }
    }

    fn client_handshake(&mut self) -> Option<&mut ClientHandshake> {
        match self.handshake.as_deref_mut() {
            Some(Handshake::Client(hs)) => Some(hs),
            _ => None,
        }
    }

    fn receive_request_bytes(&mut self, data: &[u8]) -> u32 {
        let head_limits = self.limits.head();
        let Some(hs) = self.server_handshake() else {
            return 0;
        };
        if !matches!(hs.answer, Answer::None) {
            // A denial is being sent: nothing more is read.
            return 0;
        }
        if hs.received {
            return self.keep_before_accept(data);
        }
        hs.started = true;
        let used = match hs.parser.feed(data) {
            Ok(None) => return 0,
            Ok(Some(used)) => used,
            Err(err) => return self.fail_handshake(err.for_request(&head_limits)),
        };
        // Take the parser out so that the head can be borrowed while `self` changes.
        let parser = std::mem::replace(
            &mut hs.parser,
            HeadParser::new(HeadKind::Request, head_limits),
        );
        let head = parser.head();
        let Some((method, target, version)) = handshake::parse_request_line(head.first_line) else {
            return self.fail_handshake(HandshakeError::InvalidRequestLine);
        };
        let flags = self.complete_request(method, target, version == b"HTTP/1.1", &head.headers);
        if flags & flags::FAILED != 0 {
            return flags;
        }
        flags | self.keep_before_accept(&data[used..])
    }

    /// Validate a complete request and record it, or fail the handshake.
    fn complete_request(
        &mut self,
        method: &[u8],
        target: &[u8],
        version_ok: bool,
        headers: &[(&[u8], &[u8])],
    ) -> u32 {
        match handshake::validate_request(method, version_ok, headers) {
            Err(err) => self.fail_handshake(err),
            Ok(info) => {
                let agreement = self
                    .compression
                    .and_then(|options| deflate::negotiate(&info.extensions, &options));
                if let Some(hs) = self.server_handshake() {
                    hs.received = true;
                    hs.key.clone_from(&info.key);
                    hs.subprotocols.clone_from(&info.subprotocols);
                    hs.deflate = agreement;
                }
                self.request = Some(Box::new(RequestHead {
                    method: handshake::latin1(method),
                    target: target.to_vec(),
                    headers: headers
                        .iter()
                        .map(|(n, v)| (n.to_vec(), v.to_vec()))
                        .collect(),
                    info,
                }));
                flags::HANDSHAKE
            }
        }
    }

    /// Keep bytes that arrive between the request head and the answer.
    fn keep_before_accept(&mut self, data: &[u8]) -> u32 {
        let Some(hs) = self.server_handshake() else {
            return 0;
        };
        if hs.pending.len() + data.len() > MAX_BEFORE_ACCEPT {
            return self.fail_handshake(HandshakeError::TooMuchData);
        }
        hs.pending.extend_from_slice(data);
        0
    }

    fn fail_handshake(&mut self, err: HandshakeError) -> u32 {
        self.out
            .buf_mut()
            .extend_from_slice(&handshake::build_error_response(&err));
        self.error = Some(Fault::Handshake(err));
        self.state = State::Closed;
        self.close_expected = true;
        self.handshake = None;
        flags::FAILED | flags::OUTPUT | flags::CLOSED
    }

    fn receive_response_bytes(&mut self, data: &[u8]) -> Result<u32, H::Error> {
        let head_limits = self.limits.head();
        let compression = self.compression;
        let Some(hs) = self.client_handshake() else {
            return Ok(0);
        };
        if hs.rejection.is_some() {
            return Ok(self.receive_rejection_body(data));
        }
        let used = match hs.parser.feed(data) {
            Ok(None) => return Ok(0),
            Ok(Some(used)) => used,
            Err(err) => return Ok(self.fail_response(err.for_response(&head_limits))),
        };
        let head = hs.parser.head();
        let Some((status, reason)) = handshake::parse_status_line(head.first_line) else {
            return Ok(self.fail_response(ResponseError::InvalidStatusLine));
        };
        let mut response = ResponseHead {
            status,
            reason: reason.to_vec(),
            headers: head
                .headers
                .iter()
                .map(|(n, v)| (n.to_vec(), v.to_vec()))
                .collect(),
            subprotocol: None,
            extensions: Vec::new(),
            body: Vec::new(),
        };
        let rest = &data[used..];
        if status != 101 {
            // RFC 6455 §4.1: any other status is a rejection. Keep its body,
            // up to Content-Length (capped), or what came with the head.
            let length = handshake::content_length(&head.headers);
            let wanted = length.map_or(MAX_REJECTION_BODY, |n| {
                usize::try_from(n).map_or(MAX_REJECTION_BODY, |n| n.min(MAX_REJECTION_BODY))
            });
            hs.rejection = Some(Box::new(Rejection {
                head: response,
                wanted,
            }));
            let flags = self.receive_rejection_body(rest);
            if length.is_none() && flags == 0 {
                return Ok(self.finish_rejection());
            }
            return Ok(flags);
        }
        match handshake::validate_response(
            &head.headers,
            hs.key.as_deref(),
            &hs.subprotocols,
            compression.as_ref(),
        ) {
            Err(err) => Ok(self.fail_response(err)),
            Ok(info) => {
                response.subprotocol = info.subprotocol;
                response.extensions = info.extensions;
                if let (Some(params), Some(options)) = (info.deflate, compression) {
                    self.deflate_params = Some(params);
                    self.deflate = Some(Box::new(Deflate::client(params, &options)));
                }
                self.response = Some(Box::new(response));
                self.handshake = None;
                self.state = State::Open;
                Ok(flags::HANDSHAKE | self.receive_frames(rest)?)
            }
        }
    }

    /// Add bytes to a rejection's body; finish it once complete.
    fn receive_rejection_body(&mut self, data: &[u8]) -> u32 {
        let Some(rejection) = self
            .client_handshake()
            .and_then(|hs| hs.rejection.as_deref_mut())
        else {
            return 0;
        };
        let body = &mut rejection.head.body;
        let take = rejection.wanted.saturating_sub(body.len()).min(data.len());
        body.extend_from_slice(&data[..take]);
        if body.len() >= rejection.wanted {
            return self.finish_rejection();
        }
        0
    }

    /// Record a rejection whose body is complete.
    fn finish_rejection(&mut self) -> u32 {
        let Some(rejection) = self.client_handshake().and_then(|hs| hs.rejection.take()) else {
            return 0;
        };
        let status = rejection.head.status;
        self.response = Some(Box::new(rejection.head));
        self.fail_response(ResponseError::Rejected(status))
    }

    fn fail_response(&mut self, err: ResponseError) -> u32 {
        self.error = Some(Fault::Response(err));
        self.state = State::Closed;
        self.close_expected = true;
        self.handshake = None;
        flags::FAILED | flags::CLOSED
    }

    // --- frames -------------------------------------------------------------------

    fn receive_frames(&mut self, data: &[u8]) -> Result<u32, H::Error> {
        let mut flags = 0;
        let mut pos = 0;
        while matches!(self.state, State::Open | State::Closing) {
            let mut frame = if let Some(frame) = self.reader.frame {
                frame
            } else {
                let Some(header) = self.read_header(data, &mut pos) else {
                    break;
                };
                match self.start_frame(&header) {
                    Ok(frame) => frame,
                    Err(err) => {
                        flags |= self.fail_frame(err)?;
                        break;
                    }
                }
            };
            if frame.remaining > 0 {
                let available = data.len() - pos;
                if available == 0 {
                    self.reader.frame = Some(frame);
                    break;
                }
                let n = usize::try_from(frame.remaining).map_or(available, |r| r.min(available));
                let chunk = &data[pos..pos + n];
                pos += n;
                let result = self.frame_payload(&frame, chunk);
                frame.remaining -= n as u64;
                frame.key_offset = (frame.key_offset + n) % 4;
                if let Err(err) = result {
                    flags |= self.fail_frame(err)?;
                    break;
                }
                if frame.remaining > 0 {
                    self.reader.frame = Some(frame);
                    break;
                }
            }
            self.reader.frame = None;
            match self.end_frame(&frame) {
                Ok(new) => flags |= new,
                Err(Stop::Fault(err)) => {
                    flags |= self.fail_frame(err)?;
                    break;
                }
                Err(Stop::Host(err)) => return Err(err),
            }
        }
        Ok(flags)
    }

    /// Read a frame header from `data` at `pos`, buffering a partial one.
    ///
    /// Returns `None` when the header is not complete (every byte of `data`
    /// was used).
    fn read_header(&mut self, data: &[u8], pos: &mut usize) -> Option<FrameHeader> {
        let rest = data.get(*pos..).unwrap_or_default();
        if self.reader.header_len == 0 {
            if let Some((header, used)) = frame::parse_header(rest) {
                *pos += used;
                return Some(header);
            }
        }
        // Slow path: the header is split across calls.
        let mut have = usize::from(self.reader.header_len);
        let mut rest = rest;
        loop {
            let need = if have >= 2 {
                frame::header_len(self.reader.header[1])
            } else {
                2
            };
            let take = need.saturating_sub(have).min(rest.len());
            self.reader.header[have..have + take].copy_from_slice(&rest[..take]);
            *pos += take;
            have += take;
            rest = &rest[take..];
            self.reader.header_len = have as u8;
            if have < need {
                return None;
            }
            if have >= 2 && have == frame::header_len(self.reader.header[1]) {
                break;
            }
        }
        self.reader.header_len = 0;
        frame::parse_header(&self.reader.header[..have]).map(|(header, _)| header)
    }

    /// Check a new frame's header and return its state.
    fn start_frame(&mut self, header: &FrameHeader) -> Result<FrameState, ProtocolError> {
        let opcode = header.check_with(self.role == Role::Server, self.deflate.is_some())?;
        // RFC 7692 §6: RSV1 on the first frame marks a compressed message
        // (`check_with` allowed it only there, and only once negotiated).
        let rsv1 = header.rsv & 0b100 != 0;
        let len = header.payload_len;
        match opcode {
            OpCode::Continuation if self.reader.message.is_none() => {
                return Err(ProtocolError::UnexpectedContinuation)
            }
            OpCode::Text | OpCode::Binary if self.reader.message.is_some() => {
                return Err(ProtocolError::UnfinishedMessage)
            }
            _ => {}
        }
        if opcode.is_control() {
            self.reader.control.clear();
        } else {
            // RFC 6455 §7.1.3: once our Close is sent, data may be discarded;
            // the framing rules above still apply, the limits below do not.
            let discard =
                self.state != State::Open || self.reader.message.is_some_and(|m| m.discard);
            let (size, fragments, compressed) = self
                .reader
                .message
                .map_or((0, 0, rsv1), |m| (m.size, m.fragments, m.compressed));
            if !discard {
                if let Some(max) = self.limits.max_frame_size {
                    if len > max {
                        return Err(ProtocolError::FrameTooBig(max));
                    }
                }
                // A compressed message's size is checked while it is inflated.
                if let Some(max) = self.limits.max_size.filter(|_| !compressed) {
                    if size.saturating_add(len) > max {
                        return Err(ProtocolError::MessageTooBig(max));
                    }
                }
                if let Some(max) = self.limits.max_fragments {
                    if fragments >= max {
                        return Err(ProtocolError::TooManyFragments(max));
                    }
                }
            }
            if let Some(message) = self.reader.message.as_mut() {
                message.fragments += 1;
            } else {
                self.reader.message = Some(MessageState {
                    text: opcode == OpCode::Text,
                    compressed,
                    size: 0,
                    fragments: 1,
                    discard,
                });
                if !discard {
                    self.inbound.begin();
                    self.reader.utf8.reset();
                }
            }
        }
        Ok(FrameState {
            opcode,
            fin: header.fin,
            mask: header.mask,
            remaining: len,
            key_offset: 0,
        })
    }

    /// Process a piece of the current frame's payload.
    fn frame_payload(&mut self, frame: &FrameState, chunk: &[u8]) -> Result<(), ProtocolError> {
        let mask = frame.mask.map(|key| (key, frame.key_offset));
        if frame.opcode.is_control() {
            match mask {
                Some((key, offset)) => {
                    crate::mask::mask_extend(&mut self.reader.control, chunk, key, offset);
                }
                None => self.reader.control.extend_from_slice(chunk),
            }
            return Ok(());
        }
        let Some(message) = self.reader.message.as_mut() else {
            return Ok(());
        };
        if message.discard {
            return Ok(());
        }
        if message.compressed {
            return self.inflate_payload(frame, chunk);
        }
        message.size += chunk.len() as u64;
        let text = message.text;
        let before = self.inbound.partial().len();
        self.inbound.extend(chunk, mask);
        // RFC 6455 §8.1 and Autobahn 6.4.x: fail at the first impossible byte.
        if text
            && !self
                .reader
                .utf8
                .feed(self.inbound.partial().get(before..).unwrap_or_default())
        {
            return Err(ProtocolError::InvalidUtf8);
        }
        Ok(())
    }

    /// Inflate a slice of a compressed message's payload into the queue.
    ///
    /// The slice (this frame's bytes delivered by this input call) is
    /// unmasked into a buffer of its own size, then inflated: each inflated
    /// byte is UTF-8-checked (TEXT) and counted against `max_size`, and no
    /// more than `max_size + 1` bytes are ever produced (RFC 7692 §8.1: the
    /// limit applies to the decompressed size). After the end of a final
    /// deflate block the rest of the message is discarded.
    fn inflate_payload(&mut self, frame: &FrameState, chunk: &[u8]) -> Result<(), ProtocolError> {
        let max_size = self.limits.max_size;
        let (Some(message), Some(deflate), Some(out)) = (
            self.reader.message.as_mut(),
            self.deflate.as_deref_mut(),
            self.inbound.partial_buf(),
        ) else {
            return Ok(());
        };
        if deflate.stream_ended() {
            // RFC 7692 §7.2.3.4: the rest of a message after a final block
            // is discarded unread.
            return Ok(());
        }
        let unmasked;
        let input = match frame.mask {
            None => chunk,
            Some(key) => {
                let mut buf = Vec::new();
                crate::mask::mask_extend(&mut buf, chunk, key, frame.key_offset);
                unmasked = buf;
                &unmasked[..]
            }
        };
        let text = message.text;
        let utf8 = &mut self.reader.utf8;
        let mut check = |new: &[u8]| !text || utf8.feed(new);
        let budget = max_size.map(|max| max.saturating_sub(message.size));
        let produced = deflate
            .inflate(input, out, budget, &mut check)
            .map_err(|err| inflate_fault(err, max_size))?;
        message.size += produced;
        Ok(())
    }

    /// Inflate the end of a compressed message (the removed `00 00 ff ff`).
    fn finish_inflating(&mut self, message: &MessageState) -> Result<(), ProtocolError> {
        let max_size = self.limits.max_size;
        let (Some(deflate), Some(out)) = (self.deflate.as_deref_mut(), self.inbound.partial_buf())
        else {
            return Ok(());
        };
        let text = message.text;
        let utf8 = &mut self.reader.utf8;
        let mut check = |new: &[u8]| !text || utf8.feed(new);
        let budget = max_size.map(|max| max.saturating_sub(message.size));
        deflate
            .finish_message(out, budget, &mut check)
            .map_err(|err| inflate_fault(err, max_size))?;
        Ok(())
    }

    /// Act on a complete frame; return the flags it produced.
    fn end_frame(&mut self, frame: &FrameState) -> Result<u32, Stop<H::Error>> {
        match frame.opcode {
            OpCode::Continuation | OpCode::Text | OpCode::Binary => {
                if !frame.fin {
                    return Ok(0);
                }
                let Some(message) = self.reader.message.take() else {
                    return Ok(0);
                };
                if message.discard {
                    return Ok(0);
                }
                if message.compressed {
                    self.finish_inflating(&message).map_err(Stop::Fault)?;
                }
                if message.text {
                    if !self.reader.utf8.finish() {
                        return Err(Stop::Fault(ProtocolError::InvalidUtf8));
                    }
                    self.inbound.commit(MessageKind::Text);
                } else {
                    self.inbound.commit(MessageKind::Binary);
                }
                Ok(flags::MESSAGES)
            }
            OpCode::Ping => {
                let payload = std::mem::take(&mut self.reader.control);
                if self.state != State::Open {
                    // Our Close is already sent: no Pong after it (§5.5.1).
                    return Ok(0);
                }
                // RFC 6455 §5.5.2: answer a Ping with a Pong at once.
                self.queue_frame(OpCode::Pong, &payload, None)
                    .map_err(Stop::Host)?;
                Ok(flags::OUTPUT)
            }
            OpCode::Pong => {
                self.last_pong = Some(std::mem::take(&mut self.reader.control));
                Ok(flags::PONG)
            }
            OpCode::Close => {
                let payload = std::mem::take(&mut self.reader.control);
                let (code, reason) = close::parse_close_payload(&payload).map_err(Stop::Fault)?;
                self.close_received = Some((code, reason.to_owned()));
                let mut result = flags::CLOSE_RECEIVED | flags::CLOSED;
                if self.state == State::Open {
                    // RFC 6455 §5.5.1: echo the Close, with its code only.
                    let echo = close::encode_close_payload(code, "");
                    self.close_sent = Some((code, String::new()));
                    self.queue_frame(OpCode::Close, &echo, None)
                        .map_err(Stop::Host)?;
                    result |= flags::OUTPUT;
                }
                self.closed();
                Ok(result)
            }
        }
    }

    /// Record a frame fault: defer it, or queue the Close it calls for and close.
    fn fail_frame(&mut self, err: ProtocolError) -> Result<u32, H::Error> {
        if self.state == State::Open && !self.inbound.is_empty() {
            // NOTE(gyrfalcon): the messages the peer sent before its fault
            //   are answered first (Autobahn 3.2-3.4, 4.1.3-4.1.5,
            //   4.2.3-4.2.5 and 5.15): nothing more is read, and the failure
            //   waits for them.
            self.deferred = Some(err);
            self.reader = Reader::default();
            self.inbound.abort();
            return Ok(flags::DEFERRED);
        }
        self.fail_now(err)
    }

    /// Fail the connection for a frame fault (RFC 6455 §7.1.7).
    ///
    /// In `OPEN` the Close frame is queued; in `CLOSING` ours was already
    /// sent (§5.5.1: one Close per side). The host's random source is asked
    /// for the mask key before anything changes.
    fn fail_now(&mut self, err: ProtocolError) -> Result<u32, H::Error> {
        let mut result = flags::FAILED | flags::CLOSED;
        if self.state == State::Open {
            let reason = err.to_string();
            let reason = close::truncate_reason(&reason).to_owned();
            let payload = close::encode_close_payload(err.close_code(), &reason);
            self.queue_frame(OpCode::Close, &payload, None)?;
            self.close_sent = Some((err.close_code(), reason));
            result |= flags::OUTPUT;
        }
        self.error = Some(Fault::Frame(err));
        self.closed();
        Ok(result)
    }

    /// Move to `CLOSED` and drop the message in progress.
    fn closed(&mut self) {
        self.state = State::Closed;
        self.close_expected = true;
        self.handshake = None;
        self.deferred = None;
        self.reader = Reader::default();
        self.inbound.abort();
        self.deflate = None;
    }

    /// Queue one frame (FIN set, RSV bits clear), masked in the client role.
    ///
    /// A payload `kept` by reference is queued without a copy when no mask
    /// is needed; otherwise `payload` is copied (and masked) into the buffer.
    fn queue_frame(
        &mut self,
        opcode: OpCode,
        payload: &[u8],
        kept: Option<H::Payload>,
    ) -> Result<(), H::Error> {
        self.queue_frame_rsv(opcode, false, payload, kept)
    }

    /// Queue a TEXT or BINARY message, compressed when negotiated and large enough.
    ///
    /// RFC 7692 §7.2.1: the payload is deflated with a sync flush, the
    /// trailing `00 00 ff ff` removed, and sent as one frame with RSV1 set.
    /// Should zlib fail (it only can when out of memory), the message goes
    /// out uncompressed, which is always valid.
    fn queue_message(
        &mut self,
        opcode: OpCode,
        payload: &[u8],
        kept: Option<H::Payload>,
    ) -> Result<(), H::Error> {
        if let Some(deflate) = self.deflate.as_deref_mut() {
            if deflate.wants(payload.len()) {
                let mut body = Vec::new();
                if deflate.compress(payload, &mut body) {
                    return self.queue_frame_rsv(opcode, true, &body, None);
                }
            }
        }
        self.queue_frame(opcode, payload, kept)
    }

    fn queue_frame_rsv(
        &mut self,
        opcode: OpCode,
        rsv1: bool,
        payload: &[u8],
        kept: Option<H::Payload>,
    ) -> Result<(), H::Error> {
        let mask = match self.role {
            Role::Server => None,
            Role::Client => {
                let mut key = [0u8; 4];
                self.host.random(&mut key)?;
                Some(key)
            }
        };
        let buf = self.out.buf_mut();
        frame::encode_header(buf, true, rsv1, opcode as u8, mask, payload.len());
        match (mask, kept) {
            (Some(key), _) => {
                crate::mask::mask_extend(buf, payload, key, 0);
            }
            (None, Some(kept)) => self.out.push_external(kept, payload.len()),
            (None, None) => buf.extend_from_slice(payload),
        }
        Ok(())
    }

    // --- the application's calls ------------------------------------------------------

    fn invalid_state(&self, method: &'static str) -> LocalError {
        LocalError::InvalidState {
            method,
            state: self.state,
        }
    }

    fn require_open(&self, method: &'static str) -> Result<(), LocalError> {
        if self.state == State::Open {
            Ok(())
        } else {
            Err(self.invalid_state(method))
        }
    }

    /// Return the server handshake if a request was received and no answer started.
    fn answerable(&mut self, method: &'static str) -> Result<(), LocalError> {
        let state = self.state;
        match self.server_handshake() {
            Some(hs)
                if state == State::Connecting
                    && hs.received
                    && matches!(hs.answer, Answer::None) =>
            {
                Ok(())
            }
            _ => Err(LocalError::InvalidState { method, state }),
        }
    }

    /// Queue the client's opening request (client role, once).
    pub fn send_request(&mut self) -> Result<(), CallError<H::Error>> {
        let state = self.state;
        let allowed = state == State::Connecting
            && matches!(self.handshake.as_deref(), Some(Handshake::Client(hs)) if hs.key.is_none());
        if !allowed {
            return Err(self.invalid_state("send_request").into());
        }
        let mut nonce = [0u8; 16];
        self.host.random(&mut nonce).map_err(CallError::Host)?;
        let key = handshake::base64_encode(&nonce);
        let offer = self.compression.as_ref().map(deflate::client_offer);
        let Some(hs) = self.client_handshake() else {
            return Err(LocalError::InvalidState {
                method: "send_request",
                state,
            }
            .into());
        };
        let request = handshake::build_request(
            &hs.host,
            &hs.target,
            &key,
            hs.origin.as_deref(),
            &hs.subprotocols,
            offer.as_deref(),
            &hs.headers,
        );
        hs.key = Some(key);
        self.out.buf_mut().extend_from_slice(&request);
        Ok(())
    }

    /// Accept the request: queue the 101 response and open the connection.
    ///
    /// Returns the flags of parsing the bytes received since the request.
    pub fn accept<N: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        subprotocol: Option<&str>,
        headers: &[(N, V)],
    ) -> Result<u32, CallError<H::Error>> {
        self.answerable("accept")?;
        let Some(Handshake::Server(hs)) = self.handshake.as_deref() else {
            return Err(self.invalid_state("accept").into());
        };
        if let Some(protocol) = subprotocol {
            if !hs.subprotocols.iter().any(|p| p == protocol) {
                return Err(LocalError::SubprotocolNotOffered(protocol.to_owned()).into());
            }
        }
        handshake::check_headers(headers, false, false)?;
        let agreement = hs.deflate.as_ref();
        let response = handshake::build_accept(
            &hs.key,
            subprotocol,
            agreement.map(|a| a.response.as_str()),
            headers,
        );
        self.out.buf_mut().extend_from_slice(&response);
        let (pending, agreement) = match self.handshake.take().map(|hs| *hs) {
            Some(Handshake::Server(hs)) => (hs.pending, hs.deflate),
            _ => (Vec::new(), None),
        };
        if let (Some(agreement), Some(options)) = (agreement, self.compression) {
            self.deflate_params = Some(agreement.params);
            self.deflate = Some(Box::new(Deflate::server(agreement.params, &options)));
        }
        self.state = State::Open;
        if pending.is_empty() {
            return Ok(0);
        }
        let flags = self.receive_frames(&pending).map_err(CallError::Host)?;
        Ok(self.finish_input(flags))
    }

    /// Deny the request with an HTTP response and close.
    pub fn reject<N: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        status: i64,
        headers: &[(N, V)],
        body: &[u8],
    ) -> Result<(), LocalError> {
        self.answerable("reject")?;
        let status = handshake::check_status(status)?;
        handshake::check_headers(headers, true, true)?;
        self.queue_denial(status, headers, body);
        self.end_denial();
        Ok(())
    }

    fn queue_denial<N: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        status: u16,
        headers: &[(N, V)],
        body: &[u8],
    ) {
        let head = handshake::build_denial_head(status, headers, Some(body.len()));
        let buf = self.out.buf_mut();
        buf.extend_from_slice(&head);
        buf.extend_from_slice(body);
    }

    fn end_denial(&mut self) {
        self.state = State::Closed;
        self.close_expected = true;
        self.handshake = None;
    }

    /// Start a streamed denial (ASGI `websocket.http.response.start`).
    pub fn reject_start<N: AsRef<[u8]>, V: AsRef<[u8]>>(
        &mut self,
        status: i64,
        headers: &[(N, V)],
    ) -> Result<(), LocalError> {
        self.answerable("reject_start")?;
        let status = handshake::check_status(status)?;
        handshake::check_headers(headers, true, true)?;
        let headers = headers
            .iter()
            .map(|(n, v)| (n.as_ref().to_vec(), v.as_ref().to_vec()))
            .collect();
        if let Some(hs) = self.server_handshake() {
            hs.answer = Answer::Started { status, headers };
        }
        Ok(())
    }

    /// Queue a piece of a streamed denial's body; the last one closes.
    pub fn reject_body(&mut self, body: &[u8], more_body: bool) -> Result<(), LocalError> {
        let state = self.state;
        let Some(hs) = self
            .server_handshake()
            .filter(|_| state == State::Connecting)
        else {
            return Err(self.invalid_state("reject_body"));
        };
        let chunked = match std::mem::replace(&mut hs.answer, Answer::None) {
            Answer::None => return Err(self.invalid_state("reject_body")),
            Answer::Started { status, headers } => {
                let chunked = !handshake::has_content_length(&headers);
                if !more_body && chunked {
                    self.queue_denial(status, &headers, body);
                    self.end_denial();
                    return Ok(());
                }
                let head = handshake::build_denial_head(status, &headers, None);
                self.out.buf_mut().extend_from_slice(&head);
                chunked
            }
            Answer::Streaming { chunked } => chunked,
        };
        let buf = self.out.buf_mut();
        if chunked {
            if !body.is_empty() {
                buf.extend_from_slice(format!("{:x}\r\n", body.len()).as_bytes());
                buf.extend_from_slice(body);
                buf.extend_from_slice(b"\r\n");
            }
            if !more_body {
                buf.extend_from_slice(b"0\r\n\r\n");
            }
        } else {
            buf.extend_from_slice(body);
        }
        if more_body {
            if let Some(hs) = self.server_handshake() {
                hs.answer = Answer::Streaming { chunked };
            }
        } else {
            self.end_denial();
        }
        Ok(())
    }

    /// Queue a TEXT message.
    ///
    /// `kept` is the same payload held by reference: when given (and no mask
    /// is needed) the bytes are copied only when the output is joined.
    pub fn send_text(
        &mut self,
        text: &str,
        kept: Option<H::Payload>,
    ) -> Result<(), CallError<H::Error>> {
        self.require_open("send_text")?;
        self.queue_message(OpCode::Text, text.as_bytes(), kept)
            .map_err(CallError::Host)
    }

    /// Queue a BINARY message (see [`send_text`](Self::send_text) for `kept`).
    pub fn send_binary(
        &mut self,
        data: &[u8],
        kept: Option<H::Payload>,
    ) -> Result<(), CallError<H::Error>> {
        self.require_open("send_binary")?;
        self.queue_message(OpCode::Binary, data, kept)
            .map_err(CallError::Host)
    }

    /// Return True when a message of `len` payload bytes would be compressed.
    ///
    /// The binding uses it to decide whether compressing is worth releasing
    /// the GIL for.
    #[must_use]
    pub fn compresses(&self, len: usize) -> bool {
        self.deflate.as_deref().is_some_and(|d| d.wants(len))
    }

    /// Return True when received messages may be compressed.
    #[must_use]
    pub fn inflates(&self) -> bool {
        self.deflate.is_some()
    }

    /// Queue a frame built by [`deflate::prepare_frame`], as it is (server role).
    ///
    /// `kept` is the same frame held by reference (queued without a copy).
    /// With `compressed`, the connection must have negotiated
    /// permessage-deflate; if our compressor keeps its context it is reset
    /// afterwards, since the peer's window now holds data it never saw. The
    /// caller vouches that the frame is one valid unmasked frame whose
    /// window fits the agreed `server_max_window_bits`.
    pub fn send_prepared(
        &mut self,
        frame: &[u8],
        kept: Option<H::Payload>,
        compressed: bool,
    ) -> Result<(), LocalError> {
        self.require_open("send_prepared")?;
        if compressed {
            let Some(deflate) = self.deflate.as_deref_mut() else {
                return Err(LocalError::NotNegotiated);
            };
            deflate.reset_compressor();
        }
        match kept {
            Some(kept) => self.out.push_external(kept, frame.len()),
            None => self.out.buf_mut().extend_from_slice(frame),
        }
        Ok(())
    }

    /// Queue a Ping.
    pub fn send_ping(&mut self, data: &[u8]) -> Result<(), CallError<H::Error>> {
        self.send_control("send_ping", OpCode::Ping, data)
    }

    /// Queue a Pong.
    pub fn send_pong(&mut self, data: &[u8]) -> Result<(), CallError<H::Error>> {
        self.send_control("send_pong", OpCode::Pong, data)
    }

    fn send_control(
        &mut self,
        method: &'static str,
        opcode: OpCode,
        data: &[u8],
    ) -> Result<(), CallError<H::Error>> {
        self.require_open(method)?;
        if data.len() > frame::MAX_CONTROL_PAYLOAD {
            return Err(LocalError::ControlPayloadTooLong.into());
        }
        self.queue_frame(opcode, data, None)
            .map_err(CallError::Host)
    }

    /// Start the closing handshake: queue a Close and move to `CLOSING`.
    ///
    /// While a failure is deferred, the fault gives way to our Close
    /// (`error` stays unset) and the state becomes `CLOSED` at once: the
    /// peer's input can no longer be read, so there is no Close to wait for.
    pub fn send_close(&mut self, code: i64, reason: &str) -> Result<(), CallError<H::Error>> {
        self.require_open("send_close")?;
        let code = wire_code(code)?;
        if reason.len() > close::MAX_REASON_LEN {
            return Err(LocalError::CloseReasonTooLong.into());
        }
        self.queue_frame(
            OpCode::Close,
            &close::encode_close_payload(code, reason),
            None,
        )
        .map_err(CallError::Host)?;
        self.close_sent = Some((code, reason.to_owned()));
        if self.deferred.is_some() {
            // RFC 6455 §7.1.7: after the peer's fault nothing more is read,
            // not even its answer to our Close; the fault gives way to it.
            self.closed();
            return Ok(());
        }
        self.state = State::Closing;
        // RFC 6455 §7.1.3: data received from now on is discarded.
        if let Some(message) = self.reader.message.as_mut() {
            message.discard = true;
        }
        self.inbound.abort();
        Ok(())
    }

    /// Fail the connection for a reason of our own (keepalive timeout, app error).
    ///
    /// A deferred failure gives way to ours (`error` stays unset).
    pub fn fail(&mut self, code: i64, reason: &str) -> Result<(), CallError<H::Error>> {
        match self.state {
            State::Connecting => Err(self.invalid_state("fail").into()),
            State::Open => {
                let code = wire_code(code)?;
                let reason = close::truncate_reason(reason);
                self.queue_frame(
                    OpCode::Close,
                    &close::encode_close_payload(code, reason),
                    None,
                )
                .map_err(CallError::Host)?;
                self.close_sent = Some((code, reason.to_owned()));
                self.closed();
                Ok(())
            }
            State::Closing => {
                self.closed();
                Ok(())
            }
            State::Closed => Ok(()),
        }
    }
}

/// Turn an inflating fault into the frame fault it is answered with.
fn inflate_fault(err: InflateError, max_size: Option<u64>) -> ProtocolError {
    match err {
        InflateError::Corrupt => ProtocolError::InvalidCompressedData,
        InflateError::TooBig => ProtocolError::MessageTooBig(max_size.unwrap_or(u64::MAX)),
        InflateError::Refused => ProtocolError::InvalidUtf8,
    }
}

/// Check a close code we are asked to send.
fn wire_code(code: i64) -> Result<u16, LocalError> {
    if close::is_valid_wire_code(code) {
        u16::try_from(code).map_err(|_| LocalError::InvalidCloseCode(code))
    } else {
        Err(LocalError::InvalidCloseCode(code))
    }
}
