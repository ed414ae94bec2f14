"""HTTP dispatch of the App, scenario by scenario, against Falcon 4.4.

Every scenario runs on ``falcon.asgi.App`` and on ``gyrfalcon.asgi.App``
(see ``conftest.compare``) and the answers must be the same; each test also
asserts what the answer is.
"""

from __future__ import annotations

from typing import Any

import pytest
from app_scenarios import GYRFALCON, Framework, compare


def _things(fw: Framework) -> Any:
    class Things:
        async def on_get(self, req: Any, resp: Any, team: str, id: int) -> None:
            resp.media = {'team': team, 'id': id, 'template': req.uri_template}

        async def on_put(self, req: Any, resp: Any, team: str, id: int) -> None:
            resp.status = fw.module.HTTP_204

    return Things()


def test_routes_404_405_options_and_bad_methods() -> None:
    def build(fw: Framework) -> Any:
        app = fw.app()
        app.add_route('/teams/{team}/things/{id:int}', _things(fw))
        return app

    ok, not_found, wrong_int, not_allowed, options, put, meta, unknown = compare(
        build,
        ('GET', '/teams/red/things/7'),
        ('GET', '/teams/red'),
        ('GET', '/teams/red/things/seven'),
        ('POST', '/teams/red/things/7'),
        ('OPTIONS', '/teams/red/things/7'),
        ('PUT', '/teams/red/things/7'),
        ('WEBSOCKET', '/teams/red/things/7'),
        ('FOO', '/teams/red/things/7'),
    )
    assert ok.status == 200
    assert ok.body == {
        'team': 'red',
        'id': 7,
        'template': '/teams/{team}/things/{id:int}',
    }
    assert not_found.status == wrong_int.status == 404
    assert not_found.body == {'title': '404 Not Found'}
    assert not_allowed.status == 405
    assert not_allowed.headers['allow'] == 'GET, PUT, OPTIONS'
    assert (options.status, options.headers['allow']) == (200, 'GET, PUT')
    assert options.body == b''
    assert (put.status, put.body) == (204, b'')
    assert 'content-type' not in put.headers
    assert meta.status == unknown.status == 400


def test_suffixed_responders_and_head() -> None:
    def build(fw: Framework) -> Any:
        class Books:
            async def on_get(self, req: Any, resp: Any) -> None:
                resp.text = 'all books'

            async def on_head(self, req: Any, resp: Any) -> None:
                await self.on_get(req, resp)

            async def on_get_item(self, req: Any, resp: Any, isbn: str) -> None:
                resp.text = f'book {isbn}'
                resp.content_type = fw.module.MEDIA_TEXT

        app = fw.app()
        books = Books()
        app.add_route('/books', books)
        app.add_route('/books/{isbn}', books, suffix='item')
        return app

    collection, item, head, item_head = compare(
        build,
        ('GET', '/books'),
        ('GET', '/books/42'),
        ('HEAD', '/books'),
        ('HEAD', '/books/42'),
    )
    assert (collection.status, collection.body) == (200, b'all books')
    assert item.body == b'book 42'
    assert item.headers['content-type'] == 'text/plain; charset=utf-8'
    assert (head.status, head.body) == (200, b'')
    assert item_head.status == 405


