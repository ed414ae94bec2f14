//! `ServerConnection` and `ClientConnection`: thin wrappers over the core.
//!
//! Each Python call crosses into Rust once: input methods return the flags as
//! an `int`, `data_to_send()` returns everything pending as one new `bytes`
//! (immutable payloads given to `send_text()`/`send_binary()` and frames
//! given to `send_prepared()` are copied only there), and `next_message()`
//! builds one `str` or `bytes` per message.
//!
//! The GIL is held, except around zlib: `send_text()`/`send_binary()` of a
//! message that will be compressed and is at least [`RELEASE_GIL_COMPRESS`]
//! bytes, and `receive_data()` of a `bytes` chunk of at least
//! [`RELEASE_GIL_INFLATE`] bytes on a connection that negotiated
//! permessage-deflate, run without it. Only immutable objects (`str`,
//! `bytes`) are read while it is released.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple};
use pyo3::PyTraverseError;

use super::buffer;
use super::errors::{call_error, fault_tuple, local_error};
use super::types;
use crate::connection::{check_limit, fill_random, Connection, Host, Limits, Role};
use crate::deflate::DeflateOptions;
use crate::error::LocalError;
use crate::queue::MessageKind;

/// Compressing at least this many bytes is done without the GIL.
///
/// Measured (`benchmarks/README.md`, "GIL"): releasing and re-taking an
/// uncontended GIL costs 0.1–0.2 µs per call, and zlib needs about 7 µs to
/// compress 1 KiB of JSON-like text at level 6 and 23 µs for 2 KiB. From
/// 2 KiB on the release costs under 1% (hashlib's threshold is 2 KiB too),
/// and lets other threads run meanwhile.
pub const RELEASE_GIL_COMPRESS: usize = 2048;

/// Receiving at least this many bytes on a compressed connection is done
/// without the GIL: 2 KiB of compressed JSON-like text inflates to about
/// 8 KiB in 13 µs, where the release costs about 0.1 µs.
pub const RELEASE_GIL_INFLATE: usize = 2048;

/// A payload kept by reference until `data_to_send()` joins the output.
pub enum Kept {
    /// An immutable `bytes` payload.
    Bytes(Py<PyBytes>),
    /// An immutable `str` payload (its UTF-8 form is cached by `CPython`).
    Str(Py<PyString>),
}

/// The host of a Python connection: the client's random source.
pub struct PyHost {
    /// `random(n) -> bytes`, or `None` for the OS-seeded CSPRNG.
    random: Option<Py<PyAny>>,
}

impl Host for PyHost {
    type Payload = Kept;
    type Error = PyErr;

    fn random(&mut self, buf: &mut [u8]) -> PyResult<()> {
        let Some(random) = &self.random else {
            fill_random(buf);
            return Ok(());
        };
        Python::attach(|py| {
            let n = buf.len();
            let result = random.bind(py).call1((n,))?;
            buffer::with_bytes(&result, true, |bytes| {
                if bytes.len() == n {
                    buf.copy_from_slice(bytes);
                    Ok(())
                } else {
                    Err(PyValueError::new_err(format!(
                        "random({n}) must return {n} bytes"
                    )))
                }
            })?
        })
    }
}

/// Convert a limit argument: `None`, or an int that must be ≥ 1.
fn limit(name: &'static str, value: Option<i128>) -> Result<Option<u64>, LocalError> {
    let value = value.map(|v| i64::try_from(v).unwrap_or(if v > 0 { i64::MAX } else { i64::MIN }));
    check_limit(name, value)
}

/// Convert a limit argument that may not be `None`.
fn required(name: &'static str, value: i128) -> Result<u64, LocalError> {
    Ok(limit(name, Some(value))?.unwrap_or(u64::MAX))
}

/// Saturate a Python int to `i64` (out-of-range values stay out of range).
fn saturate(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(if value > 0 { i64::MAX } else { i64::MIN })
}

/// Check the compression keywords (always, in order) and return the settings.
pub fn compression(
    enabled: bool,
    threshold: i128,
    window_bits: i128,
    mem_level: i128,
    level: i128,
    no_context_takeover: bool,
) -> Result<Option<DeflateOptions>, LocalError> {
    let options = DeflateOptions::new(
        saturate(threshold),
        saturate(window_bits),
        saturate(mem_level),
        saturate(level),
        no_context_takeover,
    )?;
    Ok(enabled.then_some(options))
}

