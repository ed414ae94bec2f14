"""The HTTP protocol class of ``gyrfalcon serve``: limits on the request head.

``gyrfalcon serve`` passes ``--http gyrfalcon.server.http:HttpToolsProtocol``
to uvicorn by default. It is uvicorn's httptools protocol with a gate in
front of the parser that reads each request head itself, and:

* closes a connection whose request head is not complete ``head_timeout``
  seconds after its first byte (or after the connection opened): a client
  that trickles the head (slowloris) or sends nothing at all is dropped,
  with ``408 Request Timeout`` when part of a head had arrived;
* answers ``414 URI Too Long`` for a request line longer than
  ``max_request_line`` bytes and ``431 Request Header Fields Too Large`` for
  a header line longer than ``max_header_line``, more than ``max_headers``
  header lines or a head of more than ``max_head_size`` bytes, as soon as the
  bytes received prove it (the head is scanned once: a head trickled one
  byte at a time costs linear time), then half-closes and discards input for
  a moment so that the client reads the response rather than a reset;
* hands a WebSocket upgrade to the WebSocket protocol class with the request
  head exactly as received and every byte that followed it in the same read,
  where uvicorn's own classes rebuild the head (``HTTP/1.1`` always,
  lowercased names) and drop those bytes. The engine then parses the real
  head: an HTTP/1.0 upgrade is refused, and a frame pipelined behind the
  request is not lost.

Settings are class attributes that default to environment variables read
when this module is imported (``gyrfalcon serve`` sets them from its
``limits`` flags, and ``--workers``/``--reload`` processes inherit them):

* ``head_timeout``: ``GYRFALCON_HTTP_HEAD_TIMEOUT`` (seconds, default 10.0;
  ``0`` turns the timeout off);
* ``max_request_line``: ``GYRFALCON_HTTP_MAX_REQUEST_LINE`` (default 8192);
* ``max_header_line``: ``GYRFALCON_HTTP_MAX_HEADER_LINE`` (default 8192);
* ``max_headers``: ``GYRFALCON_HTTP_MAX_HEADERS`` (default 128);
* ``max_head_size``: ``GYRFALCON_HTTP_MAX_HEAD_SIZE`` (default 65536).

The WebSocket protocol class applies the same line and count limits when it
runs under uvicorn's own HTTP classes (``uvicorn app:app --ws ...``).

TODO(gyrfalcon): there is no h11 twin yet. Without httptools,
``gyrfalcon serve`` falls back to uvicorn's ``auto`` HTTP class, which has
none of the limits above (the engine's head limits still apply to upgrades).

Every request whose head starts at the beginning of a socket read is gated,
which is every request except one pipelined in the same read behind a
request with a chunked body: that one goes to httptools as it is (without
the limits above) and its upgrade, if any, is handed over the way uvicorn
does it.
"""

from __future__ import annotations

import asyncio
import http
import re
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import (
    HttpToolsProtocol as _UvicornHttpToolsProtocol,
)
from uvicorn.server import ServerState

from ._settings import env_float, env_int

__all__ = ['HttpToolsProtocol']

_HEAD, _BODY, _PASS, _DISCARD = 0, 1, 2, 3

_METHOD = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]*")

_LINGER = 2.0
"""Seconds to keep reading (and discarding) after a limit response."""


