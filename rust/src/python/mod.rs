//! The Python binding: the `gyrfalcon._native` extension module.
//!
//! The only code in the crate that imports `PyO3`. It exposes the core's
//! connections as `ServerConnection` and `ClientConnection`, the incremental
//! validator as `Utf8Validator`, and the codec helpers `accept_key`,
//! `apply_mask`, `validate_utf8`, `encode_frame` and `prepare_frame`, with the names,
//! signatures, exceptions and output of `docs/topics/engine-contract.md`.
//! `python/gyrfalcon/_native.pyi` documents them for Python users.

mod buffer;
mod connection;
mod errors;
mod types;

use pyo3::exceptions::{PyMemoryError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::error::LocalError;
use crate::{deflate, frame, handshake, mask, utf8};

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

/// Compressing a prepared frame of at least this many bytes releases the GIL.
const RELEASE_GIL_PREPARE: usize = connection::RELEASE_GIL_COMPRESS;

/// Build one complete server frame, compressed with a fresh stream if asked.
#[pyfunction]
#[pyo3(signature = (data, *, deflate_window_bits=None, deflate_mem_level=5, deflate_level=6))]
fn prepare_frame<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    deflate_window_bits: Option<i128>,
    deflate_mem_level: i128,
    deflate_level: i128,
) -> PyResult<Bound<'py, PyBytes>> {
    // Types first (the twin's order): `data` is a `str` or a buffer.
    let text = data.cast::<PyString>().ok();
    let bytes = data.cast::<PyBytes>().ok();
    // A mutable buffer is copied: it is read while the GIL may be released.
    let copy = match (text, bytes) {
        (None, None) => Some(buffer::to_vec(data)?),
        _ => None,
    };
    let check = |name, value: i128, lo, hi| {
        let value = i64::try_from(value).unwrap_or(i64::MIN);
        deflate::check_range(name, value, lo, hi).map_err(|e| errors::local_error(py, &e))
    };
    let window_bits = deflate_window_bits
        .map(|bits| check("deflate_window_bits", bits, 9, 15))
        .transpose()?;
    let mem_level = check("deflate_mem_level", deflate_mem_level, 1, 9)?;
    let level = check("deflate_level", deflate_level, 0, 9)?;
    let (opcode, payload) = match (text, bytes, copy.as_deref()) {
        (Some(text), _, _) => (frame::OpCode::Text, text.to_str()?.as_bytes()),
        (_, Some(bytes), _) => (frame::OpCode::Binary, bytes.as_bytes()),
        (_, _, copy) => (frame::OpCode::Binary, copy.unwrap_or_default()),
    };
    let Some(window_bits) = window_bits else {
        // Uncompressed: header and payload written straight into the bytes object.
        let len = frame::encoded_header_len(false, payload.len()) + payload.len();
        return buffer::new_bytes(py, len, |dst| {
            let mut head = Vec::with_capacity(frame::MAX_HEADER_LEN);
            frame::encode_header(&mut head, true, false, opcode as u8, None, payload.len());
            for (d, s) in dst.iter_mut().zip(head.iter().chain(payload)) {
                d.write(*s);
            }
            len
        });
    };
    let compression = Some(deflate::Compression {
        window_bits,
        mem_level,
        level,
    });
    let frame = if payload.len() >= RELEASE_GIL_PREPARE {
        // PERF(gyrfalcon): `str` and `bytes` are immutable, the rest a copy.
        py.detach(|| deflate::prepare_frame(opcode, payload, compression))
    } else {
        deflate::prepare_frame(opcode, payload, compression)
    };
    let frame = frame.ok_or_else(|| PyMemoryError::new_err("zlib could not allocate"))?;
    Ok(PyBytes::new(py, &frame))
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
    m.add_function(wrap_pyfunction!(prepare_frame, m)?)?;
    Ok(())
}
