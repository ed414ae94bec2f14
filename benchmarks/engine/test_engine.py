"""Engine micro-benchmarks: the Rust engine against its pure-Python twin.

Run with ``python3 benchmarks/engine/report.py`` (``make bench``), which
enables pytest-benchmark, runs this file and writes the ratios into
``benchmarks/README.md``. Each test checks its result once before timing, so
a broken implementation cannot post a good number.
"""

from __future__ import annotations

import os
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
