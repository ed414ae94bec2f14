"""The ``gyrfalcon.engine`` extension: a raw ASGI app on the fast path.

Only our class offers the extension, so these tests use it alone.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from uvicorn.protocols.utils import ClientDisconnected as UvicornClientDisconnected
from websockets.asyncio.client import connect
from ws_peers import OP_CLOSE, Peers, count_writes, eventually, serve

from gyrfalcon.errors import WebSocketDisconnected
from gyrfalcon.server import EXTENSION, EngineChannel, get_channel
from gyrfalcon.server.uvicorn import WebSocketProtocol

pytestmark = pytest.mark.network


class FastEcho:
    """Echo through the channel; record what the channel reported."""

    def __init__(self) -> None:
        self.channel: EngineChannel | None = None
        self.close: tuple[int | None, str | None] = (None, None)
        self.done = asyncio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            channel = get_channel(scope, receive, send)
            assert channel is not None
            self.channel = channel
            assert (await receive())['type'] == 'websocket.connect'
            await send({'type': 'websocket.accept'})
            while True:
                message = channel.next_message()
                if message is None:
                    if channel.closed:
                        break
                    await channel.wait_message()
                    continue
                if isinstance(message, str):
                    channel.send_text(message)
                else:
                    channel.send_binary(message)
                if channel.writing_paused:
                    await channel.drain()
            self.close = (channel.close_code, channel.close_reason)
        finally:
            self.done.set()


async def test_the_extension_exposes_the_app_callables() -> None:
    seen: dict[str, Any] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        extension = scope['extensions'][EXTENSION]
        seen['same'] = extension.receive is receive and extension.send is send
        # The value is also a dict, as ASGI describes extension values.
        seen['dict'] = isinstance(extension, dict) and extension['receive'] is receive
        seen['channel'] = get_channel(scope, receive, send) is extension
        await receive()
        await send({'type': 'websocket.accept'})
        await send({'type': 'websocket.close'})

    async with serve(app, WebSocketProtocol) as running:
        async with connect(running.url) as client:
            await client.wait_closed()
    assert seen == {'same': True, 'dict': True, 'channel': True}


async def test_middleware_that_wraps_receive_disables_the_fast_path() -> None:
    seen: list[Any] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(get_channel(scope, receive, send))
        await receive()
        await send({'type': 'websocket.accept'})
        await send({'type': 'websocket.close'})

    async def middleware(scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def logged_receive() -> Any:
            return await receive()

        await app(scope, logged_receive, send)

    async with serve(middleware, WebSocketProtocol) as running:
        async with connect(running.url) as client:
            await client.wait_closed()
    assert seen == [None]
    assert get_channel({'type': 'websocket'}, None, None) is None
    assert get_channel({'extensions': {}}, None, None) is None


async def test_echo_through_the_channel() -> None:
    app = FastEcho()
    async with serve(app, WebSocketProtocol) as running:
        async with connect(running.url) as client:
            for message in ('hello', b'\x00bin', '', b''):
                await client.send(message)
                assert await client.recv() == message
            await client.send(['frag', 'mented'])
            assert await client.recv() == 'fragmented'
            await client.close(4002, 'done')
        await asyncio.wait_for(app.done.wait(), 10)
    assert app.close == (4002, 'done')


async def test_channel_batches_replies_to_queued_messages(peers: Peers) -> None:
    app = FastEcho()
    async with serve(app, WebSocketProtocol) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        writes = count_writes(protocol.transport)
        client.send_text('alone')
        assert await client.recv_message() == 'alone'
        assert len(writes) == 1  # idle: written through at once
        del writes[:]
        for i in range(100):
            client.send_text(str(i))
        got = [await client.recv_message() for _ in range(100)]
        assert got == [str(i) for i in range(100)]
        assert len(writes) <= 10
        client.send_close()
        assert (await client.recv_frame()).opcode == OP_CLOSE


async def test_channel_and_receive_share_one_queue(peers: Peers) -> None:
    taken: list[Any] = []
    ready = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        channel = get_channel(scope, receive, send)
        assert channel is not None
        await receive()
        await send({'type': 'websocket.accept'})
        await ready.wait()
        taken.append(channel.next_message())
        taken.append(await receive())
        taken.append(channel.next_message())
        taken.append(channel.next_message())
        taken.append(await receive())

    async with serve(app, WebSocketProtocol) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        for text in ('a', 'b', 'c'):
            client.send_text(text)
        await eventually(lambda: protocol._engine.queued_messages == 3, 'queue')
        client.send_close(1000)
        await client.recv_close()
        ready.set()
        await eventually(lambda: len(taken) == 5, 'the app')
    assert taken == [
        'a',
        {'type': 'websocket.receive', 'text': 'b'},
        'c',
        None,
        {'type': 'websocket.disconnect', 'code': 1000, 'reason': ''},
    ]


async def test_channel_errors() -> None:
    errors: dict[str, BaseException] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        channel = get_channel(scope, receive, send)
        assert channel is not None
        await receive()
        try:
            channel.send_text('early')
        except RuntimeError as ex:
            errors['before accept'] = ex
        await send({'type': 'websocket.accept'})
        try:
            channel.send_text(b'not text')  # type: ignore[arg-type]
        except TypeError as ex:
            errors['type'] = ex
        await channel.wait_message()
        assert channel.closed and channel.next_message() is None
        try:
            channel.send_binary(b'late')
        except OSError as ex:
            errors['after peer close'] = ex
        await channel.wait_message()  # returns at once once closed

    async with serve(app, WebSocketProtocol) as running:
        async with connect(running.url) as client:
            await client.close(1001, 'going')
        await eventually(lambda: len(errors) == 3, 'the app')
    assert 'before accept' in str(errors['before accept'])
    late = errors['after peer close']
    assert isinstance(late, UvicornClientDisconnected)
    assert isinstance(late, WebSocketDisconnected)
    assert (late.code, late.reason) == (1001, 'going')


async def test_channel_refuses_sends_after_the_app_closed() -> None:
    errors: list[BaseException] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        channel = get_channel(scope, receive, send)
        assert channel is not None
        await receive()
        await send({'type': 'websocket.accept'})
        await send({'type': 'websocket.close', 'code': 1000})
        assert channel.closed and channel.close_code == 1000
        try:
            channel.send_text('after close')
        except RuntimeError as ex:
            errors.append(ex)

    async with serve(app, WebSocketProtocol) as running:
        async with connect(running.url) as client:
            await client.wait_closed()
    assert len(errors) == 1
    assert "after sending 'websocket.close'" in str(errors[0])


async def test_channel_drain_waits_and_fails_when_the_peer_goes(peers: Peers) -> None:
    state: dict[str, Any] = {'sent': 0}
    done = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        channel = get_channel(scope, receive, send)
        assert channel is not None
        await receive()
        await send({'type': 'websocket.accept'})
        payload = b'x' * 65536
        try:
            while True:
                channel.send_binary(payload)
                state['sent'] += 1
                if channel.writing_paused:
                    state['paused'] = True
                    await channel.drain()
        except OSError as ex:
            state['error'] = ex
        finally:
            done.set()

    async with serve(app, WebSocketProtocol) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        await eventually(lambda: protocol._write_paused, 'writing to pause')
        assert protocol.transport.get_write_buffer_size() <= 3 * 65536
        client.writer.transport.abort()
        await asyncio.wait_for(done.wait(), 10)
    assert state.get('paused') is True
    assert isinstance(state['error'], OSError)


async def test_writing_paused_follows_the_transport(peers: Peers) -> None:
    seen: list[bool] = []
    go = asyncio.Event()
    go2 = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        channel = get_channel(scope, receive, send)
        assert channel is not None
        await receive()
        await send({'type': 'websocket.accept'})
        seen.append(channel.writing_paused)
        await go.wait()
        seen.append(channel.writing_paused)
        drained = asyncio.ensure_future(channel.drain())
        await asyncio.sleep(0)
        seen.append(drained.done())
        await go2.wait()
        await drained
        seen.append(channel.writing_paused)

    async with serve(app, WebSocketProtocol) as running:
        await peers.connect(running.port)
        protocol = await running.connection()
        await eventually(lambda: len(seen) == 1, 'accepted')
        protocol.pause_writing()
        go.set()
        await eventually(lambda: len(seen) == 3, 'the drain to start')
        protocol.resume_writing()
        go2.set()
        await eventually(lambda: len(seen) == 4, 'the drain to end')
    assert seen == [False, True, False, False]


async def test_wait_message_is_a_future_or_done(peers: Peers) -> None:
    """``wait_message()`` returns the server's future, or a done awaitable."""
    outcomes: list[Any] = []
    go = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        channel = get_channel(scope, receive, send)
        assert channel is not None
        await receive()
        await send({'type': 'websocket.accept'})
        waiting = channel.wait_message()
        outcomes.append(isinstance(waiting, asyncio.Future))
        # A cancelled wait leaves the next one working.
        waiting.cancel()
        again = channel.wait_message()
        await again
        outcomes.append(channel.next_message())
        await go.wait()
        ready = channel.wait_message()
        outcomes.append(isinstance(ready, asyncio.Future))
        await ready  # a message is queued: returns at once
        outcomes.append(channel.next_message())

    async with serve(app, WebSocketProtocol) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        await eventually(lambda: len(outcomes) == 1, 'the first wait')
        client.send_text('one')
        await eventually(lambda: len(outcomes) == 2, 'the second wait')
        client.send_text('two')
        await eventually(lambda: protocol._engine.queued_messages == 1, 'queued')
        go.set()
        await eventually(lambda: len(outcomes) == 4, 'the app')
    assert outcomes == [True, 'one', False, 'two']
