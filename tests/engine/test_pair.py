"""Conversations between a client engine and a server engine (``EnginePair``)."""

from __future__ import annotations

from types import ModuleType

import pytest

from gyrfalcon.protocol.common import (
    CLOSE_RECEIVED,
    CLOSED,
    FAILED,
    HANDSHAKE,
    MESSAGES,
    OUTPUT,
    PONG,
    State,
)
from gyrfalcon.testing.pair import (
    EnginePair,
    deterministic_random,
    drain_messages,
    open_engine,
)


class TestConversation:
    """RFC 6455 §1.2-§1.4: a whole connection, both ends ours."""

    def test_handshake(self, engine: ModuleType) -> None:
        pair = EnginePair(engine, subprotocols=['chat', 'v2']).open(
            'v2', [(b'X', b'1')]
        )
        assert pair.client.state is State.OPEN
        assert pair.server.state is State.OPEN
        assert pair.client_flags == HANDSHAKE
        assert pair.server.request.subprotocols == ('chat', 'v2')
        assert pair.client.response.subprotocol == 'v2'
        assert pair.client.response.headers[-1] == (b'X', b'1')

    def test_text_both_ways(self, engine: ModuleType) -> None:
        pair = EnginePair(engine).open()
        pair.client.send_text('hi')
        assert pair.transfer() == (0, MESSAGES)
        assert pair.server.next_message() == 'hi'
        pair.server.send_text('hello, κόσμε')
        pair.transfer()
        assert pair.messages('client') == ['hello, κόσμε']

    def test_binary_both_ways(self, engine: ModuleType) -> None:
        pair = EnginePair(engine).open()
        pair.client.send_binary(bytes(range(256)) * 300)
        pair.server.send_binary(b'')
        assert pair.transfer() == (MESSAGES, MESSAGES)
        assert pair.messages('server') == [bytes(range(256)) * 300]
        assert pair.messages('client') == [b'']

    @pytest.mark.parametrize('chunk_size', [1, 2, 3, 7, 100])
    def test_trickled(self, engine: ModuleType, chunk_size: int) -> None:
        pair = EnginePair(engine, chunk_size=chunk_size).open()
        for i in range(5):
            pair.client.send_text(f'message {i} ☃')
            pair.server.send_binary(bytes([i]) * 200)
        pair.transfer()
        assert pair.messages('server') == [f'message {i} ☃' for i in range(5)]
        assert pair.messages('client') == [bytes([i]) * 200 for i in range(5)]

    def test_ping_pong(self, engine: ModuleType) -> None:
        pair = EnginePair(engine).open()
        pair.server.send_ping(b'are you there')
        assert pair.to_client() == OUTPUT
        assert pair.to_server() == PONG
        assert pair.server.last_pong == b'are you there'
        pair.client.send_ping()
        assert pair.transfer() == (PONG, OUTPUT)
        assert pair.client.last_pong == b''

    def test_client_closes(self, engine: ModuleType) -> None:
        pair = EnginePair(engine).open()
        pair.client.send_close(1000, 'done')
        assert pair.to_server() == CLOSE_RECEIVED | OUTPUT | CLOSED
        assert pair.server.close_expected() is True
        assert pair.to_client() == CLOSE_RECEIVED | CLOSED
        assert pair.client.state is State.CLOSED
        assert (pair.server.close_code, pair.server.close_reason) == (1000, 'done')
        assert (pair.client.close_code, pair.client.close_reason) == (1000, '')
        assert pair.eof('client') == 0

    def test_server_closes(self, engine: ModuleType) -> None:
        pair = EnginePair(engine).open()
        pair.server.send_text('last words')
        pair.server.send_close(1001, 'restarting')
        assert pair.to_client() == MESSAGES | CLOSE_RECEIVED | OUTPUT | CLOSED
        assert pair.messages('client') == ['last words']
        assert pair.to_server() == CLOSE_RECEIVED | CLOSED
        assert pair.client.close_received == (1001, 'restarting')
        assert pair.server.close_received == (1001, '')

    def test_both_close_at_once(self, engine: ModuleType) -> None:
        pair = EnginePair(engine).open()
        pair.client.send_close(1000, 'a')
        pair.server.send_close(1001, 'b')
        assert pair.transfer() == (CLOSE_RECEIVED | CLOSED, CLOSE_RECEIVED | CLOSED)
        assert pair.client.close_code == 1001
        assert pair.server.close_code == 1000

    def test_fail(self, engine: ModuleType) -> None:
        pair = EnginePair(engine).open()
        pair.server.fail(1011, 'app error')
        assert pair.server.state is State.CLOSED
        assert pair.to_client() == CLOSE_RECEIVED | OUTPUT | CLOSED
        assert pair.client.close_received == (1011, 'app error')
        assert pair.to_server() == 0

    def test_eof_mid_message(self, engine: ModuleType) -> None:
        pair = EnginePair(engine).open()
        pair.client.send_text('complete')
        pair.to_server()
        pair.client.send_text('cut')
        pair.server.receive_data(pair.client.data_to_send()[:4])
        assert pair.eof('server') == CLOSED
        assert drain_messages(pair.server) == ['complete']
        assert pair.server.close_code == 1006

    def test_server_refuses(self, engine: ModuleType) -> None:
        pair = EnginePair(engine)
        pair.client.send_request()
        assert pair.to_server() == HANDSHAKE
        pair.server.reject(403, body=b'go away')
        assert pair.to_client() == FAILED | CLOSED
        assert pair.client.error == (
            1002,
            'server rejected WebSocket connection: HTTP 403',
        )
        assert pair.client.response.body == b'go away'

    def test_open_fails_loudly(self, engine: ModuleType) -> None:
        pair = EnginePair(engine, headers=[(b'Sec-WebSocket-Version', b'8')])
        with pytest.raises(RuntimeError, match='more than one Sec-WebSocket-Version'):
            pair.open()

    def test_open_fails_on_client(self, engine: ModuleType) -> None:
        pair = EnginePair(engine)
        with pytest.raises(RuntimeError, match='more than one Sec-WebSocket-Accept'):
            pair.open(headers=[(b'Sec-WebSocket-Accept', b'x')])

    def test_open_refuses_extensions_header(self, engine: ModuleType) -> None:
        pair = EnginePair(engine)
        with pytest.raises(ValueError, match='set extensions with the compression'):
            pair.open(headers=[(b'Sec-WebSocket-Extensions', b'x')])

    def test_compression(self, engine: ModuleType) -> None:
        pair = EnginePair(engine, compression=True).open()
        assert pair.client.deflate == pair.server.deflate
        assert pair.server.deflate is not None
        pair.client.send_text('compressed ' * 20)
        data = pair.client.data_to_send()
        assert data[0] == 0xC1  # FIN, RSV1, TEXT
        assert pair.server.receive_data(data) == MESSAGES
        assert pair.messages('server') == ['compressed ' * 20]

    def test_compression_options_override(self, engine: ModuleType) -> None:
        pair = EnginePair(
            engine, compression=True, server_options={'compression': False}
        ).open()
        assert pair.server.deflate is None
        assert pair.client.deflate is None

    def test_chunk_size_must_be_positive(self, engine: ModuleType) -> None:
        with pytest.raises(ValueError):
            EnginePair(engine, chunk_size=0)

    def test_many_messages_with_backpressure(self, engine: ModuleType) -> None:
        pair = EnginePair(engine, server_options={'max_queue': 4}).open()
        received: list[str | bytes] = []
        for i in range(50):
            pair.client.send_text(str(i))
            _, flags = pair.transfer()
            if pair.server.reading_paused:
                received.extend(pair.messages('server'))
        received.extend(pair.messages('server'))
        assert received == [str(i) for i in range(50)]


