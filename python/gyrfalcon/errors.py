"""Exceptions raised by Gyrfalcon.

This module is the single exception hierarchy of the project. Both WebSocket
engines (the Rust ``gyrfalcon._native`` module and its pure-Python twin in
``gyrfalcon.protocol._py``) raise these exact classes, and the framework adds
Falcon's WebSocket and HTTP errors next to them.

Engine errors::

    WebSocketError(Exception)          base for every engine error
    ├── ProtocolError                  the peer violated RFC 6455 (.close_code, .reason)
    │   ├── PayloadTooBig              1009
    │   └── InvalidPayloadData         1007
    ├── HandshakeError                 bad opening handshake (.status_hint)
    └── InvalidState                   local misuse: send before accept, after close

The peer's faults never raise out of ``receive_data()``: the engine records
them (``error``) and queues the right Close frame or HTTP response. These
classes exist so that higher layers can turn a recorded failure into an
exception (``ProtocolError.from_error()``), and so that local misuse raises
at once.
"""

from __future__ import annotations

__all__ = [
    'CompatibilityError',
    'HandshakeError',
    'InvalidPayloadData',
    'InvalidState',
    'OperationNotAllowed',
    'PayloadTooBig',
    'PayloadTypeError',
    'ProtocolError',
    'UnsupportedError',
    'UnsupportedScopeError',
    'WebSocketDisconnected',
    'WebSocketError',
    'WebSocketHandlerNotFound',
    'WebSocketPathNotFound',
    'WebSocketServerError',
]


# --- engine ------------------------------------------------------------------


class WebSocketError(Exception):
    """Base class of every error raised by a WebSocket engine."""


class ProtocolError(WebSocketError):
    """The peer violated RFC 6455.

    Attributes:
        close_code: The close code the engine answers with (1002 unless a
            subclass says otherwise).
        reason: A lowercase message without a trailing period that says what
            was observed, e.g. ``'received unmasked frame from client'``.
    """

    default_close_code = 1002

    def __init__(self, reason: str, close_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.close_code = (
            self.default_close_code if close_code is None else close_code
        )

    @classmethod
    def from_error(cls, code: int, reason: str) -> ProtocolError:
        """Build the most specific exception for an engine's recorded error.

        Args:
            code: The close code from ``connection.error``.
            reason: The reason from ``connection.error``.

        Returns:
            A ``PayloadTooBig`` for 1009, an ``InvalidPayloadData`` for 1007,
            and a plain ``ProtocolError`` otherwise.
        """
        if code == 1009:
            return PayloadTooBig(reason)
        if code == 1007:
            return InvalidPayloadData(reason)
        return ProtocolError(reason, code)


class PayloadTooBig(ProtocolError):
    """A frame or message exceeded a configured size limit (close 1009)."""

    default_close_code = 1009


class InvalidPayloadData(ProtocolError):
    """A TEXT message or a close reason was not valid UTF-8 (close 1007)."""

    default_close_code = 1007


class HandshakeError(WebSocketError):
    """The opening handshake was invalid.

    Attributes:
        status_hint: The HTTP status the server answers with (400 unless the
            fault calls for 405, 414, 426 or 431).
        reason: What was wrong, in the engines' message style.
    """

    def __init__(self, reason: str, status_hint: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_hint = status_hint


class InvalidState(WebSocketError):
    """An engine method was called in a state that does not allow it.

    This is always the caller's own mistake (sending before ``accept()`` or
    after a close), never the peer's, and it is raised at once.
    """


# --- framework (Falcon's names and semantics) ----------------------------------


class CompatibilityError(ValueError):
    """A component is not compatible with the app (e.g. a sync WS hook)."""


class UnsupportedScopeError(RuntimeError):
    """The ASGI server passed a scope type or version the app cannot handle."""


class UnsupportedError(RuntimeError):
    """The operation is not supported in this context."""


class OperationNotAllowed(ValueError):
    """The WebSocket operation is not allowed in the connection's state."""


class PayloadTypeError(TypeError):
    """The received WebSocket message was not of the expected payload type."""


class WebSocketDisconnected(ConnectionError):
    """The WebSocket connection is closed, or was lost.

    Because this is a ``ConnectionError``, it is also an ``OSError``, which is
    what ASGI 2.4 servers raise from ``send()`` after a disconnect.

    Args:
        code: The close code. Defaults to 1000.
        reason: The close reason, when the peer or server gave one.

    Attributes:
        code: The close code.
        reason: The close reason (``''`` when none was given).
    """

    def __init__(self, code: int | None = None, reason: str | None = None) -> None:
        self.code: int = code or 1000
        self.reason: str = reason or ''
        message = f'WebSocket disconnected with close code {self.code}'
        if self.reason:
            message += f' ({self.reason})'
        super().__init__(message)


class WebSocketPathNotFound(WebSocketDisconnected):
    """No route matched the WebSocket handshake (close code 3404)."""


class WebSocketHandlerNotFound(WebSocketDisconnected):
    """The matched resource has no ``on_websocket`` responder (3405)."""


class WebSocketServerError(WebSocketDisconnected):
    """The server closed the connection because of an error (1011)."""
