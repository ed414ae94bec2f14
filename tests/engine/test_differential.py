"""Differential tests: the Rust engine and the twin, fed the same streams.

Hypothesis builds random and mutated input (valid frames with random
fragmentation, control frames, bad bits and opcodes, bit flips, truncations,
insertions, mangled handshakes) and random calls (sends, closes, ``fail()``,
EOF, reading messages). Both engines get the same calls with the same split
points, and after every call they must agree on the return value or
exception, the bytes to send, the state and every result attribute. This is
the main guard against the two engines drifting apart.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

from hypothesis import given, strategies as st

from gyrfalcon.testing.pair import STANDARD_REQUEST, deterministic_random, open_engine

Op = tuple[Any, ...]

SNAPSHOT = (
    'state',
    'error',
    'close_sent',
    'close_received',
    'close_code',
    'close_reason',
    'last_pong',
    'queued_messages',
    'queued_bytes',
    'reading_paused',
    'pending_output',
    'writing_paused',
    'request',
    'response',
)

OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        'max_size': st.sampled_from([None, 1, 5, 16, 100, 16777216]),
        'max_frame_size': st.sampled_from([None, 1, 4, 50]),
        'max_fragments': st.sampled_from([None, 1, 2, 5]),
        'max_queue': st.sampled_from([None, 1, 2, 32]),
        'max_queue_bytes': st.sampled_from([None, 1, 10, 4194304]),
        'write_limit': st.sampled_from([1, 10, 65536]),
    },
)

HEAD_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        'max_request_line': st.sampled_from([8, 40, 8192]),
        'max_header_line': st.sampled_from([8, 50, 8192]),
        'max_headers': st.sampled_from([1, 5, 128]),
    },
)

CLOSE_CODES = [0, 999, 1000, 1001, 1002, 1004, 1005, 1006, 1007, 1011, 1014, 1015,
               1016, 2999, 3000, 4999, 5000, 65535]  # fmt: skip


def mask(data: bytes, key: bytes) -> bytes:
    return bytes(b ^ key[i % 4] for i, b in enumerate(data))


@st.composite
def frames(draw: st.DrawFn, role: str) -> bytes:
    """One frame as the engine in `role` would receive it, often valid."""
    kind = draw(
        st.sampled_from(['text', 'binary', 'cont', 'ping', 'pong', 'close', 'other'])
    )
    if kind == 'text':
        opcode = 1
        payload = draw(st.text(max_size=30)).encode('utf-8', 'surrogatepass')
    elif kind in ('binary', 'cont'):
        opcode = 2 if kind == 'binary' else 0
        payload = draw(st.binary(max_size=40))
    elif kind in ('ping', 'pong'):
        opcode = 9 if kind == 'ping' else 10
        payload = draw(st.binary(max_size=130))
    elif kind == 'close':
        opcode = 8
        if draw(st.booleans()):
            code = draw(st.sampled_from(CLOSE_CODES))
            reason = draw(st.text(max_size=10)).encode('utf-8', 'surrogatepass')
            payload = code.to_bytes(2, 'big') + reason
        else:
            payload = draw(st.binary(max_size=3))
    else:
        opcode = draw(st.integers(0, 15))
        payload = draw(st.binary(max_size=20))
    if kind in ('text', 'binary', 'cont') and draw(st.booleans()):
        cut = draw(st.integers(0, len(payload)))
        payload = payload[:cut]
    fin = draw(st.booleans()) if opcode < 8 else draw(st.integers(0, 9)) > 0
    rsv = draw(st.sampled_from([0] * 12 + [1, 2, 4, 7]))
    masked = (role == 'server') != (draw(st.integers(0, 19)) == 0)
    length = len(payload)
    form = draw(st.sampled_from(['minimal'] * 10 + ['16', '64']))
    first = (0x80 if fin else 0) | rsv << 4 | opcode
    mask_bit = 0x80 if masked else 0
    if form == '16' or (form == 'minimal' and 126 <= length < 65536):
        header = bytes([first, mask_bit | 126]) + length.to_bytes(2, 'big')
    elif form == '64':
        header = bytes([first, mask_bit | 127]) + length.to_bytes(8, 'big')
    else:
        header = bytes([first, mask_bit | length])
    if masked:
        key = draw(st.binary(min_size=4, max_size=4))
        return header + key + mask(payload, key)
    return header + payload


@st.composite
def mutated(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` with a few bit flips, truncations or insertions."""
    for _ in range(draw(st.integers(0, 2))):
        action = draw(st.sampled_from(['flip', 'truncate', 'insert', 'none', 'none']))
        if action == 'flip' and data:
            index = draw(st.integers(0, len(data) - 1))
            bit = draw(st.integers(0, 7))
            data = data[:index] + bytes([data[index] ^ (1 << bit)]) + data[index + 1 :]
        elif action == 'truncate' and data:
            data = data[: draw(st.integers(0, len(data) - 1))]
        elif action == 'insert':
            index = draw(st.integers(0, len(data)))
            data = data[:index] + draw(st.binary(min_size=1, max_size=4)) + data[index:]
    return data


