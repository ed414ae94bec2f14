"""permessage-deflate (RFC 7692) on our uvicorn class, on real sockets.

The engines negotiate and compress (``tests/engine/test_deflate.py``); these
tests check what the adapter makes of it: negotiation by default with the
``websockets`` and ``aiohttp`` clients, every policy setting as the client
sees it on the wire (read with ``RawClient`` after a hand-built offer), the
threshold on both the dict path and the fast path, offers RFC 7692 says to
decline, context takeover round trips, and the inflate limit against
in-process servers. ``test_deflate_serve.py`` runs a zip bomb against
``gyrfalcon serve``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import socket
import struct
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from websockets.asyncio.client import connect
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from ws_peers import (
    GUARD,
    OP_BINARY,
    OP_CLOSE,
    OP_TEXT,
    Peers,
    RawClient,
    Running,
    echo_app,
    serve,
    upgrade_request,
)

from gyrfalcon.protocol import encode_frame
from gyrfalcon.server import get_channel
from gyrfalcon.server.uvicorn import WebSocketProtocol

pytestmark = pytest.mark.network

TAIL = b'\x00\x00\xff\xff'


def protocol(**settings: Any) -> type[WebSocketProtocol]:
    """Our class with some compression settings changed."""
    return type('Protocol', (WebSocketProtocol,), settings)


@contextlib.asynccontextmanager
async def serving(
    peers: Peers, app: Any, ws: Any, **config: Any
) -> AsyncIterator[Running]:
    """``serve()``, closing the raw clients before the server stops.

    A server that shuts down first sends them 1012 and waits for their Close
    frame for ``close_timeout``.
    """
    async with serve(app, ws, **config) as running:
        try:
            yield running
        finally:
            await peers.aclose()


async def fast_echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Echo through the engine channel (the fast path), not ``send()``."""
    channel = get_channel(scope, receive, send)
    assert channel is not None
    assert (await receive())['type'] == 'websocket.connect'
    await send({'type': 'websocket.accept'})
    while True:
        message = channel.next_message()
        if message is None:
            if channel.closed:
                return
            await channel.wait_message()
            continue
        if isinstance(message, str):
            channel.send_text(message)
        else:
            channel.send_binary(message)


APPS: dict[str, Callable[..., Any]] = {'dict': echo_app, 'fast': fast_echo}


def feed(seed: int, count: int) -> list[str]:
    """JSON-like push messages, compressible and each one different."""
    rng = random.Random(seed)
    return [
        json.dumps(
            {
                'seq': i,
                'topic': rng.choice(['prices', 'chat', 'scores']),
                'values': [rng.randint(0, 999) for _ in range(rng.randint(0, 40))],
                'text': 'lorem ipsum ' * rng.randint(0, 20),
            }
        )
        for i in range(count)
    ]


def parameters(header: str | None) -> dict[str, str | None]:
    """The parameters of a one-element permessage-deflate response."""
    assert header is not None
    name, *params = [part.strip() for part in header.split(';')]
    assert name == 'permessage-deflate'
    result: dict[str, str | None] = {}
    for param in params:
        key, sep, value = param.partition('=')
        assert key not in result
        result[key] = value if sep else None
    return result


class DeflatePeer:
    """A ``RawClient`` that compresses and inflates by hand with zlib."""

    def __init__(self, client: RawClient, client_bits: int = 15) -> None:
        self.client = client
        self.inflater = zlib.decompressobj(-15)
        self.compressor = zlib.compressobj(6, zlib.DEFLATED, -client_bits)

    def send(self, opcode: int, data: bytes) -> None:
        payload = self.compressor.compress(data)
        payload += self.compressor.flush(zlib.Z_SYNC_FLUSH)
        assert payload.endswith(TAIL)
        self.client.send_frame(opcode, payload[:-4], rsv1=True)

    async def recv(self) -> tuple[int, bytes, bool, int]:
        """Return opcode, inflated payload, RSV1, and the wire length."""
        frame = await self.client.recv_data_frame()
        assert frame.fin
        if frame.rsv & 4:
            data = self.inflater.decompress(frame.payload + TAIL)
            return frame.opcode, data, True, len(frame.payload)
        return frame.opcode, frame.payload, False, len(frame.payload)


OFFER = ('Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits')