#[allow(clippy::too_many_arguments)]
fn limits(
    max_size: Option<i128>,
    max_frame_size: Option<i128>,
    max_fragments: Option<i128>,
    max_queue: Option<i128>,
    max_queue_bytes: Option<i128>,
    write_limit: i128,
    max_request_line: i128,
    max_header_line: i128,
    max_headers: i128,
) -> Result<Limits, LocalError> {
    Ok(Limits {
        max_size: limit("max_size", max_size)?,
        max_frame_size: limit("max_frame_size", max_frame_size)?,
        max_fragments: limit("max_fragments", max_fragments)?,
        max_queue: limit("max_queue", max_queue)?,
        max_queue_bytes: limit("max_queue_bytes", max_queue_bytes)?,
        write_limit: required("write_limit", write_limit)?,
        max_request_line: required("max_request_line", max_request_line)?,
        max_header_line: required("max_header_line", max_header_line)?,
        max_headers: required("max_headers", max_headers)?,
    })
}

/// Extract `Sequence[tuple[bytes, bytes]]`.
pub fn extract_headers(headers: &Bound<'_, PyAny>) -> PyResult<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut out = Vec::new();
    for item in headers.try_iter()? {
        let item = item?;
        let pair = item.cast::<PyTuple>()?;
        if pair.len() != 2 {
            return Err(PyValueError::new_err("headers must be (name, value) pairs"));
        }
        out.push((
            buffer::to_vec(&pair.get_item(0)?)?,
            buffer::to_vec(&pair.get_item(1)?)?,
        ));
    }
    Ok(out)
}

/// The state shared by both classes: the core and the cached handshake objects.
pub struct Inner {
    conn: Connection<PyHost>,
    request: Option<Py<PyAny>>,
    response: Option<Py<PyAny>>,
    deflate: Option<Py<PyAny>>,
}

impl Inner {
    fn new(conn: Connection<PyHost>, compression: Option<DeflateOptions>) -> Self {
        let conn = match compression {
            Some(options) => conn.with_compression(options),
            None => conn,
        };
        Self {
            conn,
            request: None,
            response: None,
            deflate: None,
        }
    }

    /// Whether input must be copied before parsing: a client's `random`
    /// callable may run Python code in the middle of the call.
    fn copy_input(&self) -> bool {
        self.conn.host().random.is_some()
    }

    /// Build the Python `Request`/`Response` once the core has one.
    fn sync(&mut self, py: Python<'_>) -> PyResult<()> {
        if let Some(head) = self.conn.take_request() {
            self.request = Some(types::request(py, &head)?);
        }
        if let Some(head) = self.conn.take_response() {
            self.response = Some(types::response(py, &head)?);
        }
        if self.deflate.is_none() {
            if let Some(params) = self.conn.deflate_params() {
                self.deflate = Some(types::deflate_params(py, *params)?);
            }
        }
        Ok(())
    }

