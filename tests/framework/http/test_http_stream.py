"""``BoundedStream`` (the request body) and ``SSEvent`` (Server-Sent Events)."""

from __future__ import annotations

from typing import Any

import pytest
from falcon.asgi import SSEvent as FalconSSEvent
from http_support import body_receiver

from gyrfalcon.asgi.stream import BoundedStream
from gyrfalcon.asgi.structures import SSEvent
from gyrfalcon.errors import OperationNotAllowed
from gyrfalcon.media.json import JSONHandler


async def test_read_all() -> None:
    stream = BoundedStream(body_receiver(b'hello ', b'world'), content_length=11)
    assert not stream.eof
    assert await stream.read() == b'hello world'
    assert stream.eof and stream.tell() == 11
    assert await stream.read() == b''
    assert await stream.readall() == b''


async def test_read_in_pieces_across_events() -> None:
    stream = BoundedStream(body_receiver(b'abc', b'defg', b'h'))
    assert await stream.read(2) == b'ab'
    assert await stream.read(4) == b'cdef'
    assert stream.tell() == 6
    assert await stream.read(10) == b'gh'
    assert await stream.read(1) == b''
    assert stream.eof


@pytest.mark.parametrize('size', [0, -2])
async def test_read_nothing(size: int) -> None:
    receive = body_receiver(b'abc')
    stream = BoundedStream(receive)
    assert await stream.read(size) == b''
    assert receive.received == []  # type: ignore[attr-defined]
    assert await stream.read(-1) == b'abc'


async def test_content_length_bounds_the_body() -> None:
    stream = BoundedStream(body_receiver(b'abcdef', b'ghi'), content_length=4)
    assert await stream.read(10) == b'abcd'
    assert stream.eof


async def test_read_never_returns_more_than_asked() -> None:
    # NOTE(gyrfalcon): Falcon returns all 10 bytes here, for read(4).
    stream = BoundedStream(body_receiver(b'0123456789abc'), content_length=10)
    assert await stream.read(4) == b'0123'
    assert await stream.read() == b'456789'


async def test_first_event() -> None:
    first = {'type': 'http.request', 'body': b'abc', 'more_body': True}
    stream = BoundedStream(body_receiver(b'def'), first_event=first)
    assert stream.tell() == 0
    assert await stream.read() == b'abcdef'
    assert stream.tell() == 6

    whole = {'type': 'http.request', 'body': b'all', 'more_body': False}
    receive = body_receiver(b'never read')
    stream = BoundedStream(receive, first_event=whole)
    assert await stream.read() == b'all'
    assert receive.received == []  # type: ignore[attr-defined]

    long_first = {'type': 'http.request', 'body': b'abcdef', 'more_body': True}
    stream = BoundedStream(
        body_receiver(b'x'), first_event=long_first, content_length=4
    )
    assert await stream.read() == b'abcd'


async def test_disconnect_ends_the_body() -> None:
    stream = BoundedStream(body_receiver(b'part', disconnect=True), content_length=100)
    assert await stream.read() == b'part'
    assert stream.eof


async def test_events_without_body() -> None:
    events: list[dict[str, Any]] = [
        {'type': 'http.request', 'more_body': True},
        {'type': 'http.request', 'body': b'x', 'more_body': False},
    ]

    async def receive() -> dict[str, Any]:
        return events.pop(0)

    stream = BoundedStream(receive)
    assert [chunk async for chunk in stream] == [b'x']


async def test_iteration() -> None:
    first = {'type': 'http.request', 'body': b'a', 'more_body': True}
    stream = BoundedStream(body_receiver(b'', b'b', b'c'), first_event=first)
    assert [chunk async for chunk in stream] == [b'a', b'b', b'c']
    assert stream.tell() == 3
    assert [chunk async for chunk in stream] == []


async def test_iteration_only_once() -> None:
    stream = BoundedStream(body_receiver(b'a', b'b'))
    iterator = stream.__aiter__()
    assert await iterator.__anext__() == b'a'
    with pytest.raises(OperationNotAllowed, match='already being iterated'):
        await stream.__aiter__().__anext__()


