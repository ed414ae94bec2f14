"""Frames (RFC 6455 §5.2): ``encode_frame()`` and frames through an engine.

Every frame is checked both ways where it makes sense: encoding gives the
wire bytes, and an engine fed those bytes gives the payload back.
"""

from __future__ import annotations

import tracemalloc
from types import ModuleType

import pytest
from hypothesis import given, strategies as st

from gyrfalcon.protocol.common import CLOSED, FAILED, MESSAGES, OUTPUT
from gyrfalcon.testing.pair import open_engine

from ._vectors import as_buffer

KEY = bytes.fromhex('37fa213d')


def reference_mask(data: bytes, key: bytes) -> bytes:
    return bytes(byte ^ key[i % 4] for i, byte in enumerate(data))


class TestEncodeFrame:
    """RFC 6455 §5.2, §5.7: building frames."""

    def test_rfc_unmasked_hello(self, engine: ModuleType) -> None:
        assert engine.encode_frame(1, b'Hello') == bytes.fromhex('810548656c6c6f')

    def test_rfc_masked_hello(self, engine: ModuleType) -> None:
        frame = engine.encode_frame(1, b'Hello', mask=KEY)
        assert frame == bytes.fromhex('818537fa213d7f9f4d5158')

    def test_rfc_fragments(self, engine: ModuleType) -> None:
        first = engine.encode_frame(1, b'Hel', fin=False)
        last = engine.encode_frame(0, b'lo')
        assert first + last == bytes.fromhex('010348656c80026c6f')

    def test_rfc_ping_and_masked_pong(self, engine: ModuleType) -> None:
        assert engine.encode_frame(9, b'Hello') == bytes.fromhex('890548656c6c6f')
        pong = engine.encode_frame(10, b'Hello', mask=KEY)
        assert pong == bytes.fromhex('8a8537fa213d7f9f4d5158')

    def test_rfc_256_bytes(self, engine: ModuleType) -> None:
        payload = bytes(range(256))
        assert engine.encode_frame(2, payload) == bytes.fromhex('827e0100') + payload

    def test_rfc_64_kib(self, engine: ModuleType) -> None:
        payload = bytes(65536)
        frame = engine.encode_frame(2, payload)
        assert frame == bytes.fromhex('827f0000000000010000') + payload

    @pytest.mark.parametrize(
        ('length', 'header'),
        [
            (0, '8200'),
            (125, '827d'),
            (126, '827e007e'),
            (65535, '827effff'),
            (65536, '827f0000000000010000'),
        ],
    )
    def test_minimal_length(self, engine: ModuleType, length: int, header: str) -> None:
        payload = bytes(length)
        assert engine.encode_frame(2, payload) == bytes.fromhex(header) + payload
        masked = engine.encode_frame(2, payload, mask=KEY)
        head = bytes.fromhex(header)
        head = bytes([head[0], head[1] | 0x80]) + head[2:]
        assert masked == head + KEY + reference_mask(payload, KEY)

    def test_bits(self, engine: ModuleType) -> None:
        assert engine.encode_frame(1, b'', fin=False)[0] == 0x01
        assert engine.encode_frame(1, b'', rsv1=True)[0] == 0xC1
        assert engine.encode_frame(0, b'', fin=False, rsv1=True)[0] == 0x40
        assert engine.encode_frame(15, b'')[0] == 0x8F
        assert engine.encode_frame(3, b'x') == b'\x83\x01x'

    @pytest.mark.parametrize('opcode', [-1, 16, 256])
    def test_invalid_opcode(self, engine: ModuleType, opcode: int) -> None:
        with pytest.raises(ValueError) as info:
            engine.encode_frame(opcode, b'')
        assert str(info.value) == f'invalid opcode {opcode}'

    @pytest.mark.parametrize('opcode', [8, 9, 10, 11, 15])
    def test_control_frame_limits(self, engine: ModuleType, opcode: int) -> None:
        assert len(engine.encode_frame(opcode, bytes(125))) == 127
        with pytest.raises(ValueError) as info:
            engine.encode_frame(opcode, bytes(126))
        assert str(info.value) == 'control frame payload exceeds 125 bytes'
        with pytest.raises(ValueError) as info:
            engine.encode_frame(opcode, b'', fin=False)
        assert str(info.value) == 'control frame must not be fragmented'

    @pytest.mark.parametrize('key', [b'', b'abc', b'abcde'])
    def test_invalid_mask(self, engine: ModuleType, key: bytes) -> None:
        with pytest.raises(ValueError) as info:
            engine.encode_frame(1, b'x', mask=key)
        assert str(info.value) == 'mask must be 4 bytes'

    def test_error_order(self, engine: ModuleType) -> None:
        # Opcode, then control frame rules, then the mask.
        with pytest.raises(ValueError, match='invalid opcode 16'):
            engine.encode_frame(16, bytes(200), fin=False, mask=b'')
        with pytest.raises(ValueError, match='exceeds 125 bytes'):
            engine.encode_frame(9, bytes(200), fin=False, mask=b'')
        with pytest.raises(ValueError, match='must not be fragmented'):
            engine.encode_frame(9, b'', fin=False, mask=b'')

    def test_wrong_types(self, engine: ModuleType) -> None:
        with pytest.raises(TypeError):
            engine.encode_frame(1, 'text')
        with pytest.raises(TypeError):
            engine.encode_frame('1', b'x')
        with pytest.raises(TypeError):
            engine.encode_frame(1, b'x', mask='abcd')
        with pytest.raises(TypeError):
            engine.encode_frame(1, b'x', True)

    @pytest.mark.parametrize('kind', ['bytes', 'bytearray', 'memoryview', 'strided'])
    def test_buffer_types(self, engine: ModuleType, kind: str) -> None:
        payload = bytes(range(30))
        frame = engine.encode_frame(
            2, as_buffer(payload, kind), mask=as_buffer(KEY, kind)
        )
        assert type(frame) is bytes
        assert frame == b'\x82\x9e' + KEY + reference_mask(payload, KEY)


