//! Frame header parsing: never panics, and a header that passes the checks
//! re-encodes to the same bytes (minimal lengths are the only lengths).
#![no_main]

use _native::frame::{encode_header, parse_header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((header, used)) = parse_header(data) else {
        // Incomplete: no prefix may parse either.
        for cut in 0..data.len() {
            assert!(parse_header(&data[..cut]).is_none());
        }
        return;
    };
    assert!((2..=14).contains(&used));
    assert!(parse_header(&data[..used - 1]).is_none());
    for server in [true, false] {
        if let Ok(opcode) = header.check(server) {
            let mut out = Vec::new();
            let len = usize::try_from(header.payload_len).unwrap();
            encode_header(&mut out, header.fin, false, opcode as u8, header.mask, len);
            assert_eq!(&out[..], &data[..used]);
        }
    }
});
