//! Close codes and Close frame payloads (RFC 6455 §5.5.1, §7.4).
//!
//! [`CloseCode`] names the registered codes; [`is_valid_wire_code`] says
//! which codes may travel in a Close frame, in either direction;
//! [`parse_close_payload`] decodes a received payload into `(code, reason)`
//! or the fault it shows; [`encode_close_payload`] builds one. A reason is
//! at most [`MAX_REASON_LEN`] UTF-8 bytes, so a Close payload fits in a
//! control frame.

use crate::error::ProtocolError;

/// Longest close reason, in UTF-8 bytes (125 minus the 2-byte code).
pub const MAX_REASON_LEN: usize = 123;

/// The close codes registered by RFC 6455 §7.4.1 and IANA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub enum CloseCode {
    /// 1000: the purpose of the connection was fulfilled.
    NormalClosure = 1000,
    /// 1001: an endpoint is going away (server shutdown, page navigation).
    GoingAway = 1001,
    /// 1002: the peer violated the protocol.
    ProtocolError = 1002,
    /// 1003: a data type the endpoint cannot accept.
    UnsupportedData = 1003,
    /// 1005: no code was present (never sent on the wire).
    NoStatusReceived = 1005,
    /// 1006: the connection dropped without a Close (never sent on the wire).
    AbnormalClosure = 1006,
    /// 1007: data inconsistent with the message type (invalid UTF-8).
    InvalidPayloadData = 1007,
    /// 1008: a policy was violated.
    PolicyViolation = 1008,
    /// 1009: a message is too big to process.
    MessageTooBig = 1009,
    /// 1010: the client expected an extension the server did not negotiate.
    MandatoryExtension = 1010,
    /// 1011: an unexpected condition on the server.
    InternalError = 1011,
    /// 1012: the service is restarting.
    ServiceRestart = 1012,
    /// 1013: try again later.
    TryAgainLater = 1013,
    /// 1014: a gateway received an invalid response.
    BadGateway = 1014,
    /// 1015: the TLS handshake failed (never sent on the wire).
    TlsHandshake = 1015,
}

/// Return True for a code allowed in a Close frame: 1000–1003, 1007–1014, 3000–4999.
#[must_use]
pub fn is_valid_wire_code(code: i64) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Decode a received Close payload into its code and reason.
///
/// An empty payload means 1005 with an empty reason (§7.1.5).
pub fn parse_close_payload(payload: &[u8]) -> Result<(u16, &str), ProtocolError> {
    match payload {
        [] => Ok((CloseCode::NoStatusReceived as u16, "")),
        [_] => Err(ProtocolError::CloseOneByte),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !is_valid_wire_code(i64::from(code)) {
                return Err(ProtocolError::InvalidCloseCode(code));
            }
            let reason = simdutf8::basic::from_utf8(reason)
                .map_err(|_| ProtocolError::InvalidCloseReason)?;
            Ok((code, reason))
        }
    }
}

/// Build a Close payload: the code, big-endian, then the reason; empty for 1005.
#[must_use]
pub fn encode_close_payload(code: u16, reason: &str) -> Vec<u8> {
    if code == CloseCode::NoStatusReceived as u16 {
        return Vec::new();
    }
    let mut payload = Vec::with_capacity(2 + reason.len());
    payload.extend_from_slice(&code.to_be_bytes());
    payload.extend_from_slice(reason.as_bytes());
    payload
}

/// Return the longest prefix of `reason` that fits in [`MAX_REASON_LEN`]
/// bytes and ends on a character boundary.
#[must_use]
pub fn truncate_reason(reason: &str) -> &str {
    if reason.len() <= MAX_REASON_LEN {
        return reason;
    }
    let mut end = MAX_REASON_LEN;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_codes() {
        for code in 0..6000 {
            let expected = (1000..=1003).contains(&code)
                || (1007..=1014).contains(&code)
                || (3000..=4999).contains(&code);
            assert_eq!(is_valid_wire_code(code), expected, "{code}");
        }
        assert!(!is_valid_wire_code(-1));
    }

    #[test]
    fn payloads() {
        assert_eq!(parse_close_payload(b""), Ok((1005, "")));
        assert_eq!(
            parse_close_payload(b"\x03"),
            Err(ProtocolError::CloseOneByte)
        );
        assert_eq!(parse_close_payload(b"\x03\xe8bye"), Ok((1000, "bye")));
        assert_eq!(
            parse_close_payload(b"\x03\xed"),
            Err(ProtocolError::InvalidCloseCode(1005))
        );
        assert_eq!(
            parse_close_payload(b"\x03\xe8\xff"),
            Err(ProtocolError::InvalidCloseReason)
        );
        assert_eq!(encode_close_payload(1000, "bye"), b"\x03\xe8bye");
        assert_eq!(encode_close_payload(1005, "ignored"), b"");
    }

    #[test]
    fn truncation_keeps_characters_whole() {
        let reason = "é".repeat(70);
        let cut = truncate_reason(&reason);
        assert_eq!(cut.len(), 122);
        assert_eq!(truncate_reason("short"), "short");
        let ascii = "a".repeat(200);
        assert_eq!(truncate_reason(&ascii).len(), 123);
    }
}
