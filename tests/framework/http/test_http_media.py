"""Media handlers: JSON (orjson and stdlib paths), MessagePack, forms.

The JSON handler uses orjson when it is installed; the stdlib path is tested
by building handlers with the stdlib backend. Both must give Falcon's
results for everything both libraries support.
"""

from __future__ import annotations

import builtins
import dataclasses
import datetime
import enum
import io
import json
import math
import sys
import uuid
from typing import Any

import falcon.media
import msgpack
import pytest
from hypothesis import given, strategies as st

from gyrfalcon import errors, media
from gyrfalcon.constants import (
    MEDIA_JSON,
    MEDIA_MSGPACK,
    MEDIA_MULTIPART,
    MEDIA_URLENCODED,
)
from gyrfalcon.media import json as json_module

falcon_json = falcon.media.JSONHandler()


class Reader:
    """An async file-like object over bytes, like ``req.stream``."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    async def read(self, size: int | None = None) -> bytes:
        return self._data.read(-1 if size is None else size)


@pytest.fixture(params=['orjson', 'stdlib'])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test once with each JSON backend as the default."""
    if request.param == 'stdlib':
        monkeypatch.setattr(json_module, '_default_backend', json_module._STDLIB)
    else:
        assert json_module._ORJSON is not None, 'orjson is a test dependency'
        monkeypatch.setattr(json_module, '_default_backend', json_module._ORJSON)
    return str(request.param)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


