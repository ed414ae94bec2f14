"""The WebSocket simulator's client API, over real sockets and a real server.

``SocketServer`` runs ``uvicorn.Server`` in-process on 127.0.0.1 (port 0)
with a WebSocket protocol class (Gyrfalcon's by default) and serves whatever
app the current test connects to. ``SocketServer.connect(app, path,
**kwargs)`` has the signature and the behaviour of
``testing.ASGIConductor(app).simulate_ws(path, **kwargs)``: entering waits for
the handshake and raises ``WebSocketDisconnected`` (or a subclass) on a
denial; the object it gives has the simulator's client API
(``send_text()``, ``receive_json()``, ``close()``, ``close_code``...);
leaving closes the connection and waits for the app to return, re-raising
what the app raised.

The app is served as it is: the server calls it with its own ``receive`` and
``send``, so a Gyrfalcon app takes the fast path on Gyrfalcon's class. This is
what lets the WebSocket suite that runs on the simulator run again here.

Where a real socket cannot carry what the simulator reports, the client
reports what a real client would see, as the simulator documents: a close
before ``accept()`` is an HTTP 403 (close code 3403, whatever code the app
used), a failure before the handshake an HTTP 500 (1011), a denial response
``3000 + status``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import msgpack
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from gyrfalcon.asgi._ws_options import supports_reason
from gyrfalcon.errors import (
    OperationNotAllowed,
    PayloadTypeError,
    WebSocketDisconnected,
    WebSocketHandlerNotFound,
    WebSocketPathNotFound,
    WebSocketServerError,
)
from gyrfalcon.server.uvicorn import WebSocketProtocol
from gyrfalcon.util import code_to_http_status

OURS = 'gyrfalcon.server.uvicorn:WebSocketProtocol'
"""The import string of Gyrfalcon's uvicorn WebSocket protocol class."""

GUARD = 10.0
"""Seconds before a wait that should end at once is declared hung (never asserted)."""

# Headers a server adds to the 101 (or denial) response by itself; the
# simulator reports only the headers the app sent.
_SERVER_HEADERS = frozenset(
    {
        'connection',
        'date',
        'sec-websocket-accept',
        'sec-websocket-extensions',
        'sec-websocket-protocol',
        'server',
        'upgrade',
    }
)


