"""Checklist G: write and read flow control, and write batching.

Our class pauses reading at the engine's high-water marks (``ws_max_queue``
messages or ``max_queue_bytes``) and resumes at a quarter of each; uvicorn's
classes pause after every received message. The tests state both.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from ws_peers import Peers, count_writes, echo_app, eventually, serve

from gyrfalcon.server.uvicorn import WebSocketProtocol

pytestmark = pytest.mark.network

CHUNK = 64 * 1024


def queued(protocol: Any) -> int:
    """Received messages waiting for the app, whichever class this is."""
    if isinstance(protocol, WebSocketProtocol):
        count: int = protocol._engine.queued_messages
        return count
    size: int = protocol.queue.qsize()
    return size


def write_paused(protocol: Any) -> bool:
    if isinstance(protocol, WebSocketProtocol):
        return protocol._write_paused
    return not protocol.writable.is_set()


# --- G1. write flow control --------------------------------------------------


class Pusher:
    """Push ``count`` 64 KiB messages as fast as ``send()`` lets it."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.sent = 0
        self.error: BaseException | None = None
        self.done = asyncio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        payload = b'p' * CHUNK
        try:
            for _ in range(self.count):
                await send({'type': 'websocket.send', 'bytes': payload})
                self.sent += 1
            await send({'type': 'websocket.close'})
        except OSError as ex:
            self.error = ex
        finally:
            self.done.set()


async def test_g1_send_waits_while_writing_is_paused(
    ws_class: str, peers: Peers
) -> None:
    # 512 x 64 KiB (32 MiB) is far more than the socket buffers hold, so a
    # server without write flow control would buffer most of it in memory.
    app = Pusher(512)
    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        await eventually(lambda: write_paused(protocol), 'writing to pause')
        assert app.sent < app.count
        # While paused, send() waits: the transport holds at most about the
        # high-water mark plus one message.
        assert protocol.transport.get_write_buffer_size() <= 2 * CHUNK + 1024
        received = 0
        while True:
            frame = await client.recv_frame()
            if frame.opcode == 8:
                break
            assert len(frame.payload) == CHUNK
            received += 1
        client.send_close()
        await asyncio.wait_for(app.done.wait(), 10)
    assert received == app.count == app.sent
    assert app.error is None


async def test_g1_connection_lost_releases_a_waiting_send(
    ws_class: str, peers: Peers
) -> None:
    app = Pusher(512)
    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        await eventually(lambda: write_paused(protocol), 'writing to pause')
        client.writer.transport.abort()
        await asyncio.wait_for(app.done.wait(), 10)
    assert isinstance(app.error, OSError)
    assert app.sent < app.count


# --- G2. read flow control ---------------------------------------------------


class Gate:
    """Accept, then receive nothing until ``go`` is set; then collect all."""

    def __init__(self) -> None:
        self.go = asyncio.Event()
        self.received: list[Any] = []
        self.last: dict[str, Any] = {}
        self.done = asyncio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        await self.go.wait()
        while True:
            message = await receive()
            if message['type'] == 'websocket.disconnect':
                self.last = message
                break
            self.received.append(message.get('text', message.get('bytes')))
        self.done.set()


async def test_g2_reading_is_not_paused_below_the_high_water_mark(
    ws_class: str, ours: bool, peers: Peers
) -> None:
    app = Gate()
    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        for i in range(5):
            client.send_text(str(i))
        if ours:
            await eventually(lambda: queued(protocol) == 5, 'five queued messages')
            assert protocol.transport.is_reading()
        else:
            # uvicorn's classes pause after every message they queue.
            await eventually(
                lambda: not protocol.transport.is_reading(), 'reading to pause'
            )
        app.go.set()
        client.send_close()
        await asyncio.wait_for(app.done.wait(), 10)
    assert app.received == ['0', '1', '2', '3', '4']


