//! Every error the engine knows, with the message the contract fixes.
//!
//! Two families, kept apart on purpose (h11's local/remote split):
//!
//! * The **peer's faults** ([`ProtocolError`] for frames, [`HandshakeError`]
//!   for a client's opening request, [`ResponseError`] for a server's opening
//!   response) are never returned from an input method. The connection records
//!   them as a [`Fault`], queues the Close frame or HTTP response they call
//!   for, and reports the `FAILED` flag. Each variant knows what to send:
//!   [`ProtocolError::close_code`], [`HandshakeError::status_hint`].
//! * **Our own misuse** ([`LocalError`]) is returned at once from the method
//!   that was misused; the Python binding raises it as `InvalidState` or
//!   `ValueError`.
//!
//! The `Display` text of every variant is the exact message of
//! `docs/topics/engine-contract.md`: lowercase, no trailing period, naming
//! what was observed and the limit that was crossed.

use crate::connection::State;

/// A frame the peer sent violates RFC 6455 or a configured limit.
///
/// Every variant is the **peer's** fault. The connection answers it with a
/// Close frame carrying [`close_code`](Self::close_code) and this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The peer set RSV1, RSV2 or RSV3 without a negotiated extension (§5.2).
    #[error("received frame with reserved bits set")]
    ReservedBits,
    /// The peer used an opcode reserved for future use (§5.2): 3–7 or 11–15.
    #[error("received frame with reserved opcode {0}")]
    ReservedOpcode(u8),
    /// A client sent an unmasked frame (§5.1).
    #[error("received unmasked frame from client")]
    UnmaskedFrame,
    /// A server sent a masked frame (§5.1).
    #[error("received masked frame from server")]
    MaskedFrame,
    /// The peer's 64-bit payload length has its most significant bit set (§5.2).
    #[error("received frame with invalid payload length")]
    InvalidLength,
    /// The peer's payload length is not in its minimal encoding (§5.2).
    #[error("received frame with non-minimal payload length")]
    NonMinimalLength,
    /// The peer sent a control frame with more than 125 payload bytes (§5.5).
    #[error("received control frame longer than 125 bytes")]
    ControlFrameTooLong,
    /// The peer sent a control frame without FIN (§5.5).
    #[error("received fragmented control frame")]
    FragmentedControlFrame,
    /// The peer sent a continuation frame with no message in progress (§5.4).
    #[error("received continuation frame without a message in progress")]
    UnexpectedContinuation,
    /// The peer started a TEXT or BINARY message inside a fragmented one (§5.4).
    #[error("received new data frame before the previous message finished")]
    UnfinishedMessage,
    /// The peer's frame declares more payload than `max_frame_size` (§10.4).
    #[error("frame exceeds {0} bytes")]
    FrameTooBig(u64),
    /// The peer's message would grow past `max_size` (§10.4).
    #[error("message exceeds {0} bytes")]
    MessageTooBig(u64),
    /// The peer's message has more data frames than `max_fragments` (§10.4).
    #[error("message exceeds {0} fragments")]
    TooManyFragments(u64),
    /// The peer's TEXT message is not valid UTF-8 (§8.1).
    #[error("invalid UTF-8 in text message")]
    InvalidUtf8,
    /// The peer's Close frame has a 1-byte payload (§5.5.1).
    #[error("received close frame with 1-byte payload")]
    CloseOneByte,
    /// The peer's Close frame carries a code not allowed on the wire (§7.4).
    #[error("received close frame with invalid code {0}")]
    InvalidCloseCode(u16),
    /// The peer's Close reason is not valid UTF-8 (§5.5.1).
    #[error("invalid UTF-8 in close reason")]
    InvalidCloseReason,
    /// The peer's compressed message is not a valid raw deflate stream
    /// (RFC 7692 §7.2.2; bytes after a final block are discarded, not an
    /// error).
    #[error("invalid compressed data")]
    InvalidCompressedData,
}

impl ProtocolError {
    /// Return the close code the engine answers this fault with.
    #[must_use]
    pub fn close_code(&self) -> u16 {
        match self {
            Self::FrameTooBig(_) | Self::MessageTooBig(_) | Self::TooManyFragments(_) => 1009,
            Self::InvalidUtf8 | Self::InvalidCloseReason | Self::InvalidCompressedData => 1007,
            _ => 1002,
        }
    }
}

