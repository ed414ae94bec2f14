"""HTTP scenarios, identical on Falcon 4.4 and Gyrfalcon.

Each scenario is an app builder written against a ``Framework`` and a list
of requests; every request is one test, sent to both frameworks through
their own ``testing.TestClient``, and the observable results must be equal
(see ``parity_support`` for what is compared).
"""

from __future__ import annotations

import datetime
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from parity_support import Framework, run_http

STATIC_DIR = Path(__file__).parent / 'static'


# --- routing -------------------------------------------------------------------


def routing(fw: Framework) -> Any:
    class Items:
        async def on_get(self, req: Any, resp: Any, group: str, item: str) -> None:
            resp.media = {'group': group, 'item': item, 'template': req.uri_template}

        async def on_post(self, req: Any, resp: Any, group: str, item: str) -> None:
            resp.status = fw.falcon.HTTP_201
            resp.location = f'/groups/{group}/items/{item}'

    class Collection:
        async def on_get(self, req: Any, resp: Any) -> None:
            resp.text = 'collection'

        async def on_get_detail(self, req: Any, resp: Any, name: str) -> None:
            resp.text = 'detail ' + name

        async def on_delete_detail(self, req: Any, resp: Any, name: str) -> None:
            resp.status = fw.falcon.HTTP_204

    class Head:
        async def on_head(self, req: Any, resp: Any) -> None:
            resp.set_header('X-Head', 'yes')
            resp.content_length = 42

    app = fw.asgi.App()
    app.add_route('/groups/{group}/items/{item}', Items())
    collection = Collection()
    app.add_route('/things', collection)
    app.add_route('/things/{name}', collection, suffix='detail')
    app.add_route('/head', Head())
    return app


ROUTING = [
    ('GET', '/groups/a/items/b', {}),
    ('POST', '/groups/a/items/b', {}),
    ('PUT', '/groups/a/items/b', {}),
    ('OPTIONS', '/groups/a/items/b', {}),
    ('GET', '/groups/a/items', {}),
    ('GET', '/things', {}),
    ('GET', '/things/', {}),
    ('GET', '/things/x', {}),
    ('DELETE', '/things/x', {}),
    ('PATCH', '/things/x', {}),
    ('HEAD', '/head', {}),
    ('GET', '/head', {}),
    ('GET', '/nope', {}),
    ('GET', '/groups/a%20b/items/%C3%A9', {}),
]


# --- converters ----------------------------------------------------------------


class UpperConverter:
    def convert(self, value: str) -> str:
        return value.upper()


def converters(fw: Framework) -> Any:
    class Echo:
        async def on_get(self, req: Any, resp: Any, **params: Any) -> None:
            resp.media = {
                name: value.isoformat()
                if isinstance(value, datetime.datetime)
                else str(value)
                if isinstance(value, uuid.UUID)
                else value
                for name, value in params.items()
            }

    app = fw.asgi.App()
    app.router_options.converters['upper'] = UpperConverter
    app.add_route('/int/{n:int}', Echo())
    app.add_route('/digits/{n:int(3)}', Echo())
    app.add_route('/range/{n:int(min=1, max=10)}', Echo())
    app.add_route('/float/{x:float}', Echo())
    app.add_route('/uuid/{u:uuid}', Echo())
    app.add_route('/dt/{d:dt("%Y-%m-%d")}', Echo())
    app.add_route('/path/{rest:path}', Echo())
    app.add_route('/upper/{word:upper}', Echo())
    app.add_route('/mixed/{a}-{b:int}', Echo())
    return app


CONVERTERS = [
    ('GET', '/int/42', {}),
    ('GET', '/int/-3', {}),
    ('GET', '/int/x', {}),
    ('GET', '/digits/123', {}),
    ('GET', '/digits/1234', {}),
    ('GET', '/range/5', {}),
    ('GET', '/range/11', {}),
    ('GET', '/float/2.5', {}),
    ('GET', '/float/nan', {}),
    ('GET', '/uuid/9b2e4a3e-8f2d-4c4b-9d4e-2f0a6f9d7c11', {}),
    ('GET', '/uuid/not-a-uuid', {}),
    ('GET', '/dt/2024-02-29', {}),
    ('GET', '/dt/2023-02-29', {}),
    ('GET', '/path/a/b/c.txt', {}),
    ('GET', '/upper/hello', {}),
    ('GET', '/mixed/x-7', {}),
]


