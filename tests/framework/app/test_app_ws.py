"""WebSocket dispatch of the App over raw ASGI, against Falcon 4.4.

The error matrix (HTTP errors, unhandled errors, disconnects, custom
handlers, sinks, static routes, middleware) must produce the same ASGI
events on both frameworks; what Gyrfalcon adds (INFO logs for routine
404/405, ``deny()`` through the App) is checked on its own.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from app_scenarios import FALCON, GYRFALCON, Framework, converse


async def both(build: Any, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
    theirs = await converse(build(FALCON), *args, **kwargs)
    ours = await converse(build(GYRFALCON), *args, **kwargs)
    assert ours == theirs
    return ours


def _chat_app(fw: Framework) -> Any:
    class Chat:
        async def on_websocket(self, req: Any, ws: Any, room: str) -> None:
            await ws.accept(subprotocol='chat')
            message = await ws.receive_text()
            await ws.send_text(f'{room}: {message}')
            if message == 'http':
                raise fw.module.HTTPUnprocessableEntity()
            if message == 'crash':
                raise RuntimeError('crash')
            if message == 'status':
                raise fw.module.HTTPStatus(fw.module.HTTP_202)

        async def on_get(self, req: Any, resp: Any, room: str) -> None:
            pass

    app = fw.app()
    app.add_route('/rooms/{room}', Chat())
    app.add_route('/plain', _Plain())
    return app


class _Plain:
    async def on_get(self, req: Any, resp: Any) -> None:
        pass


def _text(text: str) -> dict[str, Any]:
    return {'type': 'websocket.receive', 'text': text}


async def test_conversation_and_automatic_close() -> None:
    sent = await both(_chat_app, '/rooms/red', (_text('hello'),))
    assert sent == [
        {'type': 'websocket.accept', 'subprotocol': 'chat'},
        {'type': 'websocket.send', 'text': 'red: hello'},
        {'type': 'websocket.close', 'code': 1000, 'reason': 'Normal Closure'},
    ]


@pytest.mark.parametrize(
    ('message', 'code', 'reason'),
    [
        ('http', 3422, 'Unprocessable Entity'),
        ('crash', 1011, 'Internal Server Error'),
        ('status', 3202, 'Accepted'),
    ],
)
async def test_errors_after_accept_close_with_a_code(
    message: str, code: int, reason: str
) -> None:
    sent = await both(_chat_app, '/rooms/red', (_text(message),))
    assert sent[-1] == {'type': 'websocket.close', 'code': code, 'reason': reason}


@pytest.mark.parametrize(
    ('path', 'code', 'reason'),
    [('/nowhere', 3404, 'Not Found'), ('/plain', 3405, 'Method Not Allowed')],
)
async def test_missing_route_or_handler(path: str, code: int, reason: str) -> None:
    sent = await both(_chat_app, path)
    assert sent == [{'type': 'websocket.close', 'code': code, 'reason': reason}]


async def test_routine_404_and_405_are_logged_at_info(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger='gyrfalcon')
    await converse(_chat_app(GYRFALCON), '/nowhere')
    await converse(_chat_app(GYRFALCON), '/plain')
    await converse(_chat_app(GYRFALCON), '/rooms/x', (_text('http'),))
    levels = [
        (record.levelno, record.getMessage().rsplit(' ', 1)[-1])
        for record in caplog.records
        if record.name == 'gyrfalcon'
    ]
    assert levels == [
        (logging.INFO, '3404'),
        (logging.INFO, '3405'),
        (logging.ERROR, '3422'),
    ]


async def test_first_event_must_be_connect() -> None:
    sent = await both(_chat_app, '/rooms/red', first={'type': 'websocket.receive'})
    assert sent == [
        {'type': 'websocket.close', 'code': 1011, 'reason': 'Internal Server Error'}
    ]


async def test_middleware_and_custom_error_handler_with_ws() -> None:
    def build(fw: Framework) -> Any:
        class Auth:
            async def process_request_ws(self, req: Any, ws: Any) -> None:
                if req.path.endswith('/deny'):
                    raise fw.module.HTTPForbidden()
                req.context.seen = ['request_ws']

            async def process_resource_ws(
                self, req: Any, ws: Any, resource: Any, params: Any
            ) -> None:
                req.context.seen.append('resource_ws')
                params['user'] = 'alice'

        class Echo:
            async def on_websocket(
                self, req: Any, ws: Any, name: str, user: str
            ) -> None:
                await ws.accept()
                await ws.send_media(
                    {'name': name, 'user': user, 'seen': req.context.seen}
                )
                raise KeyError(name)

        async def on_key_error(
            req: Any, resp: Any, ex: Any, params: Any, ws: Any = None
        ) -> None:
            assert resp is None
            await ws.send_text(f'handled {ex} {sorted(params)}')
            await ws.close(4001)

        app = fw.app(middleware=[Auth()])
        app.add_route('/echo/{name}', Echo())
        app.add_error_handler(KeyError, on_key_error)
        return app

    theirs = await converse(build(FALCON), '/echo/bob')
    ours = await converse(build(GYRFALCON), '/echo/bob')
    # NOTE(gyrfalcon): JSON spacing differs (orjson); compare the rest.
    assert [e.get('type') for e in ours] == [e.get('type') for e in theirs]
    assert ours[2:] == theirs[2:]
    assert ours[2:] == [
        {'type': 'websocket.send', 'text': "handled 'bob' ['name', 'user']"},
        {'type': 'websocket.close', 'code': 4001},
    ]
    denied = await both(build, '/echo/deny')
    assert denied == [{'type': 'websocket.close', 'code': 3403, 'reason': 'Forbidden'}]


async def test_unhandled_disconnect_is_quiet(caplog: pytest.LogCaptureFixture) -> None:
    def build(fw: Framework) -> Any:
        class Listener:
            async def on_websocket(self, req: Any, ws: Any) -> None:
                await ws.accept()
                while True:
                    await ws.receive_text()

        app = fw.app()
        app.add_route('/', Listener())
        return app

    caplog.set_level(logging.DEBUG, logger='gyrfalcon')
    disconnect = {'type': 'websocket.disconnect', 'code': 1001}
    sent = await both(build, '/', (_text('a'), disconnect))
    assert sent == [{'type': 'websocket.accept'}]
    assert [r.levelno for r in caplog.records if r.name == 'gyrfalcon'] == [
        logging.DEBUG
    ]


async def test_sinks_and_static_routes(tmp_path: Path) -> None:
    def build(fw: Framework) -> Any:
        async def modern(req: Any, resp: Any, ws: Any = None, **groups: Any) -> None:
            assert resp is None
            await ws.accept()
            await ws.send_text(f'modern {groups}')

        app = fw.app()
        app.add_sink(modern, r'/modern/(?P<topic>\w+)')
        app.add_static_route('/static', tmp_path)
        return app

    sent = await both(build, '/modern/news')
    assert sent[1] == {'type': 'websocket.send', 'text': "modern {'topic': 'news'}"}
    sent = await both(build, '/static/file.txt')
    assert sent == [{'type': 'websocket.close', 'code': 3400, 'reason': 'Bad Request'}]


async def test_legacy_sink_gets_ws_as_resp_with_a_warning() -> None:
    def build(fw: Framework) -> Any:
        async def legacy(req: Any, resp: Any) -> None:
            await resp.accept()
            await resp.send_text('legacy')

        app = fw.app()
        app.add_sink(legacy, '/legacy')
        return app

    for fw in (FALCON, GYRFALCON):
        with pytest.warns(fw.module.util.deprecation.DeprecatedWarning):
            sent = await converse(build(fw), '/legacy')
        assert sent[1] == {'type': 'websocket.send', 'text': 'legacy'}


async def test_hooks_wrap_on_websocket_with_the_ws() -> None:
    def build(fw: Framework) -> Any:
        async def greet(req: Any, ws: Any, resource: Any, params: Any) -> None:
            await ws.accept()
            params['greeting'] = 'hi'

        async def bye(req: Any, ws: Any, resource: Any) -> None:
            await ws.send_text('bye')

        class Resource:
            @fw.module.before(greet)
            @fw.module.after(bye)
            async def on_websocket(self, req: Any, ws: Any, greeting: str) -> None:
                await ws.send_text(greeting)

        app = fw.app()
        app.add_route('/', Resource())
        return app

    sent = await both(build, '/')
    assert [e.get('text') for e in sent[1:3]] == ['hi', 'bye']


async def test_invalid_error_close_code_falls_back_to_3011() -> None:
    def build(fw: Framework) -> Any:
        app = _chat_app(fw)
        app.ws_options.error_close_code = 999
        return app

    sent = await both(build, '/rooms/red', (_text('crash'),))
    assert sent[-1] == {
        'type': 'websocket.close',
        'code': 3011,
        'reason': 'Internal Server Error',
    }


async def test_deny_through_the_app() -> None:
    class Gate:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.deny(401, headers={'WWW-Authenticate': 'Bearer'}, body=b'no')

    app = GYRFALCON.app()
    app.add_route('/', Gate())
    extensions = {'websocket.http.response': {}}
    sent = await converse(app, '/', extensions=extensions)
    assert sent == [
        {
            'type': 'websocket.http.response.start',
            'status': 401,
            'headers': [(b'www-authenticate', b'Bearer'), (b'content-length', b'2')],
        },
        {'type': 'websocket.http.response.body', 'body': b'no'},
    ]
    # NOTE(gyrfalcon): Without the extension, the client gets a plain 403.
    sent = await converse(app, '/')
    assert sent == [{'type': 'websocket.close', 'code': 3401, 'reason': 'Unauthorized'}]
