//! The opening handshake (RFC 6455 §4): HTTP/1.1 heads in, checks, heads out.
//!
//! * [`HeadParser`] reads a request or response head incrementally. It needs
//!   CRLF line endings, looks at each received byte once (a head trickled one
//!   byte at a time costs linear time), and reports a line or header-count
//!   limit as soon as the bytes received prove it crossed. It keeps at most
//!   the head itself, which the limits bound.
//! * [`validate_request`] applies the contract's validation table (checks
//!   6–13) to a complete request and returns the [`RequestInfo`] a server
//!   needs; [`validate_response`] does the same for a client.
//! * [`accept_key`], [`parse_extensions`], [`percent_decode`] and the
//!   builders of the 101 response, the HTTP error response, a denial and the
//!   client's request produce the contract's exact bytes.
//!
//! Nothing here panics on any input or allocates more than the bytes received.

use crate::deflate::{self, DeflateOptions, Params};
use crate::error::{HandshakeError, LocalError, ResponseError};

/// The GUID of RFC 6455 §1.3, appended to the key before hashing.
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Return the standard base64 encoding of `data`, with `=` padding.
#[must_use]
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(BASE64[((n >> (18 - 6 * i)) & 0x3F) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Return `base64(sha1(key + GUID))`, the `Sec-WebSocket-Accept` value (§4.2.2).
#[must_use]
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = sha1_smol::Sha1::new();
    sha.update(key);
    sha.update(GUID);
    base64_encode(&sha.digest().bytes())
}

/// Return True for a canonical base64 encoding of exactly 16 bytes.
///
/// 24 characters of the standard alphabet ending in `==`, with the unused
/// low 4 bits of the last data character zero (so one value, one spelling).
#[must_use]
pub fn is_valid_key(key: &[u8]) -> bool {
    let Some((data, b"==")) = key.split_last_chunk::<2>() else {
        return false;
    };
    if data.len() != 22 || !data.iter().all(|c| BASE64.contains(c)) {
        return false;
    }
    matches!(data.last(), Some(b'A' | b'Q' | b'g' | b'w'))
}

/// Return True for an RFC 9110 `tchar`.
#[must_use]
pub fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// Return True for a non-empty RFC 9110 token.
#[must_use]
pub fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty() && bytes.iter().all(|b| is_tchar(*b))
}

/// Return True for a byte allowed in a header value: HTAB, SP..~ and obs-text.
fn is_value_byte(byte: u8) -> bool {
    byte == b'\t' || (0x20..=0x7E).contains(&byte) || byte >= 0x80
}

/// Return `bytes` without leading and trailing spaces and tabs.
#[must_use]
pub fn strip_ows(bytes: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !is_ows(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

/// Decode bytes as UTF-8, invalid sequences becoming U+FFFD (Python's `replace`).
#[must_use]
pub fn utf8_lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Decode bytes as ISO-8859-1 (every byte is the code point of its value).
#[must_use]
pub fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|b| char::from(*b)).collect()
}

/// Return `http.HTTPStatus(status).phrase` of `CPython` 3.11, or `""`.
#[must_use]
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Requested Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a Teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Entity",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => "",
    }
}

// --- the incremental head parser ----------------------------------------------

/// Which head a [`HeadParser`] reads, which decides its limit messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadKind {
    /// A client's request (server role).
    Request,
    /// A server's response (client role).
    Response,
}

/// The line and count limits of a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeadLimits {
    /// Longest request or status line, excluding CRLF.
    pub max_first_line: usize,
    /// Longest header line, excluding CRLF.
    pub max_header_line: usize,
    /// Most header lines.
    pub max_headers: usize,
}

/// A fault found while parsing a head: the limit or syntax rule it breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadError {
    /// The first line is longer than its limit.
    FirstLineTooLong,
    /// The first line is malformed.
    InvalidFirstLine,
    /// A header line is longer than its limit.
    HeaderLineTooLong,
    /// There are more header lines than the limit.
    TooManyHeaders,
    /// A header line is malformed.
    InvalidHeader,
}

impl HeadError {
    /// Return the server-side fault for this parse error.
    #[must_use]
    pub fn for_request(self, limits: &HeadLimits) -> HandshakeError {
        match self {
            Self::FirstLineTooLong => HandshakeError::RequestLineTooLong(limits.max_first_line),
            Self::InvalidFirstLine => HandshakeError::InvalidRequestLine,
            Self::HeaderLineTooLong => HandshakeError::HeaderLineTooLong(limits.max_header_line),
            Self::TooManyHeaders => HandshakeError::TooManyHeaders(limits.max_headers),
            Self::InvalidHeader => HandshakeError::InvalidHeader,
        }
    }