async def test_iteration_cut_at_content_length() -> None:
    stream = BoundedStream(body_receiver(b'abc', b'def'), content_length=4)
    assert [chunk async for chunk in stream] == [b'abc', b'd']


async def test_exhaust() -> None:
    receive = body_receiver(b'abc', b'def', b'ghi')
    stream = BoundedStream(receive)
    assert await stream.read(2) == b'ab'
    await stream.exhaust()
    assert stream.eof and stream.tell() == 9
    assert len(receive.received) == 3  # type: ignore[attr-defined]


async def test_close() -> None:
    stream = BoundedStream(body_receiver(b'abc'))
    assert not stream.closed
    stream.close()
    stream.close()
    assert stream.closed and stream.eof
    for call in (stream.read(), stream.readall(), stream.exhaust()):
        with pytest.raises(OperationNotAllowed, match='closed'):
            await call
    with pytest.raises(OperationNotAllowed):
        await stream.__aiter__().__anext__()
    with pytest.raises(ValueError):  # OperationNotAllowed is a ValueError
        await stream.read()


def test_io_interface() -> None:
    stream = BoundedStream(body_receiver())
    assert stream.readable() and not stream.writable() and not stream.seekable()
    assert not stream.isatty()
    with pytest.raises(OSError):
        stream.fileno()


# --- Server-Sent Events -----------------------------------------------------------

SSE_CASES: list[dict[str, Any]] = [
    {},
    {'data': b'raw bytes'},
    {'text': 'hello'},
    {'json': {'a': [1, 2]}},
    {'event': 'update', 'event_id': '7', 'retry': 5000, 'text': 'x'},
    {'comment': 'keep alive'},
    {'comment': 'c', 'event': 'e', 'event_id': 'i', 'retry': 1, 'data': b'd'},
    {'data': b'd', 'text': 'ignored', 'json': 'ignored'},
    {'retry': 0},
]


@pytest.mark.parametrize('kwargs', SSE_CASES)
def test_sse_matches_falcon(kwargs: dict[str, Any]) -> None:
    from gyrfalcon.media.json import _STDLIB

    stdlib = JSONHandler(dumps=_STDLIB.dumps_str)
    assert SSEvent(**kwargs).serialize(stdlib) == FalconSSEvent(**kwargs).serialize()


def test_sse_examples() -> None:
    assert SSEvent().serialize() == b': ping\n\n'
    assert SSEvent(json={'a': 1}).serialize() == b'data: {"a":1}\n\n'
    assert SSEvent(text='hi', event='greeting').serialize() == (
        b'event: greeting\ndata: hi\n\n'
    )


def test_sse_multiline_data() -> None:
    # NOTE(gyrfalcon): Falcon writes one data line, which the browser cuts at
    #   the first line break; each line gets its own field here.
    assert SSEvent(text='one\ntwo\r\nthree\rfour').serialize() == (
        b'data: one\ndata: two\ndata: three\ndata: four\n\n'
    )
    assert SSEvent(data=b'a\n').serialize() == b'data: a\ndata: \n\n'
    assert SSEvent(comment='x\ny').serialize() == b': x\n: y\n\n'

    pretty = JSONHandler(dumps=lambda obj: '{\n  "a": 1\n}')
    assert SSEvent(json={'a': 1}).serialize(pretty) == (
        b'data: {\ndata:   "a": 1\ndata: }\n\n'
    )


@pytest.mark.parametrize('field', ['event', 'event_id'])
def test_sse_refuses_line_breaks_in_single_line_fields(field: str) -> None:
    with pytest.raises(ValueError, match='line break'):
        SSEvent(text='x', **{field: 'a\nretry: 1'}).serialize()


@pytest.mark.parametrize(
    'kwargs',
    [
        {'data': 'text'},
        {'text': b'bytes'},
        {'event': 1},
        {'event_id': 1},
        {'comment': 1},
        {'retry': '1'},
    ],
)
def test_sse_type_checks(kwargs: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        SSEvent(**kwargs)
