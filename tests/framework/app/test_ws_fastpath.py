"""The WebSocket facade's fast path on Gyrfalcon's protocol class.

On ``gyrfalcon.server.uvicorn:WebSocketProtocol``, with nothing wrapping
``receive`` and ``send``, the facade exchanges ``str``/``bytes`` with the
engine channel and reads the disconnect from it; behind an ASGI middleware
that wraps them, and on other servers, it speaks ASGI messages (the dict
path) and runs its receive pump. These tests show which path is taken, and
that the behaviours only a real connection can produce (a Close frame
without a code, messages and a Close in one read, write backpressure, a lost
connection, server shutdown, a peer's protocol error) come out the same on
both paths. ``test_ws_fastpath_suite.py`` runs the WebSocket suite itself on
both paths.
"""

from __future__ import annotations

import asyncio
import struct
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

import gyrfalcon as falcon
from gyrfalcon.asgi.ws import _RUN_LIMIT
from gyrfalcon.protocol import encode_frame
from gyrfalcon.server import get_channel

sys.path.insert(0, str(Path(__file__).parents[2] / 'server'))

from ws_peers import OP_CLOSE, OP_TEXT, Peers, RawClient
from ws_sockets import (
    GUARD,
    CountingProtocol,
    SocketServer,
    serving,
    wrap_receive_send,
)

pytestmark = pytest.mark.network

Script = Callable[[Any], Awaitable[Any]]


class Responder:
    """Runs ``script(ws)`` in ``on_websocket``; records what it returned or raised."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.ws: Any = None
        self.result: Any = None
        self.error: BaseException | None = None
        self.started = asyncio.Event()
        self.done = asyncio.Event()

    async def on_websocket(self, req: Any, ws: Any) -> None:
        self.ws = ws
        self.started.set()
        try:
            self.result = await self.script(ws)
        except Exception as ex:
            self.error = ex
        finally:
            self.done.set()

    async def finished(self) -> None:
        await asyncio.wait_for(self.done.wait(), GUARD)


def make_app(script: Script, **ws_options: Any) -> tuple[falcon.App, Responder]:
    app = falcon.App()
    for name, value in ws_options.items():
        setattr(app.ws_options, name, value)
    responder = Responder(script)
    app.add_route('/', responder)
    return app, responder


async def until(predicate: Callable[[], bool], what: str) -> None:
    """Give the loop turns until `predicate()` holds (bounded, never timed)."""
    async with asyncio.timeout(GUARD):
        while not predicate():
            await asyncio.sleep(0)
    assert predicate(), what


@pytest.fixture
async def peers() -> AsyncIterator[Peers]:
    result = Peers()
    try:
        yield result
    finally:
        await result.aclose()


@pytest.fixture(params=['fast', 'dict'])
def path(request: pytest.FixtureRequest) -> str:
    """The facade's path: ``'fast'`` (the channel) or ``'dict'`` (ASGI)."""
    name: str = request.param
    return name


@pytest.fixture
async def server(path: str) -> AsyncIterator[SocketServer]:
    """Gyrfalcon's class; the app is called directly, or behind a middleware."""
    wrap = wrap_receive_send if path == 'dict' else None
    async with serving(CountingProtocol, wrap=wrap) as running:
        yield running


def fast(server: SocketServer) -> bool:
    return server.wrap is None


async def open_client(server: SocketServer, peers: Peers) -> tuple[RawClient, Any]:
    """Connect a raw client; return it and the protocol instance serving it."""
    client = await peers.connect(server.port)
    port = client.writer.get_extra_info('sockname')[1]
    return client, server.protocol(port)


# --- which path ------------------------------------------------------------------


async def echo_script(ws: Any) -> list[Any]:
    seen = [ws._channel is not None, ws._buffered_receiver is not None]
    await ws.accept()
    if ws._buffered_receiver is not None:
        seen.append(ws._buffered_receiver.running)
    async for message in ws:
        await ws.send_text(message)
    return seen