    /// Return the client-side fault for this parse error.
    #[must_use]
    pub fn for_response(self, limits: &HeadLimits) -> ResponseError {
        match self {
            Self::FirstLineTooLong => ResponseError::StatusLineTooLong(limits.max_first_line),
            Self::InvalidFirstLine => ResponseError::InvalidStatusLine,
            Self::HeaderLineTooLong => ResponseError::HeaderLineTooLong(limits.max_header_line),
            Self::TooManyHeaders => ResponseError::TooManyHeaders(limits.max_headers),
            Self::InvalidHeader => ResponseError::InvalidHeader,
        }
    }
}

/// A header as positions in the head buffer: name and stripped value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct HeaderSpan {
    name: (usize, usize),
    value: (usize, usize),
}

/// An incremental HTTP/1.1 head parser (request or response).
#[derive(Debug, Clone)]
pub struct HeadParser {
    kind: HeadKind,
    limits: HeadLimits,
    /// Every byte of the head received so far.
    buf: Vec<u8>,
    /// Start of the line being received.
    line_start: usize,
    /// The first line, once complete (CRLF excluded).
    first_line: Option<(usize, usize)>,
    headers: Vec<HeaderSpan>,
}

/// A complete head: its first line and headers, borrowed from the parser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head<'a> {
    /// The request or status line, CRLF excluded.
    pub first_line: &'a [u8],
    /// Every header as `(name, value)`, in order, values stripped of OWS.
    pub headers: Vec<(&'a [u8], &'a [u8])>,
}

impl HeadParser {
    /// Return a parser for a head of this kind, with these limits.
    #[must_use]
    pub fn new(kind: HeadKind, limits: HeadLimits) -> Self {
        Self {
            kind,
            limits,
            buf: Vec::new(),
            line_start: 0,
            first_line: None,
            headers: Vec::new(),
        }
    }

    /// Feed bytes; return how many were used once the head is complete.
    ///
    /// Returns `Ok(None)` when every byte was used and the head is not
    /// complete yet (call again with more), `Ok(Some(n))` when the head ended
    /// after `n` bytes of `data` (the rest belongs to whatever follows the
    /// head), or the first fault found.
    pub fn feed(&mut self, data: &[u8]) -> Result<Option<usize>, HeadError> {
        let mut used = 0;
        while used < data.len() {
            let rest = &data[used..];
            let Some(lf) = rest.iter().position(|b| *b == b'\n') else {
                // No line end yet: keep the bytes unless they already prove
                // the line too long.
                self.check_pending_len(rest)?;
                self.buf.extend_from_slice(rest);
                return Ok(None);
            };
            self.check_pending_len(&rest[..lf])?;
            self.buf.extend_from_slice(&rest[..lf]);
            used += lf + 1;
            let (start, mut end) = (self.line_start, self.buf.len());
            let crlf = end > start && self.buf[end - 1] == b'\r';
            if crlf {
                end -= 1;
                // Keep the CR out of the buffer: the next line starts here.
                self.buf.truncate(end);
            }
            self.line_start = end;
            if self.complete_line((start, end), crlf)? {
                return Ok(Some(used));
            }
        }
        Ok(None)
    }

    fn line_limit(&self) -> usize {
        if self.first_line.is_none() {
            self.limits.max_first_line
        } else {
            self.limits.max_header_line
        }
    }

    fn too_long(&self) -> HeadError {
        if self.first_line.is_none() {
            HeadError::FirstLineTooLong
        } else {
            HeadError::HeaderLineTooLong
        }
    }

    /// Check the line being received against its limit, with `more` bytes added.
    fn check_pending_len(&self, more: &[u8]) -> Result<(), HeadError> {
        let pending = self.buf.len() - self.line_start + more.len();
        let last = more.last().or_else(|| self.buf[self.line_start..].last());
        // A final CR may be the start of CRLF: it does not count yet.
        let proven = if last == Some(&b'\r') {
            pending - 1
        } else {
            pending
        };
        if proven > self.line_limit() {
            return Err(self.too_long());
        }
        Ok(())
    }

    /// Handle a complete line (CRLF excluded); return True at the final empty line.
    ///
    /// The checks run in the contract's order: length, header count, syntax
    /// (a line that did not end with CRLF is malformed).
    fn complete_line(
        &mut self,
        (start, end): (usize, usize),
        crlf: bool,
    ) -> Result<bool, HeadError> {
        let line = &self.buf[start..end];
        if self.first_line.is_none() {
            let valid = crlf
                && match self.kind {
                    HeadKind::Request => parse_request_line(line).is_some(),
                    HeadKind::Response => parse_status_line(line).is_some(),
                };
            if !valid {
                return Err(HeadError::InvalidFirstLine);
            }
            self.first_line = Some((start, end));
            return Ok(false);
        }
        if crlf && line.is_empty() {
            return Ok(true);
        }
        if self.headers.len() >= self.limits.max_headers {
            return Err(HeadError::TooManyHeaders);
        }
        let span = parse_header_line(line)
            .filter(|_| crlf)
            .ok_or(HeadError::InvalidHeader)?;
        self.headers.push(HeaderSpan {
            name: (start + span.name.0, start + span.name.1),
            value: (start + span.value.0, start + span.value.1),
        });
        Ok(false)
    }