def test_default_media_type_and_error_serialization() -> None:
    def build(fw: Framework) -> Any:
        class Broken:
            async def on_get(self, req: Any, resp: Any) -> None:
                raise fw.module.HTTPForbidden(
                    title='No', description='Not for you', headers={'X-Why': 'rules'}
                )

            async def on_post(self, req: Any, resp: Any) -> None:
                raise fw.module.HTTPStatus(fw.module.HTTP_202, text='later')

            async def on_delete(self, req: Any, resp: Any) -> None:
                raise RuntimeError('boom')

        app = fw.app(media_type=fw.module.MEDIA_MSGPACK)
        app.add_route('/broken', Broken())
        return app

    json_error, xml_error, custom_json, nothing, status, crash = compare(
        build,
        ('GET', '/broken'),
        ('GET', '/broken', {'headers': {'Accept': 'application/xml'}}),
        ('GET', '/broken', {'headers': {'Accept': 'application/vnd.x+json'}}),
        ('GET', '/broken', {'headers': {'Accept': 'image/png'}}),
        ('POST', '/broken'),
        ('DELETE', '/broken'),
    )
    assert json_error.status == 403
    assert json_error.body == {'title': 'No', 'description': 'Not for you'}
    assert json_error.headers['x-why'] == 'rules'
    assert json_error.headers['vary'] == 'Accept'
    assert xml_error.headers['content-type'] == 'application/xml'
    assert b'<title>No</title>' in xml_error.body
    assert custom_json.headers['content-type'] == 'application/json'
    assert nothing.body == b''
    assert nothing.headers['content-type'] == 'application/msgpack'
    assert (status.status, status.body) == (202, b'later')
    assert crash.status == 500
    assert crash.body == {'title': '500 Internal Server Error'}


def test_error_handlers_pick_the_most_specific_class() -> None:
    class AppError(Exception):
        pass

    class NotYours(AppError):
        @staticmethod
        async def handle(req: Any, resp: Any, ex: Any, params: Any) -> None:
            resp.status = 418
            resp.media = {'handled_by': 'handle', 'params': params}

    def build(fw: Framework) -> Any:
        class Raiser:
            async def on_get(self, req: Any, resp: Any, what: str) -> None:
                raise {
                    'app': AppError(),
                    'mine': NotYours(),
                    'key': KeyError('k'),
                    'value': ValueError('v'),
                    'http': fw.module.HTTPNotFound(),
                }[what]

        async def generic(req: Any, resp: Any, ex: Any, params: Any) -> None:
            resp.media = {'handled_by': 'generic', 'type': type(ex).__name__}

        async def lookup(req: Any, resp: Any, ex: Any, params: Any) -> None:
            raise fw.module.HTTPBadRequest(title=f'bad {type(ex).__name__}')

        app = fw.app()
        app.add_route('/raise/{what}', Raiser())
        app.add_error_handler(AppError, generic)
        app.add_error_handler(NotYours)
        app.add_error_handler((KeyError, ValueError), lookup)
        app.add_error_handler(fw.module.HTTPNotFound, generic)
        return app

    app_error, mine, key, value, http = compare(
        build,
        ('GET', '/raise/app'),
        ('GET', '/raise/mine'),
        ('GET', '/raise/key'),
        ('GET', '/raise/value'),
        ('GET', '/raise/http'),
    )
    assert app_error.body == {'handled_by': 'generic', 'type': 'AppError'}
    assert (mine.status, mine.body) == (
        418,
        {'handled_by': 'handle', 'params': {'what': 'mine'}},
    )
    assert (key.status, key.body) == (400, {'title': 'bad KeyError'})
    assert value.body == {'title': 'bad ValueError'}
    assert (http.status, http.body) == (
        200,
        {'handled_by': 'generic', 'type': 'HTTPNotFound'},
    )


@pytest.mark.parametrize('fw_name', ['falcon', 'gyrfalcon'])
def test_error_handler_registration_errors(fw_name: str) -> None:
    from app_scenarios import FALCON

    fw = FALCON if fw_name == 'falcon' else GYRFALCON
    app = fw.app()

    def sync_handler(req: Any, resp: Any, ex: Any, params: Any) -> None:
        pass

    with pytest.raises(fw.module.CompatibilityError):
        app.add_error_handler(ValueError, sync_handler)
    with pytest.raises(AttributeError):
        app.add_error_handler(ValueError)

    async def handler(req: Any, resp: Any, ex: Any, params: Any) -> None:
        pass

    with pytest.raises(TypeError):
        app.add_error_handler(int, handler)  # type: ignore[arg-type]


