"""Inventory §0: the top-30 summary, one test per row (``test_row_NN_*``).

Each test checks the row's statement end to end; the later sections test the
details.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from ws_support import RawConnection, connect, denial, settle

import gyrfalcon as falcon
from gyrfalcon import testing


class Echo:
    async def on_websocket(self, req: Any, ws: Any, **params: Any) -> None:
        await ws.accept()
        await ws.send_media(params)
        while True:
            try:
                message = await ws.receive_text()
            except falcon.WebSocketDisconnected:
                return
            await ws.send_text(message)


async def test_row_01_ws_responder_with_params_and_suffix(app: Any) -> None:
    """§0 row 1: ``on_websocket(req, ws, **uri_params)``; suffixed variants work."""

    class Suffixed:
        async def on_websocket_item(self, req: Any, ws: Any, item_id: int) -> None:
            await ws.accept()
            await ws.send_media({'suffixed': item_id})

    app.add_route('/rooms/{room}/{user}', Echo())
    app.add_route('/items/{item_id:int}', Suffixed(), suffix='item')
    async with connect(app, '/rooms/lobby/ann') as ws:
        assert await ws.receive_json() == {'room': 'lobby', 'user': 'ann'}
    async with connect(app, '/items/42') as ws:
        assert await ws.receive_json() == {'suffixed': 42}


async def test_row_02_handshake_request(app: Any) -> None:
    """§0 row 2: ``req`` is an ASGI Request; is_websocket, GET, 'ws' scheme."""
    seen: dict[str, Any] = {}

    class Inspect:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            seen['type'] = type(req)
            seen['values'] = (req.is_websocket, req.method, req.scheme)
            try:
                await req.get_media()
            except falcon.UnsupportedError as ex:
                seen['media_error'] = ex

    app.add_route('/', Inspect())
    await denial(app)
    assert issubclass(seen['type'], falcon.asgi.Request)
    assert seen['values'] == (True, 'GET', 'ws')
    assert isinstance(seen['media_error'], falcon.UnsupportedError)


async def test_row_03_accept(app: Any) -> None:
    """§0 row 3: ``accept(subprotocol=None, headers=None)``."""

    class Accept:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept(subprotocol='wamp', headers={'X-Key': 'v'})

    app.add_route('/', Accept())
    async with connect(app, subprotocols=['wamp']) as ws:
        assert ws.subprotocol == 'wamp'
        assert (b'x-key', b'v') in ws.headers


async def test_row_04_close_before_accept_is_denial(app: Any) -> None:
    """§0 row 4: ``close()`` before ``accept()`` denies: a server answers 403."""

    class Deny:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.close()

    app.add_route('/', Deny())
    exception = await denial(app)
    assert exception.code == 3403
    raw = RawConnection(app)
    await raw.run()
    assert raw.types() == ['websocket.close']
    assert raw.sent[0]['code'] == 1000


async def test_row_05_auto_close(app: Any) -> None:
    """§0 row 5: after the responder returns, the framework closes (1000)."""

    class Accepts:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()

    class Returns:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            pass

    app.add_route('/accepts', Accepts())
    app.add_route('/returns', Returns())
    async with connect(app, '/accepts') as ws:
        await settle()
        assert ws.closed
        assert ws.close_code == 1000
    assert (await denial(app, '/returns')).code == 3403


async def test_row_06_text(app: Any) -> None:
    """§0 row 6: ``send_text(str)`` / ``receive_text() -> str``."""
    app.add_route('/', Echo())
    async with connect(app) as ws:
        await ws.receive_json()
        await ws.send_text('héllo')
        assert await ws.receive_text() == 'héllo'


async def test_row_07_binary(app: Any) -> None:
    """§0 row 7: ``send_data(bytes-like)`` / ``receive_data() -> bytes``."""

    class Binary:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            data = await ws.receive_data()
            assert isinstance(data, bytes)
            await ws.send_data(bytearray(data[::-1]))
            await ws.send_data(memoryview(b'mv'))

    app.add_route('/', Binary())
    async with connect(app) as ws:
        await ws.send_data(b'\x01\x02')
        assert await ws.receive_data() == b'\x02\x01'
        assert await ws.receive_data() == b'mv'


async def test_row_08_media(app: Any) -> None:
    """§0 row 8: ``send_media`` defaults to TEXT; ``receive_media`` by frame type."""

    class Media:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            for __ in range(2):
                await ws.send_media(await ws.receive_media())

    app.add_route('/', Media())
    async with connect(app) as ws:
        await ws.send_json({'from': 'text'})
        assert await ws.receive_json() == {'from': 'text'}
        await ws.send_msgpack({'from': 'binary'})
        assert await ws.receive_json() == {'from': 'binary'}


def test_row_09_payload_enum() -> None:
    """§0 row 9: ``falcon.WebSocketPayloadType.TEXT`` / ``.BINARY``."""
    assert falcon.WebSocketPayloadType.TEXT.value == 1
    assert falcon.WebSocketPayloadType.BINARY.value == 2
    assert set(falcon.WebSocketPayloadType) == {
        falcon.WebSocketPayloadType.TEXT,
        falcon.WebSocketPayloadType.BINARY,
    }


async def test_row_10_state_flags(app: Any) -> None:
    """§0 row 10: ``ws.unaccepted``, ``ws.ready``, ``ws.closed``."""
    states = []

    class Flags:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            states.append((ws.unaccepted, ws.ready, ws.closed))
            await ws.accept()
            states.append((ws.unaccepted, ws.ready, ws.closed))
            await ws.close()
            states.append((ws.unaccepted, ws.ready, ws.closed))

    app.add_route('/', Flags())
    async with connect(app):
        pass
    assert states == [(True, False, False), (False, True, False), (False, False, True)]


async def test_row_11_subprotocols(app: Any) -> None:
    """§0 row 11: ``ws.subprotocols`` is a tuple in client order."""
    seen = []

    class Sub:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            seen.append(ws.subprotocols)
            await ws.accept(subprotocol=ws.subprotocols[-1])

    app.add_route('/', Sub())
    async with connect(app, subprotocols=['b', 'a', 'c']) as ws:
        assert ws.subprotocol == 'c'
    assert seen == [('b', 'a', 'c')]


async def test_row_12_accept_headers(app: Any) -> None:
    """§0 row 12: ``accept(headers=)``; ``supports_accept_headers`` from spec 2.1."""
    seen = []

    class Headers:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            seen.append(ws.supports_accept_headers)
            await ws.accept(headers=[('X-A', '1'), ('X-B', '2')])

    app.add_route('/', Headers())
    async with connect(app, spec_version='2.1') as ws:
        assert ws.headers == [(b'x-a', b'1'), (b'x-b', b'2')]
    # NOTE: On a 2.0 server, accept(headers=) raises OperationNotAllowed in the
    #   responder; unhandled, that ends in a 1011 close.
    assert (await denial(app, spec_version='2.0')).code == 1011
    assert seen == [True, False]


@pytest.mark.parametrize(
    ('spec_version', 'reason', 'expected'),
    [
        ('2.3', 'bye', 'bye'),
        ('2.3', None, 'Normal Closure'),
        ('2.2', 'bye', ''),
    ],
)
async def test_row_13_close_reason(
    app: Any, spec_version: str, reason: str | None, expected: str
) -> None:
    """§0 row 13: ``close(reason=)``, else the default reason; spec >= 2.3 only."""

    class Closes:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            await ws.close(1000, reason)

    app.add_route('/', Closes())
    async with connect(app, spec_version=spec_version) as ws:
        await settle()
        assert (ws.close_code, ws.close_reason) == (1000, expected)


def test_row_14_options_object(app: Any) -> None:
    """§0 row 14: ``app.ws_options`` is a ``WebSocketOptions`` with 4 attributes."""
    options = app.ws_options
    assert isinstance(options, falcon.asgi.WebSocketOptions)
    for name in (
        'error_close_code',
        'max_receive_queue',
        'media_handlers',
        'default_close_reasons',
    ):
        assert hasattr(options, name)


async def test_row_15_error_close_code(app: Any) -> None:
    """§0 row 15: ``error_close_code`` 1011, and 3011 if the server rejects it."""
    assert app.ws_options.error_close_code == 1011

    class Fails:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            raise RuntimeError('boom')

    app.add_route('/', Fails())

    async def reject_1011(event: dict[str, Any]) -> None:
        if event['type'] == 'websocket.close' and event.get('code') == 1011:
            raise RuntimeError('invalid close code 1011')

    raw = RawConnection(app)
    raw.send_hook = reject_1011
    await raw.run()
    assert [event['code'] for event in raw.closes()] == [1011, 3011]


async def test_row_16_max_receive_queue(app: Any) -> None:
    """§0 row 16: ``max_receive_queue`` 4; 0 turns the receive pump off."""
    assert app.ws_options.max_receive_queue == 4

    class SendsOnly:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            await settle()

    app.add_route('/', SendsOnly())
    app.ws_options.max_receive_queue = 0
    raw = RawConnection(app)
    await raw.run()
    # NOTE: Without the pump, nothing reads past websocket.connect.
    assert raw.receive_calls == 1


def test_row_17_media_handlers(app: Any) -> None:
    """§0 row 17: TEXT is ``JSONHandlerWS``, BINARY ``MessagePackHandlerWS``."""
    handlers = app.ws_options.media_handlers
    assert isinstance(
        handlers[falcon.WebSocketPayloadType.TEXT], falcon.media.JSONHandlerWS
    )
    assert isinstance(
        handlers[falcon.WebSocketPayloadType.BINARY], falcon.media.MessagePackHandlerWS
    )


def test_row_18_default_close_reasons(app: Any) -> None:
    """§0 row 18: 65 entries: 1000, 1011, 3011 and 3000 + every HTTP status."""
    reasons = app.ws_options.default_close_reasons
    assert len(reasons) == 65
    assert reasons[1000] == 'Normal Closure'
    assert reasons[1011] == reasons[3011] == 'Internal Server Error'
    assert reasons[3404] == 'Not Found'


def test_row_19_disconnect_exception() -> None:
    """§0 row 19: ``WebSocketDisconnected(code)`` is an ``OSError``; code 1000."""
    assert issubclass(falcon.WebSocketDisconnected, ConnectionError)
    assert issubclass(falcon.WebSocketDisconnected, OSError)
    assert falcon.WebSocketDisconnected().code == 1000
    assert falcon.WebSocketDisconnected(4000).code == 4000


async def test_row_20_wrong_frame_type(app: Any) -> None:
    """§0 row 20: ``PayloadTypeError`` (a ``TypeError``) on the wrong frame type."""
    caught = []

    class Strict:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            try:
                await ws.receive_text()
            except TypeError as ex:
                caught.append(ex)

    app.add_route('/', Strict())
    async with connect(app) as ws:
        await ws.send_data(b'binary')
        await settle()
    assert isinstance(caught[0], falcon.PayloadTypeError)


async def test_row_21_misuse(app: Any) -> None:
    """§0 row 21: misuse raises ``OperationNotAllowed`` (a ``ValueError``)."""
    caught = []

    class Misuse:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            try:
                await ws.send_text('too early')
            except ValueError as ex:
                caught.append(ex)
            await ws.accept()
            try:
                await ws.accept()
            except ValueError as ex:
                caught.append(ex)

    app.add_route('/', Misuse())
    async with connect(app):
        pass
    assert [type(ex) for ex in caught] == [falcon.OperationNotAllowed] * 2


@pytest.mark.parametrize('accept', [False, True])
@pytest.mark.parametrize(
    ('error', 'code', 'reason'),
    [
        (falcon.HTTPBadRequest(), 3400, 'Bad Request'),
        (falcon.HTTPUnprocessableEntity(), 3422, 'Unprocessable Entity'),
        (falcon.HTTPStatus(falcon.HTTP_200), 3200, 'OK'),
    ],
)
async def test_row_22_http_errors_map_to_3000_plus_status(
    app: Any, accept: bool, error: Exception, code: int, reason: str
) -> None:
    """§0 row 22: HTTPError/HTTPStatus close with 3000 + status, phrase as reason."""

    class Raises:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            if accept:
                await ws.accept()
            raise error

    app.add_route('/', Raises())
    if accept:
        async with connect(app, spec_version='2.5') as ws:
            await settle()
            assert (ws.close_code, ws.close_reason) == (code, reason)
    else:
        exception = await denial(app, spec_version='2.5')
        assert (exception.code, exception.ws.close_reason) == (code, reason)


async def test_row_23_unhandled_exception(
    app: Any, logs: pytest.LogCaptureFixture
) -> None:
    """§0 row 23: an unhandled exception is logged at ERROR and closes with 1011."""

    class Fails:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            raise RuntimeError('kaboom')

    app.add_route('/', Fails())
    async with connect(app, spec_version='2.5') as ws:
        await settle()
        assert (ws.close_code, ws.close_reason) == (1011, 'Internal Server Error')
    errors = [r for r in logs.records if r.levelno == logging.ERROR]
    assert errors
    assert any(r.exc_info and isinstance(r.exc_info[1], RuntimeError) for r in errors)


async def test_row_24_no_route_no_responder_static(app: Any, tmp_path: Any) -> None:
    """§0 row 24: no route 3404, no ``on_websocket`` 3405, static route 3400."""

    class HttpOnly:
        async def on_get(self, req: Any, resp: Any) -> None:
            pass

    app.add_route('/http', HttpOnly())
    app.add_static_route('/static', str(tmp_path))
    exception = await denial(app, '/nowhere')
    assert isinstance(exception, falcon.WebSocketPathNotFound)
    assert exception.code == 3404
    exception = await denial(app, '/http')
    assert isinstance(exception, falcon.WebSocketHandlerNotFound)
    assert exception.code == 3405
    assert (await denial(app, '/static/file.txt')).code == 3400


async def test_row_25_ws_middleware(app: Any) -> None:
    """§0 row 25: ``process_request_ws`` before routing, ``_resource_ws`` after."""
    calls = []

    class Middleware:
        async def process_request_ws(self, req: Any, ws: Any) -> None:
            calls.append(('request', req.path, ws.unaccepted))

        async def process_resource_ws(
            self, req: Any, ws: Any, resource: Any, params: Any
        ) -> None:
            calls.append(('resource', type(resource).__name__, dict(params)))

    app.add_middleware(Middleware())
    app.add_route('/{room}', Echo())
    async with connect(app, '/lobby') as ws:
        assert await ws.receive_json() == {'room': 'lobby'}
    assert calls == [
        ('request', '/lobby', True),
        ('resource', 'Echo', {'room': 'lobby'}),
    ]


async def test_row_26_ws_error_handler(app: Any) -> None:
    """§0 row 26: ``handler(req, resp, ex, params, ws=None)``: resp None, ws given."""
    calls = []

    class Custom(Exception):
        pass

    async def handler(req: Any, resp: Any, ex: Exception, params: Any, ws: Any) -> None:
        calls.append((resp, type(ex), params))
        await ws.close(4321)

    class Raises:
        async def on_websocket(self, req: Any, ws: Any, name: str) -> None:
            await ws.accept()
            raise Custom()

    app.add_error_handler(Custom, handler)
    app.add_route('/{name}', Raises())
    async with connect(app, '/x') as ws:
        await settle()
        assert ws.close_code == 4321
    assert calls == [(None, Custom, {'name': 'x'})]


async def test_row_27_lost_connection_detection(app: Any) -> None:
    """§0 row 27: the pump sees the disconnect; ``send_*`` then raises."""
    outcome = []

    class Pusher:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            try:
                while True:
                    await ws.send_text('tick')
                    await settle(2)
            except falcon.WebSocketDisconnected as ex:
                outcome.append(ex.code)

    app.add_route('/', Pusher())
    async with connect(app) as ws:
        assert await ws.receive_text() == 'tick'
        await ws.close(1001)
    assert outcome == [1001]

    async def raise_oserror(event: dict[str, Any]) -> None:
        if event['type'] == 'websocket.send':
            raise OSError('connection lost')

    outcome.clear()
    app.ws_options.max_receive_queue = 0
    raw = RawConnection(app)
    raw.send_hook = raise_oserror
    await raw.run()
    # NOTE: Falcon reports 1000 here. No close code was received, so this is
    #   "a disconnect without a code", which is 1005 ("Beyond Falcon").
    assert outcome == [1005]


async def test_row_28_sinks_and_hooks(app: Any) -> None:
    """§0 row 28: a sink takes ``ws=``; hooks wrap ``on_websocket`` (ws as resp)."""
    seen = []

    async def sink(req: Any, resp: Any, ws: Any = None, **kwargs: Any) -> None:
        seen.append(('sink', resp, type(ws).__name__))
        await ws.accept()

    async def hook(req: Any, resp: Any, resource: Any, params: Any) -> None:
        seen.append(('hook', type(resp).__name__))

    class Hooked:
        @falcon.before(hook)
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()

    app.add_sink(sink, '/sink')
    app.add_route('/hooked', Hooked())
    async with connect(app, '/sink/anything'):
        pass
    async with connect(app, '/hooked'):
        pass
    assert seen == [('sink', None, 'WebSocket'), ('hook', 'WebSocket')]


async def test_row_29_test_client(app: Any) -> None:
    """§0 row 29: ``simulate_ws`` (alias ``websocket``) gives a simulator."""
    app.add_route('/', Echo())
    async with testing.ASGIConductor(app) as conductor:
        async with conductor.simulate_ws('/', timeout=3) as ws:
            assert isinstance(ws, testing.ASGIWebSocketSimulator)
        async with conductor.websocket('/') as ws:
            assert isinstance(ws, testing.ASGIWebSocketSimulator)


async def test_row_30_simulator_api(app: Any) -> None:
    """§0 row 30: the simulator's sends, receives, close, wait_ready, properties."""

    class Media:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept(subprotocol='s', headers={'X-H': '1'})
            await ws.send_text(await ws.receive_text())
            await ws.send_data(await ws.receive_data())
            await ws.send_media(await ws.receive_media())
            await ws.send_media(
                await ws.receive_media(), falcon.WebSocketPayloadType.BINARY
            )
            await ws.receive_text()

    app.add_route('/', Media())
    async with connect(app, subprotocols=['s'], spec_version='2.5') as ws:
        await ws.wait_ready(timeout=1)
        assert (ws.ready, ws.closed, ws.subprotocol) == (True, False, 's')
        assert ws.headers == [(b'x-h', b'1')]
        await ws.send_text('t')
        assert await ws.receive_text() == 't'
        await ws.send_data(b'd')
        assert await ws.receive_data() == b'd'
        await ws.send_json([1])
        assert await ws.receive_json() == [1]
        await ws.send_msgpack({'m': 1})
        assert await ws.receive_msgpack() == {'m': 1}
        await ws.close(4000, 'done')
        assert (ws.closed, ws.close_code, ws.close_reason) == (True, 4000, 'done')