    /// Return the complete head (after [`feed`](Self::feed) returned `Some`).
    #[must_use]
    pub fn head(&self) -> Head<'_> {
        let (start, end) = self.first_line.unwrap_or((0, 0));
        Head {
            first_line: self.buf.get(start..end).unwrap_or_default(),
            headers: self
                .headers
                .iter()
                .map(|h| {
                    (
                        self.buf.get(h.name.0..h.name.1).unwrap_or_default(),
                        self.buf.get(h.value.0..h.value.1).unwrap_or_default(),
                    )
                })
                .collect(),
        }
    }
}

/// Parse `name ":" OWS value OWS` into positions within the line.
fn parse_header_line(line: &[u8]) -> Option<HeaderSpan> {
    let colon = line.iter().position(|b| *b == b':')?;
    let name = &line[..colon];
    if !is_token(name) {
        return None;
    }
    let raw = &line[colon + 1..];
    if !raw.iter().all(|b| is_value_byte(*b)) {
        return None;
    }
    let value = strip_ows(raw);
    let offset = colon + 1 + (value.as_ptr() as usize - raw.as_ptr() as usize);
    Some(HeaderSpan {
        name: (0, colon),
        value: (offset, offset + value.len()),
    })
}

/// Split a request line into method, target and version, checking syntax.
///
/// `method` is a token, `target` is origin-form (starts with `/`, visible
/// ASCII only), and the version is `HTTP/` DIGIT `.` DIGIT (whether it is
/// `HTTP/1.1` is check 6, not a syntax error).
#[must_use]
pub fn parse_request_line(line: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let mut parts = line.split(|b| *b == b' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !is_token(method) {
        return None;
    }
    let visible = target.iter().all(|b| (0x21..=0x7E).contains(b));
    if target.first() != Some(&b'/') || !visible || !is_http_version(version) {
        return None;
    }
    Some((method, target, version))
}

/// Return True for RFC 9112's `HTTP-version`: `HTTP/` DIGIT `.` DIGIT.
fn is_http_version(version: &[u8]) -> bool {
    matches!(version, [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
        if major.is_ascii_digit() && minor.is_ascii_digit())
}

/// Split a status line into its version, status code and reason phrase.
///
/// `HTTP-version SP 3DIGIT [ SP reason ]`, the reason made of HTAB, SP,
/// visible ASCII and obs-text (possibly empty; a bare `HTTP/1.1 101`, as
/// some servers send, is accepted).
#[must_use]
pub fn parse_status_line(line: &[u8]) -> Option<(u16, &[u8])> {
    let (version, rest) = split_once(line, b' ')?;
    let (code, reason) = split_once(rest, b' ').unwrap_or((rest, b""));
    if !is_http_version(version)
        || code.len() != 3
        || !code.iter().all(u8::is_ascii_digit)
        || !reason.iter().all(|b| is_value_byte(*b))
    {
        return None;
    }
    let status = code
        .iter()
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    Some((status, reason))
}

/// Split at the first `sep`, like Python's `bytes.partition` when found.
fn split_once(bytes: &[u8], sep: u8) -> Option<(&[u8], &[u8])> {
    let at = bytes.iter().position(|b| *b == sep)?;
    Some((&bytes[..at], &bytes[at + 1..]))
}

// --- validation ---------------------------------------------------------------

/// One extension offer: a name and its parameters, in order.
pub type ExtensionOffer = (String, Vec<(String, Option<String>)>);

/// What a server needs from a valid request, beyond its raw parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestInfo {
    /// The `Sec-WebSocket-Key` value.
    pub key: String,
    /// Offered subprotocols, in order.
    pub subprotocols: Vec<String>,
    /// Offered extensions, in order.
    pub extensions: Vec<ExtensionOffer>,
}

fn header_values<'a, 'h>(
    headers: &'h [(&'a [u8], &'a [u8])],
    name: &'static [u8],
) -> impl Iterator<Item = &'a [u8]> + 'h {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}

/// Return the single value of a header: Ok(None) if absent, Err if repeated.
fn single<'a>(
    headers: &[(&'a [u8], &'a [u8])],
    name: &'static [u8],
) -> Result<Option<&'a [u8]>, ()> {
    let mut values = header_values(headers, name);
    let first = values.next();
    if values.next().is_some() {
        return Err(());
    }
    Ok(first)
}