def test_middleware_order_and_short_circuit() -> None:
    def build(fw: Framework, independent: bool = True) -> Any:
        class Component:
            def __init__(self, name: str, complete_on: str | None = None) -> None:
                self.name = name
                self.complete_on = complete_on

            async def process_request(self, req: Any, resp: Any) -> None:
                if not hasattr(req.context, 'events'):
                    req.context.events = []
                req.context.events.append(f'{self.name}.request')
                if req.path == self.complete_on:
                    resp.complete = True
                    resp.status = fw.module.HTTP_200
                    resp.text = f'short-circuited by {self.name}'

            async def process_resource(
                self, req: Any, resp: Any, resource: Any, params: Any
            ) -> None:
                req.context.events.append(f'{self.name}.resource:{sorted(params)}')
                params['extra'] = self.name

            async def process_response(
                self, req: Any, resp: Any, resource: Any, req_succeeded: bool
            ) -> None:
                req.context.events.append(f'{self.name}.response:{req_succeeded}')
                resp.set_header('X-Events', ' '.join(req.context.events))

        class Resource:
            async def on_get(self, req: Any, resp: Any, id: str, extra: str) -> None:
                req.context.events.append(f'responder:{id}:{extra}')

            async def on_post(self, req: Any, resp: Any, id: str, extra: str) -> None:
                raise fw.module.HTTPConflict()

        app = fw.app(
            middleware=[Component('a'), Component('b', complete_on='/stop/1')],
            independent_middleware=independent,
        )
        app.add_route('/{id}', Resource())
        app.add_route('/stop/{id}', Resource())
        return app

    normal, stopped, failed = compare(
        build, ('GET', '/1'), ('GET', '/stop/1'), ('POST', '/2')
    )
    assert normal.headers['x-events'] == (
        "a.request b.request a.resource:['id'] b.resource:['extra', 'id'] "
        'responder:1:b b.response:True a.response:True'
    )
    assert stopped.body == b'short-circuited by b'
    assert stopped.headers['x-events'] == (
        'a.request b.request b.response:True a.response:True'
    )
    assert failed.status == 409
    assert failed.headers['x-events'].endswith('b.response:False a.response:False')


def test_dependent_middleware_skips_responses_after_a_failed_request() -> None:
    def build(fw: Framework) -> Any:
        class Recorder:
            def __init__(self, name: str, fail: bool = False) -> None:
                self.name, self.fail = name, fail

            async def process_request(self, req: Any, resp: Any) -> None:
                if self.fail and req.path == '/fail':
                    raise fw.module.HTTPUnauthorized()

            async def process_response(
                self, req: Any, resp: Any, resource: Any, req_succeeded: bool
            ) -> None:
                resp.append_header('X-Seen', f'{self.name}:{req_succeeded}')

        class Resource:
            async def on_get(self, req: Any, resp: Any) -> None:
                resp.text = 'never'

        app = fw.app(
            middleware=[Recorder('a'), Recorder('b', fail=True), Recorder('c')],
            independent_middleware=False,
        )
        app.add_route('/fail', Resource())
        app.add_route('/ok', Resource())
        return app

    answer, ok = compare(build, ('GET', '/fail'), ('GET', '/ok'))
    assert ok.headers['x-seen'] == 'c:True, b:True, a:True'
    assert answer.status == 401
    # NOTE(gyrfalcon): b's process_request() failed, so neither b's nor c's
    #   process_response() was queued.
    assert answer.headers['x-seen'] == 'a:False'


def test_hooks_on_responders_and_classes() -> None:
    def build(fw: Framework) -> Any:
        async def add_answer(
            req: Any, resp: Any, resource: Any, params: Any, value: int
        ) -> None:
            params['answer'] = value

        async def check_id(req: Any, resp: Any, resource: Any, params: Any) -> None:
            if not params['id'].isdigit():
                raise fw.module.HTTPBadRequest(title='Invalid ID')

        async def stamp(req: Any, resp: Any, resource: Any, *, label: str) -> None:
            resp.set_header('X-Stamp', label)

        @fw.module.before(check_id)
        @fw.module.after(stamp, label='class')
        class Resource:
            @fw.module.before(add_answer, 42)
            async def on_get(self, req: Any, resp: Any, id: str, answer: int) -> None:
                resp.media = {'id': id, 'answer': answer}

            async def on_delete(self, req: Any, resp: Any, id: str) -> None:
                resp.status = fw.module.HTTP_204

        app = fw.app()
        app.add_route('/{id}', Resource())
        return app

    got, deleted, invalid = compare(
        build, ('GET', '/7'), ('DELETE', '/8'), ('GET', '/x')
    )
    assert got.body == {'id': '7', 'answer': 42}
    assert got.headers['x-stamp'] == 'class'
    assert (deleted.status, deleted.headers['x-stamp']) == (204, 'class')
    assert (invalid.status, invalid.body) == (400, {'title': 'Invalid ID'})
    assert 'x-stamp' not in invalid.headers


