"""The Rust WebSocket engine of Gyrfalcon (RFC 6455), compiled with PyO3.

This stub documents the extension module ``gyrfalcon._native``; its twin,
``gyrfalcon.protocol._py``, has the same names, signatures, flags, exceptions
and byte-identical output (``docs/topics/engine-contract.md``). Prefer
``gyrfalcon.protocol``, which re-exports whichever engine is in use.

The engine is sans-I/O: bytes in; flags, messages and bytes out. The calling
protocol, for every connection:

* After each input call (``receive_data()``, ``receive_request()``,
  ``receive_eof()``, ``accept()``), send ``data_to_send()`` to the peer and
  act on the returned flags (``gyrfalcon.protocol.common.Flags``).
* After each output call (``send_*()``, ``reject*()``, ``fail()``), send
  ``data_to_send()`` to the peer.
* Once ``close_expected()`` is True, close the transport after flushing.

The peer's faults never raise: they set ``error``, queue the right Close
frame or HTTP response and return the ``FAILED`` flag. A frame fault found
while complete messages are still queued is deferred (the ``DEFERRED``
flag, ``failure_deferred``): the connection stays ``OPEN`` so those
messages can be answered, and the failure takes effect in the
``next_message()`` call that finds the queue empty, which returns ``None``
with ``close_expected()`` now True. Our own misuse raises at once:
``gyrfalcon.errors.InvalidState`` for a call the state does not allow,
``ValueError`` for a bad argument, ``TypeError`` for a wrong type.

Runtime facts shared by everything here: none performs I/O, and every
``Buffer`` argument may be ``bytes``, ``bytearray`` or ``memoryview`` (a
non-contiguous view is copied once; ``bytes`` is never copied on input).
The GIL is held throughout, except while zlib works on 2 KiB or more
(permessage-deflate, RFC 7692): ``send_text()``/``send_binary()`` of a
message that is compressed, ``receive_data()`` of a ``bytes`` chunk on a
connection that negotiated compression, and ``prepare_frame()`` with
``deflate_window_bits``. Only immutable objects (``str``, ``bytes``, or a
copy) are read meanwhile. A connection belongs to one thread at a time:
another thread calling into the same connection while the GIL is released
gets ``RuntimeError`` (already borrowed), never corrupted state.
"""

from collections.abc import Callable, Sequence
from typing import TypeAlias

from typing_extensions import disjoint_base

from gyrfalcon.protocol.common import DeflateParams, Request, Response, State

__all__ = [
    '__version__',
    'ClientConnection',
    'ServerConnection',
    'Utf8Validator',
    'accept_key',
    'apply_mask',
    'encode_frame',
    'prepare_frame',
    'validate_utf8',
]

_Buffer: TypeAlias = bytes | bytearray | memoryview

__version__: str
"""The version of the Rust crate (equal to ``gyrfalcon.__version__``)."""

def accept_key(key: str) -> str:
    """Compute the ``Sec-WebSocket-Accept`` value for a key.

    RFC 6455 §4.2.2: ``base64(sha1(key + GUID))``.

    Args:
        key: The client's ``Sec-WebSocket-Key``, as sent.

    Returns:
        The 28-character accept value.
    """

def apply_mask(data: _Buffer, mask: _Buffer) -> bytes:
    """XOR data with a 4-byte mask repeated over its length (RFC 6455 §5.3).

    Masking and unmasking are the same operation. Returns a new bytes
    object; `data` is left unchanged. Runs 32 bytes at a time.

    Args:
        data: The payload to mask or unmask.
        mask: The masking key.

    Returns:
        A new ``bytes`` object of the same length as `data`.

    Raises:
        ValueError: `mask` is not exactly 4 bytes (``'mask must be 4 bytes'``).
        TypeError: `data` or `mask` is not a bytes-like object.
    """

def validate_utf8(data: _Buffer) -> bool:
    """Tell whether a whole buffer is valid UTF-8 (RFC 3629).

    Overlong forms, surrogates and code points above U+10FFFF are invalid,
    and so is a multi-byte sequence cut off at the end. Uses SIMD when the
    CPU has it.

    Args:
        data: The bytes to check.

    Returns:
        True when `data` is valid UTF-8.

    Raises:
        TypeError: `data` is not a bytes-like object.
    """

