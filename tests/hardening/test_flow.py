"""Slow consumers and the close handshake: §2.5 E37, E40, E42 and E43.

On the default test server (keepalive 20 s, so that it never interferes).
Each test asserts what the peer sees, that the ``bystander`` and a new
client are still served, and the ``memory`` bound.

E37's broadcast half (a slow subscriber must not slow a broadcast) belongs
to the hub, not to the server adapter: it is tested with the hub. The
point-to-point half is here.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from hardening_server import MIB, open_client, raw_client, still_served
from ws_peers import OP_CLOSE, OP_PONG

pytestmark = pytest.mark.network

STALL_BOUND = 32 * MIB
"""Most bytes a stalled stream may move: both kernel socket buffers on
loopback (a few MiB each once autotuned) plus the server's 64 KiB write
buffer; without backpressure it would be unbounded."""


def wait_until_stalled(read: object, what: str) -> int:
    """Poll ``read()`` until it stops changing for 10 polls; return it."""
    last, same = -1, 0
    deadline = time.monotonic() + 30
    while same < 10:
        value = read()  # type: ignore[operator]
        same = same + 1 if value == last else 0
        last = value
        assert time.monotonic() < deadline, f'{what} never stalled: {value}'
        time.sleep(0.05)
    return last


async def test_e37_client_never_reads_a_push(server, bystander, memory) -> None:
    # /push sends 1 KiB messages as fast as send() lets it. The client reads
    # nothing: send() must await, so the server stops at the buffers' size.
    client = await open_client(server, '/push')
    pushed = await asyncio.to_thread(
        wait_until_stalled, lambda: server.stats()['pushed'], 'the push'
    )
    assert 0 < pushed < STALL_BOUND
    await still_served(server, bystander)
    client.writer.transport.abort()
    await asyncio.to_thread(
        server.wait_stats, lambda s: s['running'] == 1, 'the push to end'
    )


async def test_e40_unsolicited_pongs_are_ignored(server, bystander, memory) -> None:
    client = await open_client(server)
    for payload in (b'', b'stale', b'x' * 125):
        client.send_frame(OP_PONG, payload)
    client.send_text('after pongs')
    assert await client.recv_message() == 'after pongs'
    await still_served(server, bystander)


async def test_e42_client_sends_faster_than_the_app_reads(
    server, bystander, memory
) -> None:
    # /slow never reads: the server stops reading at the inbound queue's
    # high-water mark (32 messages or 4 MiB), and TCP backpressure stops
    # the client. 64 MiB offered; the server takes at most the queue plus
    # the kernel buffers.
    client = await open_client(server, '/slow')
    message = b'q' * 16384
    offered = 0
    stalled = False
    while offered < 64 * MIB:
        client.send_binary(message)
        offered += len(message)
        try:
            await asyncio.wait_for(client.writer.drain(), 1.0)
        except TimeoutError:
            stalled = True
            break
    assert stalled, 'the server read 64 MiB for an app that reads nothing'
    await still_served(server, bystander)
    client.writer.transport.abort()
    await asyncio.to_thread(server.http, '/release')


async def test_e43_peer_close_then_silence(server, bystander, memory) -> None:
    # The peer sends Close and keeps TCP open: the server echoes and closes.
    client = await open_client(server)
    client.send_close(1000)
    assert await client.recv_close() == (1000, '')
    await client.expect_eof()
    await still_served(server, bystander)


async def test_e43_server_close_unanswered(server, bystander, memory) -> None:
    # /close closes at once; the peer never answers: TCP is closed after
    # --ws-close-timeout (1 s here).
    client = await raw_client(server)
    await client.handshake('/close')
    frame = await client.recv_frame()
    assert frame.opcode == OP_CLOSE
    assert frame.close == (1000, '')
    await client.expect_eof()
    await still_served(server, bystander)