async def deflate_peer(
    peers: Peers, port: int, offer: str = OFFER[1]
) -> tuple[DeflatePeer, dict[str, str | None]]:
    client = await peers.connect(port, extra=[('Sec-WebSocket-Extensions', offer)])
    assert client.response is not None
    params = parameters(client.response.get('sec-websocket-extensions'))
    bits = params.get('client_max_window_bits')
    return DeflatePeer(client, int(bits) if bits else 15), params


# --- negotiation with real clients ---------------------------------------------


@pytest.mark.parametrize('path', list(APPS))
async def test_websockets_client_negotiates_by_default(path: str) -> None:
    messages = feed(1, 200) + ['', 'x', 'y' * 127, 'z' * 128]
    async with serve(APPS[path], WebSocketProtocol) as running:
        async with connect(running.url) as client:
            assert client.response is not None
            header = client.response.headers['Sec-WebSocket-Extensions']
            # websockets offers client_max_window_bits and asks for
            # server_max_window_bits=12 itself; our default is 12 anyway.
            assert parameters(header) == {
                'server_max_window_bits': '12',
                'client_max_window_bits': '12',
            }
            [extension] = client.protocol.extensions
            assert extension.name == 'permessage-deflate'
            for message in messages:
                await client.send(message)
                assert await client.recv() == message
            await client.send(b'\x00\xff' * 3000)
            assert await client.recv() == b'\x00\xff' * 3000


@pytest.mark.parametrize('path', list(APPS))
async def test_aiohttp_client_negotiates_by_default(path: str) -> None:
    messages = feed(2, 200)
    async with serve(APPS[path], WebSocketProtocol) as running:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(running.url, compress=15) as ws:
                # aiohttp offers 'permessage-deflate; client_max_window_bits'
                # and compresses with the window bits we answer.
                header = ws._response.headers['Sec-WebSocket-Extensions']
                assert parameters(header) == {
                    'server_max_window_bits': '12',
                    'client_max_window_bits': '12',
                }
                assert ws.compress == 12
                for message in messages:
                    await ws.send_str(message)
                    assert await ws.receive_str() == message
                await ws.send_bytes(bytes(range(256)) * 64)
                assert await ws.receive_bytes() == bytes(range(256)) * 64


@pytest.mark.parametrize('setting', ['config', 'subclass'])
async def test_ws_per_message_deflate_off_declines(setting: str, peers: Peers) -> None:
    if setting == 'config':
        server = serving(
            peers, echo_app, WebSocketProtocol, ws_per_message_deflate=False
        )
    else:
        # A subclass can turn it off too, by ignoring uvicorn's setting.
        class Off(WebSocketProtocol):
            def _compression_options(self, config: Any) -> dict[str, Any]:
                return {**super()._compression_options(config), 'compression': False}

        server = serving(peers, echo_app, Off)
    async with server as running:
        async with connect(running.url) as client:
            assert client.response is not None
            assert 'Sec-WebSocket-Extensions' not in client.response.headers
            assert client.protocol.extensions == []
            await client.send('a' * 1000)
            assert await client.recv() == 'a' * 1000
        # Without the extension, RSV1 is a protocol error (1002).
        raw = await peers.connect(running.port, extra=[OFFER])
        assert raw.response is not None
        assert raw.response.get('sec-websocket-extensions') is None
        raw.send_frame(OP_TEXT, b'\xf2\x48\xcd\xc9\xc9\x07\x00', rsv1=True)
        assert await raw.recv_close() == (1002, 'received frame with reserved bits set')


# --- each policy setting on the wire ---------------------------------------------


