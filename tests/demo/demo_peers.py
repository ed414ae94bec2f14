"""Real servers and real clients for the demo tests.

``serve()`` runs an app on ``uvicorn.Server`` in-process, on 127.0.0.1 and a
free port, with the WebSocket protocol class named by an import string.
``open_peer()`` connects one of two independent client libraries,
``websockets`` or ``aiohttp``, behind one small interface (``Peer``), so each
test runs unchanged with both.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

import aiohttp
import uvicorn
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

OURS = 'gyrfalcon.server.uvicorn:WebSocketProtocol'

SERVER_CLASSES = {
    'gyrfalcon': OURS,
    'websockets-sansio': (
        'uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol'
    ),
    'wsproto': 'uvicorn.protocols.websockets.wsproto_impl:WSProtocol',
}
"""uvicorn's WebSocket protocol classes: ours and its two stock ones."""

CLIENTS = ('websockets', 'aiohttp')

GUARD = 10.0
"""Seconds before a wait that should end at once is declared hung.

Never asserted on: it only turns a hang into a failure with a message.
"""

MAX_MESSAGE = 32 * 1024 * 1024

_T = TypeVar('_T')


async def guarded(awaitable: Awaitable[_T], what: str) -> _T:
    """Await `awaitable`, failing the test if it hangs."""
    try:
        return await asyncio.wait_for(awaitable, GUARD)
    except TimeoutError:
        raise AssertionError(f'gave up waiting for {what}') from None


async def eventually(predicate: Callable[[], bool], what: str) -> None:
    """Wait until ``predicate()`` is true, failing the test if it never is."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GUARD
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f'gave up waiting for {what}')
        await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def serve(app: Any, ws_class: str) -> AsyncIterator[str]:
    """Serve `app` with uvicorn and the WebSocket class `ws_class`.

    Yields the base URL (``http://127.0.0.1:<port>``). The server is shut
    down, as by SIGTERM, on exit.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, ws=ws_class, lifespan='off', log_config=None, ws_max_size=MAX_MESSAGE
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started or task.done(), 'server start')
        if task.done():
            task.result()
            raise AssertionError('the server exited during startup')
        yield f'http://127.0.0.1:{port}'
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), GUARD * 2)
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            sock.close()


class Rejected(Exception):
    """The server answered the handshake with an HTTP response."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes | None):
        super().__init__(status)
        self.status = status
        self.headers = headers
        self.body = body
        """The response body (``None`` where the client library hides it)."""


class Closed(Exception):
    """The connection closed; the code and reason the peer sent."""

    def __init__(self, code: int | None, reason: str):
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class Peer:
    """One open client connection, whatever the library."""

    subprotocol: str | None

    async def send(self, message: str | bytes) -> None:
        """Send a TEXT (``str``) or BINARY (``bytes``) message."""
        raise NotImplementedError

    async def recv(self) -> str | bytes:
        """Return the next message; raise ``Closed`` once the server closed."""
        raise NotImplementedError

    async def close(self, code: int = 1000, reason: str = '') -> None:
        """Close the connection and wait for the closing handshake."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release everything, whatever state the connection is in."""
        raise NotImplementedError

    async def closed_by_server(self) -> Closed:
        """Read until the server closes; return its code and reason."""
        while True:
            try:
                await guarded(self.recv(), 'the close')
            except Closed as closed:
                return closed


class WebsocketsPeer(Peer):
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.subprotocol = connection.subprotocol

    async def send(self, message: str | bytes) -> None:
        await self.connection.send(message)

    async def recv(self) -> str | bytes:
        try:
            return await self.connection.recv()
        except ConnectionClosed as ex:
            if ex.rcvd is None:
                raise Closed(None, '') from ex
            raise Closed(ex.rcvd.code, ex.rcvd.reason) from ex

    async def close(self, code: int = 1000, reason: str = '') -> None:
        await guarded(self.connection.close(code, reason), 'the close')

    async def aclose(self) -> None:
        try:
            await guarded(self.connection.close(), 'the close')
        finally:
            # NOTE(gyrfalcon): If the closing handshake did not finish, drop
            #   the socket rather than leak it.
            self.connection.transport.abort()


class AiohttpPeer(Peer):
    def __init__(
        self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse
    ) -> None:
        self.session = session
        self.ws = ws
        self.subprotocol = ws.protocol

    async def send(self, message: str | bytes) -> None:
        if isinstance(message, str):
            await self.ws.send_str(message)
        else:
            await self.ws.send_bytes(message)

    async def recv(self) -> str | bytes:
        message = await self.ws.receive()
        if message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
            data: str | bytes = message.data
            return data
        if message.type is aiohttp.WSMsgType.CLOSE:
            # autoclose (on by default) answers the Close frame.
            raise Closed(message.data, message.extra or '')
        raise Closed(self.ws.close_code, '')

    async def close(self, code: int = 1000, reason: str = '') -> None:
        await guarded(self.ws.close(code=code, message=reason.encode()), 'the close')

    async def aclose(self) -> None:
        try:
            await self.ws.close()
        finally:
            await self.session.close()


async def open_peer(client: str, url: str, subprotocols: Sequence[str] = ()) -> Peer:
    """Open a WebSocket connection with the `client` library.

    Args:
        client: ``'websockets'`` or ``'aiohttp'``.
        url: A ``ws://`` URL.
        subprotocols: The subprotocols to offer.

    Returns:
        The open connection.

    Raises:
        Rejected: The server answered with an HTTP response instead.
    """
    if client == 'websockets':
        try:
            connection = await guarded(
                connect(
                    url,
                    subprotocols=[Subprotocol(name) for name in subprotocols] or None,
                    max_size=MAX_MESSAGE,
                    # Don't pause reading when messages pile up unread (a
                    # test may ignore a busy feed): a paused reader would not
                    # see the server's Close frame until its close timeout.
                    max_queue=None,
                    ping_interval=None,
                ),
                'the handshake',
            )
        except InvalidStatus as ex:
            response = ex.response
            headers = {
                name.lower(): value for name, value in response.headers.raw_items()
            }
            raise Rejected(response.status_code, headers, bytes(response.body)) from ex
        return WebsocketsPeer(connection)

    assert client == 'aiohttp', client
    session = aiohttp.ClientSession()
    try:
        ws = await guarded(
            session.ws_connect(
                url,
                protocols=tuple(subprotocols),
                max_msg_size=MAX_MESSAGE,
                autoping=True,
            ),
            'the handshake',
        )
    except aiohttp.WSServerHandshakeError as ex:
        await session.close()
        headers = {name.lower(): value for name, value in (ex.headers or {}).items()}
        raise Rejected(ex.status, headers, None) from ex
    except BaseException:
        await session.close()
        raise
    return AiohttpPeer(session, ws)


class Peers:
    """Opens peers and closes them all when the test ends."""

    def __init__(self, client: str) -> None:
        self.client = client
        self._open: list[Peer] = []

    async def open(self, url: str, subprotocols: Sequence[str] = ()) -> Peer:
        peer = await open_peer(self.client, url, subprotocols)
        self._open.append(peer)
        return peer

    async def aclose(self) -> None:
        """Close every peer opened so far.

        Servers call this before they shut down: a client that is not
        reading (aiohttp's) would not answer the server's Close frame, and
        the server would wait for its close timeout.
        """
        while self._open:
            peer = self._open.pop()
            with contextlib.suppress(Exception):
                await peer.aclose()


async def http_get(url: str) -> tuple[int, dict[str, str], bytes]:
    """GET `url`; return the status, headers and body."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        headers = {name.lower(): value for name, value in response.headers.items()}
        return response.status, headers, await response.read()
