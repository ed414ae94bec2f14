"""UTF-8 validation (RFC 3629, RFC 6455 §8.1): whole and incremental.

The incremental validator must fail at the first byte that makes the text
impossible to complete (Autobahn 6.4.x). A byte-level state machine written
from RFC 3629's table is the reference; every prefix of up to four bytes
built from the interesting byte values is checked against it, fed whole and
split at every point.
"""

from __future__ import annotations

import itertools
from types import ModuleType

import pytest
from hypothesis import given, strategies as st

from ._vectors import as_buffer

# RFC 3629 §4 (Unicode Table 3-7): the second-byte range after each lead.
_SECOND = {
    **{lead: (0x80, 0xBF) for lead in range(0xC2, 0xE0)},
    0xE0: (0xA0, 0xBF),
    **{lead: (0x80, 0xBF) for lead in range(0xE1, 0xED)},
    0xED: (0x80, 0x9F),
    0xEE: (0x80, 0xBF),
    0xEF: (0x80, 0xBF),
    0xF0: (0x90, 0xBF),
    0xF1: (0x80, 0xBF),
    0xF2: (0x80, 0xBF),
    0xF3: (0x80, 0xBF),
    0xF4: (0x80, 0x8F),
}


def reference(data: bytes) -> tuple[bool, bool]:
    """Return (prefix of valid UTF-8, complete valid UTF-8) for `data`."""
    need = 0
    first = True
    lead = 0
    for byte in data:
        if need == 0:
            if byte < 0x80:
                continue
            if byte not in _SECOND:
                return False, False
            lead = byte
            need = 1 if byte < 0xE0 else 2 if byte < 0xF0 else 3
            first = True
            continue
        low, high = _SECOND[lead] if first else (0x80, 0xBF)
        if not low <= byte <= high:
            return False, False
        first = False
        need -= 1
    return True, need == 0


INTERESTING = sorted(
    {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF}
    | set(range(0xE0, 0x100))
)


def prefixes() -> list[bytes]:
    """Every 1- and 2-byte string, and 3-4 byte strings of interesting bytes."""
    cases = [bytes([a]) for a in range(256)]
    cases += [bytes([a, b]) for a in range(256) for b in range(256)]
    continuation = [0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0]
    for lead in range(0xE0, 0xF8):
        for rest in itertools.product(continuation, repeat=2):
            cases.append(bytes([lead, *rest]))
    for lead in range(0xF0, 0xF6):
        for rest in itertools.product(continuation, repeat=3):
            cases.append(bytes([lead, *rest]))
    return cases


PREFIXES = prefixes()


class TestValidateUtf8:
    """RFC 3629: whole-buffer validation."""

    def test_prefixes(self, engine: ModuleType) -> None:
        for data in PREFIXES:
            assert engine.validate_utf8(data) is reference(data)[1], data.hex()

    @pytest.mark.parametrize(
        'data',
        [
            b'',
            b'plain ascii',
            'κόσμε'.encode(),
            '\U0010ffff'.encode(),
            '\ud7ff'.encode(),
        ],
    )
    def test_valid(self, engine: ModuleType, data: bytes) -> None:
        assert engine.validate_utf8(data) is True

    @pytest.mark.parametrize(
        'data',
        [b'\xed\xa0\x80', b'\xf4\x90\x80\x80', b'\xc0\xaf', b'a\xc3', b'\xff', b'\x80'],
    )
    def test_invalid(self, engine: ModuleType, data: bytes) -> None:
        assert engine.validate_utf8(data) is False

    @pytest.mark.parametrize('kind', ['bytes', 'bytearray', 'memoryview', 'strided'])
    def test_buffer_types(self, engine: ModuleType, kind: str) -> None:
        assert engine.validate_utf8(as_buffer('καλημέρα'.encode(), kind)) is True
        assert engine.validate_utf8(as_buffer(b'ok\xed\xbf\xbf', kind)) is False

    def test_wrong_type(self, engine: ModuleType) -> None:
        with pytest.raises(TypeError):
            engine.validate_utf8('text')

    @given(st.binary(max_size=64))
    def test_random_bytes(self, engine: ModuleType, data: bytes) -> None:
        try:
            data.decode('utf-8')
        except UnicodeDecodeError:
            valid = False
        else:
            valid = True
        assert engine.validate_utf8(data) is valid
        assert reference(data)[1] is valid

    @given(st.text(max_size=64))
    def test_random_text(self, engine: ModuleType, text: str) -> None:
        data = text.encode('utf-8', 'surrogatepass')
        assert engine.validate_utf8(data) is reference(data)[1]


