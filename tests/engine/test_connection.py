"""The connection state machine (RFC 6455 §5-§7), both roles.

States, the closing handshake both ways, ``fail()``, EOF, the close results,
the frames each ``send_*`` call produces, and the exact exception for every
call made in a state that does not allow it.
"""

from __future__ import annotations

import zlib
from types import ModuleType
from typing import Any

import pytest

from gyrfalcon.errors import InvalidState
from gyrfalcon.protocol.common import (
    CLOSE_RECEIVED,
    CLOSED,
    DEFERRED,
    FAILED,
    MESSAGES,
    OUTPUT,
    PAUSE,
    PONG,
    Flags,
    State,
)
from gyrfalcon.testing.pair import STANDARD_REQUEST, open_engine

from ._vectors import as_buffer

KEY = bytes.fromhex('37fa213d')
ROLES = ('server', 'client')


def xor(data: bytes) -> bytes:
    return bytes(b ^ KEY[i % 4] for i, b in enumerate(data))


def out(role: str, opcode: int, payload: bytes = b'') -> bytes:
    """The frame an engine in `role` sends (clients mask with the RFC key)."""
    if len(payload) < 126:
        length = bytes([len(payload)])
    elif len(payload) < 65536:
        length = bytes([126]) + len(payload).to_bytes(2, 'big')
    else:
        length = bytes([127]) + len(payload).to_bytes(8, 'big')
    if role == 'server':
        return bytes([0x80 | opcode]) + length + payload
    return bytes([0x80 | opcode, 0x80 | length[0]]) + length[1:] + KEY + xor(payload)


def incoming(role: str, opcode: int, payload: bytes = b'', fin: bool = True) -> bytes:
    """A frame the engine in `role` receives."""
    first = (0x80 if fin else 0) | opcode
    if role == 'server':
        return bytes([first, 0x80 | len(payload)]) + KEY + xor(payload)
    return bytes([first, len(payload)]) + payload


def close(code: int, reason: str = '') -> bytes:
    return code.to_bytes(2, 'big') + reason.encode()


def connecting(engine: ModuleType, role: str) -> Any:
    if role == 'server':
        return engine.ServerConnection()
    return engine.ClientConnection('server.example.com')


def in_state(engine: ModuleType, role: str, state: State) -> Any:
    """A connection brought to `state` the ordinary way."""
    if state is State.CONNECTING:
        return connecting(engine, role)
    connection = open_engine(engine, role)
    if state is State.CLOSING:
        connection.send_close()
    elif state is State.CLOSED:
        connection.receive_eof()
    connection.data_to_send()
    return connection


