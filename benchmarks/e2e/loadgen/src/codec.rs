//! The client side of RFC 6455, as little of it as a load client needs.
//!
//! Input: bytes read from a server. Output: frame boundaries (opcode, FIN,
//! length), never the payloads: the decoder skips payload bytes as they
//! arrive and keeps only the 2–14 header bytes, so a 1 MiB echo costs the
//! client one pass over the socket and no copy. The opening handshake uses
//! the RFC 6455 §1.3 sample key, whose accept value is a constant, so no
//! SHA-1 is needed. Frames we send are masked with a per-connection key.

use std::io::{self, Read, Write};
use std::net::TcpStream;

/// RFC 6455 §1.3: the sample nonce and the `Sec-WebSocket-Accept` it yields.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
/// Longest response head we accept before giving up.
const MAX_HEAD: usize = 16 * 1024;

/// Opcode of a TEXT frame.
pub const TEXT: u8 = 0x1;
/// Opcode of a Close frame.
pub const CLOSE: u8 = 0x8;
/// Opcode of a Ping frame.
pub const PING: u8 = 0x9;

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Run the opening handshake on a connected, blocking stream.
///
/// Returns the bytes that followed the response head in the last read (the
/// first frames, if the server was quick). Fails unless the server answers
/// `101` with the expected `Sec-WebSocket-Accept`.
pub fn handshake(stream: &mut TcpStream, host: &str, path: &str) -> io::Result<Vec<u8>> {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n"
    );
    stream.write_all(request.as_bytes())?;
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(invalid("server closed during the handshake".into()));
        }
        head.extend_from_slice(&chunk[..n]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = head.split_off(end + 4);
            let text = String::from_utf8_lossy(&head);
            if !text.starts_with("HTTP/1.1 101") {
                return Err(invalid(format!("handshake refused: {text}")));
            }
            let accepted = text.lines().any(|line| {
                let (name, value) = line.split_once(':').unwrap_or(("", ""));
                name.eq_ignore_ascii_case("sec-websocket-accept") && value.trim() == ACCEPT
            });
            if !accepted {
                return Err(invalid(format!("wrong Sec-WebSocket-Accept: {text}")));
            }
            return Ok(rest);
        }
        if head.len() > MAX_HEAD {
            return Err(invalid("handshake response too long".into()));
        }
    }
}

/// Encode one masked client frame with FIN set.
#[must_use]
pub fn encode(opcode: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let len = payload.len();
    let mut frame = Vec::with_capacity(len + 14);
    frame.push(0x80 | opcode);
    if len < 126 {
        frame.push(0x80 | len as u8);
    } else if len <= 0xFFFF {
        frame.push(0x80 | 0x7E);
        frame.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        frame.push(0x80 | 0x7F);
        frame.extend_from_slice(&(len as u64).to_be_bytes());
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i & 3]));
    frame
}

/// A Close frame with code 1000 and no reason.
#[must_use]
pub fn close_frame(mask: [u8; 4]) -> Vec<u8> {
    encode(CLOSE, &1000u16.to_be_bytes(), mask)
}

/// The end of one frame from the server.
#[derive(Clone, Copy, Debug)]
pub struct FrameEnd {
    /// The opcode of the message (a continuation reports its first frame's).
    pub opcode: u8,
    /// Whether this frame completed a message (or is a control frame).
    pub fin: bool,
    /// The frame's payload length.
    #[cfg_attr(not(test), allow(dead_code))]
    pub len: u64,
    /// The message's payload length so far, this frame included.
    pub message_len: u64,
}

/// Incremental decoder of unmasked server frames that skips payloads.
#[derive(Default)]
pub struct Decoder {
    header: [u8; 14],
    have: usize,
    remaining: u64,
    in_payload: bool,
    current: Option<FrameEnd>,
    message_opcode: u8,
    message_len: u64,
}