def test_sinks_and_their_precedence() -> None:
    def build(fw: Framework) -> Any:
        async def proxy(req: Any, resp: Any, **groups: Any) -> None:
            resp.media = {'sink': 'proxy', 'method': req.method, 'groups': groups}

        async def catch_all(req: Any, resp: Any) -> None:
            resp.media = {'sink': 'catch_all'}

        class Resource:
            async def on_get(self, req: Any, resp: Any) -> None:
                resp.media = {'route': True}

        app = fw.app()
        app.add_sink(catch_all)
        app.add_sink(proxy, r'/api/(?P<service>\w+)')
        app.add_route('/api/local', Resource())
        return app

    local, proxied, other = compare(
        build, ('GET', '/api/local'), ('PATCH', '/api/users/7'), ('GET', '/elsewhere')
    )
    assert local.body == {'route': True}
    assert proxied.body == {
        'sink': 'proxy',
        'method': 'PATCH',
        'groups': {'service': 'users'},
    }
    assert other.body == {'sink': 'catch_all'}


def test_streams_and_scheduled_callbacks() -> None:
    def build(fw: Framework) -> Any:
        done: list[str] = []

        class Reader:
            def __init__(self) -> None:
                self.chunks = [b'ab', b'cd', b'']
                self.closed = False

            async def read(self, size: int = -1) -> bytes:
                return self.chunks.pop(0)

            async def close(self) -> None:
                done.append('closed')

        class Resource:
            async def on_get(self, req: Any, resp: Any, kind: str) -> None:
                async def chunks() -> Any:
                    yield b'one,'
                    yield b'two'

                async def after() -> None:
                    done.append('scheduled')

                resp.stream = chunks() if kind == 'gen' else Reader()
                resp.schedule(after)
                resp.set_header('X-Done', ','.join(done))

        app = fw.app()
        app.add_route('/stream/{kind}', Resource())
        return app

    generated, read, again = compare(
        build, ('GET', '/stream/gen'), ('GET', '/stream/file'), ('GET', '/stream/gen')
    )
    assert generated.body == b'one,two'
    assert read.body == b'abcd'
    assert again.headers['x-done'] == 'scheduled,closed,scheduled'


def test_cors_enable_and_preflight() -> None:
    def build(fw: Framework) -> Any:
        class Resource:
            async def on_get(self, req: Any, resp: Any) -> None:
                resp.text = 'ok'

        app = fw.app(cors_enable=True)
        app.add_route('/', Resource())
        return app

    plain, with_origin, preflight = compare(
        build,
        ('GET', '/'),
        ('GET', '/', {'headers': {'Origin': 'https://a.example'}}),
        (
            'OPTIONS',
            '/',
            {
                'headers': {
                    'Origin': 'https://a.example',
                    'Access-Control-Request-Method': 'GET',
                    'Access-Control-Request-Headers': 'X-Token',
                }
            },
        ),
    )
    assert 'access-control-allow-origin' not in plain.headers
    assert with_origin.headers['access-control-allow-origin'] == '*'
    assert preflight.headers['access-control-allow-methods'] == 'GET'
    assert preflight.headers['access-control-allow-headers'] == 'X-Token'
    assert preflight.headers['access-control-max-age'] == '86400'
    assert 'allow' not in preflight.headers


