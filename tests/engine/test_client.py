"""The client role: its random source, the response, rejections."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

from gyrfalcon.errors import InvalidState
from gyrfalcon.protocol.common import (
    CLOSED,
    FAILED,
    HANDSHAKE,
    MESSAGES,
    Response,
    State,
)
from gyrfalcon.testing.pair import deterministic_random, open_engine

KEY_16 = bytes(range(16))


def response_for(engine: ModuleType, key: str, extra: bytes = b'') -> bytes:
    return (
        b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n'
        b'Connection: Upgrade\r\nSec-WebSocket-Accept: '
        + engine.accept_key(key).encode()
        + b'\r\n'
        + extra
        + b'\r\n'
    )


class Recorder:
    """A random source that records its calls."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.counter = 0

    def __call__(self, size: int) -> bytes:
        self.calls.append(size)
        out = bytes((self.counter + i) % 256 for i in range(size))
        self.counter += size
        return out


def started(engine: ModuleType, **options: Any) -> Any:
    client = engine.ClientConnection('example.com', '/', **options)
    client.send_request()
    client.data_to_send()
    return client


class TestRandomSource:
    """RFC 6455 §4.1, §5.3: the key and the masking keys come from ``random``."""

    def test_calls(self, engine: ModuleType) -> None:
        recorder = Recorder()
        client = started(engine, random=recorder)
        assert recorder.calls == [16]
        client.receive_data(response_for(engine, 'AAECAwQFBgcICQoLDA0ODw=='))
        assert client.state is State.OPEN
        client.send_text('a')
        client.send_binary(b'b')
        client.send_ping()
        client.send_close()
        assert recorder.calls == [16, 4, 4, 4, 4]
        frames = client.data_to_send()
        assert frames[:6] == b'\x81\x81\x10\x11\x12\x13'
        assert frames[6] == ord('a') ^ 0x10

    def test_auto_replies_masked(self, engine: ModuleType) -> None:
        recorder = Recorder()
        client = started(engine, random=recorder)
        client.receive_data(response_for(engine, 'AAECAwQFBgcICQoLDA0ODw=='))
        client.receive_data(b'\x89\x02hi' + b'\x88\x02\x03\xe8')
        assert recorder.calls == [16, 4, 4]
        assert client.data_to_send() == (
            b'\x8a\x82\x10\x11\x12\x13' + bytes([ord('h') ^ 0x10, ord('i') ^ 0x11])
            + b'\x88\x82\x14\x15\x16\x17' + bytes([0x03 ^ 0x14, 0xE8 ^ 0x15])
        )  # fmt: skip

    def test_same_random_same_bytes(self, engine: ModuleType) -> None:
        outputs = []
        for _ in range(2):
            client = open_engine(
                engine, 'client', {'random': deterministic_random(b'seed')}
            )
            client.send_text('same')
            outputs.append(client.data_to_send())
        assert outputs[0] == outputs[1]

    def test_wrong_length(self, engine: ModuleType) -> None:
        client = engine.ClientConnection('h', random=lambda n: b'\x00' * (n + 1))
        with pytest.raises(ValueError) as info:
            client.send_request()
        assert str(info.value) == 'random(16) must return 16 bytes'

    def test_default_is_random(self, engine: ModuleType) -> None:
        client = open_engine(engine, 'client', {'random': None})
        client.send_binary(bytes(16))
        client.send_binary(bytes(16))
        frames = client.data_to_send()
        assert frames[2:6] != frames[24:28]