# --- query parameters ----------------------------------------------------------


def params(fw: Framework) -> Any:
    class Params:
        async def on_get(self, req: Any, resp: Any) -> None:
            resp.media = {
                'all': req.params,
                'str': req.get_param('s', default='none'),
                'int': req.get_param_as_int('i', min_value=0, max_value=100),
                'float': repr(req.get_param_as_float('f')),
                'bool': req.get_param_as_bool('b'),
                'list': req.get_param_as_list('l'),
                'ints': req.get_param_as_list('li', transform=int),
                'uuid': str(req.get_param_as_uuid('u')),
                'date': str(req.get_param_as_date('d')),
                'dt': str(req.get_param_as_datetime('t', format_string='%H:%M')),
                'json': req.get_param_as_json('j'),
                'has': req.has_param('s'),
            }

    class Required:
        async def on_get(self, req: Any, resp: Any) -> None:
            resp.media = {'n': req.get_param_as_int('n', required=True)}

    app = fw.asgi.App()
    app.add_route('/p', Params())
    app.add_route('/required', Required())
    blank = fw.asgi.App()
    blank.req_options.keep_blank_qs_values = True
    blank.req_options.auto_parse_qs_csv = True
    blank.add_route('/p', Params())
    app.add_sink(blank, '/blank')
    return app


PARAMS = [
    ('GET', '/p', {}),
    (
        'GET',
        '/p',
        {
            'query_string': 's=x&i=7&f=1.5&b=yes&l=a,b&l=c&li=1&li=2'
            '&u=9b2e4a3e-8f2d-4c4b-9d4e-2f0a6f9d7c11&d=2024-01-31&t=12:30'
            '&j=%7B%22a%22%3A1%7D'
        },
    ),
    ('GET', '/p', {'params': {'i': '101'}}),
    ('GET', '/p', {'params': {'i': 'x'}}),
    ('GET', '/p', {'params': {'b': 'maybe'}}),
    ('GET', '/p', {'params': {'f': 'inf'}}),
    ('GET', '/p', {'params': {'u': 'nope'}}),
    ('GET', '/p', {'params': {'d': '2024-13-01'}}),
    ('GET', '/p', {'params': {'j': '{bad'}}),
    ('GET', '/p', {'query_string': 's=&s=&l=&i='}),
    ('GET', '/required', {}),
    ('GET', '/required', {'params': {'n': '3'}}),
]


# --- media ---------------------------------------------------------------------


def media(fw: Framework) -> Any:
    class Echo:
        async def on_post(self, req: Any, resp: Any) -> None:
            resp.media = {
                'content_type': req.content_type,
                'media': await req.get_media(default_when_empty={'empty': True}),
            }

        async def on_put(self, req: Any, resp: Any) -> None:
            resp.content_type = fw.falcon.MEDIA_MSGPACK
            resp.media = await req.get_media()

        async def on_get(self, req: Any, resp: Any) -> None:
            kind = req.get_param('kind')
            if kind == 'text':
                resp.text = 'plain é'
                resp.content_type = fw.falcon.MEDIA_TEXT
            elif kind == 'data':
                resp.data = b'\x00\xff'
                resp.content_type = 'application/octet-stream'
            elif kind == 'html':
                resp.text = '<p>hi</p>'
                resp.content_type = fw.falcon.MEDIA_HTML
            else:
                resp.media = [1, 'two', {'three': 3.5}, None, True]

    app = fw.asgi.App()
    app.add_route('/m', Echo())
    return app


MEDIA = [
    ('POST', '/m', {'json': {'a': [1, 'é']}}),
    ('POST', '/m', {'body': '', 'content_type': 'application/json'}),
    ('POST', '/m', {'body': '{bad', 'content_type': 'application/json'}),
    ('POST', '/m', {'msgpack': {'b': b'\x01', 'n': 2}}),
    (
        'POST',
        '/m',
        {
            'body': 'a=1&b=x%20y&a=2',
            'content_type': 'application/x-www-form-urlencoded',
        },
    ),
    ('POST', '/m', {'body': 'x', 'content_type': 'application/unknown'}),
    ('PUT', '/m', {'json': {'to': 'msgpack'}}),
    ('GET', '/m', {}),
    ('GET', '/m', {'params': {'kind': 'text'}}),
    ('GET', '/m', {'params': {'kind': 'data'}}),
    ('GET', '/m', {'params': {'kind': 'html'}}),
]