def test_cors_middleware_options() -> None:
    def build(fw: Framework) -> Any:
        class Resource:
            async def on_get(self, req: Any, resp: Any) -> None:
                resp.text = 'ok'

        cors = fw.module.CORSMiddleware(
            allow_origins=['https://a.example', 'https://b.example'],
            expose_headers=['X-One', 'X-Two'],
            allow_credentials=['https://b.example'],
            allow_private_network=True,
        )
        app = fw.app(middleware=[cors])
        app.add_route('/', Resource())
        return app

    a, b, stranger, private = compare(
        build,
        ('GET', '/', {'headers': {'Origin': 'https://a.example'}}),
        ('GET', '/', {'headers': {'Origin': 'https://b.example'}}),
        ('GET', '/', {'headers': {'Origin': 'https://c.example'}}),
        (
            'OPTIONS',
            '/',
            {
                'headers': {
                    'Origin': 'https://a.example',
                    'Access-Control-Request-Method': 'GET',
                    'Access-Control-Request-Private-Network': 'true',
                }
            },
        ),
    )
    assert a.headers['access-control-allow-origin'] == 'https://a.example'
    assert a.headers['access-control-expose-headers'] == 'X-One, X-Two'
    assert 'access-control-allow-credentials' not in a.headers
    assert b.headers['access-control-allow-credentials'] == 'true'
    assert 'access-control-allow-origin' not in stranger.headers
    assert private.headers['access-control-allow-private-network'] == 'true'


@pytest.mark.parametrize('fw_name', ['falcon', 'gyrfalcon'])
def test_cors_configuration_errors(fw_name: str) -> None:
    from app_scenarios import FALCON

    fw = FALCON if fw_name == 'falcon' else GYRFALCON
    with pytest.raises(ValueError, match='CORSMiddleware is not allowed'):
        fw.app(cors_enable=True, middleware=[fw.module.CORSMiddleware()])
    with pytest.raises(ValueError, match='wildcard'):
        fw.module.CORSMiddleware(allow_origins=['*'])
    with pytest.raises(ValueError, match='wildcard'):
        fw.module.CORSMiddleware(allow_credentials=['*', 'x'])


@pytest.mark.parametrize('fw_name', ['falcon', 'gyrfalcon'])
def test_middleware_kinds_are_checked(fw_name: str) -> None:
    from app_scenarios import FALCON

    fw = FALCON if fw_name == 'falcon' else GYRFALCON

    class Sync:
        def process_request(self, req: Any, resp: Any) -> None:
            pass

    class SyncWs:
        def process_request_ws(self, req: Any, ws: Any) -> None:
            pass

    class Nothing:
        pass

    class LifespanOnly:
        async def process_startup(self, scope: Any, event: Any) -> None:
            pass

    with pytest.raises(fw.module.CompatibilityError):
        fw.app(middleware=Sync())
    with pytest.raises(fw.module.CompatibilityError):
        fw.app(middleware=[SyncWs()])
    with pytest.raises(TypeError):
        fw.app(middleware=[Nothing()])
    fw.app(middleware=LifespanOnly())


@pytest.mark.parametrize('fw_name', ['falcon', 'gyrfalcon'])
def test_route_and_sink_registration_errors(fw_name: str) -> None:
    from app_scenarios import FALCON

    fw = FALCON if fw_name == 'falcon' else GYRFALCON
    app = fw.app()

    class Sync:
        def on_get(self, req: Any, resp: Any) -> None:
            pass

    def sync_sink(req: Any, resp: Any) -> None:
        pass

    with pytest.raises(TypeError, match='not a string'):
        app.add_route(b'/x', Sync())
    with pytest.raises(ValueError, match="start with '/'"):
        app.add_route('x', Sync())
    with pytest.raises(ValueError, match="may not contain '//'"):
        app.add_route('/a//b', Sync())
    with pytest.raises(TypeError, match='non-blocking async'):
        app.add_route('/sync', Sync())
    with pytest.raises(fw.module.CompatibilityError):
        app.add_sink(sync_sink)
    with pytest.raises(ValueError, match='directory must be an absolute path'):
        app.add_static_route('/static', 'relative/dir')