class TestResponse:
    """RFC 6455 §4.1: the server's answer."""

    def test_response_fields(self, engine: ModuleType) -> None:
        client = started(
            engine, random=deterministic_random(KEY_16), subprotocols=['chat']
        )
        extra = b'Sec-WebSocket-Protocol: chat\r\nX-Server: gyr\r\n'
        flags = client.receive_data(
            response_for(engine, 'AAECAwQFBgcICQoLDA0ODw==', extra)
        )
        assert flags == HANDSHAKE
        response = client.response
        assert isinstance(response, Response)
        assert response.status == 101
        assert response.reason == 'Switching Protocols'
        assert response.subprotocol == 'chat'
        assert response.extensions == ()
        assert response.body == b''
        assert response.headers[-1] == (b'X-Server', b'gyr')
        assert client.request is None

    @pytest.mark.parametrize(
        ('line', 'reason'),
        [
            (b'HTTP/1.0 101 Switching Protocols', 'Switching Protocols'),
            (b'HTTP/2.0 101 Sw\xc3\xaftch', 'Sw\u00eftch'),
            (b'HTTP/1.1 101 Sw\xffitch', 'Sw\ufffditch'),
        ],
    )
    def test_any_version_and_utf8_reason(
        self, engine: ModuleType, line: bytes, reason: str
    ) -> None:
        # Any well-formed HTTP version is accepted; the reason phrase is
        # decoded as UTF-8 with U+FFFD for invalid sequences.
        client = started(engine, random=deterministic_random(KEY_16))
        head = response_for(engine, 'AAECAwQFBgcICQoLDA0ODw==')
        head = line + head[head.index(b'\r\n') :]
        assert client.receive_data(head) == HANDSHAKE
        assert client.response.reason == reason

    def test_frames_in_same_read(self, engine: ModuleType) -> None:
        client = started(engine, random=deterministic_random(KEY_16))
        data = response_for(engine, 'AAECAwQFBgcICQoLDA0ODw==') + b'\x81\x02hi\x82\x00'
        assert client.receive_data(data) == HANDSHAKE | MESSAGES
        assert [client.next_message(), client.next_message()] == ['hi', b'']

    def test_before_send_request(self, engine: ModuleType) -> None:
        client = engine.ClientConnection('h', random=deterministic_random(KEY_16))
        flags = client.receive_data(response_for(engine, 'AAECAwQFBgcICQoLDA0ODw=='))
        assert flags == FAILED | CLOSED
        assert client.error == (1002, 'invalid Sec-WebSocket-Accept header')
        with pytest.raises(InvalidState):
            client.send_request()


class TestRejection:
    """A status other than 101: the body is kept for the caller."""

    def test_body_with_length(self, engine: ModuleType) -> None:
        client = started(engine)
        head = b'HTTP/1.1 401 Unauthorized\r\nContent-Length: 6\r\nX: y\r\n\r\n'
        assert client.receive_data(head + b'no') == 0
        assert client.state is State.CONNECTING
        assert client.response is None
        assert client.receive_data(b'pe!') == 0
        assert client.receive_data(b'!tail') == FAILED | CLOSED
        assert client.error == (1002, 'server rejected WebSocket connection: HTTP 401')
        assert client.response == Response(
            status=401,
            reason='Unauthorized',
            headers=((b'Content-Length', b'6'), (b'X', b'y')),
            subprotocol=None,
            extensions=(),
            body=b'nope!!',
        )
        assert client.data_to_send() == b''
        assert client.close_code == 1006

    def test_body_without_length(self, engine: ModuleType) -> None:
        client = started(engine)
        flags = client.receive_data(b'HTTP/1.1 404 Not Found\r\n\r\nwhatever came')
        assert flags == FAILED | CLOSED
        assert client.response.body == b'whatever came'
        assert client.receive_data(b'more') == 0

    def test_body_limit(self, engine: ModuleType) -> None:
        client = started(engine)
        head = b'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 100000\r\n\r\n'
        assert client.receive_data(head + bytes(65535)) == 0
        assert client.receive_data(b'\x01\x02') == FAILED | CLOSED
        assert client.response.body == bytes(65535) + b'\x01'

    def test_body_limit_without_length(self, engine: ModuleType) -> None:
        client = started(engine)
        client.receive_data(b'HTTP/1.1 500 Oops\r\n\r\n' + bytes(70000))
        assert len(client.response.body) == 65536

    def test_invalid_length_means_none(self, engine: ModuleType) -> None:
        client = started(engine)
        flags = client.receive_data(
            b'HTTP/1.1 403 Forbidden\r\nServer: s\r\nContent-Length: x\r\n\r\nab'
        )
        assert flags == FAILED | CLOSED
        assert client.response.body == b'ab'

    def test_eof_while_waiting(self, engine: ModuleType) -> None:
        client = started(engine)
        client.receive_data(b'HTTP/1.1 403 Forbidden\r\nContent-Length: 10\r\n\r\nab')
        assert client.receive_eof() == CLOSED
        assert client.error is None
        assert client.response is None
