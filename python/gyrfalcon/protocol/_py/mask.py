"""Masking of frame payloads (RFC 6455 §5.3), and buffer normalisation.

The twin of ``rust/src/mask.rs``. Masking XORs the payload with a 4-byte key
repeated over its length; applying the same key twice gives the input back.
The pure-Python version XORs two big integers, which runs at C speed in
CPython and costs one pass over the data.
"""

from __future__ import annotations

from typing import TypeAlias

__all__ = ['Buffer', 'apply_mask', 'as_bytes', 'mask_from']

Buffer: TypeAlias = bytes | bytearray | memoryview
"""What the engines accept wherever the contract says ``Buffer``."""


def as_bytes(data: Buffer) -> bytes:
    """Return the bytes of a buffer, copying only when it is not ``bytes``.

    A ``memoryview`` that is not C-contiguous, or whose items are wider than
    one byte, is flattened into its raw bytes (one copy).

    Args:
        data: A ``bytes``, ``bytearray`` or ``memoryview`` (any object with
            the buffer protocol is accepted).

    Returns:
        The data as ``bytes``.

    Raises:
        TypeError: `data` does not support the buffer protocol (``str``,
            ``int``, ``None``...).
    """
    if type(data) is bytes:
        return data
    # memoryview() rejects str, int and None with a TypeError, where bytes()
    # would encode a str or allocate n zero bytes for an int.
    return memoryview(data).tobytes()


def mask_from(data: bytes | memoryview, key: bytes, offset: int = 0) -> bytes:
    """XOR `data` with `key`, starting at position `offset` of the key.

    This is the incremental form of ``apply_mask()``: a frame payload that
    arrives in pieces is unmasked piece by piece, each piece starting where
    the previous one stopped in the 4-byte key cycle.

    Args:
        data: The bytes to (un)mask; a one-dimensional byte view.
        key: The 4-byte masking key.
        offset: How many payload bytes precede `data` in the frame.

    Returns:
        A new ``bytes`` object of the same length as `data`.
    """
    size = len(data)
    if size == 0:
        return b''
    shift = offset & 3
    if shift:
        key = key[shift:] + key[:shift]
    repeats, rest = divmod(size, 4)
    stream = key * repeats + key[:rest]
    # RFC 6455 §5.3: octet i of the output is octet i of the input XOR octet
    # i MOD 4 of the masking key. Little-endian keeps position 0 at byte 0.
    value = int.from_bytes(data, 'little') ^ int.from_bytes(stream, 'little')
    return value.to_bytes(size, 'little')


def apply_mask(data: Buffer, mask: Buffer) -> bytes:
    """XOR `data` with a 4-byte `mask` repeated over its length.

    Args:
        data: The payload to mask or unmask.
        mask: The masking key; it must be exactly 4 bytes.

    Returns:
        A new ``bytes`` object of the same length as `data`.

    Raises:
        ValueError: `mask` is not 4 bytes long.
        TypeError: `data` or `mask` is not a bytes-like object.
    """
    payload = as_bytes(data)
    key = as_bytes(mask)
    if len(key) != 4:
        raise ValueError('mask must be 4 bytes')
    return mask_from(payload, key)
