//! permessage-deflate (RFC 7692): negotiation and per-message compression.
//!
//! * [`negotiate`] picks the first acceptable offer from a client's
//!   `Sec-WebSocket-Extensions` and builds the server's answer, following
//!   the contract's decline rules (an unusable offer is skipped, never an
//!   error). [`client_offer`] and [`accept_response`] are the client's side.
//! * [`Deflate`] is a connection's compression state once negotiated: a
//!   compressor used for messages at or above the threshold (sync flush, the
//!   `00 00 ff ff` tail removed) and a streaming decompressor whose output is
//!   capped by the caller (never more than the remaining `max_size + 1`
//!   bytes, whatever the peer's data claims), each allocated on first use
//!   and reset or released after every message when context takeover is
//!   off.
//! * [`prepare_frame`] builds a complete server frame once, compressed with a
//!   fresh stream, for broadcasting the same bytes to many connections.
//!
//! Nothing here reads a clock, performs I/O or panics on the peer's input.
//! The zlib streams come from [`crate::zlib`].

use std::cell::RefCell;
use std::fmt::Write as _;

use crate::error::LocalError;
use crate::frame::{self, OpCode};
use crate::handshake::ExtensionOffer;
use crate::zlib::{Deflater, Inflater};

/// The extension's name (RFC 7692 §7).
pub const EXTENSION: &str = "permessage-deflate";

/// The empty stored block that ends every sync flush (RFC 7692 §7.2.1).
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The output space of each zlib call while inflating one slice, in order
/// (the last repeats): `CPython`'s `_BlocksOutputBuffer` schedule.
///
/// zlib checks a back-reference against the window only across calls (within
/// one call it may reach into that call's own output), so where the calls
/// split the output decides whether a stream that breaks the agreed window
/// fails. Splitting it where `CPython`'s `zlib` does, as the twin uses, makes
/// both engines give the same answer for the same slices.
const OUTPUT_BLOCKS: [usize; 17] = [
    32 << 10,
    64 << 10,
    256 << 10,
    1 << 20,
    4 << 20,
    8 << 20,
    16 << 20,
    16 << 20,
    32 << 20,
    32 << 20,
    32 << 20,
    32 << 20,
    64 << 20,
    64 << 20,
    128 << 20,
    128 << 20,
    256 << 20,
];

/// The compression settings of a connection (its constructor keywords).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateOptions {
    /// Payloads shorter than this are sent uncompressed (`compression_threshold`).
    pub threshold: usize,
    /// The largest window our compressor uses, and the largest we ask the
    /// peer's to use (`deflate_window_bits`, 9..=15).
    pub window_bits: u8,
    /// zlib `memLevel` of our compressor (`deflate_mem_level`, 1..=9).
    pub mem_level: u8,
    /// zlib compression level (`deflate_level`, 0..=9).
    pub level: u8,
    /// Reset our compressor after every message (`deflate_no_context_takeover`).
    pub no_context_takeover: bool,
}

impl Default for DeflateOptions {
    fn default() -> Self {
        Self {
            threshold: 128,
            window_bits: 12,
            mem_level: 5,
            level: 6,
            no_context_takeover: false,
        }
    }
}

/// Check an integer argument against an inclusive range.
pub fn check_range(name: &'static str, value: i64, lo: u8, hi: u8) -> Result<u8, LocalError> {
    u8::try_from(value)
        .ok()
        .filter(|v| (lo..=hi).contains(v))
        .ok_or(LocalError::OutOfRange {
            name,
            lo: i64::from(lo),
            hi: i64::from(hi),
        })
}

impl DeflateOptions {
    /// Check the constructor keywords, in their order, and return the options.
    pub fn new(
        threshold: i64,
        window_bits: i64,
        mem_level: i64,
        level: i64,
        no_context_takeover: bool,
    ) -> Result<Self, LocalError> {
        if threshold < 0 {
            return Err(LocalError::NegativeThreshold);
        }
        Ok(Self {
            threshold: usize::try_from(threshold).unwrap_or(usize::MAX),
            window_bits: check_range("deflate_window_bits", window_bits, 9, 15)?,
            mem_level: check_range("deflate_mem_level", mem_level, 1, 9)?,
            level: check_range("deflate_level", level, 0, 9)?,
            no_context_takeover,
        })
    }
}

/// The parameters a connection agreed on (`gyrfalcon.protocol.common.DeflateParams`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// The server resets its compressor after every message.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after every message.
    pub client_no_context_takeover: bool,
    /// The server's largest window (15 when the response names none).
    pub server_max_window_bits: u8,
    /// The client's largest window (15 when the response names none).
    pub client_max_window_bits: u8,
}

/// How an element names `client_max_window_bits`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum ClientWindow {
    /// Not at all.
    #[default]
    Absent,
    /// Without a value: the client lets the server choose (offers only).
    Any,
    /// With a value.
    Bits(u8),
}

/// The parameters of one `permessage-deflate` element, checked for syntax.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Element {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: ClientWindow,
}

/// Parse a window size: a decimal `8`..`15` without leading zeros.
fn window_value(value: &str) -> Option<u8> {
    match value {
        "8" => Some(8),
        "9" => Some(9),
        "10" => Some(10),
        "11" => Some(11),
        "12" => Some(12),
        "13" => Some(13),
        "14" => Some(14),
        "15" => Some(15),
        _ => None,
    }
}