@pytest.fixture(params=ROLES)
def role(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class TestStates:
    """RFC 6455 §4, §7: the four states."""

    def test_initial(self, engine: ModuleType, role: str) -> None:
        connection = connecting(engine, role)
        assert connection.state is State.CONNECTING
        assert connection.close_expected() is False
        for name in (
            'request',
            'response',
            'close_sent',
            'close_received',
            'close_code',
            'close_reason',
            'error',
            'last_pong',
        ):
            assert getattr(connection, name) is None, name
        assert connection.queued_messages == 0
        assert connection.queued_bytes == 0
        assert connection.reading_paused is False
        assert connection.pending_output == 0
        assert connection.writing_paused is False
        assert connection.next_message() is None
        assert connection.data_to_send() == b''

    def test_state_is_the_shared_enum(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        assert type(connection.state) is State
        assert connection.state == 1

    def test_open(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        assert connection.state is State.OPEN
        assert connection.close_expected() is False
        assert connection.close_code is None

    def test_empty_input_consumes_nothing(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        assert connection.receive_data(b'') == 0
        assert connection.receive_data(bytearray()) == 0
        assert connection.receive_data(memoryview(b'')) == 0

    def test_wrong_input_type(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        for bad in ('text', 1, None):
            with pytest.raises(TypeError):
                connection.receive_data(bad)

    def test_closed_ignores_input(self, engine: ModuleType, role: str) -> None:
        connection = in_state(engine, role, State.CLOSED)
        assert connection.receive_data(incoming(role, 9, b'ping')) == 0
        assert connection.receive_data(b'\xff' * 10) == 0
        assert connection.data_to_send() == b''
        assert connection.receive_eof() == 0


class TestInputBuffer:
    """Engine contract: ``receive_data()`` copies what it keeps.

    The adapter reads into one buffer and reuses it as soon as the call
    returns; nothing the engine kept (a partial frame, a partial message,
    bytes that arrived before ``accept()``) may still point into it.
    """

    @pytest.mark.parametrize('view', [False, True])
    @pytest.mark.parametrize('opcode', [1, 2])
    def test_partial_frame_and_message(
        self, engine: ModuleType, role: str, opcode: int, view: bool
    ) -> None:
        connection = open_engine(engine, role)
        stream = incoming(role, opcode, b'Hello, ', fin=False)
        stream += incoming(role, 0, b'world')
        expected = 'Hello, world' if opcode == 1 else b'Hello, world'
        for cut in range(1, len(stream)):
            buffer = bytearray(stream[:cut])
            connection.receive_data(memoryview(buffer) if view else buffer)
            buffer[:] = b'\xff' * len(buffer)
            buffer = bytearray(stream[cut:])
            connection.receive_data(memoryview(buffer) if view else buffer)
            buffer[:] = b'\x00' * len(buffer)
            assert connection.next_message() == expected, cut
        assert connection.error is None

    def test_bytes_kept_before_accept(self, engine: ModuleType) -> None:
        server = engine.ServerConnection()
        buffer = bytearray(STANDARD_REQUEST + incoming('server', 2, b'early'))
        server.receive_data(buffer)
        buffer[:] = b'\xff' * len(buffer)
        server.accept()
        assert server.next_message() == b'early'

    def test_compressed_message(self, engine: ModuleType, role: str) -> None:
        extensions = {
            'server': 'permessage-deflate',
            'client': 'permessage-deflate; server_max_window_bits=12',
        }
        connection = open_engine(engine, role, {'compression': True}, extensions[role])
        stream = zlib.compressobj(6, zlib.DEFLATED, -12, 8)
        data = bytes(range(80)) + b'reused ' * 10

        def fragmented() -> bytes:
            # Each message refers back to the last one (context takeover).
            payload = (stream.compress(data) + stream.flush(zlib.Z_SYNC_FLUSH))[:-4]
            assert len(payload) < 126
            half = len(payload) // 2
            first = incoming(role, 2, payload[:half], fin=False)
            return (
                bytes([first[0] | 0x40]) + first[1:] + incoming(role, 0, payload[half:])
            )

        for cut in (3, 10, 30, -3):
            frame = fragmented()
            buffer = bytearray(frame[:cut])
            connection.receive_data(buffer)
            buffer[:] = b'\x06' * len(buffer)
            buffer = bytearray(frame[cut:])
            connection.receive_data(buffer)
            buffer[:] = b'\x06' * len(buffer)
            assert connection.next_message() == data, cut
        assert connection.error is None


class TestSending:
    """RFC 6455 §5.6, §5.5: the frames the send methods produce."""

    def test_send_text(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        assert connection.send_text('Hello') is None
        assert connection.pending_output == len(out(role, 1, b'Hello'))
        assert connection.data_to_send() == out(role, 1, b'Hello')
        assert connection.pending_output == 0

    def test_send_text_utf8(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        connection.send_text('κόσμε')
        assert connection.data_to_send() == out(role, 1, 'κόσμε'.encode())

    def test_send_text_surrogate(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        with pytest.raises(UnicodeEncodeError):
            connection.send_text('\ud800')

    @pytest.mark.parametrize('kind', ['bytes', 'bytearray', 'memoryview', 'strided'])
    def test_send_binary(self, engine: ModuleType, role: str, kind: str) -> None:
        connection = open_engine(engine, role)
        data = bytes(range(200))
        connection.send_binary(as_buffer(data, kind))
        assert connection.data_to_send() == out(role, 2, data)

    def test_send_binary_copies(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        data = bytearray(b'abc')
        connection.send_binary(data)
        data[:] = b'xyz'
        assert connection.data_to_send() == out(role, 2, b'abc')

    @pytest.mark.parametrize('size', [0, 125, 126, 65535, 65536, 70000])
    def test_length_forms(self, engine: ModuleType, role: str, size: int) -> None:
        connection = open_engine(engine, role)
        connection.send_binary(bytes(size))
        assert connection.data_to_send() == out(role, 2, bytes(size))

    def test_output_joined_in_order(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        connection.send_text('a')
        connection.send_binary(b'b')
        connection.send_ping(b'c')
        connection.send_pong(b'd')
        assert connection.data_to_send() == (
            out(role, 1, b'a')
            + out(role, 2, b'b')
            + out(role, 9, b'c')
            + out(role, 10, b'd')
        )
        assert connection.data_to_send() == b''

    def test_ping_pong(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        connection.send_ping()
        connection.send_pong()
        connection.send_ping(bytes(125))
        connection.send_pong(bytearray(125))
        assert connection.data_to_send() == (
            out(role, 9)
            + out(role, 10)
            + out(role, 9, bytes(125))
            + out(role, 10, bytes(125))
        )

    @pytest.mark.parametrize('method', ['send_ping', 'send_pong'])
    def test_control_payload_limit(
        self, engine: ModuleType, role: str, method: str
    ) -> None:
        connection = open_engine(engine, role)
        with pytest.raises(ValueError) as info:
            getattr(connection, method)(bytes(126))
        assert str(info.value) == 'control frame payload exceeds 125 bytes'
        assert connection.data_to_send() == b''

    def test_wrong_types(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        with pytest.raises(TypeError):
            connection.send_text(b'bytes')
        with pytest.raises(TypeError):
            connection.send_binary('text')
        with pytest.raises(TypeError):
            connection.send_ping('text')
        with pytest.raises(TypeError):
            connection.send_pong(1)
        with pytest.raises(TypeError):
            connection.send_close('1000')
        with pytest.raises(TypeError):
            connection.send_close(1000, b'reason')
        with pytest.raises(TypeError):
            connection.fail(1000, b'reason')
        assert connection.state is State.OPEN

    def test_writing_paused(self, engine: ModuleType, role: str) -> None:
        header = len(out(role, 2))
        for size, paused in [(100 - header - 1, False), (100 - header, True)]:
            connection = open_engine(engine, role, {'write_limit': 100})
            connection.send_binary(bytes(size))
            assert connection.pending_output == size + header
            assert connection.writing_paused is paused
            connection.data_to_send()
            assert connection.writing_paused is False


class TestClosingHandshake:
    """RFC 6455 §7.1.2-§7.1.5: closing, started by either side."""

    def test_we_close_first(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        assert connection.send_close(1000, 'bye') is None
        assert connection.data_to_send() == out(role, 8, close(1000, 'bye'))
        assert connection.state is State.CLOSING
        assert connection.close_sent == (1000, 'bye')
        assert connection.close_expected() is False
        assert connection.close_code is None
        flags = connection.receive_data(incoming(role, 8, close(1000, 'ok')))
        assert flags == CLOSE_RECEIVED | CLOSED
        assert connection.data_to_send() == b''
        assert connection.state is State.CLOSED
        assert connection.close_received == (1000, 'ok')
        assert connection.close_expected() is True
        assert (connection.close_code, connection.close_reason) == (1000, 'ok')

    def test_default_close(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        connection.send_close()
        assert connection.data_to_send() == out(role, 8, close(1000))
        assert connection.close_sent == (1000, '')

    def test_peer_closes_first(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        flags = connection.receive_data(incoming(role, 8, close(1001, 'away')))
        assert flags == CLOSE_RECEIVED | OUTPUT | CLOSED
        assert connection.data_to_send() == out(role, 8, close(1001))
        assert connection.close_received == (1001, 'away')
        assert connection.close_sent == (1001, '')
        assert (connection.close_code, connection.close_reason) == (1001, 'away')

    def test_peer_closes_without_code(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        connection.receive_data(incoming(role, 8))
        assert connection.data_to_send() == out(role, 8)
        assert connection.close_received == (1005, '')
        assert connection.close_sent == (1005, '')
        assert (connection.close_code, connection.close_reason) == (1005, '')

    def test_messages_discarded_while_closing(
        self, engine: ModuleType, role: str
    ) -> None:
        connection = open_engine(engine, role)
        connection.receive_data(incoming(role, 1, b'kept'))
        connection.receive_data(incoming(role, 1, b'Hel', fin=False))
        connection.send_close()
        assert connection.receive_data(incoming(role, 0, b'lo')) == 0
        assert connection.receive_data(incoming(role, 2, b'late')) == 0
        assert connection.queued_messages == 1
        assert connection.next_message() == 'kept'

    def test_close_in_the_middle_of_a_frame(
        self, engine: ModuleType, role: str
    ) -> None:
        connection = open_engine(engine, role)
        frame = incoming(role, 2, b'0123456789')
        connection.receive_data(frame[:-4])
        connection.send_close()
        assert connection.receive_data(frame[-4:]) == 0
        assert connection.next_message() is None
        assert (
            connection.receive_data(incoming(role, 8, close(1000)))
            == CLOSE_RECEIVED | CLOSED
        )

    @pytest.mark.parametrize(
        'code', [999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 0, -1]
    )
    def test_invalid_code(self, engine: ModuleType, role: str, code: int) -> None:
        connection = open_engine(engine, role)
        with pytest.raises(ValueError) as info:
            connection.send_close(code)
        assert str(info.value) == f'invalid close code {code}'
        assert connection.state is State.OPEN
        assert connection.data_to_send() == b''

    @pytest.mark.parametrize('code', [1000, 1003, 1007, 1014, 3000, 4999])
    def test_valid_codes(self, engine: ModuleType, role: str, code: int) -> None:
        connection = open_engine(engine, role)
        connection.send_close(code)
        assert connection.data_to_send() == out(role, 8, close(code))

    def test_reason_limit(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        with pytest.raises(ValueError) as info:
            connection.send_close(1000, 'é' * 62)
        assert str(info.value) == 'close reason exceeds 123 bytes'
        connection.send_close(1000, 'é' * 61 + 'x')
        assert connection.data_to_send() == out(role, 8, close(1000, 'é' * 61 + 'x'))

    def test_code_checked_before_reason(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        with pytest.raises(ValueError, match='invalid close code 1005'):
            connection.send_close(1005, 'x' * 200)


class TestFail:
    """RFC 6455 §7.1.7: failing the connection for our own reasons."""

    def test_when_open(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        connection.receive_data(incoming(role, 1, b'partial', fin=False))
        assert connection.fail(1011, 'keepalive ping timeout') is None
        assert connection.data_to_send() == out(
            role, 8, close(1011, 'keepalive ping timeout')
        )
        assert connection.state is State.CLOSED
        assert connection.close_expected() is True
        assert connection.close_sent == (1011, 'keepalive ping timeout')
        assert connection.error is None
        assert (connection.close_code, connection.close_reason) == (
            1011,
            'keepalive ping timeout',
        )
        assert connection.receive_data(incoming(role, 0, b'!')) == 0
        assert connection.next_message() is None

    def test_reason_truncated_at_character(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        connection.fail(1008, 'a' + '€' * 50)
        reason = 'a' + '€' * 40
        assert len(reason.encode()) == 121
        assert connection.close_sent == (1008, reason)
        assert connection.data_to_send() == out(role, 8, close(1008, reason))

    def test_reason_truncated_exactly(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        connection.fail(1008, 'x' * 500)
        assert connection.close_sent == (1008, 'x' * 123)

    def test_invalid_code(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        with pytest.raises(ValueError) as info:
            connection.fail(1006)
        assert str(info.value) == 'invalid close code 1006'
        assert connection.state is State.OPEN

    def test_when_closing(self, engine: ModuleType, role: str) -> None:
        connection = in_state(engine, role, State.CLOSING)
        connection.fail(1011, 'timeout')
        assert connection.data_to_send() == b''
        assert connection.state is State.CLOSED
        assert connection.close_expected() is True
        assert connection.close_sent == (1000, '')
        assert connection.close_code == 1000

    def test_when_closed(self, engine: ModuleType, role: str) -> None:
        connection = in_state(engine, role, State.CLOSED)
        connection.fail(1011)
        connection.fail(1006)
        assert connection.data_to_send() == b''
        assert connection.close_sent is None

    def test_when_connecting(self, engine: ModuleType, role: str) -> None:
        connection = connecting(engine, role)
        with pytest.raises(InvalidState) as info:
            connection.fail(1011)
        assert str(info.value) == 'fail() is not allowed in state CONNECTING'


class TestPeerFaults:
    """RFC 6455 §7.1.7: the peer's faults never raise."""

    def test_fault_result(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        connection.receive_data(incoming(role, 1, b'a', fin=False))
        flags = connection.receive_data(incoming(role, 3))
        assert flags == FAILED | OUTPUT | CLOSED
        message = 'received frame with reserved opcode 3'
        assert connection.error == (1002, message)
        assert connection.close_sent == (1002, message)
        assert connection.close_received is None
        assert (connection.close_code, connection.close_reason) == (1002, message)
        assert connection.data_to_send() == out(role, 8, close(1002, message))
        assert connection.next_message() is None

    def test_fault_while_closing(self, engine: ModuleType, role: str) -> None:
        connection = in_state(engine, role, State.CLOSING)
        flags = connection.receive_data(incoming(role, 0))
        assert flags == FAILED | CLOSED
        assert connection.data_to_send() == b''
        message = 'received continuation frame without a message in progress'
        assert connection.error == (1002, message)
        assert connection.close_sent == (1000, '')
        assert (connection.close_code, connection.close_reason) == (1002, message)

    def test_pong_never_an_error(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        assert connection.receive_data(incoming(role, 10, b'unsolicited')) == PONG
        assert connection.last_pong == b'unsolicited'
        assert connection.receive_data(incoming(role, 10)) == PONG
        assert connection.last_pong == b''


class TestEof:
    """The transport closed under us: ``receive_eof()``."""

    @pytest.mark.parametrize('state', [State.CONNECTING, State.OPEN, State.CLOSING])
    def test_eof(self, engine: ModuleType, role: str, state: State) -> None:
        connection = in_state(engine, role, state)
        assert connection.receive_eof() == CLOSED
        assert connection.state is State.CLOSED
        assert connection.close_expected() is True
        assert connection.error is None
        assert connection.data_to_send() == b''
        assert connection.receive_eof() == 0

    def test_eof_close_results(self, engine: ModuleType, role: str) -> None:
        connection = in_state(engine, role, State.OPEN)
        connection.receive_eof()
        assert (connection.close_code, connection.close_reason) == (1006, '')
        closing = in_state(engine, role, State.CLOSING)
        closing.receive_eof()
        assert (closing.close_code, closing.close_reason) == (1000, '')

    def test_messages_survive_eof(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        connection.receive_data(
            incoming(role, 1, b'a') + incoming(role, 1, b'b', fin=False)
        )
        connection.receive_eof()
        assert connection.next_message() == 'a'
        assert connection.next_message() is None

    def test_server_eof_during_request(self, engine: ModuleType) -> None:
        server = engine.ServerConnection()
        server.receive_data(STANDARD_REQUEST[:20])
        assert server.receive_eof() == CLOSED
        assert server.request is None
        with pytest.raises(InvalidState):
            server.accept()


class TestMisuse:
    """Our own misuse raises ``InvalidState`` at once, with the exact message."""

    CALLS: list[tuple[str, tuple[Any, ...]]] = [
        ('send_text', ('x',)),
        ('send_binary', (b'x',)),
        ('send_ping', ()),
        ('send_pong', ()),
        ('send_close', ()),
    ]

    @pytest.mark.parametrize(('method', 'args'), CALLS)
    @pytest.mark.parametrize('state', [State.CONNECTING, State.CLOSING, State.CLOSED])
    def test_send_needs_open(
        self,
        engine: ModuleType,
        role: str,
        state: State,
        method: str,
        args: tuple[Any, ...],
    ) -> None:
        connection = in_state(engine, role, state)
        with pytest.raises(InvalidState) as info:
            getattr(connection, method)(*args)
        assert str(info.value) == f'{method}() is not allowed in state {state.name}'
        assert connection.data_to_send() == b''

    def test_state_checked_before_values(self, engine: ModuleType, role: str) -> None:
        connection = connecting(engine, role)
        with pytest.raises(InvalidState):
            connection.send_close(1005, 'x' * 200)
        with pytest.raises(InvalidState):
            connection.send_ping(bytes(200))

    def test_server_only_after_accept(self, engine: ModuleType) -> None:
        server = engine.ServerConnection()
        server.receive_data(STANDARD_REQUEST)
        with pytest.raises(InvalidState) as info:
            server.send_text('too early')
        assert str(info.value) == 'send_text() is not allowed in state CONNECTING'


class TestDeferredFaults:
    """Engine contract, deferred faults: queued messages are answered first.

    Autobahn 3.2-3.4, 4.1.3-4.1.5, 4.2.3-4.2.5 and 5.15: a valid message,
    then a faulty frame in the same read. The app must be able to echo the
    message before the connection fails.
    """

    FAULT = 'received frame with reserved opcode 3'

    def deferred(self, engine: ModuleType, role: str, **options: Any) -> Any:
        connection = open_engine(engine, role, options)
        flags = connection.receive_data(
            incoming(role, 1, b'a') + incoming(role, 3) + incoming(role, 9, b'p')
        )
        assert flags & ~PAUSE == MESSAGES | DEFERRED
        return connection

    def assert_failed(self, connection: Any, role: str) -> None:
        assert connection.state is State.CLOSED
        assert connection.close_expected() is True
        assert connection.failure_deferred is False
        assert connection.error == (1002, self.FAULT)
        assert connection.close_sent == (1002, self.FAULT)
        assert (connection.close_code, connection.close_reason) == (1002, self.FAULT)
        assert connection.data_to_send() == out(role, 8, close(1002, self.FAULT))

    def test_flag_value(self) -> None:
        assert DEFERRED == Flags.DEFERRED == 256

    def test_waits_while_open(self, engine: ModuleType, role: str) -> None:
        connection = self.deferred(engine, role)
        assert connection.failure_deferred is True
        assert connection.state is State.OPEN
        assert connection.close_expected() is False
        assert connection.error is None
        assert connection.close_sent is None
        assert connection.close_code is None
        assert connection.queued_messages == 1
        # Nothing after the fault was read: the Ping is not answered.
        assert connection.data_to_send() == b''

    def test_later_input_ignored(self, engine: ModuleType, role: str) -> None:
        connection = self.deferred(engine, role)
        assert connection.receive_data(incoming(role, 9, b'q')) == 0
        assert connection.receive_data(incoming(role, 8, close(1000))) == 0
        assert connection.receive_data(incoming(role, 2, b'late')) == 0
        assert connection.data_to_send() == b''
        assert connection.close_received is None
        assert connection.queued_messages == 1

    def test_answer_then_fail(self, engine: ModuleType, role: str) -> None:
        connection = self.deferred(engine, role)
        assert connection.next_message() == 'a'
        assert connection.failure_deferred is True
        connection.send_text('echo: a')
        connection.send_ping(b'still open')
        assert connection.data_to_send() == (
            out(role, 1, b'echo: a') + out(role, 9, b'still open')
        )
        assert connection.state is State.OPEN
        # The call that finds the queue empty fails the connection.
        assert connection.next_message() is None
        self.assert_failed(connection, role)
        assert connection.next_message() is None
        assert connection.data_to_send() == b''
        with pytest.raises(InvalidState):
            connection.send_text('too late')

    def test_message_from_earlier_read(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        assert connection.receive_data(incoming(role, 2, b'first')) == MESSAGES
        assert connection.receive_data(incoming(role, 3)) == DEFERRED
        assert connection.next_message() == b'first'
        assert connection.next_message() is None
        self.assert_failed(connection, role)

    def test_empty_queue_fails_at_once(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        connection.receive_data(incoming(role, 1, b'a'))
        assert connection.next_message() == 'a'
        flags = connection.receive_data(incoming(role, 3))
        assert flags == FAILED | OUTPUT | CLOSED
        self.assert_failed(connection, role)

    def test_partial_message_dropped(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        flags = connection.receive_data(
            incoming(role, 1, b'a')
            + incoming(role, 2, b'partial', fin=False)
            + incoming(role, 1, b'new message in the middle')
        )
        assert flags == MESSAGES | DEFERRED
        assert (connection.queued_messages, connection.queued_bytes) == (1, 1)
        assert connection.next_message() == 'a'
        assert connection.next_message() is None
        message = 'received new data frame before the previous message finished'
        assert connection.error == (1002, message)
        assert connection.data_to_send() == out(role, 8, close(1002, message))

    def test_fault_split_from_messages(self, engine: ModuleType, role: str) -> None:
        # Results do not depend on how the input is split, as long as the
        # messages were not taken in between.
        stream = incoming(role, 1, b'a') + incoming(role, 1, b'b') + incoming(role, 3)
        for cut in range(1, len(stream)):
            connection = open_engine(engine, role)
            flags = connection.receive_data(stream[:cut])
            flags |= connection.receive_data(stream[cut:])
            assert flags == MESSAGES | DEFERRED, cut
            assert [connection.next_message() for _ in range(3)] == ['a', 'b', None]
            self.assert_failed(connection, role)

    def test_send_close_drops_the_fault(self, engine: ModuleType, role: str) -> None:
        connection = self.deferred(engine, role)
        connection.send_close(1001, 'going away')
        assert connection.data_to_send() == out(role, 8, close(1001, 'going away'))
        # RFC 6455 §7.1.7: the peer's input cannot be read any more, so there
        # is no Close to wait for.
        assert connection.state is State.CLOSED
        assert connection.close_expected() is True
        assert connection.failure_deferred is False
        assert connection.error is None
        assert connection.close_sent == (1001, 'going away')
        assert (connection.close_code, connection.close_reason) == (1001, 'going away')
        assert connection.next_message() == 'a'
        assert connection.next_message() is None
        assert connection.data_to_send() == b''
        assert connection.error is None

    def test_send_close_checks_first(self, engine: ModuleType, role: str) -> None:
        connection = self.deferred(engine, role)
        with pytest.raises(ValueError):
            connection.send_close(1005)
        assert connection.failure_deferred is True
        assert connection.state is State.OPEN

    def test_fail_drops_the_fault(self, engine: ModuleType, role: str) -> None:
        connection = self.deferred(engine, role)
        connection.fail(1011, 'app error')
        assert connection.data_to_send() == out(role, 8, close(1011, 'app error'))
        assert connection.state is State.CLOSED
        assert connection.failure_deferred is False
        assert connection.error is None
        assert (connection.close_code, connection.close_reason) == (1011, 'app error')
        assert connection.next_message() == 'a'
        assert connection.next_message() is None
        assert connection.data_to_send() == b''

    def test_eof_records_the_fault(self, engine: ModuleType, role: str) -> None:
        connection = self.deferred(engine, role)
        assert connection.receive_eof() == FAILED | CLOSED
        assert connection.data_to_send() == b''
        assert connection.state is State.CLOSED
        assert connection.failure_deferred is False
        assert connection.error == (1002, self.FAULT)
        assert connection.close_sent is None
        assert (connection.close_code, connection.close_reason) == (1002, self.FAULT)
        assert connection.next_message() == 'a'
        assert connection.next_message() is None
        assert connection.data_to_send() == b''
        assert connection.receive_eof() == 0

    def test_not_while_closing(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        connection.receive_data(incoming(role, 1, b'a'))
        connection.send_close()
        connection.data_to_send()
        assert connection.receive_data(incoming(role, 3)) == FAILED | CLOSED
        assert connection.failure_deferred is False
        assert connection.error == (1002, self.FAULT)
        assert connection.data_to_send() == b''
        assert connection.next_message() == 'a'

    def test_peer_close_is_not_a_fault(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        flags = connection.receive_data(
            incoming(role, 1, b'a') + incoming(role, 8, close(1000))
        )
        assert flags == MESSAGES | CLOSE_RECEIVED | OUTPUT | CLOSED
        assert connection.failure_deferred is False
        assert connection.data_to_send() == out(role, 8, close(1000))
        assert connection.next_message() == 'a'

    def test_invalid_close_frame_is(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role)
        flags = connection.receive_data(
            incoming(role, 1, b'a') + incoming(role, 8, close(1005))
        )
        assert flags == MESSAGES | DEFERRED
        assert connection.close_received is None
        assert connection.next_message() == 'a'
        assert connection.next_message() is None
        message = 'received close frame with invalid code 1005'
        assert connection.error == (1002, message)
        assert connection.data_to_send() == out(role, 8, close(1002, message))

    def test_pause_flag_kept(self, engine: ModuleType, role: str) -> None:
        connection = self.deferred(engine, role, max_queue=1)
        assert connection.reading_paused is True
        assert connection.next_message() == 'a'
        assert connection.reading_paused is False

    def test_accept_parses_kept_bytes(self, engine: ModuleType) -> None:
        server = engine.ServerConnection()
        stream = incoming('server', 2, b'early') + incoming('server', 3)
        server.receive_data(STANDARD_REQUEST + stream)
        assert server.accept() == MESSAGES | DEFERRED
        assert server.failure_deferred is True
        assert server.next_message() == b'early'
        assert server.next_message() is None
        assert server.error == (1002, self.FAULT)

    def test_compressed_message_dropped(self, engine: ModuleType, role: str) -> None:
        extensions = {
            'server': 'permessage-deflate',
            'client': 'permessage-deflate; server_max_window_bits=12',
        }
        connection = open_engine(engine, role, {'compression': True}, extensions[role])
        payload = zlib.compressobj(6, zlib.DEFLATED, -12, 8)
        data = payload.compress(b'x' * 50) + payload.flush(zlib.Z_SYNC_FLUSH)
        started = incoming(role, 2, data[:-4], fin=False)
        flags = connection.receive_data(
            incoming(role, 1, b'a')
            + bytes([started[0] | 0x40])
            + started[1:]
            + incoming(role, 3)
        )
        assert flags == MESSAGES | DEFERRED
        assert connection.next_message() == 'a'
        assert connection.next_message() is None
        assert connection.error == (1002, self.FAULT)
        assert connection.state is State.CLOSED

    def test_client_random_failure_keeps_it_deferred(self, engine: ModuleType) -> None:
        calls = []

        def random(size: int) -> bytes:
            calls.append(size)
            if len(calls) > 2:
                raise OSError('no entropy')
            return bytes(size)

        client = open_engine(engine, 'client', {'random': random})
        assert (
            client.receive_data(incoming('client', 1, b'a') + incoming('client', 3))
            == MESSAGES | DEFERRED
        )
        client.send_text('echo')
        assert client.next_message() == 'a'
        with pytest.raises(OSError, match='no entropy'):
            client.next_message()
        assert client.failure_deferred is True
        assert client.state is State.OPEN
        assert client.error is None
        assert client.close_sent is None
        assert client.data_to_send() == b'\x81\x84\x00\x00\x00\x00echo'
