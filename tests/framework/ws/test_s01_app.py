"""Inventory §1: App-level entry and lifecycle, one test per row."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from ws_support import RawConnection, connect, denial, settle

import gyrfalcon as falcon
from gyrfalcon import testing


class Accepts:
    async def on_websocket(self, req: Any, ws: Any) -> None:
        await ws.accept()
        await ws.send_media({'spec': req.scope['asgi'].get('spec_version')})


async def test_asgi_dispatch_defaults_for_missing_keys(app: Any) -> None:
    """§1 ASGI dispatch: no ``asgi`` means spec 2.0; no ``http_version``, 1.1."""
    app.add_route('/', Accepts())
    scope = testing.create_scope_ws()
    del scope['asgi']
    del scope['http_version']
    raw = RawConnection(app, scope)
    raw.push_disconnect()
    await raw.run()
    assert raw.types() == ['websocket.accept', 'websocket.send', 'websocket.close']

    seen = []

    class Headers:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            seen.append(ws.supports_accept_headers)

    app.add_route('/h', Headers())
    scope = testing.create_scope_ws('/h')
    del scope['asgi']['spec_version']
    await RawConnection(app, scope).run()
    assert seen == [False]


@pytest.mark.parametrize(
    ('change', 'error'),
    [
        (
            {'asgi': {'version': '3.0', 'spec_version': '3.0'}},
            falcon.UnsupportedScopeError,
        ),
        ({'http_version': '1.0'}, falcon.UnsupportedError),
    ],
)
async def test_scope_validation(app: Any, change: dict[str, Any], error: type) -> None:
    """§1 Scope validation: spec must be 2.x, http_version 1.1, 2 or 3."""
    app.add_route('/', Accepts())
    scope = testing.create_scope_ws()
    scope.update(change)
    with pytest.raises(error):
        await RawConnection(app, scope).run()


@pytest.mark.parametrize('http_version', ['1.1', '2', '3'])
async def test_scope_validation_accepts_http_versions(
    app: Any, http_version: str
) -> None:
    """§1 Scope validation: the accepted ``http_version`` values."""
    app.add_route('/', Accepts())
    scope = testing.create_scope_ws()
    scope['http_version'] = http_version
    raw = RawConnection(app, scope)
    raw.push_disconnect()
    await raw.run()
    assert raw.types()[0] == 'websocket.accept'


@pytest.mark.parametrize(
    ('spec', 'reason'), [('2.1', None), ('2.3', 'Internal Server Error')]
)
async def test_first_event_must_be_connect(
    app: Any, spec: str, reason: str | None
) -> None:
    """§1 First event: anything but ``websocket.connect`` gets a 1011 close."""
    called = []

    class Never:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            called.append(True)

    app.add_route('/', Never())
    raw = RawConnection(app, spec_version=spec)
    raw.incoming.get_nowait()
    raw.push_text('not a connect')
    await raw.run()
    assert not called
    assert len(raw.sent) == 1
    assert raw.sent[0]['type'] == 'websocket.close'
    assert raw.sent[0]['code'] == 1011
    assert raw.sent[0].get('reason') == reason


async def test_object_construction_errors_propagate(app: Any) -> None:
    """§1 Object construction: errors building the Request reach the server."""

    class Broken(falcon.asgi.Request):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            raise LookupError('cannot build')

    broken = falcon.asgi.App(request_type=Broken)
    broken.add_route('/', Accepts())
    with pytest.raises(LookupError, match='cannot build'):
        await RawConnection(broken).run()


async def test_object_construction_reads_options_per_connection(app: Any) -> None:
    """§1 Object construction: options are read for each new connection."""

    class Upper(falcon.media.TextBaseHandlerWS):
        def serialize(self, media: object) -> str:
            return str(media).upper()

        def deserialize(self, payload: str) -> object:
            return payload

    app.add_route('/', Accepts())
    async with connect(app, spec_version='2.5') as ws:
        assert await ws.receive_json() == {'spec': '2.5'}
    app.ws_options.media_handlers[falcon.WebSocketPayloadType.TEXT] = Upper()
    app.ws_options.default_close_reasons[1000] = 'Changed'
    async with connect(app, spec_version='2.5') as ws:
        assert await ws.receive_text() == "{'SPEC': '2.5'}"
        await settle()
        assert ws.close_reason == 'Changed'


async def test_flow_order(app: Any) -> None:
    """§1 Flow: request mw, routing, resource mw, responder, then close."""
    calls = []

    class Middleware:
        async def process_request_ws(self, req: Any, ws: Any) -> None:
            calls.append('process_request_ws')

        async def process_resource_ws(
            self, req: Any, ws: Any, resource: Any, params: Any
        ) -> None:
            calls.append('process_resource_ws')

    class Responder:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            calls.append('on_websocket')
            await ws.accept()

    app.add_middleware(Middleware())
    app.add_route('/', Responder())
    raw = RawConnection(app)
    await raw.run()
    assert calls == ['process_request_ws', 'process_resource_ws', 'on_websocket']
    assert raw.types() == ['websocket.accept', 'websocket.close']


async def test_no_short_circuit(app: Any) -> None:
    """§1 No short-circuit: the responder runs even after middleware closed."""
    outcome = []

    class Closer:
        async def process_request_ws(self, req: Any, ws: Any) -> None:
            await ws.close()

    class Responder:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            try:
                await ws.accept()
            except (falcon.OperationNotAllowed, falcon.WebSocketDisconnected) as ex:
                outcome.append(type(ex))

    app.add_middleware(Closer())
    app.add_route('/', Responder())
    await denial(app)
    assert len(outcome) == 1


def test_pseudo_method_websocket(app: Any) -> None:
    """§1 Pseudo-method: WEBSOCKET is routed, never listed in Allow, 400 over HTTP."""

    class Both:
        async def on_get(self, req: Any, resp: Any) -> None:
            resp.media = {'ok': True}

        async def on_websocket(self, req: Any, ws: Any) -> None:
            pass

    app.add_route('/', Both())
    client = testing.TestClient(app)
    assert client.simulate_request('WEBSOCKET', '/').status_code == 400
    result = client.simulate_post('/')
    assert result.status_code == 405
    assert 'WEBSOCKET' not in result.headers['Allow']
    assert 'GET' in result.headers['Allow']


async def test_on_request_default_responder_skips_websocket(app: Any) -> None:
    """§1 ``on_request`` default responder: does not cover ``on_websocket``."""

    class Default:
        async def on_request(self, req: Any, resp: Any) -> None:
            resp.media = {'method': req.method}

    app.router_options.default_to_on_request = True
    app.add_route('/', Default())
    result = await testing.ASGIConductor(app).simulate_put('/')
    assert result.json == {'method': 'PUT'}
    assert (await denial(app)).code == 3405


def test_responder_must_be_async(app: Any) -> None:
    """§1 Responder must be async: a sync ``on_websocket`` fails at add_route."""

    class Sync:
        def on_websocket(self, req: Any, ws: Any) -> None:
            pass

    with pytest.raises(TypeError):
        app.add_route('/', Sync())


async def test_auto_close(app: Any) -> None:
    """§1 Auto close: 1000 'Normal Closure' (spec >= 2.3); no-op if closed."""

    class Accepts2:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()

    class ClosesItself:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            await ws.close(4000)

    app.add_route('/a', Accepts2())
    app.add_route('/b', ClosesItself())
    raw = RawConnection(app, path='/a', spec_version='2.3')
    await raw.run()
    assert raw.closes() == [
        {'type': 'websocket.close', 'code': 1000, 'reason': 'Normal Closure'}
    ]
    raw = RawConnection(app, path='/b', spec_version='2.3')
    await raw.run()
    assert [event['code'] for event in raw.closes()] == [4000]


def test_ws_options_created_with_the_app() -> None:
    """§1 ``ws_options``: each App gets its own ``WebSocketOptions``."""
    first, second = falcon.asgi.App(), falcon.asgi.App()
    assert isinstance(first.ws_options, falcon.asgi.WebSocketOptions)
    assert first.ws_options is not second.ws_options


async def test_builtin_disconnected_handler(
    app: Any, logs: pytest.LogCaptureFixture
) -> None:
    """§1 Built-in WS error handler: an uncaught disconnect is logged at DEBUG."""

    class Unhandled:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            await ws.receive_text()

    app.add_route('/', Unhandled())
    async with connect(app) as ws:
        await ws.close(1001)
    debug = [
        r
        for r in logs.records
        if r.levelno == logging.DEBUG and '1001' in r.getMessage()
    ]
    assert debug
    assert not [r for r in logs.records if r.levelno >= logging.WARNING]


def test_inspect_lists_websocket(app: Any) -> None:
    """§1 Inspect: ``inspect_app`` lists ``WEBSOCKET - on_websocket``."""
    import gyrfalcon.inspect

    app.add_route('/feed', Accepts())
    text = str(gyrfalcon.inspect.inspect_app(app))
    assert 'WEBSOCKET' in text
    assert 'on_websocket' in text


async def test_error_reporter_sees_ws_errors(app: Any) -> None:
    """§1 Error reporter: called for exceptions raised while handling a WS."""
    reports = []

    def reporter(req: Any, ex: Exception, params: Any, handled: bool) -> None:
        reports.append((req.is_websocket, type(ex), dict(params), handled))

    class Fails:
        async def on_websocket(self, req: Any, ws: Any, n: str) -> None:
            raise falcon.HTTPNotFound()

    app.set_error_reporter(reporter)
    app.add_route('/{n}', Fails())
    await denial(app, '/x')
    assert reports == [(True, falcon.HTTPNotFound, {'n': 'x'}, True)]