async def test_fast_path_on_our_class(peers: Peers) -> None:
    """Our class, nothing in between: the channel, no ASGI message per message."""
    app, responder = make_app(echo_script)
    async with serving(CountingProtocol) as server:
        await server.serve(app)
        client, protocol = await open_client(server, peers)
        for i in range(20):
            client.send_text(str(i))
        assert [await client.recv_message() for __ in range(20)] == [
            str(i) for i in range(20)
        ]
        client.send_close(1000)
        await responder.finished()
    # NOTE: channel in use, no receive pump built.
    assert responder.result == [True, False]
    assert protocol.asgi_receive_calls == 1  # websocket.connect only
    # NOTE: the client closed first, so the app sends no websocket.close.
    assert protocol.asgi_send_types == ['websocket.accept']


async def test_dict_path_behind_middleware(peers: Peers) -> None:
    """A middleware that wraps receive and send sees every message."""
    app, responder = make_app(echo_script)
    seen: list[str] = []

    def counting(inner: Any) -> Any:
        async def middleware(scope: Any, receive: Any, send: Any) -> None:
            async def wrapped_receive() -> Any:
                message = await receive()
                seen.append(message['type'])
                return message

            async def wrapped_send(message: Any) -> None:
                seen.append(message['type'])
                await send(message)

            await inner(scope, wrapped_receive, wrapped_send)

        return middleware

    async with serving(CountingProtocol, wrap=counting) as server:
        await server.serve(app)
        client, __ = await open_client(server, peers)
        for i in range(3):
            client.send_text(str(i))
            assert await client.recv_message() == str(i)
        client.send_close(1000)
        await responder.finished()
    # NOTE: no channel; the pump is built and runs once accepted.
    assert responder.result == [False, True, True]
    assert seen.count('websocket.receive') == 3
    assert seen.count('websocket.send') == 3
    assert seen[0] == 'websocket.connect'
    # NOTE: the client closed first, so the app sends no websocket.close.
    assert seen[-1] == 'websocket.disconnect'
    assert 'websocket.close' not in seen


async def test_one_wrapped_callable_is_enough_for_the_dict_path() -> None:
    """The identity check covers ``receive`` and ``send`` alike."""
    checks: list[bool] = []

    def wrap_send_only(inner: Any) -> Any:
        async def middleware(scope: Any, receive: Any, send: Any) -> None:
            async def wrapped_send(message: Any) -> None:
                await send(message)

            checks.append(get_channel(scope, receive, send) is not None)
            checks.append(get_channel(scope, receive, wrapped_send) is not None)
            await inner(scope, receive, wrapped_send)

        return middleware

    app, responder = make_app(echo_script)
    async with serving(CountingProtocol, wrap=wrap_send_only) as server:
        await server.serve(app)
        async with connect(f'ws://127.0.0.1:{server.port}', proxy=None) as client:
            await client.send('x')
            assert await client.recv() == 'x'
        await responder.finished()
    assert checks == [True, False]
    assert responder.result[0] is False


@pytest.mark.parametrize(
    'implementation',
    [
        'websockets-sansio',
        'wsproto',
    ],
)
async def test_dict_path_on_uvicorn_classes(implementation: str) -> None:
    """uvicorn's own classes offer no channel: the dict path and the pump."""
    app, responder = make_app(echo_script)
    async with serving(implementation) as server:
        await server.serve(app)
        async with connect(f'ws://127.0.0.1:{server.port}', proxy=None) as client:
            await client.send('x')
            assert await client.recv() == 'x'
        await responder.finished()
    scope = server.served[next(iter(server.served))].scope
    assert 'gyrfalcon.engine' not in scope['extensions']
    assert responder.result == [False, True, True]


# --- what the fast path skips ------------------------------------------------------