def encode_frame(
    opcode: int,
    payload: _Buffer,
    *,
    fin: bool = True,
    rsv1: bool = False,
    mask: _Buffer | None = None,
) -> bytes:
    """Encode one frame with the minimal length encoding (RFC 6455 §5.2).

    Meant for tests and tools: connections build their own frames.

    Args:
        opcode: The opcode, 0–15 (reserved opcodes are allowed, to build
            test input).
        payload: The payload, unmasked.
        fin: Set the FIN bit.
        rsv1: Set the RSV1 bit.
        mask: The 4-byte masking key; ``None`` for an unmasked frame.

    Returns:
        A new ``bytes`` object: the header, then the payload (masked with
        `mask` when given).

    Raises:
        ValueError: `opcode` is outside 0–15 (``'invalid opcode N'``), a
            control frame (opcode 8 or above) has more than 125 payload
            bytes or `fin` False, or `mask` is not 4 bytes.
        TypeError: `payload` or `mask` is not a bytes-like object.
    """

def prepare_frame(
    data: str | _Buffer,
    *,
    deflate_window_bits: int | None = None,
    deflate_mem_level: int = 5,
    deflate_level: int = 6,
) -> bytes:
    """Build one complete server frame, to send to many connections.

    The broadcast path: frame (and compress) a message once, then hand the
    same bytes to ``ServerConnection.send_prepared()`` of every subscriber.
    The compressor is kept per thread between calls (about 38 KiB at the
    defaults) and reset before each frame, so a broadcast loop allocates
    nothing per message but the result. Releases the GIL while compressing
    2 KiB or more.

    Args:
        data: The message: a ``str`` makes a TEXT frame (UTF-8 encoded), a
            bytes-like object a BINARY frame (a mutable buffer is copied).
        deflate_window_bits: Compress the payload with a fresh raw deflate
            stream of this window (9–15), with a sync flush and the
            ``00 00 ff ff`` tail removed, and set RSV1; ``None`` leaves it
            uncompressed. Any connection whose
            ``deflate.server_max_window_bits`` is at least this window can
            take the frame, whatever its context takeover.
        deflate_mem_level: zlib ``memLevel`` (1–9).
        deflate_level: zlib compression level (0–9).

    Returns:
        A new ``bytes`` object: one frame, FIN set, unmasked, minimal
        length encoding. An empty compressed payload is ``00``.

    Raises:
        TypeError: `data` is neither ``str`` nor bytes-like, or a keyword
            has the wrong type.
        ValueError: A keyword is out of its range
            (``'deflate_level must be between 0 and 9'``).
        UnicodeEncodeError: `data` holds a lone surrogate.
        MemoryError: zlib could not allocate its state.
    """

@disjoint_base
class Utf8Validator:
    """An incremental UTF-8 validator for text that arrives in pieces.

    Feed the pieces in order with ``feed()``: it returns False from the first
    byte that makes the text impossible to complete (the Autobahn 6.4.x
    fail-fast rule). Call ``finish()`` when the text is complete, and
    ``reset()`` to start over. Holds at most 3 bytes between calls.
    """

    def __new__(cls) -> Utf8Validator:
        """Start a validator at the beginning of a stream."""

    def feed(self, data: _Buffer) -> bool:
        """Validate the next piece of text.

        Args:
            data: The next bytes; a sequence may be split across pieces.

        Returns:
            False when the bytes fed so far are not the prefix of any valid
            UTF-8 text (and on every call after that, until ``reset()``);
            True otherwise.

        Raises:
            TypeError: `data` is not a bytes-like object.
        """

    def finish(self) -> bool:
        """Tell whether everything fed so far is complete, valid UTF-8.

        Returns:
            True when the text is valid and does not end inside a sequence.
            The validator keeps its state; call ``reset()`` to reuse it.
        """

    def reset(self) -> None:
        """Start over, as if nothing had been fed."""

