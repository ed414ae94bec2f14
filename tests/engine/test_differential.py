"""Differential tests: the Rust engine and the twin, fed the same streams.

Hypothesis builds random and mutated input (valid frames with random
fragmentation, control frames, bad bits and opcodes, bit flips, truncations,
insertions, mangled handshakes) and random calls (sends, closes, ``fail()``,
EOF, reading messages). Both engines get the same calls with the same split
points, and after every call they must agree on the return value or
exception, the bytes to send, the state and every result attribute. This is
the main guard against the two engines drifting apart.

With permessage-deflate (RFC 7692) the input also holds compressed messages
from a zlib peer (fragmented, context takeover or not, final blocks, kept
tails) and the calls include compressed sends and prepared frames. Compressed
bytes may differ between the engines' deflate implementations, so their
output is compared frame by frame, compressed payloads after inflating.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

from hypothesis import given, strategies as st

from gyrfalcon.protocol import load_engine
from gyrfalcon.testing.pair import STANDARD_REQUEST, deterministic_random, open_engine

from ._deflate import TAIL, Reader, parse_frames

Op = tuple[Any, ...]

SNAPSHOT = (
    'state',
    'error',
    'failure_deferred',
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
    'deflate',
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
def frame_ops(
    draw: st.DrawFn, role: str, source: st.SearchStrategy[bytes] | None = None
) -> list[Op]:
    """A session of calls on an OPEN connection.

    `source` makes the frames the connection receives (``frames(role)`` by
    default); a compressing source also brings longer sends and prepared
    frames.
    """
    ops: list[Op] = []
    compressing = source is not None
    source = frames(role) if source is None else source
    kinds = ['feed'] * 8 + ['next'] * 3 + ['send', 'close', 'fail', 'eof', 'ping']
    if compressing:
        kinds += ['send'] * 3 + ['prepared'] * (2 if role == 'server' else 0)
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(kinds))
        if kind == 'feed':
            stream = b''.join(draw(st.lists(source, min_size=1, max_size=5)))
            stream = draw(mutated(stream))
            for piece in draw(pieces(stream)):
                ops.append(('receive_data', piece))
                # Messages taken between reads: a fault behind them is then
                # deferred or not depending on what is still queued.
                if draw(st.integers(0, 3)) == 0:
                    ops.append(('next_message',))
        elif kind == 'next':
            ops.append(('next_message',))
        elif kind == 'send':
            size = 300 if compressing else 20
            if draw(st.booleans()):
                ops.append(('send_text', draw(payload_text(size))))
            else:
                ops.append(('send_binary', draw(payload_bytes(size * 2))))
        elif kind == 'prepared':
            data = draw(st.one_of(payload_text(300), payload_bytes(300)))
            window = draw(st.sampled_from([None, 9, 12, 15]))
            frame = PYTHON.prepare_frame(data, deflate_window_bits=window)
            compressed = window is not None or draw(st.integers(0, 9)) == 0
            ops.append(('send_prepared', frame, Kw(compressed=compressed)))
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


PYTHON = load_engine('python')

# Text and binary that compress: words repeat, as in push-server traffic.
WORDS = ['price', 'symbol', '"GYR"', '101.25', 'ü', '☃', ' ', ', ', '{', '}', 'x']


def payload_text(size: int) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=size // 10),
        st.lists(st.sampled_from(WORDS), max_size=size // 4).map(''.join),
    )


def payload_bytes(size: int) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=size // 10),
        st.lists(
            st.sampled_from([b'\x00' * 8, b'abc', b'\xff\xfe', b'GYR']),
            max_size=size // 4,
        ).map(b''.join),  # fmt: skip
    )


def encode(role: str, opcode: int, payload: bytes, fin: bool, rsv: int) -> bytes:
    """A frame as the engine in `role` receives it (clients mask theirs)."""
    first = (0x80 if fin else 0) | rsv << 4 | opcode
    size = len(payload)
    if size < 126:
        length = bytes([size])
    elif size < 65536:
        length = bytes([126]) + size.to_bytes(2, 'big')
    else:
        length = bytes([127]) + size.to_bytes(8, 'big')
    if role == 'client':
        return bytes([first]) + length + payload
    key = b'\x9b\x02\x5e\xc7'
    return bytes([first, 0x80 | length[0]]) + length[1:] + key + mask(payload, key)


class Peer:
    """The compressor of the engine's peer: a stdlib zlib stream.

    Args:
        window_bits: The window the peer may use (the engine's inflater).
        no_context_takeover: The peer resets its compressor per message.
    """

    def __init__(self, window_bits: int, no_context_takeover: bool) -> None:
        # zlib refuses a raw 8-bit window (madler/zlib#171); a peer asked
        # for 8 bits compresses with 9, which our decompressor accepts.
        self.window_bits = max(window_bits, 9)
        self.no_context_takeover = no_context_takeover
        self.stream: Any = None

    def compress(self, data: bytes, how: str) -> bytes:
        """One message's payload: `how` is how it ends (RFC 7692 §7.2.1)."""
        if self.stream is None or self.no_context_takeover:
            self.stream = zlib.compressobj(6, zlib.DEFLATED, -self.window_bits, 8)
        stream = self.stream
        if how.startswith('final'):
            # RFC 7692 §7.2.3.4: a final block; the next message starts over.
            # Bytes after it (its example's 0x00 octet, or anything) are
            # discarded by the receiver.
            self.stream = None
            after = {'final': b'', 'final-octet': b'\x00', 'final-junk': b'\x06\xff'}
            return stream.compress(data) + stream.flush(zlib.Z_FINISH) + after[how]
        out = stream.compress(data) + stream.flush(zlib.Z_SYNC_FLUSH)
        # 'kept' breaks RFC 7692 §7.2.1: the tail stays.
        return out if how == 'kept' else out[: -len(TAIL)]


@st.composite
def compressed_frames(draw: st.DrawFn, role: str, peer: Peer) -> bytes:
    """A message as an RFC 7692 peer sends it, often compressed."""
    if draw(st.integers(0, 3)) == 0:
        return draw(frames(role))
    opcode = draw(st.sampled_from([1, 2]))
    if opcode == 1:
        payload = draw(payload_text(200)).encode('utf-8', 'surrogatepass')
    else:
        payload = draw(payload_bytes(400))
    how = draw(
        st.sampled_from(
            ['strip'] * 8 + ['final', 'final-octet', 'final-junk', 'kept', 'plain']
        )
    )
    rsv = 0 if how == 'plain' else 4
    data = payload if how == 'plain' else peer.compress(payload, how)
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=3)))
    points = [0, *cuts, len(data)]
    parts = [data[a:b] for a, b in zip(points, points[1:], strict=False)]
    out = b''
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        # Now and then a control frame between fragments, or RSV1 where
        # it is not allowed (RFC 7692 §6.1).
        if index and draw(st.integers(0, 7)) == 0:
            out += encode(role, 9, b'p', True, 0)
        bits = rsv if index == 0 else 4 * (draw(st.integers(0, 15)) == 0)
        out += encode(role, opcode if index == 0 else 0, part, last, bits)
    return out


