"""The sans-I/O WebSocket state machine, server and client roles.

The twin of ``rust/src/connection.rs``, and the executable form of
``docs/topics/engine-contract.md``. A connection turns bytes received into
complete messages and flags, and the caller's requests into bytes to send.
It never touches a socket, a clock or a thread.

The calling protocol: after every input call (``receive_data()``,
``receive_request()``, ``receive_eof()``, ``accept()``), send
``data_to_send()`` to the peer and act on the returned flags; after every
output call, send ``data_to_send()``. Faults of the peer never raise: they
set ``error``, queue the right Close frame or HTTP response, and return
``FAILED``; a frame fault behind queued messages is deferred instead
(``DEFERRED``) until ``next_message()`` finds the queue empty. Misuse by the
caller raises at once.

With ``compression=True`` the connection negotiates permessage-deflate
(RFC 7692) and hands payloads to ``deflate.py`` for (de)compression; what is
inflated goes through the same size and UTF-8 checks as plain payloads.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Sequence

from ...errors import (
    HandshakeError,
    InvalidPayloadData,
    InvalidState,
    PayloadTooBig,
    ProtocolError,
)
from ..common import (
    CLOSE_RECEIVED,
    CLOSED,
    DEFERRED,
    FAILED,
    HANDSHAKE,
    MESSAGES,
    OUTPUT,
    PAUSE,
    PONG,
    DeflateParams,
    Request,
    Response,
    State,
)
from .close import (
    ABNORMAL_CLOSURE,
    MAX_REASON_BYTES,
    check_code,
    parse_close,
    serialize_close,
    truncate_reason,
)
from .deflate import (
    DeflateOptions,
    Deflater,
    Inflater,
    check_types,
    client_offer,
    client_params,
    negotiate,
)
from .frame import (
    MAX_CONTROL_PAYLOAD,
    FrameHeader,
    OpCode,
    check_header,
    frame_header,
    header_size,
    parse_header,
)
from .handshake import (
    HeadParser,
    accept_response,
    check_client_request,
    check_headers,
    client_request,
    failure_response,
    header_pairs,
    reject_head,
    validate_request,
    validate_response,
)
from .mask import Buffer, as_bytes, mask_from
from .queue import BinaryBuffer, InboundQueue, OutboundBuffer, TextBuffer
from .utf8 import decode, new_decoder

__all__ = ['ClientConnection', 'ServerConnection']

BEFORE_ACCEPT_LIMIT = 65536
"""Most bytes a server keeps between the request head and its answer."""

REJECTION_BODY_LIMIT = 65536
"""Most body bytes a client keeps from a rejection response."""

_CONNECTING = State.CONNECTING
_OPEN = State.OPEN
_CLOSING = State.CLOSING
_CLOSED = State.CLOSED

_CONT = int(OpCode.CONTINUATION)
_TEXT = int(OpCode.TEXT)
_BINARY = int(OpCode.BINARY)
_CLOSE = int(OpCode.CLOSE)
_PING = int(OpCode.PING)
_PONG = int(OpCode.PONG)
_CONTROL = 0x8

# Where the payload of the frame being read goes.
_SINK_DISCARD = 0
_SINK_TEXT = 1
_SINK_BINARY = 2
_SINK_CONTROL = 3

_OWS = b' \t'


def _limit(name: str, value: int) -> int:
    if value < 1:
        raise ValueError(f'{name} must be positive')
    return value


def _optional_limit(name: str, value: int | None) -> int | None:
    return None if value is None else _limit(name, value)


def _state_error(method: str, state: State) -> InvalidState:
    return InvalidState(f'{method}() is not allowed in state {state.name}')


def _check_str(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f'{name} must be a str, not {type(value).__name__}')
    return value


def _check_text(name: str, value: object) -> str:
    # PyO3 encodes a str argument to UTF-8 while extracting it, so a lone
    # surrogate raises UnicodeEncodeError before anything else is checked.
    text = _check_str(name, value)
    text.encode('utf-8')
    return text


def _check_int(name: str, value: object) -> int:
    if not isinstance(value, int):
        raise TypeError(f'{name} must be an int, not {type(value).__name__}')
    return value


class _Connection:
    """The state machine shared by both roles (RFC 6455 §5–§7)."""

    __slots__ = (
        '_close_received',
        '_close_sent',
        '_compressed',
        '_control',
        '_binary',
        '_decoder',
        '_deflate',
        '_deflate_options',
        '_deflater',
        '_deferred',
        '_error',
        '_flags',
        '_frame_fault',
        '_header',
        '_inflater',
        '_is_server',
        '_key',
        '_last_pong',
        '_max_fragments',
        '_max_frame_size',
        '_max_header_line',
        '_max_headers',
        '_max_request_line',
        '_max_size',
        '_message_frames',
        '_message_opcode',
        '_fin',
        '_offset',
        '_opcode',
        '_outbound',
        '_queue',
        '_remaining',
        '_request',
        '_response',
        '_sink',
        '_text',
        '_state',
        '_write_limit',
    )

    def __init__(
        self,
        is_server: bool,
        max_size: int | None,
        max_frame_size: int | None,
        max_fragments: int | None,
        max_queue: int | None,
        max_queue_bytes: int | None,
        write_limit: int,
        max_request_line: int,
        max_header_line: int,
        max_headers: int,
        compression: bool,
        compression_threshold: int,
        deflate_window_bits: int,
        deflate_mem_level: int,
        deflate_level: int,
        deflate_no_context_takeover: bool,
    ) -> None:
        self._is_server = is_server
        # Types first, as PyO3 checks them while extracting the arguments.
        for name, value in (
            ('max_size', max_size),
            ('max_frame_size', max_frame_size),
            ('max_fragments', max_fragments),
            ('max_queue', max_queue),
            ('max_queue_bytes', max_queue_bytes),
        ):
            if value is not None:
                _check_int(name, value)
        _check_int('write_limit', write_limit)
        _check_int('max_request_line', max_request_line)
        _check_int('max_header_line', max_header_line)
        _check_int('max_headers', max_headers)
        check_types(
            compression,
            compression_threshold,
            deflate_window_bits,
            deflate_mem_level,
            deflate_level,
            deflate_no_context_takeover,
        )
        self._max_size = _optional_limit('max_size', max_size)
        self._max_frame_size = _optional_limit('max_frame_size', max_frame_size)
        self._max_fragments = _optional_limit('max_fragments', max_fragments)
        queue_count = _optional_limit('max_queue', max_queue)
        queue_bytes = _optional_limit('max_queue_bytes', max_queue_bytes)
        self._write_limit = _limit('write_limit', write_limit)
        self._max_request_line = _limit('max_request_line', max_request_line)
        self._max_header_line = _limit('max_header_line', max_header_line)
        self._max_headers = _limit('max_headers', max_headers)
        options = DeflateOptions(
            compression_threshold,
            deflate_window_bits,
            deflate_mem_level,
            deflate_level,
            deflate_no_context_takeover,
        )
        # permessage-deflate (RFC 7692): our keywords when enabled, then the
        # agreed parameters and both zlib streams once negotiated.
        self._deflate_options = options if compression else None
        self._deflate: DeflateParams | None = None
        self._deflater: Deflater | None = None
        self._inflater: Inflater | None = None
        self._compressed = False
        self._queue = InboundQueue(queue_count, queue_bytes)
        self._outbound = OutboundBuffer()
        self._state = _CONNECTING
        self._flags = 0
        self._request: Request | None = None
        self._response: Response | None = None
        self._close_sent: tuple[int, str] | None = None
        self._close_received: tuple[int, str] | None = None
        self._error: tuple[int, str] | None = None
        self._frame_fault = False
        # A peer fault found while messages were queued: (code, message).
        self._deferred: tuple[int, str] | None = None
        self._last_pong: bytes | None = None
        # The frame being read: header bytes so far, then its payload.
        self._header = bytearray()
        self._remaining = -1
        self._opcode = 0
        self._fin = True
        self._key: bytes | None = None
        self._offset = 0
        self._sink = _SINK_DISCARD
        self._control = bytearray()
        # The message being assembled (opcode 0: none in progress).
        self._message_opcode = 0
        self._text = TextBuffer()
        self._binary = BinaryBuffer()
        self._message_frames = 0
        self._decoder = new_decoder()

    # --- attributes ------------------------------------------------------------

    @property
    def state(self) -> State:
        """The connection state (RFC 6455 §4, §7)."""
        return self._state

    @property
    def request(self) -> Request | None:
        """The parsed opening request (server role), or ``None``."""
        return self._request

    @property
    def response(self) -> Response | None:
        """The parsed opening response (client role), or ``None``."""
        return self._response

    @property
    def close_sent(self) -> tuple[int, str] | None:
        """The Close frame we sent: ``(code, reason)``; 1005 for an empty one."""
        return self._close_sent

    @property
    def close_received(self) -> tuple[int, str] | None:
        """The peer's Close frame: ``(code, reason)``; 1005 for an empty one."""
        return self._close_received

    @property
    def close_code(self) -> int | None:
        """The close code of the connection, or ``None`` until ``CLOSED``.

        The peer's Close code, else the code of the peer's frame fault, else
        the code we sent, else 1006 (closed without a Close frame).
        """
        if self._state is not _CLOSED:
            return None
        return self._close_result()[0]

    @property
    def close_reason(self) -> str | None:
        """The reason that goes with ``close_code``, or ``None`` until ``CLOSED``."""
        if self._state is not _CLOSED:
            return None
        return self._close_result()[1]

    def _close_result(self) -> tuple[int, str]:
        if self._close_received is not None:
            return self._close_received
        if self._error is not None and self._frame_fault:
            return self._error
        if self._close_sent is not None:
            return self._close_sent
        return ABNORMAL_CLOSURE, ''

    @property
    def error(self) -> tuple[int, str] | None:
        """The peer's fault: ``(close code or HTTP status, message)``, or ``None``."""
        return self._error

    @property
    def failure_deferred(self) -> bool:
        """Whether a peer fault waits for the queued messages to be taken.

        While True the state is still ``OPEN`` (messages may be sent) and
        input is ignored; the ``next_message()`` call that finds the queue
        empty fails the connection.
        """
        return self._deferred is not None

    @property
    def deflate(self) -> DeflateParams | None:
        """The permessage-deflate parameters agreed on, or ``None``."""
        return self._deflate

    def _use_deflate(
        self,
        agreed: DeflateParams,
        options: DeflateOptions,
        ours: tuple[int, bool],
        theirs: tuple[int, bool],
    ) -> None:
        # Both zlib streams are created on first use (lazily).
        self._deflate = agreed
        window_bits, no_context_takeover = ours
        self._deflater = Deflater(
            window_bits, options.mem_level, options.level, no_context_takeover
        )
        self._inflater = Inflater(*theirs)

    @property
    def last_pong(self) -> bytes | None:
        """The payload of the most recent Pong, or ``None``."""
        return self._last_pong

    @property
    def queued_messages(self) -> int:
        """How many complete messages wait for ``next_message()``."""
        return self._queue.messages

    @property
    def queued_bytes(self) -> int:
        """How many payload bytes (UTF-8 bytes for text) are queued."""
        return self._queue.size

    @property
    def reading_paused(self) -> bool:
        """Whether the inbound queue reached a high-water mark.

        While True, stop reading from the transport; it becomes False in
        ``next_message()`` once both low-water marks are reached.
        """
        return self._queue.paused

    @property
    def pending_output(self) -> int:
        """How many bytes wait for ``data_to_send()``."""
        return self._outbound.size

    @property
    def writing_paused(self) -> bool:
        """Whether ``pending_output`` reached ``write_limit``."""
        return self._outbound.size >= self._write_limit

    def close_expected(self) -> bool:
        """Tell whether the transport should be closed.

        Returns:
            True once the connection is ``CLOSED``: flush ``data_to_send()``,
            then close the transport (a server at once; a client may wait
            briefly for the server to close first).
        """
        return self._state is _CLOSED

    # --- output ----------------------------------------------------------------

    def data_to_send(self) -> bytes:
        """Take every byte waiting to be sent to the peer.

        Returns:
            Everything pending, joined in order, or ``b''``. Write it to the
            transport; then, if ``close_expected()``, close the transport.
        """
        return self._outbound.drain()

    def next_message(self) -> str | bytes | None:
        """Take the oldest complete message.

        When a failure was deferred (``failure_deferred``) and the queue is
        empty, it takes effect here: ``error`` is set, the Close frame is
        queued and the state becomes ``CLOSED``. So after a ``None``, check
        ``close_expected()``: if it is now True, send ``data_to_send()``
        and close the transport.

        Returns:
            A ``str`` for a TEXT message, ``bytes`` for a BINARY one, or
            ``None`` when the queue is empty. When ``reading_paused`` turns
            False here, resume reading from the transport.

        Raises:
            ValueError: A client's `random` returned the wrong number of
                bytes for the Close frame of a deferred failure (which
                stays deferred); whatever `random` raises propagates too.
        """
        message = self._queue.pop()
        deferred = self._deferred
        if message is None and deferred is not None:
            self._fail(*deferred)
        return message

    def send_text(self, text: str) -> None:
        """Send a TEXT message in one frame.

        Afterwards, send ``data_to_send()`` to the peer.

        Args:
            text: The message.

        Raises:
            TypeError: `text` is not a ``str``.
            InvalidState: The connection is not ``OPEN``.
        """
        _check_str('text', text)
        self._check_open('send_text')
        self._send_message(_TEXT, text.encode('utf-8'))

    def send_binary(self, data: Buffer) -> None:
        """Send a BINARY message in one frame.

        Afterwards, send ``data_to_send()`` to the peer.

        Args:
            data: The message.

        Raises:
            TypeError: `data` is not a bytes-like object.
            InvalidState: The connection is not ``OPEN``.
        """
        payload = as_bytes(data)
        self._check_open('send_binary')
        self._send_message(_BINARY, payload)

    def send_ping(self, data: Buffer = b'') -> None:
        """Send a Ping (RFC 6455 §5.5.2).

        Afterwards, send ``data_to_send()`` to the peer; the Pong surfaces
        as the ``PONG`` flag and ``last_pong``.

        Args:
            data: The payload, at most 125 bytes.

        Raises:
            TypeError: `data` is not a bytes-like object.
            InvalidState: The connection is not ``OPEN``.
            ValueError: `data` is longer than 125 bytes.
        """
        self._send_control('send_ping', _PING, data)

    def send_pong(self, data: Buffer = b'') -> None:
        """Send an unsolicited Pong (RFC 6455 §5.5.3), e.g. a heartbeat.

        Pings are answered automatically; this is not needed for them.

        Args:
            data: The payload, at most 125 bytes.

        Raises:
            TypeError: `data` is not a bytes-like object.
            InvalidState: The connection is not ``OPEN``.
            ValueError: `data` is longer than 125 bytes.
        """
        self._send_control('send_pong', _PONG, data)

    def send_close(self, code: int = 1000, reason: str = '') -> None:
        """Start the closing handshake (RFC 6455 §7.1.2).

        Afterwards, send ``data_to_send()`` and keep reading: the state is
        ``CLOSING`` until the peer's Close arrives (``CLOSED`` flag).
        Messages that arrive meanwhile are discarded.

        While a failure is deferred (``failure_deferred``) the fault is
        dropped for our Close (``error`` stays ``None``), and since the
        peer's input can no longer be read (RFC 6455 §7.1.7) there is no
        Close to wait for: the state becomes ``CLOSED`` at once. Check
        ``close_expected()`` afterwards.

        Args:
            code: A close code allowed on the wire.
            reason: The reason, at most 123 bytes once UTF-8 encoded.

        Raises:
            TypeError: `code` is not an ``int`` or `reason` not a ``str``.
            InvalidState: The connection is not ``OPEN``.
            ValueError: `code` is not allowed on the wire, or `reason` is too
                long.
        """
        _check_int('code', code)
        _check_str('reason', reason)
        self._check_open('send_close')
        check_code(code)
        payload = serialize_close(code, reason)
        if len(payload) - 2 > MAX_REASON_BYTES:
            raise ValueError('close reason exceeds 123 bytes')
        self._write_frame(_CLOSE, payload)
        self._close_sent = (code, reason)
        if self._deferred is not None:
            # RFC 6455 §7.1.7: after the peer's fault nothing more is read,
            # not even its answer to our Close.
            self._set_closed()
            return
        self._state = _CLOSING
        # RFC 6455 §7.1.2: the peer may still send data frames; they are
        # parsed but no longer delivered.
        self._drop_message_payload()

    def fail(self, code: int, reason: str = '') -> None:
        """Fail the connection for a reason of our own (RFC 6455 §7.1.7).

        Use it for a keepalive timeout or an application error. In ``OPEN``
        a Close frame is queued (the reason is cut to 123 UTF-8 bytes at a
        character boundary); in ``CLOSING`` nothing is. Either way the state
        becomes ``CLOSED``: send ``data_to_send()``, then close the
        transport. In ``CLOSED`` this does nothing. A deferred failure is
        dropped for our Close (``error`` stays ``None``).

        Args:
            code: A close code allowed on the wire.
            reason: The reason.

        Raises:
            TypeError: `code` is not an ``int`` or `reason` not a ``str``.
            InvalidState: The connection is still ``CONNECTING``.
            ValueError: `code` is not allowed on the wire (``OPEN`` only).
        """
        _check_int('code', code)
        _check_str('reason', reason)
        state = self._state
        if state is _CONNECTING:
            raise _state_error('fail', state)
        if state is _OPEN:
            check_code(code)
            reason = truncate_reason(reason)
            self._write_frame(_CLOSE, serialize_close(code, reason))
            self._close_sent = (code, reason)
        if state is not _CLOSED:
            self._set_closed()

    def _check_open(self, method: str) -> None:
        if self._state is not _OPEN:
            raise _state_error(method, self._state)

    def _send_control(self, method: str, opcode: int, data: Buffer) -> None:
        payload = as_bytes(data)
        self._check_open(method)
        if len(payload) > MAX_CONTROL_PAYLOAD:
            raise ValueError('control frame payload exceeds 125 bytes')
        self._write_frame(opcode, payload)

    def _send_message(self, opcode: int, payload: bytes) -> None:
        # RFC 7692 §6.1: a compressed message is one frame with RSV1 set.
        deflater = self._deflater
        options = self._deflate_options
        if (
            deflater is not None
            and options is not None
            and len(payload) >= options.threshold
        ):
            self._write_frame(opcode, deflater.compress(payload), rsv1=True)
        else:
            self._write_frame(opcode, payload)

    def _write_frame(self, opcode: int, payload: bytes, rsv1: bool = False) -> None:
        # RFC 6455 §5.1, §5.3: a client masks every frame with a fresh key;
        # a server never masks.
        outbound = self._outbound
        if self._is_server:
            outbound.write(frame_header(opcode, len(payload), rsv1=rsv1))
            outbound.write(payload)
        else:
            key = self._random(4)
            outbound.write(frame_header(opcode, len(payload), rsv1=rsv1, key=key))
            outbound.write(mask_from(payload, key))

    def _random(self, size: int) -> bytes:
        raise NotImplementedError  # pragma: no cover - each role defines it

    # --- input -----------------------------------------------------------------

    def receive_data(self, data: Buffer) -> int:
        """Feed bytes received from the network.

        Afterwards, send ``data_to_send()`` to the peer and act on the
        flags: ``HANDSHAKE`` (server: call ``accept()`` or ``reject()``),
        ``MESSAGES`` (call ``next_message()``), ``PAUSE`` (stop reading),
        ``CLOSED`` (close the transport once flushed). Faults of the peer do
        not raise: they set ``error`` and return ``FAILED``.

        A fault found while complete messages are still queued is
        deferred: the call returns ``DEFERRED`` (with its other flags), the
        connection stays ``OPEN`` and every later input is ignored until
        ``next_message()`` finds the queue empty and fails the connection.

        Args:
            data: The bytes, as read from the transport. What the engine
                keeps is copied: the buffer may be reused as soon as the
                call returns.

        Returns:
            The flags of what this call did; ``0`` when it consumed nothing
            (no bytes, the connection is ``CLOSED``, or a failure is
            deferred).

        Raises:
            TypeError: `data` is not a bytes-like object.
        """
        chunk = as_bytes(data)
        state = self._state
        if state is _CLOSED or not chunk or self._deferred is not None:
            return 0
        self._flags = 0
        if state is _CONNECTING:
            self._receive_handshake(chunk)
        else:
            self._receive_frames(chunk)
        return self._end_input()

    def receive_eof(self) -> int:
        """Tell the engine that the peer closed its side of the transport.

        A partial message is dropped, no Close frame is sent and ``error``
        stays unset, except that a deferred failure is recorded in
        ``error`` (then ``FAILED`` is returned too). Queued messages can
        still be taken. Afterwards, close the transport.

        Returns:
            ``CLOSED`` (``FAILED | CLOSED`` with a deferred failure), or ``0``
            when the connection was already ``CLOSED``.
        """
        if self._state is _CLOSED:
            return 0
        deferred = self._deferred
        self._set_closed()
        if deferred is None:
            return CLOSED
        self._error = deferred
        self._frame_fault = True
        return FAILED | CLOSED

    def _receive_handshake(self, data: bytes) -> None:
        raise NotImplementedError  # pragma: no cover - each role defines it

    def _end_input(self) -> int:
        flags = self._flags
        if self._queue.update_pause():
            flags |= PAUSE
        return flags

    def _set_closed(self) -> None:
        self._state = _CLOSED
        self._deferred = None
        self._drop_input()

    def _drop_input(self) -> None:
        # Nothing more is parsed: forget the frame and message in progress.
        self._message_opcode = 0
        self._drop_message_payload()
        self._header.clear()
        self._control.clear()

    def _drop_message_payload(self) -> None:
        self._compressed = False
        self._text.clear()
        self._binary.clear()
        self._decoder.reset()
        if self._remaining >= 0 and self._sink in (_SINK_TEXT, _SINK_BINARY):
            self._sink = _SINK_DISCARD

    def _receive_frames(self, data: bytes) -> None:
        """Parse frames from `data` while the connection is OPEN or CLOSING."""
        view = memoryview(data)
        pos = 0
        end = len(data)
        try:
            while pos < end and self._state is not _CLOSED:
                remaining = self._remaining
                if remaining < 0:
                    pos = self._read_header(data, pos, end)
                    if self._remaining == 0:
                        self._end_frame()
                    continue
                take = min(remaining, end - pos)
                if self._sink != _SINK_DISCARD:
                    self._read_payload(view[pos : pos + take])
                self._offset += take
                pos += take
                self._remaining = remaining - take
                if remaining == take:
                    self._end_frame()
        except ProtocolError as ex:
            self._fail_peer(ex.close_code, ex.reason)

    def _read_header(self, data: bytes, pos: int, end: int) -> int:
        header = self._header
        if not header and end - pos >= 2:
            size = header_size(data[pos + 1])
            if end - pos >= size:
                self._start_frame(parse_header(data, pos))
                return pos + size
        if len(header) < 2:
            take = min(2 - len(header), end - pos)
            header += data[pos : pos + take]
            pos += take
            if len(header) < 2:
                return pos
        size = header_size(header[1])
        take = min(size - len(header), end - pos)
        header += data[pos : pos + take]
        pos += take
        if len(header) == size:
            parsed = parse_header(bytes(header))
            header.clear()
            self._start_frame(parsed)
        return pos

    def _start_frame(self, header: FrameHeader) -> None:
        # Rows 1-8 of the contract's fault table, then rows 9-13.
        check_header(header, self._is_server, self._inflater is not None)
        opcode = header.opcode
        length = header.length
        sink = _SINK_CONTROL
        if not opcode & _CONTROL:
            # RFC 6455 §5.4: a fragmented message is one TEXT or BINARY frame
            # and continuations, never interleaved with another message.
            if opcode == _CONT:
                if not self._message_opcode:
                    raise ProtocolError(
                        'received continuation frame without a message in progress'
                    )
            elif self._message_opcode:
                raise ProtocolError(
                    'received new data frame before the previous message finished'
                )
            if self._state is _OPEN:
                sink = self._start_data_frame(opcode, length, bool(header.rsv))
            else:
                # RFC 6455 §7.1.2: after our Close, data is parsed, not kept.
                sink = _SINK_DISCARD
                if opcode != _CONT:
                    self._message_opcode = opcode
        else:
            self._control.clear()
        self._opcode = opcode
        self._fin = header.fin
        self._key = header.key
        self._offset = 0
        self._sink = sink
        self._remaining = length

    def _start_data_frame(self, opcode: int, length: int, rsv1: bool) -> int:
        # RFC 6455 §10.4: limit frames and messages before reading a byte of
        # them; nothing is allocated from the declared length.
        max_frame_size = self._max_frame_size
        if max_frame_size is not None and length > max_frame_size:
            raise PayloadTooBig(f'frame exceeds {max_frame_size} bytes')
        continuing = opcode == _CONT
        compressed = self._compressed if continuing else rsv1
        max_size = self._max_size
        # NOTE(gyrfalcon): a compressed message is limited by its inflated
        #   size, as it is inflated (_take_inflated); its wire length says
        #   nothing about that.
        if max_size is not None and not compressed:
            size = self._message_size() if continuing else 0
            if size + length > max_size:
                raise PayloadTooBig(f'message exceeds {max_size} bytes')
        frames = (self._message_frames if continuing else 0) + 1
        max_fragments = self._max_fragments
        if max_fragments is not None and frames > max_fragments:
            raise PayloadTooBig(f'message exceeds {max_fragments} fragments')
        if not continuing:
            self._message_opcode = opcode
            self._compressed = compressed
            if compressed:
                inflater = self._inflater
                assert inflater is not None
                inflater.start()
        self._message_frames = frames
        return _SINK_TEXT if self._message_opcode == _TEXT else _SINK_BINARY

    def _message_size(self) -> int:
        return self._text.size if self._message_opcode == _TEXT else self._binary.size

    def _read_payload(self, chunk: memoryview) -> None:
        key = self._key
        data = mask_from(chunk, key, self._offset) if key is not None else bytes(chunk)
        sink = self._sink
        if sink == _SINK_CONTROL:
            self._control += data
        elif self._compressed:
            inflater = self._inflater
            assert inflater is not None
            self._take_inflated(inflater.feed(data, self._inflate_cap()))
        else:
            self._append_payload(sink, data)

    def _append_payload(self, sink: int, data: bytes) -> None:
        if sink == _SINK_TEXT:
            # RFC 6455 §8.1: fail as soon as the text cannot be valid UTF-8.
            text = decode(self._decoder, data)
            if text is None:
                raise InvalidPayloadData('invalid UTF-8 in text message')
            self._text.append(data, text)
        else:
            self._binary.append(data)

    def _inflate_cap(self) -> int:
        # One byte more than the message may still grow proves it too big;
        # zlib never produces more (0: no limit).
        max_size = self._max_size
        return 0 if max_size is None else max_size - self._message_size() + 1

    def _take_inflated(self, data: bytes) -> None:
        # RFC 7692 §7.2.2 and CVE-2018-1000518: max_size limits the inflated
        # message. The bytes within the limit are checked first, so the
        # outcome does not depend on how the input was split.
        max_size = self._max_size
        if max_size is not None:
            room = max_size - self._message_size()
            if len(data) > room:
                if (
                    self._sink == _SINK_TEXT
                    and decode(self._decoder, data[:room]) is None
                ):
                    raise InvalidPayloadData('invalid UTF-8 in text message')
                raise PayloadTooBig(f'message exceeds {max_size} bytes')
        if data:
            self._append_payload(self._sink, data)

    def _end_frame(self) -> None:
        self._remaining = -1
        sink = self._sink
        if sink == _SINK_CONTROL:
            self._control_frame(self._opcode, bytes(self._control))
            return
        if not self._fin:
            return
        if self._compressed:
            inflater = self._inflater
            assert inflater is not None
            # RFC 7692 §7.2.2: append the tail the sender removed.
            self._take_inflated(inflater.finish(self._inflate_cap()))
            inflater.end()
        if sink == _SINK_TEXT:
            if decode(self._decoder, b'', final=True) is None:
                raise InvalidPayloadData('invalid UTF-8 in text message')
            size = self._text.size
            self._queue.push(self._text.take(), size)
            self._flags |= MESSAGES
        elif sink == _SINK_BINARY:
            size = self._binary.size
            self._queue.push(self._binary.take(), size)
            self._flags |= MESSAGES
        self._message_opcode = 0
        self._message_frames = 0
        self._drop_message_payload()

    def _control_frame(self, opcode: int, payload: bytes) -> None:
        if opcode == _CLOSE:
            code, reason = parse_close(payload)
            self._close_received = (code, reason)
            self._flags |= CLOSE_RECEIVED | CLOSED
            if self._state is _OPEN:
                # RFC 6455 §5.5.1: echo the Close; the echo carries the code.
                self._write_frame(_CLOSE, serialize_close(code, ''))
                self._close_sent = (code, '')
                self._flags |= OUTPUT
            self._set_closed()
        elif opcode == _PING:
            # RFC 6455 §5.5.2: answer at once, even between fragments; not
            # after our Close (§5.5.1 allows no frame after it).
            if self._state is _OPEN:
                self._write_frame(_PONG, payload)
                self._flags |= OUTPUT
        else:
            self._last_pong = payload
            self._flags |= PONG

    def _fail_peer(self, code: int, message: str) -> None:
        if self._state is _OPEN and self._queue.messages:
            # NOTE(gyrfalcon): messages the peer sent before its fault are
            #   answered first (Autobahn 3.2-3.4, 4.1.3-4.1.5, 4.2.3-4.2.5
            #   and 5.15): nothing more is read, and next_message() fails
            #   the connection once they are taken.
            self._deferred = (code, message)
            self._flags |= DEFERRED
            self._drop_input()
            return
        self._flags |= self._fail(code, message)

    def _fail(self, code: int, message: str) -> int:
        # RFC 6455 §7.1.7: fail the connection with a Close frame, unless
        # ours was already sent.
        flags = FAILED | CLOSED
        if self._state is _OPEN:
            self._write_frame(_CLOSE, serialize_close(code, message))
            self._close_sent = (code, message)
            flags |= OUTPUT
        self._error = (code, message)
        self._frame_fault = True
        self._set_closed()
        return flags


