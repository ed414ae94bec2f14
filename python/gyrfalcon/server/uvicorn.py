"""The uvicorn WebSocket protocol class, driving one Gyrfalcon engine per socket.

Run any ASGI app on it::

    uvicorn app:app --ws gyrfalcon.server.uvicorn:WebSocketProtocol

uvicorn's HTTP protocol parses the upgrade request and hands the connection
over: it builds the class with ``config``, ``server_state`` and ``app_state``,
calls ``connection_made()`` and ``data_received()`` with the rebuilt request
head, then ``transport.set_protocol()``. From then on asyncio calls
``get_buffer()``/``buffer_updated()`` (this is an ``asyncio.BufferedProtocol``),
so every read lands in one receive buffer shared by all connections of the
thread's event loop and an idle connection holds no read buffer.

Each read is one call into the engine (``receive_data()``), which parses the
frames, answers pings, validates UTF-8, reassembles messages and queues them;
it returns a small set of flags that this class acts on. ``receive()`` pops
messages straight from the engine's queue, with no ``asyncio.Queue`` and no
Future while a message is waiting; ``send()`` encodes into the engine's output
buffer and writes it through at once when it is the first send of an
event-loop iteration on an idle connection, or batches it (one
``transport.write()`` per batch, at the end of the iteration or when the app
waits for input) after such a send or while received messages are still
queued.

Settings come from uvicorn's ``Config`` (``ws_max_size``, ``ws_max_queue``,
``ws_ping_interval``, ``ws_ping_timeout``, ``ws_per_message_deflate``,
``root_path``, ``asgi_version``)
and, for what ``Config`` cannot carry, from class attributes that default to
environment variables read when this module is imported (so that
``--workers`` and ``--reload`` processes see them too):

* ``close_timeout``: ``GYRFALCON_WS_CLOSE_TIMEOUT`` (seconds, default 10.0);
* ``max_queue_bytes``: ``GYRFALCON_WS_MAX_QUEUE_BYTES`` (default 4194304;
  ``0`` or ``none`` for no byte cap);
* ``close_on_app_exit``: ``GYRFALCON_WS_CLOSE_ON_APP_EXIT`` (default ``1``);
* permessage-deflate (on unless ``ws_per_message_deflate`` is False):
  ``compression_threshold``: ``GYRFALCON_WS_COMPRESSION_THRESHOLD`` (bytes,
  default 128), ``deflate_window_bits``: ``GYRFALCON_WS_DEFLATE_WINDOW_BITS``
  (9-15, default 12), ``deflate_mem_level``:
  ``GYRFALCON_WS_DEFLATE_MEM_LEVEL`` (1-9, default 5) and
  ``deflate_context_takeover``: ``GYRFALCON_WS_DEFLATE_CONTEXT_TAKEOVER``
  (default ``1``);
* ``engine_class``: the engine ``gyrfalcon.protocol`` selected
  (``GYRFALCON_ENGINE``).

Subclass to change them for one deployment::

    class MyProtocol(WebSocketProtocol):
        close_timeout = 2.0

See ``docs/howto/uvicorn.md`` for every setting and for where this class
differs from uvicorn's own classes.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import random
import struct
import threading
import weakref
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from uvicorn.config import Config
from uvicorn.logging import TRACE_LOG_LEVEL
from uvicorn.protocols.utils import (
    ClientDisconnected as _UvicornClientDisconnected,
    get_client_addr,
    get_local_addr,
    get_path_with_query_string,
    get_remote_addr,
    is_ssl,
)
from uvicorn.server import ServerState

from .. import protocol as _protocol
from ..errors import InvalidState, WebSocketDisconnected
from ..protocol.common import (
    CLOSED,
    DEFERRED,
    HANDSHAKE,
    MESSAGES,
    OUTPUT,
    PAUSE,
    PONG,
    State,
)
from ._channel import CONNECTING, DENYING, FINISHED, OPEN, Channel
from ._origins import origin_policy
from ._settings import (
    env_bool,
    env_float,
    env_int,
    env_limit,
    env_list,
)

if TYPE_CHECKING:
    from ..protocol import ServerConnection

__all__ = ['ClientDisconnected', 'WebSocketProtocol']

ASGIMessage = dict[str, Any]
ASGIApp = Callable[
    [
        dict[str, Any],
        Callable[[], Awaitable[ASGIMessage]],
        Callable[[ASGIMessage], Awaitable[None]],
    ],
    Awaitable[Any],
]

_logger = logging.getLogger('uvicorn.error')
_T = TypeVar('_T')


# --- errors ------------------------------------------------------------------


class ClientDisconnected(WebSocketDisconnected, _UvicornClientDisconnected):
    """The WebSocket connection is closed or lost; raised by ``send()``.

    It is both uvicorn's ``ClientDisconnected`` (so code written for uvicorn's
    classes catches it, and it is never logged as an app error) and
    ``gyrfalcon.errors.WebSocketDisconnected`` (an ``OSError``, as ASGI 2.4
    requires), with the close ``code`` and ``reason`` of the disconnect.
    """


# --- the shared receive buffer -----------------------------------------------

_BUFFER_SIZE = 256 * 1024
_thread_buffers = threading.local()  # the shared buffer and callback context


_LINGER = 2.0
"""Most seconds to keep reading after failing a connection (see _linger)."""


def _shared_buffer() -> memoryview:
    # NOTE(gyrfalcon): One buffer per thread is one per running event loop.
    #   asyncio calls get_buffer(), recv_into() and buffer_updated() in one
    #   callback, and the engine copies what it keeps, so every connection of
    #   the loop can use the same buffer.
    buffer: memoryview | None = getattr(_thread_buffers, 'buffer', None)
    if buffer is None:
        buffer = _thread_buffers.buffer = memoryview(bytearray(_BUFFER_SIZE))
    return buffer


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


# --- per-process values that connections share -------------------------------


def _callback_context() -> contextvars.Context:
    # NOTE(gyrfalcon): The app task's done callback reads no context
    #   variable, so the connections of a thread share one context (per
    #   thread: a context cannot be entered by two threads at once).
    context: contextvars.Context | None = getattr(_thread_buffers, 'context', None)
    if context is None:
        context = _thread_buffers.context = contextvars.Context()
    return context


_shared_values: dict[object, Any] = {}
_SHARED_VALUES_LIMIT = 1024


def _shared(value: _T) -> _T:
    # NOTE(gyrfalcon): Every connection of a listener has the same local
    #   address, and behind a proxy every client has the same host: keep
    #   one object of each rather than one per connection. (Not
    #   sys.intern(): on Python 3.12 interned strings are never freed.)
    shared: _T | None = _shared_values.get(value)
    if shared is None:
        if len(_shared_values) >= _SHARED_VALUES_LIMIT:
            _shared_values.clear()
        shared = _shared_values[value] = value
    return shared


# Open WebSocket connections per server (ServerState), for max_connections.
_open_connections: weakref.WeakKeyDictionary[Any, list[int]] = (
    weakref.WeakKeyDictionary()
)


class WebSocketProtocol(asyncio.BufferedProtocol):
    """A uvicorn WebSocket protocol class on the Gyrfalcon engine.

    uvicorn builds one instance per upgraded connection. Pass the class as
    ``--ws gyrfalcon.server.uvicorn:WebSocketProtocol`` (or ``ws=`` to
    ``uvicorn.run()``/``uvicorn.Config``).

    Args:
        config: The uvicorn configuration (loaded here if it is not yet).
        server_state: uvicorn's shared server state; the instance adds itself
            to ``connections`` and its app task to ``tasks``.
        app_state: The lifespan state; each scope gets a shallow copy.
        _loop: The event loop; defaults to the running one.

    Attributes:
        close_timeout (float): Seconds to wait for the peer's Close frame
            after the server sent one, before closing the TCP connection
            (default 10.0, or ``GYRFALCON_WS_CLOSE_TIMEOUT``). It also bounds
            how long a closed transport may wait for unsent data to drain.
        max_queue_bytes (int | None): Byte cap of the inbound message queue
            (default 4 MiB, or ``GYRFALCON_WS_MAX_QUEUE_BYTES``; ``None`` for
            none). Reading pauses when ``ws_max_queue`` messages or this many
            bytes are queued and resumes at a quarter of each.
        close_on_app_exit (bool): When the app ends after accepting without
            sending ``websocket.close``, send a Close frame: 1011 if it
            raised (or returned a value), 1000 if it returned normally, and
            finish the close handshake. ``False`` aborts the TCP connection
            instead, as uvicorn's classes do (the client sees 1006). Default
            True, or ``GYRFALCON_WS_CLOSE_ON_APP_EXIT``.
        compression_threshold (int): With permessage-deflate negotiated
            (uvicorn's ``ws_per_message_deflate``, on by default), messages
            shorter than this many bytes (UTF-8 bytes for text) are sent
            uncompressed (default 128, or
            ``GYRFALCON_WS_COMPRESSION_THRESHOLD``).
        deflate_window_bits (int): The largest LZ77 window, 9-15, of our
            compressor (``server_max_window_bits``) and, when the client
            lets us choose, of the client's (``client_max_window_bits``)
            (default 12, or ``GYRFALCON_WS_DEFLATE_WINDOW_BITS``).
        deflate_mem_level (int): zlib ``memLevel`` of our compressor, 1-9
            (default 5, or ``GYRFALCON_WS_DEFLATE_MEM_LEVEL``).
        deflate_context_takeover (bool): Keep our compressor's window from
            one message to the next (better compression, memory held while
            idle); ``False`` answers ``server_no_context_takeover`` (default
            True, or ``GYRFALCON_WS_DEFLATE_CONTEXT_TAKEOVER``).
        engine_class (type): The engine's ``ServerConnection`` class; the one
            ``gyrfalcon.protocol`` selected (``GYRFALCON_ENGINE``) unless a
            subclass pins another, e.g.
            ``gyrfalcon.protocol.load_engine('python').ServerConnection``.
        allowed_origins (tuple[str, ...] | None): The Origin allow-list
            (``https://example.com``, ``https://*.example.com``, ``null``,
            ``none`` for a missing Origin; see ``gyrfalcon.server._origins``);
            a handshake from another origin gets HTTP 403 before the app
            runs. ``None`` (the default) checks nothing. Default
            ``GYRFALCON_WS_ALLOWED_ORIGINS`` (comma-separated).
        max_connections (int | None): Most open WebSocket connections per
            server (per worker process); past it a handshake gets HTTP 503
            before the app runs. Default ``None`` (no limit) or
            ``GYRFALCON_WS_MAX_CONNECTIONS``.
        max_frame_size (int | None): The engine's ``max_frame_size`` (close
            1009 past it). Default ``None`` or ``GYRFALCON_WS_MAX_FRAME_SIZE``.
        max_fragments (int | None): The engine's ``max_fragments`` (close
            1009 past it). Default ``None`` or ``GYRFALCON_WS_MAX_FRAGMENTS``.
        max_request_line (int): The engine's ``max_request_line`` (414).
            Default 8192 or ``GYRFALCON_HTTP_MAX_REQUEST_LINE``.
        max_header_line (int): The engine's ``max_header_line`` (431).
            Default 8192 or ``GYRFALCON_HTTP_MAX_HEADER_LINE``.
        max_headers (int): The engine's ``max_headers`` (431). Default 128
            or ``GYRFALCON_HTTP_MAX_HEADERS``.
        transport: The asyncio transport.
        scope (dict | None): The ASGI scope, once the request was parsed.
        close_timer: The timer that gives up on the peer's Close frame;
            ``None`` unless the server is waiting for it.
        ping_timer: The keepalive timer; ``None`` when keepalive is off or
            between a ping and its pong.
        ping_sent_at (float): Loop time of the last keepalive ping (0.0
            before the first).
    """

    # NOTE(gyrfalcon): Slots keep an idle connection small. ``__dict__`` is
    #   kept (created only when used) so that the class-level settings below
    #   can still be overridden per instance, as uvicorn's tests do with
    #   ``protocol.close_timeout = 0``.
    __slots__ = (
        '__dict__',
        '_abort_handle',
        '_admitted',
        '_asgi_receive',
        '_asgi_send',
        '_buffer',
        '_channel',
        '_connect_pending',
        '_connections',
        '_default_headers',
        '_disconnect',
        '_drain_waiters',
        '_engine',
        '_flush_scheduled',
        '_in_read',
        '_lost',
        '_open_count',
        '_phase',
        '_read_paused',
        '_tasks',
        '_waiter',
        '_waiters',
        '_write_paused',
        'app',
        'app_state',
        'asgi_version',
        'client',
        'close_timer',
        'config',
        'last_ping_rtt',
        'loop',
        'pending_ping_payload',
        'ping_interval',
        'ping_sent_at',
        'ping_timeout',
        'ping_timer',
        'pong_timer',
        'root_path',
        'scheme',
        'scope',
        'server',
        'transport',
    )

    logger: ClassVar[logging.Logger] = _logger
    close_timeout: float = env_float('GYRFALCON_WS_CLOSE_TIMEOUT', 10.0)
    max_queue_bytes: int | None = env_limit('GYRFALCON_WS_MAX_QUEUE_BYTES', 4 << 20)
    close_on_app_exit: bool = env_bool('GYRFALCON_WS_CLOSE_ON_APP_EXIT', True)
    # permessage-deflate (RFC 7692), negotiated when uvicorn's
    # ws_per_message_deflate is on (its default); docs/topics/compression.md.
    compression_threshold: int = env_int('GYRFALCON_WS_COMPRESSION_THRESHOLD', 128)
    deflate_window_bits: int = env_int('GYRFALCON_WS_DEFLATE_WINDOW_BITS', 12, 9, 15)
    deflate_mem_level: int = env_int('GYRFALCON_WS_DEFLATE_MEM_LEVEL', 5, 1, 9)
    deflate_context_takeover: bool = env_bool(
        'GYRFALCON_WS_DEFLATE_CONTEXT_TAKEOVER', True
    )
    engine_class: ClassVar[type[ServerConnection]] = _protocol.ServerConnection
    allowed_origins: tuple[str, ...] | None = env_list('GYRFALCON_WS_ALLOWED_ORIGINS')
    max_connections: int | None = env_limit('GYRFALCON_WS_MAX_CONNECTIONS', None)
    max_frame_size: int | None = env_limit('GYRFALCON_WS_MAX_FRAME_SIZE', None)
    max_fragments: int | None = env_limit('GYRFALCON_WS_MAX_FRAGMENTS', None)
    max_request_line: int = env_int('GYRFALCON_HTTP_MAX_REQUEST_LINE', 8192, 1)
    max_header_line: int = env_int('GYRFALCON_HTTP_MAX_HEADER_LINE', 8192, 1)
    max_headers: int = env_int('GYRFALCON_HTTP_MAX_HEADERS', 128, 1)

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        if not config.loaded:
            config.load()

        self.config = config
        self.app = cast(ASGIApp, config.loaded_app)
        self.loop = _loop or asyncio.get_event_loop()
        self.root_path = config.root_path
        self.asgi_version = config.asgi_version
        self.app_state = app_state

        # Shared server state.
        self._connections: set[Any] = server_state.connections
        open_count = _open_connections.get(server_state)
        if open_count is None:
            open_count = _open_connections[server_state] = [0]
        self._open_count = open_count
        self._admitted = False
        self._tasks: set[asyncio.Task[None]] = server_state.tasks
        self._default_headers: list[tuple[bytes, bytes]] = server_state.default_headers

        # Connection state.
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.server: tuple[str, int | None] | None = None
        self.client: tuple[str, int] | None = None
        self.scheme = 'ws'
        self.scope: dict[str, Any] | None = None

        self._engine = self.engine_class(
            max_size=config.ws_max_size or None,
            max_queue=config.ws_max_queue or None,
            max_queue_bytes=self.max_queue_bytes,
            max_frame_size=self.max_frame_size,
            max_fragments=self.max_fragments,
            max_request_line=self.max_request_line,
            max_header_line=self.max_header_line,
            max_headers=self.max_headers,
            **self._compression_options(config),
        )
        self._buffer = _shared_buffer()
        self._channel: Channel | None = None
        self._phase = CONNECTING
        self._connect_pending = False
        self._disconnect: tuple[int, str] | None = None
        self._lost = False
        self._in_read = False
        self._read_paused = False
        self._write_paused = False
        self._flush_scheduled = False
        # receive() waiters: one in the common case, more if several tasks
        # call receive() (or wait_message()) at once.
        self._waiter: asyncio.Future[None] | None = None
        self._waiters: list[asyncio.Future[None]] | None = None
        self._drain_waiters: list[asyncio.Future[None]] | None = None
        self._abort_handle: asyncio.TimerHandle | None = None
        self.close_timer: asyncio.TimerHandle | None = None

        # The exact callables handed to the app (the fast path compares them).
        self._asgi_receive = self.receive
        self._asgi_send = self.send

        # Keepalive (uvicorn's names).
        self.ping_interval: float | None = config.ws_ping_interval
        self.ping_timeout: float | None = config.ws_ping_timeout
        self.ping_timer: asyncio.TimerHandle | None = None
        self.pong_timer: asyncio.TimerHandle | None = None
        self.pending_ping_payload: bytes | None = None
        self.ping_sent_at = 0.0
        self.last_ping_rtt = 0.0

    def _compression_options(self, config: Config) -> dict[str, Any]:
        # The engine's permessage-deflate keywords; it negotiates in accept().
        return {
            'compression': bool(config.ws_per_message_deflate),
            'compression_threshold': self.compression_threshold,
            'deflate_window_bits': self.deflate_window_bits,
            'deflate_mem_level': self.deflate_mem_level,
            'deflate_no_context_takeover': not self.deflate_context_takeover,
        }

    # --- asyncio protocol interface ------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Register the connection with the server.

        uvicorn calls this from inside its HTTP protocol's ``data_received``,
        before ``transport.set_protocol()``.

        Args:
            transport: The socket's transport.
        """
        transport = cast(asyncio.Transport, transport)
        self._connections.add(self)
        self.transport = transport
        server = get_local_addr(transport)
        self.server = None if server is None else _shared(server)
        client = get_remote_addr(transport)
        self.client = None if client is None else (_shared(client[0]), client[1])
        self.scheme = 'wss' if is_ssl(transport) else 'ws'
        if self.logger.isEnabledFor(TRACE_LOG_LEVEL):
            prefix = f'{self.client[0]}:{self.client[1]} - ' if self.client else ''
            self.logger.log(TRACE_LOG_LEVEL, '%sWebSocket connection made', prefix)

    def data_received(self, data: bytes) -> None:
        """Feed bytes read from the socket (the handshake arrives here).

        Args:
            data: The bytes.
        """
        self._on_data(data)

    def get_buffer(self, sizehint: int) -> memoryview:
        """Return the loop's shared receive buffer.

        Args:
            sizehint: Ignored; the buffer is 256 KiB.

        Returns:
            The buffer asyncio reads into before ``buffer_updated()``.
        """
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        """Feed the bytes asyncio just read into the shared buffer.

        Args:
            nbytes: How many bytes were read.
        """
        # PERF(gyrfalcon): _on_data() inlined, with the common case (only
        #   messages arrived) handled here.
        self._in_read = True
        try:
            flags = self._engine.receive_data(self._buffer[:nbytes])
        finally:
            self._in_read = False
        if flags == MESSAGES:
            waiter = self._waiter
            if waiter is not None:
                self._waiter = None
                if not waiter.done():
                    waiter.set_result(None)
                if self._waiters:
                    self._wake()
        elif flags:
            self._handle_flags(flags)

    def eof_received(self) -> None:
        """Let the transport close itself when the peer closes its side."""
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        """Wake the app with a disconnect and release every waiter.

        Args:
            exc: The error that ended the connection, or ``None``.
        """
        self._lost = True
        self._connections.discard(self)
        if self._admitted:
            self._admitted = False
            self._open_count[0] -= 1
        self._stop_keepalive()
        self._cancel_close_timer()
        if self._abort_handle is not None:
            self._abort_handle.cancel()
            self._abort_handle = None
        self._engine.receive_eof()
        if self._disconnect is None:
            self._set_disconnect(1005 if self._phase == OPEN else 1006, '')
        else:
            self._wake()
        self._wake_writers()
        if self.logger.isEnabledFor(TRACE_LOG_LEVEL):
            prefix = f'{self.client[0]}:{self.client[1]} - ' if self.client else ''
            self.logger.log(TRACE_LOG_LEVEL, '%sWebSocket connection lost', prefix)
        if exc is None:
            self.transport.close()

    def pause_writing(self) -> None:
        """Make ``send()`` wait and stop reading: the write buffer is full.

        Reading stops too, so that a peer that sends Pings (or anything else
        that needs an answer) but never reads cannot grow the write buffer;
        keepalive closes it (1011) once its Pong is overdue.
        """
        self._write_paused = True
        # NOTE(gyrfalcon): asyncio calls this only with unsent bytes in the
        #   buffer; a caller that pauses by hand (tests) keeps reading, so a
        #   lost peer is still noticed.
        buffered = getattr(self.transport, 'get_write_buffer_size', None)
        if not self._read_paused and buffered is not None and buffered():
            self.transport.pause_reading()
        if self._channel is not None:
            self._channel.writing_paused = True

    def resume_writing(self) -> None:
        """Let ``send()`` continue: the write buffer drained."""
        self._write_paused = False
        if not self._read_paused:
            self.transport.resume_reading()
        if self._channel is not None:
            self._channel.writing_paused = False
        self._wake_writers()

    def shutdown(self) -> None:
        """Close the connection because the server is shutting down.

        After the handshake, the peer gets a Close frame with 1012 and the app
        a ``websocket.disconnect`` with 1012; the transport stays open for the
        peer's Close (at most ``close_timeout``). Before the handshake, the
        client gets a 500. If a Close frame was already sent, the transport is
        closed at once.
        """
        self._stop_keepalive()
        if self._lost:
            return
        engine = self._engine
        state = engine.state
        if state == State.OPEN:
            engine.send_close(1012)
            self._set_disconnect(1012, '')
            self._await_close_reply()
            return
        self._cancel_close_timer()
        if state == State.CONNECTING:
            if self._phase == DENYING:
                self._finish_denial()
            elif engine.request is not None:
                self._send_500()
        self._close_transport()

    # --- the read path -------------------------------------------------------

    def _on_data(self, data: bytes | memoryview) -> None:
        self._in_read = True
        try:
            flags = self._engine.receive_data(data)
        finally:
            self._in_read = False
        if flags:
            self._handle_flags(flags)

    def _handle_flags(self, flags: int) -> None:
        if flags & HANDSHAKE:
            self._on_handshake()
        if flags & MESSAGES:
            self._wake()
        if flags & PAUSE and self._disconnect is None and not self._read_paused:
            self._read_paused = True
            if not self._write_paused:
                self.transport.pause_reading()
        if flags & PONG:
            self._on_pong()
        if flags & DEFERRED:
            # The peer faulted behind messages the app has not taken yet: the
            # engine fails the connection once they are taken; give the app
            # close_timeout to take them (_on_close_timeout() drops the rest).
            self._arm_close_timer()
        if flags & CLOSED:
            self._on_engine_closed()
        elif flags & OUTPUT:
            self._flush()

    def _on_handshake(self) -> None:
        request = self._engine.request
        assert request is not None
        root_path = self.root_path
        self._channel = channel = Channel(self)
        self.scope = scope = {
            'type': 'websocket',
            'asgi': {'version': self.asgi_version, 'spec_version': '2.5'},
            'http_version': '1.1',
            'scheme': self.scheme,
            'server': self.server,
            'client': self.client,
            'root_path': root_path,
            'path': root_path + request.path,
            'raw_path': root_path.encode() + request.raw_path,
            'query_string': request.query_string,
            'headers': list(request.headers),
            'subprotocols': list(request.subprotocols),
            'state': self.app_state.copy(),
            'extensions': {
                'websocket.http.response': {},
                'gyrfalcon.engine': channel,
            },
        }
        if not self._admit(request.headers):
            return
        self._connect_pending = True
        # NOTE(gyrfalcon): The app's own coroutine is the task (no wrapper
        #   coroutine: one frame less per connection and per resumption);
        #   _on_app_done() does what uvicorn's run_asgi() does after it.
        try:
            call = self.app(scope, self._asgi_receive, self._asgi_send)
            if not asyncio.iscoroutine(call):
                call = _await(call)
            task = self.loop.create_task(call)
        except Exception:
            self.logger.exception('Exception in ASGI application\n')
            self._on_app_exit(failed=True)
            return
        # PERF(gyrfalcon): Without a context, add_done_callback() copies the
        #   current one for every connection.
        task.add_done_callback(self._on_app_done, context=_callback_context())
        self._tasks.add(task)

    # --- limits checked before the app runs ----------------------------------

    def _admit(self, headers: Iterable[tuple[bytes, bytes]]) -> bool:
        # The Origin allow-list (403) and max_connections (503), before any
        # app code runs; False when the handshake was refused.
        allowed = self.allowed_origins
        if allowed is not None:
            origins = [value for name, value in headers if name.lower() == b'origin']
            if not origin_policy(allowed).allows(origins):
                self._refuse(403, 'origin not allowed', b'Origin not allowed.\n')
                return False
        open_count = self._open_count
        limit = self.max_connections
        if limit is not None and open_count[0] >= limit:
            self._refuse(
                503, 'too many connections', b'Too many WebSocket connections.\n'
            )
            return False
        open_count[0] += 1
        self._admitted = True
        return True

    def _refuse(self, status: int, why: str, body: bytes) -> None:
        self._phase = FINISHED
        self._set_disconnect(1006, '')
        self._log_access(f'{status} ({why})')
        headers = self._response_headers(
            [(b'content-type', b'text/plain; charset=utf-8')]
        )
        try:
            self._engine.reject(status, headers, body)
        except InvalidState:
            return
        self._flush()
        self._close_transport()

    def _on_pong(self) -> None:
        payload = self.pending_ping_payload
        if payload is None or self._engine.last_pong != payload:
            return  # unsolicited or stale
        self.last_ping_rtt = self.loop.time() - self.ping_sent_at
        self.pending_ping_payload = None
        if self.pong_timer is not None:
            self.pong_timer.cancel()
            self.pong_timer = None
            self._schedule_ping()

    def _on_engine_closed(self) -> None:
        # The peer's Close arrived (ours was sent or the engine echoed it), the
        # peer faulted, or the handshake failed: flush and close the socket.
        engine = self._engine
        self._stop_keepalive()
        self._cancel_close_timer()
        if self._disconnect is None:
            code = engine.close_code
            reason = engine.close_reason
            self._set_disconnect(1006 if code is None else code, reason or '')
        self._flush()
        if self.scope is None and engine.error is not None:
            status, message = engine.error
            self.logger.info(
                '%s - WebSocket handshake failed: %d %s',
                f'{self.client[0]}:{self.client[1]}' if self.client else '',
                status,
                message,
            )
        if engine.error is not None:
            self._linger()
        else:
            self._close_transport()

    def _linger(self) -> None:
        # NOTE(gyrfalcon): We failed the connection (a peer fault, or a
        #   refused handshake) while the peer may still be sending. Closing a
        #   socket with unread input makes the kernel send a reset, and a
        #   reset can destroy our Close frame (or error response) in the
        #   peer's receive buffer before it was read: the peer would see 1006
        #   instead of 1002/1007/1009. So send FIN after the Close, keep
        #   reading (the engine ignores input once CLOSED), and close when
        #   the peer closes its side, or after at most close_timeout (2 s).
        transport = self.transport
        if transport.is_closing() or not transport.can_write_eof():
            self._close_transport()
            return
        transport.write_eof()
        self._resume_reading()
        self._cancel_close_timer()
        self.close_timer = self.loop.call_later(
            min(self.close_timeout, _LINGER), self._on_close_timeout
        )

    # --- the ASGI interface --------------------------------------------------

    def _on_app_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        failed = False
        if task.cancelled():
            # uvicorn cancels app tasks when graceful shutdown times out.
            self.logger.error('Exception in ASGI application\n')
            failed = True
        elif (error := task.exception()) is not None:
            if not isinstance(error, _UvicornClientDisconnected):
                self.logger.error('Exception in ASGI application\n', exc_info=error)
                failed = True
        elif self._phase == CONNECTING:
            self.logger.error('ASGI callable returned without completing handshake.')
        elif (result := task.result()) is not None:
            self.logger.error(
                "ASGI callable should return None, but returned '%s'.", result
            )
            failed = True
        self._on_app_exit(failed)

    def _on_app_exit(self, failed: bool) -> None:
        if self._lost:
            return
        phase = self._phase
        engine = self._engine
        if phase == CONNECTING:
            if engine.state == State.CONNECTING:
                self._send_500()
            self._close_transport()
        elif phase == DENYING:
            self._finish_denial()
            self._close_transport()
        elif phase == OPEN and engine.state == State.OPEN:
            if self.close_on_app_exit:
                code = 1011 if failed else 1000
                engine.send_close(code)
                self._phase = FINISHED
                self._set_disconnect(code, '')
                self._await_close_reply()
            else:
                self._close_transport()
        elif self.close_timer is None:
            self._close_transport()

    async def receive(self) -> ASGIMessage:
        """Return the next ASGI message for the app.

        ``websocket.connect`` first, then one ``websocket.receive`` per
        message, then ``websocket.disconnect`` (with ``code`` and ``reason``;
        repeated if ``receive()`` is called again).

        Returns:
            The message dict.
        """
        if self._connect_pending:
            self._connect_pending = False
            return {'type': 'websocket.connect'}
        engine = self._engine
        while True:
            data = engine.next_message()
            if data is not None:
                if self._read_paused and not engine.reading_paused:
                    self._resume_reading()
                if isinstance(data, str):
                    return {'type': 'websocket.receive', 'text': data}
                return {'type': 'websocket.receive', 'bytes': data}
            self._on_queue_empty()
            disconnect = self._disconnect
            if disconnect is not None:
                return {
                    'type': 'websocket.disconnect',
                    'code': disconnect[0],
                    'reason': disconnect[1],
                }
            # Wait for a message or the disconnect (Channel.wait_message() too).
            if self._flush_scheduled:
                self._flush()  # the app is about to wait: write the batch now
            future = self.loop.create_future()
            if self._waiter is None:
                self._waiter = future
            else:
                self._add_waiter(future)
            try:
                await future
            except asyncio.CancelledError:
                self._remove_waiter(future)
                raise

    async def send(self, message: ASGIMessage) -> None:
        """Act on an ASGI message from the app.

        Args:
            message: A ``websocket.accept``, ``websocket.close``,
                ``websocket.send`` or ``websocket.http.response.*`` dict.

        Raises:
            ClientDisconnected: The connection is closed or lost.
            RuntimeError: The message is not allowed in this state.
            TypeError: A ``websocket.send`` without ``bytes`` or ``text``,
                or with a payload of the wrong type.
            ValueError: An invalid close code or reason, subprotocol or
                header.
        """
        if self._write_paused:
            await self._wait_writable()
        phase = self._phase
        if phase == OPEN:
            message_type = message['type']
            if message_type == 'websocket.send':
                engine = self._engine
                data = message.get('bytes')
                try:
                    if data is not None:
                        engine.send_binary(data)
                    else:
                        text = message.get('text')
                        if text is None:
                            raise TypeError(
                                "ASGI message 'websocket.send' needs 'bytes' or 'text'"
                            )
                        engine.send_text(text)
                except InvalidState:
                    raise self._disconnected() from None
                self._after_send()
            elif message_type == 'websocket.close':
                self._close(message)
            else:
                raise RuntimeError(
                    "Expected ASGI message 'websocket.send' or 'websocket.close', "
                    f"but got '{message_type}'."
                )
        elif phase == CONNECTING:
            self._send_handshake(message)
        elif phase == DENYING:
            self._send_denial_body(message)
        else:
            raise RuntimeError(
                f"Unexpected ASGI message '{message['type']}', after sending "
                "'websocket.close'."
            )

    def _send_handshake(self, message: ASGIMessage) -> None:
        message_type = message['type']
        if message_type == 'websocket.accept':
            self._accept(message)
        elif message_type == 'websocket.close':
            self._reject_forbidden()
        elif message_type == 'websocket.http.response.start':
            self._start_denial(message)
        else:
            raise RuntimeError(
                "Expected ASGI message 'websocket.accept', 'websocket.close' or "
                f"'websocket.http.response.start' but got '{message_type}'."
            )

    def _accept(self, message: ASGIMessage) -> None:
        engine = self._engine
        subprotocol = message.get('subprotocol') or None
        headers = self._default_headers + [
            (name, value) for name, value in message.get('headers') or ()
        ]
        try:
            flags = engine.accept(subprotocol, headers)
        except InvalidState:
            raise self._disconnected() from None
        self._phase = OPEN
        self._log_access('[accepted]')
        self._flush()
        self._start_keepalive()
        if flags:
            self._handle_flags(flags)

    def _reject_forbidden(self) -> None:
        # ASGI: websocket.close before accept is an HTTP 403; its code and
        # reason are ignored.
        self._phase = FINISHED
        self._set_disconnect(1006, '')
        self._log_access('403')
        try:
            self._engine.reject(403, self._response_headers(()))
        except InvalidState:
            return  # the connection already ended: nothing to answer
        self._flush()
        self._close_transport()

    def _start_denial(self, message: ASGIMessage) -> None:
        status = message['status']
        if not isinstance(status, int) or not 100 <= status < 600:
            raise RuntimeError(f"Invalid HTTP status code '{status}' in response.")
        headers = self._response_headers(message.get('headers') or ())
        self._log_access(str(status))
        try:
            self._engine.reject_start(status, headers)
        except InvalidState:
            raise self._disconnected() from None
        self._phase = DENYING

    def _send_denial_body(self, message: ASGIMessage) -> None:
        message_type = message['type']
        if message_type != 'websocket.http.response.body':
            raise RuntimeError(
                "Expected ASGI message 'websocket.http.response.body' but got "
                f"'{message_type}'."
            )
        more_body = bool(message.get('more_body', False))
        try:
            self._engine.reject_body(message.get('body', b''), more_body)
        except InvalidState:
            raise self._disconnected() from None
        self._flush()
        if not more_body:
            self._phase = FINISHED
            self._set_disconnect(1006, '')
            self._close_transport()

    def _finish_denial(self) -> None:
        # The app ended (or the server is stopping) between the denial's start
        # and its last body: send what was started with an empty final body.
        self._phase = FINISHED
        try:
            self._engine.reject_body(b'', False)
        except InvalidState:
            return
        self._flush()

    def _close(self, message: ASGIMessage) -> None:
        code = message.get('code')
        if code is None:
            code = 1000
        reason = message.get('reason') or ''
        try:
            self._engine.send_close(code, reason)
        except InvalidState:
            return  # already closed by the peer, a failure or the server
        self._phase = FINISHED
        self._set_disconnect(code, reason)
        self._await_close_reply()

    def _await_close_reply(self) -> None:
        # Our Close is queued: send it and wait (at most close_timeout) for
        # the peer's. After a deferred peer fault there is nothing to wait
        # for (the engine went straight to CLOSED): close the transport.
        self._flush()
        if self._engine.close_expected():
            self._on_engine_closed()
            return
        self._resume_reading()
        self._arm_close_timer()

    def _response_headers(
        self, headers: Iterable[tuple[bytes, bytes]]
    ) -> list[tuple[bytes, bytes]]:
        # The server's default headers (server, date) unless the app set them.
        app_headers = [(name, value) for name, value in headers]
        names = {name.lower() for name, _ in app_headers}
        defaults = [item for item in self._default_headers if item[0] not in names]
        return defaults + app_headers

    def _send_500(self) -> None:
        headers = self._response_headers(
            [(b'content-type', b'text/plain; charset=utf-8')]
        )
        try:
            self._engine.reject(500, headers, b'Internal Server Error')
        except InvalidState:
            return
        self._flush()

    def _log_access(self, outcome: str) -> None:
        if self.logger.isEnabledFor(logging.INFO):
            scope = cast(Any, self.scope)
            self.logger.info(
                '%s - "WebSocket %s" %s',
                get_client_addr(scope),
                get_path_with_query_string(scope),
                outcome,
            )

    # --- queues, waiters and output ------------------------------------------

    def _add_waiter(self, future: asyncio.Future[None]) -> None:
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(future)

    def _remove_waiter(self, future: asyncio.Future[None]) -> None:
        # Keep the invariant the read path relies on: when anyone waits,
        # _waiter is set.
        if self._waiter is future:
            self._waiter = self._waiters.pop(0) if self._waiters else None
        elif self._waiters and future in self._waiters:
            self._waiters.remove(future)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)
        waiters = self._waiters
        if waiters:
            for future in waiters:
                if not future.done():
                    future.set_result(None)
            waiters.clear()

    async def _wait_writable(self) -> None:
        while self._write_paused and not self._lost:
            future = self.loop.create_future()
            if self._drain_waiters is None:
                self._drain_waiters = []
            waiters = self._drain_waiters
            waiters.append(future)
            try:
                await future
            except asyncio.CancelledError:
                if future in waiters:
                    waiters.remove(future)
                raise

    def _wake_writers(self) -> None:
        waiters = self._drain_waiters
        if waiters:
            for future in waiters:
                if not future.done():
                    future.set_result(None)
            waiters.clear()

    def _set_disconnect(self, code: int, reason: str) -> None:
        if self._disconnect is None:
            self._disconnect = (code, reason)
        self._wake()

    def _disconnected(self) -> ClientDisconnected:
        disconnect = self._disconnect
        if disconnect is None:
            return ClientDisconnected(1006)
        return ClientDisconnected(*disconnect)

    def _not_open_error(self, method: str) -> Exception:
        if self._phase == FINISHED:
            return RuntimeError(
                f"{method}() may not be called after sending 'websocket.close'"
            )
        return RuntimeError(f'{method}() may not be called before accept')

    def _after_send(self) -> None:
        # The write policy: the first send of an event-loop iteration on an
        # idle connection is written through at once (latency); the sends
        # that follow it in the same iteration, and every send made inside a
        # read or while received messages wait (the app answers them before it
        # waits again), are batched into one transport.write() by the flush
        # scheduled for the end of the iteration, or by the app's next wait for
        # input. Past the engine's outbound high-water mark the batch is
        # written at once. Channel.send_text() and send_binary() inline it.
        engine = self._engine
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._deferred_flush)
            if not (self._in_read or engine.queued_messages):
                self.transport.write(engine.data_to_send())
                return
        if engine.writing_paused:
            self._flush()

    def _deferred_flush(self) -> None:
        self._flush_scheduled = False
        self._flush()

    def _flush(self) -> None:
        data = self._engine.data_to_send()
        if data:
            self.transport.write(data)

    def _resume_reading(self) -> None:
        if self._read_paused:
            self._read_paused = False
            if not self._write_paused:  # else resume_writing() resumes it
                self.transport.resume_reading()

    # --- timers --------------------------------------------------------------

    def _arm_close_timer(self) -> None:
        self._cancel_close_timer()
        self.close_timer = self.loop.call_later(
            self.close_timeout, self._on_close_timeout
        )

    def _cancel_close_timer(self) -> None:
        if self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = None

    def _on_close_timeout(self) -> None:
        self.close_timer = None
        engine = self._engine
        if engine.failure_deferred:
            # Drop what the app did not take: the deferred failure takes
            # effect on the empty queue (its Close frame is queued).
            while engine.next_message() is not None:
                pass
            self._on_engine_closed()
            return
        self._close_transport()

    def _on_queue_empty(self) -> None:
        # next_message() found the queue empty: a deferred failure took effect
        # if the engine now expects the transport to close.
        if self._disconnect is None and self._engine.close_expected():
            self._on_engine_closed()

    def _close_transport(self) -> None:
        transport = self.transport
        if transport.is_closing():
            return
        transport.close()
        # Test doubles (such as uvicorn's MockWriteTransport) may lack it.
        buffered = getattr(transport, 'get_write_buffer_size', None)
        if buffered is not None and buffered():
            # NOTE(gyrfalcon): close() waits for the write buffer to drain,
            #   which never happens if the peer stopped reading; give it
            #   close_timeout, then drop the connection.
            self._abort_handle = self.loop.call_later(
                self.close_timeout, transport.abort
            )

    def _start_keepalive(self) -> None:
        interval = self.ping_interval
        if interval is not None and interval > 0:
            self._schedule_ping()

    def _stop_keepalive(self) -> None:
        if self.ping_timer is not None:
            self.ping_timer.cancel()
            self.ping_timer = None
        if self.pong_timer is not None:
            self.pong_timer.cancel()
            self.pong_timer = None
        self.pending_ping_payload = None

    def _schedule_ping(self) -> None:
        interval = cast(float, self.ping_interval)
        delay = max(0.0, interval - self.last_ping_rtt)
        self.ping_timer = self.loop.call_later(delay, self._send_keepalive_ping)

    def _send_keepalive_ping(self) -> None:
        self.ping_timer = None
        if self._engine.state != State.OPEN or self.transport.is_closing():
            return
        # A random payload tells this ping's pong from stale or unsolicited ones.
        payload = struct.pack('!I', random.getrandbits(32))
        self.pending_ping_payload = payload
        self.ping_sent_at = self.loop.time()
        self._engine.send_ping(payload)
        self._flush()
        timeout = self.ping_timeout
        if timeout:
            self.pong_timer = self.loop.call_later(timeout, self._keepalive_timeout)
        else:
            self._schedule_ping()

    def _keepalive_timeout(self) -> None:
        self.pong_timer = None
        self.pending_ping_payload = None
        engine = self._engine
        if engine.state != State.OPEN or self.transport.is_closing():
            return
        if self.logger.isEnabledFor(TRACE_LOG_LEVEL):
            prefix = f'{self.client[0]}:{self.client[1]} - ' if self.client else ''
            self.logger.log(
                TRACE_LOG_LEVEL, '%sWebSocket keepalive ping timeout', prefix
            )
        engine.fail(1011, 'keepalive ping timeout')
        self._set_disconnect(1011, 'keepalive ping timeout')
        self._flush()
        self._close_transport()