    fn receive_data(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<u32> {
        if self.conn.inflates() {
            if let Ok(bytes) = data.cast::<PyBytes>() {
                let bytes = bytes.as_bytes();
                if bytes.len() >= RELEASE_GIL_INFLATE {
                    let conn = &mut self.conn;
                    // PERF(gyrfalcon): inflating may take a while; `bytes` is
                    // immutable and kept alive by the caller's reference.
                    let flags = py.detach(|| conn.receive_data(bytes))?;
                    self.sync(py)?;
                    return Ok(flags);
                }
            }
        }
        let copy = self.copy_input();
        let flags = buffer::with_bytes(data, copy, |bytes| self.conn.receive_data(bytes))??;
        self.sync(py)?;
        Ok(flags)
    }

    fn send_text(&mut self, py: Python<'_>, text: &Bound<'_, PyString>) -> PyResult<()> {
        let utf8 = text.to_str()?;
        let kept = (self.conn.role() == Role::Server).then(|| Kept::Str(text.clone().unbind()));
        if utf8.len() >= RELEASE_GIL_COMPRESS && self.conn.compresses(utf8.len()) {
            let conn = &mut self.conn;
            // PERF(gyrfalcon): a `str` is immutable; its UTF-8 form is cached in it.
            return py
                .detach(|| conn.send_text(utf8, kept))
                .map_err(|e| call_error(py, e));
        }
        self.conn
            .send_text(utf8, kept)
            .map_err(|e| call_error(py, e))
    }

    fn send_binary(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        if let Ok(bytes) = data.cast::<PyBytes>() {
            let kept =
                (self.conn.role() == Role::Server).then(|| Kept::Bytes(bytes.clone().unbind()));
            let payload = bytes.as_bytes();
            if payload.len() >= RELEASE_GIL_COMPRESS && self.conn.compresses(payload.len()) {
                let conn = &mut self.conn;
                return py
                    .detach(|| conn.send_binary(payload, kept))
                    .map_err(|e| call_error(py, e));
            }
            return self
                .conn
                .send_binary(payload, kept)
                .map_err(|e| call_error(py, e));
        }
        // A mutable buffer is copied now: the message is what it holds at this call.
        let copy = self.copy_input();
        buffer::with_bytes(data, copy, |bytes| self.conn.send_binary(bytes, None))?
            .map_err(|e| call_error(py, e))
    }

    fn send_control(
        &mut self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        ping: bool,
    ) -> PyResult<()> {
        let copy = self.copy_input();
        buffer::with_bytes(data, copy, |bytes| {
            if ping {
                self.conn.send_ping(bytes)
            } else {
                self.conn.send_pong(bytes)
            }
        })?
        .map_err(|e| call_error(py, e))
    }

    fn data_to_send<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let total = self.conn.pending_output();
        if total == 0 {
            return Ok(PyBytes::new(py, b""));
        }
        let out = self.conn.output();
        buffer::new_bytes(py, total, |dst| {
            out.drain_into(dst, |kept| match kept {
                Kept::Bytes(bytes) => bytes.as_bytes(py),
                // The UTF-8 form was computed (and cached) when the text was sent.
                Kept::Str(text) => text.to_str(py).map(str::as_bytes).unwrap_or_default(),
            })
        })
    }

    fn next_message(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.conn
            .next_message_with(|kind, data| match kind {
                // CPython decodes (and checks) the UTF-8 validated on the way in.
                MessageKind::Text => PyString::from_bytes(py, data).map(|s| s.into_any().unbind()),
                MessageKind::Binary => Ok(PyBytes::new(py, data).into_any().unbind()),
            })?
            .transpose()
    }
}