impl Decoder {
    /// Feed bytes; call `on_frame` at the end of every frame.
    ///
    /// Returns an error for a masked frame or a reserved length form; a
    /// frame split across calls is reported by the call that completes it.
    pub fn feed(&mut self, mut data: &[u8], mut on_frame: impl FnMut(FrameEnd)) -> io::Result<()> {
        while !data.is_empty() {
            if self.in_payload {
                let take = self.remaining.min(data.len() as u64);
                self.remaining -= take;
                data = &data[take as usize..];
                if self.remaining == 0 {
                    self.finish(&mut on_frame);
                }
                continue;
            }
            self.header[self.have] = data[0];
            self.have += 1;
            data = &data[1..];
            if self.have < 2 {
                continue;
            }
            if self.header[1] & 0x80 != 0 {
                return Err(invalid("server sent a masked frame".into()));
            }
            let need = match self.header[1] & 0x7F {
                126 => 4,
                127 => 10,
                _ => 2,
            };
            if self.have < need {
                continue;
            }
            let len = match need {
                4 => u64::from(u16::from_be_bytes([self.header[2], self.header[3]])),
                10 => {
                    let mut bytes = [0u8; 8];
                    bytes.copy_from_slice(&self.header[2..10]);
                    u64::from_be_bytes(bytes)
                }
                _ => u64::from(self.header[1] & 0x7F),
            };
            let fin = self.header[0] & 0x80 != 0;
            let mut opcode = self.header[0] & 0x0F;
            let message_len = if opcode == 0 {
                opcode = self.message_opcode;
                self.message_len += len;
                self.message_len
            } else if opcode < 8 {
                self.message_opcode = opcode;
                self.message_len = len;
                len
            } else {
                len
            };
            self.current = Some(FrameEnd {
                opcode,
                fin,
                len,
                message_len,
            });
            self.have = 0;
            self.remaining = len;
            self.in_payload = true;
            if len == 0 {
                self.finish(&mut on_frame);
            }
        }
        Ok(())
    }

    fn finish(&mut self, on_frame: &mut impl FnMut(FrameEnd)) {
        self.in_payload = false;
        if let Some(end) = self.current.take() {
            on_frame(end);
        }
    }
}

/// Count the complete data messages in `data`; fail on a Close or Ping.
///
/// Every message must be `size` bytes long. The benchmark servers run
/// without keepalive, so a control frame means the server gave up on the
/// connection (or the run is misconfigured).
pub fn count_messages(decoder: &mut Decoder, data: &[u8], size: u64) -> io::Result<u64> {
    let mut messages = 0;
    let mut unexpected = None;
    let mut wrong_size = None;
    decoder.feed(data, |end| {
        if end.opcode >= CLOSE {
            unexpected.get_or_insert(end.opcode);
        } else if end.fin {
            messages += 1;
            if end.message_len != size {
                wrong_size.get_or_insert(end.message_len);
            }
        }
    })?;
    if let Some(len) = wrong_size {
        return Err(invalid(format!(
            "received a {len}-byte message, expected {size}"
        )));
    }
    match unexpected {
        Some(CLOSE) => Err(invalid("server closed the connection".into())),
        Some(PING) => Err(invalid("server sent a ping (turn keepalive off)".into())),
        Some(opcode) => Err(invalid(format!("unexpected control frame {opcode:#x}"))),
        None => Ok(messages),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_split_frames_of_every_length_form() {
        let mut stream = Vec::new();
        for len in [0usize, 5, 125, 126, 65535, 65536, 200_000] {
            stream.push(0x82);
            if len < 126 {
                stream.push(len as u8);
            } else if len <= 0xFFFF {
                stream.push(126);
                stream.extend_from_slice(&(len as u16).to_be_bytes());
            } else {
                stream.push(127);
                stream.extend_from_slice(&(len as u64).to_be_bytes());
            }
            stream.extend(std::iter::repeat_n(b'x', len));
        }
        for chunk in [1, 3, 7, 4096, stream.len()] {
            let mut decoder = Decoder::default();
            let mut lens = Vec::new();
            for piece in stream.chunks(chunk) {
                decoder.feed(piece, |end| lens.push(end.len)).unwrap();
            }
            assert_eq!(lens, [0, 5, 125, 126, 65535, 65536, 200_000]);
        }
    }

    #[test]
    fn masks_like_rfc_6455_section_5_7() {
        let frame = encode(TEXT, b"Hello", [0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(
            frame,
            [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        );
    }

    #[test]
    fn counts_fragmented_messages_once() {
        let mut decoder = Decoder::default();
        let data = [
            0x01, 0x03, b'H', b'e', b'l', 0x80, 0x02, b'l', b'o', 0x81, 0x00,
        ];
        assert_eq!(count_messages(&mut decoder, &data[..9], 5).unwrap(), 1);
        assert!(
            count_messages(&mut decoder, &data[9..], 5).is_err(),
            "0-byte message"
        );
        assert!(count_messages(&mut decoder, &[0x88, 0x00], 0).is_err());
    }
}