class ServerConnection(_Connection):
    """The server side of a WebSocket connection, as a sans-I/O engine.

    Feed the opening request with ``receive_data()`` (or hand over a parsed
    one with ``receive_request()``); on ``HANDSHAKE``, inspect ``request``
    and call ``accept()`` or ``reject()``. Then exchange messages.

    Keyword Args:
        max_size: Largest message in payload bytes, or ``None``.
        max_frame_size: Largest data frame payload, or ``None``.
        max_fragments: Most frames per message, or ``None``.
        max_queue: Inbound high-water mark in messages, or ``None``.
        max_queue_bytes: Inbound high-water mark in bytes, or ``None``.
        write_limit: Outbound high-water mark (``writing_paused``).
        max_request_line: Longest request line, excluding CRLF.
        max_header_line: Longest header line, excluding CRLF.
        max_headers: Most header lines.
        compression: Accept a permessage-deflate offer (RFC 7692).
        compression_threshold: Send shorter payloads uncompressed.
        deflate_window_bits: Our compressor's largest window (9–15), and
            the largest we ask the client to use.
        deflate_mem_level: zlib ``memLevel`` of our compressor (1–9).
        deflate_level: zlib compression level (0–9).
        deflate_no_context_takeover: Always answer
            ``server_no_context_takeover``.

    Raises:
        ValueError: A limit is zero or negative, or a compression keyword
            is out of its range.
        TypeError: A keyword has the wrong type.
    """

    __slots__ = (
        '_chunked',
        '_head_started',
        '_kept',
        '_kept_size',
        '_parser',
        '_rejection',
    )

    def __init__(
        self,
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
    ) -> None:
        super().__init__(
            True,
            max_size,
            max_frame_size,
            max_fragments,
            max_queue,
            max_queue_bytes,
            write_limit,
            max_request_line,
            max_header_line,
            max_headers,
            compression,
            compression_threshold,
            deflate_window_bits,
            deflate_mem_level,
            deflate_level,
            deflate_no_context_takeover,
        )
        self._parser: HeadParser | None = HeadParser(
            True, self._max_request_line, self._max_header_line, self._max_headers
        )
        self._head_started = False
        self._kept: list[bytes] = []
        self._kept_size = 0
        # A streaming denial: its status and headers, and whether its body
        # is chunked (None until the first reject_body()).
        self._rejection: tuple[int, list[tuple[bytes, bytes]]] | None = None
        self._chunked: bool | None = None

    def _random(self, size: int) -> bytes:  # pragma: no cover - never masks
        raise AssertionError('a server never masks')

    # --- the opening handshake -------------------------------------------------

    def receive_request(
        self,
        method: str,
        target: bytes,
        headers: Sequence[tuple[bytes, bytes]],
        http_version: str = '1.1',
    ) -> int:
        """Hand over an opening request that a server already parsed.

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
            TypeError: An argument has the wrong type.
            InvalidState: A request was already received (or partly
                received with ``receive_data()``).
        """
        _check_str('method', method)
        if not isinstance(target, bytes):
            raise TypeError(f'target must be bytes, not {type(target).__name__}')
        _check_str('http_version', http_version)
        pairs = [(name, value.strip(_OWS)) for name, value in header_pairs(headers)]
        if self._state is not _CONNECTING or self._head_started:
            raise _state_error('receive_request', self._state)
        self._head_started = True
        self._parser = None
        self._flags = 0
        if len(pairs) > self._max_headers:
            self._fail_handshake(
                431, f'request has more than {self._max_headers} headers'
            )
        else:
            self._handshake_request(method, target, http_version, pairs)
        return self._end_input()

    def _receive_handshake(self, data: bytes) -> None:
        parser = self._parser
        if parser is not None:
            self._head_started = True
            try:
                end = parser.feed(data)
            except HandshakeError as ex:
                self._fail_handshake(ex.status_hint, ex.reason)
                return
            if end < 0:
                return
            self._parser = None
            assert parser.start is not None
            method, target, version = parser.start
            self._handshake_request(
                method.decode('ascii'), target, version[5:].decode('ascii'),
                parser.headers,
            )  # fmt: skip
            if self._state is _CLOSED:
                return
            data = data[end:]
        if self._rejection is not None:
            # NOTE(gyrfalcon): the denial is under way and the connection will
            #   close; nothing received now can matter.
            return
        if data:
            self._kept.append(data)
            self._kept_size += len(data)
            if self._kept_size > BEFORE_ACCEPT_LIMIT:
                self._fail_handshake(
                    400, 'received too much data before the handshake completed'
                )

    def _handshake_request(
        self,
        method: str,
        target: bytes,
        http_version: str,
        headers: Sequence[tuple[bytes, bytes]],
    ) -> None:
        try:
            self._request = validate_request(method, target, http_version, headers)
        except HandshakeError as ex:
            self._fail_handshake(ex.status_hint, ex.reason)
        else:
            self._flags |= HANDSHAKE

    def _fail_handshake(self, status: int, message: str) -> None:
        # RFC 6455 §4.2.1: answer a bad request with an HTTP error; §10.7.
        self._error = (status, message)
        self._outbound.write(failure_response(status, message))
        self._flags |= FAILED | OUTPUT | CLOSED
        self._set_closed()

    def _set_closed(self) -> None:
        super()._set_closed()
        self._kept = []
        self._kept_size = 0

    def _check_answer(self, method: str) -> None:
        if (
            self._state is not _CONNECTING
            or self._request is None
            or self._rejection is not None
        ):
            raise _state_error(method, self._state)

    def accept(
        self,
        subprotocol: str | None = None,
        headers: Sequence[tuple[bytes, bytes]] = (),
    ) -> int:
        """Accept the opening handshake with a 101 response.

        Afterwards, send ``data_to_send()`` and act on the returned flags:
        bytes that arrived after the request are parsed as frames now.

        Args:
            subprotocol: One of ``request.subprotocols``, or ``None``.
            headers: Extra response headers as ``(name, value)`` bytes.

        Returns:
            The flags of parsing the bytes kept since the request, or ``0``.

        Raises:
            TypeError: An argument has the wrong type.
            InvalidState: No valid request was received, or a response was
                already started.
            ValueError: `subprotocol` was not offered, or a header is
                invalid or sets ``Sec-WebSocket-Protocol`` or
                ``Sec-WebSocket-Extensions``.
        """
        if subprotocol is not None:
            _check_str('subprotocol', subprotocol)
        pairs = header_pairs(headers)
        self._check_answer('accept')
        request = self._request
        assert request is not None
        if subprotocol is not None and subprotocol not in request.subprotocols:
            raise ValueError(
                f'subprotocol {subprotocol!r} was not offered by the client'
            )
        check_headers(pairs, allow_protocol=False, allow_extensions=False)
        extensions = None
        options = self._deflate_options
        accepted = None if options is None else negotiate(request.extensions, options)
        if accepted is not None:
            assert options is not None
            extensions, agreed = accepted
            self._use_deflate(
                agreed,
                options,
                (agreed.server_max_window_bits, agreed.server_no_context_takeover),
                (agreed.client_max_window_bits, agreed.client_no_context_takeover),
            )
        self._outbound.write(
            accept_response(request.key, subprotocol, extensions, pairs)
        )
        self._state = _OPEN
        kept = b''.join(self._kept)
        self._kept = []
        self._kept_size = 0
        if not kept:
            return 0
        self._flags = 0
        self._receive_frames(kept)
        return self._end_input()

    def send_prepared(self, frame: Buffer, *, compressed: bool = False) -> None:
        """Send a frame built once by ``prepare_frame()``, as it is.

        This is the broadcast path: a hub frames a message once and hands
        the same bytes to every subscriber. A ``bytes`` frame is queued
        without a copy. Afterwards, send ``data_to_send()`` to the peer.

        Args:
            frame: One complete frame from ``prepare_frame()``; with
                `compressed`, its window must not exceed
                ``deflate.server_max_window_bits``. It is not checked.
            compressed: True when the frame was built with
                ``deflate_window_bits`` (RSV1 set).

        Raises:
            TypeError: `frame` is not bytes-like, or `compressed` not a
                ``bool``.
            InvalidState: The connection is not ``OPEN``.
            ValueError: `compressed` is True but permessage-deflate was not
                negotiated.
        """
        data = as_bytes(frame)
        if not isinstance(compressed, bool):
            raise TypeError(
                f'compressed must be a bool, not {type(compressed).__name__}'
            )
        self._check_open('send_prepared')
        deflater = self._deflater
        if compressed and deflater is None:
            raise ValueError('permessage-deflate was not negotiated')
        self._outbound.write(data)
        if deflater is not None and compressed:
            # The peer's window now holds data our compressor never saw, so
            # our next message must not refer back past it (RFC 7692 §7.2.3).
            deflater.reset()

    def reject(
        self,
        status: int = 403,
        headers: Sequence[tuple[bytes, bytes]] = (),
        body: Buffer = b'',
    ) -> None:
        """Deny the opening handshake with an HTTP response.

        Afterwards, send ``data_to_send()`` and close the transport.

        Args:
            status: The status code, 100–599 except 101.
            headers: Response headers as ``(name, value)`` bytes; any
                header may be given, the handshake's own included.
            body: The response body.

        Raises:
            TypeError: An argument has the wrong type.
            InvalidState: No valid request was received, or a response was
                already started.
            ValueError: `status` is out of range, or a header is invalid.
        """
        _check_int('status', status)
        pairs = header_pairs(headers)
        content = as_bytes(body)
        self._check_answer('reject')
        self._check_rejection(status, pairs)
        self._outbound.write(reject_head(status, pairs, len(content)))
        self._outbound.write(content)
        self._set_closed()

    def reject_start(
        self, status: int, headers: Sequence[tuple[bytes, bytes]] = ()
    ) -> None:
        """Start a denial whose body is sent with ``reject_body()``.

        This is ASGI's ``websocket.http.response.start``; nothing is queued
        until the first ``reject_body()``.

        Args:
            status: The status code, 100–599 except 101.
            headers: Response headers as ``(name, value)`` bytes; any
                header may be given, the handshake's own included.

        Raises:
            TypeError: An argument has the wrong type.
            InvalidState: No valid request was received, or a response was
                already started.
            ValueError: `status` is out of range, or a header is invalid.
        """
        _check_int('status', status)
        pairs = header_pairs(headers)
        self._check_answer('reject_start')
        self._check_rejection(status, pairs)
        self._rejection = (status, pairs)
        self._kept = []
        self._kept_size = 0

    def reject_body(self, body: Buffer, more_body: bool = False) -> None:
        """Send (part of) the body of a denial started by ``reject_start()``.

        Afterwards, send ``data_to_send()``; after the last part
        (`more_body` False), close the transport.

        Args:
            body: The next part of the body.
            more_body: True when more parts follow.

        Raises:
            TypeError: `body` is not a bytes-like object.
            InvalidState: ``reject_start()`` was not called, or the body
                already ended.
        """
        content = as_bytes(body)
        rejection = self._rejection
        if self._state is not _CONNECTING or rejection is None:
            raise _state_error('reject_body', self._state)
        status, headers = rejection
        outbound = self._outbound
        if self._chunked is None:
            has_length = any(name.lower() == b'content-length' for name, _ in headers)
            if not more_body and not has_length:
                outbound.write(reject_head(status, headers, len(content)))
                outbound.write(content)
                self._set_closed()
                return
            # RFC 9112 §7.1: without a length, the body is sent chunked.
            self._chunked = not has_length
            outbound.write(reject_head(status, headers, None))
        if not self._chunked:
            outbound.write(content)
        elif content:
            outbound.write(b'%x\r\n' % len(content) + content + b'\r\n')
        if not more_body:
            if self._chunked:
                outbound.write(b'0\r\n\r\n')
            self._set_closed()

    def _check_rejection(
        self, status: int, headers: Sequence[tuple[bytes, bytes]]
    ) -> None:
        if not 100 <= status <= 599 or status == 101:
            raise ValueError(f'invalid status code {status}')
        check_headers(headers, allow_protocol=True, allow_extensions=True)


