//! The shared Python types of `gyrfalcon.protocol.common`, imported once.
//!
//! The Rust engine builds instances of the very classes the twin uses
//! (`Request`, `Response`, `DeflateParams`) and returns the members of the
//! same `State` enum,
//! so `isinstance`, `==` and `is` behave the same whichever engine runs.

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyDict, PyTuple, PyType};

use crate::connection::{RequestHead, ResponseHead, State};
use crate::deflate::Params;
use crate::handshake::{self, ExtensionOffer};

const COMMON: &str = "gyrfalcon.protocol.common";

static STATE_MEMBERS: PyOnceLock<[Py<PyAny>; 4]> = PyOnceLock::new();
static REQUEST: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static RESPONSE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DEFLATE_PARAMS: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Return the `State` member for a state.
pub fn state(py: Python<'_>, state: State) -> PyResult<Bound<'_, PyAny>> {
    let members = STATE_MEMBERS.get_or_try_init(py, || -> PyResult<[Py<PyAny>; 4]> {
        let cls = py.import(COMMON)?.getattr("State")?;
        Ok([
            cls.getattr("CONNECTING")?.unbind(),
            cls.getattr("OPEN")?.unbind(),
            cls.getattr("CLOSING")?.unbind(),
            cls.getattr("CLOSED")?.unbind(),
        ])
    })?;
    Ok(members[state as usize].bind(py).clone())
}

fn headers_tuple<'py>(
    py: Python<'py>,
    headers: &[(Vec<u8>, Vec<u8>)],
) -> PyResult<Bound<'py, PyTuple>> {
    let items = headers
        .iter()
        .map(|(name, value)| PyTuple::new(py, [PyBytes::new(py, name), PyBytes::new(py, value)]))
        .collect::<PyResult<Vec<_>>>()?;
    PyTuple::new(py, items)
}

fn extensions_tuple<'py>(
    py: Python<'py>,
    offers: &[ExtensionOffer],
) -> PyResult<Bound<'py, PyTuple>> {
    let items = offers
        .iter()
        .map(|(name, params)| {
            let params = PyTuple::new(py, params.iter().map(|(k, v)| (k.as_str(), v.as_deref())))?;
            (name.as_str(), params).into_pyobject(py)
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyTuple::new(py, items)
}

/// Build a `gyrfalcon.protocol.common.Request` from a parsed request.
pub fn request(py: Python<'_>, head: &RequestHead) -> PyResult<Py<PyAny>> {
    let cls = REQUEST.import(py, COMMON, "Request")?;
    let (raw_path, query) = handshake::split_target(&head.target);
    let kwargs = PyDict::new(py);
    kwargs.set_item("method", head.method.as_str())?;
    kwargs.set_item("target", PyBytes::new(py, &head.target))?;
    kwargs.set_item("path", handshake::percent_decode(raw_path))?;
    kwargs.set_item("raw_path", PyBytes::new(py, raw_path))?;
    kwargs.set_item("query_string", PyBytes::new(py, query))?;
    kwargs.set_item("http_version", "1.1")?;
    kwargs.set_item("headers", headers_tuple(py, &head.headers)?)?;
    kwargs.set_item("key", head.info.key.as_str())?;
    kwargs.set_item("subprotocols", PyTuple::new(py, &head.info.subprotocols)?)?;
    kwargs.set_item("extensions", extensions_tuple(py, &head.info.extensions)?)?;
    Ok(cls.call((), Some(&kwargs))?.unbind())
}

/// Build a `gyrfalcon.protocol.common.Response` from a parsed response.
pub fn response(py: Python<'_>, head: &ResponseHead) -> PyResult<Py<PyAny>> {
    let cls = RESPONSE.import(py, COMMON, "Response")?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("status", head.status)?;
    kwargs.set_item("reason", handshake::utf8_lossy(&head.reason))?;
    kwargs.set_item("headers", headers_tuple(py, &head.headers)?)?;
    kwargs.set_item("subprotocol", head.subprotocol.as_deref())?;
    kwargs.set_item("extensions", extensions_tuple(py, &head.extensions)?)?;
    kwargs.set_item("body", PyBytes::new(py, &head.body))?;
    Ok(cls.call((), Some(&kwargs))?.unbind())
}

/// Build a `gyrfalcon.protocol.common.DeflateParams` from agreed parameters.
pub fn deflate_params(py: Python<'_>, params: Params) -> PyResult<Py<PyAny>> {
    let cls = DEFLATE_PARAMS.import(py, COMMON, "DeflateParams")?;
    let kwargs = PyDict::new(py);
    kwargs.set_item(
        "server_no_context_takeover",
        params.server_no_context_takeover,
    )?;
    kwargs.set_item(
        "client_no_context_takeover",
        params.client_no_context_takeover,
    )?;
    kwargs.set_item("server_max_window_bits", params.server_max_window_bits)?;
    kwargs.set_item("client_max_window_bits", params.client_max_window_bits)?;
    Ok(cls.call((), Some(&kwargs))?.unbind())
}
