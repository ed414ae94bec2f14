//! Frame header parsing: never panics, and a header that passes the checks
//! re-encodes to the same bytes (minimal lengths are the only lengths),
//! also with permessage-deflate's RSV1.
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
        // With permessage-deflate, RSV1 is allowed on TEXT/BINARY only.
        if let Ok(opcode) = header.check_with(server, true) {
            assert!(header.rsv == 0 || (header.rsv == 0b100 && matches!(header.opcode, 1 | 2)));
            let mut out = Vec::new();
            let len = usize::try_from(header.payload_len).unwrap();
            let rsv1 = header.rsv != 0;
            encode_header(&mut out, header.fin, rsv1, opcode as u8, header.mask, len);
            assert_eq!(&out[..], &data[..used]);
        }
    }
});
