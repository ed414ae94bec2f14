//! The Python binding: the `gyrfalcon._native` extension module.
//!
//! The only code in the crate that imports `PyO3`. It exposes the core's
//! connections as `ServerConnection` and `ClientConnection`, the incremental
//! validator as `Utf8Validator`, and the codec helpers `accept_key`,
//! `apply_mask`, `validate_utf8` and `encode_frame`, with the names,
//! signatures, exceptions and output of `docs/topics/engine-contract.md`.
//! `python/gyrfalcon/_native.pyi` documents them for Python users.

mod buffer;
mod connection;
mod errors;
mod types;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::error::LocalError;
use crate::{frame, handshake, mask, utf8};

/// An incremental UTF-8 validator (RFC 3629).
#[pyclass(module = "gyrfalcon._native", subclass)]
#[derive(Default)]
pub struct Utf8Validator {
    inner: utf8::Utf8Validator,
}

#[pymethods]
impl Utf8Validator {
    #[new]
    fn new() -> Self {
        Self::default()
    }

    /// Feed bytes; return False once the stream cannot be valid UTF-8.
    fn feed(&mut self, data: &Bound<'_, PyAny>) -> PyResult<bool> {
        buffer::with_bytes(data, false, |bytes| self.inner.feed(bytes))
    }

    /// Return True when everything fed is complete, valid UTF-8.
    fn finish(&self) -> bool {
        self.inner.finish()
    }

    /// Start over.
    fn reset(&mut self) {
        self.inner.reset();
    }
}

fn mask_key(mask: &Bound<'_, PyAny>) -> PyResult<[u8; 4]> {
    buffer::with_bytes(mask, false, |bytes| <[u8; 4]>::try_from(bytes).ok())?
        .ok_or_else(|| PyValueError::new_err(LocalError::InvalidMask.to_string()))
}

/// Return base64(sha1(key + GUID)), the Sec-WebSocket-Accept value.
#[pyfunction]
fn accept_key(key: &str) -> String {
    handshake::accept_key(key.as_bytes())
}

/// Return `data` XOR-ed with the 4-byte `mask`, as a new bytes object.
#[pyfunction]
fn apply_mask<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    mask: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyBytes>> {
    buffer::with_bytes(data, false, |src| {
        let key = mask_key(mask)?;
        buffer::new_bytes(py, src.len(), |dst| {
            mask::mask_into_uninit(dst, src, key, 0);
            src.len()
        })
    })?
}

/// Return True when `data` is entirely valid UTF-8.
#[pyfunction]
fn validate_utf8(data: &Bound<'_, PyAny>) -> PyResult<bool> {
    buffer::with_bytes(data, false, utf8::validate_utf8)
}

/// Build one frame with the minimal length encoding.
#[pyfunction]
#[pyo3(signature = (opcode, payload, *, fin=true, rsv1=false, mask=None))]
fn encode_frame<'py>(
    py: Python<'py>,
    opcode: i128,
    payload: &Bound<'py, PyAny>,
    fin: bool,
    rsv1: bool,
    mask: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyBytes>> {
    // The twin's order: opcode range, control-frame rules, then the mask.
    if !(0..=15).contains(&opcode) {
        return Err(PyValueError::new_err(format!("invalid opcode {opcode}")));
    }
    let opcode = i64::try_from(opcode).unwrap_or_default();
    buffer::with_bytes(payload, false, |bytes| {
        let op = frame::check_frame_args(opcode, bytes.len(), fin)
            .map_err(|e| errors::local_error(py, &e))?;
        let key = mask.map(mask_key).transpose()?;
        let frame = frame::encode_frame(i64::from(op), bytes, fin, rsv1, key)
            .map_err(|e| errors::local_error(py, &e))?;
        Ok(PyBytes::new(py, &frame))
    })?
}

/// The Rust WebSocket engine of Gyrfalcon.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", crate::VERSION)?;
    m.add_class::<connection::ServerConnection>()?;
    m.add_class::<connection::ClientConnection>()?;
    m.add_class::<Utf8Validator>()?;
    m.add_function(wrap_pyfunction!(accept_key, m)?)?;
    m.add_function(wrap_pyfunction!(apply_mask, m)?)?;
    m.add_function(wrap_pyfunction!(validate_utf8, m)?)?;
    m.add_function(wrap_pyfunction!(encode_frame, m)?)?;
    Ok(())
}