@st.composite
def pieces(draw: st.DrawFn, data: bytes) -> list[bytes]:
    """`data` split at random points."""
    if not data:
        return [data]
    cuts = draw(st.lists(st.integers(1, len(data)), max_size=4, unique=True))
    points = [0, *sorted(cuts)]
    if points[-1] != len(data):
        points.append(len(data))
    return [data[a:b] for a, b in zip(points, points[1:], strict=False)]


@st.composite
def frame_ops(draw: st.DrawFn, role: str) -> list[Op]:
    """A session of calls on an OPEN connection."""
    ops: list[Op] = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(
            st.sampled_from(
                ['feed'] * 8 + ['next', 'send', 'close', 'fail', 'eof', 'ping']
            )
        )
        if kind == 'feed':
            stream = b''.join(draw(st.lists(frames(role), min_size=1, max_size=5)))
            stream = draw(mutated(stream))
            ops.extend(('receive_data', piece) for piece in draw(pieces(stream)))
        elif kind == 'next':
            ops.append(('next_message',))
        elif kind == 'send':
            if draw(st.booleans()):
                ops.append(('send_text', draw(st.text(max_size=20))))
            else:
                ops.append(('send_binary', draw(st.binary(max_size=200))))
        elif kind == 'ping':
            name = draw(st.sampled_from(['send_ping', 'send_pong']))
            ops.append((name, draw(st.binary(max_size=130))))
        elif kind == 'close':
            code = draw(st.sampled_from(CLOSE_CODES))
            ops.append(('send_close', code, draw(st.text(max_size=70))))
        elif kind == 'fail':
            code = draw(st.sampled_from(CLOSE_CODES))
            ops.append(('fail', code, draw(st.text(max_size=130))))
        else:
            ops.append(('receive_eof',))
    return ops


REQUEST_LINES = [
    b'Sec-WebSocket-Protocol: chat, superchat',
    b'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits',
    b'Sec-WebSocket-Extensions: a; b="c"',
    b'Sec-WebSocket-Extensions: a;;',
    b'Sec-WebSocket-Version: 8',
    b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    b'Host: other',
    b'Upgrade: h2c',
    b'Connection: close',
    b'Origin: https://example.com',
    b'X-Long: ' + b'x' * 60,
    b' folded',
    b'Bad Header: x',
    b'X: \x00',
]