# --- errors --------------------------------------------------------------------


class Custom(Exception):
    pass


def errors(fw: Framework) -> Any:
    f = fw.falcon
    raising = {
        'bad': lambda: f.HTTPBadRequest(
            title='Bad thing',
            description='It was bad',
            headers={'X-Why': 'because'},
            href='https://example.com/docs',
            href_text='docs',
            code=1234,
        ),
        'notfound': lambda: f.HTTPNotFound(),
        'conflict': lambda: f.HTTPConflict(description='taken'),
        'status': lambda: f.HTTPStatus(f.HTTP_202, headers={'X-S': '1'}, text='ok'),
        'custom': lambda: Custom(),
        'crash': lambda: RuntimeError('crash'),
        'unauthorized': lambda: f.HTTPUnauthorized(challenges=['Bearer']),
        'method': lambda: f.HTTPMethodNotAllowed(['GET', 'POST']),
        'param': lambda: f.HTTPInvalidParam('must be odd', 'n'),
        'header': lambda: f.HTTPMissingHeader('X-Token'),
        'retry': lambda: f.HTTPServiceUnavailable(retry_after=30),
        'redirect': lambda: f.HTTPFound('/elsewhere'),
        'large': lambda: f.HTTPContentTooLarge(),
        'unprocessable': lambda: f.HTTPUnprocessableEntity(title='Nope'),
    }

    class Raises:
        async def on_get(self, req: Any, resp: Any, kind: str) -> None:
            raise raising[kind]()

    async def handle_custom(req: Any, resp: Any, ex: Exception, params: Any) -> None:
        resp.status = f.HTTP_418
        resp.media = {'handled': type(ex).__name__, 'params': params}

    app = fw.asgi.App()
    app.add_route('/e/{kind}', Raises())
    app.add_error_handler(Custom, handle_custom)
    return app


ERRORS = [
    ('GET', f'/e/{kind}', kwargs)
    for kind in (
        'bad',
        'notfound',
        'conflict',
        'status',
        'custom',
        'crash',
        'unauthorized',
        'method',
        'param',
        'header',
        'retry',
        'redirect',
        'large',
        'unprocessable',
    )
    for kwargs in ({}, {'headers': {'Accept': 'application/xml'}})
] + [
    ('GET', '/e/bad', {'headers': {'Accept': 'text/plain'}}),
    ('GET', '/e/bad', {'headers': {'Accept': 'application/xml, application/json'}}),
]


def error_serializer(fw: Framework) -> Any:
    class Raises:
        async def on_get(self, req: Any, resp: Any) -> None:
            raise fw.falcon.HTTPForbidden(description='no')

    def serializer(req: Any, resp: Any, exception: Any) -> None:
        resp.content_type = 'text/plain'
        resp.text = f'{exception.status}: {exception.description}'

    app = fw.asgi.App()
    app.set_error_serializer(serializer)
    app.add_route('/', Raises())
    return app


# --- hooks ---------------------------------------------------------------------


def hooks(fw: Framework) -> Any:
    f = fw.falcon

    async def tag(req: Any, resp: Any, resource: Any, params: Any, name: str) -> None:
        resp.append_header('X-Hooks', f'before-{name}')
        params['tagged'] = name

    async def done(req: Any, resp: Any, resource: Any, suffix: str = '') -> None:
        resp.append_header('X-Hooks', 'after' + suffix)

    async def deny(req: Any, resp: Any, resource: Any, params: Any) -> None:
        if req.get_header('X-Deny'):
            raise f.HTTPForbidden(title='denied by hook')

    @f.before(tag, 'class')
    @f.after(done, suffix='-class')
    class Hooked:
        @f.before(tag, 'method')
        @f.before(deny)
        @f.after(done)
        async def on_get(self, req: Any, resp: Any, tagged: str) -> None:
            resp.media = {'tagged': tagged}

        async def on_post(self, req: Any, resp: Any, tagged: str) -> None:
            resp.media = {'tagged': tagged, 'post': True}

    app = fw.asgi.App()
    app.add_route('/h', Hooked())
    return app


HOOKS = [
    ('GET', '/h', {}),
    ('POST', '/h', {}),
    ('GET', '/h', {'headers': {'X-Deny': '1'}}),
]


# --- middleware ----------------------------------------------------------------


