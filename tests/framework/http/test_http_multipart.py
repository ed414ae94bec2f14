"""``multipart/form-data`` parsing, and the ``BufferedReader`` under it.

Forms are parsed by Gyrfalcon and by Falcon 4.4 from the same bodies, fed
in chunks of every size from 1 byte up, and must give the same parts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import falcon.asgi
import falcon.media
import pytest
from http_support import body_receiver, make_scope

from gyrfalcon import errors
from gyrfalcon.asgi.request import Request
from gyrfalcon.media import Handlers, MultipartFormHandler
from gyrfalcon.media.multipart import MultipartParseOptions
from gyrfalcon.util.reader import BufferedReader

BOUNDARY = 'BOUNDARY'
CONTENT_TYPE = f'multipart/form-data; boundary={BOUNDARY}'

FORM = (
    b'preamble to ignore\r\n'
    b'--BOUNDARY\r\n'
    b'Content-Disposition: form-data; name="field"\r\n'
    b'\r\n'
    b'value\r\n'
    b'--BOUNDARY\r\n'
    b'Content-Disposition: form-data; name="upload"; filename="../../etc/passwd"\r\n'
    b'Content-Type: application/octet-stream\r\n'
    b'X-Ignored: yes\r\n'
    b'\r\n'
    b'\x00\x01binary\r\n--BOUNDAR not yet\r\n'
    b'--BOUNDARY\r\n'
    b'Content-Disposition: form-data; name="doc"\r\n'
    b'Content-Type: application/json\r\n'
    b'\r\n'
    b'{"a": [1, 2]}\r\n'
    b'--BOUNDARY\r\n'
    b'Content-Disposition: form-data; name="latin"\r\n'
    b'Content-Type: text/plain; charset=latin-1\r\n'
    b'\r\n'
    b'caf\xe9\r\n'
    b'--BOUNDARY\r\n'
    b'Content-Disposition: form-data; name="u"; filename="x.txt"; '
    b"filename*=UTF-8''%E2%82%AC%20rates.txt\r\n"
    b'\r\n'
    b'\r\n'
    b'--BOUNDARY--\r\n'
    b'epilogue'
)


class ChunkedStream:
    """An async iterable body, delivered in fixed-size chunks."""

    def __init__(self, body: bytes, size: int) -> None:
        self._chunks = [body[i : i + size] for i in range(0, len(body), size)]

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk

    async def read(self, size: int | None = None) -> bytes:
        data = b''.join(self._chunks)
        self._chunks = []
        return data


async def _describe(form: Any) -> list[dict[str, Any]]:
    parts = []
    async for part in form:
        described: dict[str, Any] = {
            'name': part.name,
            'filename': part.filename,
            'content_type': part.content_type,
        }
        if part.filename:
            described['secure_filename'] = part.secure_filename
        if part.content_type == 'application/json':
            described['media'] = await part.get_media()
        elif part.content_type.startswith('text/plain'):
            described['text'] = await part.get_text()
        else:
            described['data'] = await part.get_data()
        parts.append(described)
    return parts


@pytest.mark.parametrize('chunk_size', [1, 2, 3, 7, 11, 64, 10_000])
async def test_parts_match_falcon(chunk_size: int) -> None:
    ours = await MultipartFormHandler().deserialize_async(
        ChunkedStream(FORM, chunk_size), CONTENT_TYPE, len(FORM)
    )
    theirs = await falcon.media.MultipartFormHandler().deserialize_async(
        ChunkedStream(FORM, chunk_size), CONTENT_TYPE, len(FORM)
    )
    described = await _describe(ours)
    assert described == await _describe(theirs)
    assert described == [
        {
            'name': 'field',
            'filename': None,
            'content_type': 'text/plain',
            'text': 'value',
        },
        {
            'name': 'upload',
            'filename': '../../etc/passwd',
            'content_type': 'application/octet-stream',
            'secure_filename': '_._.._etc_passwd',
            'data': b'\x00\x01binary\r\n--BOUNDAR not yet',
        },
        {
            'name': 'doc',
            'filename': None,
            'content_type': 'application/json',
            'media': {'a': [1, 2]},
        },
        {
            'name': 'latin',
            'filename': None,
            'content_type': 'text/plain; charset=latin-1',
            'text': 'café',
        },
        {
            'name': 'u',
            'filename': '€ rates.txt',
            'content_type': 'text/plain',
            'secure_filename': '__rates.txt',
            'text': '',
        },
    ]


async def test_through_the_request() -> None:
    scope = make_scope(method='POST', headers=[('Content-Type', CONTENT_TYPE)])
    chunks = [FORM[i : i + 50] for i in range(0, len(FORM), 50)]
    req = Request(scope, body_receiver(*chunks))
    form = await req.get_media()
    names = [part.name async for part in form]
    assert names == ['field', 'upload', 'doc', 'latin', 'u']


async def test_streaming_a_part() -> None:
    form = await MultipartFormHandler().deserialize_async(
        ChunkedStream(FORM, 5), CONTENT_TYPE, None
    )
    parts = form.__aiter__()
    first = await parts.__anext__()
    assert await first.stream.read(2) == b'va'
    second = await parts.__anext__()  # the rest of the first part is skipped
    assert second.name == 'upload'
    chunks = [chunk async for chunk in second.stream]
    assert b''.join(chunks) == b'\x00\x01binary\r\n--BOUNDAR not yet'
    third = await parts.__anext__()
    assert await third.media == {'a': [1, 2]}
    assert await third.media == {'a': [1, 2]}  # cached


async def test_data_is_cached_and_limited() -> None:
    options = MultipartParseOptions()
    options.max_body_part_buffer_size = 5
    form = await MultipartFormHandler(options).deserialize_async(
        ChunkedStream(FORM, 9), CONTENT_TYPE, None
    )
    parts = form.__aiter__()
    first = await parts.__anext__()
    assert await first.data == b'value'
    assert await first.get_data() == b'value'
    second = await parts.__anext__()
    with pytest.raises(errors.MultipartParseError) as info:
        await second.data
    assert info.value.description == 'body part is too large'


FIELD = b'Content-Disposition: form-data; name="f"\r\n\r\nv'


def _form(*parts: bytes, end: bytes = b'--B--\r\n') -> bytes:
    return b''.join(b'--B\r\n' + part + b'\r\n' for part in parts) + end


@pytest.mark.parametrize(
    ('body', 'message'),
    [
        (b'no boundary at all', 'unexpected form structure'),
        (b'--Bgarbage\r\n', 'unexpected form structure'),
        (b'--B\r\nContent-Disposition: form-data; name="a"\r\n', 'incomplete body'),
        (_form(b'X: ' + b'y' * 9000 + b'\r\n\r\nv'), 'incomplete body part headers'),
        (
            _form(b'Content-Transfer-Encoding: base64\r\n\r\nv'),
            'Content-Transfer-Encoding',
        ),
        (_form(*[FIELD] * 3), 'maximum number of form body parts exceeded'),
        (b'--B\r\n\r\nunterminated', 'unexpected form structure'),
    ],
)
async def test_malformed_forms(body: bytes, message: str) -> None:
    options = MultipartParseOptions()
    options.max_body_part_count = 2
    form = await MultipartFormHandler(options).deserialize_async(
        ChunkedStream(body, 4), 'multipart/form-data; boundary=B', None
    )
    with pytest.raises(errors.MultipartParseError) as info:
        async for part in form:
            await part.get_data()
    assert message in (info.value.description or '')


async def test_part_count_zero_means_no_limit() -> None:
    options = MultipartParseOptions()
    options.max_body_part_count = 0
    form = await MultipartFormHandler(options).deserialize_async(
        ChunkedStream(_form(*[FIELD] * 100), 64),
        'multipart/form-data; boundary=B',
        None,
    )
    assert len([part async for part in form]) == 100


@pytest.mark.parametrize(
    'content_type',
    [
        'multipart/form-data',
        'multipart/form-data; boundary=',
        'multipart/form-data; boundary=' + 'x' * 71,
    ],
)
async def test_invalid_boundary(content_type: str) -> None:
    with pytest.raises(errors.HTTPInvalidHeader):
        await MultipartFormHandler().deserialize_async(
            ChunkedStream(b'', 1), content_type, None
        )


async def test_text_errors_and_non_text() -> None:
    body = _form(
        b'Content-Type: text/plain; charset=klingon\r\n\r\nx',
        b'Content-Type: text/plain\r\n\r\n\xff',
        b'Content-Type: image/png\r\n\r\nPNG',
        b'Content-Disposition: form-data; name="f"; filename*=nope\'\'%FF\r\n\r\nx',
        b'Content-Disposition: form-data; name="g"\r\n\r\nx',
    )
    form = await MultipartFormHandler().deserialize_async(
        ChunkedStream(body, 3), 'multipart/form-data; boundary=B', None
    )
    parts = form.__aiter__()
    with pytest.raises(errors.MultipartParseError) as info:
        await (await parts.__anext__()).text
    assert info.value.description == 'invalid text or charset: klingon'
    with pytest.raises(errors.MultipartParseError) as info:
        await (await parts.__anext__()).text
    assert info.value.description == 'invalid text or charset: utf-8'
    assert await (await parts.__anext__()).text is None
    bad_name = await parts.__anext__()
    with pytest.raises(errors.MultipartParseError) as info:
        _ = bad_name.filename
    assert info.value.description == 'invalid text or charset: nope'
    no_file = await parts.__anext__()
    with pytest.raises(errors.MultipartParseError) as info:
        _ = no_file.secure_filename
    assert info.value.description == 'filename may not be an empty string'


async def test_media_uses_the_parse_options_handlers() -> None:
    body = _form(b'Content-Type: text/csv\r\n\r\na,b')
    form = await MultipartFormHandler().deserialize_async(
        ChunkedStream(body, 3), 'multipart/form-data; boundary=B', None
    )
    async for part in form:
        with pytest.raises(errors.HTTPUnsupportedMediaType):
            await part.get_media()


def test_sync_interface_is_unavailable() -> None:
    handler = MultipartFormHandler()
    with pytest.raises(NotImplementedError):
        handler.deserialize(None, CONTENT_TYPE, None)  # type: ignore[arg-type]
    with pytest.raises(NotImplementedError):
        handler.serialize({}, CONTENT_TYPE)


def test_installed_by_default() -> None:
    handlers = Handlers()
    assert isinstance(handlers['multipart/form-data'], MultipartFormHandler)
    handler = handlers._resolve(CONTENT_TYPE, 'application/json')[0]
    assert isinstance(handler, MultipartFormHandler)
    assert handler.exhaust_stream is False


# --- BufferedReader -------------------------------------------------------------


async def test_reader_basics() -> None:
    reader = BufferedReader(ChunkedStream(b'hello world, hello reader', 4))
    assert await reader.peek(3) == b'hel'
    assert await reader.read(6) == b'hello '
    assert reader.tell() == 6
    assert await reader.read_until(b', ', consume_delimiter=True) == b'world'
    assert await reader.read_until(b'x') == b'hello reader'
    assert await reader.read() == b''
    assert reader.eof


async def test_reader_read_until_limit_and_missing_delimiter() -> None:
    reader = BufferedReader(ChunkedStream(b'abcdef|ghi', 3))
    assert await reader.read_until(b'|', 4) == b'abcd'
    with pytest.raises(errors.DelimiterError):  # 'e' is read, then no '|'
        await reader.read_until(b'|', 1, consume_delimiter=True)
    assert await reader.read_until(b'|', consume_delimiter=True) == b'f'
    with pytest.raises(errors.DelimiterError):
        await reader.pipe_until(b'|', consume_delimiter=True)


async def test_reader_pipe_and_delimit() -> None:
    class Sink:
        def __init__(self) -> None:
            self.data = b''

        async def write(self, data: bytes) -> None:
            self.data += data

    reader = BufferedReader(ChunkedStream(b'one--two--three', 2))
    first = Sink()
    await reader.pipe_until(b'--', first, consume_delimiter=True)
    assert first.data == b'one'
    part = reader.delimit(b'--')
    assert await part.readall() == b'two'
    assert part.eof
    assert await reader.peek(2) == b'--'
    rest = Sink()
    await reader.pipe(rest)
    assert rest.data == b'--three'
    await reader.exhaust()


async def test_reader_iteration_and_io_interface() -> None:
    reader = BufferedReader(ChunkedStream(b'abcdef', 2))
    assert await reader.read(1) == b'a'
    assert [chunk async for chunk in reader] == [b'b', b'cd', b'ef']
    with pytest.raises(errors.OperationNotAllowed):
        reader.__aiter__()
    assert reader.readable() and not reader.writable() and not reader.seekable()
    assert not reader.isatty()
    with pytest.raises(OSError):
        reader.fileno()
    with pytest.raises(ValueError, match='delimiter length'):
        await reader.read_until(b'')


async def test_reader_over_a_file_like_source() -> None:
    class FileLike:
        def __init__(self) -> None:
            self.data = b'0123456789'

        async def read(self, size: int = -1) -> bytes:
            chunk, self.data = self.data[:size], self.data[size:]
            return chunk

    reader = BufferedReader(FileLike(), chunk_size=4)
    assert await reader.peek() == b'0123'
    assert await reader.read() == b'0123456789'


async def test_part_without_headers() -> None:
    # RFC 2046 §5.1.1 allows it (Falcon reports incomplete headers).
    body = _form(b'\r\nno headers', FIELD)
    form = await MultipartFormHandler().deserialize_async(
        ChunkedStream(body, 3), 'multipart/form-data; boundary=B', None
    )
    parts = [(part.name, await part.data) async for part in form]
    assert parts == [(None, b'no headers'), ('f', b'v')]


async def test_part_media_with_exhausting_handler() -> None:
    from gyrfalcon.media.base import BaseHandler

    class FirstByte(BaseHandler):
        exhaust_stream = True

        async def deserialize_async(
            self, stream: Any, content_type: str | None, content_length: int | None
        ) -> Any:
            return await stream.read(1)

    options = MultipartParseOptions()
    options.media_handlers['text/x-first'] = FirstByte()
    body = _form(b'Content-Type: text/x-first\r\n\r\nabc', FIELD)
    reader = BufferedReader(ChunkedStream(body, 2))
    form = await MultipartFormHandler(options).deserialize_async(
        reader, 'multipart/form-data; boundary=B', None
    )
    parts = form.__aiter__()
    first = await parts.__anext__()
    assert await first.media == b'a'
    assert first.stream.eof
    assert (await parts.__anext__()).name == 'f'


async def test_reader_skips_empty_chunks_and_discards_without_destination() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for chunk in (b'', b'ab', b'', b'|cd'):
            yield chunk

    reader = BufferedReader(chunks())
    await reader.pipe_until(b'|')
    assert await reader.read(1) == b'|'
    assert await reader.read() == b'cd'
