//! Gyrfalcon's sans-I/O WebSocket engine (RFC 6455).
//!
//! Bytes in; complete messages, flags and bytes out, with permessage-deflate
//! (RFC 7692) when negotiated. The protocol core (every module but `python`)
//! has no Python dependency and is tested with `cargo test
//! --no-default-features`; the `python` feature adds the `PyO3` binding that
//! Python imports as `gyrfalcon._native`. The normative contract
//! is `docs/topics/engine-contract.md`; this crate and the pure-Python twin in
//! `gyrfalcon.protocol._py` implement it byte for byte.
//!
//! The engine never performs I/O, never reads a clock, never spawns threads and
//! never panics on input: the peer's faults are recorded and answered, our own
//! misuse returns an error.
#![deny(missing_docs)]

pub mod close;
pub mod connection;
pub mod deflate;
pub mod error;
pub mod frame;
pub mod handshake;
pub mod mask;
pub mod queue;
pub mod utf8;
pub mod zlib;

#[cfg(feature = "python")]
mod python;

pub use connection::{Connection, Host, Role, State, StdHost};
pub use error::{Fault, HandshakeError, LocalError, ProtocolError, ResponseError};

/// The crate version, exported to Python as `gyrfalcon._native.__version__`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
