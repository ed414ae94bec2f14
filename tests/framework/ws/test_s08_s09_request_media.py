"""Inventory §8 (the handshake ``Request``) and §9 (WebSocket media handlers)."""

from __future__ import annotations

import json
from typing import Any

import msgpack
import pytest
from ws_support import connect, denial

import gyrfalcon as falcon

TEXT = falcon.WebSocketPayloadType.TEXT
BINARY = falcon.WebSocketPayloadType.BINARY


async def handshake_request(
    app: Any, path: str = '/', route: str | None = None, **kwargs: Any
) -> Any:
    """Connect to `path`; return the handshake ``Request`` the responder got."""
    seen: list[Any] = []

    class Capture:
        async def on_websocket(self, req: Any, ws: Any, **params: Any) -> None:
            seen.append(req)

    app.add_route(route or path, Capture())
    await denial(app, path, **kwargs)
    return seen[0]


# --- §8 ----------------------------------------------------------------------


async def test_is_websocket(app: Any) -> None:
    """§8 ``req.is_websocket``: true for the handshake, false for HTTP."""
    req = await handshake_request(app)
    assert req.is_websocket is True
    http_req = falcon.testing.create_asgi_req()
    assert http_req.is_websocket is False


async def test_method_is_get(app: Any) -> None:
    """§8 ``req.method``: always ``'GET'``."""
    assert (await handshake_request(app)).method == 'GET'


@pytest.mark.parametrize(
    ('scheme', 'port', 'netloc'),
    [(None, 80, 'falconframework.org'), ('wss', 443, 'falconframework.org')],
)
async def test_scheme(app: Any, scheme: str | None, port: int, netloc: str) -> None:
    """§8 ``req.scheme``: ``'ws'`` by default; ``'wss'`` is secure (port 443)."""
    kwargs = {} if scheme is None else {'scheme': scheme}
    req = await handshake_request(app, **kwargs)
    assert req.scheme == (scheme or 'ws')
    assert req.port == port
    assert req.netloc == netloc


async def test_body_is_unsupported(app: Any) -> None:
    """§8 ``req.stream`` / ``bounded_stream`` / ``get_media()`` raise."""
    outcomes = []

    class Reads:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            for attempt in (
                lambda: req.stream,
                lambda: req.bounded_stream,
                lambda: req.get_media(),
            ):
                try:
                    result = attempt()
                    if hasattr(result, '__await__'):
                        await result
                except falcon.UnsupportedError:
                    outcomes.append('unsupported')

    app.add_route('/', Reads())
    await denial(app)
    assert outcomes == ['unsupported'] * 3


async def test_everything_else_works(app: Any) -> None:
    """§8 Everything else: headers, cookies, params, context, uri_template..."""
    req = await handshake_request(
        app,
        '/rooms/lobby',
        route='/rooms/{room}',
        query_string='page=2&tag=a&tag=b',
        headers={'X-Token': 'secret', 'Cookie': 'session=abc'},
        root_path='/api',
        remote_addr='10.0.0.9',
    )
    assert req.get_header('X-Token') == 'secret'
    assert req.cookies == {'session': 'abc'}
    assert req.get_param_as_int('page') == 2
    assert req.get_param_as_list('tag') == ['a', 'b']
    assert req.uri_template == '/rooms/{room}'
    assert req.root_path == '/api'
    assert req.remote_addr == '10.0.0.9'
    assert req.access_route == ['10.0.0.9']
    req.context.user = 'ann'
    assert req.context.user == 'ann'


async def test_handshake_path_and_url(app: Any) -> None:
    """§8 Everything else: path, URL and query string of the handshake."""
    req = await handshake_request(
        app, '/rooms/lobby', route='/rooms/{room}', query_string='a=1'
    )
    assert req.path == '/rooms/lobby'
    assert req.url == 'ws://falconframework.org/rooms/lobby?a=1'
    assert req.query_string == 'a=1'


# --- §9 ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ('base', 'payload'),
    [('TextBaseHandlerWS', 'text'), ('BinaryBaseHandlerWS', b'bytes')],
)
def test_base_handlers_raise_not_implemented(base: str, payload: Any) -> None:
    """§9 ``TextBaseHandlerWS`` / ``BinaryBaseHandlerWS``: abstract methods."""
    handler = getattr(falcon.media, base)()
    with pytest.raises(NotImplementedError):
        handler.serialize({'a': 1})
    with pytest.raises(NotImplementedError):
        handler.deserialize(payload)


def test_json_handler_ws_defaults() -> None:
    """§9 ``JSONHandlerWS``: non-ASCII kept as is; round-trips."""
    handler = falcon.media.JSONHandlerWS()
    text = handler.serialize({'word': 'héllo', 'n': [1, 2.5, None, True]})
    assert isinstance(text, str)
    assert 'héllo' in text
    assert json.loads(text) == {'word': 'héllo', 'n': [1, 2.5, None, True]}
    assert handler.deserialize('{"a": [1]}') == {'a': [1]}


def test_json_handler_ws_custom_functions() -> None:
    """§9 ``JSONHandlerWS(dumps=, loads=)``: the given functions are used."""
    handler = falcon.media.JSONHandlerWS(
        dumps=lambda obj: 'dumped', loads=lambda text: ('loaded', text)
    )
    assert handler.serialize({'a': 1}) == 'dumped'
    assert handler.deserialize('x') == ('loaded', 'x')


def test_msgpack_handler_ws() -> None:
    """§9 ``MessagePackHandlerWS``: bin type on, strings decoded on the way in."""
    handler = falcon.media.MessagePackHandlerWS()
    data = handler.serialize({'s': 'é', 'b': b'\x00'})
    assert msgpack.unpackb(data, raw=False) == {'s': 'é', 'b': b'\x00'}
    assert data == msgpack.packb({'s': 'é', 'b': b'\x00'}, use_bin_type=True)
    assert handler.deserialize(msgpack.packb({'k': [1, 'v']})) == {'k': [1, 'v']}


def test_missing_dependency_handler() -> None:
    """§9 ``MissingDependencyHandler``: raises ``RuntimeError`` naming the library."""
    handler = falcon.media.MissingDependencyHandler('my handler', 'somelib')
    for call in (lambda: handler.serialize({}), lambda: handler.deserialize(b'')):
        with pytest.raises(RuntimeError, match='somelib'):
            call()


async def test_selection_by_frame_type(app: Any) -> None:
    """§9 Selection: TEXT frames use the TEXT handler, BINARY the BINARY one."""

    class Tagged(falcon.media.TextBaseHandlerWS):
        def serialize(self, media: object) -> str:
            return 'text:' + json.dumps(media)

        def deserialize(self, payload: str) -> object:
            return ('text', payload)

    class TaggedBinary(falcon.media.BinaryBaseHandlerWS):
        def serialize(self, media: object) -> bytes:
            return b'bin:' + json.dumps(media).encode()

        def deserialize(self, payload: bytes) -> object:
            return ('bin', payload.decode())

    class Echo:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            first = await ws.receive_media()
            second = await ws.receive_media()
            await ws.send_media([first, second])
            await ws.send_media(first[0], BINARY)

    app.ws_options.media_handlers[TEXT] = Tagged()
    app.ws_options.media_handlers[BINARY] = TaggedBinary()
    app.add_route('/', Echo())
    async with connect(app) as ws:
        await ws.send_text('t')
        await ws.send_data(b'b')
        assert await ws.receive_text() == 'text:[["text", "t"], ["bin", "b"]]'
        assert await ws.receive_data() == b'bin:"text"'