class TestUtf8Validator:
    """RFC 6455 §8.1 and Autobahn 6.4: fail fast, across pieces."""

    def test_prefixes_fed_whole(self, engine: ModuleType) -> None:
        for data in PREFIXES:
            validator = engine.Utf8Validator()
            prefix_ok, complete = reference(data)
            assert validator.feed(data) is prefix_ok, data.hex()
            assert validator.finish() is complete, data.hex()

    def test_prefixes_fed_byte_by_byte(self, engine: ModuleType) -> None:
        for data in PREFIXES:
            if len(data) < 2:
                continue
            validator = engine.Utf8Validator()
            for end in range(1, len(data) + 1):
                expected = reference(data[:end])[0]
                assert validator.feed(data[end - 1 : end]) is expected, (
                    data.hex(),
                    end,
                )

    def test_split_at_every_point(self, engine: ModuleType) -> None:
        samples = [
            'aé€𝄞z'.encode(),
            b'ok' + '𝄞'.encode()[:3] + b'\xc0',
            b'\xe0\xa0\x80\xed\x9f\xbf\xf4\x8f\xbf\xbf',
            b'abc\xed\xa0\x80',
        ]
        for data in samples:
            for point in range(len(data) + 1):
                validator = engine.Utf8Validator()
                first = validator.feed(data[:point])
                second = validator.feed(data[point:])
                assert first is reference(data[:point])[0]
                assert second is reference(data)[0], (data.hex(), point)
                assert validator.finish() is reference(data)[1]

    def test_keeps_failing(self, engine: ModuleType) -> None:
        validator = engine.Utf8Validator()
        assert validator.feed(b'\xff') is False
        assert validator.feed(b'a') is False
        assert validator.feed(b'') is False
        assert validator.finish() is False

    def test_finish_does_not_end_the_text(self, engine: ModuleType) -> None:
        validator = engine.Utf8Validator()
        assert validator.feed(b'a\xe2\x82') is True
        assert validator.finish() is False
        assert validator.feed(b'\xac') is True
        assert validator.finish() is True

    def test_empty(self, engine: ModuleType) -> None:
        validator = engine.Utf8Validator()
        assert validator.finish() is True
        assert validator.feed(b'') is True
        assert validator.finish() is True

    def test_reset(self, engine: ModuleType) -> None:
        validator = engine.Utf8Validator()
        assert validator.feed(b'\xc3') is True
        validator.reset()
        assert validator.feed(b'a') is True
        assert validator.finish() is True
        assert validator.feed(b'\x80') is False
        validator.reset()
        assert validator.feed('é'.encode()) is True
        assert validator.finish() is True

    @pytest.mark.parametrize('kind', ['bytes', 'bytearray', 'memoryview', 'strided'])
    def test_buffer_types(self, engine: ModuleType, kind: str) -> None:
        validator = engine.Utf8Validator()
        assert validator.feed(as_buffer('κό'.encode()[:3], kind)) is True
        assert validator.feed(as_buffer('κό'.encode()[3:], kind)) is True
        assert validator.finish() is True

    def test_wrong_type(self, engine: ModuleType) -> None:
        with pytest.raises(TypeError):
            engine.Utf8Validator().feed('text')

    @given(data=st.binary(max_size=40), cuts=st.lists(st.integers(0, 40), max_size=4))
    def test_random_pieces(
        self, engine: ModuleType, data: bytes, cuts: list[int]
    ) -> None:
        points = sorted({min(cut, len(data)) for cut in cuts} | {0, len(data)})
        validator = engine.Utf8Validator()
        for start, end in itertools.pairwise(points):
            assert validator.feed(data[start:end]) is reference(data[:end])[0]
        assert validator.finish() is reference(data)[1]