@st.composite
def request_ops(draw: st.DrawFn) -> list[Op]:
    """A mangled opening request, an answer, then frames."""
    lines = STANDARD_REQUEST.split(b'\r\n')[:-2]
    keep = [line for line in lines[1:] if draw(st.integers(0, 9)) > 0]
    extra = draw(st.lists(st.sampled_from(REQUEST_LINES), max_size=3))
    first = lines[0]
    if draw(st.integers(0, 5)) == 0:
        first = draw(
            st.sampled_from(
                [
                    b'POST /chat HTTP/1.1',
                    b'GET /chat HTTP/1.0',
                    b'GET chat HTTP/1.1',
                    b'GET /a%20b?q=1 HTTP/1.1',
                    b'GET  / HTTP/1.1',
                ]  # fmt: skip
            )
        )
    head = b'\r\n'.join([first, *keep, *extra]) + b'\r\n\r\n'
    head = draw(mutated(head))
    if draw(st.integers(0, 4)) == 0:
        # A soup of HTTP tokens, for the line parser and its limits.
        head = b''.join(draw(st.lists(st.sampled_from(SOUP), max_size=40)))
    trailing = b''.join(draw(st.lists(frames('server'), max_size=2)))
    ops: list[Op] = [('receive_data', piece) for piece in draw(pieces(head + trailing))]
    answer = draw(
        st.sampled_from(['accept', 'accept-protocol', 'reject', 'stream', 'none'])
    )
    if answer == 'accept':
        ops.append(('accept',))
    elif answer == 'accept-protocol':
        ops.append(('accept', 'chat', [(b'X-Extra', b'1')]))
    elif answer == 'reject':
        ops.append(('reject', draw(st.sampled_from([400, 403, 418, 599])), [], b'no'))
    elif answer == 'stream':
        ops.append(('reject_start', 403, [(b'X', b'y')]))
        ops.append(('reject_body', b'part', True))
        ops.append(('reject_body', b'', False))
    ops.extend(draw(frame_ops('server')))
    return ops


SOUP = [
    b'GET',
    b' ',
    b'/',
    b'HTTP/1.1',
    b'\r\n',
    b'\r\n\r\n',
    b'\n',
    b'\r',
    b':',
    b'Host',
    b'x' * 9,
    b'\t',
    b'\x00',
    b'\xff',
    b'Upgrade: websocket',
    b'Connection: Upgrade',
    b'Sec-WebSocket-Version: 13',
    b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
]

RESPONSE_LINES = [
    b'Sec-WebSocket-Protocol: chat',
    b'Sec-WebSocket-Protocol: other',
    b'Sec-WebSocket-Extensions: permessage-deflate',
    b'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
    b'Content-Length: 3',
    b'Upgrade: h2c',
    b'X-Long: ' + b'x' * 60,
    b'Bad Header: x',
]


@st.composite
def response_ops(draw: st.DrawFn) -> list[Op]:
    """A mangled opening response, then frames."""
    status = draw(
        st.sampled_from(
            [b'HTTP/1.1 101 Switching Protocols'] * 5
            + [
                b'HTTP/1.1 403 Forbidden',
                b'HTTP/1.1 101',
                b'HTTP/1.0 200 OK',
                b'HTTP/1.1 1O1 x',
            ]
        )  # fmt: skip
    )
    lines = [
        b'Upgrade: websocket',
        b'Connection: Upgrade',
        b'Sec-WebSocket-Accept: 7Ubo2JRe6fIuZAdGHq7kDA4XEQ0=',
    ]
    keep = [line for line in lines if draw(st.integers(0, 9)) > 0]
    extra = draw(st.lists(st.sampled_from(RESPONSE_LINES), max_size=2))
    head = b'\r\n'.join([status, *keep, *extra]) + b'\r\n\r\n'
    head = draw(mutated(head))
    if draw(st.integers(0, 4)) == 0:
        head = b'HTTP/1.1 101 OK' + b''.join(
            draw(st.lists(st.sampled_from(SOUP), max_size=40))
        )
    trailing = b''.join(draw(st.lists(frames('client'), max_size=2)))
    ops: list[Op] = [('receive_data', piece) for piece in draw(pieces(head + trailing))]
    ops.extend(draw(frame_ops('client')))
    return ops


