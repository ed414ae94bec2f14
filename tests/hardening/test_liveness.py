"""Peers that stop answering: §2.5 A8, E38, E39 and E41, reaped by keepalive.

The server here pings every 0.5 s and gives a Pong 0.5 s. The bystander is
a ``websockets`` client, which answers pings by itself. Each test asserts
how the peer is closed (1011 ``keepalive ping timeout``, or the TCP
connection ending), that the app saw the disconnect, that the bystander and
a new client are still served, and the ``memory`` bound.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator

import pytest
from hardening_server import MAX_SIZE, MIB, Server, open_client, start_server
from websockets.asyncio.client import ClientConnection, connect
from ws_peers import OP_BINARY, OP_CLOSE, OP_PING, RawClient

pytestmark = pytest.mark.network


@pytest.fixture(scope='module')
def server() -> Iterator[Server]:
    with start_server('--ws-ping-interval', '0.5', '--ws-ping-timeout', '0.5') as s:
        yield s


@pytest.fixture
async def bystander(server: Server) -> AsyncIterator[ClientConnection]:
    async with connect(f'ws://127.0.0.1:{server.port}/') as client:
        yield client


async def still_served(server: Server, bystander: ClientConnection) -> None:
    await bystander.send('still there?')
    assert await bystander.recv() == 'still there?'
    async with connect(f'ws://127.0.0.1:{server.port}/') as newcomer:
        await newcomer.send('hello')
        assert await newcomer.recv() == 'hello'


async def close_without_answering(client: RawClient) -> tuple[int, str]:
    """Read frames, answering nothing, until the server's Close."""
    while True:
        frame = await client.recv_frame()
        if frame.opcode == OP_CLOSE:
            return frame.close
        assert frame.opcode == OP_PING, frame


async def disconnects(server: Server, before: int) -> list[int]:
    stats = await asyncio.to_thread(
        server.wait_stats,
        lambda s: len(s['disconnects']) > before,
        'the app to see the disconnect',
    )
    codes: list[int] = stats['disconnects'][before:]
    return codes


async def test_a08_frame_stalls_half_way(server, bystander, memory) -> None:
    # A header declares max_size - 1 bytes; a little arrives, then nothing.
    # Mid-frame the peer cannot even send a Pong: keepalive reaps it.
    before = len(server.stats()['disconnects'])
    client = await open_client(server)
    mask = os.urandom(4)
    length = MAX_SIZE - 1
    client.write(bytes([0x80 | OP_BINARY, 0xFE]) + length.to_bytes(2, 'big') + mask)
    client.write(b'\0' * 100)
    assert await close_without_answering(client) == (1011, 'keepalive ping timeout')
    await client.expect_eof()
    assert await disconnects(server, before) == [1011]
    await still_served(server, bystander)


async def test_e38_client_reads_but_never_pongs(server, bystander, memory) -> None:
    before = len(server.stats()['disconnects'])
    client = await open_client(server)
    assert await close_without_answering(client) == (1011, 'keepalive ping timeout')
    await client.expect_eof()
    # The app, blocked in receive(), got the disconnect.
    assert await disconnects(server, before) == [1011]
    await still_served(server, bystander)


async def test_e39_half_open_peer(server, bystander, memory) -> None:
    # The peer neither reads nor writes (as if SIGSTOPped): the server gives
    # up on its Pong, closes, and frees the connection's app task.
    running = server.stats()['running']
    before = len(server.stats()['disconnects'])
    await open_client(server)
    assert await disconnects(server, before) == [1011]
    await asyncio.to_thread(
        server.wait_stats, lambda s: s['running'] == running, 'the app task to end'
    )
    await still_served(server, bystander)


async def test_e41_ping_flood_without_reading(server, bystander, memory) -> None:
    # 32 MiB of 125-byte Pings, and the client reads nothing. The server
    # stops reading once its Pongs fill the write buffer, so the flood
    # stalls in the client's buffers, and keepalive closes the connection.
    # Without the pause the server would queue ~32 MiB of Pongs.
    memory.bound = 16 * MIB
    client = await open_client(server)
    payload = b'p' * 125
    ping = bytes([0x80 | OP_PING, 0x80 | 125]) + b'\0\0\0\0' + payload
    batch = ping * 1000
    ended = False
    for _ in range(32 * MIB // len(batch)):
        client.write(batch)
        try:
            await asyncio.wait_for(client.writer.drain(), 1.0)
        except (ConnectionError, TimeoutError):
            ended = True
            break
    assert ended, 'the server read the whole flood'
    # The server closes the connection (keepalive) rather than keep it.
    with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
        while True:
            await client.recv_frame()
    await still_served(server, bystander)