DEFLATE_OPTIONS = st.fixed_dictionaries(
    {'compression': st.just(True)},
    optional={
        'compression_threshold': st.sampled_from([0, 1, 20, 128]),
        'deflate_window_bits': st.sampled_from([9, 12, 15]),
        'deflate_mem_level': st.sampled_from([1, 5, 9]),
        'deflate_level': st.sampled_from([0, 1, 6, 9]),
        'deflate_no_context_takeover': st.booleans(),
    },
)

SIZE_OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        'max_size': st.sampled_from([None, 1, 5, 100, 1000, 16777216]),
        'max_frame_size': st.sampled_from([None, 4, 50]),
        'max_fragments': st.sampled_from([None, 1, 3]),
        'max_queue': st.sampled_from([None, 2, 32]),
        'max_queue_bytes': st.sampled_from([None, 10, 4194304]),
    },
)

OFFERS = [
    'permessage-deflate',
    'permessage-deflate; client_max_window_bits',
    'permessage-deflate; client_no_context_takeover',
    'permessage-deflate; server_no_context_takeover; client_max_window_bits=9',
    'permessage-deflate; server_max_window_bits=10; client_max_window_bits=12',
    'permessage-deflate; client_max_window_bits=8',
]


@st.composite
def answers(draw: st.DrawFn, options: dict[str, Any]) -> str:
    """A server's valid answer to the offer a client with `options` makes."""
    window = options.get('deflate_window_bits', 12)
    answer = 'permessage-deflate'
    if draw(st.booleans()):
        answer += '; server_no_context_takeover'
    if draw(st.booleans()):
        answer += '; client_no_context_takeover'
    bits = draw(st.sampled_from([None, 9, 11, 15]))
    if window < 15:
        bits = min(bits or 15, window)
    if bits is not None:
        answer += f'; server_max_window_bits={bits}'
    client_bits = draw(st.sampled_from([None, 9, 13, 15]))
    if client_bits is not None:
        answer += f'; client_max_window_bits={client_bits}'
    return answer