class TestJSON:
    @given(json_values)
    def test_round_trip_both_backends(self, value: Any) -> None:
        for backend in (json_module._ORJSON, json_module._STDLIB):
            assert backend is not None
            encoded = backend.dumps_bytes(value)
            assert json.loads(encoded) == value
            assert backend.loads_bytes(encoded) == value
            assert backend.loads_str(backend.dumps_str(value)) == value
            # Falcon reads what we write, and we read what Falcon writes.
            assert falcon_json._deserialize(encoded) == value
            assert backend.loads_bytes(falcon_json.serialize(value)) == value

    def test_stdlib_bytes_are_falcons(self, backend: str) -> None:
        document = {'name': 'café', 'n': [1, 2.5, None, True], 'big': 2**70}
        handler = media.JSONHandler()
        encoded = handler.serialize(document, MEDIA_JSON)
        if backend == 'stdlib':
            assert encoded == falcon_json.serialize(document, MEDIA_JSON)
        assert json.loads(encoded) == document

    @pytest.mark.parametrize(
        'value',
        [
            2**64,
            -(2**63) - 1,
            {1: 'int key', None: 'none key', 1.5: 'float key'},
            {True: 'bool key'},
            type('S', (str,), {})('str subclass'),
            {'nested': [type('I', (int,), {})(3)]},
            enum.IntEnum('IE', 'A B').B,
        ],
        ids=[
            'u64+1',
            'i64-1',
            'non-str keys',
            'bool key',
            'str subclass',
            'int subclass',
            'IntEnum',
        ],
    )
    def test_values_orjson_cannot_write_exactly(self, backend: str, value: Any) -> None:
        # The handler falls back to the stdlib, so the bytes are Falcon's.
        assert media.JSONHandler().serialize(
            value, MEDIA_JSON
        ) == falcon_json.serialize(value, MEDIA_JSON)

    @pytest.mark.parametrize(
        'value',
        [
            datetime.datetime(2020, 1, 1),
            datetime.date(2020, 1, 1),
            dataclasses.make_dataclass('D', ['x'])(1),
            b'bytes',
            {1, 2},
            object(),
        ],
        ids=['datetime', 'date', 'dataclass', 'bytes', 'set', 'object'],
    )
    def test_unserializable_values_raise_like_the_stdlib(
        self, backend: str, value: Any
    ) -> None:
        with pytest.raises(TypeError) as ours:
            media.JSONHandler().serialize(value, MEDIA_JSON)
        with pytest.raises(TypeError) as theirs:
            falcon_json.serialize(value, MEDIA_JSON)
        assert str(ours.value) == str(theirs.value)

    def test_non_finite_floats(self, backend: str) -> None:
        # NOTE(gyrfalcon): documented difference: orjson writes valid JSON.
        encoded = media.JSONHandler().serialize([math.nan, math.inf], MEDIA_JSON)
        if backend == 'orjson':
            assert encoded == b'[null,null]'
        else:
            assert encoded == b'[NaN, Infinity]'

    def test_uuid_and_enum_with_orjson(self, backend: str) -> None:
        class Color(enum.Enum):
            RED = 'red'

        value = [uuid.UUID(int=1), Color.RED]
        if backend == 'orjson':
            assert json.loads(media.JSONHandler().serialize(value, MEDIA_JSON)) == [
                '00000000-0000-0000-0000-000000000001',
                'red',
            ]
        else:
            with pytest.raises(TypeError):
                media.JSONHandler().serialize(value, MEDIA_JSON)

    @pytest.mark.parametrize(
        'document',
        [
            b'123456789012345678901234567890',
            b'[-123456789012345678901234567890, 18446744073709551615]',
            b'{"a": 1e400}',
            b'[NaN, Infinity, -Infinity]',
            b'"\\ud800"',
            b'{"a": 1, "a": 2}',
            b'  {"k": [true, false, null]}  ',
            b'0.1234567890123456789012',
        ],
    )
    def test_documents_parse_like_falcon(self, backend: str, document: bytes) -> None:
        ours = media.JSONHandler()._deserialize(document)
        theirs = falcon_json._deserialize(document)
        assert repr(ours) == repr(theirs)

    @pytest.mark.parametrize(
        'document', [b'{', b'[1,]', b'\xff\xfe', b'nul', b'{"a" 1}', b'"\x01"']
    )
    async def test_malformed(self, backend: str, document: bytes) -> None:
        handler = media.JSONHandler()
        with pytest.raises(errors.MediaMalformedError) as ours:
            await handler.deserialize_async(Reader(document), MEDIA_JSON, None)
        with pytest.raises(falcon.MediaMalformedError) as theirs:
            falcon_json._deserialize(document)
        assert ours.value.description == theirs.value.description
        assert ours.value.title == 'Invalid JSON'

    async def test_empty_body(self, backend: str) -> None:
        with pytest.raises(errors.MediaNotFoundError) as info:
            await media.JSONHandler().deserialize_async(Reader(b''), MEDIA_JSON, 0)
        assert info.value.to_dict() == {
            'title': 'Invalid JSON',
            'description': 'Could not parse an empty JSON body',
        }

    def test_deep_nesting(self, backend: str) -> None:
        # NOTE(gyrfalcon): a client error on both paths (orjson >= 3.13 stops
        #   at depth 1024, the stdlib at the recursion limit); Falcon lets
        #   RecursionError become a 500.
        document = b'[' * 100_000 + b']' * 100_000
        with pytest.raises(errors.MediaMalformedError):
            media.JSONHandler()._deserialize(document)

    def test_nesting_within_limits(self, backend: str) -> None:
        document = b'[' * 500 + b']' * 500
        value = media.JSONHandler()._deserialize(document)
        for _ in range(499):
            (value,) = value
        assert value == []

    def test_sync_interface(self, backend: str) -> None:
        handler = media.JSONHandler()
        assert handler.deserialize(io.BytesIO(b'[1]'), MEDIA_JSON, 3) == [1]
        assert handler._serialize_sync is not None
        assert handler._deserialize_sync is not None

    async def test_async_serialize(self, backend: str) -> None:
        encoded = await media.JSONHandler().serialize_async({'a': 1}, MEDIA_JSON)
        assert json.loads(encoded) == {'a': 1}

    def test_custom_dumps_and_loads(self) -> None:
        handler = media.JSONHandler(
            dumps=lambda obj: json.dumps(obj, sort_keys=True, separators=(',', ':')),
            loads=lambda text: {'parsed': json.loads(text)},
        )
        assert handler.serialize({'b': 1, 'a': 2}, MEDIA_JSON) == b'{"a":2,"b":1}'
        assert handler._deserialize(b'[1]') == {'parsed': [1]}

        bytes_handler = media.JSONHandler(dumps=lambda obj: b'BYTES')
        assert bytes_handler.serialize({}, MEDIA_JSON) == b'BYTES'

    def test_custom_loads_errors_become_malformed(self) -> None:
        class ParseError(Exception):
            pass

        def loads(text: str) -> Any:
            raise ParseError('nope')

        handler = media.JSONHandler(loads=loads)
        with pytest.raises(errors.MediaMalformedError) as info:
            handler._deserialize(b'x')
        assert info.value.description == 'Could not parse JSON body - nope'

    def test_subclasses_do_not_get_the_fast_path(self) -> None:
        class Custom(media.JSONHandler):
            pass

        assert Custom()._serialize_sync is None
        assert Custom()._deserialize_sync is None

    def test_websocket_handler(self, backend: str) -> None:
        handler = media.JSONHandlerWS()
        text = handler.serialize({'msg': 'héllo', 'n': 2**70})
        assert isinstance(text, str)
        assert json.loads(text) == {'msg': 'héllo', 'n': 2**70}
        assert handler.deserialize('{"big": 123456789012345678901234567890}') == {
            'big': 123456789012345678901234567890
        }
        with pytest.raises(ValueError):
            handler.deserialize('{')

        custom = media.JSONHandlerWS(dumps=lambda obj: 'X', loads=lambda text: 'Y')
        assert (custom.serialize(1), custom.deserialize('1')) == ('X', 'Y')


