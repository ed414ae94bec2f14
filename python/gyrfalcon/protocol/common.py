"""Types shared by both WebSocket engines.

The Rust engine builds instances of these exact classes (it imports them once
per interpreter), so ``isinstance`` and ``==`` behave the same whichever engine
is in use.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    'CLOSED',
    'CLOSE_RECEIVED',
    'DEFERRED',
    'FAILED',
    'HANDSHAKE',
    'MESSAGES',
    'OUTPUT',
    'PAUSE',
    'PONG',
    'DeflateParams',
    'Flags',
    'Request',
    'Response',
    'State',
]


class State(enum.IntEnum):
    """The state of a WebSocket connection (RFC 6455 §4, §7)."""

    CONNECTING = 0
    """The opening handshake is under way."""
    OPEN = 1
    """The handshake succeeded; messages flow both ways."""
    CLOSING = 2
    """One Close frame has been sent or received, not both."""
    CLOSED = 3
    """The close handshake finished, the connection failed, or it was rejected."""


class Flags(enum.IntFlag):
    """What a call to ``receive_data()`` (or another input call) produced.

    The engines return a plain ``int``; these members name its bits. Adapters
    test them with the module-level constants (``flags & MESSAGES``).
    """

    HANDSHAKE = 1
    """The opening handshake arrived: a server got a valid request (call
    ``accept()`` or ``reject()``), or a client got a valid 101 (now OPEN)."""
    MESSAGES = 2
    """This call queued one or more complete messages (``next_message()``)."""
    OUTPUT = 4
    """``data_to_send()`` has bytes (an auto-pong, a close echo, a Close
    frame or HTTP error response for a peer fault)."""
    PAUSE = 8
    """The inbound queue is at or above its high-water mark
    (``reading_paused`` is True): stop reading from the transport."""
    PONG = 16
    """A Pong arrived; ``last_pong`` holds its payload."""
    CLOSE_RECEIVED = 32
    """The peer's Close frame arrived (``close_received`` is set)."""
    FAILED = 64
    """The peer violated the protocol; ``error`` says how. The right Close
    frame (or HTTP error response) is already queued."""
    CLOSED = 128
    """``close_expected()`` became True: flush ``data_to_send()``, then close
    the transport."""
    DEFERRED = 256
    """The peer violated the protocol while complete messages were still
    queued: the failure waits until they are taken (``failure_deferred`` is
    True). The connection stays ``OPEN`` for sending, input is ignored, and
    the failure takes effect in the ``next_message()`` call that finds the
    queue empty (it returns ``None`` and ``close_expected()`` becomes True)."""


HANDSHAKE = int(Flags.HANDSHAKE)
MESSAGES = int(Flags.MESSAGES)
OUTPUT = int(Flags.OUTPUT)
PAUSE = int(Flags.PAUSE)
PONG = int(Flags.PONG)
CLOSE_RECEIVED = int(Flags.CLOSE_RECEIVED)
FAILED = int(Flags.FAILED)
CLOSED = int(Flags.CLOSED)
DEFERRED = int(Flags.DEFERRED)


ExtensionOffer = tuple[str, tuple[tuple[str, 'str | None'], ...]]
"""One extension offer: its name and its parameters in order, e.g.
``('permessage-deflate', (('client_max_window_bits', None),))``."""


@dataclass(frozen=True, slots=True)
class Request:
    """The opening handshake request, as a server engine parsed it.

    Attributes:
        method: The request method (always ``'GET'`` once validated).
        target: The raw request-target, e.g. ``b'/chat?room=1'``.
        path: The path, percent-decoded and UTF-8 decoded (invalid sequences
            become U+FFFD), without the query.
        raw_path: The path as sent, still percent-encoded, without the query.
        query_string: What follows ``?`` in the target (without it), or
            ``b''``.
        http_version: ``'1.1'``.
        headers: Every header as ``(name, value)`` bytes pairs, in the order
            received, duplicates kept, names and values exactly as sent.
        key: The ``Sec-WebSocket-Key`` value.
        subprotocols: Offered subprotocols in the client's order, split on
            commas across every ``Sec-WebSocket-Protocol`` header, stripped.
        extensions: Offered extensions in the client's order (see
            ``ExtensionOffer``).
    """

    method: str
    target: bytes
    path: str
    raw_path: bytes
    query_string: bytes
    http_version: str
    headers: tuple[tuple[bytes, bytes], ...]
    key: str
    subprotocols: tuple[str, ...]
    extensions: tuple[ExtensionOffer, ...]

    def get_header(self, name: bytes) -> bytes | None:
        """Return the first value of a header, matched case-insensitively.

        Args:
            name: The header name, e.g. ``b'origin'``.

        Returns:
            The value, or ``None`` when the header is absent.
        """
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Response:
    """The opening handshake response, as a client engine parsed it.

    Attributes:
        status: The HTTP status code (101 once validated).
        reason: The reason phrase as sent.
        headers: Every header as ``(name, value)`` bytes pairs, in order.
        subprotocol: The subprotocol the server selected, or ``None``.
        extensions: The extensions the server accepted.
        body: For a rejection (status other than 101), the body bytes that
            arrived with it (bounded by ``Content-Length`` and by the
            engine's limits); ``b''`` otherwise.
    """

    status: int
    reason: str
    headers: tuple[tuple[bytes, bytes], ...]
    subprotocol: str | None
    extensions: tuple[ExtensionOffer, ...]
    body: bytes = b''


@dataclass(frozen=True, slots=True)
class DeflateParams:
    """The permessage-deflate parameters a connection agreed on (RFC 7692).

    Attributes:
        server_no_context_takeover: The server resets its compressor after
            every message.
        client_no_context_takeover: The client resets its compressor after
            every message.
        server_max_window_bits: The largest window the server compresses
            with (15 when the response did not name one).
        client_max_window_bits: The largest window the client compresses
            with (15 when the response did not name one).
    """

    server_no_context_takeover: bool
    client_no_context_takeover: bool
    server_max_window_bits: int
    client_max_window_bits: int