/// Parse an element's parameters (RFC 7692 §7.1): `None` if any is unusable.
///
/// Unknown or repeated parameters, a value on a `*_no_context_takeover`,
/// a missing or invalid `server_max_window_bits` value and an invalid
/// `client_max_window_bits` value all make the element unusable.
fn parse_element(params: &[(String, Option<String>)]) -> Option<Element> {
    let mut element = Element::default();
    for (name, value) in params {
        let value = value.as_deref();
        match name.as_str() {
            "server_no_context_takeover" => {
                if element.server_no_context_takeover || value.is_some() {
                    return None;
                }
                element.server_no_context_takeover = true;
            }
            "client_no_context_takeover" => {
                if element.client_no_context_takeover || value.is_some() {
                    return None;
                }
                element.client_no_context_takeover = true;
            }
            "server_max_window_bits" => {
                if element.server_max_window_bits.is_some() {
                    return None;
                }
                element.server_max_window_bits = Some(window_value(value?)?);
            }
            "client_max_window_bits" => {
                if element.client_max_window_bits != ClientWindow::Absent {
                    return None;
                }
                element.client_max_window_bits = match value {
                    None => ClientWindow::Any,
                    Some(value) => ClientWindow::Bits(window_value(value)?),
                };
            }
            _ => return None,
        }
    }
    Some(element)
}

/// The server's choice: the agreed parameters and the response value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    /// The agreed parameters.
    pub params: Params,
    /// The `Sec-WebSocket-Extensions` value of the 101 response.
    pub response: String,
}

/// Choose the first acceptable `permessage-deflate` offer (server role).
///
/// Offers are tried in order; an offer the contract declines (see
/// `parse_element`, and `server_max_window_bits=8`, which zlib cannot
/// write) is skipped, as is every other extension. Returns `None` when no
/// offer is acceptable: the connection is then uncompressed.
#[must_use]
pub fn negotiate(offers: &[ExtensionOffer], options: &DeflateOptions) -> Option<Agreement> {
    let element = offers
        .iter()
        .filter(|(name, _)| name == EXTENSION)
        .filter_map(|(_, params)| parse_element(params))
        .find(|element| element.server_max_window_bits != Some(8))?;
    let ours = options.window_bits;
    let mut response = String::from(EXTENSION);
    let server_no_context_takeover =
        element.server_no_context_takeover || options.no_context_takeover;
    if server_no_context_takeover {
        response.push_str("; server_no_context_takeover");
    }
    if element.client_no_context_takeover {
        response.push_str("; client_no_context_takeover");
    }
    let mut server_max_window_bits = 15;
    if element.server_max_window_bits.is_some() || ours < 15 {
        server_max_window_bits = element.server_max_window_bits.unwrap_or(15).min(ours);
        let _ = write!(
            response,
            "; server_max_window_bits={server_max_window_bits}"
        );
    }
    let client_max_window_bits = match element.client_max_window_bits {
        ClientWindow::Absent => 15,
        ClientWindow::Any => ours,
        ClientWindow::Bits(bits) => bits.min(ours),
    };
    if element.client_max_window_bits != ClientWindow::Absent {
        let _ = write!(
            response,
            "; client_max_window_bits={client_max_window_bits}"
        );
    }
    Some(Agreement {
        params: Params {
            server_no_context_takeover,
            client_no_context_takeover: element.client_no_context_takeover,
            server_max_window_bits,
            client_max_window_bits,
        },
        response,
    })
}

/// Return the value of a client's `Sec-WebSocket-Extensions` offer.
#[must_use]
pub fn client_offer(options: &DeflateOptions) -> String {
    let mut offer = format!("{EXTENSION}; client_max_window_bits");
    if options.window_bits < 15 {
        let _ = write!(offer, "; server_max_window_bits={}", options.window_bits);
    }
    if options.no_context_takeover {
        offer.push_str("; client_no_context_takeover");
    }
    offer
}

/// A server's answer to our offer is not one we can accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidAnswer;

/// Check the extensions a server accepted against our offer (client role).
///
/// Returns `Ok(None)` when the server accepted none, the agreed parameters
/// for a single valid `permessage-deflate` element, and [`InvalidAnswer`]
/// for anything else: another extension, more than one element, or
/// parameters outside the server rules (`server_max_window_bits` 9..=15 and
/// at most what we offered, `client_max_window_bits` with a value in 9..=15).
pub fn accept_response(
    extensions: &[ExtensionOffer],
    options: &DeflateOptions,
) -> Result<Option<Params>, InvalidAnswer> {
    let [(name, params)] = extensions else {
        return if extensions.is_empty() {
            Ok(None)
        } else {
            Err(InvalidAnswer)
        };
    };
    if name != EXTENSION {
        return Err(InvalidAnswer);
    }
    let element = parse_element(params).ok_or(InvalidAnswer)?;
    let server_max_window_bits = element.server_max_window_bits.unwrap_or(15);
    let offered = if options.window_bits < 15 {
        options.window_bits
    } else {
        15
    };
    if server_max_window_bits < 9 || server_max_window_bits > offered {
        return Err(InvalidAnswer);
    }
    let client_max_window_bits = match element.client_max_window_bits {
        ClientWindow::Absent => 15,
        ClientWindow::Bits(bits) if bits >= 9 => bits,
        ClientWindow::Any | ClientWindow::Bits(_) => return Err(InvalidAnswer),
    };
    Ok(Some(Params {
        server_no_context_takeover: element.server_no_context_takeover,
        // RFC 7692 §7.1.1.2: having offered it, we keep no context even if
        // the server does not echo it.
        client_no_context_takeover: element.client_no_context_takeover
            || options.no_context_takeover,
        server_max_window_bits,
        client_max_window_bits,
    }))
}