class TestMessagePack:
    def test_round_trip(self) -> None:
        handler = media.MessagePackHandler()
        document = {'s': 'text', 'b': b'\x00\xff', 'n': [1, 2.5, None]}
        packed = handler.serialize(document, MEDIA_MSGPACK)
        assert packed == falcon.media.MessagePackHandler().serialize(
            document, MEDIA_MSGPACK
        )
        assert handler.deserialize(io.BytesIO(packed), MEDIA_MSGPACK, None) == document
        assert handler._deserialize_sync is not None

    async def test_async(self) -> None:
        handler = media.MessagePackHandler()
        packed = await handler.serialize_async([1], MEDIA_MSGPACK)
        assert await handler.deserialize_async(Reader(packed), MEDIA_MSGPACK, None) == [
            1
        ]

    async def test_empty_and_malformed(self) -> None:
        handler = media.MessagePackHandler()
        with pytest.raises(errors.MediaNotFoundError):
            await handler.deserialize_async(Reader(b''), MEDIA_MSGPACK, 0)
        with pytest.raises(errors.MediaMalformedError) as info:
            await handler.deserialize_async(Reader(b'\xc1'), MEDIA_MSGPACK, 1)
        assert info.value.title == 'Invalid MessagePack'

    def test_websocket_handler(self) -> None:
        handler = media.MessagePackHandlerWS()
        packed = handler.serialize({'a': b'\x01'})
        assert msgpack.unpackb(packed, raw=False) == {'a': b'\x01'}
        assert handler.deserialize(packed) == {'a': b'\x01'}
        with pytest.raises(ValueError):
            handler.deserialize(b'\x92\x01')

    def test_missing_msgpack(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real_import = builtins.__import__

        def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
            if name == 'msgpack':
                raise ImportError('No module named msgpack')
            return real_import(name, *args, **kwargs)

        monkeypatch.delitem(sys.modules, 'msgpack')
        monkeypatch.setattr(builtins, '__import__', fake_import)
        with pytest.raises(ImportError):
            media.MessagePackHandler()
        with pytest.raises(ImportError):
            media.MessagePackHandlerWS()
        # The JSON and form handlers, and the registry, do not need it.
        assert MEDIA_JSON in media.Handlers()


class TestMissingDependencyHandler:
    def test_every_use_raises(self) -> None:
        handler = media.MissingDependencyHandler(
            'default WebSocket media handler for BINARY payloads', 'msgpack'
        )
        assert isinstance(handler, media.BinaryBaseHandlerWS)
        for call in (lambda: handler.serialize({}), lambda: handler.deserialize(b'')):
            with pytest.raises(RuntimeError) as info:
                call()
            assert str(info.value) == (
                'The default WebSocket media handler for BINARY payloads requires '
                'the msgpack library, which is not installed. Install it with: '
                'pip install msgpack'
            )


class TestURLEncoded:
    async def test_round_trip(self) -> None:
        handler = media.URLEncodedFormHandler()
        body = handler.serialize({'a': ['1', '2'], 'b': 'x y&z'}, MEDIA_URLENCODED)
        assert body == b'a=1&a=2&b=x+y%26z'
        parsed = await handler.deserialize_async(Reader(body), MEDIA_URLENCODED, None)
        assert parsed == {'a': ['1', '2'], 'b': 'x y&z'}
        assert handler.deserialize(io.BytesIO(b'k=&v=1'), None, None) == {
            'k': '',
            'v': '1',
        }

    def test_options(self) -> None:
        handler = media.URLEncodedFormHandler(keep_blank=False, csv=True)
        assert handler._deserialize(b'k=&v=1,2') == {'v': ['1', '2']}

    def test_non_ascii_body(self) -> None:
        with pytest.raises(errors.MediaMalformedError) as info:
            media.URLEncodedFormHandler()._deserialize('a=é'.encode())
        assert info.value.title == 'Invalid URL-encoded'


class TestHandlers:
    def test_defaults(self) -> None:
        handlers = media.Handlers()
        assert set(handlers) == set(falcon.media.Handlers())
        assert set(handlers) == {MEDIA_JSON, MEDIA_MULTIPART, MEDIA_URLENCODED}
        assert isinstance(handlers[MEDIA_JSON], media.JSONHandler)

    @pytest.mark.parametrize(
        ('media_type', 'expected'),
        [
            (None, MEDIA_JSON),
            ('', MEDIA_JSON),
            ('*/*', MEDIA_JSON),
            ('application/json', MEDIA_JSON),
            ('application/json; charset=UTF-8', MEDIA_JSON),
            ('application/*', MEDIA_JSON),
            ('application/x-www-form-urlencoded; charset=utf-8', MEDIA_URLENCODED),
        ],
    )
    def test_resolve(self, media_type: str | None, expected: str) -> None:
        handlers = media.Handlers()
        handler, serialize, deserialize = handlers._resolve(media_type, MEDIA_JSON)
        assert handler is handlers[expected]
        assert serialize is not None and deserialize is not None

    def test_resolve_matches_falcon(self) -> None:
        types = ['application/json', 'text/plain', 'application/vnd.api+json']
        for registered in (types, types[::-1]):
            ours = media.Handlers({name: media.JSONHandler() for name in registered})
            theirs = falcon.media.Handlers(
                {name: falcon.media.JSONHandler() for name in registered}
            )
            for query in ('application/*', 'text/*;q=0.5', '*/*;q=0.1', 'text/plain'):
                mine = ours._resolve(query, 'application/json')[0]
                falcons = theirs._resolve(query, 'application/json')[0]
                assert list(ours.data.values()).index(mine) == list(
                    theirs.data.values()
                ).index(falcons)

    def test_unsupported(self) -> None:
        handlers = media.Handlers()
        with pytest.raises(errors.HTTPUnsupportedMediaType) as info:
            handlers._resolve('text/csv', MEDIA_JSON)
        assert info.value.description == 'text/csv is an unsupported media type.'
        assert handlers._resolve('text/csv', MEDIA_JSON, raise_not_found=False) == (
            None,
            None,
            None,
        )
        assert handlers._resolve('garbage', MEDIA_JSON, raise_not_found=False) == (
            None,
            None,
            None,
        )

    def test_changes_clear_the_cache(self) -> None:
        handlers = media.Handlers()
        with pytest.raises(errors.HTTPUnsupportedMediaType):
            handlers._resolve(MEDIA_MSGPACK, MEDIA_JSON)
        msgpack_handler = media.MessagePackHandler()
        handlers[MEDIA_MSGPACK] = msgpack_handler
        assert handlers._resolve(MEDIA_MSGPACK, MEDIA_JSON)[0] is msgpack_handler
        del handlers[MEDIA_MSGPACK]
        with pytest.raises(errors.HTTPUnsupportedMediaType):
            handlers._resolve(MEDIA_MSGPACK, MEDIA_JSON)
        handlers.update({MEDIA_MSGPACK: msgpack_handler})
        assert handlers._resolve(MEDIA_MSGPACK, MEDIA_JSON)[0] is msgpack_handler

    def test_custom_handler_without_fast_path(self) -> None:
        class Text(media.BaseHandler):
            def serialize(self, media: object, content_type: str) -> bytes:
                return str(media).encode()

        handlers = media.Handlers({'text/plain': Text()})
        assert set(handlers) == {'text/plain'}
        handler, serialize, deserialize = handlers._resolve('text/plain', 'text/plain')
        assert isinstance(handler, Text)
        assert (serialize, deserialize) == (None, None)

    def test_copy(self) -> None:
        handlers = media.Handlers()
        duplicate = handlers.copy()
        assert type(duplicate) is media.Handlers
        assert duplicate.data == handlers.data and duplicate is not handlers
        duplicate['text/plain'] = media.JSONHandler()
        assert 'text/plain' not in handlers


class TestBaseHandlers:
    async def test_base_handler_defaults(self) -> None:
        class Upper(media.BaseHandler):
            def deserialize(
                self, stream: Any, content_type: str | None, content_length: int | None
            ) -> object:
                return (stream.read().decode().upper(), content_length)

            def serialize(self, media: object, content_type: str) -> bytes:
                return str(media).lower().encode()

        handler = Upper()
        assert await handler.deserialize_async(Reader(b'abc'), None, None) == ('ABC', 3)
        assert await handler.serialize_async('XY', 'text/plain') == b'xy'
        assert handler.exhaust_stream is False

    def test_not_implemented(self) -> None:
        handler = media.BaseHandler()
        with pytest.raises(NotImplementedError, match='sync interface'):
            handler.serialize({}, MEDIA_JSON)
        with pytest.raises(NotImplementedError, match='sync interface'):
            handler.deserialize(io.BytesIO(), MEDIA_JSON, 0)
        with pytest.raises(NotImplementedError):
            handler.serialize({}, 'text/plain')
        with pytest.raises(NotImplementedError):
            handler.deserialize(io.BytesIO(), None, 0)
        for ws_handler in (media.TextBaseHandlerWS(), media.BinaryBaseHandlerWS()):
            with pytest.raises(NotImplementedError):
                ws_handler.serialize(1)
            with pytest.raises(NotImplementedError):
                ws_handler.deserialize('x')  # type: ignore[arg-type]

    def test_whole_body_handler_needs_a_parser(self) -> None:
        from gyrfalcon.media.base import _WholeBodyHandler

        with pytest.raises(NotImplementedError):
            _WholeBodyHandler().deserialize(io.BytesIO(b'x'), None, 1)

    def test_media_exports_match_falcon(self) -> None:
        assert set(falcon.media.__all__) - set(media.__all__) == set()


def test_handler_subclasses_do_not_get_the_fast_path() -> None:
    class Pack(media.MessagePackHandler):
        pass

    class Form(media.URLEncodedFormHandler):
        pass

    for handler in (Pack(), Form()):
        assert handler._serialize_sync is None
        assert handler._deserialize_sync is None