async def test_waiting_messages_are_taken_without_suspending(peers: Peers) -> None:
    """``receive_*()`` pops a queued message at once; ``send_*()`` does not wait."""
    go = asyncio.Event()

    async def script(ws: Any) -> list[Any]:
        await ws.accept()
        await go.wait()
        outcomes = []
        for call in (
            ws.receive_text(),
            ws.receive_data(),
            ws.receive_media(),
            ws.send_text('a'),
            ws.send_data(b'b'),
            ws.send_media({'c': 3}),
        ):
            # A coroutine that never suspends finishes on its first step.
            with pytest.raises(StopIteration) as stop:
                call.send(None)
            outcomes.append(stop.value.value)
        return outcomes

    app, responder = make_app(script)
    async with serving(CountingProtocol) as server:
        await server.serve(app)
        client, protocol = await open_client(server, peers)
        client.send_text('one')
        client.send_binary(b'two')
        client.send_text('{"three": 3}')
        await until(lambda: protocol._engine.queued_messages == 3, 'queued')
        go.set()
        await responder.finished()
        assert responder.error is None
        assert responder.result == ['one', b'two', {'three': 3}, None, None, None]
        assert [await client.recv_message() for __ in range(3)] == [
            'a',
            b'b',
            '{"c":3}',
        ]


async def test_a_run_of_waiting_messages_lets_other_tasks_in(
    peers: Peers, path: str
) -> None:
    """Waiting messages are taken without suspending, but not 100 in a row."""
    go = asyncio.Event()
    turns: list[int] = []

    async def script(ws: Any) -> list[str]:
        await ws.accept()
        await go.wait()
        received: list[str] = []

        async def other_task() -> None:
            while True:
                turns.append(len(received))
                await asyncio.sleep(0)

        other = asyncio.ensure_future(other_task())
        await asyncio.sleep(0)
        for __ in range(100):
            received.append(await ws.receive_text())
        other.cancel()
        return received

    wrap = wrap_receive_send if path == 'dict' else None
    app, responder = make_app(script)
    async with serving(CountingProtocol, wrap=wrap, ws_max_queue=1000) as server:
        await server.serve(app)
        client, protocol = await open_client(server, peers)
        client.write(b''.join(_frame(OP_TEXT, str(i).encode()) for i in range(100)))
        # NOTE: all arrived before the app reads (on the dict path the pump
        #   has taken a few already).
        await until(
            lambda: protocol._engine.queued_messages + protocol.asgi_received == 100,
            'all queued',
        )
        go.set()
        await responder.finished()
    assert responder.result == [str(i) for i in range(100)]
    # NOTE: the other task ran between the messages, at least every
    #   _RUN_LIMIT (64) of them.
    during = [count for count in turns if 0 < count < 100]
    assert during
    gaps = [b - a for a, b in zip([0, *during], [*during, 100], strict=True)]
    assert max(gaps) <= _RUN_LIMIT


# --- disconnects ------------------------------------------------------------------


async def wait_for_message(ws: Any) -> Any:
    await ws.accept()
    try:
        await ws.receive_text()
    except falcon.WebSocketDisconnected as ex:
        return (ex.code, ex.reason, ws.closed, ws.ready, ws.close_code, ws.close_reason)
    raise AssertionError('a message arrived')


@pytest.mark.parametrize(
    ('code', 'reason', 'expected'),
    [(4001, 'bye', (4001, 'bye')), (1000, '', (1000, '')), (None, '', (1005, ''))],
    ids=['code-and-reason', 'code', 'no-code'],
)
async def test_client_close_wakes_a_waiting_receive(
    server: SocketServer,
    peers: Peers,
    code: int | None,
    reason: str,
    expected: tuple[int, str],
) -> None:
    """The client's Close (without a code: 1005) ends a waiting receive."""
    app, responder = make_app(wait_for_message)
    await server.serve(app)
    client, __ = await open_client(server, peers)
    await until(lambda: responder.ws is not None and responder.ws.ready, 'ready')
    await asyncio.sleep(0)
    client.send_close(code, reason)
    await responder.finished()
    assert responder.result == (*expected, True, False, *expected)
    # The server echoes the code (an empty Close frame for none).
    assert await client.recv_close() == (expected[0], '')