/// Check that a comma-separated header contains a token, case-insensitively.
///
/// Returns `None` when the header is absent, `Some(found)` otherwise.
fn has_token(headers: &[(&[u8], &[u8])], name: &'static [u8], token: &[u8]) -> Option<bool> {
    let mut present = false;
    let mut found = false;
    for value in header_values(headers, name) {
        present = true;
        found |= value
            .split(|b| *b == b',')
            .any(|item| strip_ows(item).eq_ignore_ascii_case(token));
    }
    present.then_some(found)
}

/// Return the comma-separated, stripped, non-empty items of every value of a header.
fn list_items(headers: &[(&[u8], &[u8])], name: &'static [u8]) -> Vec<String> {
    header_values(headers, name)
        .flat_map(|value| value.split(|b| *b == b','))
        .map(strip_ows)
        .filter(|item| !item.is_empty())
        .map(utf8_lossy)
        .collect()
}

/// Apply checks 6–13 of the contract to a complete request.
pub fn validate_request(
    method: &[u8],
    version_ok: bool,
    headers: &[(&[u8], &[u8])],
) -> Result<RequestInfo, HandshakeError> {
    if !version_ok {
        return Err(HandshakeError::UnsupportedVersion);
    }
    if method != b"GET" {
        return Err(HandshakeError::InvalidMethod);
    }
    match single(headers, b"host") {
        Err(()) => return Err(HandshakeError::DuplicateHost),
        Ok(None) => return Err(HandshakeError::MissingHost),
        Ok(Some(_)) => {}
    }
    match has_token(headers, b"upgrade", b"websocket") {
        None => return Err(HandshakeError::MissingUpgrade),
        Some(false) => return Err(HandshakeError::InvalidUpgrade),
        Some(true) => {}
    }
    match has_token(headers, b"connection", b"upgrade") {
        None => return Err(HandshakeError::MissingConnection),
        Some(false) => return Err(HandshakeError::InvalidConnection),
        Some(true) => {}
    }
    match single(headers, b"sec-websocket-version") {
        Err(()) => return Err(HandshakeError::DuplicateVersion),
        Ok(None) => return Err(HandshakeError::MissingVersion),
        Ok(Some(version)) if strip_ows(version) != b"13" => {
            return Err(HandshakeError::InvalidVersion)
        }
        Ok(Some(_)) => {}
    }
    let key = match single(headers, b"sec-websocket-key") {
        Err(()) => return Err(HandshakeError::DuplicateKey),
        Ok(None) => return Err(HandshakeError::MissingKey),
        Ok(Some(key)) if !is_valid_key(key) => return Err(HandshakeError::InvalidKey),
        Ok(Some(key)) => latin1(key),
    };
    let mut extensions = Vec::new();
    for value in header_values(headers, b"sec-websocket-extensions") {
        parse_extensions(value, &mut extensions).ok_or(HandshakeError::InvalidExtensions)?;
    }
    Ok(RequestInfo {
        key,
        subprotocols: list_items(headers, b"sec-websocket-protocol"),
        extensions,
    })
}

/// What a client learns from a valid 101 response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseInfo {
    /// The subprotocol the server selected.
    pub subprotocol: Option<String>,
    /// The extensions the server accepted, as parsed.
    pub extensions: Vec<ExtensionOffer>,
    /// The permessage-deflate parameters, when the server accepted our offer.
    pub deflate: Option<Params>,
}

/// Check a complete response against our key and offers.
///
/// A status other than 101 is reported by the caller, which first waits for
/// the body. Without a key (no request was sent) no accept value is valid.
/// `compression` is what we offered (`None`: no extension was offered, and
/// any `Sec-WebSocket-Extensions` header is unexpected).
pub fn validate_response(
    headers: &[(&[u8], &[u8])],
    key: Option<&str>,
    offered: &[String],
    compression: Option<&DeflateOptions>,
) -> Result<ResponseInfo, ResponseError> {
    match has_token(headers, b"upgrade", b"websocket") {
        None => return Err(ResponseError::MissingUpgrade),
        Some(false) => return Err(ResponseError::InvalidUpgrade),
        Some(true) => {}
    }
    match has_token(headers, b"connection", b"upgrade") {
        None => return Err(ResponseError::MissingConnection),
        Some(false) => return Err(ResponseError::InvalidConnection),
        Some(true) => {}
    }
    match single(headers, b"sec-websocket-accept") {
        Err(()) => return Err(ResponseError::DuplicateAccept),
        Ok(None) => return Err(ResponseError::MissingAccept),
        Ok(Some(value)) if key.is_none_or(|key| value != accept_key(key.as_bytes()).as_bytes()) => {
            return Err(ResponseError::InvalidAccept)
        }
        Ok(Some(_)) => {}
    }
    let mut chosen = list_items(headers, b"sec-websocket-protocol");
    if chosen.len() > 1 || chosen.first().is_some_and(|p| !offered.contains(p)) {
        return Err(ResponseError::UnexpectedSubprotocol);
    }
    let mut extensions = Vec::new();
    let mut values = header_values(headers, b"sec-websocket-extensions").peekable();
    let deflate = match compression {
        None if values.peek().is_some() => return Err(ResponseError::UnexpectedExtensions),
        None => None,
        Some(options) => {
            for value in values {
                parse_extensions(value, &mut extensions).ok_or(ResponseError::InvalidExtensions)?;
            }
            deflate::accept_response(&extensions, options)
                .map_err(|_| ResponseError::InvalidExtensions)?
        }
    };
    Ok(ResponseInfo {
        subprotocol: chosen.pop(),
        extensions,
        deflate,
    })
}

