"""Inventory §6 (close before accept) and §7 (middleware, hooks, sinks, static)."""

from __future__ import annotations

from typing import Any

import pytest
from ws_support import RawConnection, connect, denial, settle

import gyrfalcon as falcon
from gyrfalcon import testing


class Accepts:
    async def on_websocket(self, req: Any, ws: Any, **params: Any) -> None:
        await ws.accept()
        await ws.send_media({'path': req.path, 'params': params})
        await ws.receive_text()


# --- §6 ----------------------------------------------------------------------


async def test_close_before_accept_forwards_code_and_reason(app: Any) -> None:
    """§6: ``close(4000, 'nope')`` before accept sends them to the server."""

    class Deny:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.close(4000, 'nope')

    app.add_route('/', Deny())
    raw = RawConnection(app, spec_version='2.3')
    await raw.run()
    assert raw.sent == [{'type': 'websocket.close', 'code': 4000, 'reason': 'nope'}]


async def test_returning_without_accept_is_a_denial(app: Any) -> None:
    """§6: returning from ``on_websocket`` without accepting closes with 1000."""

    class Returns:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            pass

    app.add_route('/', Returns())
    raw = RawConnection(app)
    await raw.run()
    assert raw.types() == ['websocket.close']
    assert raw.sent[0]['code'] == 1000


async def test_close_before_accept_never_uses_the_extension(app: Any) -> None:
    """§6: ``close()`` before accept stays a ``websocket.close``, extension or not."""

    class Deny:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.close(3401)

    app.add_route('/', Deny())
    raw = RawConnection(app)
    assert 'websocket.http.response' in raw.scope['extensions']
    await raw.run()
    assert raw.types() == ['websocket.close']


@pytest.mark.parametrize(
    ('code', 'seen', 'reason'),
    [
        (1000, 3403, '403 Forbidden'),
        (4001, 3403, '403 Forbidden'),
        (1011, 1011, 'given'),
        (3000, 3000, 'given'),
        (3999, 3999, 'given'),
    ],
)
async def test_simulator_view_of_a_denial(
    app: Any, code: int, seen: int, reason: str
) -> None:
    """§6: the simulator keeps 1011 and 3xxx, and reports 3403 otherwise."""

    class Deny:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.close(code, 'given')

    app.add_route('/', Deny())
    exception = await denial(app, spec_version='2.3')
    assert (exception.code, exception.ws.close_reason) == (seen, reason)


# --- §7 ----------------------------------------------------------------------


async def test_process_request_ws_order_and_reroute(app: Any) -> None:
    """§7 ``process_request_ws``: in registration order; may re-route."""
    calls = []

    class First:
        async def process_request_ws(self, req: Any, ws: Any) -> None:
            calls.append('first')
            req.path = '/rerouted/7'

    class Second:
        async def process_request_ws(self, req: Any, ws: Any) -> None:
            calls.append('second ' + req.path)

    app.add_middleware(First())
    app.add_middleware(Second())
    app.add_route('/rerouted/{n:int}', Accepts())
    async with connect(app, '/original') as ws:
        assert await ws.receive_json() == {'path': '/rerouted/7', 'params': {'n': 7}}
    assert calls == ['first', 'second /rerouted/7']


@pytest.mark.parametrize('method', ['process_request_ws', 'process_resource_ws'])
def test_ws_middleware_must_be_async(app: Any, method: str) -> None:
    """§7: sync ``process_*_ws`` raise ``CompatibilityError`` at registration."""

    def sync(self: Any, *args: Any) -> None:
        pass

    middleware = type('Sync', (), {method: sync})()
    with pytest.raises(falcon.CompatibilityError):
        falcon.asgi.App(middleware=middleware)
    with pytest.raises(falcon.CompatibilityError):
        app.add_middleware(middleware)


async def test_process_resource_ws_only_for_resources(app: Any) -> None:
    """§7 ``process_resource_ws``: only when a resource matched; may inject params."""
    calls = []

    class Inject:
        async def process_resource_ws(
            self, req: Any, ws: Any, resource: Any, params: Any
        ) -> None:
            calls.append(req.path)
            params['injected'] = 'yes'

    async def sink(req: Any, resp: Any, ws: Any = None) -> None:
        await ws.accept()

    app.add_middleware(Inject())
    app.add_route('/r', Accepts())
    app.add_sink(sink, '/sink')
    async with connect(app, '/r') as ws:
        assert await ws.receive_json() == {'path': '/r', 'params': {'injected': 'yes'}}
    async with connect(app, '/sink/x'):
        pass
    await denial(app, '/nowhere')
    assert calls == ['/r']


async def test_ws_only_middleware(app: Any) -> None:
    """§7 WS-only middleware: a component with only ``process_*_ws`` is fine."""
    calls = []

    class WsOnly:
        async def process_request_ws(self, req: Any, ws: Any) -> None:
            calls.append('ws')

    app.add_middleware(WsOnly())
    app.add_route('/', Accepts())
    async with connect(app):
        pass
    assert calls == ['ws']
    assert (await testing.ASGIConductor(app).simulate_get('/')).status_code == 405


