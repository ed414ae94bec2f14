"""Engine micro-benchmarks: the Rust engine against its pure-Python twin.

Run with ``python3 benchmarks/engine/report.py`` (``make bench``), which
enables pytest-benchmark, runs this file and writes the ratios into
``benchmarks/README.md``. Each test checks its result once before timing, so
a broken implementation cannot post a good number.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import zlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
import websockets.speedups
from pytest_benchmark.fixture import BenchmarkFixture

from gyrfalcon.protocol import load_engine

KIB = 1024
MIB = 1024 * 1024
MASK = bytes.fromhex('37fa213d')
IMPL_SHORT = {'gyrfalcon._native': 'native', 'gyrfalcon.protocol._py': 'python'}


STANDARD_REQUEST = (
    b'GET /chat HTTP/1.1\r\n'
    b'Host: server.example.com\r\n'
    b'Upgrade: websocket\r\n'
    b'Connection: Upgrade\r\n'
    b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
    b'Sec-WebSocket-Version: 13\r\n\r\n'
)


@pytest.fixture(params=['native', 'python'])
def engine(request: pytest.FixtureRequest) -> ModuleType:
    """Each engine module in turn (the Rust engine must be built)."""
    return load_engine(request.param)


def open_server(engine: ModuleType, **options: object) -> Any:
    """Return a server connection brought to OPEN with the standard request."""
    connection = engine.ServerConnection(**options)
    connection.receive_data(STANDARD_REQUEST)
    connection.accept()
    connection.data_to_send()
    return connection


def _masked_frame(opcode: int, payload: bytes) -> bytes:
    native = load_engine('native')
    return bytes(native.encode_frame(opcode, payload, mask=MASK))


# --- masking -----------------------------------------------------------------


@pytest.mark.parametrize('size', [KIB, MIB], ids=['1KiB', '1MiB'])
@pytest.mark.parametrize('impl', ['native', 'python', 'websockets'])
def test_mask(benchmark: BenchmarkFixture, impl: str, size: int) -> None:
    data = os.urandom(size)
    apply_mask: Callable[[bytes, bytes], bytes]
    if impl == 'websockets':
        apply_mask = websockets.speedups.apply_mask
    else:
        apply_mask = load_engine('native' if impl == 'native' else 'python').apply_mask
    expected = load_engine('python').apply_mask(data, MASK)
    assert apply_mask(data, MASK) == expected
    benchmark.group = f'mask {size // KIB} KiB'
    benchmark.extra_info.update(case='mask', size=size, impl=impl)
    benchmark(apply_mask, data, MASK)


# --- UTF-8 validation --------------------------------------------------------

_ASCII_UNIT = b'{"event": "tick", "price": 1234.5, "symbol": "GYR"} '
_MULTI_UNIT = 'Καλημέρα κόσμε — こんにちは世界 — Привет мир 🦅 '.encode()


def _text(unit: bytes, size: int) -> bytes:
    data = unit * (size // len(unit) + 1)
    data = data[:size]
    while True:
        try:
            data.decode('utf-8')
        except UnicodeDecodeError:
            data = data[:-1]
        else:
            return data


def _decode(data: bytes) -> bool:
    data.decode('utf-8')
    return True


@pytest.mark.parametrize('size', [KIB, MIB], ids=['1KiB', '1MiB'])
@pytest.mark.parametrize('text', ['ascii', 'multibyte'])
@pytest.mark.parametrize('impl', ['native', 'python', 'cpython-decode'])
def test_utf8(benchmark: BenchmarkFixture, impl: str, text: str, size: int) -> None:
    data = _text(_ASCII_UNIT if text == 'ascii' else _MULTI_UNIT, size)
    validate: Callable[[bytes], bool]
    if impl == 'cpython-decode':
        validate = _decode
    else:
        validate = load_engine('native' if impl == 'native' else 'python').validate_utf8
    assert validate(data) is True
    assert load_engine('native').validate_utf8(data + b'\xff') is False
    benchmark.group = f'utf8 {text} {size // KIB} KiB'
    benchmark.extra_info.update(case='utf8', text=text, size=size, impl=impl)
    benchmark(validate, data)


# --- receiving a stream of frames ---------------------------------------------

FRAMES = 10_000
FRAME_PAYLOAD = b'{"seq": 123456, "v": "abcdefg"}!'  # 32 bytes
assert len(FRAME_PAYLOAD) == 32


def test_receive_stream(benchmark: BenchmarkFixture, engine: ModuleType) -> None:
    stream = _masked_frame(1, FRAME_PAYLOAD) * FRAMES
    connection = open_server(engine, max_queue=None, max_queue_bytes=None)
    text = FRAME_PAYLOAD.decode()

    def receive() -> int:
        connection.receive_data(stream)
        count = 0
        while connection.next_message() is not None:
            count += 1
        return count

    assert receive() == FRAMES
    connection.receive_data(stream)
    assert connection.next_message() == text
    while connection.next_message() is not None:
        pass
    benchmark.group = 'receive 10,000 masked 32-byte frames'
    benchmark.extra_info.update(case='receive', impl=engine.__name__)
    assert benchmark(receive) == FRAMES


# --- building frames ----------------------------------------------------------


@pytest.mark.parametrize('size', [32, 64 * KIB], ids=['32B', '64KiB'])
def test_send(benchmark: BenchmarkFixture, engine: ModuleType, size: int) -> None:
    payload = os.urandom(size)
    connection = open_server(engine, write_limit=1 << 30)

    def send() -> bytes:
        connection.send_binary(payload)
        return connection.data_to_send()  # type: ignore[no-any-return]

    frame = send()
    assert frame.endswith(payload)
    assert len(frame) == size + (2 if size < 126 else 4 if size < 65536 else 10)
    benchmark.group = f'send {size} B'
    benchmark.extra_info.update(case='send', size=size, impl=engine.__name__)
    benchmark(send)


# --- permessage-deflate (RFC 7692) --------------------------------------------

DEFLATE_OFFER = (
    b'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n'
)
TAIL = b'\x00\x00\xff\xff'
MESSAGES = 16
"""Distinct messages cycled through, so that context takeover sees a
realistic stream (similar records, different values), not one repeated."""


def _json_text(size: int, seed: int) -> str:
    """Return JSON-like text of about `size` bytes: ticker records."""
    rng = random.Random(seed)
    records: list[dict[str, object]] = []
    text = '[]'
    while len(text) < size:
        records.append(
            {
                'seq': rng.randrange(10**9),
                'symbol': rng.choice(['GYR', 'FAL', 'KES', 'HAW', 'MER']),
                'price': round(rng.uniform(1, 5000), 2),
                'volume': rng.randrange(10**6),
                'side': rng.choice(['buy', 'sell']),
                'ts': 1_700_000_000_000 + rng.randrange(10**9),
            }
        )
        text = json.dumps(records, separators=(',', ':'))
    return text[:size]


def _messages(size: int) -> list[str]:
    return [_json_text(size, seed) for seed in range(MESSAGES)]


def open_compressed_server(engine: ModuleType, **options: object) -> Any:
    """Return a server that negotiated permessage-deflate (12-bit windows)."""
    connection = engine.ServerConnection(compression=True, **options)
    connection.receive_data(STANDARD_REQUEST[:-2] + DEFLATE_OFFER + b'\r\n')
    connection.accept()
    connection.data_to_send()
    assert connection.deflate.server_max_window_bits == 12
    return connection


def _inflate_frames(data: bytes, inflater: Any) -> list[bytes]:
    """Inflate the unmasked compressed frames of a server's output."""
    out = []
    pos = 0
    while pos < len(data):
        first, length = data[pos], data[pos + 1] & 0x7F
        pos += 2
        if length == 126:
            length = int.from_bytes(data[pos : pos + 2], 'big')
            pos += 2
        elif length == 127:
            length = int.from_bytes(data[pos : pos + 8], 'big')
            pos += 8
        assert first & 0x40, 'RSV1 must be set'
        out.append(inflater.decompress(data[pos : pos + length] + TAIL))
        pos += length
    return out