def middleware(fw: Framework, independent: bool = True) -> Any:
    f = fw.falcon

    def component(name: str) -> Any:
        class Component:
            async def process_request(self, req: Any, resp: Any) -> None:
                req.context.setdefault('trace', []).append(f'req-{name}')
                if req.get_param('stop') == name:
                    resp.complete = True
                    resp.status = f.HTTP_200
                    resp.text = f'stopped by {name}'
                if req.get_param('raise') == name:
                    raise f.HTTPBadRequest(title=f'raised by {name}')

            async def process_resource(
                self, req: Any, resp: Any, resource: Any, params: Any
            ) -> None:
                req.context.trace.append(f'resource-{name}')

            async def process_response(
                self, req: Any, resp: Any, resource: Any, req_succeeded: bool
            ) -> None:
                resp.append_header('X-Trace', f'resp-{name}-{req_succeeded}')
                resp.set_header('X-Seen', ','.join(req.context.get('trace', [])))

        return Component()

    class Resource:
        async def on_get(self, req: Any, resp: Any) -> None:
            req.context.trace.append('responder')
            resp.media = {'trace': req.context.trace}

    app = fw.asgi.App(
        middleware=[component('a'), component('b')],
        independent_middleware=independent,
    )
    app.add_route('/mw', Resource())
    return app


MIDDLEWARE = [
    ('GET', '/mw', {}),
    ('GET', '/mw', {'params': {'stop': 'a'}}),
    ('GET', '/mw', {'params': {'stop': 'b'}}),
    ('GET', '/mw', {'params': {'raise': 'a'}}),
    ('GET', '/mw', {'params': {'raise': 'b'}}),
    ('GET', '/nowhere', {}),
]


# --- CORS ----------------------------------------------------------------------


def cors(fw: Framework) -> Any:
    class Resource:
        async def on_get(self, req: Any, resp: Any) -> None:
            resp.media = {'ok': True}

        async def on_put(self, req: Any, resp: Any) -> None:
            resp.media = {'put': True}

    app = fw.asgi.App(
        middleware=fw.falcon.CORSMiddleware(
            allow_origins=['https://a.example'],
            expose_headers=['X-Exposed'],
            allow_credentials=['https://a.example'],
        )
    )
    app.add_route('/c', Resource())
    enabled = fw.asgi.App(cors_enable=True)
    enabled.add_route('/c', Resource())
    app.add_sink(enabled, '/all')
    return app


ORIGIN_A = {'Origin': 'https://a.example'}
PREFLIGHT = {
    'Origin': 'https://a.example',
    'Access-Control-Request-Method': 'PUT',
    'Access-Control-Request-Headers': 'X-Custom, Content-Type',
}
CORS = [
    ('GET', '/c', {}),
    ('GET', '/c', {'headers': ORIGIN_A}),
    ('GET', '/c', {'headers': {'Origin': 'https://evil.example'}}),
    ('OPTIONS', '/c', {'headers': PREFLIGHT}),
    ('PUT', '/c', {'headers': ORIGIN_A}),
]


def cors_enabled(fw: Framework) -> Any:
    class Resource:
        async def on_get(self, req: Any, resp: Any) -> None:
            resp.media = {'ok': True}

    app = fw.asgi.App(cors_enable=True)
    app.add_route('/c', Resource())
    return app


CORS_ENABLED = [
    ('GET', '/c', {'headers': {'Origin': 'https://anyone.example'}}),
    ('OPTIONS', '/c', {'headers': {**PREFLIGHT, 'Origin': 'https://x.example'}}),
]


# --- static files --------------------------------------------------------------


def static(fw: Framework) -> Any:
    app = fw.asgi.App()
    app.add_static_route('/static', str(STATIC_DIR))
    app.add_static_route('/spa', str(STATIC_DIR), fallback_filename='index.html')
    app.add_static_route('/dl', str(STATIC_DIR), downloadable=True)
    return app


STATIC = [
    ('GET', '/static/hello.txt', {}),
    ('GET', '/static/data.json', {}),
    ('GET', '/static/index.html', {}),
    ('GET', '/static/missing.txt', {}),
    ('GET', '/static/../parity_support.py', {}),
    ('GET', '/static/', {}),
    ('HEAD', '/static/hello.txt', {}),
    ('GET', '/static/hello.txt', {'headers': {'Range': 'bytes=0-4'}}),
    ('GET', '/static/hello.txt', {'headers': {'Range': 'bytes=-3'}}),
    ('GET', '/static/hello.txt', {'headers': {'Range': 'bytes=100-200'}}),
    ('GET', '/spa/some/route', {}),
    ('GET', '/dl/hello.txt', {}),
    ('POST', '/static/hello.txt', {}),
]


