"""Loading and running the conformance vectors of ``tests/vectors``.

The format is described in ``tests/vectors/README.md``. ``run_vector()``
builds an engine as a vector says, feeds its input in the given pieces and
returns what can be compared with the vector's ``expect``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from gyrfalcon.testing.pair import deterministic_random, open_engine

VECTOR_DIR = Path(__file__).resolve().parent.parent / 'vectors'

Vector = dict[str, Any]
Buffer = bytes | bytearray | memoryview

SPLIT_LIMIT = 64
"""Inputs shorter than this are also fed split at every point."""


def load_vectors() -> list[Vector]:
    """Read every vector file, in file name order."""
    vectors: list[Vector] = []
    for path in sorted(VECTOR_DIR.glob('*.json')):
        for vector in json.loads(path.read_text(encoding='utf-8')):
            vector['file'] = path.name
            vectors.append(vector)
    return vectors


def as_buffer(data: bytes, kind: str) -> Buffer:
    """Return `data` as a ``bytes``, ``bytearray`` or ``memoryview``.

    ``'strided'`` is a view that is not C-contiguous: every other byte of a
    buffer twice as long.
    """
    if kind == 'bytes':
        return data
    if kind == 'bytearray':
        return bytearray(data)
    if kind == 'memoryview':
        return memoryview(data)
    backing = bytearray(2 * len(data))
    backing[::2] = data
    view = memoryview(backing)[::2]
    assert len(data) < 2 or not view.c_contiguous
    return view


def feeding_modes(data: bytes, kind: str) -> Iterator[tuple[str, list[Buffer]]]:
    """Yield the ways to feed `data`: whole, byte by byte, every split."""
    buffer = as_buffer(data, kind)
    yield 'whole', [buffer]
    if len(data) > 1:
        yield 'byte-by-byte', [buffer[i : i + 1] for i in range(len(data))]
    if len(data) < SPLIT_LIMIT:
        for point in range(1, len(data)):
            yield f'split-at-{point}', [buffer[:point], buffer[point:]]


@dataclass
class Run:
    """What feeding a vector produced.

    Attributes:
        connection: The engine, after the input.
        flags: The OR of the flags every input call returned.
        output: Everything ``data_to_send()`` returned after the handshake.
        request_sent: What ``send_request()`` queued (client vectors with
            ``open: false``), else ``b''``.
        popped: What the ``next_message()`` calls among ``after`` returned,
            in the ``messages`` format (``None`` for an empty queue).
    """

    connection: Any
    flags: int = 0
    output: bytes = b''
    request_sent: bytes = b''
    popped: list[dict[str, str] | None] = field(default_factory=list)


def _call(connection: Any, action: Vector) -> Any:
    args = list(action.get('args', ()))
    name = action['call']
    if name == 'receive_data':
        args = [bytes.fromhex(args[0])]
    elif name == 'accept' and len(args) > 1:
        args[1] = [(key.encode('latin-1'), value.encode('latin-1'))
                   for key, value in args[1]]  # fmt: skip
    return getattr(connection, name)(*args)


def build_engine(engine: ModuleType, vector: Vector) -> Run:
    """Create the engine a vector starts from, with its actions done."""
    options = dict(vector.get('options', {}))
    role = vector['role']
    run = Run(None)
    if vector.get('open', True):
        run.connection = open_engine(engine, role, options, vector.get('extensions'))
    elif role == 'server':
        run.connection = engine.ServerConnection(**options)
    else:
        options.setdefault('random', deterministic_random())
        run.connection = engine.ClientConnection(
            'server.example.com', '/chat', **options
        )
        run.connection.send_request()
        run.request_sent = run.connection.data_to_send()
    for action in vector.get('actions', ()):
        _call(run.connection, action)
        run.connection.data_to_send()
    return run


def run_vector(engine: ModuleType, vector: Vector, pieces: Sequence[Buffer]) -> Run:
    """Feed a vector's input in `pieces`, then make its ``after`` calls."""
    run = build_engine(engine, vector)
    connection = run.connection
    flags = 0
    output = bytearray()
    for piece in pieces:
        flags |= connection.receive_data(piece)
        output += connection.data_to_send()
    if vector.get('eof'):
        flags |= connection.receive_eof()
        output += connection.data_to_send()
    for action in vector.get('after', ()):
        result = _call(connection, action)
        if action['call'] == 'next_message':
            run.popped.append(None if result is None else _message(result))
        elif result is not None:
            flags |= result
        output += connection.data_to_send()
    run.flags = flags
    run.output = bytes(output)
    return run


