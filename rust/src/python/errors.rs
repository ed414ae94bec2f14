//! The one place where engine errors become Python exceptions.
//!
//! Our own misuse ([`LocalError`]) raises `gyrfalcon.errors.InvalidState` for
//! a call the state does not allow and `ValueError` for a bad argument, with
//! the contract's message. The peer's faults are never raised: they become
//! the `error` tuple (`fault_tuple`). Exception classes are imported from
//! `gyrfalcon.errors` (once per interpreter), so both engines raise the same
//! classes.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::connection::CallError;
use crate::error::{Fault, LocalError};

pyo3::import_exception!(gyrfalcon.errors, InvalidState);

/// Convert our own misuse into the exception the contract names.
pub fn local_error(py: Python<'_>, err: &LocalError) -> PyErr {
    match err {
        LocalError::InvalidState { .. } => InvalidState::new_err(err.to_string()),
        // The message quotes the name with Python's repr(), as the twin does.
        LocalError::SubprotocolNotOffered(name) => {
            let repr = pyo3::types::PyString::new(py, name)
                .repr()
                .map_or_else(|_| format!("{name:?}"), |r| r.to_string());
            PyValueError::new_err(format!("subprotocol {repr} was not offered by the client"))
        }
        LocalError::InvalidMask
        | LocalError::InvalidOpcode(_)
        | LocalError::ControlPayloadTooLong
        | LocalError::FragmentedControl
        | LocalError::InvalidCloseCode(_)
        | LocalError::CloseReasonTooLong
        | LocalError::InvalidHeaderName
        | LocalError::InvalidHeaderValue
        | LocalError::SubprotocolHeader
        | LocalError::ExtensionsHeader
        | LocalError::InvalidStatus(_)
        | LocalError::NotPositive(_)
        | LocalError::OutOfRange { .. }
        | LocalError::NegativeThreshold
        | LocalError::NotNegotiated
        | LocalError::InvalidHost
        | LocalError::InvalidTarget
        | LocalError::InvalidSubprotocol
        | LocalError::InvalidOrigin => PyValueError::new_err(err.to_string()),
    }
}

/// Convert the result of an application call into a Python result.
pub fn call_error(py: Python<'_>, err: CallError<PyErr>) -> PyErr {
    match err {
        CallError::Local(err) => local_error(py, &err),
        CallError::Host(err) => err,
    }
}

/// Return the `error` tuple of a recorded fault: `(code, message)`.
pub fn fault_tuple(fault: &Fault) -> (u16, String) {
    (fault.code(), fault.to_string())
}