@pytest.mark.parametrize(
    ('settings', 'offer', 'expected'),
    [
        # Defaults: window 12 both ways, context takeover.
        (
            {},
            'permessage-deflate; client_max_window_bits',
            {'server_max_window_bits': '12', 'client_max_window_bits': '12'},
        ),
        # No client_max_window_bits offered: we may not name it (RFC 7692
        # 7.1.2.2), so our inflater keeps a 15-bit window.
        ({}, 'permessage-deflate', {'server_max_window_bits': '12'}),
        (
            {'deflate_window_bits': 9},
            'permessage-deflate; client_max_window_bits',
            {'server_max_window_bits': '9', 'client_max_window_bits': '9'},
        ),
        (
            {'deflate_window_bits': 15},
            'permessage-deflate; client_max_window_bits',
            {'client_max_window_bits': '15'},
        ),
        ({'deflate_window_bits': 15}, 'permessage-deflate', {}),
        # The client asks for less than our setting: the smaller wins.
        (
            {'deflate_window_bits': 13},
            'permessage-deflate; server_max_window_bits=10; client_max_window_bits=11',
            {'server_max_window_bits': '10', 'client_max_window_bits': '11'},
        ),
        (
            {'deflate_context_takeover': False},
            'permessage-deflate; client_max_window_bits',
            {
                'server_no_context_takeover': None,
                'server_max_window_bits': '12',
                'client_max_window_bits': '12',
            },
        ),
        # The client's own no_context_takeover requests are honoured.
        (
            {},
            'permessage-deflate; client_no_context_takeover; '
            'server_no_context_takeover',
            {
                'server_no_context_takeover': None,
                'client_no_context_takeover': None,
                'server_max_window_bits': '12',
            },
        ),
    ],
)
async def test_response_parameters(
    settings: dict[str, Any],
    offer: str,
    expected: dict[str, str | None],
    peers: Peers,
) -> None:
    async with serving(peers, echo_app, protocol(**settings)) as running:
        peer, params = await deflate_peer(peers, running.port, offer)
        assert params == expected
        # The agreed windows work both ways.
        text = ' '.join(feed(3, 30)).encode()
        peer.send(OP_TEXT, text)
        assert (await peer.recv())[:3] == (OP_TEXT, text, True)


@pytest.mark.parametrize('path', list(APPS))
@pytest.mark.parametrize('threshold', [None, 0, 300])
async def test_threshold_on_the_wire(
    path: str, threshold: int | None, peers: Peers
) -> None:
    settings = {} if threshold is None else {'compression_threshold': threshold}
    limit = 128 if threshold is None else threshold
    async with serving(peers, APPS[path], protocol(**settings)) as running:
        peer, _ = await deflate_peer(peers, running.port)
        for size in sorted({0, 1, 127, 128, 299, 300, 301, 5000}):
            data = bytes(random.Random(size).choices(b'abcdef', k=size))
            # The client sends uncompressed (RSV1 clear); the echo is
            # compressed exactly when it is at least the threshold.
            peer.client.send_frame(OP_BINARY, data)
            opcode, echoed, compressed, _ = await peer.recv()
            assert (opcode, echoed) == (OP_BINARY, data)
            assert compressed == (size >= limit), size
            # And the other way round: a compressed message of any size.
            peer.send(OP_TEXT, data)
            opcode, echoed, compressed, _ = await peer.recv()
            assert (opcode, echoed) == (OP_TEXT, data)
            assert compressed == (size >= limit), size


@pytest.mark.parametrize('takeover', [True, False])
async def test_context_takeover_on_the_wire(takeover: bool, peers: Peers) -> None:
    # The same 2 KiB message twice: with context takeover the second copy is
    # a back-reference into the first (a few bytes); without it, it is
    # compressed afresh, to the same bytes as the first.
    message = ' '.join(feed(4, 12)).encode()[:2048]
    server = protocol(deflate_context_takeover=takeover)
    async with serving(peers, echo_app, server) as running:
        peer, params = await deflate_peer(peers, running.port)
        assert ('server_no_context_takeover' in params) is (not takeover)
        sizes = []
        for _ in range(2):
            peer.client.send_frame(OP_BINARY, message)
            opcode, echoed, compressed, size = await peer.recv()
            assert (opcode, echoed, compressed) == (OP_BINARY, message, True)
            sizes.append(size)
    if takeover:
        assert sizes[1] * 10 < sizes[0]
    else:
        assert sizes[1] == sizes[0]


async def test_mem_level_on_the_wire(peers: Peers) -> None:
    # memLevel is not negotiated; it sizes zlib's buffers, and a memLevel of 1
    # flushes a block every 128 symbols: a larger result for the same input.
    text = json.dumps(feed(5, 150)).encode()
    sizes = {}
    for level in (1, 9):
        async with serving(
            peers, echo_app, protocol(deflate_mem_level=level)
        ) as running:
            peer, _ = await deflate_peer(peers, running.port)
            peer.client.send_frame(OP_TEXT, text)
            opcode, echoed, compressed, sizes[level] = await peer.recv()
            assert (opcode, echoed, compressed) == (OP_TEXT, text, True)
    assert sizes[1] > sizes[9] * 1.05


# --- offers RFC 7692 says to decline ---------------------------------------------