class CountingProtocol(WebSocketProtocol):
    """Gyrfalcon's class, counting the ASGI messages that pass through it.

    Attributes:
        asgi_receive_calls (int): Calls of ``receive()``.
        asgi_received (int): ``websocket.receive`` messages it returned.
        asgi_send_types (list[str]): The type of every message ``send()`` got.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.asgi_receive_calls = 0
        self.asgi_received = 0
        self.asgi_send_types: list[str] = []

    async def receive(self) -> dict[str, Any]:
        self.asgi_receive_calls += 1
        message = await super().receive()
        if message['type'] == 'websocket.receive':
            self.asgi_received += 1
        return message

    async def send(self, message: dict[str, Any]) -> None:
        self.asgi_send_types.append(message['type'])
        await super().send(message)


def wrap_receive_send(app: Any) -> Any:
    """Wrap `app` in an ASGI middleware that wraps ``receive`` and ``send``.

    The middleware passes every message through unchanged, but the app no
    longer gets the server's own callables, so it must use ASGI messages.
    """

    async def middleware(scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def wrapped_receive() -> Any:
            return await receive()

        async def wrapped_send(message: dict[str, Any]) -> None:
            await send(message)

        await app(scope, wrapped_receive, wrapped_send)

    return middleware


@dataclass
class Served:
    """What the server-side app did for one connection."""

    done: asyncio.Event = field(default_factory=asyncio.Event)
    error: BaseException | None = None
    scope: dict[str, Any] | None = None
    receive: Any = None
    send: Any = None


class SocketServer:
    """A uvicorn server on 127.0.0.1 that serves the app of the current test.

    Args:
        ws: The WebSocket protocol class (an import string or the class);
            Gyrfalcon's by default.
        wrap: A function applied to each app before it is served, e.g. an
            ASGI middleware that wraps ``receive`` and ``send``.
        **config: More ``uvicorn.Config`` arguments.
    """

    def __init__(
        self,
        ws: Any = OURS,
        wrap: Callable[[Any], Any] | None = None,
        **config: Any,
    ) -> None:
        self.ws = ws
        self.wrap = wrap
        self.config = config
        self.app: Any = None
        self.port = 0
        self.served: dict[int, Served] = {}
        self._server: uvicorn.Server | None = None
        self._sock: socket.socket | None = None

    async def _dispatch(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope['type'] != 'websocket':
            return  # NOTE: lifespan is off; nothing else is expected
        served = self.served[scope['client'][1]] = Served(
            scope=scope, receive=receive, send=send
        )
        try:
            # NOTE: receive and send go through untouched, so the app gets
            #   the server's own callables (and the fast path, if any).
            await self.app(scope, receive, send)
        except BaseException as ex:
            served.error = ex
            raise
        finally:
            served.done.set()

    async def start(self) -> None:
        """Start listening (once).

        NOTE: ``uvicorn.Server.startup()`` without ``serve()``'s main loop,
        whose 0.1 s ticks and shutdown pause would dominate each test; the
        connections are uvicorn's own HTTP protocol and the WebSocket class.
        """
        if self._server is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(('127.0.0.1', 0))
        self._sock = sock
        self.port = sock.getsockname()[1]
        config = dict(self.config)
        config.setdefault('lifespan', 'off')
        config.setdefault('log_config', None)
        config.setdefault('ws_ping_interval', None)
        config.setdefault('interface', 'asgi3')
        uvicorn_config = uvicorn.Config(self._dispatch, ws=self.ws, **config)
        uvicorn_config.load()
        self._server = server = uvicorn.Server(uvicorn_config)
        server.lifespan = uvicorn_config.lifespan_class(uvicorn_config)
        await server.startup(sockets=[sock])

    async def stop(self) -> None:
        """Close every connection as a server shutdown does, and stop."""
        server = self._server
        if server is None:
            return
        self._server = None
        for listener in server.servers:
            listener.close()
        state = server.server_state
        for connection in list(state.connections):
            connection.shutdown()
        try:
            async with asyncio.timeout(GUARD):
                while state.connections or state.tasks:
                    await asyncio.sleep(0.005)
        finally:
            for task in list(state.tasks):
                task.cancel()
            for listener in server.servers:
                await listener.wait_closed()
            if self._sock is not None:
                self._sock.close()

    async def serve(self, app: Any) -> None:
        """Serve `app` (through ``wrap``, if any) from now on; start if needed."""
        self.app = app if self.wrap is None else self.wrap(app)
        await self.start()

    def protocol(self, port: int) -> Any:
        """Return the protocol instance that served the client at `port`."""
        return self.served[port].receive.__self__

    @property
    def connections(self) -> list[Any]:
        """The protocol instances of the open WebSocket connections."""
        server = self._server
        return [] if server is None else list(server.server_state.connections)

    def connect(
        self, app: Any, path: str = '/', timeout: float | None = None, **kwargs: Any
    ) -> SocketContext:
        """Connect to `app` like ``ASGIConductor(app).simulate_ws()`` does.

        Args:
            app: The ASGI app to serve for this connection.
            path: The path (default ``'/'``).
            timeout: Seconds for the handshake and each receive (default 5).
            **kwargs: ``headers``, ``subprotocols`` and ``query_string``;
                others (the scope's ASGI version, extensions...) are decided
                by the server and cannot be chosen here.

        Returns:
            The async context manager.

        Raises:
            TypeError: An argument only the simulator can honour.
        """
        spec = kwargs.pop('spec_version', None)
        if spec is not None and not supports_reason(spec):
            # NOTE: The facade reads the spec version for two features only
            #   (accept headers from 2.1, close reasons from 2.3); the
            #   server's 2.5 behaves as any version from 2.3 does.
            raise TypeError(f'the server speaks ASGI 2.5, not {spec}')
        unsupported = set(kwargs) - {'headers', 'subprotocols', 'query_string'}
        if unsupported:
            raise TypeError(f'not possible over a real socket: {sorted(unsupported)}')
        self.app = app if self.wrap is None else self.wrap(app)
        return SocketContext(self, path, timeout, **kwargs)


class SocketWebSocket:
    """A WebSocket client with the API of ``ASGIWebSocketSimulator``."""

    DEFAULT_TIMEOUT = 5.0

    def __init__(self, timeout: float | None) -> None:
        self.connection: ClientConnection | None = None
        self._timeout = timeout or self.DEFAULT_TIMEOUT
        self._accepted = False
        self._denied = False
        self._close_code: int | None = None
        self._close_reason: str | None = None
        self._headers: list[tuple[bytes, bytes]] | None = None
        self._denial_status: int | None = None
        self._denial_headers: list[tuple[bytes, bytes]] | None = None
        self._denial_body: bytes | None = None

    # --- state ---------------------------------------------------------------

    @property
    def ready(self) -> bool:
        return self._accepted and not self.closed

    @property
    def closed(self) -> bool:
        if self._denied or self._close_code is not None:
            return True
        connection = self.connection
        if connection is not None and connection.close_code is not None:
            self._note_closed()
            return True
        return False

    @property
    def close_code(self) -> int | None:
        self.closed  # noqa: B018 (updates the close state)
        return self._close_code

    @property
    def close_reason(self) -> str | None:
        self.closed  # noqa: B018
        return self._close_reason

    @property
    def subprotocol(self) -> str | None:
        connection = self.connection
        return None if connection is None else connection.subprotocol

    @property
    def headers(self) -> list[tuple[bytes, bytes]] | None:
        return self._headers

    @property
    def denial_status(self) -> int | None:
        return self._denial_status

    @property
    def denial_headers(self) -> list[tuple[bytes, bytes]] | None:
        return self._denial_headers

    @property
    def denial_body(self) -> bytes | None:
        return self._denial_body

    def _note_closed(self) -> None:
        connection = self.connection
        if self._close_code is not None or connection is None:
            return
        # NOTE: The code of the first Close frame: the server's if it closed
        #   first, else ours (websockets records both).
        rcvd, sent = connection.protocol.close_rcvd, connection.protocol.close_sent
        if connection.protocol.close_rcvd_then_sent is False and sent is not None:
            frame = sent
        else:
            frame = rcvd or sent
        self._close_code = 1006 if frame is None else frame.code
        self._close_reason = '' if frame is None else frame.reason

    # --- the handshake -------------------------------------------------------

    async def _open(self, port: int, path: str, **kwargs: Any) -> int:
        """Connect; return the local port (the server sees it in the scope)."""
        sock = socket.create_connection(('127.0.0.1', port))
        local_port: int = sock.getsockname()[1]
        query = kwargs.get('query_string') or ''
        if isinstance(query, bytes):
            query = query.decode()
        uri = f'ws://127.0.0.1:{port}{path}' + (f'?{query}' if query else '')
        headers = kwargs.get('headers') or {}
        try:
            self.connection = await connect(
                uri,
                sock=sock,
                additional_headers=dict(headers),
                subprotocols=kwargs.get('subprotocols'),
                compression=None,
                max_size=None,
                ping_interval=None,
                open_timeout=GUARD,
                close_timeout=GUARD,
                proxy=None,
            )
        except InvalidStatus as ex:
            response = ex.response
            self._denied = True
            self._denial_status = status = response.status_code
            if status == 403:
                self._close_code, self._close_reason = 3403, '403 Forbidden'
            elif status == 500:
                self._close_code = 1011
                self._close_reason = code_to_http_status(status)
            else:
                self._close_code = 3000 + status
                self._close_reason = code_to_http_status(status)
            self._denial_headers = _app_headers(response.headers.raw_items())
            self._denial_body = response.body
            return local_port
        self._accepted = True
        assert self.connection.response is not None
        self._headers = (
            _app_headers(self.connection.response.headers.raw_items()) or None
        )
        return local_port

    async def wait_ready(self, timeout: float | None = None) -> None:
        self._require_accepted()

    def _require_accepted(self) -> None:
        if self._accepted and not self.closed:
            return
        if not self._accepted and not self._denied:
            raise OperationNotAllowed('WebSocket connection has not yet been accepted')
        code, reason = self._close_code, self._close_reason
        if self._accepted:
            raise WebSocketDisconnected(code, reason)
        if code == 3404:
            raise WebSocketPathNotFound(code, reason)
        if code == 1011:
            raise WebSocketServerError(code, reason)
        if code == 3405:
            raise WebSocketHandlerNotFound(code, reason)
        raise WebSocketDisconnected(code, reason)

    # --- client API ------------------------------------------------------------

    async def close(self, code: int | None = None, reason: str | None = None) -> None:
        connection = self.connection
        if self.closed or connection is None:
            return
        await connection.close(1000 if code is None else code, reason or '')
        self._note_closed()

    async def send_text(self, payload: str) -> None:
        if not isinstance(payload, str):
            raise TypeError('payload must be a string')
        await self._send(payload)

    async def send_data(self, payload: bytes | bytearray | memoryview) -> None:
        if not isinstance(payload, (bytes, bytearray, memoryview)):
            raise TypeError('payload must be a byte string')
        await self._send(bytes(payload))

    async def send_json(self, media: object) -> None:
        await self.send_text(json.dumps(media))

    async def send_msgpack(self, media: object) -> None:
        await self.send_data(msgpack.packb(media, use_bin_type=True))

    async def _send(self, message: str | bytes) -> None:
        self._require_accepted()
        assert self.connection is not None
        try:
            await self.connection.send(message)
        except ConnectionClosed:
            self._note_closed()
            self._require_accepted()

    async def receive(self, *, timeout: float | None = None) -> str | bytes:
        if not self._accepted:
            self._require_accepted()
        assert self.connection is not None
        try:
            async with asyncio.timeout(timeout or self._timeout):
                message: str | bytes = await self.connection.recv()
        except ConnectionClosed:
            self._note_closed()
            self._require_accepted()
            raise AssertionError('unreachable') from None
        return message

    async def receive_text(self, *, timeout: float | None = None) -> str:
        message = await self.receive(timeout=timeout)
        if not isinstance(message, str):
            raise PayloadTypeError('Expected TEXT payload but got BINARY instead')
        return message

    async def receive_data(self, *, timeout: float | None = None) -> bytes:
        message = await self.receive(timeout=timeout)
        if not isinstance(message, bytes):
            raise PayloadTypeError('Expected BINARY payload but got TEXT instead')
        return message

    async def receive_json(self, *, timeout: float | None = None) -> Any:
        return json.loads(await self.receive_text(timeout=timeout))

    async def receive_msgpack(self, *, timeout: float | None = None) -> Any:
        data = await self.receive_data(timeout=timeout)
        return msgpack.unpackb(data, use_list=True, raw=False)


class SocketContext:
    """The async context manager of ``SocketServer.connect()``."""

    def __init__(
        self, server: SocketServer, path: str, timeout: float | None, **kwargs: Any
    ) -> None:
        self._server = server
        self._path = path
        self._kwargs = kwargs
        self._ws = SocketWebSocket(timeout)
        self._served: Served | None = None

    @property
    def ws(self) -> SocketWebSocket:
        return self._ws

    @property
    def served(self) -> Served | None:
        """What the server-side app did, once it was called."""
        return self._served

    async def __aenter__(self) -> SocketWebSocket:
        server = self._server
        await server.start()
        port = await self._ws._open(server.port, self._path, **self._kwargs)
        self._served = server.served.get(port)
        if not self._ws._accepted:
            await self._wait_app()
            if self._served is not None and self._served.error is not None:
                # NOTE: As the simulator does: the app's own exception says
                #   more than the 500 it caused.
                raise self._served.error
            self._ws._require_accepted()
        return self._ws

    async def __aexit__(self, *exc_info: object) -> None:
        await self._ws.close()
        await self._wait_app()
        served = self._served
        if served is not None and served.error is not None and exc_info[0] is None:
            raise served.error

    async def _wait_app(self) -> None:
        served = self._served
        if served is not None:
            await asyncio.wait_for(served.done.wait(), GUARD * 3)


def _app_headers(items: Any) -> list[tuple[bytes, bytes]]:
    return [
        (name.lower().encode('ascii'), value.encode('latin-1'))
        for name, value in items
        if name.lower() not in _SERVER_HEADERS
    ]


@contextlib.asynccontextmanager
async def serving(
    ws: Any = OURS, wrap: Callable[[Any], Any] | None = None, **config: Any
) -> AsyncIterator[SocketServer]:
    """Run a ``SocketServer`` for the duration of the block."""
    server = SocketServer(ws, wrap, **config)
    try:
        yield server
    finally:
        await server.stop()
