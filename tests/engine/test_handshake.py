"""The opening handshake (RFC 6455 §4): requests, answers, limits.

The validation table itself is covered by ``tests/vectors/handshake.json``
and ``client.json``; these tests cover the calls around it: ``accept()``,
``reject()``, the streaming denial, ``receive_request()``, the client's
request, and the parser's limits on trickled input.
"""

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
    OUTPUT,
    Request,
    State,
)
from gyrfalcon.testing.pair import STANDARD_REQUEST, deterministic_random

KEY = bytes.fromhex('37fa213d')
ACCEPT_101 = (
    b'HTTP/1.1 101 Switching Protocols\r\n'
    b'Upgrade: websocket\r\n'
    b'Connection: Upgrade\r\n'
    b'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n'
)
STANDARD_HEADERS = [
    (b'Host', b'server.example.com'),
    (b'Upgrade', b'websocket'),
    (b'Connection', b'Upgrade'),
    (b'Sec-WebSocket-Key', b'dGhlIHNhbXBsZSBub25jZQ=='),
    (b'Sec-WebSocket-Version', b'13'),
]


def received(engine: ModuleType, extra: bytes = b'', **options: Any) -> Any:
    """A server that received the standard request (plus `extra` headers)."""
    server = engine.ServerConnection(**options)
    request = STANDARD_REQUEST[:-2] + extra + b'\r\n'
    assert server.receive_data(request) == HANDSHAKE
    return server