@disjoint_base
class ServerConnection:
    """The server side of a WebSocket connection, as a sans-I/O engine.

    Feed the opening request with ``receive_data()`` (or hand over a request
    an HTTP server already parsed with ``receive_request()``). On the
    ``HANDSHAKE`` flag, inspect ``request`` and call ``accept()`` or
    ``reject()``; then exchange messages. An idle open connection holds no
    buffer in the engine (a few hundred bytes in all; see ``__sizeof__()``).

    Keyword Args:
        max_size: Largest message in payload bytes after reassembly (UTF-8
            bytes for TEXT), or ``None`` for no limit. Exceeding it fails the
            connection with 1009 before any byte of the frame is read.
        max_frame_size: Largest data frame payload, or ``None``.
        max_fragments: Most data frames per message, or ``None``.
        max_queue: Inbound high-water mark in messages, or ``None``; the
            low-water mark is a quarter of it.
        max_queue_bytes: Inbound high-water mark in payload bytes, or
            ``None``; the low-water mark is a quarter of it.
        write_limit: Outbound high-water mark (``writing_paused``).
        max_request_line: Longest request line, excluding CRLF (414).
        max_header_line: Longest header line, excluding CRLF (431).
        max_headers: Most header lines (431).
        compression: Accept the client's first acceptable permessage-deflate
            offer in ``accept()`` (RFC 7692); unusable offers are declined,
            never an error.
        compression_threshold: Send payloads shorter than this uncompressed
            (UTF-8 bytes for TEXT).
        deflate_window_bits: Our compressor's largest window (9–15), and the
            largest we ask the client's compressor to use.
        deflate_mem_level: zlib ``memLevel`` of our compressor (1–9).
        deflate_level: zlib compression level (0–9).
        deflate_no_context_takeover: Always answer
            ``server_no_context_takeover``: our compressor starts every
            message afresh (and is released between messages).

    Memory with compression: nothing until used. The compressor is
    allocated on the first message we compress and holds
    ``(1 << (wbits + 2)) + (1 << (mem_level + 9))`` bytes plus about 6 KiB
    (38 KiB at 12/5); the decompressor is allocated on the first compressed
    message received and holds about 7 KiB plus a ``1 << wbits`` window
    (11 KiB at 12 bits, 39 KiB at 15). Without context takeover each is
    released after every message. ``__sizeof__()`` counts them exactly.

    Raises:
        ValueError: A limit is zero or negative (``'{name} must be
            positive'``), ``compression_threshold`` is negative, or a deflate
            setting is out of range (``'deflate_window_bits must be between
            9 and 15'``); the ranges are checked even without `compression`.
        TypeError: A limit is not an ``int`` (or ``None`` where allowed), or
            a compression flag not a ``bool``.
    """

    def __new__(
        cls,
        *,
        max_size: int | None = 16777216,
        max_frame_size: int | None = None,
        max_fragments: int | None = None,
        max_queue: int | None = 32,
        max_queue_bytes: int | None = 4194304,
        write_limit: int = 65536,
        max_request_line: int = 8192,
        max_header_line: int = 8192,
        max_headers: int = 128,
        compression: bool = False,
        compression_threshold: int = 128,
        deflate_window_bits: int = 12,
        deflate_mem_level: int = 5,
        deflate_level: int = 6,
        deflate_no_context_takeover: bool = False,
    ) -> ServerConnection: ...
    def receive_data(self, data: _Buffer) -> int:
        """Feed bytes received from the network.

        In ``CONNECTING`` they go to the HTTP parser (a head trickled one
        byte at a time costs linear time); bytes after the head are kept,
        up to 65536, and parsed as frames by ``accept()``. In ``OPEN`` and
        ``CLOSING`` they are parsed as frames: unmasked, UTF-8-checked and
        reassembled as they arrive. In ``CLOSED`` they are ignored.

        A compressed message (RSV1, once permessage-deflate is negotiated)
        is inflated as it arrives, with the UTF-8 check on the inflated
        bytes; ``max_size`` applies to the inflated size, and no more than
        ``max_size + 1`` bytes are ever inflated before the connection fails
        with 1009 (zip bombs cost nothing). Corrupt data fails with 1007
        ``'invalid compressed data'``; bytes after a final deflate block
        are discarded unread (RFC 7692 §7.2.3.4). On such a connection a
        ``bytes`` chunk of 2 KiB or more is processed without the GIL.

        Afterwards, send ``data_to_send()`` to the peer and act on the
        flags: ``HANDSHAKE`` (call ``accept()`` or ``reject()``),
        ``MESSAGES`` (call ``next_message()``), ``PAUSE`` (stop reading),
        ``CLOSED`` (close the transport once flushed). Faults of the peer do
        not raise: they set ``error`` and return ``FAILED``. A fault found
        while complete messages are still queued returns ``DEFERRED``
        instead: the state stays ``OPEN``, nothing is queued or recorded,
        and this and every later input is ignored until ``next_message()``
        finds the queue empty and fails the connection.

        Args:
            data: The bytes, as read from the transport (``bytes`` is read
                in place, without a copy). What the engine keeps is copied:
                the buffer may be reused as soon as the call returns.

        Returns:
            The OR of the flags of what this call did; ``0`` when it consumed
            nothing (no bytes, the connection is ``CLOSED``, or a failure is
            deferred).

        Raises:
            TypeError: `data` is not a bytes-like object.
        """

    def receive_request(
        self,
        method: str,
        target: bytes,
        headers: Sequence[tuple[bytes, bytes]],
        http_version: str = '1.1',
    ) -> int:
        """Hand over an opening request that an HTTP server already parsed.

        The request goes through the same checks as one received with
        ``receive_data()``, except the line checks (the header count still
        applies). Afterwards, act on the flags as for ``receive_data()``.

        Args:
            method: The request method, e.g. ``'GET'``.
            target: The raw request-target, e.g. ``b'/chat?room=1'``.
            headers: Every header as ``(name, value)`` bytes pairs.
            http_version: The HTTP version without its prefix.

        Returns:
            ``HANDSHAKE`` for a valid request; ``FAILED | OUTPUT | CLOSED``
            with an HTTP error response queued otherwise.

        Raises:
            InvalidState: Request bytes were already received.
            TypeError: An argument has the wrong type.
        """

    def receive_eof(self) -> int:
        """Tell the engine that the peer closed its side of the transport.

        A partial message is dropped, no Close frame is sent and ``error``
        stays unset, except that a deferred failure is recorded in
        ``error``. Queued messages can still be taken. Afterwards, close the
        transport.

        Returns:
            ``CLOSED`` (``FAILED | CLOSED`` when a failure was deferred), or
            ``0`` when the connection was already ``CLOSED``.
        """

    def accept(
        self,
        subprotocol: str | None = None,
        headers: Sequence[tuple[bytes, bytes]] = (),
    ) -> int:
        """Accept the opening handshake with a 101 response (RFC 6455 §4.2.2).

        The state becomes ``OPEN``. With `compression`, the first acceptable
        permessage-deflate offer is accepted here: the response then carries
        ``Sec-WebSocket-Extensions`` right after ``Sec-WebSocket-Protocol``,
        and ``deflate`` is set. Afterwards, send ``data_to_send()`` and act
        on the returned flags: bytes that arrived after the request are
        parsed as frames now.

        Args:
            subprotocol: One of ``request.subprotocols``, or ``None``.
            headers: Extra response headers as ``(name, value)`` bytes,
                written in order, as given.

        Returns:
            The flags of parsing the bytes kept since the request, or ``0``.

        Raises:
            InvalidState: No valid request was received, or a response was
                already started.
            ValueError: `subprotocol` was not offered, a header name is not a
                token, a value contains CR, LF or NUL, or a header sets
                ``Sec-WebSocket-Protocol`` (``'set the subprotocol with the
                subprotocol argument'``) or ``Sec-WebSocket-Extensions``
                (``'set extensions with the compression options'``).
        """

    def reject(
        self,
        status: int = 403,
        headers: Sequence[tuple[bytes, bytes]] = (),
        body: _Buffer = b'',
    ) -> None:
        """Deny the opening handshake with an HTTP response.

        ``Content-Length`` and ``Connection: close`` are added unless given.
        The state becomes ``CLOSED``. Afterwards, send ``data_to_send()`` and
        close the transport.

        Args:
            status: The status code, 100–599 except 101.
            headers: Response headers as ``(name, value)`` bytes; any
                header may be given, the handshake's own included.
            body: The response body.

        Raises:
            InvalidState: No valid request was received, or a response was
                already started.
            ValueError: `status` is out of range, or a header is invalid.
        """

    def reject_start(
        self, status: int, headers: Sequence[tuple[bytes, bytes]] = ()
    ) -> None:
        """Start a denial whose body follows with ``reject_body()``.

        This is ASGI's ``websocket.http.response.start``. Nothing is queued
        until the first ``reject_body()``; bytes received meanwhile are
        ignored.

        Args:
            status: The status code, 100–599 except 101.
            headers: Response headers as ``(name, value)`` bytes; any
                header may be given, the handshake's own included.

        Raises:
            InvalidState: No valid request was received, or a response was
                already started.
            ValueError: `status` is out of range, or a header is invalid.
        """

    def reject_body(self, body: _Buffer, more_body: bool = False) -> None:
        """Queue (part of) the body of a denial started by ``reject_start()``.

        A single final part without a ``Content-Length`` header gives exactly
        what ``reject()`` would; otherwise the body is chunked (or raw, when a
        ``Content-Length`` header was given). Afterwards, send
        ``data_to_send()``; after the last part (`more_body` False) the state
        is ``CLOSED``: close the transport.

        Args:
            body: The next part of the body.
            more_body: True when more parts follow.

        Raises:
            InvalidState: ``reject_start()`` was not called, or the body
                already ended.
        """

    def send_text(self, text: str) -> None:
        """Send a TEXT message in one frame.

        The text's UTF-8 bytes are copied once, by ``data_to_send()``. With
        permessage-deflate negotiated, a message of at least
        ``compression_threshold`` bytes is compressed instead (RSV1 set;
        without the GIL from 2 KiB on). Afterwards, send ``data_to_send()``
        to the peer.

        Args:
            text: The message.

        Raises:
            InvalidState: The connection is not ``OPEN``.
            TypeError: `text` is not a ``str``.
        """

    def send_binary(self, data: _Buffer) -> None:
        """Send a BINARY message in one frame.

        A ``bytes`` payload is copied once, by ``data_to_send()``; a mutable
        buffer is copied at this call (the message is what it holds now).
        Compressed as for ``send_text()``. Afterwards, send
        ``data_to_send()`` to the peer.

        Args:
            data: The message.

        Raises:
            InvalidState: The connection is not ``OPEN``.
            TypeError: `data` is not a bytes-like object.
        """

    def send_prepared(self, frame: _Buffer, *, compressed: bool = False) -> None:
        """Send a frame built once by ``prepare_frame()``, as it is.

        The broadcast path: a hub frames a message once and hands the same
        bytes to every subscriber. A ``bytes`` frame is queued by reference
        and copied once, by ``data_to_send()``; a mutable buffer is copied
        now. Afterwards, send ``data_to_send()`` to the peer.

        Args:
            frame: One complete frame from ``prepare_frame()``; it is not
                checked. With `compressed`, its window must not exceed
                ``deflate.server_max_window_bits``.
            compressed: True when the frame was built with
                ``deflate_window_bits`` (RSV1 set). If our compressor keeps
                its context, it is reset afterwards: the peer's window now
                holds data it never saw.

        Raises:
            TypeError: `frame` is not bytes-like, or `compressed` not a
                ``bool``.
            InvalidState: The connection is not ``OPEN``.
            ValueError: `compressed` is True but permessage-deflate was not
                negotiated (``'permessage-deflate was not negotiated'``).
        """

    def send_ping(self, data: _Buffer = b'') -> None:
        """Send a Ping (RFC 6455 §5.5.2).

        Afterwards, send ``data_to_send()``; the Pong surfaces as the
        ``PONG`` flag and ``last_pong``.

        Args:
            data: The payload, at most 125 bytes.

        Raises:
            InvalidState: The connection is not ``OPEN``.
            ValueError: `data` is longer than 125 bytes.
        """

    def send_pong(self, data: _Buffer = b'') -> None:
        """Send an unsolicited Pong (RFC 6455 §5.5.3), e.g. a heartbeat.

        Pings are answered automatically; this is not needed for them.

        Args:
            data: The payload, at most 125 bytes.

        Raises:
            InvalidState: The connection is not ``OPEN``.
            ValueError: `data` is longer than 125 bytes.
        """

    def send_close(self, code: int = 1000, reason: str = '') -> None:
        """Start the closing handshake (RFC 6455 §7.1.2).

        Sets ``close_sent``; the state becomes ``CLOSING`` until the peer's
        Close arrives (``CLOSED`` flag). Data received meanwhile is parsed
        but discarded. Afterwards, send ``data_to_send()`` and keep reading.

        While a failure is deferred, the peer's fault gives way to our
        Close (``error`` stays ``None``) and, since the peer's input can no
        longer be read (RFC 6455 §7.1.7), the state becomes ``CLOSED`` at
        once: check ``close_expected()`` afterwards.

        Args:
            code: A close code allowed on the wire (1000–1003, 1007–1014,
                3000–4999).
            reason: The reason, at most 123 bytes once UTF-8 encoded.

        Raises:
            InvalidState: The connection is not ``OPEN``.
            ValueError: `code` is not allowed on the wire, or `reason` is too
                long.
        """

    def fail(self, code: int, reason: str = '') -> None:
        """Fail the connection for a reason of our own (RFC 6455 §7.1.7).

        For a keepalive timeout or an application error. In ``OPEN`` a Close
        frame is queued (the reason cut to 123 UTF-8 bytes at a character
        boundary); in ``CLOSING`` nothing is. Either way the state becomes
        ``CLOSED``: send ``data_to_send()``, then close the transport. In
        ``CLOSED`` this does nothing. A deferred failure gives way to ours
        (``error`` stays ``None``).

        Args:
            code: A close code allowed on the wire.
            reason: The reason.

        Raises:
            InvalidState: The connection is still ``CONNECTING``.
            ValueError: `code` is not allowed on the wire (``OPEN`` only).
        """

    def data_to_send(self) -> bytes:
        """Take every byte waiting to be sent to the peer.

        Returns:
            A new bytes object with everything pending, joined in order (each
            payload is copied here, once), or ``b''``. Write it to the
            transport; then, if ``close_expected()``, close the transport.
        """

    def next_message(self) -> str | bytes | None:
        """Take the oldest complete message.

        With a deferred failure (``failure_deferred``) and an empty queue,
        the failure takes effect here, as an immediate one would: ``error``
        is set, the Close frame is queued and the state is ``CLOSED``. So
        after ``None``, check ``close_expected()``: when it is True, send
        ``data_to_send()`` and close the transport.

        Returns:
            A new ``str`` for a TEXT message, a new ``bytes`` for a BINARY
            one, or ``None`` when the queue is empty. When ``reading_paused``
            turns False here, resume reading from the transport.
        """

    def close_expected(self) -> bool:
        """Tell whether the transport should be closed.

        Returns:
            True once the connection is ``CLOSED``: flush ``data_to_send()``,
            then close the transport (a server at once; a client may wait
            briefly for the server to close first).
        """

    @property
    def state(self) -> State:
        """The connection state (RFC 6455 §4, §7)."""

    @property
    def request(self) -> Request | None:
        """The parsed opening request, or ``None`` until ``HANDSHAKE``."""

    @property
    def response(self) -> Response | None:
        """Always ``None`` for a server (the client role's response)."""

    @property
    def close_sent(self) -> tuple[int, str] | None:
        """The Close frame we sent: ``(code, reason)``; 1005 for an empty echo."""

    @property
    def close_received(self) -> tuple[int, str] | None:
        """The peer's Close frame: ``(code, reason)``; 1005 for an empty one."""

    @property
    def close_code(self) -> int | None:
        """The close code, or ``None`` until ``CLOSED``.

        The peer's Close code, else the code of the peer's frame fault, else
        the code we sent, else 1006 (closed without a Close frame).
        """

    @property
    def close_reason(self) -> str | None:
        """The reason that goes with ``close_code`` (``''`` for 1006)."""

    @property
    def error(self) -> tuple[int, str] | None:
        """The peer's fault: ``(close code or HTTP status, message)``, or ``None``."""

    @property
    def failure_deferred(self) -> bool:
        """Whether a peer fault waits for the queued messages to be taken.

        While True the state is ``OPEN`` (messages may be sent), input is
        ignored and ``error`` is ``None``. The adapter bounds the wait: once
        ``close_timeout`` passes it drains the queue and calls
        ``next_message()`` once more.
        """

    @property
    def last_pong(self) -> bytes | None:
        """The payload of the most recent Pong, or ``None``."""

    @property
    def queued_messages(self) -> int:
        """How many complete messages wait for ``next_message()``."""

    @property
    def queued_bytes(self) -> int:
        """How many payload bytes (UTF-8 bytes for text) are queued."""

    @property
    def reading_paused(self) -> bool:
        """Whether the inbound queue reached a high-water mark.

        While True, stop reading from the transport; it becomes False in
        ``next_message()`` once both low-water marks are reached.
        """

    @property
    def pending_output(self) -> int:
        """How many bytes wait for ``data_to_send()``."""

    @property
    def writing_paused(self) -> bool:
        """Whether ``pending_output`` reached ``write_limit``."""

    @property
    def deflate(self) -> DeflateParams | None:
        """The permessage-deflate parameters agreed in ``accept()``, or ``None``.

        Each as the response states it, 15 for a window it does not name.
        """