/// Parse one `Sec-WebSocket-Extensions` value (RFC 6455 §9.1), appending offers.
///
/// `1#( token *( OWS ";" OWS token [ "=" ( token / quoted-string ) ] ) )`;
/// empty list elements are skipped (an empty value offers nothing); a
/// quoted value is unquoted and must then be a token. Returns `None` for
/// invalid syntax.
#[must_use]
pub fn parse_extensions(value: &[u8], out: &mut Vec<ExtensionOffer>) -> Option<()> {
    let mut pos = 0;
    let skip_ows = |pos: &mut usize| {
        while matches!(value.get(*pos), Some(b' ' | b'\t')) {
            *pos += 1;
        }
    };
    let token = |pos: &mut usize| -> Option<String> {
        let start = *pos;
        while value.get(*pos).is_some_and(|b| is_tchar(*b)) {
            *pos += 1;
        }
        (*pos > start).then(|| latin1(&value[start..*pos]))
    };
    loop {
        skip_ows(&mut pos);
        match value.get(pos) {
            None => break,
            Some(b',') => {
                pos += 1;
                continue;
            }
            Some(_) => {}
        }
        let name = token(&mut pos)?;
        let mut params = Vec::new();
        loop {
            skip_ows(&mut pos);
            match value.get(pos) {
                Some(b';') => pos += 1,
                Some(b',') | None => break,
                Some(_) => return None,
            }
            skip_ows(&mut pos);
            let param = token(&mut pos)?;
            let arg = if value.get(pos) == Some(&b'=') {
                pos += 1;
                if value.get(pos) == Some(&b'"') {
                    Some(quoted_token(value, &mut pos)?)
                } else {
                    Some(token(&mut pos)?)
                }
            } else {
                None
            };
            params.push((param, arg));
        }
        out.push((name, params));
    }
    Some(())
}

/// Parse a quoted-string at `pos` and return its unquoted value if it is a token.
fn quoted_token(value: &[u8], pos: &mut usize) -> Option<String> {
    *pos += 1;
    let mut unquoted = Vec::new();
    loop {
        let byte = *value.get(*pos)?;
        *pos += 1;
        match byte {
            b'"' => break,
            b'\\' => {
                let escaped = *value.get(*pos)?;
                if !is_value_byte(escaped) {
                    return None;
                }
                *pos += 1;
                unquoted.push(escaped);
            }
            b'\t' | b' ' | 0x21 | 0x23..=0x5B | 0x5D..=0x7E | 0x80..=0xFF => unquoted.push(byte),
            _ => return None,
        }
    }
    is_token(&unquoted).then(|| latin1(&unquoted))
}

/// Percent-decode a path and decode it as UTF-8, like `urllib.parse.unquote`.
///
/// `%XX` with two hex digits becomes the byte; any other `%` stays literal;
/// invalid UTF-8 becomes U+FFFD (maximal subparts, as `CPython`'s `replace`).
#[must_use]
pub fn percent_decode(raw: &[u8]) -> String {
    let hex = |b: u8| -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    };
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let byte = raw[i];
        if byte == b'%' {
            if let (Some(hi), Some(lo)) = (
                raw.get(i + 1).and_then(|b| hex(*b)),
                raw.get(i + 2).and_then(|b| hex(*b)),
            ) {
                out.push((hi << 4) | lo);
                i += 3;
                continue;
            }
        }
        out.push(byte);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Split a request target into its path and query (without the `?`).
#[must_use]
pub fn split_target(target: &[u8]) -> (&[u8], &[u8]) {
    match target.iter().position(|b| *b == b'?') {
        Some(q) => (&target[..q], &target[q + 1..]),
        None => (target, b""),
    }
}

