"""The hub across processes: ``gyrfalcon serve`` processes sharing one Redis.

Each server is a real ``python -m gyrfalcon serve`` process running
``redis_app:app`` (beside this file) with a ``RedisBackend``; the clients are
``websockets`` clients on 127.0.0.1. No test waits for "long enough": each
reads the messages it expects, and a last message published after them shows
that nothing else (no duplicate) came in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis_server import RedisServer
from websockets.asyncio.client import ClientConnection, connect

pytestmark = pytest.mark.network

HERE = Path(__file__).parent
RUNNING = re.compile(r'Uvicorn running on http://127\.0\.0\.1:(\d+)')
GUARD = 30.0
"""Seconds before a wait that should succeed is declared hung (never asserted)."""

GAP = {'gap': True}


class Server:
    """One ``gyrfalcon serve`` process."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.port = 0
        self.lines: list[str] = []
        self._drain: asyncio.Task[None] | None = None

    async def started(self) -> None:
        assert self.process.stderr is not None
        while True:
            line = await asyncio.wait_for(self.process.stderr.readline(), GUARD)
            if not line:
                raise AssertionError('server exited:\n' + ''.join(self.lines))
            self.lines.append(line.decode())
            match = RUNNING.search(self.lines[-1])
            if match:
                self.port = int(match.group(1))
                self._drain = asyncio.create_task(self._read_all())
                return

    async def _read_all(self) -> None:
        assert self.process.stderr is not None
        async for line in self.process.stderr:
            self.lines.append(line.decode())

    async def stop(self, sig: int = signal.SIGINT) -> None:
        if self.process.returncode is None:
            self.process.send_signal(sig)
        await asyncio.wait_for(self.process.wait(), GUARD)
        if self._drain is not None:
            await asyncio.wait_for(self._drain, GUARD)

    def url(self, path: str) -> str:
        return f'http://127.0.0.1:{self.port}{path}'