# --- streaming -----------------------------------------------------------------


def streaming(fw: Framework) -> Any:
    f = fw.falcon

    class Stream:
        async def on_get(self, req: Any, resp: Any) -> None:
            async def chunks() -> Any:
                for i in range(5):
                    yield f'chunk{i};'.encode()

            resp.stream = chunks()
            resp.content_type = f.MEDIA_TEXT

    class Events:
        async def on_get(self, req: Any, resp: Any) -> None:
            async def events() -> Any:
                yield f.asgi.SSEvent(data=b'first', event_id='1')
                yield f.asgi.SSEvent(text='second', event='update', retry=1000)
                yield f.asgi.SSEvent(text='third', comment='note')
                yield None

            resp.sse = events()

    class Big:
        async def on_get(self, req: Any, resp: Any) -> None:
            resp.data = bytes(range(256)) * 1024
            resp.content_type = 'application/octet-stream'

    class AsyncFile:
        def __init__(self, data: bytes) -> None:
            self.data = data
            self.closed = False

        async def read(self, size: int = -1) -> bytes:
            size = len(self.data) if size < 0 else size
            chunk, self.data = self.data[:size], self.data[size:]
            return chunk

        async def close(self) -> None:
            self.closed = True

    class FileLike:
        async def on_get(self, req: Any, resp: Any) -> None:
            resp.stream = AsyncFile((STATIC_DIR / 'hello.txt').read_bytes() * 1000)
            resp.content_type = f.MEDIA_TEXT

    app = fw.asgi.App()
    app.add_route('/stream', Stream())
    app.add_route('/sse', Events())
    app.add_route('/big', Big())
    app.add_route('/file', FileLike())
    return app


STREAMING = [
    ('GET', '/stream', {}),
    ('GET', '/sse', {}),
    ('GET', '/big', {}),
    ('HEAD', '/big', {}),
    ('GET', '/file', {}),
]


# --- headers and cookies -------------------------------------------------------


def headers_and_cookies(fw: Framework) -> Any:
    f = fw.falcon

    class Resource:
        async def on_get(self, req: Any, resp: Any) -> None:
            resp.set_cookie('session', 'abc', max_age=3600, path='/', same_site='Lax')
            resp.set_cookie('pref', 'dark', secure=False, http_only=False)
            resp.unset_cookie('old', path='/')
            resp.append_header('X-Multi', 'a')
            resp.append_header('X-Multi', 'b')
            resp.cache_control = ['no-cache', 'private']
            resp.etag = 'v1'
            resp.last_modified = datetime.datetime(2020, 1, 2, 3, 4, 5)
            resp.vary = ['Accept', 'Accept-Encoding']
            resp.append_link('/next', 'next')
            resp.content_location = '/here'
            resp.accept_ranges = 'bytes'
            resp.expires = datetime.datetime(2030, 1, 1)
            resp.retry_after = 120
            resp.text = 'ok'

        async def on_post(self, req: Any, resp: Any) -> None:
            resp.downloadable_as = 'report é.csv'
            resp.text = 'a,b'
            resp.content_type = 'text/csv'

        async def on_put(self, req: Any, resp: Any) -> None:
            resp.viewable_as = 'photo.png'
            resp.data = b'png'

        async def on_patch(self, req: Any, resp: Any) -> None:
            raise f.HTTPMovedPermanently('/new', headers={'X-Moved': '1'})

    app = fw.asgi.App()
    app.resp_options.secure_cookies_by_default = True
    app.add_route('/h', Resource())
    return app


HEADERS_AND_COOKIES = [
    ('GET', '/h', {}),
    ('POST', '/h', {}),
    ('PUT', '/h', {}),
    ('PATCH', '/h', {}),
]


# --- request attributes --------------------------------------------------------