async def test_messages_then_close_in_one_read(
    server: SocketServer, peers: Peers
) -> None:
    """Messages that arrived with the Close are received before the disconnect."""

    async def script(ws: Any) -> list[Any]:
        await ws.accept()
        await until(lambda: ws.closed, 'the disconnect')
        received: list[Any] = [ws.ready, ws.close_code]
        async for message in ws:
            received.append(message)
        return [*received, ws.close_code, ws.close_reason]

    app, responder = make_app(script)
    await server.serve(app)
    client, __ = await open_client(server, peers)
    client.write(
        b''.join(
            [
                _frame(OP_TEXT, b'a'),
                _frame(OP_TEXT, b'b'),
                _frame(OP_TEXT, b'c'),
                _frame(OP_CLOSE, struct.pack('!H', 4000) + b'done'),
            ]
        )
    )
    assert await client.recv_close() == (4000, '')
    await responder.finished()
    # NOTE: closed already (the pump or the channel saw the Close), and yet
    #   the messages that came before it are delivered.
    assert responder.result == [False, 4000, 'a', 'b', 'c', 4000, 'done']


def _frame(opcode: int, payload: bytes) -> bytes:
    return encode_frame(opcode, payload, mask=b'\x01\x02\x03\x04')


async def test_sender_sees_the_client_leave(server: SocketServer, peers: Peers) -> None:
    """An app that only sends sees ``closed`` flip, then ``send_*()`` raises."""

    async def script(ws: Any) -> list[Any]:
        await ws.accept()
        await ws.send_text('hello')
        await until(lambda: ws.closed, 'the disconnect')
        state = [ws.ready, ws.closed, ws.close_code, ws.close_reason]
        try:
            await ws.send_text('too late')
        except falcon.WebSocketDisconnected as ex:
            return [*state, type(ex), ex.code, ex.reason]
        raise AssertionError('the send went through')

    app, responder = make_app(script)
    await server.serve(app)
    client, __ = await open_client(server, peers)
    assert await client.recv_message() == 'hello'
    client.send_close(1001, 'going')
    await responder.finished()
    assert responder.result == [
        False,
        True,
        1001,
        'going',
        falcon.WebSocketDisconnected,
        1001,
        'going',
    ]


async def test_max_receive_queue_zero_notices_on_send(
    server: SocketServer, peers: Peers
) -> None:
    """``max_receive_queue = 0``: the disconnect is noticed by a send."""
    go = asyncio.Event()

    async def script(ws: Any) -> list[Any]:
        await ws.accept()
        await go.wait()
        state: list[Any] = [ws.ready, ws.closed]
        try:
            await ws.send_text('too late')
        except falcon.WebSocketDisconnected as ex:
            return [*state, ex.code, ws.ready, ws.closed, ws.close_code]
        raise AssertionError('the send went through')

    app, responder = make_app(script, max_receive_queue=0)
    await server.serve(app)
    client, protocol = await open_client(server, peers)
    await until(lambda: responder.ws is not None and responder.ws.ready, 'ready')
    client.send_close(4002)
    await client.recv_close()
    await until(lambda: protocol._disconnect is not None, 'the server saw it')
    go.set()
    await responder.finished()
    assert responder.result == [True, False, 4002, False, True, 4002]


async def test_peer_protocol_error_ends_receive(
    server: SocketServer, peers: Peers
) -> None:
    """Invalid UTF-8 from the client: the server closes with 1007; receive raises."""
    app, responder = make_app(wait_for_message)
    await server.serve(app)
    client, __ = await open_client(server, peers)
    await until(lambda: responder.ws is not None and responder.ws.ready, 'ready')
    client.send_frame(OP_TEXT, b'\xff\xfe')
    code, reason = await client.recv_close()
    await responder.finished()
    assert code == 1007
    assert responder.result == (1007, reason, True, False, 1007, reason)


