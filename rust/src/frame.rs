//! The frame codec of RFC 6455 §5.2: opcodes, header parsing and encoding.
//!
//! [`parse_header`] decodes a frame header from the front of a buffer and
//! returns `Ok(None)` when the buffer is too short, consuming nothing; it
//! never looks at the payload and never allocates. [`FrameHeader::check`]
//! applies the rules that depend only on the header and the role, in the
//! contract's order. [`encode_header`] and [`encode_frame`] write frames with
//! the minimal length encoding. Nothing here panics, whatever the input.

use crate::error::{LocalError, ProtocolError};
use crate::mask;

/// The longest frame header: 2 bytes, an 8-byte length and a 4-byte mask.
pub const MAX_HEADER_LEN: usize = 14;

/// Largest payload of a control frame (§5.5).
pub const MAX_CONTROL_PAYLOAD: usize = 125;

/// A frame opcode defined by RFC 6455 §5.2 (reserved opcodes are not members).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum OpCode {
    /// A continuation of a fragmented message.
    Continuation = 0x0,
    /// The first frame of a TEXT message.
    Text = 0x1,
    /// The first frame of a BINARY message.
    Binary = 0x2,
    /// A Close control frame.
    Close = 0x8,
    /// A Ping control frame.
    Ping = 0x9,
    /// A Pong control frame.
    Pong = 0xA,
}

impl OpCode {
    /// Return the opcode for a 4-bit value, or `None` for a reserved one.
    #[must_use]
    pub fn from_u8(value: u8) -> Option<Self> {
        match value {
            0x0 => Some(Self::Continuation),
            0x1 => Some(Self::Text),
            0x2 => Some(Self::Binary),
            0x8 => Some(Self::Close),
            0x9 => Some(Self::Ping),
            0xA => Some(Self::Pong),
            _ => None,
        }
    }

    /// Return True for Close, Ping and Pong (opcodes 8 and up).
    #[must_use]
    pub fn is_control(self) -> bool {
        (self as u8) & 0x8 != 0
    }
}

/// A decoded frame header, before any rule is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// The FIN bit.
    pub fin: bool,
    /// RSV1, RSV2 and RSV3 as the low three bits (RSV1 = 0b100).
    pub rsv: u8,
    /// The 4-bit opcode as sent (reserved values included).
    pub opcode: u8,
    /// The masking key, when the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// The 7-bit length field as sent: 0..=125, or 126 / 127 for the
    /// extended forms.
    pub length_form: u8,
    /// The payload length, decoded from whichever form was used.
    pub payload_len: u64,
}

/// Return the total header length announced by the first two header bytes.
#[must_use]
pub fn header_len(second_byte: u8) -> usize {
    let extended = match second_byte & 0x7F {
        126 => 2,
        127 => 8,
        _ => 0,
    };
    let mask = if second_byte & 0x80 != 0 { 4 } else { 0 };
    2 + extended + mask
}

/// Decode the frame header at the front of `buf`.
///
/// Returns `Ok(None)` when `buf` does not hold the whole header yet (nothing
/// is consumed; call again with more bytes), or the header and its length in
/// bytes. Rules are not checked here: see [`FrameHeader::check`].
#[must_use]
pub fn parse_header(buf: &[u8]) -> Option<(FrameHeader, usize)> {
    let [b0, b1, ..] = *buf else {
        return None;
    };
    let len = header_len(b1);
    let header = buf.get(..len)?;
    let length_form = b1 & 0x7F;
    let (payload_len, rest) = match length_form {
        126 => {
            let (bytes, rest) = header[2..].split_first_chunk::<2>()?;
            (u64::from(u16::from_be_bytes(*bytes)), rest)
        }
        127 => {
            let (bytes, rest) = header[2..].split_first_chunk::<8>()?;
            (u64::from_be_bytes(*bytes), rest)
        }
        short => (u64::from(short), &header[2..]),
    };
    let mask = if b1 & 0x80 != 0 {
        Some(*rest.first_chunk::<4>()?)
    } else {
        None
    };
    let header = FrameHeader {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 0x7,
        opcode: b0 & 0x0F,
        mask,
        length_form,
        payload_len,
    };
    Some((header, len))
}

impl FrameHeader {
    /// Check the rules that need only the header and the receiving role.
    ///
    /// In the contract's order: reserved bits, reserved opcode, masking (a
    /// server requires masked frames, a client unmasked ones), the 64-bit
    /// length's top bit, minimal length encoding, then the control-frame
    /// rules (§5.5). Returns the opcode on success.
    pub fn check(&self, server: bool) -> Result<OpCode, ProtocolError> {
        self.check_with(server, false)
    }