def outcome(call: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    try:
        return 'ok', call(*args)
    except TypeError:
        # PyO3's argument errors word things differently; the class counts.
        return 'raised', 'TypeError'
    except Exception as ex:
        return 'raised', (type(ex), str(ex))


def snapshot(connection: Any) -> dict[str, Any]:
    seen = {name: getattr(connection, name) for name in SNAPSHOT}
    seen['close_expected'] = connection.close_expected()
    seen['output'] = connection.data_to_send()
    return seen


def run_both(engines: tuple[ModuleType, ModuleType], build: Callable[[ModuleType], Any],
             ops: list[Op]) -> None:  # fmt: skip
    native, python = engines
    left = build(native)
    right = build(python)
    assert snapshot(left) == snapshot(right), 'after setup'
    for step, (name, *args) in enumerate(ops):
        results = (
            outcome(getattr(left, name), *args),
            outcome(getattr(right, name), *args),
        )
        assert results[0] == results[1], f'step {step}: {name}{tuple(args)!r}'
        assert snapshot(left) == snapshot(right), f'after step {step}: {name}'


def opened(role: str, options: dict[str, Any]) -> Callable[[ModuleType], Any]:
    def build(engine: ModuleType) -> Any:
        return open_engine(engine, role, options)

    return build


@given(role=st.sampled_from(['server', 'client']), options=OPTIONS, data=st.data())
def test_frames(
    engines: tuple[ModuleType, ModuleType],
    role: str,
    options: dict[str, Any],
    data: Any,
) -> None:
    ops = data.draw(frame_ops(role))
    run_both(engines, opened(role, options), ops)


@given(options=OPTIONS, ops=st.lists(frames('server'), min_size=1, max_size=30))
def test_long_streams(
    engines: tuple[ModuleType, ModuleType], options: dict[str, Any], ops: list[bytes]
) -> None:
    stream = b''.join(ops)
    calls: list[Op] = [
        ('receive_data', stream[i : i + 7]) for i in range(0, len(stream), 7)
    ]
    calls.append(('next_message',))
    run_both(engines, opened('server', options), calls)


@given(options=HEAD_OPTIONS, limits=OPTIONS, ops=request_ops())
def test_server_handshake(
    engines: tuple[ModuleType, ModuleType],
    options: dict[str, Any],
    limits: dict[str, Any],
    ops: list[Op],
) -> None:
    def build(engine: ModuleType) -> Any:
        return engine.ServerConnection(**options, **limits)

    run_both(engines, build, ops)


@given(options=HEAD_OPTIONS, ops=response_ops(), offer=st.booleans())
def test_client_handshake(
    engines: tuple[ModuleType, ModuleType],
    options: dict[str, Any],
    ops: list[Op],
    offer: bool,
) -> None:
    def build(engine: ModuleType) -> Any:
        client = engine.ClientConnection(
            'server.example.com',
            '/chat',
            subprotocols=['chat'] if offer else [],
            random=deterministic_random(),
            **options,
        )
        client.send_request()
        return client

    run_both(engines, build, ops)


@given(
    method=st.sampled_from(['GET', 'POST', 'get']),
    target=st.sampled_from([b'/', b'/a%zz?x', b'*', b'/\xff']),
    version=st.sampled_from(['1.1', '1.0', 'HTTP/1.1']),
    drop=st.integers(0, 6),
    extra=st.lists(st.sampled_from(REQUEST_LINES), max_size=2),
)
def test_receive_request(
    engines: tuple[ModuleType, ModuleType],
    method: str,
    target: bytes,
    version: str,
    drop: int,
    extra: list[bytes],
) -> None:
    lines = STANDARD_REQUEST.split(b'\r\n')[1:-2]
    lines = [line for index, line in enumerate(lines) if index != drop] + extra
    headers = [tuple(line.split(b':', 1)) for line in lines if b':' in line]
    ops: list[Op] = [('receive_request', method, target, headers, version), ('accept',)]

    def build(engine: ModuleType) -> Any:
        return engine.ServerConnection(max_headers=6)

    run_both(engines, build, ops)


def test_engines_are_different_modules(engines: tuple[ModuleType, ModuleType]) -> None:
    native, python = engines
    assert native.__name__ == 'gyrfalcon._native'
    assert python.__name__ == 'gyrfalcon.protocol._py'