REQUEST_LINES = [
    b'Sec-WebSocket-Protocol: chat, superchat',
    b'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits',
    b'Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=8, '
    b'permessage-deflate; server_no_context_takeover; client_max_window_bits=9',
    b'Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover'
    b'; server_max_window_bits=10',
    b'Sec-WebSocket-Extensions: permessage-deflate; x=1, permessage-deflate; '
    b'server_max_window_bits="09"',
    b'Sec-WebSocket-Extensions: x-webkit-deflate-frame, permessage-deflate',
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
        st.sampled_from(
            [
                'accept',
                'accept-protocol',
                'accept-extensions',
                'reject',
                'stream',
                'none',
            ]
        )  # fmt: skip
    )
    if answer == 'accept':
        ops.append(('accept',))
    elif answer == 'accept-protocol':
        ops.append(('accept', 'chat', [(b'X-Extra', b'1')]))
    elif answer == 'accept-extensions':
        # Refused (ValueError); the connection stays CONNECTING.
        ops.append(('accept', None, [(b'Sec-WebSocket-Extensions', b'x')]))
        ops.append(('accept',))
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
    b'Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12',
    b'Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=9'
    b'; client_max_window_bits=10; server_no_context_takeover',
    b'Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover'
    b'; server_max_window_bits=15',
    b'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=8',
    b'Sec-WebSocket-Extensions: ',
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


class Kw(dict[str, Any]):
    """Keyword arguments at the end of an op."""