@disjoint_base
class ClientConnection:
    """The client side of a WebSocket connection, as a sans-I/O engine.

    Call ``send_request()`` and send ``data_to_send()``; feed the response
    with ``receive_data()``. On ``HANDSHAKE`` the connection is ``OPEN`` and
    bytes after the response head were already parsed as frames.

    Args:
        host: The ``Host`` header value, e.g. ``'example.com:8000'``; sent
            encoded as UTF-8, without CR, LF or NUL.
        target: The request-target in origin form (``/`` then visible
            ASCII), already percent-encoded, e.g. ``'/chat?room=1'``.

    Keyword Args:
        subprotocols: Subprotocols to offer, in order of preference; each an
            RFC 9110 token.
        headers: Extra request headers as ``(name, value)`` bytes; not
            ``Sec-WebSocket-Extensions`` (see `compression`).
        origin: The ``Origin`` header value (sent encoded as UTF-8, without
            CR, LF or NUL), or ``None`` to leave it out.
        random: A callable returning `n` random bytes, called with 16 for
            the key and with 4 for each frame's mask; the default is an
            OS-seeded CSPRNG (ChaCha, per thread). With the same `random`,
            both engines produce byte-identical output.
        max_size: As for ``ServerConnection``; so are the other limits
            (``max_request_line`` limits the status line) and the
            compression keywords, except:
        compression: Offer permessage-deflate in ``send_request()``
            (``permessage-deflate; client_max_window_bits``, plus
            ``server_max_window_bits`` when `deflate_window_bits` is below 15
            and ``client_no_context_takeover`` when asked).
        deflate_no_context_takeover: Offer ``client_no_context_takeover``
            and keep to it whatever the server answers.

    Raises:
        ValueError: A limit is zero or negative, a compression keyword is
            out of range; then, in argument order: `host` contains CR, LF or
            NUL (``'invalid host'``), `target` is not origin-form visible
            ASCII (``'invalid request target'``), a subprotocol is not a
            token (``'invalid subprotocol'``), a header is invalid or sets
            ``Sec-WebSocket-Extensions`` (``'set extensions with the
            compression options'``), `origin` contains CR, LF or NUL
            (``'invalid origin'``). A ``str`` with a lone surrogate raises
            ``UnicodeEncodeError``.
        TypeError: An argument has the wrong type.
    """

    def __new__(
        cls,
        host: str,
        target: str = '/',
        *,
        subprotocols: Sequence[str] = (),
        headers: Sequence[tuple[bytes, bytes]] = (),
        origin: str | None = None,
        random: Callable[[int], bytes] | None = None,
        max_size: int | None = 16777216,
        max_frame_size: int | None = None,
        max_fragments: int | None = None,
        max_queue: int | None = 32,
        max_queue_bytes: int | None = 4194304,
        write_limit: int = 65536,
        max_request_line: int = 8192,
        max_header_line: int = 8192,
        max_headers: int = 128,
        compression: bool = False,
        compression_threshold: int = 128,
        deflate_window_bits: int = 12,
        deflate_mem_level: int = 5,
        deflate_level: int = 6,
        deflate_no_context_takeover: bool = False,
    ) -> ClientConnection: ...
    def send_request(self) -> None:
        """Queue the opening request (RFC 6455 §4.1).

        Afterwards, send ``data_to_send()`` and feed the response to
        ``receive_data()``.

        Raises:
            InvalidState: The request was already sent, or the connection is
                no longer ``CONNECTING``.
            ValueError: `random` returned the wrong number of bytes.
        """

    def receive_data(self, data: _Buffer) -> int:
        """Feed bytes received from the network.

        In ``CONNECTING`` they go to the response parser; a 101 that passes
        every check opens the connection (``HANDSHAKE``) and the bytes after
        it are parsed as frames in the same call. With `compression`, the
        response may accept our offer (``deflate`` is then set); an answer
        we cannot accept fails with ``'invalid Sec-WebSocket-Extensions
        header'``. Compressed messages are inflated as for
        ``ServerConnection.receive_data()``. A rejection waits for its
        body (up to ``Content-Length``, at most 65536 bytes), then fails
        with ``response`` set. Afterwards, send ``data_to_send()`` and act on
        the flags as for ``ServerConnection.receive_data()``.

        Args:
            data: The bytes, as read from the transport. What the engine
                keeps is copied: the buffer may be reused as soon as the
                call returns.

        Returns:
            The OR of the flags of what this call did; ``0`` when it consumed
            nothing.

        Raises:
            TypeError: `data` is not a bytes-like object.
            ValueError: `random` returned the wrong number of bytes (for an
                automatic Pong or Close echo); any exception `random` raises
                also propagates.
        """

    def receive_eof(self) -> int:
        """Tell the engine that the peer closed its side of the transport.

        Returns:
            ``CLOSED`` (``FAILED | CLOSED`` when a failure was deferred, now
            recorded in ``error``), or ``0`` when the connection was already
            ``CLOSED``.
        """

    def send_text(self, text: str) -> None:
        """Send a TEXT message in one frame, masked with a fresh key.

        Compressed as for ``ServerConnection.send_text()``.

        Args:
            text: The message.

        Raises:
            InvalidState: The connection is not ``OPEN``.
            TypeError: `text` is not a ``str``.
        """

    def send_binary(self, data: _Buffer) -> None:
        """Send a BINARY message in one frame, masked with a fresh key.

        Args:
            data: The message.

        Raises:
            InvalidState: The connection is not ``OPEN``.
            TypeError: `data` is not a bytes-like object.
        """

    def send_ping(self, data: _Buffer = b'') -> None:
        """Send a Ping (RFC 6455 §5.5.2).

        Args:
            data: The payload, at most 125 bytes.

        Raises:
            InvalidState: The connection is not ``OPEN``.
            ValueError: `data` is longer than 125 bytes.
        """

    def send_pong(self, data: _Buffer = b'') -> None:
        """Send an unsolicited Pong (RFC 6455 §5.5.3).

        Args:
            data: The payload, at most 125 bytes.

        Raises:
            InvalidState: The connection is not ``OPEN``.
            ValueError: `data` is longer than 125 bytes.
        """

    def send_close(self, code: int = 1000, reason: str = '') -> None:
        """Start the closing handshake (RFC 6455 §7.1.2).

        Args:
            code: A close code allowed on the wire.
            reason: The reason, at most 123 bytes once UTF-8 encoded.

        Raises:
            InvalidState: The connection is not ``OPEN``.
            ValueError: `code` is not allowed on the wire, or `reason` is too
                long.
        """

    def fail(self, code: int, reason: str = '') -> None:
        """Fail the connection for a reason of our own (RFC 6455 §7.1.7).

        Args:
            code: A close code allowed on the wire.
            reason: The reason (cut to 123 UTF-8 bytes).

        Raises:
            InvalidState: The connection is still ``CONNECTING``.
            ValueError: `code` is not allowed on the wire (``OPEN`` only).
        """

    def data_to_send(self) -> bytes:
        """Take every byte waiting to be sent to the peer.

        Returns:
            A new bytes object with everything pending, joined, or ``b''``.
        """

    def next_message(self) -> str | bytes | None:
        """Take the oldest complete message.

        A deferred failure takes effect when the queue is empty, as for
        ``ServerConnection.next_message()``: after ``None``, check
        ``close_expected()``.

        Returns:
            A new ``str`` (TEXT), ``bytes`` (BINARY), or ``None``.

        Raises:
            ValueError: `random` returned the wrong number of bytes for the
                Close frame of a deferred failure (which stays deferred);
                any exception `random` raises also propagates.
        """

    def close_expected(self) -> bool:
        """Tell whether the transport should be closed.

        Returns:
            True once the connection is ``CLOSED``; a client may wait briefly
            for the server to close the TCP connection first.
        """

    @property
    def state(self) -> State:
        """The connection state (RFC 6455 §4, §7)."""

    @property
    def request(self) -> Request | None:
        """Always ``None`` for a client (the server role's request)."""

    @property
    def response(self) -> Response | None:
        """The server's response: a 101 once ``OPEN``, or the rejection."""

    @property
    def close_sent(self) -> tuple[int, str] | None:
        """The Close frame we sent: ``(code, reason)``."""

    @property
    def close_received(self) -> tuple[int, str] | None:
        """The peer's Close frame: ``(code, reason)``."""

    @property
    def close_code(self) -> int | None:
        """The close code, or ``None`` until ``CLOSED``."""

    @property
    def close_reason(self) -> str | None:
        """The reason that goes with ``close_code``."""

    @property
    def error(self) -> tuple[int, str] | None:
        """The peer's fault: ``(close code, message)``; 1002 for the handshake."""

    @property
    def failure_deferred(self) -> bool:
        """Whether a peer fault waits for the queued messages to be taken."""

    @property
    def last_pong(self) -> bytes | None:
        """The payload of the most recent Pong, or ``None``."""

    @property
    def queued_messages(self) -> int:
        """How many complete messages wait for ``next_message()``."""

    @property
    def queued_bytes(self) -> int:
        """How many payload bytes are queued."""

    @property
    def reading_paused(self) -> bool:
        """Whether the inbound queue reached a high-water mark."""

    @property
    def pending_output(self) -> int:
        """How many bytes wait for ``data_to_send()``."""

    @property
    def writing_paused(self) -> bool:
        """Whether ``pending_output`` reached ``write_limit``."""

    @property
    def deflate(self) -> DeflateParams | None:
        """The permessage-deflate parameters of the server's 101, or ``None``.

        Each as the response states it, 15 for a window it does not name;
        ``client_no_context_takeover`` is also True when we offered it.
        """