class TestOpenEngine:
    """``open_engine()``: one engine brought to OPEN with canned input."""

    @pytest.mark.parametrize('role', ['server', 'client'])
    def test_open(self, engine: ModuleType, role: str) -> None:
        connection = open_engine(engine, role, {'max_size': 10})
        assert connection.state is State.OPEN
        assert connection.data_to_send() == b''

    def test_server_refuses(self, engine: ModuleType) -> None:
        with pytest.raises(RuntimeError, match='request has more than 1 headers'):
            open_engine(engine, 'server', {'max_headers': 1})

    def test_client_refuses(self, engine: ModuleType) -> None:
        with pytest.raises(RuntimeError, match='header line exceeds 20 bytes'):
            open_engine(engine, 'client', {'max_header_line': 20})


class TestDeterministicRandom:
    """The reproducible random source used by pairs and vectors."""

    def test_repeats(self, engine: ModuleType) -> None:
        source = deterministic_random(b'abc')
        assert source(2) == b'ab'
        assert source(5) == b'cabca'
        assert source(0) == b''
        assert source(1) == b'b'

    def test_empty_pattern(self, engine: ModuleType) -> None:
        with pytest.raises(ValueError):
            deterministic_random(b'')


def test_mixed_engines(engines: tuple[ModuleType, ModuleType]) -> None:
    """The Rust engine talks to the twin, in both roles."""
    native, python = engines
    for client_engine, server_engine in [(native, python), (python, native)]:
        pair = EnginePair(client_engine, server_engine=server_engine, chunk_size=3)
        pair.open()
        pair.client.send_text('ping ☃')
        pair.client.send_ping(b'x')
        pair.server.send_binary(bytes(300))
        pair.transfer()
        assert pair.messages('server') == ['ping ☃']
        assert pair.messages('client') == [bytes(300)]
        assert pair.client.last_pong == b'x'
        pair.client.send_close()
        pair.transfer()
        assert pair.client.state is State.CLOSED
        assert pair.server.state is State.CLOSED