def request_attributes(fw: Framework) -> Any:
    class Echo:
        async def on_get(self, req: Any, resp: Any) -> None:
            resp.media = {
                'scheme': req.scheme,
                'host': req.host,
                'port': req.port,
                'netloc': req.netloc,
                'uri': req.uri,
                'url': req.url,
                'relative_uri': req.relative_uri,
                'prefix': req.prefix,
                'path': req.path,
                'root_path': req.root_path,
                'query_string': req.query_string,
                'remote_addr': req.remote_addr,
                'access_route': req.access_route,
                'forwarded_scheme': req.forwarded_scheme,
                'forwarded_host': req.forwarded_host,
                'accept': req.accept,
                'client_accepts_json': req.client_accepts_json,
                'client_prefers': req.client_prefers(['text/html', 'application/json']),
                'content_length': req.content_length,
                'cookies': req.cookies,
                'if_match': [str(e) for e in req.if_match or []],
                'range': req.range,
                'date': str(req.date),
                'auth': req.auth,
                'headers_lower': sorted(req.headers_lower),
            }

    app = fw.asgi.App()
    app.add_route('/r', Echo())
    return app


REQUEST_ATTRIBUTES = [
    ('GET', '/r', {}),
    (
        'GET',
        '/r',
        {
            'query_string': 'a=1&b=2',
            'protocol': 'https',
            'port': 8443,
            'root_path': '/api',
            'remote_addr': '10.0.0.5',
            'headers': {
                'Accept': 'application/json;q=0.9, text/html',
                'Cookie': 'a=1; b=2',
                'If-Match': '"x", W/"y"',
                'Range': 'bytes=0-99',
                'Date': 'Tue, 15 Nov 1994 12:45:26 GMT',
                'Authorization': 'Bearer t',
                'X-Forwarded-Proto': 'https',
                'X-Forwarded-Host': 'proxy.example',
                'Forwarded': 'for=192.0.2.1;proto=https;host=fwd.example',
            },
        },
    ),
]


SCENARIOS = [
    ('routing', routing, ROUTING),
    ('converters', converters, CONVERTERS),
    ('params', params, PARAMS),
    ('media', media, MEDIA),
    ('errors', errors, ERRORS),
    ('error_serializer', error_serializer, [('GET', '/', {})]),
    ('hooks', hooks, HOOKS),
    ('middleware', middleware, MIDDLEWARE),
    ('middleware_dependent', lambda fw: middleware(fw, False), MIDDLEWARE),
    ('cors', cors, CORS),
    ('cors_enabled', cors_enabled, CORS_ENABLED),
    ('static', static, STATIC),
    ('streaming', streaming, STREAMING),
    ('headers_and_cookies', headers_and_cookies, HEADERS_AND_COOKIES),
    ('request_attributes', request_attributes, REQUEST_ATTRIBUTES),
]

CASES = [
    pytest.param(build, request, id=f'{name}-{index}-{request[0]} {request[1]}')
    for name, build, requests in SCENARIOS
    for index, request in enumerate(requests)
]


@pytest.mark.parametrize(('build', 'request_'), CASES)
def test_same_response(build: Any, request_: tuple[str, str, dict[str, Any]]) -> None:
    records = run_http(build, [request_])
    assert records['gyrfalcon'] == records['falcon']


def parse_sse(body: bytes) -> list[dict[str, str]]:
    """Parse a text/event-stream body the way a browser does."""
    events = []
    for block in body.decode().split('\n\n'):
        event: dict[str, str] = {}
        for line in block.split('\n'):
            name, sep, value = line.partition(':')
            if not line or not name or not sep:
                continue  # a comment, or a line without a field: ignored
            value = value[1:] if value.startswith(' ') else value
            event[name] = event[name] + '\n' + value if name in event else value
        if event:
            events.append(event)
    return events


def test_sse_differences() -> None:
    """SSE: JSON data decodes the same; multi-line text survives only here."""

    def build(fw: Framework) -> Any:
        class Events:
            async def on_get(self, req: Any, resp: Any) -> None:
                async def events() -> Any:
                    yield fw.falcon.asgi.SSEvent(json={'n': [1, 'é']})
                    yield fw.falcon.asgi.SSEvent(text='line one\nline two')

                resp.sse = events()

        app = fw.asgi.App()
        app.add_route('/sse', Events())
        return app

    records = run_http(build, [('GET', '/sse', {})])
    ours, theirs = (
        parse_sse(records[name][0]['body']) for name in ('gyrfalcon', 'falcon')
    )
    assert [json.loads(e['data']) for e in (ours[0], theirs[0])] == [
        {'n': [1, 'é']}
    ] * 2
    assert ours[1] == {'data': 'line one\nline two'}
    assert theirs[1] == {'data': 'line one'}
