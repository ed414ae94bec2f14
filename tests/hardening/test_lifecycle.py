"""Shutdown, app errors and per-connection resources: §2.5 F and G.

F44 (SIGTERM) starts its own servers, one worker and two, and stops them;
every open client must get a Close frame with 1012, a client whose request
head is incomplete must be closed, and the server must exit. F46 and G47/G48
run on the default test server with the ``bystander`` and ``memory``
checks.

F45 (``send()`` after close raises ``WebSocketDisconnected`` at once,
``close()`` twice is a no-op) is about the app-facing API rather than the
network: ``tests/framework`` and ``tests/server/test_uvicorn_lifecycle.py``
test it. G49 (a broadcast is framed once) belongs to the hub's tests.
"""

from __future__ import annotations

import asyncio
import signal

import pytest
from hardening_server import (
    MIB,
    Server,
    open_client,
    raw_client,
    start_server,
    still_served,
)
from ws_peers import GUARD, RawClient

pytestmark = pytest.mark.network


async def _connect_retrying(server: Server) -> RawClient:
    # With --workers the parent logs the startup line before a worker
    # accepts connections.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GUARD
    while True:
        try:
            return await open_client(server)
        except (ConnectionError, AssertionError, asyncio.IncompleteReadError):
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.05)


@pytest.mark.parametrize('workers', [1, 2])
async def test_f44_sigterm_closes_every_client_with_1012(workers: int) -> None:
    with start_server('--workers', str(workers)) as server:
        clients = [await _connect_retrying(server) for _ in range(6)]
        for client in clients:
            client.send_text('ready?')
            assert await client.recv_message() == 'ready?'
        half_head = await raw_client(server)
        half_head.write(b'GET / HTTP/1.1\r\nHost: x\r\n')
        server.process.send_signal(signal.SIGTERM)
        for client in clients:
            assert await client.recv_close() == (1012, '')
            client.send_close(1012)
            await client.expect_eof()
        assert await half_head.read_to_eof() == b''
        status = await asyncio.to_thread(server.process.wait, GUARD)
        # uvicorn re-raises the signal once it has shut down gracefully.
        assert status in (0, -signal.SIGTERM)
        assert 'Finished server process' in server.log()
        assert 'Traceback' not in server.log()


async def test_f46_app_raises_after_accept(server, bystander, memory) -> None:
    client = await raw_client(server)
    await client.handshake('/raise-after')
    assert await client.recv_close() == (1011, '')
    await still_served(server, bystander)


async def test_f46_app_raises_before_accept(server, bystander, memory) -> None:
    client = await raw_client(server)
    client.write(
        b'GET /raise-before HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n'
        b'Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n'
        b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'
    )
    response = await client.read_response()
    assert response.status == 500
    await still_served(server, bystander)


IDLE_CONNECTIONS = 1000
PER_CONNECTION_BOUND = 14 * 1024
"""RSS per idle connection, deflate off (the docs quote the measured value:
``docs/topics/security.md``): below python-websockets' 14 KiB, §2.5 G47."""


async def test_g47_idle_connections_rss_slope(server, bystander, memory) -> None:
    memory.bound = IDLE_CONNECTIONS * PER_CONNECTION_BOUND
    before = server.rss()
    clients = []
    for _ in range(IDLE_CONNECTIONS):
        clients.append(await open_client(server))
    await asyncio.to_thread(
        server.wait_stats,
        lambda s: s['running'] >= IDLE_CONNECTIONS,
        'every app call to start',
    )
    per_connection = (server.rss() - before) / IDLE_CONNECTIONS
    print(f'RSS per idle connection: {per_connection / 1024:.1f} KiB')
    assert per_connection < PER_CONNECTION_BOUND, per_connection
    for client in clients:
        client.writer.transport.abort()
    await still_served(server, bystander)


async def test_g48_connect_disconnect_cycles_leave_nothing(
    server, bystander, memory
) -> None:
    # 2,000 cycles (the §2.5 case says 100k; the slope shows at 2k): RSS
    # flat within 8 MiB, no app task or connection left behind.
    memory.bound = 8 * MIB
    running = server.stats()['running']
    for _ in range(2000):
        client = await RawClient.open(server.port)
        await client.handshake()
        client.send_close(1000)
        await client.recv_close()
        await client.expect_eof()
        await client.aclose()
    await asyncio.to_thread(
        server.wait_stats, lambda s: s['running'] == running, 'every app call to end'
    )
    await still_served(server, bystander)
