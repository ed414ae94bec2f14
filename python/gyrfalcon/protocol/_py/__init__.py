"""The pure-Python twin of the Rust WebSocket engine (``gyrfalcon._native``).

Same names, signatures, flags, exceptions and byte-identical output, as
``docs/topics/engine-contract.md`` requires; one module per Rust source file
in ``rust/src/``. It is the fallback when the extension is missing, and the
executable specification the Rust engine is tested against.
"""

from __future__ import annotations

from .connection import ClientConnection, ServerConnection
from .deflate import prepare_frame
from .frame import encode_frame
from .handshake import accept_key
from .mask import apply_mask
from .utf8 import Utf8Validator, validate_utf8

__all__ = [
    'ClientConnection',
    'ServerConnection',
    'Utf8Validator',
    'accept_key',
    'apply_mask',
    'encode_frame',
    'prepare_frame',
    'validate_utf8',
]