/// Generate the Python class for one role, with the methods both share.
macro_rules! connection_class {
    ($name:ident, $doc:literal, { $($extra:tt)* }) => {
        #[doc = $doc]
        #[pyclass(module = "gyrfalcon._native", subclass)]
        pub struct $name {
            inner: Inner,
        }

        #[pymethods]
        impl $name {
            $($extra)*

            /// Feed bytes received from the network; return the flags.
            fn receive_data(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<u32> {
                self.inner.receive_data(py, data)
            }

            /// Record that the peer closed its side of TCP; return the flags.
            fn receive_eof(&mut self) -> u32 {
                self.inner.conn.receive_eof()
            }

            /// Queue a TEXT message.
            fn send_text(&mut self, py: Python<'_>, text: &Bound<'_, PyString>) -> PyResult<()> {
                self.inner.send_text(py, text)
            }

            /// Queue a BINARY message.
            fn send_binary(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
                self.inner.send_binary(py, data)
            }

            /// Queue a Ping.
            #[pyo3(signature = (data=None), text_signature = "($self, data=b'')")]
            fn send_ping(&mut self, py: Python<'_>, data: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
                match data {
                    Some(data) => self.inner.send_control(py, data, true),
                    None => self.inner.send_control(py, PyBytes::new(py, b"").as_any(), true),
                }
            }

            /// Queue a Pong.
            #[pyo3(signature = (data=None), text_signature = "($self, data=b'')")]
            fn send_pong(&mut self, py: Python<'_>, data: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
                match data {
                    Some(data) => self.inner.send_control(py, data, false),
                    None => self.inner.send_control(py, PyBytes::new(py, b"").as_any(), false),
                }
            }

            /// Queue a Close frame and move to CLOSING.
            #[pyo3(signature = (code=1000, reason=""))]
            fn send_close(&mut self, py: Python<'_>, code: i128, reason: &str) -> PyResult<()> {
                let code = i64::try_from(code).unwrap_or(i64::MIN);
                self.inner.conn.send_close(code, reason).map_err(|e| call_error(py, e))
            }

            /// Fail the connection for a reason of our own.
            #[pyo3(signature = (code, reason=""))]
            fn fail(&mut self, py: Python<'_>, code: i128, reason: &str) -> PyResult<()> {
                let code = i64::try_from(code).unwrap_or(i64::MIN);
                self.inner.conn.fail(code, reason).map_err(|e| call_error(py, e))
            }

            /// Return everything pending, joined, as a new bytes object.
            fn data_to_send<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
                self.inner.data_to_send(py)
            }

            /// Pop the oldest complete message.
            fn next_message(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
                self.inner.next_message(py)
            }

            /// Return True once the transport should be closed.
            fn close_expected(&self) -> bool {
                self.inner.conn.close_expected()
            }

            /// The connection's state.
            #[getter]
            fn state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
                types::state(py, self.inner.conn.state())
            }

            /// The parsed request (server role).
            #[getter]
            fn request(&self, py: Python<'_>) -> Option<Py<PyAny>> {
                self.inner.request.as_ref().map(|r| r.clone_ref(py))
            }

            /// The parsed response (client role).
            #[getter]
            fn response(&self, py: Python<'_>) -> Option<Py<PyAny>> {
                self.inner.response.as_ref().map(|r| r.clone_ref(py))
            }

            /// The Close frame we sent.
            #[getter]
            fn close_sent(&self) -> Option<(u16, String)> {
                self.inner.conn.close_sent().map(|(c, r)| (c, r.to_owned()))
            }

            /// The peer's Close frame.
            #[getter]
            fn close_received(&self) -> Option<(u16, String)> {
                self.inner.conn.close_received().map(|(c, r)| (c, r.to_owned()))
            }

            /// The close code once CLOSED.
            #[getter]
            fn close_code(&self) -> Option<u16> {
                self.inner.conn.close_result().map(|(code, _)| code)
            }

            /// The close reason once CLOSED.
            #[getter]
            fn close_reason(&self) -> Option<String> {
                self.inner.conn.close_result().map(|(_, reason)| reason)
            }

            /// The peer's fault.
            #[getter]
            fn error(&self) -> Option<(u16, String)> {
                self.inner.conn.error().map(fault_tuple)
            }

            /// Whether a peer fault waits for the queued messages to be taken.
            #[getter]
            fn failure_deferred(&self) -> bool {
                self.inner.conn.failure_deferred()
            }

            /// The payload of the most recent Pong.
            #[getter]
            fn last_pong<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
                self.inner.conn.last_pong().map(|p| PyBytes::new(py, p))
            }

            /// Complete messages in the inbound queue.
            #[getter]
            fn queued_messages(&self) -> usize {
                self.inner.conn.queued_messages()
            }

            /// Payload bytes in the inbound queue.
            #[getter]
            fn queued_bytes(&self) -> usize {
                self.inner.conn.queued_bytes()
            }

            /// Whether the inbound queue is above its high-water mark.
            #[getter]
            fn reading_paused(&self) -> bool {
                self.inner.conn.reading_paused()
            }

            /// Bytes waiting for `data_to_send()`.
            #[getter]
            fn pending_output(&self) -> usize {
                self.inner.conn.pending_output()
            }

            /// Whether `pending_output` is at or above `write_limit`.
            #[getter]
            fn writing_paused(&self) -> bool {
                self.inner.conn.writing_paused()
            }

            /// The agreed permessage-deflate parameters, or None.
            #[getter]
            fn deflate(&self, py: Python<'_>) -> Option<Py<PyAny>> {
                self.inner.deflate.as_ref().map(|d| d.clone_ref(py))
            }

            /// Return the size of the object, engine heap included.
            fn __sizeof__(&self) -> usize {
                std::mem::size_of::<Self>() + self.inner.conn.heap_size()
            }
        }
    };
}