/// Why inflating stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InflateError {
    /// zlib rejected the data (1007 `invalid compressed data`).
    Corrupt,
    /// The output would exceed the budget (1009).
    TooBig,
    /// The caller's check refused the output (invalid UTF-8, 1007).
    Refused,
}

/// A connection's compression state once permessage-deflate is agreed.
#[derive(Debug)]
pub struct Deflate {
    params: Params,
    threshold: usize,
    level: u8,
    mem_level: u8,
    /// Our compressor's window.
    compress_bits: u8,
    /// Release our compressor after every message (no context takeover).
    compress_once: bool,
    /// Our decompressor's window: the peer's, but at least 9 bits.
    inflate_bits: u8,
    /// Release our decompressor after every message (the peer's no context takeover).
    inflate_once: bool,
    compressor: Option<Deflater>,
    decompressor: Option<Inflater>,
    /// The peer's stream ended with a final block in the current message:
    /// the rest of the message's payload is discarded.
    stream_ended: bool,
}

/// The smallest window our decompressor uses.
///
/// A peer asked for an 8-bit window may still compress with 9 bits: zlib
/// before 1.2.9 silently turned a raw 8-bit window into 9 bits (and later
/// versions refuse it, madler/zlib#171). zlib's own matches stay within 250
/// bytes, but another deflater given 9 bits may use all 512. A larger
/// inflate window accepts everything a smaller one does, so we always keep
/// at least 512 bytes.
const MIN_INFLATE_BITS: u8 = 9;

impl Deflate {
    fn new(
        params: Params,
        options: &DeflateOptions,
        compress_bits: u8,
        compress_once: bool,
        inflate_bits: u8,
        inflate_once: bool,
    ) -> Self {
        Self {
            params,
            threshold: options.threshold,
            level: options.level,
            mem_level: options.mem_level,
            compress_bits,
            compress_once,
            inflate_bits: inflate_bits.max(MIN_INFLATE_BITS),
            inflate_once,
            compressor: None,
            decompressor: None,
            stream_ended: false,
        }
    }

    /// Return the server's state for agreed `params`.
    ///
    /// Our compressor uses `server_max_window_bits` and resets when we answered
    /// `server_no_context_takeover`; our decompressor uses
    /// `client_max_window_bits`, at least 9, and resets on
    /// `client_no_context_takeover`.
    #[must_use]
    pub fn server(params: Params, options: &DeflateOptions) -> Self {
        Self::new(
            params,
            options,
            params.server_max_window_bits,
            params.server_no_context_takeover,
            params.client_max_window_bits,
            params.client_no_context_takeover,
        )
    }

    /// Return the client's state for agreed `params`.
    ///
    /// Our compressor uses `min(client_max_window_bits, deflate_window_bits)`
    /// and resets on `client_no_context_takeover` (which [`accept_response`]
    /// sets when we offered it); our decompressor uses
    /// `server_max_window_bits` and resets on `server_no_context_takeover`.
    #[must_use]
    pub fn client(params: Params, options: &DeflateOptions) -> Self {
        Self::new(
            params,
            options,
            params.client_max_window_bits.min(options.window_bits),
            params.client_no_context_takeover,
            params.server_max_window_bits,
            params.server_no_context_takeover,
        )
    }

    /// Return the agreed parameters.
    #[must_use]
    pub fn params(&self) -> &Params {
        &self.params
    }

    /// Return True when a payload of `len` bytes is to be compressed.
    #[must_use]
    pub fn wants(&self, len: usize) -> bool {
        len >= self.threshold
    }

    /// Return the bytes held by the zlib streams (0 while none is allocated).
    #[must_use]
    pub fn heap_size(&self) -> usize {
        self.compressor.as_ref().map_or(0, Deflater::allocated)
            + self.decompressor.as_ref().map_or(0, Inflater::allocated)
    }

    /// Compress one message and append it to `out`, tail removed.
    ///
    /// Allocates the compressor on first use and releases it afterwards when
    /// our side has no context takeover. Returns `false`, with `out`
    /// unchanged, when zlib cannot allocate or fails: the caller then sends
    /// the message uncompressed, which is always valid.
    pub fn compress(&mut self, payload: &[u8], out: &mut Vec<u8>) -> bool {
        let start = out.len();
        let compressor = match self.compressor.as_mut() {
            Some(compressor) => compressor,
            None => match Deflater::new(self.level, self.compress_bits, self.mem_level) {
                Some(compressor) => self.compressor.insert(compressor),
                None => return false,
            },
        };
        let ok = compressor.compress_sync(payload, out) && strip_tail(out, start);
        if !ok {
            out.truncate(start);
            self.compressor = None;
            return false;
        }
        if self.compress_once {
            self.compressor = None;
        }
        true
    }

    /// Forget our compression context (after a prepared frame was sent).
    ///
    /// The peer's window now holds data our compressor never saw, so the
    /// next message must not refer back to anything before it.
    pub fn reset_compressor(&mut self) {
        if let Some(compressor) = self.compressor.as_mut() {
            compressor.reset();
        }
    }