    /// Check the header as [`check`](Self::check) does, with an extension's RSV1.
    ///
    /// With `rsv1_data` (permessage-deflate was negotiated, RFC 7692 §6) RSV1
    /// may be set on a TEXT or BINARY frame, which starts a compressed
    /// message; anywhere else (continuation and control frames) it is still
    /// the reserved-bits fault, as are RSV2 and RSV3 always.
    pub fn check_with(&self, server: bool, rsv1_data: bool) -> Result<OpCode, ProtocolError> {
        let rsv1_allowed = rsv1_data && matches!(self.opcode, 0x1 | 0x2);
        let rsv = if rsv1_allowed {
            self.rsv & 0b011
        } else {
            self.rsv
        };
        if rsv != 0 {
            return Err(ProtocolError::ReservedBits);
        }
        let opcode =
            OpCode::from_u8(self.opcode).ok_or(ProtocolError::ReservedOpcode(self.opcode))?;
        match (server, self.mask.is_some()) {
            (true, false) => return Err(ProtocolError::UnmaskedFrame),
            (false, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }
        // RFC 6455 §5.2: the most significant bit of a 64-bit length MUST be 0.
        if self.length_form == 127 && self.payload_len >> 63 != 0 {
            return Err(ProtocolError::InvalidLength);
        }
        // RFC 6455 §5.2: the minimal number of bytes MUST be used.
        let minimal = match self.length_form {
            126 => self.payload_len >= 126,
            127 => self.payload_len > 0xFFFF,
            _ => true,
        };
        if !minimal {
            return Err(ProtocolError::NonMinimalLength);
        }
        if opcode.is_control() {
            // RFC 6455 §5.5: control frames carry at most 125 bytes and are
            // never fragmented.
            if self.payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(ProtocolError::ControlFrameTooLong);
            }
            if !self.fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
        }
        Ok(opcode)
    }
}

/// Append a frame header with the minimal length encoding to `out`.
///
/// `opcode` is the 4-bit value; `rsv1` sets the RSV1 bit; `mask`, when
/// given, sets the MASK bit and is written after the length.
pub fn encode_header(
    out: &mut Vec<u8>,
    fin: bool,
    rsv1: bool,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload_len: usize,
) {
    let b0 = (u8::from(fin) << 7) | (u8::from(rsv1) << 6) | (opcode & 0x0F);
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    out.push(b0);
    if payload_len < 126 {
        out.push(mask_bit | payload_len as u8);
    } else if let Ok(short) = u16::try_from(payload_len) {
        out.push(mask_bit | 0x7E);
        out.extend_from_slice(&short.to_be_bytes());
    } else {
        out.push(mask_bit | 0x7F);
        out.extend_from_slice(&(payload_len as u64).to_be_bytes());
    }
    if let Some(key) = mask {
        out.extend_from_slice(&key);
    }
}

/// Return the header length [`encode_header`] writes for these arguments.
#[must_use]
pub fn encoded_header_len(masked: bool, payload_len: usize) -> usize {
    let extended = if payload_len < 126 {
        0
    } else if payload_len <= 0xFFFF {
        2
    } else {
        8
    };
    2 + extended + if masked { 4 } else { 0 }
}

/// Check the arguments of a frame to build: opcode range and control rules.
pub fn check_frame_args(opcode: i64, payload_len: usize, fin: bool) -> Result<u8, LocalError> {
    let opcode = u8::try_from(opcode)
        .ok()
        .filter(|op| *op <= 0x0F)
        .ok_or(LocalError::InvalidOpcode(opcode))?;
    if opcode & 0x8 != 0 {
        if payload_len > MAX_CONTROL_PAYLOAD {
            return Err(LocalError::ControlPayloadTooLong);
        }
        if !fin {
            return Err(LocalError::FragmentedControl);
        }
    }
    Ok(opcode)
}