connection_class!(ServerConnection, "A WebSocket connection, server role.", {
    #[new]
    #[pyo3(signature = (
        *,
        max_size=Some(16_777_216),
        max_frame_size=None,
        max_fragments=None,
        max_queue=Some(32),
        max_queue_bytes=Some(4_194_304),
        write_limit=65536,
        max_request_line=8192,
        max_header_line=8192,
        max_headers=128,
        compression=false,
        compression_threshold=128,
        deflate_window_bits=12,
        deflate_mem_level=5,
        deflate_level=6,
        deflate_no_context_takeover=false,
    ), text_signature = "(*, max_size=16777216, max_frame_size=None, max_fragments=None, \
        max_queue=32, max_queue_bytes=4194304, write_limit=65536, max_request_line=8192, \
        max_header_line=8192, max_headers=128, compression=False, compression_threshold=128, \
        deflate_window_bits=12, deflate_mem_level=5, deflate_level=6, \
        deflate_no_context_takeover=False)")]
    #[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)]
    fn new(
        py: Python<'_>,
        max_size: Option<i128>,
        max_frame_size: Option<i128>,
        max_fragments: Option<i128>,
        max_queue: Option<i128>,
        max_queue_bytes: Option<i128>,
        write_limit: i128,
        max_request_line: i128,
        max_header_line: i128,
        max_headers: i128,
        compression: bool,
        compression_threshold: i128,
        deflate_window_bits: i128,
        deflate_mem_level: i128,
        deflate_level: i128,
        deflate_no_context_takeover: bool,
    ) -> PyResult<Self> {
        let limits = limits(
            max_size,
            max_frame_size,
            max_fragments,
            max_queue,
            max_queue_bytes,
            write_limit,
            max_request_line,
            max_header_line,
            max_headers,
        )
        .map_err(|e| local_error(py, &e))?;
        let compression = self::compression(
            compression,
            compression_threshold,
            deflate_window_bits,
            deflate_mem_level,
            deflate_level,
            deflate_no_context_takeover,
        )
        .map_err(|e| local_error(py, &e))?;
        let conn = Connection::server(PyHost { random: None }, limits);
        Ok(Self {
            inner: Inner::new(conn, compression),
        })
    }

    /// Queue a frame built by `prepare_frame()`, as it is.
    #[pyo3(signature = (frame, *, compressed=false))]
    fn send_prepared(
        &mut self,
        py: Python<'_>,
        frame: &Bound<'_, PyAny>,
        compressed: bool,
    ) -> PyResult<()> {
        if let Ok(bytes) = frame.cast::<PyBytes>() {
            let kept = Kept::Bytes(bytes.clone().unbind());
            return self
                .inner
                .conn
                .send_prepared(bytes.as_bytes(), Some(kept), compressed)
                .map_err(|e| local_error(py, &e));
        }
        buffer::with_bytes(frame, false, |bytes| {
            self.inner.conn.send_prepared(bytes, None, compressed)
        })?
        .map_err(|e| local_error(py, &e))
    }

    /// Hand over a request that a server already parsed.
    #[pyo3(signature = (method, target, headers, http_version="1.1"))]
    fn receive_request(
        &mut self,
        py: Python<'_>,
        method: &str,
        target: &Bound<'_, PyAny>,
        headers: &Bound<'_, PyAny>,
        http_version: &str,
    ) -> PyResult<u32> {
        let target = buffer::to_vec(target)?;
        let headers = extract_headers(headers)?;
        let borrowed: Vec<(&[u8], &[u8])> = headers
            .iter()
            .map(|(n, v)| (n.as_slice(), v.as_slice()))
            .collect();
        let flags = self
            .inner
            .conn
            .receive_request(method, &target, &borrowed, http_version)
            .map_err(|e| local_error(py, &e))?;
        self.inner.sync(py)?;
        Ok(flags)
    }

    /// Accept the request; return the flags of parsing bytes kept since.
    #[pyo3(
        signature = (subprotocol=None, headers=None),
        text_signature = "($self, subprotocol=None, headers=())"
    )]
    fn accept(
        &mut self,
        py: Python<'_>,
        subprotocol: Option<&str>,
        headers: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<u32> {
        let headers = headers
            .map(extract_headers)
            .transpose()?
            .unwrap_or_default();
        let flags = self
            .inner
            .conn
            .accept(subprotocol, &headers)
            .map_err(|e| call_error(py, e))?;
        self.inner.sync(py)?;
        Ok(flags)
    }

    /// Deny the request with an HTTP response.
    #[pyo3(
        signature = (status=403, headers=None, body=None),
        text_signature = "($self, status=403, headers=(), body=b'')"
    )]
    fn reject(
        &mut self,
        py: Python<'_>,
        status: i128,
        headers: Option<&Bound<'_, PyAny>>,
        body: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let headers = headers
            .map(extract_headers)
            .transpose()?
            .unwrap_or_default();
        let body = body.map(buffer::to_vec).transpose()?.unwrap_or_default();
        let status = i64::try_from(status).unwrap_or(i64::MIN);
        self.inner
            .conn
            .reject(status, &headers, &body)
            .map_err(|e| local_error(py, &e))
    }

    /// Start a streamed denial.
    #[pyo3(signature = (status, headers=None), text_signature = "($self, status, headers=())")]
    fn reject_start(
        &mut self,
        py: Python<'_>,
        status: i128,
        headers: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        let headers = headers
            .map(extract_headers)
            .transpose()?
            .unwrap_or_default();
        let status = i64::try_from(status).unwrap_or(i64::MIN);
        self.inner
            .conn
            .reject_start(status, &headers)
            .map_err(|e| local_error(py, &e))
    }

    /// Queue a piece of a streamed denial's body.
    #[pyo3(signature = (body, more_body=false))]
    fn reject_body(
        &mut self,
        py: Python<'_>,
        body: &Bound<'_, PyAny>,
        more_body: bool,
    ) -> PyResult<()> {
        buffer::with_bytes(body, false, |bytes| {
            self.inner.conn.reject_body(bytes, more_body)
        })?
        .map_err(|e| local_error(py, &e))
    }
});

