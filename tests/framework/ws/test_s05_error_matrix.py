"""Inventory §5: the error-handling matrix, and every failure path.

``TestFailurePaths`` raises each kind of exception from each place app code
runs (middleware, hooks, responder, sink, error handler, media handlers),
before and after ``accept()``, and checks what the client sees: the close
code and reason, or, for a denial, the code the simulator reports for it (a
real server answers HTTP 403; ``test_proposal.py`` checks that on uvicorn).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from ws_support import RawConnection, connect, denial, settle

import gyrfalcon as falcon

TEXT = falcon.WebSocketPayloadType.TEXT
BINARY = falcon.WebSocketPayloadType.BINARY


class Raiser:
    """Raises ``error`` at ``site``, after accepting if ``accept`` is set."""

    def __init__(self, site: str, error: BaseException, accept: bool) -> None:
        self.site = site
        self.error = error
        self.accept = accept

    async def maybe_raise(self, site: str, ws: Any) -> None:
        if site == self.site:
            if self.accept and ws.unaccepted:
                await ws.accept()
            raise self.error

    async def process_request_ws(self, req: Any, ws: Any) -> None:
        await self.maybe_raise('process_request_ws', ws)

    async def process_resource_ws(
        self, req: Any, ws: Any, resource: Any, params: Any
    ) -> None:
        await self.maybe_raise('process_resource_ws', ws)


class Custom(Exception):
    """Raised by the responder for the ``error_handler`` site."""


def build_app(site: str, error: BaseException, accept: bool) -> Any:
    raiser = Raiser(site, error, accept)

    async def hook(req: Any, ws: Any, resource: Any, params: Any) -> None:
        await raiser.maybe_raise('before_hook', ws)

    async def after_hook(req: Any, ws: Any, resource: Any) -> None:
        await raiser.maybe_raise('after_hook', ws)

    class Handler(falcon.media.TextBaseHandlerWS):
        def serialize(self, media: object) -> str:
            if site == 'serializer':
                raise error
            return json.dumps(media)

        def deserialize(self, payload: str) -> object:
            if site == 'deserializer':
                raise error
            return json.loads(payload)

    class Resource:
        @falcon.before(hook)
        @falcon.after(after_hook)
        async def on_websocket(self, req: Any, ws: Any) -> None:
            if site == 'error_handler':
                if accept:
                    await ws.accept()
                raise Custom()
            await raiser.maybe_raise('responder', ws)
            if site == 'serializer':
                await ws.accept()
                await ws.send_media({'a': 1})
            elif site == 'deserializer':
                await ws.accept()
                await ws.receive_media()

    async def sink(req: Any, resp: Any, ws: Any = None) -> None:
        await raiser.maybe_raise('sink', ws)

    async def handler(req: Any, resp: Any, ex: Exception, params: Any) -> None:
        raise error

    app = falcon.asgi.App(middleware=[raiser])
    app.add_route('/', Resource())
    app.add_sink(sink, '/sink')
    app.add_error_handler(Custom, handler)
    app.ws_options.media_handlers[TEXT] = Handler()
    return app


SITES = [
    'process_request_ws',
    'process_resource_ws',
    'before_hook',
    'responder',
    'after_hook',
    'sink',
    'error_handler',
    'serializer',
    'deserializer',
]

ERRORS = [
    pytest.param(falcon.HTTPBadRequest(), 3400, 'Bad Request', id='HTTPBadRequest'),
    pytest.param(falcon.HTTPNotFound(), 3404, 'Not Found', id='HTTPNotFound'),
    pytest.param(falcon.HTTPForbidden(), 3403, 'Forbidden', id='HTTPForbidden'),
    pytest.param(
        falcon.HTTPUnprocessableEntity(), 3422, 'Unprocessable Entity', id='HTTP422'
    ),
    pytest.param(
        falcon.HTTPStatus(falcon.HTTP_204), 3204, 'No Content', id='HTTPStatus'
    ),
    pytest.param(RuntimeError('x'), 1011, 'Internal Server Error', id='RuntimeError'),
    pytest.param(ValueError('x'), 1011, 'Internal Server Error', id='ValueError'),
    pytest.param(
        falcon.OperationNotAllowed('x'), 1011, 'Internal Server Error', id='NotAllowed'
    ),
    pytest.param(
        falcon.PayloadTypeError('x'), 1011, 'Internal Server Error', id='PayloadType'
    ),
    pytest.param(
        json.JSONDecodeError('x', '{', 0), 1011, 'Internal Server Error', id='JSON'
    ),
    pytest.param(
        falcon.WebSocketDisconnected(1001), 1011, 'Internal Server Error', id='WSDisc'
    ),
]


# NOTE: An error handler that raises anything but HTTPError/HTTPStatus lets
#   it propagate to the server (see test_handler_raising_other).
CASES = [
    pytest.param(site, *error.values, id=f'{site}-{error.id}')
    for site in SITES
    for error in ERRORS
    if site != 'error_handler'
    or isinstance(error.values[0], (falcon.HTTPError, falcon.HTTPStatus))
]


class TestFailurePaths:
    @pytest.mark.parametrize('accept', [False, True], ids=['before', 'after'])
    @pytest.mark.parametrize(('site', 'error', 'code', 'reason'), CASES)
    async def test_what_the_client_sees(
        self,
        site: str,
        accept: bool,
        error: BaseException,
        code: int,
        reason: str,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.DEBUG)
        app = build_app(site, error, accept)
        path = '/sink/x' if site == 'sink' else '/'
        # NOTE: Media handlers only run once the connection is accepted.
        accepted = accept or site in ('serializer', 'deserializer')
        if not accepted:
            exception = await denial(app, path, spec_version='2.5')
            # NOTE: 3xxx and 1011 pass through the simulator; a real server
            #   answers HTTP 403 to every denial.
            assert exception.code == code
            assert exception.ws.close_reason == reason
            return

        async with connect(app, path, spec_version='2.5') as ws:
            if site == 'deserializer':
                await ws.send_text('{}')
            await settle(20)
            assert ws.closed
            assert (ws.close_code, ws.close_reason) == (code, reason)


async def test_no_route_is_3404(app: Any) -> None:
    """§5 No route matches (and no sink): 3404 'Not Found'."""
    exception = await denial(app, '/nowhere', spec_version='2.5')
    assert type(exception) is falcon.WebSocketPathNotFound
    assert (exception.code, exception.ws.close_reason) == (3404, 'Not Found')


async def test_route_without_on_websocket_is_3405(app: Any) -> None:
    """§5 Route without ``on_websocket``: 3405 'Method Not Allowed'."""

    class HttpOnly:
        async def on_get(self, req: Any, resp: Any) -> None:
            pass

    app.add_route('/http', HttpOnly())
    exception = await denial(app, '/http', spec_version='2.5')
    assert type(exception) is falcon.WebSocketHandlerNotFound
    assert exception.ws.close_reason == 'Method Not Allowed'


async def test_static_route_is_3400(app: Any, tmp_path: Any) -> None:
    """§5 Static route: 3400 'Bad Request'."""
    app.add_static_route('/static', str(tmp_path))
    exception = await denial(app, '/static/x', spec_version='2.5')
    assert (exception.code, exception.ws.close_reason) == (3400, 'Bad Request')


async def test_responder_signature_mismatch(app: Any) -> None:
    """§5: a route field the responder does not take is a 1011 (TypeError)."""

    class Mismatch:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()

    app.add_route('/{account_id}', Mismatch())
    exception = await denial(app, '/42')
    assert type(exception) is falcon.WebSocketServerError


async def test_generic_exception_logged_with_traceback(
    app: Any, logs: pytest.LogCaptureFixture
) -> None:
    """§5 Generic ``Exception``: logged at ERROR with the traceback."""

    class Fails:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            raise LookupError('find me')

    app.add_route('/', Fails())
    await denial(app)
    records = [r for r in logs.records if r.levelno == logging.ERROR and r.exc_info]
    assert [type(r.exc_info[1]) for r in records] == [LookupError]


async def test_close_failure_is_logged_and_reraised(
    app: Any, logs: pytest.LogCaptureFixture
) -> None:
    """§5 Generic ``Exception``: another close failure is a WARNING, re-raised."""

    class Fails:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            raise RuntimeError('first')

    async def broken_close(event: dict[str, Any]) -> None:
        if event['type'] == 'websocket.close':
            raise LookupError('server exploded')

    app.add_route('/', Fails())
    raw = RawConnection(app)
    raw.send_hook = broken_close
    with pytest.raises(LookupError, match='server exploded'):
        await raw.run()
    assert [r for r in logs.records if r.levelno == logging.WARNING]


async def test_uncaught_disconnect_logged_at_debug(
    app: Any, logs: pytest.LogCaptureFixture
) -> None:
    """§5 ``WebSocketDisconnected`` not caught: DEBUG log; the close is a no-op."""

    class Unhandled:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            await ws.receive_text()

    app.add_route('/', Unhandled())
    raw = RawConnection(app)
    raw.push_disconnect(1001)
    await raw.run()
    assert raw.closes() == []
    assert any(
        r.levelno == logging.DEBUG and '1001' in r.getMessage() for r in logs.records
    )
    assert not [r for r in logs.records if r.levelno >= logging.WARNING]


class TestCustomHandlers:
    """§5 Custom handler: ``resp`` is None, ``ws`` only if declared, MRO."""

    async def test_ws_passed_only_when_declared(self, app: Any) -> None:
        calls = []

        class A(Exception):
            pass

        class B(Exception):
            pass

        async def with_ws(
            req: Any, resp: Any, ex: Any, params: Any, ws: Any = None
        ) -> None:
            calls.append(('with_ws', resp, ws is not None))

        async def without_ws(req: Any, resp: Any, ex: Any, params: Any) -> None:
            calls.append(('without_ws', resp))

        class Raises:
            async def on_websocket(self, req: Any, ws: Any, kind: str) -> None:
                raise A() if kind == 'a' else B()

        app.add_error_handler(A, with_ws)
        app.add_error_handler(B, without_ws)
        app.add_route('/{kind}', Raises())
        await denial(app, '/a')
        await denial(app, '/b')
        assert calls == [('with_ws', None, True), ('without_ws', None)]

    def test_sync_handler_is_refused(self, app: Any) -> None:
        def sync_handler(req: Any, resp: Any, ex: Any, params: Any) -> None:
            pass

        with pytest.raises(falcon.CompatibilityError):
            app.add_error_handler(RuntimeError, sync_handler)

    async def test_most_specific_handler_wins(self, app: Any) -> None:
        calls = []

        class Base(Exception):
            pass

        class Child(Base):
            pass

        async def base(req: Any, resp: Any, ex: Any, params: Any, ws: Any) -> None:
            calls.append('base')
            await ws.close(4001)

        async def child(req: Any, resp: Any, ex: Any, params: Any, ws: Any) -> None:
            calls.append('child')
            await ws.close(4002)

        class Raises:
            async def on_websocket(self, req: Any, ws: Any) -> None:
                await ws.accept()
                raise Child()

        app.add_error_handler(Child, child)
        app.add_error_handler(Base, base)
        app.add_route('/', Raises())
        async with connect(app) as ws:
            await settle()
            assert ws.close_code == 4002
        assert calls == ['child']

    async def test_handler_raising_http_error(self, app: Any) -> None:
        """§5 HTTPError raised *by a custom error handler* still maps to 3xxx."""

        class Custom(Exception):
            pass

        async def handler(req: Any, resp: Any, ex: Any, params: Any) -> None:
            raise falcon.HTTPConflict()

        class Raises:
            async def on_websocket(self, req: Any, ws: Any) -> None:
                await ws.accept()
                raise Custom()

        app.add_error_handler(Custom, handler)
        app.add_route('/', Raises())
        async with connect(app, spec_version='2.4') as ws:
            await settle()
            assert (ws.close_code, ws.close_reason) == (3409, 'Conflict')


async def test_handler_raising_other(app: Any) -> None:
    """§5 Custom handler raising another exception: it reaches the server."""

    async def handler(req: Any, resp: Any, ex: Any, params: Any) -> None:
        raise LookupError('from the handler')

    class Raises:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            raise Custom()

    app.add_error_handler(Custom, handler)
    app.add_route('/', Raises())
    with pytest.raises(LookupError, match='from the handler'):
        await RawConnection(app).run()


async def test_no_handler_propagates(app: Any) -> None:
    """§5 No handler (``_error_handlers`` emptied): the exception reaches the server."""

    class Fails:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            raise LookupError('unhandled')

    app.add_route('/', Fails())
    app._error_handlers.clear()
    with pytest.raises(LookupError, match='unhandled'):
        await RawConnection(app).run()


async def test_deserialization_error_closes_1011(app: Any) -> None:
    """§5 Deserialization error in ``receive_media``: a generic error, 1011."""

    class Media:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            await ws.receive_media()

    app.add_route('/', Media())
    async with connect(app) as ws:
        await ws.send_data(b'\xc1')  # never valid MessagePack
        await settle()
        assert ws.close_code == 1011


@pytest.mark.parametrize(
    ('path', 'routine'),
    [('/nowhere', True), ('/http', True), ('/bad', False)],
)
async def test_log_levels_of_http_errors(
    app: Any, logs: pytest.LogCaptureFixture, path: str, routine: bool
) -> None:
    """§5 HTTPError: logged at ERROR; routine 404/405 at INFO ("Beyond Falcon")."""

    class HttpOnly:
        async def on_get(self, req: Any, resp: Any) -> None:
            pass

    class Bad:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            raise falcon.HTTPBadRequest()

    app.add_route('/http', HttpOnly())
    app.add_route('/bad', Bad())
    await denial(app, path)
    levels = {r.levelno for r in logs.records}
    if routine:
        assert logging.INFO in levels
        assert max(levels) == logging.INFO
    else:
        assert logging.ERROR in levels