/// Build one whole frame (the module-level `encode_frame()` of the contract).
///
/// Any 4-bit opcode is accepted (reserved ones too, for tests); control
/// frames (opcode 8 and up) must have `fin` set and at most 125 bytes. The
/// payload is masked when `mask` is given.
pub fn encode_frame(
    opcode: i64,
    payload: &[u8],
    fin: bool,
    rsv1: bool,
    mask: Option<[u8; 4]>,
) -> Result<Vec<u8>, LocalError> {
    let opcode = check_frame_args(opcode, payload.len(), fin)?;
    let mut out =
        Vec::with_capacity(encoded_header_len(mask.is_some(), payload.len()) + payload.len());
    encode_header(&mut out, fin, rsv1, opcode, mask, payload.len());
    match mask {
        Some(key) => {
            mask::mask_extend(&mut out, payload, key, 0);
        }
        None => out.extend_from_slice(payload),
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> FrameHeader {
        parse_header(bytes).unwrap().0
    }

    #[test]
    fn rfc_examples_parse() {
        // RFC 6455 §5.7: a single-frame unmasked text message.
        let (h, n) = parse_header(&[0x81, 0x05, b'H']).unwrap();
        assert_eq!(n, 2);
        assert!(h.fin);
        assert_eq!(h.opcode, 1);
        assert_eq!(h.payload_len, 5);
        assert_eq!(h.check(false), Ok(OpCode::Text));
        assert_eq!(h.check(true), Err(ProtocolError::UnmaskedFrame));
        // RFC 6455 §5.7: a masked one.
        let h = parse(&[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(h.mask, Some([0x37, 0xfa, 0x21, 0x3d]));
        assert_eq!(h.check(true), Ok(OpCode::Text));
        assert_eq!(h.check(false), Err(ProtocolError::MaskedFrame));
        // 256 bytes and 64 KiB length forms.
        assert_eq!(parse(&[0x82, 0x7E, 0x01, 0x00]).payload_len, 256);
        assert_eq!(
            parse(&[0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]).payload_len,
            65536
        );
    }

    #[test]
    fn incomplete_headers_consume_nothing() {
        let full = [0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4];
        for cut in 0..full.len() {
            assert!(parse_header(&full[..cut]).is_none(), "cut {cut}");
        }
        assert_eq!(parse_header(&full).map(|(_, n)| n), Some(14));
    }

    #[test]
    fn check_order_and_rules() {
        assert_eq!(
            parse(&[0xC1, 0x80, 0, 0, 0, 0]).check(true),
            Err(ProtocolError::ReservedBits)
        );
        assert_eq!(
            parse(&[0x83, 0x80, 0, 0, 0, 0]).check(true),
            Err(ProtocolError::ReservedOpcode(3))
        );
        assert_eq!(
            parse(&[0x8F, 0x00]).check(true),
            Err(ProtocolError::ReservedOpcode(15))
        );
        assert_eq!(
            parse(&[0x82, 0x7F, 0x80, 0, 0, 0, 0, 0, 0, 0]).check(false),
            Err(ProtocolError::InvalidLength)
        );
        assert_eq!(
            parse(&[0x82, 0x7E, 0, 125]).check(false),
            Err(ProtocolError::NonMinimalLength)
        );
        assert_eq!(
            parse(&[0x82, 0x7E, 0, 126]).check(false),
            Ok(OpCode::Binary)
        );
        assert_eq!(
            parse(&[0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]).check(false),
            Err(ProtocolError::NonMinimalLength)
        );
        assert_eq!(
            parse(&[0x89, 0x7E, 0, 126]).check(false),
            Err(ProtocolError::ControlFrameTooLong)
        );
        assert_eq!(
            parse(&[0x09, 0x00]).check(false),
            Err(ProtocolError::FragmentedControlFrame)
        );
        assert_eq!(parse(&[0x89, 125]).check(false), Ok(OpCode::Ping));
    }

    #[test]
    fn rsv1_with_permessage_deflate() {
        // RFC 7692 §6: RSV1 marks the first frame of a compressed message.
        assert_eq!(
            parse(&[0xC1, 0x00]).check_with(false, true),
            Ok(OpCode::Text)
        );
        assert_eq!(
            parse(&[0x42, 0x00]).check_with(false, true),
            Ok(OpCode::Binary)
        );
        assert_eq!(
            parse(&[0xC1, 0x00]).check_with(false, false),
            Err(ProtocolError::ReservedBits)
        );
        for first in [0xC0, 0xC9, 0xCA, 0xC8, 0xC3] {
            assert_eq!(
                parse(&[first, 0x00]).check_with(false, true),
                Err(ProtocolError::ReservedBits),
                "{first:#x}"
            );
        }
        // RSV2 and RSV3 stay reserved.
        assert_eq!(
            parse(&[0xE1, 0x00]).check_with(false, true),
            Err(ProtocolError::ReservedBits)
        );
        assert_eq!(
            parse(&[0x91, 0x00]).check_with(false, true),
            Err(ProtocolError::ReservedBits)
        );
    }

    #[test]
    fn encode_minimal_lengths() {
        for (len, header) in [
            (0usize, 2usize),
            (125, 2),
            (126, 4),
            (0xFFFF, 4),
            (0x1_0000, 10),
        ] {
            let payload = vec![0u8; len];
            let frame = encode_frame(2, &payload, true, false, None).unwrap();
            assert_eq!(frame.len(), header + len);
            assert_eq!(encoded_header_len(false, len), header);
            let (h, n) = parse_header(&frame).unwrap();
            assert_eq!(n, header);
            assert_eq!(h.payload_len, len as u64);
            assert_eq!(h.check(false), Ok(OpCode::Binary));
        }
    }

    #[test]
    fn encode_masked_hello() {
        let frame = encode_frame(1, b"Hello", true, false, Some([0x37, 0xfa, 0x21, 0x3d]));
        assert_eq!(
            frame,
            Ok(vec![
                0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
            ])
        );
    }

    #[test]
    fn encode_rejects_bad_arguments() {
        assert_eq!(
            encode_frame(16, b"", true, false, None),
            Err(LocalError::InvalidOpcode(16))
        );
        assert_eq!(
            encode_frame(-1, b"", true, false, None),
            Err(LocalError::InvalidOpcode(-1))
        );
        assert_eq!(
            encode_frame(9, &[0; 126], true, false, None),
            Err(LocalError::ControlPayloadTooLong)
        );
        assert_eq!(
            encode_frame(9, b"", false, false, None),
            Err(LocalError::FragmentedControl)
        );
        assert_eq!(
            encode_frame(3, b"", false, true, None),
            Ok(vec![0x43, 0x00])
        );
    }
}