class HttpToolsProtocol(_UvicornHttpToolsProtocol):
    """uvicorn's httptools protocol with a head timeout and head limits.

    Pass it as ``--http gyrfalcon.server.http:HttpToolsProtocol`` (the
    default of ``gyrfalcon serve``) or ``http=`` to ``uvicorn.Config``.

    Args:
        config: The uvicorn configuration.
        server_state: uvicorn's shared server state.
        app_state: The lifespan state.
        _loop: The event loop; defaults to the running one.

    Attributes:
        head_timeout (float): Seconds a request head may take, from its first
            byte (from the connection for the first request) to its blank
            line; 0 for no limit. Default 10.0 or
            ``GYRFALCON_HTTP_HEAD_TIMEOUT``.
        max_request_line (int): Longest request line in bytes, without CRLF
            (414). Default 8192 or ``GYRFALCON_HTTP_MAX_REQUEST_LINE``.
        max_header_line (int): Longest header line in bytes, without CRLF
            (431). Default 8192 or ``GYRFALCON_HTTP_MAX_HEADER_LINE``.
        max_headers (int): Most header lines (431). Default 128 or
            ``GYRFALCON_HTTP_MAX_HEADERS``.
        max_head_size (int): Most bytes in a request head, request line and
            CRLFs included (431). Default 65536 or
            ``GYRFALCON_HTTP_MAX_HEAD_SIZE``.
    """

    head_timeout: float = env_float('GYRFALCON_HTTP_HEAD_TIMEOUT', 10.0)
    max_request_line: int = env_int('GYRFALCON_HTTP_MAX_REQUEST_LINE', 8192, 1)
    max_header_line: int = env_int('GYRFALCON_HTTP_MAX_HEADER_LINE', 8192, 1)
    max_headers: int = env_int('GYRFALCON_HTTP_MAX_HEADERS', 128, 1)
    max_head_size: int = env_int('GYRFALCON_HTTP_MAX_HEAD_SIZE', 65536, 1)

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._mode = _HEAD
        self._head = bytearray()
        self._scanned = 0  # bytes of _head already scanned
        self._line_start = 0  # offset of the current line in _head
        self._lines = 0  # complete lines of the head (request line included)
        self._method_done = False  # the method token was checked
        self._body_left = 0  # body bytes to feed in _BODY mode
        self._in_message = False  # httptools is inside a request
        self._completed = False  # a request completed during the last feed
        self._head_timer: asyncio.TimerHandle | None = None
        self._linger_timer: asyncio.TimerHandle | None = None

    # --- asyncio protocol interface ------------------------------------------

    def connection_made(  # type: ignore[override]
        self, transport: asyncio.Transport
    ) -> None:
        """Register the connection and start the head timeout.

        Args:
            transport: The socket's transport.
        """
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        """Cancel the timers, then let uvicorn clean up.

        Args:
            exc: The error that ended the connection, or ``None``.
        """
        self._cancel_head_timer()
        if self._linger_timer is not None:
            self._linger_timer.cancel()
            self._linger_timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """Gate request heads, then feed httptools.

        Args:
            data: The bytes read from the socket.
        """
        self._unset_keepalive_if_required()
        view = memoryview(data)
        while view:
            mode = self._mode
            if mode == _HEAD:
                view = self._receive_head(view)
            elif mode == _BODY:
                size = min(len(view), self._body_left)
                self._body_left -= size
                if not self._feed(view[:size]):
                    return
                view = view[size:]
                if not self._body_left:
                    # The parser agrees that the request ended here, or the
                    # rest of this connection bypasses the gate.
                    self._mode = _PASS if self._in_message else _HEAD
            elif mode == _PASS:
                if not self._feed(view) or self._in_message:
                    return
                # The parser is between requests at a read boundary: gate again.
                self._mode = _HEAD
                return
            else:  # _DISCARD: a limit response was sent; ignore the rest
                return

    # --- httptools callbacks -------------------------------------------------

    def on_message_begin(self) -> None:
        """Note that httptools started a request."""
        self._in_message = True
        super().on_message_begin()

    def on_message_complete(self) -> None:
        """Note that httptools finished a request."""
        self._in_message = False
        self._completed = True
        super().on_message_complete()

    # --- the gate ------------------------------------------------------------

    def _receive_head(self, view: memoryview) -> memoryview:
        # Scan the new bytes of the head; returns what follows the head once
        # it is complete and fed, or an empty view.
        head = self._head
        if not head:
            # Empty lines before a request line are ignored (RFC 9112 §2.2).
            start = 0
            while start < len(view) and view[start] in b'\r\n':
                start += 1
            view = view[start:]
            if not view:
                return view
            if self._head_timer is None:
                self._arm_head_timer()
        before = len(head)
        head += view
        end = self._scan()
        if end is None:
            if self._mode == _HEAD and len(head) > self.max_head_size:
                self._reject(431, f'request head exceeds {self.max_head_size} bytes')
            return view[:0]
        if end > self.max_head_size:
            self._reject(431, f'request head exceeds {self.max_head_size} bytes')
            return view[:0]
        self._cancel_head_timer()
        raw = bytes(head[:end])
        rest = view[end - before :]
        self._reset_head()
        return self._on_head(raw, rest)

    def _scan(self) -> int | None:
        # The end offset of the head (after its blank line), or None.
        head = self._head
        pos = self._scanned
        if not self._method_done and not self._check_method(pos):
            return None
        size = len(head)
        while True:
            newline = head.find(b'\n', pos)
            if newline < 0:
                self._scanned = size
                length = size - self._line_start
                if length and head[size - 1] == 0x0D:
                    length -= 1  # a CR that may start the CRLF
                self._check_line(length)
                return None
            length = newline - self._line_start
            if length and head[newline - 1] == 0x0D:
                length -= 1
            if self._lines and not length:
                return newline + 1
            if not self._check_line(length):
                return None
            self._lines += 1
            if self._lines - 1 > self.max_headers:
                self._reject(431, f'request has more than {self.max_headers} headers')
                return None
            self._line_start = pos = newline + 1

    def _check_method(self, pos: int) -> bool:
        # Refuse at once what cannot start a request (raw frames, TLS to a
        # plain port) rather than wait for a line that never ends.
        head = self._head
        space = head.find(b' ', pos)
        end = len(head) if space < 0 else space
        if _METHOD.fullmatch(head, pos, end) is None:
            self._reject(400, 'invalid HTTP request line')
            return False
        self._method_done = space >= 0
        return True

    def _check_line(self, length: int) -> bool:
        if self._mode != _HEAD:
            return False
        if not self._lines:
            if length > self.max_request_line:
                self._reject(414, f'request line exceeds {self.max_request_line} bytes')
                return False
        elif length > self.max_header_line:
            self._reject(431, f'header line exceeds {self.max_header_line} bytes')
            return False
        return True

    def _reset_head(self) -> None:
        self._head = bytearray()
        self._scanned = self._line_start = self._lines = 0
        self._method_done = False

    def _on_head(self, raw: bytes, rest: memoryview) -> memoryview:
        # Feed a complete head; decide how to read what follows it.
        self._completed = False
        try:
            self.parser.feed_data(raw)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self._upgrade(raw, bytes(rest))
            else:
                # As uvicorn does: the request was served as plain HTTP and
                # the bytes after it are not read as HTTP.
                self._unsupported_upgrade_warning()
                self._mode = _DISCARD
            return rest[:0]
        except httptools.HttpParserError:
            self._bad_request()
            return rest[:0]
        if self._completed or not self._in_message:
            return rest  # no body: the next request is gated too
        length = self._content_length()
        if length is None:
            self._mode = _PASS
        else:
            self._mode = _BODY
            self._body_left = length
        return rest

    def _content_length(self) -> int | None:
        # The body length if the request has exactly one plain
        # Content-Length and no Transfer-Encoding; otherwise None (httptools
        # decides, and the rest of the read bypasses the gate).
        length = None
        for name, value in self.headers:
            if name == b'transfer-encoding':
                return None
            if name == b'content-length':
                if length is not None or not value.isdigit():
                    return None
                length = int(value)
        return length

    def _feed(self, data: memoryview) -> bool:
        # Feed httptools as uvicorn's data_received() does; False when the
        # connection was handed over or is closing.
        try:
            self.parser.feed_data(bytes(data))
        except httptools.HttpParserError:
            self._bad_request()
            return False
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            self._mode = _DISCARD
            return False
        return True

    def _bad_request(self) -> None:
        # httptools refused the request (uvicorn answers the same 400, but
        # closes at once: unread input would reset the connection).
        self._reject(400, 'invalid HTTP request')

    def _upgrade(self, head: bytes, rest: bytes) -> None:
        # uvicorn's handle_websocket_upgrade(), with the head as received and
        # the bytes that followed it.
        self._mode = _DISCARD
        self.connections.discard(self)
        protocol_class: Any = self.ws_protocol_class
        protocol = protocol_class(
            config=self.config,
            server_state=self.server_state,
            app_state=self.app_state,
        )
        protocol.connection_made(self.transport)
        protocol.data_received(head + rest)
        self.transport.set_protocol(protocol)

    def _reject(self, status: int, message: str) -> None:
        # Answer a head over a limit, half-close, and drain the input for a
        # moment: closing with unread input would reset the connection, and
        # the client might never read the response.
        self._mode = _DISCARD
        self._cancel_head_timer()
        self._head = bytearray()
        self.logger.warning(
            '%s - HTTP %d: %s',
            f'{self.client[0]}:{self.client[1]}' if self.client else '',
            status,
            message,
        )
        self._write_error(status, message)
        self._linger()

    def _write_error(self, status: int, message: str) -> None:
        phrase = http.HTTPStatus(status).phrase
        body = f'{phrase}: {message}.\n'.encode()
        content = [f'HTTP/1.1 {status} {phrase}\r\n'.encode()]
        for name, value in self.server_state.default_headers:
            content.extend([name, b': ', value, b'\r\n'])
        content.extend(
            [
                b'content-type: text/plain; charset=utf-8\r\n',
                b'content-length: %d\r\n' % len(body),
                b'connection: close\r\n\r\n',
                body,
            ]
        )
        self.transport.write(b''.join(content))

    def _linger(self) -> None:
        transport = self.transport
        if transport.can_write_eof():
            transport.write_eof()
            self._linger_timer = self.loop.call_later(_LINGER, transport.close)
        else:
            transport.close()

    # --- the head timeout ----------------------------------------------------

    def _arm_head_timer(self) -> None:
        if self.head_timeout > 0 and self._head_timer is None:
            self._head_timer = self.loop.call_later(
                self.head_timeout, self._on_head_timeout
            )

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _on_head_timeout(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or self._mode != _HEAD:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            # A response is still going out: finish it, then close.
            self.cycle.keep_alive = False
            self._mode = _DISCARD
            return
        if self._head:
            self._reject(408, f'request head not received in {self.head_timeout:g} s')
        else:
            self._mode = _DISCARD
            self.transport.close()