    /// Inflate one slice of a compressed message's payload into `out`.
    ///
    /// A slice is the unmasked payload bytes of one frame that one input
    /// call delivered. `budget` is how many more bytes the message may grow
    /// by (`None`: no limit); at most `budget + 1` bytes are produced. The
    /// outcome, in this order (the contract's, shared with the twin):
    ///
    /// 1. zlib rejects the data: [`InflateError::Corrupt`] (the slice's
    ///    output is not checked);
    /// 2. `check` refuses the bytes produced within the budget (invalid
    ///    UTF-8): [`InflateError::Refused`];
    /// 3. more than `budget` bytes were produced: [`InflateError::TooBig`].
    ///
    /// Once the stream ended with a final block (RFC 7692 §7.2.3.4), the
    /// rest of the message's bytes, in this slice and any later one, are
    /// discarded unread (see [`stream_ended`](Self::stream_ended)).
    ///
    /// Returns the number of bytes appended.
    pub fn inflate(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        budget: Option<u64>,
        check: &mut impl FnMut(&[u8]) -> bool,
    ) -> Result<u64, InflateError> {
        if self.stream_ended {
            return Ok(0);
        }
        self.inflate_slice(input, out, budget, check)
    }

    /// Return True once the current message's stream ended with a final block.
    ///
    /// The rest of the message's payload is then discarded: the caller may
    /// skip unmasking it.
    #[must_use]
    pub fn stream_ended(&self) -> bool {
        self.stream_ended
    }

    fn inflate_slice(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
        budget: Option<u64>,
        check: &mut impl FnMut(&[u8]) -> bool,
    ) -> Result<u64, InflateError> {
        let inflater = match self.decompressor.as_mut() {
            Some(inflater) => inflater,
            // NOTE(gyrfalcon): zlib only fails to start when out of memory.
            None => self
                .decompressor
                .insert(Inflater::new(self.inflate_bits).ok_or(InflateError::Corrupt)?),
        };
        let start = out.len();
        // One byte more than the budget proves the message too big.
        let cap = budget.map(|b| b.saturating_add(1));
        let mut input = input;
        let mut blocks = OUTPUT_BLOCKS
            .iter()
            .copied()
            .chain(std::iter::repeat(1 << 28));
        loop {
            let produced = (out.len() - start) as u64;
            let block = blocks.next().unwrap_or(1 << 28);
            let room = cap.map_or(block, |cap| {
                usize::try_from(cap - produced).map_or(block, |left| left.min(block))
            });
            if room == 0 {
                break;
            }
            let limit =
                cap.map(|cap| start.saturating_add(usize::try_from(cap).unwrap_or(usize::MAX)));
            grow(out, room, limit);
            let result = inflater
                .inflate(input, out, room)
                .map_err(|_| InflateError::Corrupt)?;
            input = &input[result.consumed..];
            if result.stream_end {
                // RFC 7692 §7.2.3.4: a final block may end a message; like
                // what is left of our own tail, any bytes the peer sends
                // after it in the message are ignored.
                self.stream_ended = true;
                break;
            }
            // zlib stops a call only when its output space is full, its input
            // is used up, or the stream ended (handled above).
            if result.produced < room {
                break;
            }
        }
        let produced = out.len() - start;
        let within = budget.map_or(produced, |b| {
            usize::try_from(b).map_or(produced, |b| b.min(produced))
        });
        if !check(&out[start..start + within]) {
            return Err(InflateError::Refused);
        }
        if within < produced {
            return Err(InflateError::TooBig);
        }
        Ok(produced as u64)
    }

    /// Finish a compressed message: inflate the tail, then reset as agreed.
    ///
    /// The `00 00 ff ff` tail the sender removed is inflated after the last
    /// frame's payload as one more slice, with the same `budget` and `check`
    /// as [`inflate`](Self::inflate), unless the peer's stream already ended.
    /// Afterwards the decompressor is released when the peer has no context
    /// takeover, or reset when its stream ended (the next message starts a
    /// new one).
    pub fn finish_message(
        &mut self,
        out: &mut Vec<u8>,
        budget: Option<u64>,
        check: &mut impl FnMut(&[u8]) -> bool,
    ) -> Result<u64, InflateError> {
        let produced = if self.stream_ended {
            0
        } else {
            self.inflate_slice(&TAIL, out, budget, check)?
        };
        self.end_message();
        Ok(produced)
    }

    /// Drop the inbound message's stream state (end of message, or abort).
    pub fn end_message(&mut self) {
        if self.inflate_once {
            self.decompressor = None;
        } else if self.stream_ended {
            if let Some(inflater) = self.decompressor.as_mut() {
                inflater.reset();
            }
        }
        self.stream_ended = false;
    }
}

/// Make room for `room` more bytes in `out`, growing geometrically but
/// never past `limit` bytes in all (when it applies).
///
/// Plain doubling would, at the limit, double a buffer that holds a whole
/// `max_size` message to add its last byte; here the buffer stops at what
/// the message can still use, so a message costs at most `max_size + 1`
/// bytes of buffer (plus what the queue already held).
fn grow(out: &mut Vec<u8>, room: usize, limit: Option<usize>) {
    let need = out.len().saturating_add(room);
    if out.capacity() >= need {
        return;
    }
    let doubled = out.capacity().saturating_mul(2).max(need);
    let target = limit.map_or(doubled, |limit| doubled.min(limit.max(need)));
    out.reserve_exact(target - out.len());
}

