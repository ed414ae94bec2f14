"""A Gyrfalcon echo app under real clients, on our class and uvicorn's.

Every test runs with both client libraries (``websockets`` and ``aiohttp``)
against the echo app served by uvicorn with each WebSocket protocol class:
Gyrfalcon's and uvicorn's stock ``websockets-sansio`` and ``wsproto``. The
expected results are the same for all three, which is the point: the app
behaves the same whichever class serves it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import msgpack
import pytest
from demo_peers import Peers, guarded, serve
from echo_app import Recorder, create_echo_app

pytestmark = pytest.mark.network


@dataclass
class EchoServer:
    url: str
    recorder: Recorder


@pytest.fixture
async def echo(server_class: str, peers: Peers) -> AsyncIterator[EchoServer]:
    recorder = Recorder()
    async with serve(create_echo_app(recorder), server_class) as base:
        try:
            yield EchoServer(base.replace('http://', 'ws://'), recorder)
        finally:
            await peers.aclose()


async def test_text_and_binary_come_back_with_their_type(
    echo: EchoServer, peers: Peers
) -> None:
    peer = await peers.open(f'{echo.url}/echo')
    messages: list[str | bytes] = [
        'hello',
        'héllo wörld ✓ 🦅',
        '',
        b'\x00\x01\xff',
        b'',
    ]
    for message in messages:
        await peer.send(message)
        assert await guarded(peer.recv(), 'the echo') == message


async def test_subprotocol_is_negotiated(echo: EchoServer, peers: Peers) -> None:
    peer = await peers.open(f'{echo.url}/echo', subprotocols=['echo.v2', 'echo.v1'])
    assert peer.subprotocol == 'echo.v2'


@pytest.mark.parametrize('size', [125, 126, 65535, 65536, 1024 * 1024 + 7])
async def test_large_messages(echo: EchoServer, peers: Peers, size: int) -> None:
    # The sizes straddle the three length encodings of RFC 6455 §5.2.
    peer = await peers.open(f'{echo.url}/echo')
    data = bytes(range(256)) * (size // 256) + bytes(size % 256)
    await peer.send(data)
    assert await guarded(peer.recv(), 'the binary echo') == data

    text = ('gyrfalcon é ✓ ' * (size // 16 + 1))[:size]
    await peer.send(text)
    assert await guarded(peer.recv(), 'the text echo') == text


async def test_many_small_messages_stay_in_order(
    echo: EchoServer, peers: Peers
) -> None:
    peer = await peers.open(f'{echo.url}/echo')
    count = 2000
    # Send everything before reading anything: the server has to queue,
    # pause reading and resume without losing or reordering a message.
    for i in range(count):
        await peer.send(str(i) if i % 2 else str(i).encode())
    received = [await guarded(peer.recv(), f'echo {i}') for i in range(count)]
    assert received == [str(i) if i % 2 else str(i).encode() for i in range(count)]


async def test_media_round_trip(echo: EchoServer, peers: Peers) -> None:
    peer = await peers.open(f'{echo.url}/media')
    document = {'name': 'gyrfalcon', 'tags': ['fast', 'é'], 'n': 3, 'x': 2.5}

    # JSON in a TEXT message...
    await peer.send(json.dumps(document))
    as_text = await guarded(peer.recv(), 'the TEXT reply')
    as_binary = await guarded(peer.recv(), 'the BINARY reply')
    assert isinstance(as_text, str) and json.loads(as_text) == {'got': document}
    assert isinstance(as_binary, bytes)
    assert msgpack.unpackb(as_binary) == {'got': document}

    # ...and MessagePack in a BINARY one.
    document2 = [1, None, True, 'falcon', {'nested': -7}]
    await peer.send(msgpack.packb(document2))
    as_text = await guarded(peer.recv(), 'the TEXT reply')
    as_binary = await guarded(peer.recv(), 'the BINARY reply')
    assert isinstance(as_text, str) and json.loads(as_text) == {'got': document2}
    assert isinstance(as_binary, bytes)
    assert msgpack.unpackb(as_binary) == {'got': document2}


@pytest.mark.parametrize(
    ('code', 'reason'), [(1000, ''), (1001, 'going away'), (4000, 'done here')]
)
async def test_client_close_code_reaches_the_app(
    echo: EchoServer, peers: Peers, code: int, reason: str
) -> None:
    peer = await peers.open(f'{echo.url}/echo')
    await peer.send('ping')
    assert await guarded(peer.recv(), 'the echo') == 'ping'
    await peer.close(code, reason)
    await guarded(echo.recorder.ended.wait(), 'the app to see the close')
    assert echo.recorder.closes == [(code, reason)]


async def test_server_close_code_reaches_the_client(
    echo: EchoServer, peers: Peers
) -> None:
    peer = await peers.open(f'{echo.url}/echo')
    await peer.send('close 4001 as you wish')
    closed = await peer.closed_by_server()
    assert (closed.code, closed.reason) == (4001, 'as you wish')
    await guarded(echo.recorder.ended.wait(), 'the responder to end')
    assert echo.recorder.closes == [(4001, 'as you wish')]