/// A client's opening request is not a valid WebSocket upgrade (§4.2.1).
///
/// Every variant is the **peer's** fault. A server answers it with an HTTP
/// error response carrying [`status_hint`](Self::status_hint) and, for some
/// statuses, the header that says what would have worked
/// ([`extra_header`](Self::extra_header)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// The request line is longer than `max_request_line` (414).
    #[error("request line exceeds {0} bytes")]
    RequestLineTooLong(usize),
    /// The request line is not `method SP origin-form SP version` (400).
    #[error("invalid HTTP request line")]
    InvalidRequestLine,
    /// A header line is longer than `max_header_line` (431).
    #[error("header line exceeds {0} bytes")]
    HeaderLineTooLong(usize),
    /// The request has more than `max_headers` header lines (431).
    #[error("request has more than {0} headers")]
    TooManyHeaders(usize),
    /// A header line is not `name ":" OWS value OWS` (400).
    #[error("invalid HTTP header")]
    InvalidHeader,
    /// The HTTP version is not exactly `HTTP/1.1` (400).
    #[error("unsupported HTTP version")]
    UnsupportedVersion,
    /// The method is not `GET` (405).
    #[error("HTTP method must be GET")]
    InvalidMethod,
    /// No `Host` header (400).
    #[error("missing Host header")]
    MissingHost,
    /// More than one `Host` header (400).
    #[error("more than one Host header")]
    DuplicateHost,
    /// No `Upgrade` header (426).
    #[error("missing Upgrade header")]
    MissingUpgrade,
    /// No `websocket` token in the `Upgrade` headers (426).
    #[error("invalid Upgrade header")]
    InvalidUpgrade,
    /// No `Connection` header (426).
    #[error("missing Connection header")]
    MissingConnection,
    /// No `upgrade` token in the `Connection` headers (426).
    #[error("invalid Connection header")]
    InvalidConnection,
    /// No `Sec-WebSocket-Version` header (426).
    #[error("missing Sec-WebSocket-Version header")]
    MissingVersion,
    /// More than one `Sec-WebSocket-Version` header (426).
    #[error("more than one Sec-WebSocket-Version header")]
    DuplicateVersion,
    /// The `Sec-WebSocket-Version` is not `13` (426).
    #[error("unsupported Sec-WebSocket-Version header")]
    InvalidVersion,
    /// No `Sec-WebSocket-Key` header (400).
    #[error("missing Sec-WebSocket-Key header")]
    MissingKey,
    /// More than one `Sec-WebSocket-Key` header (400).
    #[error("more than one Sec-WebSocket-Key header")]
    DuplicateKey,
    /// The key is not the canonical base64 of 16 bytes (400).
    #[error("invalid Sec-WebSocket-Key header")]
    InvalidKey,
    /// `Sec-WebSocket-Extensions` is not valid RFC 6455 §9.1 syntax (400).
    #[error("invalid Sec-WebSocket-Extensions header")]
    InvalidExtensions,
    /// More than 65536 bytes arrived after the head before an answer (400).
    #[error("received too much data before the handshake completed")]
    TooMuchData,
}

impl HandshakeError {
    /// Return the HTTP status a server answers this fault with.
    #[must_use]
    pub fn status_hint(&self) -> u16 {
        match self {
            Self::RequestLineTooLong(_) => 414,
            Self::HeaderLineTooLong(_) | Self::TooManyHeaders(_) => 431,
            Self::InvalidMethod => 405,
            Self::MissingUpgrade
            | Self::InvalidUpgrade
            | Self::MissingConnection
            | Self::InvalidConnection
            | Self::MissingVersion
            | Self::DuplicateVersion
            | Self::InvalidVersion => 426,
            _ => 400,
        }
    }

    /// Return the extra header line of the error response, if any.
    ///
    /// 405 says which method is allowed, 426 says what to upgrade to, and a
    /// version mismatch says which version the server speaks (§4.4).
    #[must_use]
    pub fn extra_header(&self) -> Option<&'static str> {
        match self {
            Self::InvalidMethod => Some("Allow: GET"),
            Self::MissingUpgrade
            | Self::InvalidUpgrade
            | Self::MissingConnection
            | Self::InvalidConnection => Some("Upgrade: websocket"),
            Self::MissingVersion | Self::DuplicateVersion | Self::InvalidVersion => {
                Some("Sec-WebSocket-Version: 13")
            }
            _ => None,
        }
    }
}

