"""``gyrfalcon demo --redis URL``: the demo's chat across processes.

Two ``python -m gyrfalcon demo --redis URL`` processes share one Redis; a
member who joined through one process reads what a member connected to the
other one says. Then ``--workers 2`` serves the same chat from two workers
behind one port.
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
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from redis_server import free_port
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

pytestmark = pytest.mark.network

RUNNING = re.compile(r'Uvicorn running on http://127\.0\.0\.1:(\d+)')
STARTED = re.compile(r'Application startup complete')
SUBPROTOCOL = Subprotocol('gyrfalcon.demo.v1')
GUARD = 30.0


@contextlib.asynccontextmanager
async def demo(redis_url: str, *args: str) -> AsyncIterator[int]:
    """Run ``gyrfalcon demo --redis``; yield its port once it serves."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        '-m',
        'gyrfalcon',
        'demo',
        '--redis',
        redis_url,
        *args,
        env={k: v for k, v in os.environ.items() if k != 'GYRFALCON_DEMO_REDIS'},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    lines: list[str] = []
    assert process.stderr is not None
    try:
        port = 0
        workers = 2 if '--workers' in args else 1
        started = 0
        while not port or started < workers:
            line = await asyncio.wait_for(process.stderr.readline(), GUARD)
            if not line:
                raise AssertionError('demo exited:\n' + ''.join(lines))
            lines.append(line.decode())
            if match := RUNNING.search(lines[-1]):
                port = int(match.group(1))
            if STARTED.search(lines[-1]):
                started += 1
        drain = asyncio.create_task(process.stderr.read())
        yield port
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), GUARD)
        await drain
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def join(
    session: aiohttp.ClientSession, port: int, name: str
) -> ClientConnection:
    """Join the chat through the demo on `port`, as the page does."""
    url = f'http://127.0.0.1:{port}/token?name={name}'
    async with session.get(url) as response:
        token = (await response.json())['token']
    member = await connect(
        f'ws://127.0.0.1:{port}/ws/chat?token={quote(token)}',
        subprotocols=[SUBPROTOCOL],
    )
    assert (await next_of(member, 'welcome'))['type'] == 'welcome'
    return member


async def next_of(member: ClientConnection, kind: str) -> dict[str, Any]:
    """Skip messages until one of type `kind`."""
    while True:
        message: dict[str, Any] = json.loads(
            await asyncio.wait_for(member.recv(), GUARD)
        )
        if message['type'] == kind:
            return message


async def test_chat_across_two_demo_processes(redis_url: str) -> None:
    async with (
        demo(redis_url, '--port', '0') as one,
        demo(redis_url, '--port', '0') as two,
        aiohttp.ClientSession() as session,
    ):
        alice = await join(session, one, 'alice')
        bob = await join(session, two, 'bob')
        # Alice sees Bob join, though he joined through the other process.
        while (await next_of(alice, 'joined'))['name'] != 'bob':
            pass
        await alice.send(json.dumps({'text': 'hello from one'}))
        await bob.send(json.dumps({'text': 'hello from two'}))
        for member in (alice, bob):
            said = [await next_of(member, 'message') for _ in range(2)]
            assert {(m['from'], m['text']) for m in said} == {
                ('alice', 'hello from one'),
                ('bob', 'hello from two'),
            }
        await alice.close()
        await bob.close()


async def test_chat_with_workers(redis_url: str) -> None:
    port = free_port()
    async with (
        demo(redis_url, '--workers', '2', '--port', str(port)),
        aiohttp.ClientSession() as session,
    ):
        members = [await join(session, port, f'member{n}') for n in range(6)]
        await members[-1].send(json.dumps({'text': 'to everyone'}))
        for member in members:
            said = await next_of(member, 'message')
            assert (said['from'], said['text']) == ('member5', 'to everyone')
        for member in members:
            await member.close()