class ClientConnection(_Connection):
    """The client side of a WebSocket connection, as a sans-I/O engine.

    Call ``send_request()`` and send ``data_to_send()``; feed the response
    with ``receive_data()``. On ``HANDSHAKE`` the connection is ``OPEN``.

    Args:
        host: The ``Host`` header value, e.g. ``'example.com:8000'``; sent
            encoded as UTF-8.
        target: The request-target in origin form, already
            percent-encoded, e.g. ``'/chat?room=1'``.

    Keyword Args:
        subprotocols: Subprotocols to offer, in order of preference; each
            an RFC 9110 token.
        headers: Extra request headers as ``(name, value)`` bytes; not
            ``Sec-WebSocket-Extensions`` (see `compression`).
        origin: The ``Origin`` header value (sent encoded as UTF-8), or
            ``None`` to leave it out.
        random: A callable returning `n` random bytes, used for the key
            (16 bytes) and for each frame's masking key (4 bytes); the
            default is ``os.urandom``.
        max_size: As for ``ServerConnection``; so are the other limits
            (``max_request_line`` limits the status line) and the
            compression keywords, except:
        compression: Offer permessage-deflate (RFC 7692).
        deflate_no_context_takeover: Offer ``client_no_context_takeover``.

    Raises:
        ValueError: A limit is zero or negative, a compression keyword is
            out of its range; `host` contains CR, LF or NUL (``'invalid
            host'``), `target` is not an origin-form target of visible
            ASCII (``'invalid request target'``), a subprotocol is not a
            token (``'invalid subprotocol'``), a header is invalid or sets
            ``Sec-WebSocket-Extensions``, or `origin` contains CR, LF or
            NUL (``'invalid origin'``). A lone surrogate in a ``str``
            raises ``UnicodeEncodeError``.
        TypeError: An argument has the wrong type.
    """

    __slots__ = (
        '_body',
        '_body_wanted',
        '_handshake_key',
        '_headers',
        '_host',
        '_origin',
        '_parser',
        '_rng',
        '_request_sent',
        '_subprotocols',
        '_target',
    )

    def __init__(
        self,
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
    ) -> None:
        self._host = _check_text('host', host)
        self._target = _check_text('target', target)
        self._subprotocols = tuple(
            _check_text('subprotocol', name) for name in subprotocols
        )
        if origin is not None:
            _check_text('origin', origin)
        self._origin = origin
        if random is not None and not callable(random):
            raise TypeError('random must be callable')
        self._rng: Callable[[int], bytes] = os.urandom if random is None else random
        self._headers = header_pairs(headers)
        super().__init__(
            False,
            max_size,
            max_frame_size,
            max_fragments,
            max_queue,
            max_queue_bytes,
            write_limit,
            max_request_line,
            max_header_line,
            max_headers,
            compression,
            compression_threshold,
            deflate_window_bits,
            deflate_mem_level,
            deflate_level,
            deflate_no_context_takeover,
        )
        check_client_request(
            self._host, self._target, self._subprotocols, self._headers, origin
        )
        self._parser: HeadParser | None = HeadParser(
            False, self._max_request_line, self._max_header_line, self._max_headers
        )
        self._request_sent = False
        self._handshake_key: str | None = None
        # A rejection waiting for its body: the bytes so far and how many
        # are wanted (None: the head is not complete yet).
        self._body = bytearray()
        self._body_wanted: int | None = None

    def _random(self, size: int) -> bytes:
        value = as_bytes(self._rng(size))
        if len(value) != size:
            raise ValueError(f'random({size}) must return {size} bytes')
        return value

    def send_request(self) -> None:
        """Queue the opening request (RFC 6455 §4.1).

        Afterwards, send ``data_to_send()`` and feed the response to
        ``receive_data()``.

        Raises:
            InvalidState: The request was already sent, or the connection is
                no longer ``CONNECTING``.
        """
        if self._state is not _CONNECTING or self._request_sent:
            raise _state_error('send_request', self._state)
        key = base64.b64encode(self._random(16)).decode('ascii')
        options = self._deflate_options
        self._handshake_key = key
        self._request_sent = True
        self._outbound.write(
            client_request(
                self._host,
                self._target,
                key,
                self._origin,
                self._subprotocols,
                None if options is None else client_offer(options),
                self._headers,
            )
        )

    def _receive_handshake(self, data: bytes) -> None:
        if self._body_wanted is not None:
            self._read_rejection_body(data)
            return
        parser = self._parser
        assert parser is not None
        try:
            end = parser.feed(data)
        except HandshakeError as ex:
            self._fail_handshake(ex.reason)
            return
        if end < 0:
            return
        assert parser.start is not None
        _, status_code, reason = parser.start
        status = int(status_code)
        rest = data[end:]
        if status != 101:
            # RFC 6455 §4.1: any status other than 101 is a rejection; keep
            # its body for the caller, up to a limit.
            length = _content_length(parser.headers)
            self._body_wanted = (
                REJECTION_BODY_LIMIT
                if length is None
                else min(length, REJECTION_BODY_LIMIT)
            )
            self._read_rejection_body(rest)
            if length is None and self._state is not _CLOSED:
                self._finish_rejection()
            return
        self._parser = None
        options = self._deflate_options
        try:
            response = validate_response(
                status,
                reason,
                parser.headers,
                self._handshake_key,
                self._subprotocols,
                options is not None,
            )
            agreed = (
                None if options is None else client_params(response.extensions, options)
            )
        except HandshakeError as ex:
            self._fail_handshake(ex.reason)
            return
        self._response = response
        if agreed is not None:
            assert options is not None
            self._use_deflate(
                agreed,
                options,
                (
                    min(agreed.client_max_window_bits, options.window_bits),
                    agreed.client_no_context_takeover,
                ),
                (agreed.server_max_window_bits, agreed.server_no_context_takeover),
            )
        self._state = _OPEN
        self._flags |= HANDSHAKE
        if rest:
            self._receive_frames(rest)

    def _read_rejection_body(self, data: bytes) -> None:
        wanted = self._body_wanted
        assert wanted is not None
        self._body += data[: wanted - len(self._body)]
        if len(self._body) >= wanted:
            self._finish_rejection()

    def _finish_rejection(self) -> None:
        parser = self._parser
        assert parser is not None and parser.start is not None
        _, status_code, reason = parser.start
        self._response = Response(
            status=int(status_code),
            reason=reason.decode('utf-8', 'replace'),
            headers=tuple(parser.headers),
            subprotocol=None,
            extensions=(),
            body=bytes(self._body),
        )
        self._parser = None
        self._fail_handshake(
            f'server rejected WebSocket connection: HTTP {int(status_code)}'
        )

    def _fail_handshake(self, message: str) -> None:
        # A client has nothing to send: it closes the transport.
        self._error = (1002, message)
        self._flags |= FAILED | CLOSED
        self._set_closed()


def _content_length(headers: Sequence[tuple[bytes, bytes]]) -> int | None:
    for name, value in headers:
        if name.lower() == b'content-length':
            return int(value) if value.isdigit() else None
    return None
