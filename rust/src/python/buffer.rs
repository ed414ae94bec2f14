//! Reading `bytes`, `bytearray` and `memoryview` arguments without copying.
//!
//! `bytes` is immutable and read in place (the fast path). Any other object
//! that exports a C-contiguous buffer is read in place too, while the export
//! is held and the GIL is not released; a non-contiguous buffer is copied
//! once (`bytes(obj)`). Callers that may run Python code while they read
//! (a client's `random` callable) ask for a copy of mutable buffers instead.
//!
//! [`new_bytes`] is the output side: a new `bytes` object filled in place,
//! without zeroing it first (pyo3's `PyBytes::new_with` writes every byte
//! twice, which shows at a megabyte).
#![allow(unsafe_code)]

use std::mem::MaybeUninit;

use pyo3::buffer::PyUntypedBuffer;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Call `f` with the bytes of a buffer-protocol object.
///
/// `copy_mutable` copies any object that is not `bytes` first, for callers
/// during which Python code may run and mutate the buffer.
pub fn with_bytes<R>(
    obj: &Bound<'_, PyAny>,
    copy_mutable: bool,
    f: impl FnOnce(&[u8]) -> R,
) -> PyResult<R> {
    if let Ok(bytes) = obj.cast::<PyBytes>() {
        return Ok(f(bytes.as_bytes()));
    }
    let buffer = PyUntypedBuffer::get(obj)?;
    if copy_mutable || !buffer.is_c_contiguous() {
        let copy = obj.py().get_type::<PyBytes>().call1((obj,))?;
        let copy = copy.cast::<PyBytes>()?;
        return Ok(f(copy.as_bytes()));
    }
    let len = buffer.len_bytes();
    if len == 0 {
        return Ok(f(&[]));
    }
    let ptr = buffer.buf_ptr().cast::<u8>().cast_const();
    // SAFETY: `buffer` holds the export for the whole call, so the memory is
    // valid for `len` bytes and cannot be resized or freed (an exporting
    // `bytearray` refuses to resize); it is C-contiguous, so those bytes are
    // the whole buffer; and no Python code runs while `f` reads it (callers
    // that may run Python code pass `copy_mutable`), so it is not mutated
    // while borrowed. The GIL stays held throughout.
    let slice = unsafe { std::slice::from_raw_parts(ptr, len) };
    let result = f(slice);
    drop(buffer);
    Ok(result)
}

/// Return an owned copy of a buffer-protocol object's bytes.
pub fn to_vec(obj: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    with_bytes(obj, false, <[u8]>::to_vec)
}

/// Return a new `bytes` object of `len` bytes written by `fill`.
///
/// `fill` gets the object's uninitialised storage and returns how many bytes
/// it wrote from the start; any bytes after those are zeroed, so the object
/// never exposes uninitialised memory.
pub fn new_bytes(
    py: Python<'_>,
    len: usize,
    fill: impl FnOnce(&mut [MaybeUninit<u8>]) -> usize,
) -> PyResult<Bound<'_, PyBytes>> {
    let size = pyo3::ffi::Py_ssize_t::try_from(len)
        .map_err(|_| pyo3::exceptions::PyOverflowError::new_err("bytes object too large"))?;
    // SAFETY: `PyBytes_FromStringAndSize(NULL, size)` returns a new reference
    // to a `bytes` object with `size` bytes of uninitialised storage, or NULL
    // with an exception set (turned into `Err` by `from_owned_ptr_or_err`).
    // The GIL is held (we have `py`).
    let object = unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            pyo3::ffi::PyBytes_FromStringAndSize(std::ptr::null(), size),
        )?
    };
    let bytes = object.cast_into::<PyBytes>()?;
    // SAFETY: the object was just created and no one else holds it, so its
    // storage (`len` bytes at `PyBytes_AsString`) is ours to write; viewing
    // it as `MaybeUninit<u8>` asserts nothing about its contents.
    let storage = unsafe {
        let data = pyo3::ffi::PyBytes_AsString(bytes.as_ptr()).cast::<MaybeUninit<u8>>();
        std::slice::from_raw_parts_mut(data, len)
    };
    let written = fill(storage).min(len);
    for byte in &mut storage[written..] {
        byte.write(0);
    }
    Ok(bytes)
}