@pytest.mark.parametrize(
    'size', [256, 4 * KIB, 64 * KIB], ids=['256B', '4KiB', '64KiB']
)
def test_send_compressed(
    benchmark: BenchmarkFixture, engine: ModuleType, size: int
) -> None:
    messages = _messages(size)
    connection = open_compressed_server(engine, write_limit=1 << 30)
    inflater = zlib.decompressobj(wbits=-12)
    for message in messages:
        connection.send_text(message)
        sent = connection.data_to_send()
        assert _inflate_frames(sent, inflater) == [message.encode()]
    cycle = itertools.cycle(messages)

    def send() -> bytes:
        connection.send_text(next(cycle))
        return connection.data_to_send()  # type: ignore[no-any-return]

    benchmark.group = f'send compressed {size} B'
    benchmark.extra_info.update(case='send-deflate', size=size, impl=engine.__name__)
    benchmark(send)


BROADCAST = 100


@pytest.mark.parametrize('size', [256, 4 * KIB], ids=['256B', '4KiB'])
@pytest.mark.parametrize('way', ['prepared', 'per-connection'])
def test_broadcast(
    benchmark: BenchmarkFixture, engine: ModuleType, way: str, size: int
) -> None:
    messages = _messages(size)
    connections = [open_compressed_server(engine, write_limit=1 << 30)
                   for _ in range(BROADCAST)]  # fmt: skip
    prepare_frame = engine.prepare_frame

    def per_connection(message: str) -> list[bytes]:
        sent = []
        for connection in connections:
            connection.send_text(message)
            sent.append(connection.data_to_send())
        return sent

    def prepared(message: str) -> list[bytes]:
        frame = prepare_frame(message, deflate_window_bits=12)
        sent = []
        for connection in connections:
            connection.send_prepared(frame, compressed=True)
            sent.append(connection.data_to_send())
        return sent

    broadcast = prepared if way == 'prepared' else per_connection
    inflaters = [zlib.decompressobj(wbits=-12) for _ in connections]
    for message in messages:
        for data, inflater in zip(broadcast(message), inflaters, strict=True):
            assert _inflate_frames(data, inflater) == [message.encode()]
    cycle = itertools.cycle(messages)
    benchmark.group = f'broadcast {size} B to {BROADCAST}'
    impl = IMPL_SHORT[engine.__name__]
    name = impl if way == 'prepared' else f'{impl} per-connection'
    benchmark.extra_info.update(case='broadcast', size=size, impl=name)
    benchmark(lambda: broadcast(next(cycle)))


def test_receive_compressed(benchmark: BenchmarkFixture, engine: ModuleType) -> None:
    messages = [message.encode() for message in _messages(4 * KIB)] * 4
    deflater = zlib.compressobj(6, zlib.DEFLATED, -12, 5)
    native = load_engine('native')
    stream = b''
    for message in messages:
        payload = (deflater.compress(message) + deflater.flush(zlib.Z_SYNC_FLUSH))[:-4]
        stream += bytes(native.encode_frame(1, payload, rsv1=True, mask=MASK))

    def receive() -> list[str]:
        # The stream refers back to itself (context takeover), so each round
        # starts from a fresh connection; the handshake is a small part of it.
        connection = open_compressed_server(
            engine, max_queue=None, max_queue_bytes=None
        )
        connection.receive_data(stream)
        got = []
        while (message := connection.next_message()) is not None:
            got.append(message)
        return got

    assert receive() == [message.decode() for message in messages]
    benchmark.group = f'receive {len(messages)} compressed 4 KiB messages'
    benchmark.extra_info.update(case='receive-deflate', impl=engine.__name__)
    benchmark(receive)