async def test_http_middleware_not_called_for_ws(app: Any) -> None:
    """§7 HTTP middleware: ``process_request/resource/response`` skip WS."""
    calls = []

    class Http:
        async def process_request(self, req: Any, resp: Any) -> None:
            calls.append('request')

        async def process_resource(
            self, req: Any, resp: Any, resource: Any, params: Any
        ) -> None:
            calls.append('resource')

        async def process_response(
            self, req: Any, resp: Any, resource: Any, req_succeeded: bool
        ) -> None:
            calls.append('response')

    for independent in (True, False):
        app = falcon.asgi.App(middleware=[Http()], independent_middleware=independent)
        app.add_route('/', Accepts())
        async with connect(app):
            pass
    assert calls == []


async def test_cors_does_not_check_handshakes() -> None:
    """§7 CORS: no WS hooks, so a handshake from any Origin goes through."""
    app = falcon.asgi.App(middleware=[falcon.CORSMiddleware(allow_origins='https://a')])
    app.add_route('/', Accepts())
    async with connect(app, headers={'Origin': 'https://evil'}) as ws:
        assert await ws.receive_json() == {'path': '/', 'params': {}}


class TestHooks:
    """§7 Hooks: ``before``/``after`` wrap ``on_websocket``; ``resp`` is the ws."""

    async def test_method_hooks(self, app: Any) -> None:
        calls = []

        async def before(req: Any, ws: Any, resource: Any, params: Any) -> None:
            calls.append(('before', type(ws).__name__, dict(params)))
            params['extra'] = 1

        async def after(req: Any, ws: Any, resource: Any) -> None:
            calls.append(('after', ws.closed))

        class Hooked:
            @falcon.before(before)
            @falcon.after(after)
            async def on_websocket(self, req: Any, ws: Any, n: str, extra: int) -> None:
                calls.append(('responder', n, extra))
                await ws.accept()

        app.add_route('/{n}', Hooked())
        async with connect(app, '/x'):
            pass
        assert calls == [
            ('before', 'WebSocket', {'n': 'x'}),
            ('responder', 'x', 1),
            ('after', False),
        ]

    async def test_class_hooks(self, app: Any) -> None:
        calls = []

        async def before(req: Any, resp: Any, resource: Any, params: Any) -> None:
            calls.append(type(resp).__name__)

        @falcon.before(before)
        class Hooked:
            async def on_get(self, req: Any, resp: Any) -> None:
                pass

            async def on_websocket(self, req: Any, ws: Any) -> None:
                await ws.accept()

        app.add_route('/', Hooked())
        async with connect(app):
            pass
        await testing.ASGIConductor(app).simulate_get('/')
        assert calls == ['WebSocket', 'Response']

    async def test_sync_hook_fails(self, app: Any) -> None:
        """A sync hook fails when applied, or on the first connection."""

        def sync_hook(req: Any, resp: Any, resource: Any, params: Any) -> None:
            pass

        try:

            class Hooked:
                @falcon.before(sync_hook)
                async def on_websocket(self, req: Any, ws: Any) -> None:
                    await ws.accept()

        except (TypeError, falcon.CompatibilityError):
            return
        app.add_route('/', Hooked())
        assert (await denial(app)).code == 1011


class TestSinks:
    """§7 Sinks: ``ws=`` keyword, or the legacy WebSocket-as-``resp`` form."""

    async def test_sink_with_ws_keyword(self, app: Any) -> None:
        seen = []

        async def sink(req: Any, resp: Any, ws: Any = None, **kwargs: Any) -> None:
            seen.append((req.is_websocket, resp, type(ws).__name__, kwargs))
            await ws.accept()

        app.add_sink(sink, r'/things/(?P<thing>\w+)')
        async with connect(app, '/things/abc'):
            pass
        assert seen == [(True, None, 'WebSocket', {'thing': 'abc'})]

    async def test_legacy_sink_gets_ws_as_resp(self, app: Any) -> None:
        seen = []

        async def legacy(req: Any, resp: Any) -> None:
            seen.append(type(resp).__name__)
            await resp.accept()

        app.add_sink(legacy, '/legacy')
        with pytest.warns(falcon.util.DeprecatedWarning):
            async with connect(app, '/legacy'):
                pass
        assert seen == ['WebSocket']

    async def test_sink_sees_http_too(self, app: Any) -> None:
        seen = []

        async def sink(req: Any, resp: Any, ws: Any = None) -> None:
            seen.append((req.is_websocket, resp is None, ws is None))
            if ws is not None:
                await ws.accept()

        app.add_sink(sink, '/both')
        await testing.ASGIConductor(app).simulate_get('/both')
        async with connect(app, '/both'):
            pass
        assert seen == [(False, False, True), (True, True, False)]


async def test_static_route_is_3400(app: Any, tmp_path: Any) -> None:
    """§7 Static routes: a WebSocket handshake gets ``HTTPBadRequest`` (3400)."""
    (tmp_path / 'f.txt').write_text('x')
    app.add_static_route('/static', str(tmp_path))
    exception = await denial(app, '/static/f.txt', spec_version='2.3')
    assert (exception.code, exception.ws.close_reason) == (3400, 'Bad Request')


async def test_suffixed_responders(app: Any) -> None:
    """§7 Suffixed responders: ``on_websocket_<suffix>``."""

    class Both:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            await ws.send_text('plain')

        async def on_websocket_detail(self, req: Any, ws: Any, n: str) -> None:
            await ws.accept()
            await ws.send_text('detail ' + n)

    resource = Both()
    app.add_route('/items', resource)
    app.add_route('/items/{n}', resource, suffix='detail')
    async with connect(app, '/items') as ws:
        assert await ws.receive_text() == 'plain'
    async with connect(app, '/items/3') as ws:
        assert await ws.receive_text() == 'detail 3'
    await settle()