/// A server's opening response is not a valid WebSocket upgrade (§4.1).
///
/// Every variant is the **peer's** fault. A client has nothing to send in
/// answer; the connection records it with close code 1002.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// The status line is longer than `max_request_line`.
    #[error("status line exceeds {0} bytes")]
    StatusLineTooLong(usize),
    /// A header line is longer than `max_header_line`.
    #[error("header line exceeds {0} bytes")]
    HeaderLineTooLong(usize),
    /// The response has more than `max_headers` header lines.
    #[error("response has more than {0} headers")]
    TooManyHeaders(usize),
    /// The status line is not `HTTP/1.1 SP 3DIGIT SP reason`.
    #[error("invalid HTTP status line")]
    InvalidStatusLine,
    /// A header line is not `name ":" OWS value OWS`.
    #[error("invalid HTTP header")]
    InvalidHeader,
    /// The server answered with a status other than 101.
    #[error("server rejected WebSocket connection: HTTP {0}")]
    Rejected(u16),
    /// No `Upgrade` header.
    #[error("missing Upgrade header")]
    MissingUpgrade,
    /// No `websocket` token in the `Upgrade` headers.
    #[error("invalid Upgrade header")]
    InvalidUpgrade,
    /// No `Connection` header.
    #[error("missing Connection header")]
    MissingConnection,
    /// No `upgrade` token in the `Connection` headers.
    #[error("invalid Connection header")]
    InvalidConnection,
    /// No `Sec-WebSocket-Accept` header.
    #[error("missing Sec-WebSocket-Accept header")]
    MissingAccept,
    /// More than one `Sec-WebSocket-Accept` header.
    #[error("more than one Sec-WebSocket-Accept header")]
    DuplicateAccept,
    /// The accept value does not match our key.
    #[error("invalid Sec-WebSocket-Accept header")]
    InvalidAccept,
    /// The server chose a subprotocol we did not offer, or more than one.
    #[error("unexpected Sec-WebSocket-Protocol header")]
    UnexpectedSubprotocol,
    /// The server accepted an extension we did not offer.
    #[error("unexpected Sec-WebSocket-Extensions header")]
    UnexpectedExtensions,
    /// The server's answer to our permessage-deflate offer is not valid
    /// (RFC 7692 §7.1), or names another extension as well.
    #[error("invalid Sec-WebSocket-Extensions header")]
    InvalidExtensions,
}

impl ResponseError {
    /// Return the close code recorded for this fault (always 1002).
    #[must_use]
    pub fn close_code(&self) -> u16 {
        1002
    }
}