/// Remove the sync flush tail from the bytes after `start`.
///
/// zlib writes nothing for a sync flush right after another one with no
/// input in between (two empty messages in a row): the message is then one
/// empty stored block header (`00`), which inflates to nothing once the
/// receiver adds the tail. Returns `false` if the output ends otherwise.
fn strip_tail(out: &mut Vec<u8>, start: usize) -> bool {
    let new = &out[start..];
    if new.is_empty() {
        out.push(0x00);
        return true;
    }
    if new.ends_with(&TAIL) {
        out.truncate(out.len() - TAIL.len());
        return true;
    }
    false
}

/// The compression of a prepared frame: window, `memLevel` and level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compression {
    /// Window bits, 9..=15.
    pub window_bits: u8,
    /// zlib `memLevel`, 1..=9.
    pub mem_level: u8,
    /// zlib level, 0..=9.
    pub level: u8,
}

thread_local! {
    /// One compressor per thread for prepared frames, reset before each use.
    static PREPARE: RefCell<Option<(Compression, Deflater)>> = const { RefCell::new(None) };
}

/// Compress `payload` with a fresh raw deflate stream, tail removed.
///
/// Returns `None` if zlib cannot allocate. The compressor is kept per
/// thread between calls (and reset before each one), so a broadcast loop
/// does not allocate one per message.
#[must_use]
pub fn compress_fresh(payload: &[u8], compression: Compression) -> Option<Vec<u8>> {
    PREPARE.with(|cell| {
        let mut cached = cell.try_borrow_mut().ok()?;
        if cached.as_ref().is_none_or(|(c, _)| *c != compression) {
            *cached = None;
            let deflater = Deflater::new(
                compression.level,
                compression.window_bits,
                compression.mem_level,
            )?;
            *cached = Some((compression, deflater));
        }
        let (_, deflater) = cached.as_mut()?;
        deflater.reset();
        let mut out = Vec::with_capacity(payload.len() / 2 + 64);
        let ok = deflater.compress_sync(payload, &mut out) && strip_tail(&mut out, 0);
        if !ok {
            *cached = None;
            return None;
        }
        deflater.reset();
        Some(out)
    })
}