def _message(message: str | bytes) -> dict[str, str]:
    if isinstance(message, str):
        return {'type': 'text', 'data': message}
    return {'type': 'binary', 'data': message.hex()}


def _pair(value: tuple[int, str] | None) -> list[Any] | None:
    return None if value is None else [value[0], value[1]]


def _text(value: bytes) -> str:
    return value.decode('latin-1')


def _headers(headers: Sequence[tuple[bytes, bytes]]) -> list[list[str]]:
    return [[_text(name), _text(value)] for name, value in headers]


def _request(request: Any, wanted: dict[str, Any]) -> dict[str, Any]:
    if request is None:
        return {'request': None}
    found = {
        'method': request.method,
        'target': _text(request.target),
        'path': request.path,
        'raw_path': _text(request.raw_path),
        'query_string': _text(request.query_string),
        'http_version': request.http_version,
        'key': request.key,
        'subprotocols': list(request.subprotocols),
        'extensions': [
            [name, [[param, value] for param, value in params]]
            for name, params in request.extensions
        ],
        'headers': _headers(request.headers),
    }
    return {key: found[key] for key in wanted}


def _response(response: Any, wanted: dict[str, Any]) -> dict[str, Any]:
    if response is None:
        return {'response': None}
    found = {
        'status': response.status,
        'reason': response.reason,
        'headers': _headers(response.headers),
        'subprotocol': response.subprotocol,
        'extensions': [
            [name, [[param, value] for param, value in params]]
            for name, params in response.extensions
        ],
        'body': response.body.hex(' '),
    }
    return {key: found[key] for key in wanted}


def _deflate(params: Any) -> dict[str, Any] | None:
    if params is None:
        return None
    return {
        'server_no_context_takeover': params.server_no_context_takeover,
        'client_no_context_takeover': params.client_no_context_takeover,
        'server_max_window_bits': params.server_max_window_bits,
        'client_max_window_bits': params.client_max_window_bits,
    }


_PLAIN = ('close_code', 'close_reason', 'queued_messages', 'queued_bytes',
          'reading_paused', 'failure_deferred')  # fmt: skip


def _observe_key(run: Run, key: str, wanted: Any) -> Any:
    connection = run.connection
    observers: dict[str, Any] = {
        'flags': lambda: run.flags,
        'output': lambda: run.output.hex(' '),
        'deflate': lambda: _deflate(connection.deflate),
        'request_sent': lambda: _text(run.request_sent),
        'popped': lambda: run.popped,
        'state': lambda: connection.state.name,
        'close_expected': connection.close_expected,
        'last_pong': lambda: (
            None if connection.last_pong is None else connection.last_pong.hex()
        ),
        'request': lambda: _request(connection.request, wanted),
        'response': lambda: _response(connection.response, wanted),
    }
    if key in ('error', 'close_received', 'close_sent'):
        return _pair(getattr(connection, key))
    if key in _PLAIN:
        return getattr(connection, key)
    if key not in observers:
        raise AssertionError(f'unknown expect key {key!r}')
    return observers[key]()


def observe(run: Run, expect: Vector) -> Vector:
    """Collect the values a vector's ``expect`` names, in its format.

    ``messages`` is collected last, by taking every queued message; the
    ``next_message()`` that finds the queue empty may make a deferred
    failure take effect, after the other keys were read.
    """
    seen: Vector = {
        key: _observe_key(run, key, wanted)
        for key, wanted in expect.items()
        if key != 'messages'
    }
    if 'messages' in expect:
        messages = []
        while (message := run.connection.next_message()) is not None:
            messages.append(_message(message))
        seen['messages'] = messages
    return seen


def normalise(expect: Vector) -> Vector:
    """Put a vector's ``expect`` in the form ``observe()`` produces."""
    wanted = dict(expect)
    if 'output' in wanted:
        wanted['output'] = bytes.fromhex(wanted['output']).hex(' ')
    if 'response' in wanted and 'body' in wanted['response']:
        body = bytes.fromhex(wanted['response']['body'])
        wanted['response'] = {**wanted['response'], 'body': body.hex(' ')}
    return wanted