connection_class!(ClientConnection, "A WebSocket connection, client role.", {
    #[new]
    #[pyo3(signature = (
        host,
        target="/",
        *,
        subprotocols=None,
        headers=None,
        origin=None,
        random=None,
        max_size=Some(16_777_216),
        max_frame_size=None,
        max_fragments=None,
        max_queue=Some(32),
        max_queue_bytes=Some(4_194_304),
        write_limit=65536,
        max_request_line=8192,
        max_header_line=8192,
        max_headers=128,
        compression=false,
        compression_threshold=128,
        deflate_window_bits=12,
        deflate_mem_level=5,
        deflate_level=6,
        deflate_no_context_takeover=false,
    ), text_signature = "(host, target='/', *, subprotocols=(), headers=(), origin=None, \
        random=None, max_size=16777216, max_frame_size=None, max_fragments=None, \
        max_queue=32, max_queue_bytes=4194304, write_limit=65536, max_request_line=8192, \
        max_header_line=8192, max_headers=128, compression=False, compression_threshold=128, \
        deflate_window_bits=12, deflate_mem_level=5, deflate_level=6, \
        deflate_no_context_takeover=False)")]
    #[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)]
    fn new(
        py: Python<'_>,
        host: &str,
        target: &str,
        subprotocols: Option<Vec<String>>,
        headers: Option<&Bound<'_, PyAny>>,
        origin: Option<String>,
        random: Option<Py<PyAny>>,
        max_size: Option<i128>,
        max_frame_size: Option<i128>,
        max_fragments: Option<i128>,
        max_queue: Option<i128>,
        max_queue_bytes: Option<i128>,
        write_limit: i128,
        max_request_line: i128,
        max_header_line: i128,
        max_headers: i128,
        compression: bool,
        compression_threshold: i128,
        deflate_window_bits: i128,
        deflate_mem_level: i128,
        deflate_level: i128,
        deflate_no_context_takeover: bool,
    ) -> PyResult<Self> {
        if random.as_ref().is_some_and(|f| !f.bind(py).is_callable()) {
            return Err(PyTypeError::new_err("random must be callable"));
        }
        let headers = headers
            .map(extract_headers)
            .transpose()?
            .unwrap_or_default();
        let limits = limits(
            max_size,
            max_frame_size,
            max_fragments,
            max_queue,
            max_queue_bytes,
            write_limit,
            max_request_line,
            max_header_line,
            max_headers,
        )
        .map_err(|e| local_error(py, &e))?;
        let compression = self::compression(
            compression,
            compression_threshold,
            deflate_window_bits,
            deflate_mem_level,
            deflate_level,
            deflate_no_context_takeover,
        )
        .map_err(|e| local_error(py, &e))?;
        let conn = Connection::client(
            PyHost { random },
            limits,
            host,
            target,
            subprotocols.unwrap_or_default(),
            headers,
            origin,
        )
        .map_err(|e| local_error(py, &e))?;
        Ok(Self {
            inner: Inner::new(conn, compression),
        })
    }

    /// Let the garbage collector see the `random` callable (it may refer
    /// back to this connection, e.g. a bound method of its owner).
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.inner.conn.host().random)
    }

    /// Break a reference cycle through the `random` callable.
    fn __clear__(&mut self) {
        self.inner.conn.host_mut().random = None;
    }

    /// Queue the opening request.
    fn send_request(&mut self, py: Python<'_>) -> PyResult<()> {
        self.inner
            .conn
            .send_request()
            .map_err(|e| call_error(py, e))
    }
});
