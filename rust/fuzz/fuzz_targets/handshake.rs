//! The HTTP head parser and request checks.
//!
//! Differential against itself: a head fed whole and fed in pieces (the
//! first byte picks the piece size) must give the same outcome, so the
//! incremental parser keeps no state that depends on how bytes arrive.
#![no_main]

use _native::handshake::{
    parse_extensions, percent_decode, split_target, validate_request, HeadKind, HeadLimits,
    HeadParser,
};
use libfuzzer_sys::fuzz_target;

const LIMITS: HeadLimits = HeadLimits {
    max_first_line: 256,
    max_header_line: 256,
    max_headers: 16,
};

fn outcome(kind: HeadKind, data: &[u8], chunk: usize) -> (Result<Option<usize>, String>, Vec<u8>) {
    let mut parser = HeadParser::new(kind, LIMITS);
    let mut offset = 0;
    for piece in data.chunks(chunk) {
        match parser.feed(piece) {
            Ok(None) => offset += piece.len(),
            Ok(Some(used)) => {
                let head = parser.head();
                let mut summary = head.first_line.to_vec();
                for (name, value) in &head.headers {
                    summary.extend_from_slice(name);
                    summary.push(0);
                    summary.extend_from_slice(value);
                }
                return (Ok(Some(offset + used)), summary);
            }
            Err(err) => return (Err(format!("{err:?}")), Vec::new()),
        }
    }
    (Ok(None), Vec::new())
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let kind = if control & 1 == 0 {
        HeadKind::Request
    } else {
        HeadKind::Response
    };
    let whole = outcome(kind, rest, rest.len().max(1));
    let pieces = outcome(kind, rest, usize::from(control >> 1) + 1);
    assert_eq!(whole, pieces);
    let mut parser = HeadParser::new(HeadKind::Request, LIMITS);
    if let Ok(Some(_)) = parser.feed(rest) {
        let head = parser.head();
        let _ = validate_request(b"GET", true, &head.headers);
        let (path, _) = split_target(head.first_line);
        let _ = percent_decode(path);
    }
    let _ = parse_extensions(rest, &mut Vec::new());
});