async def test_server_shutdown_wakes_a_waiting_receive(
    server: SocketServer, peers: Peers
) -> None:
    """Server shutdown: the client gets 1012, the waiting receive raises 1012."""
    app, responder = make_app(wait_for_message)
    await server.serve(app)
    client, __ = await open_client(server, peers)
    await until(lambda: responder.ws is not None and responder.ws.ready, 'ready')
    stopping = asyncio.create_task(server.stop())
    assert (await client.recv_close())[0] == 1012
    client.send_close(1012)
    await responder.finished()
    await stopping
    assert responder.result == (1012, '', True, False, 1012, '')


async def test_cancelled_receive_leaves_the_connection_usable(
    server: SocketServer, peers: Peers
) -> None:
    """Cancelling a waiting ``receive_text()`` frees the receiver for the next."""

    async def script(ws: Any) -> Any:
        await ws.accept()
        waiting = asyncio.ensure_future(ws.receive_text())
        await until(lambda: ws._receiving, 'receiving')
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await ws.send_text('ready')
        return await ws.receive_text()

    app, responder = make_app(script)
    await server.serve(app)
    client, __ = await open_client(server, peers)
    assert await client.recv_message() == 'ready'
    client.send_text('after')
    await responder.finished()
    assert responder.error is None
    assert responder.result == 'after'


# --- write backpressure -------------------------------------------------------------


async def test_sends_wait_while_writing_is_paused(
    server: SocketServer, peers: Peers
) -> None:
    """Paused writing holds every send, in order, until the transport drains."""
    sent: list[str] = []
    go = asyncio.Event()

    async def script(ws: Any) -> None:
        await ws.accept()
        await go.wait()

        async def send(text: str) -> None:
            await ws.send_text(text)
            sent.append(text)

        await asyncio.gather(*(send(text) for text in 'abc'), ws.send_media('d'))
        sent.append('d')

    app, responder = make_app(script)
    await server.serve(app)
    client, protocol = await open_client(server, peers)
    await until(lambda: responder.ws is not None and responder.ws.ready, 'ready')
    protocol.pause_writing()
    go.set()
    for __ in range(50):
        await asyncio.sleep(0)
    assert sent == []
    assert not responder.done.is_set()
    protocol.resume_writing()
    await responder.finished()
    assert responder.error is None
    assert sent == ['a', 'b', 'c', 'd']
    assert [await client.recv_message() for __ in range(4)] == ['a', 'b', 'c', '"d"']


async def test_connection_lost_while_a_send_waits(
    server: SocketServer, peers: Peers
) -> None:
    """A send held by backpressure raises once the connection is lost."""

    go = asyncio.Event()

    async def script(ws: Any) -> Any:
        await ws.accept()
        await go.wait()
        protocol.pause_writing()
        try:
            await ws.send_text('held')
        except falcon.WebSocketDisconnected as ex:
            return (ex.code, ws.closed, ws.close_code)
        raise AssertionError('the send went through')

    app, responder = make_app(script)
    await server.serve(app)
    client, protocol = await open_client(server, peers)
    go.set()
    await until(lambda: protocol._write_paused, 'paused')
    for __ in range(10):
        await asyncio.sleep(0)
    assert not responder.done.is_set()
    client.writer.transport.abort()
    await responder.finished()
    assert responder.result == (1005, True, 1005)


# --- the server's view ------------------------------------------------------------


async def test_tasks_per_idle_connection(server: SocketServer, peers: Peers) -> None:
    """An idle connection: the app's task, plus the receive pump on the dict path."""

    async def script(ws: Any) -> None:
        await ws.accept()
        await ws.receive_text()

    baseline = len(asyncio.all_tasks())
    app, responder = make_app(script)
    await server.serve(app)
    clients = [await open_client(server, peers) for __ in range(3)]
    await until(lambda: len(server.served) == 3, 'three connections')
    for __ in range(20):
        await asyncio.sleep(0)
    per_connection = 1 if fast(server) else 2
    assert len(asyncio.all_tasks()) == baseline + 3 * per_connection
    for client, __ in clients:
        client.send_text('bye')
    await until(lambda: len(asyncio.all_tasks()) == baseline, 'apps done')
