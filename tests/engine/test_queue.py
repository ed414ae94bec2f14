"""The inbound queue: high and low water marks, the PAUSE flag, resuming.

The engine never refuses input because of the queue; it reports a full
queue with ``PAUSE`` and ``reading_paused`` and lets the adapter stop
reading until ``next_message()`` drains it to a quarter of the mark.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from gyrfalcon.protocol.common import CLOSED, MESSAGES, OUTPUT, PAUSE, State
from gyrfalcon.testing.pair import STANDARD_REQUEST, open_engine

KEY = bytes.fromhex('37fa213d')


def text(payload: bytes, opcode: int = 1, fin: bool = True) -> bytes:
    """A masked frame from a client."""
    data = bytes(b ^ KEY[i % 4] for i, b in enumerate(payload))
    return bytes([(0x80 if fin else 0) | opcode, 0x80 | len(payload)]) + KEY + data


def server(engine: ModuleType, **options: Any) -> Any:
    return open_engine(engine, 'server', options)


class TestHighWaterMarks:
    """``max_queue`` and ``max_queue_bytes``."""

    def test_count_mark(self, engine: ModuleType) -> None:
        connection = server(engine, max_queue=4)
        for _ in range(3):
            assert connection.receive_data(text(b'm')) == MESSAGES
        assert connection.reading_paused is False
        assert connection.receive_data(text(b'm')) == MESSAGES | PAUSE
        assert connection.reading_paused is True
        assert connection.queued_messages == 4
        assert connection.queued_bytes == 4

    def test_byte_mark(self, engine: ModuleType) -> None:
        connection = server(engine, max_queue_bytes=100)
        assert connection.receive_data(text(b'x' * 60)) == MESSAGES
        assert connection.receive_data(text(b'x' * 39)) == MESSAGES
        assert connection.queued_bytes == 99
        assert connection.receive_data(text(b'x')) == MESSAGES | PAUSE

    def test_text_counts_utf8_bytes(self, engine: ModuleType) -> None:
        connection = server(engine, max_queue_bytes=4)
        assert connection.receive_data(text('éé'.encode())) == MESSAGES | PAUSE
        assert connection.queued_bytes == 4

    def test_input_never_refused(self, engine: ModuleType) -> None:
        connection = server(engine, max_queue=1)
        stream = b''.join(text(b'%d' % i) for i in range(10))
        assert connection.receive_data(stream) == MESSAGES | PAUSE
        assert connection.queued_messages == 10

    def test_pause_reported_by_every_call(self, engine: ModuleType) -> None:
        connection = server(engine, max_queue=1)
        assert connection.receive_data(text(b'a')) == MESSAGES | PAUSE
        frame = text(b'partial')
        assert connection.receive_data(frame[:3]) == PAUSE
        assert connection.receive_data(text(b'', opcode=9)[:0]) == 0
        assert connection.receive_data(frame[3:]) == MESSAGES | PAUSE
        assert connection.receive_data(text(b'p', opcode=9)) == OUTPUT | PAUSE

    def test_no_marks(self, engine: ModuleType) -> None:
        connection = server(engine, max_queue=None, max_queue_bytes=None)
        stream = b''.join(text(b'x' * 100) for _ in range(200))
        assert connection.receive_data(stream) == MESSAGES
        assert connection.reading_paused is False
        assert connection.queued_messages == 200
        assert connection.queued_bytes == 20000

    def test_defaults(self, engine: ModuleType) -> None:
        connection = server(engine)
        stream = b''.join(text(b'') for _ in range(31))
        assert connection.receive_data(stream) == MESSAGES
        assert connection.receive_data(text(b'')) == MESSAGES | PAUSE

    def test_default_byte_mark(self, engine: ModuleType) -> None:
        connection = server(engine, max_queue=None)
        size = 4194304
        payload = bytes(size)
        header = bytes([0x82, 0xFF]) + size.to_bytes(8, 'big') + b'\x00' * 4
        assert connection.receive_data(header + payload[:-1]) == 0
        assert connection.receive_data(payload[-1:]) == MESSAGES | PAUSE


class TestLowWaterMarks:
    """Reading resumes at a quarter of each mark (both must hold)."""

    def test_count(self, engine: ModuleType) -> None:
        connection = server(engine, max_queue=8)
        connection.receive_data(b''.join(text(b'm') for _ in range(8)))
        assert connection.reading_paused is True
        for left in range(7, 2, -1):
            assert connection.next_message() == 'm'
            assert connection.queued_messages == left
            assert connection.reading_paused is True
        assert connection.next_message() == 'm'
        assert connection.queued_messages == 2
        assert connection.reading_paused is False

    def test_bytes(self, engine: ModuleType) -> None:
        connection = server(engine, max_queue_bytes=100)
        connection.receive_data(text(b'a' * 74) + text(b'b' * 25) + text(b'c' * 25))
        assert connection.reading_paused is True
        assert connection.next_message() == 'a' * 74
        assert connection.queued_bytes == 50
        assert connection.reading_paused is True
        assert connection.next_message() == 'b' * 25
        assert connection.queued_bytes == 25
        assert connection.reading_paused is False

    def test_both_must_hold(self, engine: ModuleType) -> None:
        connection = server(engine, max_queue=4, max_queue_bytes=40)
        connection.receive_data(text(b'x' * 40) + text(b'') + text(b'') + text(b''))
        assert connection.reading_paused is True
        assert connection.next_message() == 'x' * 40
        # 3 messages left: the byte mark holds (0 <= 10), the count does not.
        assert connection.reading_paused is True
        assert connection.next_message() == ''
        assert connection.next_message() == ''
        assert connection.reading_paused is False

    def test_mark_of_one(self, engine: ModuleType) -> None:
        connection = server(engine, max_queue=1)
        connection.receive_data(text(b'a') + text(b'b'))
        assert connection.next_message() == 'a'
        assert connection.reading_paused is True
        assert connection.next_message() == 'b'
        assert connection.reading_paused is False
        assert connection.next_message() is None

    def test_pause_again(self, engine: ModuleType) -> None:
        connection = server(engine, max_queue=2)
        connection.receive_data(text(b'a') + text(b'b'))
        connection.next_message()
        connection.next_message()
        assert connection.reading_paused is False
        assert connection.receive_data(text(b'c')) == MESSAGES
        assert connection.receive_data(text(b'd')) == MESSAGES | PAUSE

    def test_not_paused_by_output_calls(self, engine: ModuleType) -> None:
        connection = server(engine, max_queue=1)
        connection.receive_data(text(b'a'))
        connection.send_text('x')
        assert connection.reading_paused is True
        assert connection.next_message() == 'a'
        assert connection.reading_paused is False


class TestQueueAcrossStates:
    """The queue outlives the connection; its messages stay readable."""

    def test_after_close(self, engine: ModuleType) -> None:
        connection = server(engine, max_queue=2)
        flags = connection.receive_data(
            text(b'a') + text(b'b') + text(b'\x03\xe8', opcode=8)
        )
        assert flags & PAUSE
        assert flags & CLOSED
        assert connection.state is State.CLOSED
        assert [connection.next_message(), connection.next_message()] == ['a', 'b']
        assert connection.reading_paused is False

    def test_eof_returns_only_closed(self, engine: ModuleType) -> None:
        connection = server(engine, max_queue=1)
        connection.receive_data(text(b'a'))
        assert connection.receive_eof() == CLOSED
        assert connection.reading_paused is True

    def test_pause_from_accept(self, engine: ModuleType) -> None:
        connection = engine.ServerConnection(max_queue=2)
        connection.receive_data(STANDARD_REQUEST + text(b'a') + text(b'b'))
        assert connection.accept() == MESSAGES | PAUSE
        assert connection.reading_paused is True

    @pytest.mark.parametrize('role', ['server', 'client'])
    def test_client_and_server_alike(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role, {'max_queue': 1})
        frame = text(b'z') if role == 'server' else b'\x81\x01z'
        assert connection.receive_data(frame) == MESSAGES | PAUSE
        assert connection.next_message() == 'z'
        assert connection.reading_paused is False
