"""Slow consumers: one peer that never reads, several that read everything.

The slow peer is a raw socket with a 4 KiB receive buffer that never calls
``recv()`` after the handshake. The publisher publishes one message, waits
until every reading peer has it, and goes on until the hub applied its
policy to the slow peer; the reading peers must get every message, once and
in order, whatever happens to the slow one. Nothing here is timed.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
from typing import Any

import pytest
from hub_peers import PATHS, hub_app, wait_for, ws_class
from websockets.asyncio.client import ClientConnection, connect
from ws_peers import GUARD, OP_CLOSE, RawClient, serve, upgrade_request

from gyrfalcon.hub import Hub

pytestmark = pytest.mark.network

MAX_BUFFER = 64 * 1024
SIZE = 16 * 1024
LIMIT = 4000  # messages; the policy must act long before (a guard, not a test)


@pytest.fixture(params=PATHS)
def path(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


async def never_reading_peer(port: int, path: str) -> socket.socket:
    """Connect with a tiny receive buffer and complete the handshake."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await loop.sock_connect(sock, ('127.0.0.1', port))
    key = base64.b64encode(os.urandom(16)).decode()
    await loop.sock_sendall(sock, upgrade_request(port, path, key=key))
    head = b''
    while b'\r\n\r\n' not in head:
        chunk = await loop.sock_recv(sock, 1)  # byte by byte: read no further
        assert chunk, 'the server closed during the handshake'
        head += chunk
    assert head.startswith(b'HTTP/1.1 101'), head
    return sock


class Reader:
    """A websockets client that records every message it receives."""

    def __init__(self, client: ClientConnection) -> None:
        self.client = client
        self.messages: list[str] = []
        self.arrived = asyncio.Event()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.client:
            assert isinstance(message, str)
            self.messages.append(message)
            self.arrived.set()

    async def wait(self, n: int) -> None:
        """Wait until `n` messages arrived (a hang fails after GUARD)."""
        while len(self.messages) < n:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), GUARD)


def message(i: int) -> str:
    return f'{i:08d}'.ljust(SIZE, '.')


async def publish_until(
    hub: Hub, readers: list[Reader], done: Any, first: int = 0
) -> int:
    """Publish one message at a time, each read by every reader, until done()."""
    i = first
    while not done(i):
        assert i < LIMIT, 'the slow peer never hit the policy'
        assert await hub.publish('t', message(i)) >= len(readers)
        i += 1
        for reader in readers:
            await reader.wait(i)
    return i


async def read_frames(sock: socket.socket, until_close: bool) -> list[Any]:
    """Read what the slow peer was sent (it reads at last)."""
    reader, writer = await asyncio.open_connection(sock=sock)
    raw = RawClient(reader, writer)
    frames = []
    try:
        while True:
            if not until_close and not reader._buffer:  # type: ignore[attr-defined]
                # Read whatever is in flight, then stop when nothing comes.
                try:
                    frame = await asyncio.wait_for(raw.recv_frame(), 0.5)
                except TimeoutError:
                    break
            else:
                frame = await raw.recv_frame()
            frames.append(frame)
            if frame.opcode == OP_CLOSE:
                break
    finally:
        writer.close()
    return frames


async def test_drop_skips_messages_for_the_slow_peer_only(path: str) -> None:
    served, app, subscriber = hub_app(path)
    app.hub.configure('t', policy='drop', max_buffer=MAX_BUFFER)
    async with serve(served, ws_class(path)) as server:
        slow = await never_reading_peer(server.port, '/sub/t')
        await wait_for(lambda: len(subscriber.subscriptions) == 1, 'slow peer')
        slow_sub = subscriber.subscriptions[0]
        readers = []
        for _ in range(3):
            client = await connect(f'{server.url}/sub/t', max_size=None)
            assert await client.recv() == 'subscribed'
            readers.append(Reader(client))
        sent = await publish_until(app.hub, readers, lambda i: slow_sub.dropped >= 5)
        # The slow peer is still subscribed and its connection open: only
        # messages were skipped, and they were counted.
        assert slow_sub.active and not slow_sub.ws.closed
        assert app.hub.count('t') == 4
        stats = app.hub.stats('t')
        assert stats.dropped == slow_sub.dropped >= 5
        assert stats.closed == 0
        assert stats.delivered == 3 * sent + (sent - slow_sub.dropped)
        for reader in readers:
            assert reader.messages == [message(i) for i in range(sent)]
        # What the slow peer does get is in order, with gaps and no repeats.
        if path == 'fast':
            frames = await read_frames(slow, until_close=False)
            texts = [f.payload.decode() for f in frames if f.opcode == 1]
            assert texts[0] == 'subscribed'
            seqs = [int(text[:8]) for text in texts[1:]]
            assert seqs == sorted(set(seqs)) and len(seqs) < sent
        for reader in readers:
            await reader.client.close()
            await reader.task
        slow.close()


@pytest.mark.parametrize('code', [1013, 1008])
async def test_close_closes_the_slow_peer_only(path: str, code: int) -> None:
    served, app, subscriber = hub_app(path)
    app.hub.configure('t', policy='close', max_buffer=MAX_BUFFER, close_code=code)
    async with serve(served, ws_class(path)) as server:
        slow = await never_reading_peer(server.port, '/sub/t')
        await wait_for(lambda: len(subscriber.subscriptions) == 1, 'slow peer')
        slow_sub = subscriber.subscriptions[0]
        readers = []
        for _ in range(3):
            client = await connect(f'{server.url}/sub/t', max_size=None)
            assert await client.recv() == 'subscribed'
            readers.append(Reader(client))
        sent = await publish_until(app.hub, readers, lambda i: not slow_sub.active)
        assert slow_sub.ws.closed and slow_sub.ws.close_code == code
        assert app.hub.count('t') == 3
        stats = app.hub.stats('t')
        assert (stats.closed, stats.dropped) == (1, 0)
        end = sent + 20
        sent = await publish_until(app.hub, readers, lambda i: i >= end, sent)
        for reader in readers:
            assert reader.messages == [message(i) for i in range(sent)]
        if path == 'fast':
            # Everything sent before the close arrives, in order, then the
            # Close frame with the policy's code.
            frames = await read_frames(slow, until_close=True)
            texts = [f.payload.decode() for f in frames if f.opcode == 1]
            seqs = [int(text[:8]) for text in texts[1:]]
            assert seqs == list(range(len(seqs)))
            assert frames[-1].opcode == OP_CLOSE
            assert frames[-1].close == (code, 'slow consumer')
        for reader in readers:
            await reader.client.close()
            await reader.task
        slow.close()
