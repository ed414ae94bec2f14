"""Inventory §3 (``WebSocketOptions``) and §4 (errors, close codes, constants)."""

from __future__ import annotations

from typing import Any

import pytest
from ws_support import RawConnection, connect, denial, settle

import gyrfalcon as falcon

TEXT = falcon.WebSocketPayloadType.TEXT
BINARY = falcon.WebSocketPayloadType.BINARY


class Fails:
    async def on_websocket(self, req: Any, ws: Any) -> None:
        await ws.accept()
        raise RuntimeError('boom')


# --- §3 ----------------------------------------------------------------------


def test_options_slots(app: Any) -> None:
    """§3 header: ``WebSocketOptions`` has slots; new attributes raise."""
    with pytest.raises(AttributeError):
        app.ws_options.max_close_timeout = 5


async def test_error_close_code(app: Any) -> None:
    """§3 ``error_close_code``: 1011 by default, used for unhandled errors."""
    assert app.ws_options.error_close_code == 1011
    app.add_route('/', Fails())
    app.ws_options.error_close_code = 4500
    async with connect(app) as ws:
        await settle()
        assert ws.close_code == 4500


async def test_error_close_code_fallback_3011(app: Any) -> None:
    """§3 ``error_close_code``: retried as 3011 when the server rejects it."""
    app.add_route('/', Fails())
    attempts = []

    async def server(event: dict[str, Any]) -> None:
        if event['type'] == 'websocket.close':
            attempts.append(event['code'])
            if event['code'] == 1011:
                raise ValueError('Invalid close code 1011')

    raw = RawConnection(app)
    raw.send_hook = server
    await raw.run()
    assert attempts == [1011, 3011]


def test_default_close_reasons(app: Any) -> None:
    """§3 ``default_close_reasons``: 65 entries, replaceable and mutable."""
    reasons = app.ws_options.default_close_reasons
    assert len(reasons) == 65
    assert reasons[1000] == 'Normal Closure'
    assert reasons[1011] == reasons[3011] == 'Internal Server Error'
    expected = {
        3200: 'OK',
        3400: 'Bad Request',
        3403: 'Forbidden',
        3404: 'Not Found',
        3405: 'Method Not Allowed',
        3422: 'Unprocessable Entity',
        3500: 'Internal Server Error',
    }
    for code, phrase in expected.items():
        assert reasons[code] == phrase
    assert 1001 not in reasons
    assert 1008 not in reasons
    assert not [code for code in reasons if code >= 4000]
    app.ws_options.default_close_reasons = {}
    assert app.ws_options.default_close_reasons == {}


async def test_replaced_close_reasons_are_used(app: Any) -> None:
    """§3 ``default_close_reasons``: the replaced mapping is the one used."""

    class Closes:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            await ws.close(4001)

    app.add_route('/', Closes())
    app.ws_options.default_close_reasons = {4001: 'custom'}
    async with connect(app, spec_version='2.3') as ws:
        await settle()
        assert ws.close_reason == 'custom'


def test_media_handlers_defaults(app: Any) -> None:
    """§3 ``media_handlers``: a dict keyed by ``WebSocketPayloadType``."""
    handlers = app.ws_options.media_handlers
    assert set(handlers) == {TEXT, BINARY}
    assert isinstance(handlers[TEXT], falcon.media.JSONHandlerWS)
    assert isinstance(handlers[BINARY], falcon.media.MessagePackHandlerWS)


def test_missing_dependency_handler() -> None:
    """§3 ``media_handlers``: without msgpack, BINARY raises ``RuntimeError``."""
    handler = falcon.media.MissingDependencyHandler(
        'default WebSocket media handler for BINARY payloads', 'msgpack'
    )
    assert isinstance(handler, falcon.media.BinaryBaseHandlerWS)
    with pytest.raises(RuntimeError, match='msgpack'):
        handler.serialize({'a': 1})
    with pytest.raises(RuntimeError, match='msgpack'):
        handler.deserialize(b'\x80')


async def test_max_receive_queue_backpressure(app: Any) -> None:
    """§3 ``max_receive_queue``: the pump buffers at most that many messages."""

    class Slow:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            await settle(30)
            Slow.calls = raw.receive_calls
            for __ in range(6):
                await ws.receive_text()

    app.add_route('/', Slow())
    app.ws_options.max_receive_queue = 2
    raw = RawConnection(app)
    for i in range(6):
        raw.push_text(str(i))
    raw.push_disconnect()
    await raw.run()
    # NOTE: connect, two buffered messages, and the pending third receive.
    assert Slow.calls == 4


# --- §4 ----------------------------------------------------------------------


