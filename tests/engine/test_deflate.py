"""permessage-deflate (RFC 7692) on both engines, beyond the vectors.

The vectors (``tests/vectors/deflate.json``) pin negotiation and receiving.
This file checks what the engines *send* (inflated with the stdlib ``zlib``
and compared with the input, since compressed bytes may differ between
deflate implementations), the keywords, lazy allocation, the zip-bomb
defence with a real 1 GiB bomb, and long conversations between engines.
"""

from __future__ import annotations

import os
import random
import tracemalloc
import zlib
from types import ModuleType
from typing import Any

import pytest

from gyrfalcon.errors import InvalidState
from gyrfalcon.protocol import load_engine
from gyrfalcon.protocol.common import CLOSED, FAILED, MESSAGES, OUTPUT, DeflateParams
from gyrfalcon.testing.pair import EnginePair, open_engine

from ._deflate import TAIL, Reader, inflate_strictly, parse_frames

KEY = bytes.fromhex('37fa213d')
WINDOW_RANGE = 'deflate_window_bits must be between 9 and 15'
ROLES = ('server', 'client')
ON = {'compression': True}
# What each role is opened with: the server gets the plain offer (its
# compressor uses 12 bits, the client's 15); the client gets our server's
# answer to its default offer.
EXTENSIONS = {
    'server': 'permessage-deflate',
    'client': 'permessage-deflate; server_max_window_bits=12',
}
JSON = (
    b'{"type": "trade", "symbol": "GYR", "price": 101.25, "size": 300, '
    b'"venue": "XNAS", "conditions": ["@", "F", "T"], "sequence": 1234567}'
)


def opened(engine: ModuleType, role: str, **options: Any) -> Any:
    """An OPEN connection with permessage-deflate negotiated."""
    return open_engine(engine, role, {**ON, **options}, EXTENSIONS[role])


def incoming(role: str, opcode: int, payload: bytes, rsv: int = 4) -> bytes:
    """A frame the engine in `role` receives (clients' frames are masked)."""
    first = 0x80 | rsv << 4 | opcode
    if len(payload) < 126:
        length = bytes([len(payload)])
    elif len(payload) < 65536:
        length = b'\x7e' + len(payload).to_bytes(2, 'big')
    else:
        length = b'\x7f' + len(payload).to_bytes(8, 'big')
    if role == 'client':
        return bytes([first]) + length + payload
    masked = bytes(b ^ KEY[i % 4] for i, b in enumerate(payload))
    return bytes([first, 0x80 | length[0]]) + length[1:] + KEY + masked


def compress(data: bytes, window_bits: int = 15) -> bytes:
    stream = zlib.compressobj(6, zlib.DEFLATED, -window_bits, 8)
    return (stream.compress(data) + stream.flush(zlib.Z_SYNC_FLUSH))[:-4]


