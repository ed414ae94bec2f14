"""Masking (RFC 6455 §5.3): ``apply_mask()`` against a byte-by-byte reference."""

from __future__ import annotations

from types import ModuleType

import pytest
from hypothesis import given, strategies as st

from ._vectors import as_buffer

KEY = bytes.fromhex('37fa213d')


def reference_mask(data: bytes, key: bytes) -> bytes:
    return bytes(byte ^ key[i % 4] for i, byte in enumerate(data))


class TestApplyMask:
    """RFC 6455 §5.3: client-to-server masking."""

    def test_rfc_example(self, engine: ModuleType) -> None:
        # RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
        assert engine.apply_mask(b'Hello', KEY) == bytes.fromhex('7f9f4d5158')

    def test_every_length_and_alignment(self, engine: ModuleType) -> None:
        backing = bytes((i * 37 + 11) % 256 for i in range(64 + 8))
        for offset in range(8):
            for length in range(65):
                data = memoryview(backing)[offset : offset + length]
                assert engine.apply_mask(data, KEY) == reference_mask(
                    bytes(data), KEY
                ), (offset, length)

    def test_key_alignment(self, engine: ModuleType) -> None:
        # The key is read from an unaligned position of a larger buffer too.
        backing = b'\x00' + KEY + b'\x00'
        data = bytes(range(50))
        for start in range(2):
            key = memoryview(backing)[start + 0 : start + 4]
            assert engine.apply_mask(data, key) == reference_mask(data, bytes(key))

    def test_large_buffer(self, engine: ModuleType) -> None:
        data = bytes(range(256)) * 300 + b'tail'
        assert engine.apply_mask(data, KEY) == reference_mask(data, KEY)

    @pytest.mark.parametrize('kind', ['bytes', 'bytearray', 'memoryview', 'strided'])
    def test_buffer_types(self, engine: ModuleType, kind: str) -> None:
        data = bytes(range(40))
        masked = engine.apply_mask(as_buffer(data, kind), as_buffer(KEY, kind))
        assert type(masked) is bytes
        assert masked == reference_mask(data, KEY)

    def test_returns_new_bytes(self, engine: ModuleType) -> None:
        data = bytearray(b'abcdef')
        masked = engine.apply_mask(data, b'\x00\x00\x00\x00')
        assert masked == b'abcdef'
        data[0] = 0
        assert masked == b'abcdef'

    def test_empty(self, engine: ModuleType) -> None:
        assert engine.apply_mask(b'', KEY) == b''

    @pytest.mark.parametrize(
        'key', [b'', b'\x01', b'\x01\x02\x03', b'\x01' * 5, b'\x00' * 8]
    )
    def test_mask_must_be_4_bytes(self, engine: ModuleType, key: bytes) -> None:
        with pytest.raises(ValueError) as info:
            engine.apply_mask(b'data', key)
        assert str(info.value) == 'mask must be 4 bytes'

    @pytest.mark.parametrize('bad', ['text', 42, None])
    def test_wrong_types(self, engine: ModuleType, bad: object) -> None:
        with pytest.raises(TypeError):
            engine.apply_mask(bad, KEY)
        with pytest.raises(TypeError):
            engine.apply_mask(b'data', bad)

    @given(data=st.binary(max_size=300), key=st.binary(min_size=4, max_size=4))
    def test_involution(self, engine: ModuleType, data: bytes, key: bytes) -> None:
        masked = engine.apply_mask(data, key)
        assert masked == reference_mask(data, key)
        assert engine.apply_mask(masked, key) == data