def test_websocket_disconnected() -> None:
    """§4 ``WebSocketDisconnected``: a ``ConnectionError``; code defaults to 1000."""
    ex = falcon.WebSocketDisconnected()
    assert isinstance(ex, ConnectionError)
    assert isinstance(ex, OSError)
    assert ex.code == 1000
    assert falcon.WebSocketDisconnected(1001).code == 1001


@pytest.mark.parametrize(
    ('name', 'code'),
    [
        ('WebSocketPathNotFound', 3404),
        ('WebSocketHandlerNotFound', 3405),
        ('WebSocketServerError', 1011),
    ],
)
async def test_simulator_only_subclasses(app: Any, name: str, code: int) -> None:
    """§4 ``WebSocketPathNotFound`` / ``HandlerNotFound`` / ``ServerError``."""
    cls = getattr(falcon, name)
    assert issubclass(cls, falcon.WebSocketDisconnected)

    class HttpOnly:
        async def on_get(self, req: Any, resp: Any) -> None:
            pass

    class Crashes:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            raise RuntimeError('before accept')

    app.add_route('/http', HttpOnly())
    app.add_route('/crash', Crashes())
    path = {3404: '/nope', 3405: '/http', 1011: '/crash'}[code]
    exception = await denial(app, path)
    assert type(exception) is cls
    assert exception.code == code


def test_payload_type_error() -> None:
    """§4 ``PayloadTypeError``: a ``TypeError``."""
    assert issubclass(falcon.PayloadTypeError, TypeError)


def test_operation_not_allowed() -> None:
    """§4 ``OperationNotAllowed``: a ``ValueError``."""
    assert issubclass(falcon.OperationNotAllowed, ValueError)


def test_unsupported_errors() -> None:
    """§4 ``UnsupportedScopeError`` / ``UnsupportedError``: ``RuntimeError``s."""
    assert issubclass(falcon.UnsupportedScopeError, RuntimeError)
    assert issubclass(falcon.UnsupportedError, RuntimeError)


def test_compatibility_error_for_sync_ws_middleware() -> None:
    """§4 ``CompatibilityError``: sync ``process_*_ws`` middleware is refused."""

    class Sync:
        def process_request_ws(self, req: Any, ws: Any) -> None:
            pass

    with pytest.raises(falcon.CompatibilityError):
        falcon.asgi.App(middleware=[Sync()])


async def test_ws_close_codes(app: Any) -> None:
    """§4 ``WSCloseCode``: 1000 normal, 1011 error, 3403, 3404, 3405 in use."""

    class Normal:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()

    class Forbidden:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            raise falcon.HTTPForbidden()

    app.add_route('/normal', Normal())
    app.add_route('/forbidden', Forbidden())
    app.add_route('/crash', Fails())
    raw = RawConnection(app, path='/normal')
    await raw.run()
    assert raw.closes()[0]['code'] == 1000
    raw = RawConnection(app, path='/crash')
    await raw.run()
    assert raw.closes()[0]['code'] == 1011
    assert (await denial(app, '/forbidden')).code == 3403


async def test_fallback_error_code_is_3011(app: Any) -> None:
    """§4 ``_FALLBACK_WS_ERROR_CODE``: 3011."""
    app.add_route('/', Fails())

    async def server(event: dict[str, Any]) -> None:
        if event['type'] == 'websocket.close' and event['code'] == 1011:
            raise RuntimeError('invalid close code')

    raw = RawConnection(app)
    raw.send_hook = server
    await raw.run()
    assert raw.closes()[-1]['code'] == 3011


@pytest.mark.parametrize('status', [200, 400, 404, 418, 503])
def test_http_status_to_ws_code(status: int) -> None:
    """§4 ``http_status_to_ws_code(s)``: ``s + 3000``."""
    from gyrfalcon.asgi.ws import http_status_to_ws_code

    assert http_status_to_ws_code(status) == status + 3000


async def test_event_types(app: Any) -> None:
    """§4 ``EventType.WS_*``: the ASGI event names the app sends and expects."""

    class Talks:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            await ws.send_text(await ws.receive_text())

    app.add_route('/', Talks())
    raw = RawConnection(app)
    raw.push_text('hi')
    await raw.run()
    assert raw.types() == ['websocket.accept', 'websocket.send', 'websocket.close']


def test_payload_type_enum() -> None:
    """§4 ``WebSocketPayloadType``: an ``Enum``, TEXT 1 and BINARY 2."""
    import enum

    assert issubclass(falcon.WebSocketPayloadType, enum.Enum)
    assert [(m.name, m.value) for m in falcon.WebSocketPayloadType] == [
        ('TEXT', 1),
        ('BINARY', 2),
    ]
    import gyrfalcon.constants

    assert gyrfalcon.constants.WebSocketPayloadType is falcon.WebSocketPayloadType
