"""A peer fault right behind a complete message: the message is answered first.

Autobahn 3.2-3.4, 4.1.3-4.1.5, 4.2.3-4.2.5 and 5.15 send a valid message and
a faulty frame in one go and grade the connection ``OK`` only when the echo
of the message leaves before the Close. The engine defers such a fault until
the app has taken the message (engine contract, "Deferred faults"); these
tests show that our class acts on it: the echo, then Close 1002, then EOF;
an app that never takes the message still gets the connection failed after
``close_timeout``; a Close of the app's own ends the connection at once.

uvicorn's stock classes fail the connection before the app runs (Autobahn
grades them ``NON-STRICT``), so these tests run on our class only, on the
Rust engine and (``make test-python-engine``) on the Python twin.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from ws_peers import (
    IMPLEMENTATIONS,
    OP_BINARY,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Peers,
    echo_app,
    eventually,
    serve,
)

import gyrfalcon
from gyrfalcon.protocol import encode_frame

pytestmark = pytest.mark.network

OURS = IMPLEMENTATIONS['gyrfalcon']


def frame(
    opcode: int, payload: bytes, *, fin: bool = True, rsv1: bool = False
) -> bytes:
    """A masked client frame."""
    return encode_frame(opcode, payload, fin=fin, rsv1=rsv1, mask=os.urandom(4))


# The valid message, then the fault, in one write (so one read on the server).
FAULTS = {
    'reserved-bits': frame(OP_TEXT, b'hello') + frame(OP_TEXT, b'bad', rsv1=True),
    'reserved-opcode': frame(OP_TEXT, b'hello') + frame(5, b''),
    'continuation-first': frame(OP_TEXT, b'hello') + frame(OP_CONT, b'x'),
    'fragmented-then-fault': (
        frame(OP_TEXT, b'hel', fin=False)
        + frame(OP_CONT, b'lo')
        + frame(OP_TEXT, b'bad', rsv1=True)
    ),
}


class EchoResource:
    async def on_websocket(self, req: Any, ws: Any) -> None:
        await ws.accept()
        async for message in ws:
            await ws.send_text(message)


def gyrfalcon_echo() -> Any:
    app = gyrfalcon.App()
    app.add_route('/', EchoResource())
    return app


@pytest.mark.parametrize('fault', list(FAULTS))
@pytest.mark.parametrize('kind', ['asgi', 'gyrfalcon'])
async def test_the_message_is_echoed_before_the_close(
    fault: str, kind: str, peers: Peers
) -> None:
    app = echo_app if kind == 'asgi' else gyrfalcon_echo()
    async with serve(app, OURS) as running:
        client = await peers.connect(running.port)
        client.write(FAULTS[fault])
        assert await client.recv_message() == 'hello'
        code, _ = await client.recv_close()
        assert code == 1002
        await client.expect_eof()


async def test_several_messages_are_all_answered(peers: Peers) -> None:
    data = b''.join(frame(OP_BINARY, bytes([i])) for i in range(5))
    async with serve(echo_app, OURS) as running:
        client = await peers.connect(running.port)
        client.write(data + frame(OP_TEXT, b'\xff'))  # invalid UTF-8: 1007
        assert [await client.recv_message() for _ in range(5)] == [
            bytes([i]) for i in range(5)
        ]
        assert (await client.recv_close())[0] == 1007
        await client.expect_eof()


async def test_a_ping_before_the_fault_is_answered(peers: Peers) -> None:
    async with serve(echo_app, OURS) as running:
        client = await peers.connect(running.port)
        client.write(
            frame(OP_TEXT, b'a')
            + frame(OP_PING, b'p')
            + frame(OP_TEXT, b'x', rsv1=True)
        )
        seen = [await client.recv_frame() for _ in range(3)]
        assert [(f.opcode, f.payload) for f in seen[:2]] == [
            (OP_PONG, b'p'),
            (OP_TEXT, b'a'),
        ]
        assert seen[2].close[0] == 1002
        await client.expect_eof()


async def test_the_app_sees_the_fault_after_the_message(peers: Peers) -> None:
    seen: list[dict[str, Any]] = []
    done = asyncio.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        try:
            while True:
                message = await receive()
                seen.append(message)
                if message['type'] == 'websocket.disconnect':
                    return
        finally:
            done.set()

    async with serve(app, OURS) as running:
        client = await peers.connect(running.port)
        client.write(FAULTS['reserved-opcode'])
        assert (await client.recv_close())[0] == 1002
        await asyncio.wait_for(done.wait(), 10)
    assert seen[0] == {'type': 'websocket.receive', 'text': 'hello'}
    assert seen[1]['type'] == 'websocket.disconnect'
    assert seen[1]['code'] == 1002
    assert len(seen) == 2


async def test_an_app_that_never_reads_is_failed_after_close_timeout(
    peers: Peers,
) -> None:
    release = asyncio.Event()
    after: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({'type': 'websocket.accept'})
        await release.wait()
        after.append(await receive())

    async with serve(app, OURS) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        protocol.close_timeout = 0.05
        client.write(FAULTS['reserved-bits'])
        # The message is dropped when close_timeout expires: the Close comes
        # without an echo.
        assert (await client.recv_close())[0] == 1002
        await client.expect_eof()
        release.set()
        await eventually(lambda: bool(after), 'the app to receive')
    assert after[0]['type'] == 'websocket.disconnect'
    assert after[0]['code'] == 1002


@pytest.mark.parametrize('kind', ['asgi', 'gyrfalcon'])
async def test_a_close_of_the_apps_own_ends_the_connection_at_once(
    kind: str, peers: Peers
) -> None:
    # With a long close_timeout, a server that waited for the peer's Close
    # (which RFC 6455 forbids reading after its fault) would not close TCP
    # before the test's guard expires.
    if kind == 'asgi':

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            await receive()
            await send({'type': 'websocket.accept'})
            message = await receive()
            await send({'type': 'websocket.send', 'text': message['text']})
            await send({'type': 'websocket.close', 'code': 4000})

    else:

        class Resource:
            async def on_websocket(self, req: Any, ws: Any) -> None:
                await ws.accept()
                await ws.send_text(await ws.receive_text())
                await ws.close(4000)

        app = gyrfalcon.App()
        app.add_route('/', Resource())

    async with serve(app, OURS) as running:
        client = await peers.connect(running.port)
        protocol = await running.connection()
        protocol.close_timeout = 3600
        client.write(FAULTS['continuation-first'])
        assert await client.recv_message() == 'hello'
        assert (await client.recv_close())[0] == 4000
        await client.expect_eof()