async def test_g2_reading_pauses_at_ws_max_queue_and_resumes(
    ws_class: str, ours: bool, peers: Peers
) -> None:
    app = Gate()
    async with serve(app, ws_class, ws_max_queue=8) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        for i in range(200):
            client.send_text(str(i))
        await eventually(lambda: not protocol.transport.is_reading(), 'a pause')
        if ours:
            assert queued(protocol) >= 8
        else:
            assert queued(protocol) >= 1
        # Bounded: far fewer than the 200 sent are read while paused.
        assert queued(protocol) < 200
        app.go.set()
        client.send_close()
        await asyncio.wait_for(app.done.wait(), 10)
    assert app.received == [str(i) for i in range(200)]
    assert app.last['code'] == 1000


class SmallQueueBytes(WebSocketProtocol):
    max_queue_bytes = 1000


async def test_g2_reading_pauses_at_the_byte_cap(peers: Peers) -> None:
    app = Gate()
    async with serve(app, SmallQueueBytes) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        client.send_binary(b'a' * 600)
        await eventually(lambda: queued(protocol) == 1, 'one queued message')
        assert protocol.transport.is_reading()
        client.send_binary(b'b' * 600)
        await eventually(lambda: not protocol.transport.is_reading(), 'a pause')
        assert protocol._engine.queued_bytes >= 1000
        app.go.set()
        client.send_close()
        await asyncio.wait_for(app.done.wait(), 10)
    assert app.received == [b'a' * 600, b'b' * 600]


async def test_g2_closing_resumes_paused_reads(ws_class: str, peers: Peers) -> None:
    go = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        await go.wait()
        # Close without taking the queued messages: reads must resume so that
        # the peer's Close can be read.
        await send({'type': 'websocket.close', 'code': 1000})

    async with serve(app, ws_class, ws_max_queue=4) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        for i in range(100):
            client.send_text(str(i))
        await eventually(lambda: not protocol.transport.is_reading(), 'a pause')
        go.set()
        assert await client.recv_close() == (1000, '')
        client.send_close(1000)
        await client.expect_eof()
        assert protocol.close_timer is None


# --- batching ----------------------------------------------------------------


async def test_writes_are_batched_while_messages_are_queued(
    ws_class: str, ours: bool, peers: Peers
) -> None:
    async with serve(echo_app, ws_class) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        writes = count_writes(protocol.transport)
        # One message at a time: each reply is written through at once.
        for i in range(3):
            client.send_text(f'single {i}')
            assert await client.recv_message() == f'single {i}'
        assert len(writes) == 3
        # 50 messages in one write: the replies to messages that were already
        # queued are batched (ours); uvicorn's classes write each frame.
        del writes[:]
        for i in range(50):
            client.send_text(f'burst {i}')
        got = [await client.recv_message() for _ in range(50)]
        assert got == [f'burst {i}' for i in range(50)]
        if ours:
            assert len(writes) <= 10
        else:
            assert len(writes) == 50
        client.send_close()
        await client.recv_close()


async def test_a_push_burst_is_written_in_one_go(
    ws_class: str, ours: bool, peers: Peers
) -> None:
    # An app that pushes without waiting for input (a feed): the first send
    # of the burst is written at once, the rest of the same event-loop
    # iteration is batched (ours); uvicorn's classes write each frame.
    written: list[int] = []
    go = asyncio.Event()
    done = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        await go.wait()
        await send({'type': 'websocket.send', 'text': 'first'})
        # Written through before the app suspends.
        written.append(len(writes))
        for i in range(99):
            await send({'type': 'websocket.send', 'text': f'push {i}'})
        await done.wait()

    async with serve(app, ws_class) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        writes = count_writes(protocol.transport)
        go.set()
        assert await client.recv_message() == 'first'
        got = [await client.recv_message() for _ in range(99)]
        assert got == [f'push {i}' for i in range(99)]
        count = len(writes)
        done.set()
    if ours:
        assert written == [1]
        assert count == 2
    else:
        assert count == 100