// --- builders -----------------------------------------------------------------

/// Check extra headers given by the application, in order.
///
/// Names must be tokens, values must not contain CR, LF or NUL. Unless
/// `allow_protocol`, `Sec-WebSocket-Protocol` may not appear (`accept()`
/// has its own argument); unless `allow_extensions`,
/// `Sec-WebSocket-Extensions` may not appear (`accept()` and the client's
/// request: the engine negotiates extensions). A denial allows both.
pub fn check_headers<N: AsRef<[u8]>, V: AsRef<[u8]>>(
    headers: &[(N, V)],
    allow_protocol: bool,
    allow_extensions: bool,
) -> Result<(), LocalError> {
    for (name, value) in headers {
        let (name, value) = (name.as_ref(), value.as_ref());
        if !is_token(name) {
            return Err(LocalError::InvalidHeaderName);
        }
        if value.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
            return Err(LocalError::InvalidHeaderValue);
        }
        if !allow_protocol && name.eq_ignore_ascii_case(b"sec-websocket-protocol") {
            return Err(LocalError::SubprotocolHeader);
        }
        if !allow_extensions && name.eq_ignore_ascii_case(b"sec-websocket-extensions") {
            return Err(LocalError::ExtensionsHeader);
        }
    }
    Ok(())
}

/// Check what a client puts in its request, in argument order.
///
/// Nothing is escaped on the way out, so a CR or LF in any of these would
/// end a line of the request early and inject headers (RFC 9112 §2.2).
/// `target` must be in origin form and visible ASCII (RFC 9112 §3.2.1; the
/// caller percent-encodes the rest), each subprotocol a token (RFC 6455
/// §4.1), and `host` and `origin` free of CR, LF and NUL. The headers are
/// checked as [`check_headers`] does, `Sec-WebSocket-Protocol` allowed.
///
/// # Errors
///
/// The first failing check, in the order of the arguments.
pub fn check_client_request<N: AsRef<[u8]>, V: AsRef<[u8]>>(
    host: &str,
    target: &str,
    subprotocols: &[String],
    headers: &[(N, V)],
    origin: Option<&str>,
) -> Result<(), LocalError> {
    let breaks_line = |text: &str| text.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0));
    if breaks_line(host) {
        return Err(LocalError::InvalidHost);
    }
    if !target.starts_with('/') || !target.bytes().all(|b| (0x21..=0x7E).contains(&b)) {
        return Err(LocalError::InvalidTarget);
    }
    if !subprotocols.iter().all(|p| is_token(p.as_bytes())) {
        return Err(LocalError::InvalidSubprotocol);
    }
    check_headers(headers, true, false)?;
    if origin.is_some_and(breaks_line) {
        return Err(LocalError::InvalidOrigin);
    }
    Ok(())
}

fn push_header(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

fn push_status_line(out: &mut Vec<u8>, status: u16) {
    out.extend_from_slice(format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status)).as_bytes());
}