def masked(opcode: int, payload: bytes) -> bytes:
    data = bytes(b ^ KEY[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + KEY + data


class TestAcceptKey:
    """RFC 6455 §1.3, §4.2.2: Sec-WebSocket-Accept."""

    def test_rfc_example(self, engine: ModuleType) -> None:
        assert (
            engine.accept_key('dGhlIHNhbXBsZSBub25jZQ==')
            == 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='
        )

    def test_any_string(self, engine: ModuleType) -> None:
        assert engine.accept_key('') == 'Kfh9QIsMVZcl6xEPYxPHzW8SZ8w='

    def test_wrong_type(self, engine: ModuleType) -> None:
        with pytest.raises(TypeError):
            engine.accept_key(b'dGhlIHNhbXBsZSBub25jZQ==')


class TestRequest:
    """RFC 6455 §4.2.1: the parsed request."""

    def test_request_fields(self, engine: ModuleType) -> None:
        server = received(
            engine,
            b'Sec-WebSocket-Protocol: chat, superchat\r\n'
            b'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n',
        )
        request = server.request
        assert isinstance(request, Request)
        assert request == Request(
            method='GET',
            target=b'/chat',
            path='/chat',
            raw_path=b'/chat',
            query_string=b'',
            http_version='1.1',
            headers=(
                *STANDARD_HEADERS,
                (b'Sec-WebSocket-Protocol', b'chat, superchat'),
                (
                    b'Sec-WebSocket-Extensions',
                    b'permessage-deflate; client_max_window_bits',
                ),
            ),
            key='dGhlIHNhbXBsZSBub25jZQ==',
            subprotocols=('chat', 'superchat'),
            extensions=(('permessage-deflate', (('client_max_window_bits', None),)),),
        )
        assert request.get_header(b'sec-websocket-protocol') == b'chat, superchat'
        assert server.state is State.CONNECTING
        assert server.response is None
        assert server.data_to_send() == b''

    def test_invalid_utf8_subprotocol_replaced(self, engine: ModuleType) -> None:
        server = received(engine, b'Sec-WebSocket-Protocol: a\xff, b\r\n')
        assert server.request.subprotocols == ('a\ufffd', 'b')

    def test_no_request_before_head_ends(self, engine: ModuleType) -> None:
        server = engine.ServerConnection()
        assert server.receive_data(STANDARD_REQUEST[:-1]) == 0
        assert server.request is None
        assert server.receive_data(STANDARD_REQUEST[-1:]) == HANDSHAKE

    def test_input_after_failure_ignored(self, engine: ModuleType) -> None:
        server = engine.ServerConnection()
        assert (
            server.receive_data(b'POST / HTTP/1.1\r\n\r\n') == FAILED | OUTPUT | CLOSED
        )
        response = server.data_to_send()
        assert response.startswith(b'HTTP/1.1 405 Method Not Allowed\r\n')
        assert server.receive_data(STANDARD_REQUEST) == 0
        assert server.data_to_send() == b''
        assert server.receive_eof() == 0
        assert server.close_code == 1006


class TestLimits:
    """Handshake limits: 414 and 431, detected as early as the bytes allow."""

    def test_long_header_trickled(self, engine: ModuleType) -> None:
        # A 1 MiB header line sent one byte at a time fails with 431 once
        # max_header_line + 1 bytes of it prove it too long (no rescans;
        # tungstenite CVE-2023-43669).
        server = engine.ServerConnection()
        head = STANDARD_REQUEST[:-2] + b'X-Big: '
        assert server.receive_data(head) == 0
        line = b'X-Big: ' + b'a' * (1 << 20)
        fed = len(b'X-Big: ')
        flags = 0
        while not flags:
            flags = server.receive_data(line[fed : fed + 1])
            fed += 1
        assert flags == FAILED | OUTPUT | CLOSED
        assert fed == 8192 + 1
        assert server.error == (431, 'header line exceeds 8192 bytes')
        assert server.data_to_send().startswith(
            b'HTTP/1.1 431 Request Header Fields Too Large\r\n'
        )
        assert server.receive_data(line[fed : fed + 4096]) == 0

    def test_long_request_line_trickled(self, engine: ModuleType) -> None:
        server = engine.ServerConnection(max_request_line=100)
        line = b'GET /' + b'a' * 10000
        flags = 0
        fed = 0
        while not flags:
            flags = server.receive_data(line[fed : fed + 1])
            fed += 1
        assert fed == 101
        assert server.error == (414, 'request line exceeds 100 bytes')

    def test_crlf_not_counted(self, engine: ModuleType) -> None:
        server = engine.ServerConnection(max_header_line=10)
        assert server.receive_data(b'GET / HTTP/1.1\r\nX: 1234567\r') == 0
        assert server.receive_data(b'\n') == 0
        assert server.error is None
        assert server.receive_data(b'X: 1234567') == 0
        assert server.receive_data(b'8') == FAILED | OUTPUT | CLOSED
        assert server.error == (431, 'header line exceeds 10 bytes')

    def test_many_headers(self, engine: ModuleType) -> None:
        # ws CVE-2024-37890: 2,000 headers fail cleanly at the limit.
        server = engine.ServerConnection()
        head = b'GET / HTTP/1.1\r\n' + b'X: y\r\n' * 2000 + b'\r\n'
        assert server.receive_data(head) == FAILED | OUTPUT | CLOSED
        assert server.error == (431, 'request has more than 128 headers')

    @pytest.mark.parametrize(
        'name',
        [
            'max_size',
            'max_frame_size',
            'max_fragments',
            'max_queue',
            'max_queue_bytes',
            'write_limit',
            'max_request_line',
            'max_header_line',
            'max_headers',
        ],
    )
    def test_limits_must_be_positive(self, engine: ModuleType, name: str) -> None:
        for value in (0, -1):
            with pytest.raises(ValueError) as info:
                engine.ServerConnection(**{name: value})
            assert str(info.value) == f'{name} must be positive'
            with pytest.raises(ValueError) as info:
                engine.ClientConnection('h', **{name: value})
            assert str(info.value) == f'{name} must be positive'
        engine.ServerConnection(**{name: 1})

    @pytest.mark.parametrize(
        'name',
        ['max_size', 'max_frame_size', 'max_fragments', 'max_queue', 'max_queue_bytes'],
    )
    def test_optional_limits(self, engine: ModuleType, name: str) -> None:
        engine.ServerConnection(**{name: None})
        engine.ClientConnection('h', **{name: None})

    @pytest.mark.parametrize('name', ['write_limit', 'max_request_line', 'max_headers'])
    def test_required_limits(self, engine: ModuleType, name: str) -> None:
        with pytest.raises(TypeError):
            engine.ServerConnection(**{name: None})

    def test_limits_are_keyword_only(self, engine: ModuleType) -> None:
        with pytest.raises(TypeError):
            engine.ServerConnection(1024)
        with pytest.raises(TypeError):
            engine.ClientConnection('h', '/', ())

    def test_limit_types(self, engine: ModuleType) -> None:
        with pytest.raises(TypeError):
            engine.ServerConnection(max_size='1')
        with pytest.raises(TypeError):
            engine.ServerConnection(max_headers=1.5)


class TestReceiveRequest:
    """A request parsed by the HTTP server, handed over."""

    def test_valid(self, engine: ModuleType) -> None:
        server = engine.ServerConnection()
        headers = [(name, b' ' + value + b'\t') for name, value in STANDARD_HEADERS]
        assert server.receive_request('GET', b'/chat?x=%41', headers) == HANDSHAKE
        request = server.request
        assert request.path == '/chat'
        assert request.query_string == b'x=%41'
        assert request.headers == tuple(STANDARD_HEADERS)
        assert request.http_version == '1.1'
        assert server.accept() == 0
        assert server.data_to_send() == ACCEPT_101 + b'\r\n'

    def test_same_failures(self, engine: ModuleType) -> None:
        server = engine.ServerConnection()
        flags = server.receive_request('GET', b'/', STANDARD_HEADERS, '1.0')
        assert flags == FAILED | OUTPUT | CLOSED
        assert server.error == (400, 'unsupported HTTP version')
        from_bytes = engine.ServerConnection()
        from_bytes.receive_data(STANDARD_REQUEST.replace(b'HTTP/1.1', b'HTTP/1.0'))
        assert server.data_to_send() == from_bytes.data_to_send()

    def test_header_count_applies(self, engine: ModuleType) -> None:
        server = engine.ServerConnection(max_headers=5)
        flags = server.receive_request('GET', b'/', [*STANDARD_HEADERS, (b'X', b'y')])
        assert flags == FAILED | OUTPUT | CLOSED
        assert server.error == (431, 'request has more than 5 headers')

    def test_line_checks_do_not_apply(self, engine: ModuleType) -> None:
        server = engine.ServerConnection(max_header_line=8, max_request_line=8)
        headers = [*STANDARD_HEADERS, (b'X-Long', b'v' * 100)]
        assert server.receive_request('GET', b'/' + b'p' * 100, headers) == HANDSHAKE

    def test_bytes_after_request_kept(self, engine: ModuleType) -> None:
        server = engine.ServerConnection()
        server.receive_request('GET', b'/', STANDARD_HEADERS)
        assert server.receive_data(masked(1, b'early')) == 0
        assert server.accept() == MESSAGES
        assert server.next_message() == 'early'

    def test_values_not_syntax_checked(self, engine: ModuleType) -> None:
        # Check 5 belongs to the byte parser; the later checks still apply.
        server = engine.ServerConnection()
        headers = [*STANDARD_HEADERS, (b'X', b'\x00\r\n')]
        assert server.receive_request('GET', b'/', headers) == HANDSHAKE
        server = engine.ServerConnection()
        headers = [*STANDARD_HEADERS, (b'Sec-WebSocket-Extensions', b'a; b="\x01"')]
        assert server.receive_request('GET', b'/', headers) == FAILED | OUTPUT | CLOSED
        assert server.error == (400, 'invalid Sec-WebSocket-Extensions header')

    def test_only_once(self, engine: ModuleType) -> None:
        server = engine.ServerConnection()
        server.receive_request('GET', b'/', STANDARD_HEADERS)
        with pytest.raises(InvalidState) as info:
            server.receive_request('GET', b'/', STANDARD_HEADERS)
        assert str(info.value) == 'receive_request() is not allowed in state CONNECTING'

    def test_not_after_receive_data(self, engine: ModuleType) -> None:
        server = engine.ServerConnection()
        server.receive_data(b'GET / HT')
        with pytest.raises(InvalidState) as info:
            server.receive_request('GET', b'/', STANDARD_HEADERS)
        assert str(info.value) == 'receive_request() is not allowed in state CONNECTING'

    def test_not_after_failure(self, engine: ModuleType) -> None:
        server = engine.ServerConnection()
        server.receive_request('POST', b'/', STANDARD_HEADERS)
        with pytest.raises(InvalidState) as info:
            server.receive_request('GET', b'/', STANDARD_HEADERS)
        assert str(info.value) == 'receive_request() is not allowed in state CLOSED'

    def test_wrong_types(self, engine: ModuleType) -> None:
        server = engine.ServerConnection()
        with pytest.raises(TypeError):
            server.receive_request(b'GET', b'/', STANDARD_HEADERS)
        with pytest.raises(TypeError):
            server.receive_request('GET', '/', STANDARD_HEADERS)
        with pytest.raises(TypeError):
            server.receive_request('GET', b'/', [('Host', 'x')])
        with pytest.raises(TypeError):
            server.receive_request('GET', b'/', STANDARD_HEADERS, 1.1)


class TestAccept:
    """RFC 6455 §4.2.2: the 101 response."""

    def test_response_bytes(self, engine: ModuleType) -> None:
        server = received(engine)
        assert server.accept() == 0
        assert server.state is State.OPEN
        assert server.data_to_send() == ACCEPT_101 + b'\r\n'

    def test_subprotocol_and_headers(self, engine: ModuleType) -> None:
        server = received(engine, b'Sec-WebSocket-Protocol: chat, superchat\r\n')
        server.accept(
            'superchat', [(b'X-Server', b'gyr falcon'), (b'Set-Cookie', b'a=1')]
        )
        assert server.data_to_send() == (
            ACCEPT_101 + b'Sec-WebSocket-Protocol: superchat\r\n'
            b'X-Server: gyr falcon\r\nSet-Cookie: a=1\r\n\r\n'
        )

    def test_subprotocol_not_offered(self, engine: ModuleType) -> None:
        server = received(engine, b'Sec-WebSocket-Protocol: chat\r\n')
        with pytest.raises(ValueError) as info:
            server.accept('Chat')
        assert str(info.value) == "subprotocol 'Chat' was not offered by the client"
        assert server.state is State.CONNECTING
        assert server.data_to_send() == b''

    @pytest.mark.parametrize(
        ('headers', 'message'),
        [
            ([(b'', b'x')], 'invalid header name'),
            ([(b'X Y', b'x')], 'invalid header name'),
            ([(b'X:', b'x')], 'invalid header name'),
            ([(b'X', b'a\r\nInjected: 1')], 'invalid header value'),
            ([(b'X', b'a\nb')], 'invalid header value'),
            ([(b'X', b'a\x00b')], 'invalid header value'),
            (
                [(b'sec-websocket-protocol', b'chat')],
                'set the subprotocol with the subprotocol argument',
            ),
            (
                [(b'Sec-WebSocket-Extensions', b'permessage-deflate')],
                'set extensions with the compression options',
            ),
            (
                [(b'X', b'1'), (b'SEC-WEBSOCKET-EXTENSIONS', b'')],
                'set extensions with the compression options',
            ),
            # Each header is checked whole, in order.
            (
                [(b'Sec-WebSocket-Extensions', b'x'), (b'Bad Name', b'x')],
                'set extensions with the compression options',
            ),
            (
                [(b'Sec-WebSocket-Extensions', b'a\nb')],
                'invalid header value',
            ),
        ],
    )
    def test_invalid_headers(
        self, engine: ModuleType, headers: list[tuple[bytes, bytes]], message: str
    ) -> None:
        server = received(engine)
        with pytest.raises(ValueError) as info:
            server.accept(None, headers)
        assert str(info.value) == message
        assert server.data_to_send() == b''
        assert server.accept() == 0

    @pytest.mark.parametrize('compression', [False, True])
    def test_extensions_header_with_an_offer(
        self, engine: ModuleType, compression: bool
    ) -> None:
        # Extensions are the engine's to negotiate, with or without an offer
        # it accepts.
        server = received(
            engine,
            b'Sec-WebSocket-Extensions: permessage-deflate\r\n',
            compression=compression,
        )
        with pytest.raises(ValueError) as info:
            server.accept(None, [(b'Sec-WebSocket-Extensions', b'permessage-deflate')])
        assert str(info.value) == 'set extensions with the compression options'
        assert server.state is State.CONNECTING
        assert server.deflate is None
        assert server.data_to_send() == b''
        server.accept()
        assert (server.deflate is not None) is compression

    def test_header_value_bytes_allowed(self, engine: ModuleType) -> None:
        server = received(engine)
        server.accept(headers=[(b'X', b'\x7f\xff\ttab')])
        assert server.data_to_send().endswith(b'X: \x7f\xff\ttab\r\n\r\n')

    def test_kept_bytes_parsed_at_accept(self, engine: ModuleType) -> None:
        server = engine.ServerConnection()
        flags = server.receive_data(STANDARD_REQUEST + masked(1, b'one'))
        assert flags == HANDSHAKE
        assert server.receive_data(masked(9, b'p') + masked(2, b'two')) == 0
        assert server.accept() == MESSAGES | OUTPUT
        assert server.data_to_send() == ACCEPT_101 + b'\r\n' + b'\x8a\x01p'
        assert [server.next_message(), server.next_message()] == ['one', b'two']

    def test_kept_bytes_fault_at_accept(self, engine: ModuleType) -> None:
        server = engine.ServerConnection()
        server.receive_data(STANDARD_REQUEST + b'\x81\x01x')
        assert server.accept() == FAILED | OUTPUT | CLOSED
        assert server.error == (1002, 'received unmasked frame from client')

    def test_before_request(self, engine: ModuleType) -> None:
        server = engine.ServerConnection()
        with pytest.raises(InvalidState) as info:
            server.accept()
        assert str(info.value) == 'accept() is not allowed in state CONNECTING'

    def test_twice(self, engine: ModuleType) -> None:
        server = received(engine)
        server.accept()
        with pytest.raises(InvalidState) as info:
            server.accept()
        assert str(info.value) == 'accept() is not allowed in state OPEN'

    def test_wrong_types(self, engine: ModuleType) -> None:
        server = received(engine, b'Sec-WebSocket-Protocol: chat\r\n')
        with pytest.raises(TypeError):
            server.accept(b'chat')
        with pytest.raises(TypeError):
            server.accept(None, [('X', 'y')])


class TestReject:
    """RFC 6455 §4.2.2: denying the handshake with an HTTP response."""

    def test_default(self, engine: ModuleType) -> None:
        server = received(engine)
        assert server.reject() is None
        assert server.data_to_send() == (
            b'HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
        )
        assert server.state is State.CLOSED
        assert server.close_expected() is True
        assert server.close_code == 1006
        assert server.error is None

    def test_headers_and_body(self, engine: ModuleType) -> None:
        server = received(engine)
        # A denial may carry any header, the handshake's own included.
        server.reject(
            401,
            [
                (b'WWW-Authenticate', b'Basic'),
                (b'Sec-WebSocket-Protocol', b'x'),
                (b'Sec-WebSocket-Extensions', b'y'),
            ],
            b'no',
        )
        assert server.data_to_send() == (
            b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\n'
            b'Sec-WebSocket-Protocol: x\r\nSec-WebSocket-Extensions: y\r\n'
            b'Content-Length: 2\r\nConnection: close\r\n\r\nno'
        )

    def test_given_length_and_connection(self, engine: ModuleType) -> None:
        server = received(engine)
        server.reject(
            500, [(b'content-LENGTH', b'3'), (b'CONNECTION', b'keep-alive')], b'abc'
        )
        assert server.data_to_send() == (
            b'HTTP/1.1 500 Internal Server Error\r\ncontent-LENGTH: 3\r\n'
            b'CONNECTION: keep-alive\r\n\r\nabc'
        )

    def test_unknown_status_phrase(self, engine: ModuleType) -> None:
        server = received(engine)
        server.reject(599, body=bytearray(b'x'))
        assert server.data_to_send() == (
            b'HTTP/1.1 599 \r\nContent-Length: 1\r\nConnection: close\r\n\r\nx'
        )

    @pytest.mark.parametrize(
        ('status', 'phrase'),
        [(413, b'Request Entity Too Large'), (422, b'Unprocessable Entity'),
         (418, b"I'm a Teapot"), (100, b'Continue'), (302, b'Found')],
    )  # fmt: skip
    def test_python_311_phrases(
        self, engine: ModuleType, status: int, phrase: bytes
    ) -> None:
        server = received(engine)
        server.reject(status)
        assert server.data_to_send().startswith(
            b'HTTP/1.1 %d %s\r\n' % (status, phrase)
        )

    @pytest.mark.parametrize('status', [99, 101, 600, 0, -403])
    def test_invalid_status(self, engine: ModuleType, status: int) -> None:
        server = received(engine)
        with pytest.raises(ValueError) as info:
            server.reject(status)
        assert str(info.value) == f'invalid status code {status}'
        with pytest.raises(ValueError):
            server.reject_start(status)
        assert server.state is State.CONNECTING

    def test_invalid_header(self, engine: ModuleType) -> None:
        server = received(engine)
        with pytest.raises(ValueError, match='invalid header value'):
            server.reject(403, [(b'X', b'\r')])

    def test_kept_bytes_dropped(self, engine: ModuleType) -> None:
        server = engine.ServerConnection()
        server.receive_data(STANDARD_REQUEST + masked(1, b'early'))
        server.reject()
        assert server.next_message() is None
        assert server.receive_data(masked(1, b'late')) == 0

    def test_before_request(self, engine: ModuleType) -> None:
        server = engine.ServerConnection()
        with pytest.raises(InvalidState) as info:
            server.reject()
        assert str(info.value) == 'reject() is not allowed in state CONNECTING'

    def test_after_accept(self, engine: ModuleType) -> None:
        server = received(engine)
        server.accept()
        with pytest.raises(InvalidState) as info:
            server.reject()
        assert str(info.value) == 'reject() is not allowed in state OPEN'

    def test_wrong_types(self, engine: ModuleType) -> None:
        server = received(engine)
        with pytest.raises(TypeError):
            server.reject('403')
        with pytest.raises(TypeError):
            server.reject(403, body='text')


class TestStreamingReject:
    """ASGI ``websocket.http.response``: a denial with a streamed body."""

    def test_handshake_headers_allowed(self, engine: ModuleType) -> None:
        server = received(engine)
        server.reject_start(
            400,
            [(b'Sec-WebSocket-Extensions', b'y'), (b'Sec-WebSocket-Protocol', b'x')],
        )
        server.reject_body(b'')
        assert server.data_to_send() == (
            b'HTTP/1.1 400 Bad Request\r\nSec-WebSocket-Extensions: y\r\n'
            b'Sec-WebSocket-Protocol: x\r\nContent-Length: 0\r\n'
            b'Connection: close\r\n\r\n'
        )

    def test_single_body_is_plain_reject(self, engine: ModuleType) -> None:
        server = received(engine)
        assert server.reject_start(404, [(b'X', b'1')]) is None
        assert server.data_to_send() == b''
        assert server.state is State.CONNECTING
        server.reject_body(b'gone')
        assert server.data_to_send() == (
            b'HTTP/1.1 404 Not Found\r\nX: 1\r\nContent-Length: 4\r\n'
            b'Connection: close\r\n\r\ngone'
        )
        assert server.state is State.CLOSED

    def test_chunked(self, engine: ModuleType) -> None:
        server = received(engine)
        server.reject_start(403)
        server.reject_body(b'a' * 20, more_body=True)
        assert server.state is State.CONNECTING
        server.reject_body(b'', more_body=True)
        server.reject_body(memoryview(b'end'), more_body=True)
        server.reject_body(b'')
        assert server.data_to_send() == (
            b'HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n'
            b'Connection: close\r\n\r\n14\r\n'
            + b'a' * 20
            + b'\r\n3\r\nend\r\n0\r\n\r\n'
        )
        assert server.state is State.CLOSED
        assert server.close_expected() is True

    def test_chunked_empty_first(self, engine: ModuleType) -> None:
        server = received(engine)
        server.reject_start(403, [(b'Connection', b'close')])
        server.reject_body(b'', more_body=True)
        assert server.data_to_send() == (
            b'HTTP/1.1 403 Forbidden\r\nConnection: close\r\n'
            b'Transfer-Encoding: chunked\r\n\r\n'
        )
        server.reject_body(b'x')
        assert server.data_to_send() == b'1\r\nx\r\n0\r\n\r\n'

    def test_with_content_length(self, engine: ModuleType) -> None:
        server = received(engine)
        server.reject_start(403, [(b'Content-Length', b'5')])
        server.reject_body(b'ab', more_body=True)
        server.reject_body(b'cde')
        assert server.data_to_send() == (
            b'HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n'
            b'Connection: close\r\n\r\nabcde'
        )

    def test_with_content_length_single_body(self, engine: ModuleType) -> None:
        server = received(engine)
        server.reject_start(403, [(b'content-length', b'2')])
        server.reject_body(b'ab')
        assert server.data_to_send() == (
            b'HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\n'
            b'Connection: close\r\n\r\nab'
        )

    def test_other_answers_refused_meanwhile(self, engine: ModuleType) -> None:
        server = received(engine)
        server.reject_start(403)
        for call, args in [('accept', ()), ('reject', ()), ('reject_start', (403,))]:
            with pytest.raises(InvalidState) as info:
                getattr(server, call)(*args)
            assert str(info.value) == f'{call}() is not allowed in state CONNECTING'
        server.reject_body(b'x', True)
        with pytest.raises(InvalidState):
            server.accept()

    def test_input_ignored_meanwhile(self, engine: ModuleType) -> None:
        server = received(engine)
        server.reject_start(403)
        assert server.receive_data(bytes(100_000)) == 0
        assert server.error is None
        assert server.data_to_send() == b''
        server.reject_body(b'')
        assert server.data_to_send().startswith(b'HTTP/1.1 403 Forbidden\r\n')

    def test_body_without_start(self, engine: ModuleType) -> None:
        server = received(engine)
        with pytest.raises(InvalidState) as info:
            server.reject_body(b'x')
        assert str(info.value) == 'reject_body() is not allowed in state CONNECTING'

    def test_body_after_end(self, engine: ModuleType) -> None:
        server = received(engine)
        server.reject_start(403)
        server.reject_body(b'x')
        with pytest.raises(InvalidState) as info:
            server.reject_body(b'y')
        assert str(info.value) == 'reject_body() is not allowed in state CLOSED'

    def test_eof_meanwhile(self, engine: ModuleType) -> None:
        server = received(engine)
        server.reject_start(403)
        assert server.receive_eof() == CLOSED
        with pytest.raises(InvalidState):
            server.reject_body(b'x')

    def test_start_needs_request(self, engine: ModuleType) -> None:
        server = engine.ServerConnection()
        with pytest.raises(InvalidState) as info:
            server.reject_start(403)
        assert str(info.value) == 'reject_start() is not allowed in state CONNECTING'

    def test_wrong_types(self, engine: ModuleType) -> None:
        server = received(engine)
        with pytest.raises(TypeError):
            server.reject_start('403')
        server.reject_start(403)
        with pytest.raises(TypeError):
            server.reject_body('text')


class TestBeforeAcceptLimit:
    """Bytes between the request and the answer are bounded (check 14)."""

    def test_cumulative(self, engine: ModuleType) -> None:
        server = received(engine)
        assert server.receive_data(bytes(40000)) == 0
        assert server.receive_data(bytes(25536)) == 0
        assert server.receive_data(b'x') == FAILED | OUTPUT | CLOSED
        assert server.error == (
            400,
            'received too much data before the handshake completed',
        )
        assert server.request is not None
        with pytest.raises(InvalidState):
            server.accept()

    def test_same_call_as_request(self, engine: ModuleType) -> None:
        server = engine.ServerConnection()
        flags = server.receive_data(STANDARD_REQUEST + bytes(65537))
        assert flags == HANDSHAKE | FAILED | OUTPUT | CLOSED
        assert server.data_to_send().startswith(b'HTTP/1.1 400 Bad Request\r\n')


class TestClientArguments:
    """RFC 9112 §2.2, §3.2: nothing the client sends can break its request.

    The engine writes `host`, `target`, `origin` and the subprotocols into
    the request as they are, so a CR or LF would end a line early and inject
    a header. The constructor refuses them.
    """

    LINE_BREAKS = ['a\r\nX-Injected: 1', 'a\n', 'a\r', 'a\x00', '\r\n']

    @pytest.mark.parametrize('host', LINE_BREAKS)
    def test_host(self, engine: ModuleType, host: str) -> None:
        with pytest.raises(ValueError) as info:
            engine.ClientConnection(host)
        assert str(info.value) == 'invalid host'

    @pytest.mark.parametrize('origin', LINE_BREAKS)
    def test_origin(self, engine: ModuleType, origin: str) -> None:
        with pytest.raises(ValueError) as info:
            engine.ClientConnection('h', origin=origin)
        assert str(info.value) == 'invalid origin'

    @pytest.mark.parametrize(
        'target',
        ['', 'chat', '*', 'http://h/chat', '/a b', '/a\tb', '/\u00e4', '/\x7f',
         '/\r\nX-Injected: 1', '/\n', '/\x00'],
    )  # fmt: skip
    def test_target(self, engine: ModuleType, target: str) -> None:
        with pytest.raises(ValueError) as info:
            engine.ClientConnection('h', target)
        assert str(info.value) == 'invalid request target'

    @pytest.mark.parametrize(
        'subprotocol',
        ['', 'a b', 'a,b', 'a;b', '(chat)', '"chat"', 'ch\u00e4t', 'a\r\nX: 1',
         'a\x00', 'a/b'],
    )  # fmt: skip
    def test_subprotocol(self, engine: ModuleType, subprotocol: str) -> None:
        for subprotocols in ([subprotocol], ['chat', subprotocol]):
            with pytest.raises(ValueError) as info:
                engine.ClientConnection('h', subprotocols=subprotocols)
            assert str(info.value) == 'invalid subprotocol'

    def test_valid_edges(self, engine: ModuleType) -> None:
        tchars = "!#$%&'*+-.^_`|~09AZaz"
        target = '/' + ''.join(chr(c) for c in range(0x21, 0x7F))
        client = engine.ClientConnection(
            'h \t\u00ff',
            target,
            subprotocols=[tchars, 'x'],
            origin='null',
            random=deterministic_random(),
        )
        client.send_request()
        request = client.data_to_send()
        assert request.startswith(f'GET {target} HTTP/1.1\r\n'.encode())
        assert b'\r\nHost: h \t\xc3\xbf\r\n' in request
        assert f'\r\nSec-WebSocket-Protocol: {tchars}, x\r\n'.encode() in request
        assert b'\r\nOrigin: null\r\n' in request
        assert request.count(b'\r\n') == 9

    def test_order(self, engine: ModuleType) -> None:
        # Types, then the limits and compression keywords, then host,
        # target, subprotocols, headers and origin, in that order.
        bad = {
            'subprotocols': ['a b'],
            'headers': [(b'X', b'\n')],
            'origin': '\n',
        }
        with pytest.raises(TypeError):
            engine.ClientConnection('\n', 'x', random=1, **bad)
        with pytest.raises(ValueError, match='max_size must be positive'):
            engine.ClientConnection('\n', 'x', max_size=0, **bad)
        with pytest.raises(ValueError, match='deflate_level must be between'):
            engine.ClientConnection('\n', 'x', deflate_level=10, **bad)
        expected = [
            ('invalid host', {}),
            ('invalid request target', {'host': 'h'}),
            ('invalid subprotocol', {'host': 'h', 'target': '/'}),
            ('invalid header value', {'host': 'h', 'target': '/', 'subprotocols': []}),
            ('invalid origin', {'host': 'h', 'target': '/', 'subprotocols': [],
                                'headers': []}),
        ]  # fmt: skip
        for message, fixed in expected:
            arguments = {'host': '\n', 'target': 'x', **bad, **fixed}
            with pytest.raises(ValueError) as info:
                engine.ClientConnection(**arguments)
            assert str(info.value) == message


class TestClientRequest:
    """RFC 6455 §4.1: the client's opening request."""

    def test_standard(self, engine: ModuleType) -> None:
        client = engine.ClientConnection(
            'server.example.com', '/chat', random=deterministic_random()
        )
        assert client.send_request() is None
        assert client.data_to_send() == (
            b'GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n'
            b'Connection: Upgrade\r\nSec-WebSocket-Key: N/ohPTf6IT03+iE9N/ohPQ==\r\n'
            b'Sec-WebSocket-Version: 13\r\n\r\n'
        )
        assert client.state is State.CONNECTING

    def test_everything(self, engine: ModuleType) -> None:
        client = engine.ClientConnection(
            'example.com:8000',
            '/chat?room=1',
            subprotocols=['chat', 'superchat'],
            headers=[(b'Authorization', b'Bearer x'), (b'X-Trace', b'1')],
            origin='https://example.com',
            random=deterministic_random(bytes(range(16))),
        )
        client.send_request()
        assert client.data_to_send() == (
            b'GET /chat?room=1 HTTP/1.1\r\nHost: example.com:8000\r\n'
            b'Upgrade: websocket\r\nConnection: Upgrade\r\n'
            b'Sec-WebSocket-Key: AAECAwQFBgcICQoLDA0ODw==\r\n'
            b'Sec-WebSocket-Version: 13\r\nOrigin: https://example.com\r\n'
            b'Sec-WebSocket-Protocol: chat, superchat\r\n'
            b'Authorization: Bearer x\r\nX-Trace: 1\r\n\r\n'
        )

    def test_str_arguments_utf8(self, engine: ModuleType) -> None:
        # Host and Origin are sent encoded as UTF-8; the target and the
        # subprotocols must be ASCII (the caller percent-encodes the target).
        client = engine.ClientConnection(
            'h\u00f6:1',
            '/%C3%A4?q=\u0021',
            subprotocols=['v2.chat'],
            origin='https://\u00f6',
            random=deterministic_random(),
        )
        client.send_request()
        request = client.data_to_send()
        assert request.startswith(b'GET /%C3%A4?q=! HTTP/1.1\r\nHost: h\xc3\xb6:1\r\n')
        assert b'\r\nOrigin: https://\xc3\xb6\r\n' in request
        assert b'\r\nSec-WebSocket-Protocol: v2.chat\r\n' in request

    @pytest.mark.parametrize(
        'name', ['host', 'target', 'subprotocol', 'origin', 'subprotocol-later']
    )
    def test_surrogates(self, engine: ModuleType, name: str) -> None:
        # As PyO3 extracts a str: UnicodeEncodeError when the object is built.
        arguments: dict[str, Any] = {
            'host': 'h',
            'target': '/',
            'subprotocols': ['chat'],
            'origin': 'o',
        }
        if name == 'subprotocol':
            arguments['subprotocols'] = ['\ud800']
        elif name == 'subprotocol-later':
            arguments['subprotocols'] = ['chat', 'x\udfff']
        else:
            arguments[name] = '\ud800'
        with pytest.raises(UnicodeEncodeError):
            engine.ClientConnection(**arguments)

    def test_default_target_and_random(self, engine: ModuleType) -> None:
        client = engine.ClientConnection('h')
        client.send_request()
        request = client.data_to_send()
        assert request.startswith(b'GET / HTTP/1.1\r\nHost: h\r\n')
        key = request.split(b'Sec-WebSocket-Key: ')[1].split(b'\r\n')[0]
        assert len(key) == 24
        other = engine.ClientConnection('h')
        other.send_request()
        assert key not in other.data_to_send()

    def test_invalid_headers(self, engine: ModuleType) -> None:
        with pytest.raises(ValueError, match='invalid header name'):
            engine.ClientConnection('h', headers=[(b'Bad Name', b'x')])
        with pytest.raises(ValueError, match='invalid header value'):
            engine.ClientConnection('h', headers=[(b'X', b'a\r\n')])

    @pytest.mark.parametrize('compression', [False, True])
    def test_extensions_header_refused(
        self, engine: ModuleType, compression: bool
    ) -> None:
        for name in (b'Sec-WebSocket-Extensions', b'sec-websocket-extensions'):
            with pytest.raises(ValueError) as info:
                engine.ClientConnection(
                    'h',
                    headers=[(b'X', b'1'), (name, b'permessage-deflate')],
                    compression=compression,
                )
            assert str(info.value) == 'set extensions with the compression options'

    def test_subprotocol_header_allowed(self, engine: ModuleType) -> None:
        # Unlike accept(), the client does not refuse Sec-WebSocket-Protocol
        # among its headers; it is sent as given, after the offer line.
        client = engine.ClientConnection(
            'h',
            subprotocols=['chat'],
            headers=[(b'Sec-WebSocket-Protocol', b'v2')],
            random=deterministic_random(),
        )
        client.send_request()
        assert client.data_to_send().endswith(
            b'Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Protocol: v2\r\n\r\n'
        )

    def test_only_once(self, engine: ModuleType) -> None:
        client = engine.ClientConnection('h')
        client.send_request()
        with pytest.raises(InvalidState) as info:
            client.send_request()
        assert str(info.value) == 'send_request() is not allowed in state CONNECTING'

    def test_wrong_types(self, engine: ModuleType) -> None:
        with pytest.raises(TypeError):
            engine.ClientConnection(b'h')
        with pytest.raises(TypeError):
            engine.ClientConnection('h', b'/')
        with pytest.raises(TypeError):
            engine.ClientConnection('h', origin=b'o')
        with pytest.raises(TypeError):
            engine.ClientConnection('h', subprotocols=[b'chat'])
        with pytest.raises(TypeError):
            engine.ClientConnection('h', random=b'not callable')
