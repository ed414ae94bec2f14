//! The HTTP head parser, request checks and extension negotiation.
//!
//! Differential against itself: a head fed whole and fed in pieces (the
//! first byte picks the piece size) must give the same outcome, so the
//! incremental parser keeps no state that depends on how bytes arrive.
//! Extension offers (from a parsed request, or the raw input read as one
//! `Sec-WebSocket-Extensions` value) go through the server's
//! permessage-deflate negotiation and the client's response check: no
//! panic, and an accepted offer's response parses back as one
//! `permessage-deflate` element that our own client accepts when its
//! windows are ones a client can be asked for.
#![no_main]

use _native::deflate::{accept_response, negotiate, DeflateOptions, EXTENSION};
use _native::handshake::{
    parse_extensions, percent_decode, split_target, validate_request, ExtensionOffer, HeadKind,
    HeadLimits, HeadParser,
};
use libfuzzer_sys::fuzz_target;

fn negotiate_all(offers: &[ExtensionOffer], control: u8) {
    let options = DeflateOptions {
        window_bits: 9 + (control % 7),
        no_context_takeover: control & 0x80 != 0,
        ..DeflateOptions::default()
    };
    for offered in [offers, &offers[..offers.len().min(1)]] {
        let _ = accept_response(offered, &options);
        let Some(agreement) = negotiate(offered, &options) else {
            continue;
        };
        let mut parsed = Vec::new();
        assert!(parse_extensions(agreement.response.as_bytes(), &mut parsed).is_some());
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].0, EXTENSION);
        let params = agreement.params;
        assert!((9..=options.window_bits).contains(&params.server_max_window_bits));
        // A client that asked for our window and allows any of its own.
        let client = DeflateOptions {
            window_bits: params.server_max_window_bits,
            ..DeflateOptions::default()
        };
        let answer = accept_response(&parsed, &client);
        if params.client_max_window_bits >= 9 && params.server_max_window_bits < 15 {
            let agreed = answer.unwrap().unwrap();
            assert_eq!(agreed.server_max_window_bits, params.server_max_window_bits);
            assert_eq!(agreed.client_max_window_bits, params.client_max_window_bits);
        }
    }
}

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
        if let Ok(info) = validate_request(b"GET", true, &head.headers) {
            negotiate_all(&info.extensions, control);
        }
        let (path, _) = split_target(head.first_line);
        let _ = percent_decode(path);
    }
    let mut offers = Vec::new();
    if parse_extensions(rest, &mut offers).is_some() {
        negotiate_all(&offers, control);
    }
});