def outcome(call: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    kwargs: dict[str, Any] = {}
    if args and isinstance(args[-1], Kw):
        *args, kwargs = args  # type: ignore[assignment]
    try:
        return 'ok', call(*args, **kwargs)
    except TypeError:
        # PyO3's argument errors word things differently; the class counts.
        return 'raised', 'TypeError'
    except Exception as ex:
        return 'raised', (type(ex), str(ex))


def decoded(data: bytes, reader: Reader) -> list[Any]:
    """Output with compressed frames inflated, the rest as raw bytes.

    Used once permessage-deflate is negotiated: an HTTP head (the 101 that
    ``accept()`` queues) stays as it is, and every frame after it is parsed;
    a frame with RSV1 is compared by its inflated payload, any other frame
    byte for byte.
    """
    items: list[Any] = []
    if data.startswith(b'HTTP/'):
        head, _, data = data.partition(b'\r\n\r\n')
        items.append(('head', head))
    for frame in parse_frames(data):
        if frame.rsv:
            (message,) = reader.read(_unmasked(frame.opcode, frame.payload))
            items.append(('deflated', frame.fin, frame.masked, message))
        else:
            items.append(('frame', frame))
    return items


def _unmasked(opcode: int, payload: bytes) -> bytes:
    size = len(payload)
    if size < 126:
        length = bytes([size])
    elif size < 65536:
        length = b'\x7e' + size.to_bytes(2, 'big')
    else:
        length = b'\x7f' + size.to_bytes(8, 'big')
    return bytes([0xC0 | opcode]) + length + payload


def snapshot(connection: Any, reader: Reader | None = None) -> dict[str, Any]:
    seen = {name: getattr(connection, name) for name in SNAPSHOT}
    seen['close_expected'] = connection.close_expected()
    output = connection.data_to_send()
    if connection.deflate is None or reader is None:
        seen['output'] = output
    else:
        # Compressed sizes may differ between zlib implementations.
        seen['pending_output'] = bool(seen['pending_output'])
        seen['output'] = decoded(output, reader)
    return seen


def run_both(engines: tuple[ModuleType, ModuleType], build: Callable[[ModuleType], Any],
             ops: list[Op]) -> None:  # fmt: skip
    native, python = engines
    left = build(native)
    right = build(python)
    # Each engine's compressed output is inflated by its own peer.
    readers = Reader(), Reader()
    assert snapshot(left, readers[0]) == snapshot(right, readers[1]), 'after setup'
    for step, (name, *args) in enumerate(ops):
        results = (
            outcome(getattr(left, name), *args),
            outcome(getattr(right, name), *args),
        )
        assert results[0] == results[1], f'step {step}: {name}{tuple(args)!r}'
        assert snapshot(left, readers[0]) == snapshot(right, readers[1]), (
            f'after step {step}: {name}'
        )


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


FAULTY = [
    b'\x83\x80\x00\x00\x00\x00',  # reserved opcode 3
    b'\xa1\x81\x00\x00\x00\x00x',  # RSV2
    b'\x80\x81\x00\x00\x00\x00x',  # continuation without a message
    b'\x81\x81\x00\x00\x00\x00\xff',  # invalid UTF-8
    b'\x88\x82\x00\x00\x00\x00\x03\xed',  # Close with code 1005
    b'\x88\x81\x00\x00\x00\x00\x03',  # Close with 1 byte
    b'\x09\x80\x00\x00\x00\x00',  # fragmented Ping
    b'\x81\x05Hello',  # unmasked
]


@st.composite
def deferred_ops(draw: st.DrawFn) -> list[Op]:
    """Messages, a faulty frame, more input; messages taken at random points."""
    valid = [b'\x81\x83\x00\x00\x00\x00abc', b'\x82\x80\x00\x00\x00\x00',
             b'\x01\x81\x00\x00\x00\x00a\x80\x81\x00\x00\x00\x00b',
             b'\x89\x81\x00\x00\x00\x00p']  # fmt: skip
    before = draw(st.lists(st.sampled_from(valid), max_size=4))
    after = draw(st.lists(st.sampled_from(valid + FAULTY), max_size=3))
    stream = b''.join([*before, draw(st.sampled_from(FAULTY)), *after])
    ops: list[Op] = []
    for piece in draw(pieces(stream)):
        ops.append(('receive_data', piece))
        ops.extend(('next_message',) for _ in range(draw(st.integers(0, 2))))
    tail = draw(
        st.lists(
            st.sampled_from(
                [('next_message',)] * 6
                + [
                    ('send_text', 'echo'),
                    ('send_close', 1000, 'bye'),
                    ('send_close', 1005, ''),
                    ('fail', 1011, 'app'),
                    ('receive_eof',),
                    ('receive_data', valid[0]),
                    ('send_ping', b''),
                ]
            ),
            max_size=8,
        )
    )
    return ops + tail


@given(options=OPTIONS, ops=deferred_ops())
def test_deferred_faults(
    engines: tuple[ModuleType, ModuleType], options: dict[str, Any], ops: list[Op]
) -> None:
    """A fault behind queued messages: both engines defer it alike."""
    run_both(engines, opened('server', options), ops)


CLIENT_TEXT = st.one_of(
    st.text(max_size=6),
    st.sampled_from(['/', '/chat?x=1', 'chat', 'a b', 'h\r\nX: 1', '\x00', '\ud800']),
)


@given(
    host=CLIENT_TEXT,
    target=CLIENT_TEXT,
    subprotocols=st.lists(CLIENT_TEXT, max_size=2),
    origin=st.one_of(st.none(), CLIENT_TEXT),
)
def test_client_arguments(
    engines: tuple[ModuleType, ModuleType],
    host: str,
    target: str,
    subprotocols: list[str],
    origin: str | None,
) -> None:
    """The client's checks of what it writes into its request."""

    def build(engine: ModuleType) -> Any:
        return engine.ClientConnection(
            host,
            target,
            subprotocols=subprotocols,
            origin=origin,
            random=deterministic_random(),
        )

    native, python = engines
    left, right = outcome(build, native), outcome(build, python)
    if left[0] == right[0] == 'ok':
        run_both(engines, build, [('send_request',)])
    else:
        assert left == right


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


MAYBE_DEFLATE = st.one_of(st.just({}), DEFLATE_OPTIONS)


@given(options=HEAD_OPTIONS, limits=OPTIONS, deflate=MAYBE_DEFLATE, ops=request_ops())
def test_server_handshake(
    engines: tuple[ModuleType, ModuleType],
    options: dict[str, Any],
    limits: dict[str, Any],
    deflate: dict[str, Any],
    ops: list[Op],
) -> None:
    def build(engine: ModuleType) -> Any:
        return engine.ServerConnection(**options, **limits, **deflate)

    run_both(engines, build, ops)


@given(
    options=HEAD_OPTIONS, ops=response_ops(), offer=st.booleans(), deflate=MAYBE_DEFLATE
)
def test_client_handshake(
    engines: tuple[ModuleType, ModuleType],
    options: dict[str, Any],
    ops: list[Op],
    offer: bool,
    deflate: dict[str, Any],
) -> None:
    def build(engine: ModuleType) -> Any:
        client = engine.ClientConnection(
            'server.example.com',
            '/chat',
            subprotocols=['chat'] if offer else [],
            random=deterministic_random(),
            **options,
            **deflate,
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


@given(
    role=st.sampled_from(['server', 'client']),
    limits=SIZE_OPTIONS,
    options=DEFLATE_OPTIONS,
    data=st.data(),
)
def test_compressed_frames(
    engines: tuple[ModuleType, ModuleType],
    role: str,
    limits: dict[str, Any],
    options: dict[str, Any],
    data: Any,
) -> None:
    """RFC 7692 both ways: compressed input from a zlib peer, compressed sends."""
    if role == 'server':
        extensions = data.draw(st.sampled_from(OFFERS))
    else:
        extensions = data.draw(answers(options))
    config = {**limits, **options}
    # Which window and context takeover the peer gets is the engines' own
    # business (the snapshot compares their ``deflate``); the peer follows it.
    agreed = open_engine(PYTHON, role, config, extensions).deflate
    assert agreed is not None
    if role == 'server':
        peer = Peer(agreed.client_max_window_bits, agreed.client_no_context_takeover)
    else:
        peer = Peer(agreed.server_max_window_bits, agreed.server_no_context_takeover)
    ops = data.draw(frame_ops(role, compressed_frames(role, peer)))

    def build(engine: ModuleType) -> Any:
        return open_engine(engine, role, config, extensions)

    run_both(engines, build, ops)


@given(options=DEFLATE_OPTIONS, data=st.data())
def test_compressed_long_streams(
    engines: tuple[ModuleType, ModuleType], options: dict[str, Any], data: Any
) -> None:
    """Many compressed messages with context takeover, in 5-byte reads."""
    peer = Peer(15, False)
    stream = b''.join(data.draw(st.lists(compressed_frames('server', peer),
                                         min_size=1, max_size=30)))  # fmt: skip
    calls: list[Op] = [
        ('receive_data', stream[i : i + 5]) for i in range(0, len(stream), 5)
    ]
    calls.append(('next_message',))

    def build(engine: ModuleType) -> Any:
        return open_engine(
            engine, 'server', {**options, 'max_queue': None}, 'permessage-deflate'
        )

    run_both(engines, build, calls)