@pytest.mark.parametrize(
    'offer',
    [
        'permessage-deflate; foo=1',  # unknown parameter
        'permessage-deflate; server_no_context_takeover; server_no_context_takeover',
        'permessage-deflate; client_max_window_bits=7',
        'permessage-deflate; client_max_window_bits=16',
        'permessage-deflate; client_max_window_bits=09',
        'permessage-deflate; server_max_window_bits',  # needs a value
        'permessage-deflate; server_max_window_bits=8',  # zlib cannot
        'permessage-deflate; server_max_window_bits=16',
        'permessage-deflate; server_no_context_takeover=1',
        'x-webkit-deflate-frame',
        'Permessage-Deflate',  # names are case-sensitive
        'constructor, __proto__; toString=1',
    ],
)
async def test_unacceptable_offers_are_declined(offer: str, peers: Peers) -> None:
    # RFC 7692 5: a server declines an offer it cannot accept by not
    # answering it; the connection runs uncompressed.
    async with serving(peers, echo_app, WebSocketProtocol) as running:
        client = await peers.connect(
            running.port, extra=[('Sec-WebSocket-Extensions', offer)]
        )
        assert client.response is not None
        assert client.response.get('sec-websocket-extensions') is None
        client.send_text('a' * 1000)
        frame = await client.recv_data_frame()
        assert (frame.opcode, frame.rsv, frame.payload) == (OP_TEXT, 0, b'a' * 1000)
        client.send_frame(OP_TEXT, b'\xf2\x48\xcd\xc9\xc9\x07\x00', rsv1=True)
        assert (await client.recv_close())[0] == 1002


async def test_first_acceptable_offer_wins(peers: Peers) -> None:
    offer = (
        'permessage-deflate; server_max_window_bits=8, '
        'permessage-deflate; client_max_window_bits=10; '
        'client_no_context_takeover, permessage-deflate'
    )
    async with serving(peers, echo_app, WebSocketProtocol) as running:
        peer, params = await deflate_peer(peers, running.port, offer)
        assert params == {
            'client_no_context_takeover': None,
            'server_max_window_bits': '12',
            'client_max_window_bits': '10',
        }
        peer.send(OP_TEXT, b'hello' * 100)
        assert (await peer.recv())[:3] == (OP_TEXT, b'hello' * 100, True)


async def test_extension_header_syntax_error_is_a_400(peers: Peers) -> None:
    # RFC 6455 9.1 grammar: an extension list that does not parse fails the
    # handshake (engine contract, handshake row 13).
    async with serving(peers, echo_app, WebSocketProtocol) as running:
        client = await peers.open(running.port)
        client.write(
            b'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n'
            b'Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n'
            b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
            b'Sec-WebSocket-Extensions: permessage-deflate;;=\r\n\r\n'
        )
        response = await client.read_response()
        assert response.status == 400
        assert b'Sec-WebSocket-Extensions' in response.body


# --- context takeover round trips ----------------------------------------------------


@pytest.mark.parametrize('server_takeover', [True, False])
@pytest.mark.parametrize('client_takeover', [True, False])
@pytest.mark.parametrize('path', list(APPS))
async def test_context_takeover_round_trips(
    server_takeover: bool, client_takeover: bool, path: str
) -> None:
    messages = feed(6, 1000)
    factory = ClientPerMessageDeflateFactory(
        client_no_context_takeover=not client_takeover,
        client_max_window_bits=True,
    )
    server = protocol(deflate_context_takeover=server_takeover)
    async with serve(APPS[path], server) as running:
        async with connect(running.url, extensions=[factory]) as client:
            assert client.response is not None
            params = parameters(client.response.headers['Sec-WebSocket-Extensions'])
            assert ('server_no_context_takeover' in params) is (not server_takeover)
            assert ('client_no_context_takeover' in params) is (not client_takeover)
            # Many messages in flight at once, so both sides batch.
            for start in range(0, len(messages), 100):
                batch = messages[start : start + 100]
                for message in batch:
                    await client.send(message)
                for message in batch:
                    assert await client.recv() == message


# --- the inflate limit ---------------------------------------------------------------