/// Build one complete unmasked frame with FIN set (the contract's `prepare_frame()`).
///
/// `opcode` is TEXT or BINARY. With `compression`, the payload is compressed
/// with a fresh stream and RSV1 is set; any receiver whose agreed
/// `server_max_window_bits` is at least `compression.window_bits` can
/// inflate it. Returns `None` only if zlib cannot allocate.
#[must_use]
pub fn prepare_frame(
    opcode: OpCode,
    payload: &[u8],
    compression: Option<Compression>,
) -> Option<Vec<u8>> {
    let compressed;
    let (body, rsv1) = match compression {
        Some(compression) => {
            compressed = compress_fresh(payload, compression)?;
            (&compressed[..], true)
        }
        None => (payload, false),
    };
    let mut out = Vec::with_capacity(frame::encoded_header_len(false, body.len()) + body.len());
    frame::encode_header(&mut out, true, rsv1, opcode as u8, None, body.len());
    out.extend_from_slice(body);
    Some(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn offer(params: &[(&str, Option<&str>)]) -> ExtensionOffer {
        (
            EXTENSION.to_owned(),
            params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned)))
                .collect(),
        )
    }

    fn answer(offers: &[ExtensionOffer], options: &DeflateOptions) -> Option<String> {
        negotiate(offers, options).map(|a| a.response)
    }

    #[test]
    fn server_answers_in_the_contract_order() {
        let defaults = DeflateOptions::default();
        assert_eq!(
            answer(&[offer(&[])], &defaults).as_deref(),
            Some("permessage-deflate; server_max_window_bits=12")
        );
        // A browser's offer.
        let browser = offer(&[("client_max_window_bits", None)]);
        let agreed = negotiate(std::slice::from_ref(&browser), &defaults).unwrap();
        assert_eq!(
            agreed.response,
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"
        );
        assert_eq!(
            agreed.params,
            Params {
                server_no_context_takeover: false,
                client_no_context_takeover: false,
                server_max_window_bits: 12,
                client_max_window_bits: 12,
            }
        );
        let everything = offer(&[
            ("client_max_window_bits", Some("10")),
            ("server_max_window_bits", Some("14")),
            ("client_no_context_takeover", None),
            ("server_no_context_takeover", None),
        ]);
        assert_eq!(
            answer(&[everything], &defaults).as_deref(),
            Some(
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                 server_max_window_bits=12; client_max_window_bits=10"
            )
        );
        let wide = DeflateOptions {
            window_bits: 15,
            no_context_takeover: true,
            ..defaults
        };
        let agreed = negotiate(&[offer(&[])], &wide).unwrap();
        assert_eq!(
            agreed.response,
            "permessage-deflate; server_no_context_takeover"
        );
        assert_eq!(agreed.params.server_max_window_bits, 15);
        assert_eq!(agreed.params.client_max_window_bits, 15);
        assert_eq!(
            answer(&[offer(&[("server_max_window_bits", Some("9"))])], &wide).as_deref(),
            Some("permessage-deflate; server_no_context_takeover; server_max_window_bits=9")
        );
    }

    #[test]
    fn server_declines_unusable_offers_and_tries_the_next() {
        let defaults = DeflateOptions::default();
        let declined: &[&[(&str, Option<&str>)]] = &[
            &[("x", None)],
            &[("server_no_context_takeover", Some("1"))],
            &[("client_no_context_takeover", Some("x"))],
            &[
                ("server_no_context_takeover", None),
                ("server_no_context_takeover", None),
            ],
            &[
                ("client_max_window_bits", None),
                ("client_max_window_bits", Some("9")),
            ],
            &[("server_max_window_bits", None)],
            &[("server_max_window_bits", Some("8"))],
            &[("server_max_window_bits", Some("16"))],
            &[("server_max_window_bits", Some("09"))],
            &[("server_max_window_bits", Some("+9"))],
            &[("client_max_window_bits", Some("7"))],
            &[("client_max_window_bits", Some("16"))],
            &[("client_max_window_bits", Some("010"))],
            &[("constructor", None)],
            &[("__proto__", Some("1"))],
        ];
        for params in declined {
            assert_eq!(answer(&[offer(params)], &defaults), None, "{params:?}");
            let fallback = [
                offer(params),
                offer(&[("client_max_window_bits", Some("8"))]),
            ];
            assert_eq!(
                answer(&fallback, &defaults).as_deref(),
                Some("permessage-deflate; server_max_window_bits=12; client_max_window_bits=8"),
                "{params:?}"
            );
        }
        let other = ("x-webkit-deflate-frame".to_owned(), Vec::new());
        assert_eq!(answer(&[other], &defaults), None);
        assert_eq!(answer(&[], &defaults), None);
    }

    #[test]
    fn client_offer_and_response() {
        let defaults = DeflateOptions::default();
        assert_eq!(
            client_offer(&defaults),
            "permessage-deflate; client_max_window_bits; server_max_window_bits=12"
        );
        let wide = DeflateOptions {
            window_bits: 15,
            no_context_takeover: true,
            ..defaults
        };
        assert_eq!(
            client_offer(&wide),
            "permessage-deflate; client_max_window_bits; client_no_context_takeover"
        );
        // Having offered client_no_context_takeover, we keep to it.
        let agreed = accept_response(&[offer(&[])], &wide).unwrap().unwrap();
        assert!(agreed.client_no_context_takeover);
        assert!(Deflate::client(agreed, &wide).compress_once);
        assert_eq!(accept_response(&[], &defaults), Ok(None));
        let params = accept_response(
            &[offer(&[
                ("server_max_window_bits", Some("12")),
                ("client_max_window_bits", Some("10")),
                ("server_no_context_takeover", None),
            ])],
            &defaults,
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            params,
            Params {
                server_no_context_takeover: true,
                client_no_context_takeover: false,
                server_max_window_bits: 12,
                client_max_window_bits: 10,
            }
        );
        let client = Deflate::client(params, &defaults);
        assert_eq!((client.compress_bits, client.inflate_bits), (10, 12));
        assert!(client.inflate_once && !client.compress_once);
        // The server may omit server_max_window_bits only when we did not
        // limit it: then it is 15, more than the 12 we asked for.
        assert_eq!(
            accept_response(&[offer(&[])], &defaults),
            Err(InvalidAnswer)
        );
        assert_eq!(
            accept_response(&[offer(&[])], &wide)
                .unwrap()
                .unwrap()
                .server_max_window_bits,
            15
        );
        for bad in [
            &[("server_max_window_bits", Some("13"))][..],
            &[("server_max_window_bits", Some("8"))],
            &[
                ("client_max_window_bits", None),
                ("server_max_window_bits", Some("12")),
            ],
            &[
                ("client_max_window_bits", Some("8")),
                ("server_max_window_bits", Some("12")),
            ],
            &[("x", None)],
        ] {
            assert_eq!(
                accept_response(&[offer(bad)], &defaults),
                Err(InvalidAnswer),
                "{bad:?}"
            );
        }
        let two = [
            offer(&[("server_max_window_bits", Some("12"))]),
            offer(&[("server_max_window_bits", Some("12"))]),
        ];
        assert_eq!(accept_response(&two, &defaults), Err(InvalidAnswer));
        let other = ("x-foo".to_owned(), Vec::new());
        assert_eq!(accept_response(&[other], &wide), Err(InvalidAnswer));
    }

    #[test]
    fn options_are_checked_in_order() {
        assert_eq!(
            DeflateOptions::new(-1, 99, 5, 6, false),
            Err(LocalError::NegativeThreshold)
        );
        assert_eq!(
            DeflateOptions::new(0, 8, 0, 6, false)
                .unwrap_err()
                .to_string(),
            "deflate_window_bits must be between 9 and 15"
        );
        assert_eq!(
            DeflateOptions::new(0, 9, 10, 6, false)
                .unwrap_err()
                .to_string(),
            "deflate_mem_level must be between 1 and 9"
        );
        assert_eq!(
            DeflateOptions::new(0, 9, 1, -1, false)
                .unwrap_err()
                .to_string(),
            "deflate_level must be between 0 and 9"
        );
        assert_eq!(
            DeflateOptions::new(128, 12, 5, 6, false),
            Ok(DeflateOptions::default())
        );
    }

    fn pair(no_context_takeover: bool) -> (Deflate, Deflate) {
        let options = DeflateOptions {
            threshold: 0,
            no_context_takeover,
            ..DeflateOptions::default()
        };
        let offers = [offer(&[("client_max_window_bits", None)])];
        let agreed = negotiate(&offers, &options).unwrap();
        let client = Deflate::client(agreed.params, &DeflateOptions::default());
        (Deflate::server(agreed.params, &options), client)
    }

    fn receive(
        receiver: &mut Deflate,
        wire: &[u8],
        budget: Option<u64>,
    ) -> Result<Vec<u8>, InflateError> {
        let mut out = Vec::new();
        let mut ok = |_: &[u8]| true;
        receiver.inflate(wire, &mut out, budget, &mut ok)?;
        let left = budget.map(|b| b - out.len() as u64);
        receiver.finish_message(&mut out, left, &mut ok)?;
        Ok(out)
    }

    #[test]
    fn messages_round_trip_with_and_without_context_takeover() {
        for no_context_takeover in [false, true] {
            let (mut server, mut client) = pair(no_context_takeover);
            let message = br#"{"event": "tick", "price": 1234.5, "symbol": "GYR"}"#.repeat(4);
            let mut sizes = Vec::new();
            for _ in 0..3 {
                let mut wire = Vec::new();
                assert!(server.compress(&message, &mut wire));
                sizes.push(wire.len());
                assert_eq!(receive(&mut client, &wire, None).unwrap(), message);
            }
            if no_context_takeover {
                assert!(sizes.iter().all(|s| *s == sizes[0]), "{sizes:?}");
                assert_eq!(server.heap_size(), 0);
                assert_eq!(client.heap_size(), 0);
            } else {
                assert!(sizes[1] < sizes[0] / 2, "{sizes:?}");
                assert!(server.heap_size() > 30_000);
            }
        }
    }

    #[test]
    fn inflating_stops_one_byte_past_the_budget() {
        let (mut server, mut client) = pair(false);
        let mut wire = Vec::new();
        assert!(server.compress(&vec![b'a'; 1 << 20], &mut wire));
        assert!(wire.len() < 2048);
        let mut out = Vec::new();
        let mut seen = 0;
        let mut count = |new: &[u8]| {
            seen += new.len();
            true
        };
        let result = client.inflate(&wire, &mut out, Some(1000), &mut count);
        assert_eq!(result, Err(InflateError::TooBig));
        assert_eq!(out.len(), 1001);
        assert_eq!(seen, 1000);
        // Exactly at the budget is fine.
        let (mut server, mut client) = pair(false);
        let mut wire = Vec::new();
        assert!(server.compress(&[b'b'; 1000], &mut wire));
        assert_eq!(receive(&mut client, &wire, Some(1000)).unwrap().len(), 1000);
    }

    #[test]
    fn corrupt_data_and_data_after_a_final_block() {
        let (_, mut client) = pair(false);
        assert_eq!(
            receive(&mut client, &[0xff, 0xff], None),
            Err(InflateError::Corrupt)
        );
        let (_, mut client) = pair(false);
        // A final fixed block holding "a" (BFINAL=1, BTYPE=01): 4b 04 00.
        assert_eq!(
            receive(&mut client, &[0x4b, 0x04, 0x00], None).unwrap(),
            b"a"
        );
        // The next message starts a new stream.
        assert_eq!(
            receive(&mut client, &[0x4b, 0x04, 0x00], None).unwrap(),
            b"a"
        );
        // Bytes after a final block are discarded, even bytes zlib would
        // reject, and the next message starts a new stream again.
        assert_eq!(
            receive(&mut client, &[0x4b, 0x04, 0x00, 0xff, 0xff], None).unwrap(),
            b"a"
        );
        // RFC 7692 §7.2.3.4, verbatim: "Hello" in a final block, then 0x00.
        let rfc = [0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
        assert_eq!(receive(&mut client, &rfc, None).unwrap(), b"Hello");
        // The trailing bytes may arrive in a later slice; nothing is read
        // from them (not even against the budget).
        let mut out = Vec::new();
        let mut ok = |_: &[u8]| true;
        assert_eq!(client.inflate(&rfc[..7], &mut out, Some(5), &mut ok), Ok(5));
        assert!(client.stream_ended());
        assert_eq!(
            client.inflate(&[0x00; 64], &mut out, Some(0), &mut ok),
            Ok(0)
        );
        assert_eq!(client.finish_message(&mut out, Some(0), &mut ok), Ok(0));
        assert!(!client.stream_ended());
        assert_eq!(out, b"Hello");
        assert_eq!(
            receive(&mut client, &[0x4b, 0x04, 0x00], None).unwrap(),
            b"a"
        );
    }

    #[test]
    fn decompressor_window_is_at_least_9_bits() {
        // A client answered client_max_window_bits=8 whose compressor uses
        // a 512-byte window anyway (zlib before 1.2.9 turned 8 into 9). The
        // second message refers back 300 bytes, past an 8-bit window, in a
        // later zlib call (zlib checks the window only across calls). The
        // peer here is a 15-bit zlib stream whose only long reference is
        // that one; zlib's own 9-bit streams reach back 250 bytes at most.
        let eight = Params {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 12,
            client_max_window_bits: 8,
        };
        let mut server = Deflate::server(eight, &DeflateOptions::default());
        assert_eq!(server.inflate_bits, 9);
        assert_eq!(server.params().client_max_window_bits, 8);
        let first = [noise(3, 20), vec![b'a'; 280]].concat();
        let second = noise(3, 20);
        let mut wires = Vec::new();
        let mut peer = Deflater::new(6, 15, 8).unwrap();
        for message in [&first, &second] {
            let mut wire = Vec::new();
            assert!(peer.compress_sync(message, &mut wire) && strip_tail(&mut wire, 0));
            wires.push(wire);
        }
        for (wire, message) in wires.iter().zip([&first, &second]) {
            assert_eq!(receive(&mut server, wire, None).unwrap(), *message);
        }
        // An 8-bit decompressor fails on the second message.
        let mut narrow = Inflater::new(8).unwrap();
        let mut out = Vec::new();
        assert!(narrow.inflate(&wires[0], &mut out, 4096).is_ok());
        assert!(narrow.inflate(&wires[1], &mut out, 4096).is_err());
    }

    #[test]
    fn zlib_faults_win_within_a_slice() {
        // Found by the `inflate` fuzz target: a fixed block whose first
        // literal is followed by corrupt codes. Whole, zlib reports the
        // corruption in the same call that produced the byte over the
        // budget, and a zlib fault wins within a slice (the contract's
        // order); byte by byte, the slice that produces the byte ends first.
        let payload = [&[0xfa][..], &[0; 72]].concat();
        let (_, mut whole) = pair(false);
        let mut out = Vec::new();
        let mut ok = |_: &[u8]| true;
        assert_eq!(
            whole.inflate(&payload, &mut out, Some(0), &mut ok),
            Err(InflateError::Corrupt)
        );
        let (_, mut trickled) = pair(false);
        let mut out = Vec::new();
        let result = payload
            .chunks(1)
            .try_for_each(|byte| trickled.inflate(byte, &mut out, Some(0), &mut ok).map(drop));
        assert_eq!(result, Err(InflateError::TooBig));
        assert_eq!(out.len(), 1);
        // Without a budget the outcome does not depend on the slicing.
        for slice in [1, payload.len()] {
            let (_, mut unlimited) = pair(false);
            let mut out = Vec::new();
            let result = payload
                .chunks(slice)
                .try_for_each(|piece| unlimited.inflate(piece, &mut out, None, &mut ok).map(drop));
            assert_eq!(result, Err(InflateError::Corrupt), "{slice}");
        }
    }

    /// Deterministic incompressible bytes (xorshift).
    fn noise(seed: u64, len: usize) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()[3]
            })
            .collect()
    }

    #[test]
    fn zlib_checks_the_window_between_calls_only() {
        // Found by the `inflate` fuzz target. A 15-bit stream that refers
        // 1,600 bytes back, inflated by a 9-bit decompressor: zlib lets a
        // reference reach into the output of the same call, so the message
        // inflates whole; fed byte by byte it fails ("invalid distance too
        // far back"). CPython's zlib, hence the twin, does the same.
        let a = noise(1, 600);
        let message = [a.clone(), noise(2, 1000), a].concat();
        let compression = Compression {
            window_bits: 15,
            mem_level: 8,
            level: 6,
        };
        let wire = compress_fresh(&message, compression).unwrap();
        let narrow = Params {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 9,
        };
        let mut whole = Deflate::server(narrow, &DeflateOptions::default());
        assert_eq!(receive(&mut whole, &wire, None).unwrap(), message);
        let mut trickled = Deflate::server(narrow, &DeflateOptions::default());
        let mut out = Vec::new();
        let mut ok = |_: &[u8]| true;
        let result = wire
            .chunks(1)
            .try_for_each(|byte| trickled.inflate(byte, &mut out, None, &mut ok).map(drop));
        assert_eq!(result, Err(InflateError::Corrupt));
    }

    #[test]
    fn the_check_sees_bytes_in_order_and_can_refuse() {
        let (mut server, mut client) = pair(false);
        let mut wire = Vec::new();
        assert!(server.compress(b"abc\xffdef", &mut wire));
        let mut out = Vec::new();
        let mut refuse_ff = |new: &[u8]| !new.contains(&0xff);
        assert_eq!(
            client.inflate(&wire, &mut out, None, &mut refuse_ff),
            Err(InflateError::Refused)
        );
    }

    #[test]
    fn prepared_frames() {
        let plain = prepare_frame(OpCode::Text, b"Hello", None).unwrap();
        assert_eq!(plain, b"\x81\x05Hello");
        let compression = Compression {
            window_bits: 9,
            mem_level: 1,
            level: 9,
        };
        let message = b"Hello, Hello, Hello".repeat(20);
        let frame = prepare_frame(OpCode::Binary, &message, Some(compression)).unwrap();
        assert_eq!(frame[0], 0xC2);
        let again = prepare_frame(OpCode::Binary, &message, Some(compression)).unwrap();
        assert_eq!(frame, again, "every prepared frame starts a fresh stream");
        let (_, mut client) = pair(false);
        let body = &frame[2..];
        assert_eq!(usize::from(frame[1]), body.len());
        assert_eq!(receive(&mut client, body, None).unwrap(), message);
        assert_eq!(receive(&mut client, body, None).unwrap(), message);
    }
}