/// Build the 101 response that accepts a request (§4.2.2).
///
/// `extensions` is the `Sec-WebSocket-Extensions` value, written right after
/// the subprotocol and before the application's `headers`.
#[must_use]
pub fn build_accept<N: AsRef<[u8]>, V: AsRef<[u8]>>(
    key: &str,
    subprotocol: Option<&str>,
    extensions: Option<&str>,
    headers: &[(N, V)],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(160);
    out.extend_from_slice(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n",
    );
    push_header(
        &mut out,
        b"Sec-WebSocket-Accept",
        accept_key(key.as_bytes()).as_bytes(),
    );
    if let Some(protocol) = subprotocol {
        push_header(&mut out, b"Sec-WebSocket-Protocol", protocol.as_bytes());
    }
    if let Some(value) = extensions {
        push_header(&mut out, b"Sec-WebSocket-Extensions", value.as_bytes());
    }
    for (name, value) in headers {
        push_header(&mut out, name.as_ref(), value.as_ref());
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Build the HTTP error response for a handshake fault.
#[must_use]
pub fn build_error_response(err: &HandshakeError) -> Vec<u8> {
    let body = format!("Failed to open a WebSocket connection: {err}.\n");
    let mut out = Vec::with_capacity(160 + body.len());
    push_status_line(&mut out, err.status_hint());
    out.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\n");
    if let Some(extra) = err.extra_header() {
        out.extend_from_slice(extra.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out.extend_from_slice(body.as_bytes());
    out
}

/// Check a denial status: 100..=599 and not 101.
pub fn check_status(status: i64) -> Result<u16, LocalError> {
    u16::try_from(status)
        .ok()
        .filter(|s| (100..=599).contains(s) && *s != 101)
        .ok_or(LocalError::InvalidStatus(status))
}

/// Build the head of a denial, ending with the empty line.
///
/// `body_len` is `Some(n)` for a `Content-Length: n` line and `None` for
/// `Transfer-Encoding: chunked`; neither is added when the application gave
/// a `Content-Length` header, and `Connection: close` is added unless it
/// gave a `Connection` header.
#[must_use]
pub fn build_denial_head<N: AsRef<[u8]>, V: AsRef<[u8]>>(
    status: u16,
    headers: &[(N, V)],
    body_len: Option<usize>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    push_status_line(&mut out, status);
    let mut has_length = false;
    let mut has_connection = false;
    for (name, value) in headers {
        let name = name.as_ref();
        has_length |= name.eq_ignore_ascii_case(b"content-length");
        has_connection |= name.eq_ignore_ascii_case(b"connection");
        push_header(&mut out, name, value.as_ref());
    }
    if !has_length {
        match body_len {
            Some(len) => out.extend_from_slice(format!("Content-Length: {len}\r\n").as_bytes()),
            None => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        }
    }
    if !has_connection {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Return True when the headers include a `Content-Length`.
#[must_use]
pub fn has_content_length<N: AsRef<[u8]>, V>(headers: &[(N, V)]) -> bool {
    headers
        .iter()
        .any(|(name, _)| name.as_ref().eq_ignore_ascii_case(b"content-length"))
}

/// Build a client's opening request (§4.1).
///
/// `extensions` is the `Sec-WebSocket-Extensions` offer, written right after
/// the subprotocols and before the application's `headers`.
#[must_use]
pub fn build_request<N: AsRef<[u8]>, V: AsRef<[u8]>>(
    host: &str,
    target: &str,
    key: &str,
    origin: Option<&str>,
    subprotocols: &[String],
    extensions: Option<&str>,
    headers: &[(N, V)],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(200);
    out.extend_from_slice(b"GET ");
    out.extend_from_slice(target.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    push_header(&mut out, b"Host", host.as_bytes());
    out.extend_from_slice(b"Upgrade: websocket\r\nConnection: Upgrade\r\n");
    push_header(&mut out, b"Sec-WebSocket-Key", key.as_bytes());
    out.extend_from_slice(b"Sec-WebSocket-Version: 13\r\n");
    if let Some(origin) = origin {
        push_header(&mut out, b"Origin", origin.as_bytes());
    }
    if !subprotocols.is_empty() {
        push_header(
            &mut out,
            b"Sec-WebSocket-Protocol",
            subprotocols.join(", ").as_bytes(),
        );
    }
    if let Some(value) = extensions {
        push_header(&mut out, b"Sec-WebSocket-Extensions", value.as_bytes());
    }
    for (name, value) in headers {
        push_header(&mut out, name.as_ref(), value.as_ref());
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Return the value of the first `Content-Length` header, if it is all digits.
///
/// Values too large for `u64` saturate (the caller caps the body anyway).
#[must_use]
pub fn content_length(headers: &[(&[u8], &[u8])]) -> Option<u64> {
    let value = header_values(headers, b"content-length").next()?;
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(value.iter().fold(0u64, |acc, d| {
        acc.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const LIMITS: HeadLimits = HeadLimits {
        max_first_line: 8192,
        max_header_line: 8192,
        max_headers: 128,
    };

    const REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    #[test]
    fn rfc_accept_key() {
        assert_eq!(
            accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(base64_encode(b""), "");
        assert_eq!(base64_encode(b"f"), "Zg==");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_encode(b"foo"), "Zm9v");
    }

    #[test]
    fn keys() {
        assert!(is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZR=="));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ="));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25j-Q=="));
        assert!(!is_valid_key(b""));
    }

    #[test]
    fn parse_whole_and_trickled() {
        let mut whole = HeadParser::new(HeadKind::Request, LIMITS);
        assert_eq!(whole.feed(REQUEST), Ok(Some(REQUEST.len())));
        let head = whole.head();
        assert_eq!(head.first_line, b"GET /chat HTTP/1.1");
        assert_eq!(head.headers.len(), 5);
        assert_eq!(head.headers[0], (&b"Host"[..], &b"server.example.com"[..]));
        let mut trickled = HeadParser::new(HeadKind::Request, LIMITS);
        for (i, byte) in REQUEST.iter().enumerate() {
            let expected = if i + 1 == REQUEST.len() {
                Some(1)
            } else {
                None
            };
            assert_eq!(
                trickled.feed(std::slice::from_ref(byte)),
                Ok(expected),
                "byte {i}"
            );
        }
        assert_eq!(trickled.head(), head);
        let info = validate_request(b"GET", true, &head.headers).unwrap();
        assert_eq!(info.key, "dGhlIHNhbXBsZSBub25jZQ==");
    }

    #[test]
    fn limits_are_checked_before_the_line_ends() {
        let limits = HeadLimits {
            max_first_line: 14,
            max_header_line: 10,
            max_headers: 2,
        };
        let mut p = HeadParser::new(HeadKind::Request, limits);
        assert_eq!(p.feed(b"GET / HTTP/1.1"), Ok(None));
        assert_eq!(p.feed(b"\r"), Ok(None));
        let mut p2 = p.clone();
        assert_eq!(p.feed(b"\n"), Ok(None));
        assert_eq!(p2.feed(b"x"), Err(HeadError::FirstLineTooLong));
        assert_eq!(p.feed(b"A: 12345678"), Err(HeadError::HeaderLineTooLong));
        let mut p = HeadParser::new(HeadKind::Request, limits);
        assert_eq!(p.feed(b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC"), Ok(None));
        assert_eq!(p.feed(b": 3\r\n"), Err(HeadError::TooManyHeaders));
    }

    #[test]
    fn malformed_lines() {
        for line in [
            &b"GET  / HTTP/1.1"[..],
            b"GET http://x/ HTTP/1.1",
            b"GET / HTTP/1.1 x",
            b"G(T / HTTP/1.1",
            b"GET /\x7f HTTP/1.1",
        ] {
            assert!(parse_request_line(line).is_none(), "{line:?}");
        }
        assert!(parse_header_line(b" A: b").is_none());
        assert!(parse_header_line(b"A : b").is_none());
        assert!(parse_header_line(b"A: b\x01").is_none());
        let span = parse_header_line(b"A: \t b c \t").unwrap();
        assert_eq!(span.value, (5, 8));
        let mut p = HeadParser::new(HeadKind::Request, LIMITS);
        assert_eq!(
            p.feed(b"GET / HTTP/1.1\n"),
            Err(HeadError::InvalidFirstLine)
        );
    }

    #[test]
    fn extensions() {
        let mut out = Vec::new();
        parse_extensions(
            b"permessage-deflate; client_max_window_bits, x-foo;a=\"b\\c\" ,,y",
            &mut out,
        )
        .unwrap();
        assert_eq!(
            out,
            vec![
                (
                    "permessage-deflate".to_string(),
                    vec![("client_max_window_bits".to_string(), None)]
                ),
                (
                    "x-foo".to_string(),
                    vec![("a".to_string(), Some("bc".to_string()))]
                ),
                ("y".to_string(), vec![]),
            ]
        );
        for bad in [
            &b"a;"[..],
            b"a b",
            b"a;b=",
            b"a;b=\"\"",
            b"a;b=\"c d\"",
            b"=",
            b"a;b=\"c",
        ] {
            assert!(parse_extensions(bad, &mut Vec::new()).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn unquote_like_cpython() {
        assert_eq!(percent_decode(b"/a%20b"), "/a b");
        assert_eq!(percent_decode(b"/%zz%4"), "/%zz%4");
        assert_eq!(percent_decode(b"/%E2%82%AC%ff"), "/€\u{fffd}");
        assert_eq!(split_target(b"/p?q=1?"), (&b"/p"[..], &b"q=1?"[..]));
    }

    #[test]
    fn error_response_bytes() {
        let out = build_error_response(&HandshakeError::InvalidMethod);
        let body = "Failed to open a WebSocket connection: HTTP method must be GET.\n";
        let expected = format!(
            "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\n\
Allow: GET\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn extra_headers_checked_in_order() {
        let protocol = [(&b"Sec-WebSocket-Protocol"[..], &b"chat"[..])];
        let extensions = [(&b"SEC-WEBSOCKET-EXTENSIONS"[..], &b"x"[..])];
        // accept(): neither; the client's request: no extensions; a denial: both.
        assert_eq!(
            check_headers(&protocol, false, false),
            Err(LocalError::SubprotocolHeader)
        );
        assert_eq!(
            check_headers(&extensions, false, false),
            Err(LocalError::ExtensionsHeader)
        );
        assert_eq!(check_headers(&protocol, true, false), Ok(()));
        assert_eq!(
            check_headers(&extensions, true, false),
            Err(LocalError::ExtensionsHeader)
        );
        assert_eq!(check_headers(&extensions, true, true), Ok(()));
        // Each header is checked whole before the next one.
        let both = [extensions[0], (&b"bad name"[..], &b"v"[..])];
        assert_eq!(
            check_headers(&both, false, false),
            Err(LocalError::ExtensionsHeader)
        );
        let value = [(&b"Sec-WebSocket-Extensions"[..], &b"a\nb"[..])];
        assert_eq!(
            check_headers(&value, false, false),
            Err(LocalError::InvalidHeaderValue)
        );
    }
}