def zeros_stream(megabytes: int) -> bytes:
    """A raw deflate stream of ``megabytes`` MiB of zeros, about 1 KiB/MiB.

    Each sync-flushed MiB after the first compresses to the same bytes (the
    window is all zeros either way), so the stream is built without
    compressing the whole.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_SYNC_FLUSH)
    rest = compressor.compress(chunk) + compressor.flush(zlib.Z_SYNC_FLUSH)
    stream = first + rest * (megabytes - 1)
    assert stream.endswith(TAIL)
    return stream[:-4]


def test_zeros_stream_is_what_it_says() -> None:
    stream = zeros_stream(8)
    inflated = zlib.decompressobj(-15).decompress(stream + TAIL)
    assert inflated == bytes(8 << 20)


def bomb_frames(stream: bytes, fragment: int | None) -> bytes:
    """Masked client frames carrying one compressed BINARY message."""
    if fragment is None:
        return encode_frame(OP_BINARY, stream, rsv1=True, mask=os.urandom(4))
    pieces = [stream[i : i + fragment] for i in range(0, len(stream), fragment)]
    frames = [
        encode_frame(
            OP_BINARY if i == 0 else 0,
            piece,
            fin=i == len(pieces) - 1,
            rsv1=i == 0,
            mask=os.urandom(4),
        )
        for i, piece in enumerate(pieces)
    ]
    return b''.join(frames)


def send_and_read_close(port: int, data: bytes) -> tuple[int, str]:
    """Open a compressed connection, write ``data``, return the Close received.

    A blocking socket, run in a thread: when the server fails the connection
    while our bytes are still arriving, it closes TCP with unread input, and
    the reset that follows its Close frame makes asyncio's ``StreamReader``
    raise before returning the bytes it had buffered; ``recv()`` still
    returns them.
    """
    with socket.create_connection(('127.0.0.1', port), timeout=GUARD) as sock:
        sock.sendall(upgrade_request(port, extra=[OFFER]))
        received = b''
        while b'\r\n\r\n' not in received:
            chunk = sock.recv(65536)
            assert chunk, received
            received += chunk
        head, _, received = received.partition(b'\r\n\r\n')
        assert head.startswith(b'HTTP/1.1 101 '), head
        assert b'permessage-deflate' in head
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            sock.sendall(data)
        while True:
            # Skip the data frames before the Close (short, unmasked).
            if len(received) >= 2:
                length, start = received[1], 2
                if length == 126 and len(received) >= 4:
                    length, start = struct.unpack('!H', received[2:4])[0], 4
                assert length < 127, received
                if len(received) >= start + length:
                    opcode, payload = received[0], received[start : start + length]
                    received = received[start + length :]
                    if opcode == 0x80 | OP_CLOSE:
                        code = struct.unpack('!H', payload[:2])[0]
                        return code, payload[2:].decode()
                    continue
            chunk = sock.recv(65536)
            assert chunk, received
            received += chunk


@pytest.mark.parametrize('fragment', [None, 256])
async def test_compressed_message_over_max_size_closes_1009(
    fragment: int | None, peers: Peers
) -> None:
    stream = zeros_stream(256)  # 256 MiB in about 256 KiB
    async with serving(
        peers, echo_app, WebSocketProtocol, ws_max_size=1 << 20
    ) as running:
        close = await asyncio.to_thread(
            send_and_read_close, running.port, bomb_frames(stream, fragment)
        )
        assert close == (1009, f'message exceeds {1 << 20} bytes')
        # Exactly max_size inflated bytes is fine.
        client = await peers.connect(running.port, extra=[OFFER])
        peer = DeflatePeer(client, 12)
        peer.send(OP_BINARY, bytes(1 << 20))
        opcode, data, compressed, _ = await peer.recv()
        assert (opcode, len(data), compressed) == (OP_BINARY, 1 << 20, True)
        await peers.aclose()


async def test_corrupt_compressed_data_closes_1007(peers: Peers) -> None:
    async with serving(peers, echo_app, WebSocketProtocol) as running:
        client = await peers.connect(running.port, extra=[OFFER])
        # A block of reserved type 3 (BTYPE=11) is invalid deflate data.
        client.send_frame(OP_BINARY, b'\xff\xff\xff\xff', rsv1=True)
        assert await client.recv_close() == (1007, 'invalid compressed data')


async def test_rsv1_on_a_continuation_closes_1002(peers: Peers) -> None:
    async with serving(peers, echo_app, WebSocketProtocol) as running:
        peer, _ = await deflate_peer(peers, running.port)
        compressor = zlib.compressobj(6, zlib.DEFLATED, -12)
        payload = compressor.compress(b'abc' * 100) + compressor.flush(
            zlib.Z_SYNC_FLUSH
        )
        peer.client.send_frame(OP_TEXT, payload[:10], fin=False, rsv1=True)
        peer.client.send_frame(0, payload[10:-4], rsv1=True)
        assert await peer.client.recv_close() == (
            1002,
            'received frame with reserved bits set',
        )