/// The peer's fault, as recorded in a connection's `error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    /// A framing fault, answered with a Close frame.
    #[error(transparent)]
    Frame(#[from] ProtocolError),
    /// A fault in a client's request, answered with an HTTP error response.
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    /// A fault in a server's response, recorded by a client.
    #[error(transparent)]
    Response(#[from] ResponseError),
}

impl Fault {
    /// Return the code of the `error` tuple: a close code, or an HTTP status.
    #[must_use]
    pub fn code(&self) -> u16 {
        match self {
            Self::Frame(err) => err.close_code(),
            Self::Handshake(err) => err.status_hint(),
            Self::Response(err) => err.close_code(),
        }
    }
}

/// Our own misuse of a connection: raised at once, never recorded.
///
/// Every variant is the **caller's** fault. The Python binding raises
/// `InvalidState` for [`LocalError::InvalidState`] and `ValueError` for the
/// others.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalError {
    /// A method was called in a state that does not allow it.
    #[error("{method}() is not allowed in state {}", state.name())]
    InvalidState {
        /// The Python name of the method.
        method: &'static str,
        /// The state the connection was in.
        state: State,
    },
    /// A mask is not exactly 4 bytes.
    #[error("mask must be 4 bytes")]
    InvalidMask,
    /// An opcode is outside 0..=15.
    #[error("invalid opcode {0}")]
    InvalidOpcode(i64),
    /// A control frame payload is over 125 bytes.
    #[error("control frame payload exceeds 125 bytes")]
    ControlPayloadTooLong,
    /// A control frame was asked for with `fin=False`.
    #[error("control frame must not be fragmented")]
    FragmentedControl,
    /// A close code that may not be sent on the wire.
    #[error("invalid close code {0}")]
    InvalidCloseCode(i64),
    /// A close reason longer than 123 UTF-8 bytes.
    #[error("close reason exceeds 123 bytes")]
    CloseReasonTooLong,
    /// `accept()` was given a subprotocol the client did not offer.
    ///
    /// The binding formats the name with Python's `repr()`.
    #[error("subprotocol {0:?} was not offered by the client")]
    SubprotocolNotOffered(String),
    /// A response header name is not a token.
    #[error("invalid header name")]
    InvalidHeaderName,
    /// A response header value contains CR, LF or NUL.
    #[error("invalid header value")]
    InvalidHeaderValue,
    /// `Sec-WebSocket-Protocol` was passed among `accept()`'s headers.
    #[error("set the subprotocol with the subprotocol argument")]
    SubprotocolHeader,
    /// `Sec-WebSocket-Extensions` was passed among `accept()`'s or a
    /// client's headers: the engine negotiates extensions.
    #[error("set extensions with the compression options")]
    ExtensionsHeader,
    /// A denial status outside 100..=599, or 101.
    #[error("invalid status code {0}")]
    InvalidStatus(i64),
    /// A limit that must be positive (or `None`) is not.
    #[error("{0} must be positive")]
    NotPositive(&'static str),
    /// A compression setting is outside its range.
    #[error("{name} must be between {lo} and {hi}")]
    OutOfRange {
        /// The Python name of the argument.
        name: &'static str,
        /// The smallest allowed value.
        lo: i64,
        /// The largest allowed value.
        hi: i64,
    },
    /// `compression_threshold` is negative.
    #[error("compression_threshold must not be negative")]
    NegativeThreshold,
    /// A compressed prepared frame was sent on an uncompressed connection.
    #[error("permessage-deflate was not negotiated")]
    NotNegotiated,
    /// A client's `host` contains CR, LF or NUL.
    #[error("invalid host")]
    InvalidHost,
    /// A client's `target` is not an origin-form target of visible ASCII.
    #[error("invalid request target")]
    InvalidTarget,
    /// A client's subprotocol is not an RFC 9110 token.
    #[error("invalid subprotocol")]
    InvalidSubprotocol,
    /// A client's `origin` contains CR, LF or NUL.
    #[error("invalid origin")]
    InvalidOrigin,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_faults_say_what_to_send() {
        assert_eq!(
            ProtocolError::ReservedOpcode(11).to_string(),
            "received frame with reserved opcode 11"
        );
        assert_eq!(ProtocolError::ReservedOpcode(11).close_code(), 1002);
        assert_eq!(
            ProtocolError::MessageTooBig(1024).to_string(),
            "message exceeds 1024 bytes"
        );
        assert_eq!(ProtocolError::TooManyFragments(3).close_code(), 1009);
        assert_eq!(ProtocolError::InvalidCloseReason.close_code(), 1007);
        assert_eq!(Fault::from(ProtocolError::InvalidUtf8).code(), 1007);
    }

    #[test]
    fn handshake_faults_say_what_to_send() {
        assert_eq!(HandshakeError::RequestLineTooLong(8192).status_hint(), 414);
        assert_eq!(
            HandshakeError::TooManyHeaders(128).to_string(),
            "request has more than 128 headers"
        );
        assert_eq!(
            HandshakeError::InvalidMethod.extra_header(),
            Some("Allow: GET")
        );
        assert_eq!(
            HandshakeError::InvalidConnection.extra_header(),
            Some("Upgrade: websocket")
        );
        assert_eq!(
            HandshakeError::DuplicateVersion.extra_header(),
            Some("Sec-WebSocket-Version: 13")
        );
        assert_eq!(HandshakeError::InvalidKey.status_hint(), 400);
        assert_eq!(HandshakeError::InvalidKey.extra_header(), None);
        assert_eq!(Fault::from(HandshakeError::MissingUpgrade).code(), 426);
        assert_eq!(
            Fault::from(ResponseError::Rejected(403)).to_string(),
            "server rejected WebSocket connection: HTTP 403"
        );
        assert_eq!(Fault::from(ResponseError::InvalidAccept).code(), 1002);
    }

    #[test]
    fn local_errors_carry_the_contract_messages() {
        let err = LocalError::InvalidState {
            method: "send_close",
            state: State::Closing,
        };
        assert_eq!(
            err.to_string(),
            "send_close() is not allowed in state CLOSING"
        );
        assert_eq!(
            LocalError::NotPositive("max_queue").to_string(),
            "max_queue must be positive"
        );
        assert_eq!(
            LocalError::InvalidStatus(600).to_string(),
            "invalid status code 600"
        );
        assert_eq!(
            LocalError::InvalidCloseCode(999).to_string(),
            "invalid close code 999"
        );
        assert_eq!(LocalError::InvalidHost.to_string(), "invalid host");
        assert_eq!(
            LocalError::InvalidTarget.to_string(),
            "invalid request target"
        );
        assert_eq!(
            LocalError::InvalidSubprotocol.to_string(),
            "invalid subprotocol"
        );
        assert_eq!(LocalError::InvalidOrigin.to_string(), "invalid origin");
    }
}