@pytest.fixture(params=ROLES)
def role(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class TestKeywords:
    """The compression keywords of both constructors (engine contract)."""

    def build(self, engine: ModuleType, role: str, **options: Any) -> Any:
        if role == 'server':
            return engine.ServerConnection(**options)
        return engine.ClientConnection('example.com', **options)

    def test_server_off_by_default(self, engine: ModuleType) -> None:
        server = open_engine(engine, 'server', None, EXTENSIONS['server'])
        assert server.deflate is None
        server.send_text('x' * 1000)
        assert parse_frames(server.data_to_send())[0].rsv == 0

    def test_client_off_by_default(self, engine: ModuleType) -> None:
        client = self.build(engine, 'client')
        client.send_request()
        assert b'Sec-WebSocket-Extensions' not in client.data_to_send()
        assert client.deflate is None

    @pytest.mark.parametrize(
        ('name', 'value', 'message'),
        [
            ('compression_threshold', -1, 'compression_threshold must not be negative'),
            ('deflate_window_bits', 8, WINDOW_RANGE),
            ('deflate_window_bits', 16, WINDOW_RANGE),
            ('deflate_mem_level', 0, 'deflate_mem_level must be between 1 and 9'),
            ('deflate_mem_level', 10, 'deflate_mem_level must be between 1 and 9'),
            ('deflate_level', -1, 'deflate_level must be between 0 and 9'),
            ('deflate_level', 10, 'deflate_level must be between 0 and 9'),
        ],
    )
    @pytest.mark.parametrize('compression', [True, False])
    def test_ranges(
        self,
        engine: ModuleType,
        role: str,
        name: str,
        value: int,
        message: str,
        compression: bool,
    ) -> None:
        with pytest.raises(ValueError) as info:
            self.build(engine, role, compression=compression, **{name: value})
        assert str(info.value) == message

    @pytest.mark.parametrize(
        ('name', 'value'),
        [
            ('deflate_window_bits', 9),
            ('deflate_window_bits', 15),
            ('deflate_mem_level', 1),
            ('deflate_mem_level', 9),
            ('deflate_level', 0),
            ('deflate_level', 9),
            ('compression_threshold', 0),
        ],
    )
    def test_range_ends_accepted(
        self, engine: ModuleType, role: str, name: str, value: int
    ) -> None:
        self.build(engine, role, compression=True, **{name: value})

    @pytest.mark.parametrize(
        ('name', 'value'),
        [
            ('compression', 1),
            ('compression', None),
            ('deflate_no_context_takeover', 'yes'),
            ('compression_threshold', 1.5),
            ('deflate_window_bits', '12'),
            ('deflate_mem_level', None),
            ('deflate_level', b'6'),
        ],
    )
    def test_types(self, engine: ModuleType, role: str, name: str, value: Any) -> None:
        with pytest.raises(TypeError):
            self.build(engine, role, **{name: value})

    def test_types_before_values(self, engine: ModuleType, role: str) -> None:
        with pytest.raises(TypeError):
            self.build(engine, role, max_size=-1, deflate_level='x')
        with pytest.raises(TypeError):
            self.build(engine, role, deflate_window_bits=99, compression='x')

    def test_limits_before_deflate_values(self, engine: ModuleType, role: str) -> None:
        with pytest.raises(ValueError) as info:
            self.build(engine, role, max_size=0, deflate_level=10)
        assert str(info.value) == 'max_size must be positive'
        with pytest.raises(ValueError) as info:
            self.build(engine, role, deflate_mem_level=0, compression_threshold=-1)
        assert str(info.value) == 'compression_threshold must not be negative'


class TestNegotiation:
    """RFC 7692 §5, §7.1, between two engines and around the handshake."""

    def test_deflate_set_by_accept(self, engine: ModuleType) -> None:
        pair = EnginePair(engine, compression=True)
        pair.client.send_request()
        pair.to_server()
        assert pair.server.deflate is None
        assert pair.server.request.extensions == (
            (
                'permessage-deflate',
                (('client_max_window_bits', None), ('server_max_window_bits', '12')),
            ),
        )
        pair.server.accept()
        assert pair.server.deflate == DeflateParams(False, False, 12, 12)
        pair.to_client()
        assert pair.client.deflate == pair.server.deflate
        assert isinstance(pair.client.deflate, DeflateParams)

    def test_reject_leaves_deflate_unset(self, engine: ModuleType) -> None:
        pair = EnginePair(engine, compression=True)
        pair.client.send_request()
        pair.to_server()
        pair.server.reject(403)
        assert pair.server.deflate is None
        pair.to_client()
        assert pair.client.deflate is None

    def test_client_deflate_unset_before_response(self, engine: ModuleType) -> None:
        client = engine.ClientConnection('example.com', compression=True)
        client.send_request()
        assert client.deflate is None

    @pytest.mark.parametrize('client_bits', [9, 12, 15])
    @pytest.mark.parametrize('server_bits', [9, 12, 15])
    @pytest.mark.parametrize('client_nct', [False, True])
    @pytest.mark.parametrize('server_nct', [False, True])
    def test_matrix(
        self,
        engine: ModuleType,
        client_bits: int,
        server_bits: int,
        client_nct: bool,
        server_nct: bool,
    ) -> None:
        pair = EnginePair(
            engine,
            client_options={
                **ON,
                'deflate_window_bits': client_bits,
                'deflate_no_context_takeover': client_nct,
            },
            server_options={
                **ON,
                'deflate_window_bits': server_bits,
                'deflate_no_context_takeover': server_nct,
            },
        ).open()
        # The client offers server_max_window_bits below 15 and always
        # client_max_window_bits; the server answers with the smaller.
        server_window = min(client_bits, server_bits)
        assert pair.server.deflate == DeflateParams(
            server_nct, client_nct, server_window, server_bits
        )
        assert pair.client.deflate == pair.server.deflate
        for index in range(3):
            pair.client.send_text(JSON.decode() + str(index))
            pair.server.send_binary(JSON + bytes([index]))
        pair.transfer()
        assert pair.messages('server') == [JSON.decode() + str(i) for i in range(3)]
        assert pair.messages('client') == [JSON + bytes([i]) for i in range(3)]


class TestSending:
    """RFC 7692 §7.2.1: what the engines send, inflated by a third party."""

    def test_compressed_frame(self, engine: ModuleType, role: str) -> None:
        connection = opened(engine, role)
        connection.send_text(JSON.decode())
        data = connection.data_to_send()
        (frame,) = parse_frames(data)
        assert (frame.fin, frame.rsv, frame.opcode) == (True, 4, 1)
        assert frame.masked is (role == 'client')
        assert len(frame.payload) < len(JSON)
        assert Reader().read(data) == [(1, JSON, True)]

    def test_binary_and_buffers(self, engine: ModuleType, role: str) -> None:
        connection = opened(engine, role)
        reader = Reader()
        for buffer in (JSON, bytearray(JSON), memoryview(JSON)):
            connection.send_binary(buffer)
        assert reader.read(connection.data_to_send()) == [(2, JSON, True)] * 3

    @pytest.mark.parametrize('nct', [False, True])
    def test_context_takeover(self, engine: ModuleType, role: str, nct: bool) -> None:
        # Our compressor keeps its window unless we announced otherwise
        # (server: deflate_no_context_takeover; client: its offer).
        connection = opened(engine, role, deflate_no_context_takeover=nct)
        expected = DeflateParams(nct, False, 12, 15)
        if role == 'client':
            expected = DeflateParams(False, nct, 12, 15)
        assert connection.deflate == expected
        reader = Reader(no_context_takeover=nct)
        sizes = []
        for _ in range(4):
            connection.send_text(JSON.decode())
            data = connection.data_to_send()
            sizes.append(len(parse_frames(data)[0].payload))
            assert reader.read(data) == [(1, JSON, True)]
        if nct:
            # Each message is compressed from an empty window, so each
            # inflates on its own.
            assert len(set(sizes)) == 1
            for frame in reader.frames:
                assert inflate_strictly(frame.payload, 15) == JSON
        else:
            # Later copies refer back to the first: much smaller.
            assert max(sizes[1:]) < sizes[0] // 2

    def test_client_offer_without_answer_keeps_no_context(
        self, engine: ModuleType
    ) -> None:
        # RFC 7692 §7.1.1.2: having offered client_no_context_takeover, the
        # client resets its compressor even if the answer omits it.
        client = opened(engine, 'client', deflate_no_context_takeover=True)
        assert client.deflate.client_no_context_takeover is True
        for _ in range(3):
            client.send_text(JSON.decode())
        for frame in parse_frames(client.data_to_send()):
            assert inflate_strictly(frame.payload, 15) == JSON

    @pytest.mark.parametrize('threshold', [0, 1, 128, 1000])
    def test_threshold(self, engine: ModuleType, role: str, threshold: int) -> None:
        connection = opened(engine, role, compression_threshold=threshold)
        reader = Reader()
        sizes = sorted({0, max(threshold - 1, 0), threshold, threshold + 1})
        for size in sizes:
            connection.send_binary(b'x' * size)
            (message,) = reader.read(connection.data_to_send())
            assert message == (2, b'x' * size, size >= threshold)
        # The threshold counts UTF-8 bytes: 64 characters, 128 bytes.
        connection.send_text('é' * 64)
        (message,) = reader.read(connection.data_to_send())
        assert message == (1, 'é'.encode() * 64, threshold <= 128)

    def test_below_threshold_identical_to_uncompressed(
        self, engine: ModuleType, role: str
    ) -> None:
        plain = open_engine(engine, role)
        compressed = opened(engine, role)
        for connection in (plain, compressed):
            connection.send_text('x' * 127)
            connection.send_binary(bytes(127))
        assert compressed.data_to_send() == plain.data_to_send()

    def test_control_frames_never_compressed(
        self, engine: ModuleType, role: str
    ) -> None:
        connection = opened(engine, role, compression_threshold=0)
        connection.send_ping(b'p' * 125)
        connection.send_pong(b'q' * 125)
        connection.send_close(1000, 'r' * 123)
        frames = parse_frames(connection.data_to_send())
        assert [(f.opcode, f.rsv) for f in frames] == [(9, 0), (10, 0), (8, 0)]
        assert frames[2].payload == b'\x03\xe8' + b'r' * 123

    def test_auto_replies_not_compressed(self, engine: ModuleType, role: str) -> None:
        connection = opened(engine, role, compression_threshold=0)
        connection.receive_data(incoming(role, 9, b'ping', rsv=0))
        connection.receive_data(incoming(role, 8, b'\x03\xe8', rsv=0))
        frames = parse_frames(connection.data_to_send())
        assert [(f.opcode, f.rsv, f.payload) for f in frames] == [
            (10, 0, b'ping'),
            (8, 0, b'\x03\xe8'),
        ]

    @pytest.mark.parametrize('window', [9, 10, 11])
    def test_window_honoured(self, engine: ModuleType, role: str, window: int) -> None:
        # A repeat 3000 bytes back is a match only for windows of 12 bits
        # and more; inflate_strictly() fails on one in a smaller window.
        block = random.Random(window).randbytes(3000)
        extensions = 'permessage-deflate'
        if role == 'client':
            extensions += f'; server_max_window_bits={window}'
            extensions += '; client_max_window_bits=15'
        connection = open_engine(
            engine, role, {**ON, 'deflate_window_bits': window}, extensions
        )
        connection.send_binary(block * 2)
        (frame,) = parse_frames(connection.data_to_send())
        assert inflate_strictly(frame.payload, window) == block * 2
        with pytest.raises(zlib.error):
            inflate_strictly(compress(block * 2), window)

    def test_client_window_from_answer(self, engine: ModuleType) -> None:
        # The server asked for client_max_window_bits=9: a 3000-byte repeat
        # must not become a match even though our own limit is 15.
        block = random.Random(1).randbytes(3000)
        client = open_engine(
            engine,
            'client',
            {**ON, 'deflate_window_bits': 15},
            'permessage-deflate; client_max_window_bits=9',
        )
        client.send_binary(block * 2)
        (frame,) = parse_frames(client.data_to_send())
        assert inflate_strictly(frame.payload, 9) == block * 2

    def test_level_0_stores(self, engine: ModuleType, role: str) -> None:
        connection = opened(engine, role, deflate_level=0)
        connection.send_binary(JSON)
        (frame,) = parse_frames(connection.data_to_send())
        assert JSON in frame.payload
        assert len(frame.payload) > len(JSON)
        assert inflate_strictly(frame.payload, 12) == JSON

    @pytest.mark.parametrize('mem_level', [1, 9])
    def test_mem_level(self, engine: ModuleType, role: str, mem_level: int) -> None:
        connection = opened(engine, role, deflate_mem_level=mem_level)
        data = random.Random(mem_level).randbytes(500) * 40
        connection.send_binary(data)
        assert Reader().read(connection.data_to_send()) == [(2, data, True)]

    def test_incompressible_still_compressed(
        self, engine: ModuleType, role: str
    ) -> None:
        connection = opened(engine, role)
        data = os.urandom(70000)
        connection.send_binary(data)
        (message,) = Reader().read(connection.data_to_send())
        assert message == (2, data, True)

    def test_uncompressed_between_compressed(
        self, engine: ModuleType, role: str
    ) -> None:
        connection = opened(engine, role)
        reader = Reader()
        connection.send_text(JSON.decode())
        connection.send_text('short')
        connection.send_text(JSON.decode())
        assert reader.read(connection.data_to_send()) == [
            (1, JSON, True),
            (1, b'short', False),
            (1, JSON, True),
        ]


class TestReceiving:
    """RFC 7692 §7.2.2: cases the vectors cannot hold (split-dependent)."""

    def test_corrupt_slice_wins_over_its_text(
        self, engine: ModuleType, role: str
    ) -> None:
        # README decision 18: when zlib rejects a slice, the bytes inflated
        # from that slice are not checked; bytes of earlier reads were.
        payload = compress(b'ok \xff more') + TAIL + b'\x06'
        frame = incoming(role, 1, payload)
        whole = opened(engine, role)
        whole.receive_data(frame)
        assert whole.error == (1007, 'invalid compressed data')
        split = opened(engine, role)
        split.receive_data(frame[:-1])
        split.receive_data(frame[-1:])
        assert split.error == (1007, 'invalid UTF-8 in text message')

    @pytest.mark.parametrize('read', [1, 7, 65536])
    def test_bytes_after_final_block_discarded_unread(
        self, engine: ModuleType, role: str, read: int
    ) -> None:
        # RFC 7692 §7.2.3.4's example, then 200 KiB that zlib would reject
        # and that is not valid UTF-8, in later frames: none of it is
        # inflated, checked or counted against max_size.
        final = bytes.fromhex('f3 48 cd c9 c9 07 00 00')
        junk = b'\x06\xff' * 1024
        first = incoming(role, 1, final)
        frames = bytes([first[0] & 0x7F]) + first[1:]
        for index in range(100):
            frame = incoming(role, 0, junk, rsv=0)
            frames += frame if index == 99 else bytes([frame[0] & 0x7F]) + frame[1:]
        frames += incoming(role, 1, compress(b'next'))
        connection = opened(engine, role, max_size=5)
        flags = 0
        for start in range(0, len(frames), read):
            flags |= connection.receive_data(frames[start : start + read])
        assert flags == MESSAGES
        assert connection.error is None
        assert [connection.next_message(), connection.next_message()] == [
            'Hello',
            'next',
        ]

    def test_large_message_in_small_reads(self, engine: ModuleType, role: str) -> None:
        data = random.Random(5).randbytes(100) * 3000
        connection = opened(engine, role, max_queue_bytes=None)
        frame = incoming(role, 2, compress(data, 12))
        for start in range(0, len(frame), 1000):
            connection.receive_data(frame[start : start + 1000])
        assert connection.next_message() == data


class TestLazyAllocation:
    """Engine contract: zlib state is allocated on first use (the twin).

    ``tracemalloc`` sees zlib's allocations in CPython's module, so these
    run on the twin only; the Rust engine's allocator is not traced.
    """

    @pytest.fixture
    def twin(self) -> ModuleType:
        return load_engine('python')

    def traced(self, call: Any) -> int:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            call()
            return tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()

    def test_nothing_until_used(self, twin: ModuleType) -> None:
        grown = self.traced(lambda: opened(twin, 'server', max_queue_bytes=None))
        assert grown < 16384
        server = opened(twin, 'server')
        # The compressor: (1 << 14) + (1 << 14) bytes plus state at 12/5.
        assert self.traced(lambda: server.send_text(JSON.decode())) > 32768
        server.data_to_send()

    def test_decompressor_on_first_compressed_message(self, twin: ModuleType) -> None:
        server = opened(twin, 'server')
        server.receive_data(incoming('server', 1, b'plain', rsv=0))
        kept: list[Any] = []
        grown = self.traced(
            lambda: kept.append(
                server.receive_data(incoming('server', 1, compress(JSON)))
            )
        )
        assert kept == [MESSAGES]
        # The 15-bit window (32 KiB) and zlib's state.
        assert grown > 32768

    @pytest.mark.parametrize('nct', [False, True])
    def test_no_context_takeover_frees(self, twin: ModuleType, nct: bool) -> None:
        server = opened(twin, 'server', deflate_no_context_takeover=nct)
        grown = self.traced(lambda: server.send_text(JSON.decode()))
        # Kept with context takeover; dropped after each message without.
        assert (grown > 32768) is not nct
        assert grown < 1024 or not nct


class TestPrepareFrame:
    """Engine contract, "Prepared frames": build once, send to many."""

    @pytest.mark.parametrize('data', ['Hello', '', 'κόσμε' * 100])
    def test_text(self, engine: ModuleType, data: str) -> None:
        assert engine.prepare_frame(data) == engine.encode_frame(1, data.encode())

    @pytest.mark.parametrize('size', [0, 125, 126, 65536])
    def test_binary(self, engine: ModuleType, size: int) -> None:
        data = bytes(range(256)) * (size // 256) + bytes(size % 256)
        for buffer in (data, bytearray(data), memoryview(data)):
            assert engine.prepare_frame(buffer) == engine.encode_frame(2, data)

    @pytest.mark.parametrize('window', range(9, 16))
    def test_compressed(self, engine: ModuleType, window: int) -> None:
        data = random.Random(window).randbytes(3000) * 2
        for payload, opcode in [(data, 2), (JSON.decode(), 1)]:
            frame = engine.prepare_frame(payload, deflate_window_bits=window)
            (parsed,) = parse_frames(frame)
            assert (parsed.fin, parsed.rsv, parsed.opcode) == (True, 4, opcode)
            assert not parsed.masked
            raw = payload if isinstance(payload, bytes) else payload.encode()
            assert inflate_strictly(parsed.payload, window) == raw

    def test_compressed_empty(self, engine: ModuleType) -> None:
        frame = engine.prepare_frame('', deflate_window_bits=12)
        (parsed,) = parse_frames(frame)
        assert parsed.rsv == 4
        assert inflate_strictly(parsed.payload, 12) == b''

    def test_fresh_stream_each_time(self, engine: ModuleType) -> None:
        first = engine.prepare_frame(JSON, deflate_window_bits=15)
        assert engine.prepare_frame(JSON, deflate_window_bits=15) == first

    @pytest.mark.parametrize('level', [0, 9])
    @pytest.mark.parametrize('mem_level', [1, 9])
    def test_options(self, engine: ModuleType, level: int, mem_level: int) -> None:
        frame = engine.prepare_frame(
            JSON, deflate_window_bits=10, deflate_mem_level=mem_level,
            deflate_level=level,
        )  # fmt: skip
        (parsed,) = parse_frames(frame)
        assert inflate_strictly(parsed.payload, 10) == JSON
        assert (JSON in parsed.payload) is (level == 0)

    @pytest.mark.parametrize(
        ('options', 'message'),
        [
            ({'deflate_window_bits': 8}, WINDOW_RANGE),
            ({'deflate_window_bits': 16}, WINDOW_RANGE),
            ({'deflate_mem_level': 0}, 'deflate_mem_level must be between 1 and 9'),
            ({'deflate_level': 10}, 'deflate_level must be between 0 and 9'),
        ],
    )
    def test_ranges(
        self, engine: ModuleType, options: dict[str, int], message: str
    ) -> None:
        with pytest.raises(ValueError) as info:
            engine.prepare_frame(b'x', **options)
        assert str(info.value) == message

    def test_types(self, engine: ModuleType) -> None:
        for data in (None, 1, ['x']):
            with pytest.raises(TypeError):
                engine.prepare_frame(data)
        for options in (
            {'deflate_window_bits': '12'},
            {'deflate_mem_level': None},
            {'deflate_level': 1.0},
        ):
            with pytest.raises(TypeError):
                engine.prepare_frame(b'x', **options)
        with pytest.raises(TypeError):
            engine.prepare_frame(b'x', 12)

    def test_types_before_values(self, engine: ModuleType) -> None:
        with pytest.raises(TypeError):
            engine.prepare_frame(None, deflate_window_bits=99)
        with pytest.raises(TypeError):
            engine.prepare_frame(b'x', deflate_window_bits=99, deflate_level='x')

    def test_surrogate(self, engine: ModuleType) -> None:
        with pytest.raises(UnicodeEncodeError):
            engine.prepare_frame('\ud800')


class TestSendPrepared:
    """``ServerConnection.send_prepared()`` (engine contract)."""

    def test_uncompressed(self, engine: ModuleType) -> None:
        server = open_engine(engine, 'server')
        frame = engine.prepare_frame('Hello')
        server.send_text('a')
        server.send_prepared(frame)
        server.send_prepared(bytearray(frame))
        assert server.data_to_send() == engine.encode_frame(1, b'a') + frame * 2

    def test_compressed_needs_negotiation(self, engine: ModuleType) -> None:
        server = open_engine(engine, 'server', ON)
        frame = engine.prepare_frame('Hello', deflate_window_bits=9)
        with pytest.raises(ValueError) as info:
            server.send_prepared(frame, compressed=True)
        assert str(info.value) == 'permessage-deflate was not negotiated'
        assert server.data_to_send() == b''

    @pytest.mark.parametrize('state', ['CONNECTING', 'HANDSHAKE', 'CLOSING', 'CLOSED'])
    def test_needs_open(self, engine: ModuleType, state: str) -> None:
        if state in ('CONNECTING', 'HANDSHAKE'):
            server = engine.ServerConnection(**ON)
            if state == 'HANDSHAKE':
                pair = EnginePair(engine, compression=True)
                pair.client.send_request()
                pair.to_server()
                server = pair.server
        else:
            server = opened(engine, 'server')
            if state == 'CLOSING':
                server.send_close()
            else:
                server.receive_eof()
            server.data_to_send()
        name = 'CONNECTING' if state == 'HANDSHAKE' else state
        for compressed in (False, True):
            with pytest.raises(InvalidState) as info:
                server.send_prepared(b'\x81\x00', compressed=compressed)
            assert str(info.value) == (
                f'send_prepared() is not allowed in state {name}'
            )
        assert server.data_to_send() == b''

    def test_types(self, engine: ModuleType) -> None:
        server = opened(engine, 'server')
        with pytest.raises(TypeError):
            server.send_prepared('\x81\x00')
        with pytest.raises(TypeError):
            server.send_prepared(b'\x81\x00', compressed=1)
        with pytest.raises(TypeError):
            server.send_prepared(b'\x81\x00', True)
        # Types before the state.
        closed = engine.ServerConnection()
        with pytest.raises(TypeError):
            closed.send_prepared(None)

    def test_not_on_client(self, engine: ModuleType) -> None:
        assert not hasattr(engine.ClientConnection('x'), 'send_prepared')

    @pytest.mark.parametrize('server_nct', [False, True])
    @pytest.mark.parametrize('client_nct', [False, True])
    @pytest.mark.parametrize('window', [9, 12])
    def test_interleaved(
        self,
        engine: ModuleType,
        server_nct: bool,
        client_nct: bool,
        window: int,
    ) -> None:
        """A prepared frame between per-connection compressed messages.

        After a compressed prepared frame, our compressor must start over:
        the client's window now ends with the prepared data, so a message
        that referred back to what our compressor remembers would inflate
        to the wrong bytes (or fail) on the client.
        """
        pair = EnginePair(
            engine,
            client_options={**ON, 'deflate_no_context_takeover': client_nct},
            server_options={**ON, 'deflate_no_context_takeover': server_nct},
        ).open()
        assert pair.server.deflate.server_max_window_bits == 12
        assert pair.server.deflate.server_no_context_takeover is server_nct
        broadcast = random.Random(window).randbytes(600)
        frame = engine.prepare_frame(broadcast, deflate_window_bits=window)
        sent: list[str | bytes] = []
        for index in range(4):
            pair.server.send_text(JSON.decode())
            pair.server.send_prepared(frame, compressed=True)
            pair.server.send_text(JSON.decode())
            pair.server.send_binary(JSON + bytes([index]))
            sent += [JSON.decode(), broadcast, JSON.decode(), JSON + bytes([index])]
            assert pair.transfer() == (MESSAGES, 0)
        assert pair.messages('client') == sent
        assert pair.client.error is None

    def test_frame_queued_as_given(self, engine: ModuleType) -> None:
        server = opened(engine, 'server')
        frame = engine.prepare_frame(JSON, deflate_window_bits=12)
        server.send_prepared(frame, compressed=True)
        assert server.pending_output == len(frame)
        assert server.data_to_send() == frame

    def test_reset_prevents_back_reference(self, engine: ModuleType) -> None:
        """The message after a prepared frame inflates on its own window."""
        server = opened(engine, 'server')
        server.send_text(JSON.decode())
        first = server.data_to_send()
        server.send_prepared(engine.prepare_frame(bytes(1000), deflate_window_bits=9),
                             compressed=True)  # fmt: skip
        server.send_text(JSON.decode())
        frames = parse_frames(first + server.data_to_send())
        # Fresh compressor: the third frame is as big as the first and needs
        # no earlier context.
        assert len(frames[2].payload) == len(frames[0].payload)
        assert inflate_strictly(frames[2].payload, 12) == JSON


@pytest.mark.parametrize('nct', [False, True])
def test_prepared_frames_across_engines(
    engines: tuple[ModuleType, ModuleType], nct: bool
) -> None:
    """Either engine's prepared frames, sent by either, read by either."""
    native, python = engines
    broadcast = JSON * 5
    for builder in (native, python):
        frame = builder.prepare_frame(broadcast, deflate_window_bits=12)
        for server_engine, client_engine in [(native, python), (python, native)]:
            pair = EnginePair(
                client_engine,
                server_engine=server_engine,
                client_options=ON,
                server_options={**ON, 'deflate_no_context_takeover': nct},
            ).open()
            for _ in range(3):
                pair.server.send_binary(broadcast)
                pair.server.send_prepared(frame, compressed=True)
            pair.transfer()
            assert pair.messages('client') == [broadcast] * 6
            assert pair.client.error is None


def zip_bomb(megabytes: int) -> bytes:
    """A raw deflate stream of `megabytes` MiB of zeros (~1 KiB per MiB).

    After a full flush, zlib compresses the same input to the same bytes,
    so one flushed segment is repeated; the stream ends at a sync flush,
    tail removed, as an RFC 7692 message does.
    """
    stream = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    zeros = bytes(1 << 20)
    first = stream.compress(zeros) + stream.flush(zlib.Z_FULL_FLUSH)
    segment = stream.compress(zeros) + stream.flush(zlib.Z_FULL_FLUSH)
    assert stream.compress(zeros) + stream.flush(zlib.Z_FULL_FLUSH) == segment
    assert segment.endswith(TAIL)
    return (first + segment * (megabytes - 1))[:-4]


@pytest.fixture(scope='module')
def gigabyte_bomb() -> bytes:
    bomb = zip_bomb(1024)
    # Proof that it is one: 1 GiB inflated, checked in bounded steps.
    check = zlib.decompressobj(wbits=-15)
    total = 0
    data = bomb + TAIL
    while data:
        total += len(check.decompress(data, 1 << 24))
        data = check.unconsumed_tail
    assert total == 1 << 30
    return bomb


class TestZipBomb:
    """RFC 7692 §8.1, CVE-2018-1000518, CVE-2016-10544: max_size inflated."""

    @pytest.mark.parametrize('role', ROLES)
    def test_gigabyte(
        self, engine: ModuleType, role: str, gigabyte_bomb: bytes
    ) -> None:
        assert len(gigabyte_bomb) < 1100 * 1024
        connection = opened(engine, role, max_size=1 << 20, max_queue_bytes=None)
        frame = incoming(role, 2, gigabyte_bomb)
        header = len(frame) - len(gigabyte_bomb)
        flags = []
        tracemalloc.start()
        try:
            # The peer sends 1 KiB of compressed data at a time.
            for start in range(0, len(frame), 1024):
                flags.append(connection.receive_data(frame[start : start + 1024]))
                if connection.state.name == 'CLOSED':
                    break
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        # 1 KiB inflates to about 1 MiB: the engine fails within two reads.
        assert len(flags) <= 2 + header // 1024
        assert flags[-1] == FAILED | OUTPUT | CLOSED
        assert connection.error == (1009, 'message exceeds 1048576 bytes')
        assert connection.next_message() is None
        # The twin's inflater lives in traced memory: bounded by max_size.
        # (For the Rust engine this only covers the Python objects.)
        assert peak < 3 << 20

    def test_fragmented_bomb(self, engine: ModuleType, role: str) -> None:
        # C-22: each fragment inflates below the limit, their sum above it.
        connection = opened(engine, role, max_size=1 << 20, max_queue_bytes=None)
        stream = zlib.compressobj(9, zlib.DEFLATED, -12, 9)
        piece = stream.compress(bytes(100_000)) + stream.flush(zlib.Z_SYNC_FLUSH)
        first = incoming(role, 2, piece)
        first = bytes([first[0] & 0x7F]) + first[1:]
        assert connection.receive_data(first) == 0
        more = incoming(role, 0, piece, rsv=0)
        more = bytes([more[0] & 0x7F]) + more[1:]
        for _ in range(9):
            assert connection.receive_data(more) == 0
        assert connection.receive_data(more) == FAILED | OUTPUT | CLOSED
        assert connection.error == (1009, 'message exceeds 1048576 bytes')

    def test_no_limit(self, engine: ModuleType, role: str) -> None:
        connection = opened(engine, role, max_size=None, max_queue_bytes=None)
        frame = incoming(role, 2, zip_bomb(20))
        assert connection.receive_data(frame) == MESSAGES
        assert connection.next_message() == bytes(20 << 20)


MESSAGE_COUNT = 10_000


def messages(seed: int) -> list[str | bytes]:
    """Push-server traffic: JSON-like text, binary, some below threshold."""
    rng = random.Random(seed)
    out: list[str | bytes] = []
    for index in range(MESSAGE_COUNT):
        kind = rng.randrange(4)
        if kind == 0:
            out.append(f'{{"seq": {index}, "ok": true}}')
        elif kind == 1:
            price = rng.randrange(10000) / 100
            out.append(JSON.decode().replace('101.25', str(price)) + 'ü' * (index % 7))
        elif kind == 2:
            out.append(JSON * rng.randrange(1, 4) + index.to_bytes(4, 'big'))
        else:
            out.append(rng.randbytes(rng.randrange(0, 300)))
    return out


def converse(pair: EnginePair, seed: int) -> None:
    """Send 10^4 messages each way, in batches, and check them all."""
    traffic = messages(seed)
    received: dict[str, list[str | bytes]] = {'client': [], 'server': []}
    for start in range(0, MESSAGE_COUNT, 250):
        for message in traffic[start : start + 250]:
            for sender in (pair.client, pair.server):
                if isinstance(message, str):
                    sender.send_text(message)
                else:
                    sender.send_binary(message)
        pair.transfer()
        received['client'] += pair.messages('client')
        received['server'] += pair.messages('server')
    assert pair.client.error is None and pair.server.error is None
    assert received['server'] == traffic
    assert received['client'] == traffic


@pytest.mark.slow
@pytest.mark.parametrize('context', ['takeover', 'no-context-takeover'])
def test_round_trip_between_engines(
    engines: tuple[ModuleType, ModuleType], context: str
) -> None:
    """C-28: 10^4 messages each way, native client ↔ twin server and back."""
    native, python = engines
    nct = context == 'no-context-takeover'
    for client_engine, server_engine in [(native, python), (python, native)]:
        pair = EnginePair(
            client_engine,
            server_engine=server_engine,
            client_options={**ON, 'deflate_no_context_takeover': nct},
            server_options={**ON, 'deflate_no_context_takeover': nct,
                            'max_queue': None, 'max_queue_bytes': None},
        ).open()  # fmt: skip
        assert pair.server.deflate == DeflateParams(nct, nct, 12, 12)
        converse(pair, seed=1 if nct else 2)


@pytest.mark.parametrize('chunk_size', [None, 7])
def test_round_trip_same_engine(engine: ModuleType, chunk_size: int | None) -> None:
    """Both ends the same engine, delivered whole or in 7-byte reads."""
    pair = EnginePair(engine, compression=True, chunk_size=chunk_size).open()
    traffic = messages(3)[:300]
    for message in traffic:
        for sender in (pair.client, pair.server):
            if isinstance(message, str):
                sender.send_text(message)
            else:
                sender.send_binary(message)
        pair.transfer()
    assert pair.messages('server') == traffic
    assert pair.messages('client') == traffic