@contextlib.asynccontextmanager
async def serve(redis_url: str, **env: str) -> AsyncIterator[Server]:
    server = Server(
        await asyncio.create_subprocess_exec(
            sys.executable,
            '-m',
            'gyrfalcon',
            'serve',
            'redis_app:app',
            '--app-dir',
            str(HERE),
            '--port',
            '0',
            env={**os.environ, 'GYRFALCON_TEST_REDIS': redis_url, **env},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
    )
    try:
        await server.started()
        yield server
    finally:
        if server.process.returncode is None:
            server.process.kill()
            await server.process.wait()


async def subscribe(server: Server, topic: str) -> ClientConnection:
    client = await connect(f'ws://127.0.0.1:{server.port}/ws/{topic}')
    assert await receive(client) == 'subscribed'
    return client


async def resume(
    server: Server, topic: str, last: str
) -> tuple[ClientConnection, list[Any]]:
    """Subscribe after `last`; return the client and what was replayed."""
    client = await connect(f'ws://127.0.0.1:{server.port}/ws/{topic}?last={last}')
    replayed = []
    while (message := await receive(client)) != 'subscribed':
        replayed.append(json.loads(message))
    return client, replayed


async def receive(client: ClientConnection) -> Any:
    return await asyncio.wait_for(client.recv(), GUARD)


async def receive_events(client: ClientConnection, n: int) -> list[dict[str, Any]]:
    return [json.loads(await receive(client)) for _ in range(n)]


async def presence(session: aiohttp.ClientSession, server: Server, topic: str) -> int:
    async with session.get(server.url(f'/presence/{topic}')) as response:
        assert response.status == 200
        total: int = (await response.json())['total']
        return total


async def test_publish_in_one_process_reaches_subscribers_of_another(
    redis_url: str,
) -> None:
    async with serve(redis_url) as one, serve(redis_url) as two:
        a = await subscribe(one, 'room')
        b = await subscribe(two, 'room')
        c = await subscribe(two, 'room')
        await a.send('from one')  # published by process one
        for client in (a, b, c):
            assert await receive(client) == 'from one'
        await b.send('from two')  # published by process two
        assert await receive(b) == 'from two'
        # Publishes from two connections are not ordered: send the last one
        # once the first is out.
        await c.send('end')
        assert await receive(b) == 'end'
        for client in (a, c):
            assert [await receive(client), await receive(client)] == [
                'from two',
                'end',
            ]
        for client in (a, b, c):
            await client.close()


async def test_resumable_topic_replays_exactly_the_missed_events(
    redis_url: str,
) -> None:
    async with serve(redis_url) as one, serve(redis_url) as two:
        publisher = await subscribe(two, 'feed')
        reader = await subscribe(one, 'feed')
        for n in range(3):
            await publisher.send(f'e{n}')
        seen = await receive_events(reader, 3)
        assert [event['data'] for event in seen] == ['e0', 'e1', 'e2']
        await reader.close()
        # Missed while disconnected.
        for n in range(3, 6):
            await publisher.send(f'e{n}')
        everything = await receive_events(publisher, 6)
        assert everything[:3] == seen
        ids = [event['id'] for event in everything]
        # Resume in the other process, and in the same one, from two points.
        on_two, replayed = await resume(two, 'feed', ids[2])
        assert replayed == everything[3:]
        on_one, replayed = await resume(one, 'feed', ids[0])
        assert replayed == everything[1:]
        # Then live, with nothing twice in between.
        await publisher.send('e6')
        await publisher.send('e7')
        for client in (publisher, on_two, on_one):
            live = await receive_events(client, 2)
            assert [event['data'] for event in live] == ['e6', 'e7']
            assert live[0]['id'] not in ids
        # An id the stream never had is a gap, then live events.
        lost, replayed = await resume(one, 'feed', '1-0')
        assert replayed == [GAP]
        await publisher.send('e8')
        assert [e['data'] for e in await receive_events(lost, 1)] == ['e8']
        for client in (publisher, on_two, on_one, lost):
            await client.close()


async def test_broker_restart_mid_stream_resubscribes_and_signals_the_gap(
    redis_url: str, redis_server: RedisServer
) -> None:
    async with serve(redis_url) as one, serve(redis_url) as two:
        a = await subscribe(one, 'room')
        b = await subscribe(two, 'room')
        await a.send('before')
        for client in (a, b):
            assert await receive(client) == 'before'
        redis_server.restart()
        # Each process resubscribes, then tells its subscribers.
        for client in (a, b):
            assert json.loads(await receive(client)) == GAP
        await b.send('after')
        assert await receive(b) == 'after'
        await a.send('end')
        assert await receive(b) == 'end'
        assert [await receive(a), await receive(a)] == ['after', 'end']
        await a.close()
        await b.close()


async def test_presence_across_processes(redis_url: str) -> None:
    fast = {'GYRFALCON_TEST_PRESENCE_TTL': '0.6'}
    async with (
        serve(redis_url, **fast) as one,
        serve(redis_url, **fast) as two,
        serve(redis_url, **fast) as three,
        aiohttp.ClientSession() as session,
    ):
        clients = [
            await subscribe(one, 'room'),
            await subscribe(one, 'room'),
            await subscribe(two, 'room'),
            await subscribe(three, 'room'),
        ]

        async def until(server: Server, total: int) -> None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + GUARD
            while (found := await presence(session, server, 'room')) != total:
                assert loop.time() < deadline, f'presence stuck at {found}'
                await asyncio.sleep(0.05)

        await until(one, 4)
        await until(two, 4)
        # A process that stops withdraws its subscribers at once.
        await three.stop()
        assert await presence(session, one, 'room') == 3
        # One that crashes ages out (its presence expires).
        two.process.kill()
        await two.process.wait()
        await until(one, 2)
        for client in clients[:2]:
            await client.close()
