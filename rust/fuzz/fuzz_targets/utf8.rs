//! The incremental UTF-8 validator, differential against `std::str::from_utf8`.
//!
//! Fed in pieces (the first byte picks the piece size), `feed()` must say
//! False exactly when the prefix received so far cannot be completed, and
//! `finish()` must agree with the standard library on the whole input.
#![no_main]

use _native::utf8::{validate_utf8, Utf8Validator};
use libfuzzer_sys::fuzz_target;

fn prefix_ok(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(err) => err.error_len().is_none(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let valid = std::str::from_utf8(rest).is_ok();
    assert_eq!(validate_utf8(rest), valid);
    let mut validator = Utf8Validator::new();
    let mut fed = 0;
    for piece in rest.chunks(usize::from(control) + 1) {
        fed += piece.len();
        assert_eq!(validator.feed(piece), prefix_ok(&rest[..fed]));
    }
    assert_eq!(validator.finish(), valid);
});