class TestFramesThroughEngine:
    """RFC 6455 §5.2-§5.4: what ``encode_frame()`` builds, an engine parses."""

    @given(
        payload=st.binary(max_size=300),
        pieces=st.integers(min_value=1, max_value=5),
        text=st.booleans(),
    )
    def test_round_trip(
        self, engine: ModuleType, payload: bytes, pieces: int, text: bool
    ) -> None:
        if text:
            message: str | bytes = payload.decode('latin-1')
            data = message.encode('utf-8')
        else:
            message = data = payload
        size = -(-len(data) // pieces) or 1
        chunks = [data[i : i + size] for i in range(0, len(data), size)] or [b'']
        stream = b''
        for index, chunk in enumerate(chunks):
            opcode = (1 if text else 2) if index == 0 else 0
            stream += engine.encode_frame(
                opcode, chunk, fin=index == len(chunks) - 1, mask=KEY
            )
        server = open_engine(engine, 'server')
        assert server.receive_data(stream) == MESSAGES
        assert server.next_message() == message
        client = open_engine(engine, 'client')
        unmasked = b''.join(
            engine.encode_frame(
                ((1 if text else 2) if i == 0 else 0), c, fin=i == len(chunks) - 1
            )
            for i, c in enumerate(chunks)
        )
        assert client.receive_data(unmasked) == MESSAGES
        assert client.next_message() == message

    def test_reserved_opcode_built_and_refused(self, engine: ModuleType) -> None:
        server = open_engine(engine, 'server')
        flags = server.receive_data(engine.encode_frame(5, b'', mask=KEY))
        assert flags == FAILED | OUTPUT | CLOSED
        assert server.error == (1002, 'received frame with reserved opcode 5')

    def test_rsv1_built_and_refused(self, engine: ModuleType) -> None:
        server = open_engine(engine, 'server')
        server.receive_data(engine.encode_frame(2, b'x', rsv1=True, mask=KEY))
        assert server.error == (1002, 'received frame with reserved bits set')

    def test_payload_streams_without_header_repeat(self, engine: ModuleType) -> None:
        # A frame trickled in pieces unmasks each piece at the right key
        # offset (RFC 6455 §5.3: octet i uses key octet i MOD 4).
        payload = bytes(range(97))
        frame = engine.encode_frame(2, payload, mask=KEY)
        for size in (1, 2, 3, 5, 7):
            server = open_engine(engine, 'server')
            flags = 0
            for start in range(0, len(frame), size):
                flags |= server.receive_data(frame[start : start + size])
            assert flags == MESSAGES
            assert server.next_message() == payload


class TestMemory:
    """RFC 6455 §10.4: memory follows the bytes received, never a claim."""

    @pytest.mark.parametrize('opcode', [1, 2])
    def test_trickled_frame(self, engine: ModuleType, opcode: int) -> None:
        # One object per read would cost ~40 bytes per byte here (aiohttp
        # PYSEC-2026-4389); the message itself is 64 KiB.
        payload = b'a' * 65536
        frame = engine.encode_frame(opcode, payload, mask=KEY)
        server = open_engine(engine, 'server', {'max_queue_bytes': None})
        tracemalloc.start()
        try:
            for index in range(len(frame)):
                server.receive_data(frame[index : index + 1])
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 4 * len(payload)
        assert server.next_message() == (payload.decode() if opcode == 1 else payload)

    def test_claimed_length_not_allocated(self, engine: ModuleType) -> None:
        # RUSTSEC-2022-0035: a 2**62-byte claim must cost nothing up front.
        server = open_engine(engine, 'server', {'max_size': None})
        header = b'\x82\xff' + (1 << 62).to_bytes(8, 'big') + KEY
        tracemalloc.start()
        try:
            assert server.receive_data(header + bytes(1000)) == 0
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 1 << 20
        assert server.state.name == 'OPEN'
