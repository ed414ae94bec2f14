//! Incremental, fail-fast UTF-8 validation (RFC 3629, RFC 6455 §8.1).
//!
//! [`Utf8Validator::feed`] takes the next chunk of a byte stream and returns
//! False as soon as the bytes fed so far cannot be the prefix of valid UTF-8
//! (no overlong forms, no surrogates, nothing above U+10FFFF), so a TEXT
//! message fails at its first impossible byte, even inside a sequence split
//! across frames (Autobahn 6.4.x). [`Utf8Validator::finish`] then says whether
//! the stream ended on a character boundary. The bulk of each chunk goes to
//! `simdutf8`; only a sequence split across chunks (at most 3 bytes) is
//! carried over. Nothing here allocates.

use std::str;

/// Return True when `data` is entirely valid UTF-8 (no partial sequence at the end).
#[must_use]
pub fn validate_utf8(data: &[u8]) -> bool {
    simdutf8::basic::from_utf8(data).is_ok()
}

/// Return the length of the sequence a lead byte starts (1 for invalid ones).
fn sequence_len(lead: u8) -> usize {
    match lead {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 1,
    }
}

/// An incremental UTF-8 validator for a stream fed in chunks.
#[derive(Debug, Clone, Default)]
pub struct Utf8Validator {
    /// The bytes of a sequence cut by the end of the last chunk.
    partial: [u8; 4],
    /// How many bytes of `partial` are in use (0..=3).
    partial_len: u8,
    /// Whether an impossible byte was seen.
    failed: bool,
}

impl Utf8Validator {
    /// Return a validator at the start of a stream.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Feed the next chunk; return False once the stream cannot be valid.
    ///
    /// After False, every later call returns False until [`reset`](Self::reset).
    pub fn feed(&mut self, data: &[u8]) -> bool {
        if self.failed {
            return false;
        }
        let mut data = data;
        if self.partial_len > 0 {
            let have = usize::from(self.partial_len);
            let need = sequence_len(self.partial[0]).saturating_sub(have);
            let take = need.min(data.len());
            let mut seq = [0u8; 4];
            seq[..have].copy_from_slice(&self.partial[..have]);
            seq[have..have + take].copy_from_slice(&data[..take]);
            let seq = &seq[..have + take];
            match str::from_utf8(seq) {
                Ok(_) => self.partial_len = 0,
                Err(err) if err.error_len().is_none() => {
                    // Still a valid prefix, and the chunk is used up.
                    self.partial[..seq.len()].copy_from_slice(seq);
                    self.partial_len = seq.len() as u8;
                    return true;
                }
                Err(_) => return self.fail(),
            }
            data = &data[take..];
        }
        match simdutf8::compat::from_utf8(data) {
            Ok(_) => true,
            Err(err) if err.error_len().is_none() => {
                // `error_len() == None` means the tail is a valid prefix of a
                // sequence (the standard library's contract, which `compat`
                // keeps): carry it over to the next chunk.
                let tail = &data[err.valid_up_to()..];
                self.partial[..tail.len()].copy_from_slice(tail);
                self.partial_len = tail.len() as u8;
                true
            }
            Err(_) => self.fail(),
        }
    }

    fn fail(&mut self) -> bool {
        self.failed = true;
        self.partial_len = 0;
        false
    }

    /// Return True when everything fed is complete, valid UTF-8.
    #[must_use]
    pub fn finish(&self) -> bool {
        !self.failed && self.partial_len == 0
    }

    /// Start over, as if nothing had been fed.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Return True once an impossible byte was seen.
    #[must_use]
    pub fn failed(&self) -> bool {
        self.failed
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn feed_split(data: &[u8], split: usize) -> (bool, bool) {
        let mut v = Utf8Validator::new();
        let a = v.feed(&data[..split]);
        let b = v.feed(&data[split..]);
        (a && b, v.finish())
    }

    #[test]
    fn valid_text_at_every_split() {
        let text = "κόσμε 𝄞 € aé".as_bytes();
        for split in 0..=text.len() {
            assert_eq!(feed_split(text, split), (true, true), "split {split}");
        }
        let mut v = Utf8Validator::new();
        for byte in text {
            assert!(v.feed(std::slice::from_ref(byte)));
        }
        assert!(v.finish());
    }

    #[test]
    fn fails_at_the_first_impossible_byte() {
        // Overlong, surrogate, above U+10FFFF, stray continuation, bad lead.
        for (bytes, fail_at) in [
            (&[0xC0u8, 0x80][..], 0usize),
            (&[0xE0, 0x80, 0x80], 1),
            (&[0xED, 0xA0, 0x80], 1),
            (&[0xF4, 0x90, 0x80, 0x80], 1),
            (&[0x80], 0),
            (&[0xF5], 0),
            (
                &[
                    0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0,
                    0x80,
                ],
                12,
            ),
        ] {
            let mut v = Utf8Validator::new();
            for (i, byte) in bytes.iter().enumerate() {
                let ok = v.feed(std::slice::from_ref(byte));
                assert_eq!(ok, i < fail_at, "{bytes:x?} at {i}");
            }
            assert!(!v.finish());
            assert!(v.failed());
        }
    }

    #[test]
    fn incomplete_end_is_not_finished() {
        let mut v = Utf8Validator::new();
        assert!(v.feed(&[0x61, 0xF0, 0x9D]));
        assert!(!v.finish());
        assert!(v.feed(&[0x84, 0x9E]));
        assert!(v.finish());
        v.reset();
        assert!(v.finish());
    }

    #[test]
    fn differential_against_std_on_short_inputs() {
        // Every 1- and 2-byte input and a sample of 3-byte ones.
        let mut inputs: Vec<Vec<u8>> = Vec::new();
        for a in 0..=255u8 {
            inputs.push(vec![a]);
            for b in 0..=255u8 {
                inputs.push(vec![a, b]);
                if b % 7 == 0 {
                    inputs.push(vec![a, b, 0x80]);
                    inputs.push(vec![0xF0, a, b]);
                }
            }
        }
        for input in inputs {
            let valid = str::from_utf8(&input).is_ok();
            let prefix_ok = match str::from_utf8(&input) {
                Ok(_) => true,
                Err(err) => err.error_len().is_none(),
            };
            assert_eq!(validate_utf8(&input), valid);
            for split in 0..=input.len() {
                let (ok, done) = feed_split(&input, split);
                assert_eq!(ok, prefix_ok, "{input:x?} split {split}");
                assert_eq!(done, valid, "{input:x?} split {split}");
            }
        }
    }
}
