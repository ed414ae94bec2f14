"""``gyrfalcon.asgi.Request`` built from hand-made ASGI scopes.

Most properties are also read from ``falcon.asgi.Request`` built from the
same scope: identical values are the parity proof.
"""

from __future__ import annotations

import datetime
from typing import Any

import falcon.asgi
import pytest
from http_support import body_receiver, make_scope, no_receive

from gyrfalcon import errors
from gyrfalcon.asgi.request import Request
from gyrfalcon.options import RequestOptions
from gyrfalcon.util.structures import Context, ETag

# Properties that read headers, the scope or the query string.
COMPARED_PROPERTIES = [
    'method',
    'path',
    'query_string',
    'content_type',
    'is_websocket',
    'accept',
    'auth',
    'expect',
    'if_range',
    'last_event_id',
    'referer',
    'user_agent',
    'scheme',
    'forwarded_scheme',
    'host',
    'forwarded_host',
    'port',
    'netloc',
    'subdomain',
    'root_path',
    'relative_uri',
    'uri',
    'url',
    'prefix',
    'forwarded_uri',
    'forwarded_prefix',
    'access_route',
    'remote_addr',
    'headers',
    'headers_lower',
    'params',
    'cookies',
    'content_length',
    'client_accepts_json',
    'client_accepts_msgpack',
    'client_accepts_xml',
    'date',
    'if_modified_since',
    'if_unmodified_since',
]

SCOPES = {
    'plain': make_scope('/things/42', b'a=1&b=2&a=3'),
    'browser': make_scope(
        '/search',
        b'q=caf%C3%A9+au+lait&empty=&flag',
        headers=[
            ('Host', 'api.example.com'),
            ('Accept', 'text/html,application/xhtml+xml,application/xml;q=0.9'),
            ('User-Agent', 'Mozilla/5.0'),
            ('Referer', 'https://example.com/'),
            ('Cookie', 'sid=abc; theme="dark"; sid=def; bad name=x; =nameless'),
            ('Authorization', 'Bearer t0k3n'),
            ('Date', 'Tue, 15 Nov 1994 08:12:31 GMT'),
            ('If-Modified-Since', 'Sat, 29 Oct 1994 19:43:31 GMT'),
            ('If-Unmodified-Since', 'Sat, 29 Oct 1994 19:43:31 GMT'),
            ('Last-Event-ID', '42'),
            ('Expect', '100-continue'),
            ('If-Range', '"v1"'),
            ('Accept', 'application/json'),
        ],
    ),
    'https-no-host': make_scope(
        '/', scheme='https', server=('example.org', 443), root_path='/api'
    ),
    'odd-port': make_scope('/x', server=('example.org', 8443), scheme='https'),
    'no-server': make_scope('/x', server=None, client=None),
    'forwarded': make_scope(
        '/f',
        b'x=1',
        headers=[
            ('Host', 'internal:8080'),
            (
                'Forwarded',
                'for=192.0.2.60;proto=HTTPS;host=public.example, '
                'for="[2001:db8::1]:4711", garbage, for=10.0.0.9',
            ),
            ('X-Forwarded-For', 'ignored'),
        ],
    ),
    'x-forwarded': make_scope(
        '/f',
        headers=[
            ('X-Forwarded-For', '203.0.113.7, 10.0.0.2'),
            ('X-Forwarded-Proto', 'HTTPS'),
            ('X-Forwarded-Host', 'shop.example'),
        ],
    ),
    'x-real-ip': make_scope('/f', headers=[('X-Real-IP', '198.51.100.1')]),
    'forwarded-empty': make_scope('/f', headers=[('Forwarded', 'nonsense')]),
    'post-json': make_scope(
        '/items',
        method='POST',
        headers=[('Content-Type', 'application/json'), ('Content-Length', '13')],
    ),
    'websocket': make_scope(
        '/ws', b'token=x', headers=[('Host', 'h:81')], scope_type='websocket'
    ),
    'websocket-secure': make_scope(
        '/ws', scope_type='websocket', scheme='wss', server=('h', 443)
    ),
    'ipv6-host': make_scope('/', headers=[('Host', '[::1]:9000')]),
    'repeated-headers': make_scope(
        '/',
        headers=[
            ('X-Tag', 'a'),
            ('X-Tag', 'b'),
            ('Content-Type', 'text/plain'),
            ('Content-Type', 'application/json'),
            ('Accept', '*/*'),
        ],
    ),
    'empty-headers': make_scope(
        '/',
        headers=[('Accept', ''), ('Content-Length', ''), ('Referer', '')],
    ),
    'empty-path': make_scope(''),
    'msgpack-client': make_scope('/', headers=[('Accept', 'application/msgpack')]),
}


@pytest.mark.parametrize('scope_name', SCOPES)
@pytest.mark.parametrize('prop', COMPARED_PROPERTIES)
def test_properties_match_falcon(scope_name: str, prop: str) -> None:
    scope = SCOPES[scope_name]
    ours = Request(scope, no_receive)
    theirs = falcon.asgi.Request(scope, no_receive)
    assert getattr(ours, prop) == getattr(theirs, prop)


@pytest.mark.parametrize('scope_name', SCOPES)
def test_forwarded_elements_match_falcon(scope_name: str) -> None:
    scope = SCOPES[scope_name]
    ours = Request(scope, no_receive).forwarded
    theirs = falcon.asgi.Request(scope, no_receive).forwarded

    def fields(elements: Any) -> Any:
        if elements is None:
            return None
        return [(e.src, e.dest, e.host, e.scheme) for e in elements]

    assert fields(ours) == fields(theirs)


def test_forwarded_parsing() -> None:
    req = Request(SCOPES['forwarded'], no_receive)
    forwarded = req.forwarded
    assert forwarded is not None
    assert [(hop.src, hop.host, hop.scheme) for hop in forwarded] == [
        ('192.0.2.60', 'public.example', 'https'),
        ('[2001:db8::1]:4711', None, None),
        ('10.0.0.9', None, None),
    ]
    assert req.forwarded_scheme == 'https'
    assert req.forwarded_host == 'public.example'
    assert req.forwarded_uri == 'https://public.example/f?x=1'
    assert req.access_route == ['192.0.2.60', '2001:db8::1', '10.0.0.9', '10.0.0.1']
    assert req.remote_addr == '10.0.0.1'
    assert 'src=' in repr(forwarded[0])


def test_access_route_does_not_repeat_the_peer() -> None:
    scope = make_scope(headers=[('X-Forwarded-For', '203.0.113.7, 10.0.0.1')])
    assert Request(scope, no_receive).access_route == ['203.0.113.7', '10.0.0.1']


def test_x_forwarded_headers() -> None:
    req = Request(SCOPES['x-forwarded'], no_receive)
    assert req.forwarded is None
    assert req.forwarded_scheme == 'https'
    assert req.forwarded_host == 'shop.example'
    assert req.access_route == ['203.0.113.7', '10.0.0.2', '10.0.0.1']


def test_basic_request() -> None:
    req = Request(SCOPES['plain'], no_receive)
    assert req.method == 'GET'
    assert req.path == '/things/42'
    assert req.params == {'a': ['1', '3'], 'b': '2'}
    assert req.uri == 'http://127.0.0.1:8000/things/42?a=1&b=2&a=3'
    assert req.relative_uri == '/things/42?a=1&b=2&a=3'
    assert req.remote_addr == '10.0.0.1'
    assert isinstance(req.context, Context)
    assert req.uri_template is None
    assert repr(req) == "<Request: GET 'http://127.0.0.1:8000/things/42?a=1&b=2&a=3'>"


def test_headers() -> None:
    req = Request(SCOPES['browser'], no_receive)
    assert req.get_header('user-agent') == 'Mozilla/5.0'
    assert req.get_header('USER-AGENT') == 'Mozilla/5.0'
    assert req.get_header('X-Missing') is None
    assert req.get_header('X-Missing', default='d') == 'd'
    with pytest.raises(errors.HTTPMissingHeader) as info:
        req.get_header('X-Missing', required=True)
    assert info.value.description == 'The "X-Missing" header is required.'
    assert req.accept == (
        'text/html,application/xhtml+xml,application/xml;q=0.9,application/json'
    )
    assert req.auth == 'Bearer t0k3n'
    assert req.date == datetime.datetime(1994, 11, 15, 8, 12, 31, tzinfo=datetime.UTC)


def test_repeated_headers_are_joined_except_singletons() -> None:
    req = Request(SCOPES['repeated-headers'], no_receive)
    assert req.get_header('X-Tag') == 'a,b'
    assert req.content_type == 'application/json'


def test_cookies() -> None:
    req = Request(SCOPES['browser'], no_receive)
    assert req.cookies == {'sid': 'abc', 'theme': 'dark'}
    assert req.get_cookie_values('sid') == ['abc', 'def']
    assert req.get_cookie_values('missing') is None
    assert Request(make_scope(), no_receive).cookies == {}


def test_cookie_unquoting_matches_falcon() -> None:
    header = 'a="x\\"y"; b="\\101\\102"; c=""; d="q"; e="'
    scope = make_scope(headers=[('Cookie', header)])
    ours = Request(scope, no_receive)
    theirs = falcon.asgi.Request(scope, no_receive)
    assert ours.cookies == theirs.cookies
    assert ours.cookies['b'] == 'AB'


def test_cookie_headers_split_by_http2_are_joined() -> None:
    # RFC 9113 §8.2.3 (Falcon keeps only the last Cookie header).
    scope = make_scope(headers=[('Cookie', 'a=1'), ('Cookie', 'b=2')])
    assert Request(scope, no_receive).cookies == {'a': '1', 'b': '2'}


def test_client_accepts() -> None:
    req = Request(SCOPES['browser'], no_receive)
    assert req.client_accepts('text/html')
    assert req.client_accepts('application/xml')
    assert not req.client_accepts('image/png')
    assert req.client_prefers(['application/xml', 'text/html']) == 'text/html'
    assert req.client_prefers(['image/png']) is None
    invalid = Request(make_scope(headers=[('Accept', 'nonsense')]), no_receive)
    assert not invalid.client_accepts('text/html')
    assert invalid.client_prefers(['text/html']) is None
    assert Request(make_scope(), no_receive).client_accepts('anything/at-all')


@pytest.mark.parametrize(
    ('header', 'expected'),
    [
        ('"v1"', [('v1', False)]),
        ('W/"v1"', [('v1', True)]),
        ('"a", W/"b", "c"', [('a', False), ('b', True), ('c', False)]),
        ('*', ['*']),
        ('  ', None),
        (',', None),
    ],
)
def test_if_match_and_if_none_match(header: str, expected: Any) -> None:
    scope = make_scope(headers=[('If-Match', header), ('If-None-Match', header)])
    req = Request(scope, no_receive)
    theirs = falcon.asgi.Request(scope, no_receive)
    for ours_value, theirs_value in (
        (req.if_match, theirs.if_match),
        (req.if_none_match, theirs.if_none_match),
    ):
        if expected is None or expected == ['*']:
            assert ours_value == expected == theirs_value
        else:
            assert ours_value is not None and theirs_value is not None
            assert [(str(e), e.is_weak) for e in ours_value] == expected
            assert [(str(e), e.is_weak) for e in theirs_value] == expected
            assert all(isinstance(e, ETag) for e in ours_value)
    assert Request(make_scope(), no_receive).if_match is None


@pytest.mark.parametrize(
    ('header', 'expected'),
    [
        ('bytes=0-499', (0, 499)),
        ('bytes=500-', (500, -1)),
        ('bytes=-500', (-500, -1)),
        ('items=3-4', (3, 4)),
    ],
)
def test_range(header: str, expected: tuple[int, int]) -> None:
    req = Request(make_scope(headers=[('Range', header)]), no_receive)
    assert req.range == expected
    assert req.range_unit == header.partition('=')[0]


@pytest.mark.parametrize(
    'header',
    [
        '0-499',
        'bytes=0-1,5-6',
        'bytes=-',
        'bytes=5-1',
        'bytes=x-1',
        'bytes=1',
        'bytes=-0',
    ],
)
def test_invalid_range_matches_falcon(header: str) -> None:
    scope = make_scope(headers=[('Range', header)])
    with pytest.raises(errors.HTTPInvalidHeader) as ours:
        _ = Request(scope, no_receive).range
    with pytest.raises(falcon.HTTPInvalidHeader) as theirs:
        _ = falcon.asgi.Request(scope, no_receive).range
    assert ours.value.to_dict() == theirs.value.to_dict()


def test_range_unit_without_unit() -> None:
    req = Request(make_scope(headers=[('Range', '0-1')]), no_receive)
    with pytest.raises(errors.HTTPInvalidHeader):
        _ = req.range_unit
    assert Request(make_scope(), no_receive).range_unit is None
    assert Request(make_scope(), no_receive).range is None


@pytest.mark.parametrize('value', ['abc', '-1'])
def test_invalid_content_length(value: str) -> None:
    req = Request(make_scope(headers=[('Content-Length', value)]), no_receive)
    with pytest.raises(errors.HTTPInvalidHeader) as info:
        _ = req.content_length
    assert info.value.description is not None
    assert 'Content-Length' in info.value.description


def test_header_conversions() -> None:
    scope = make_scope(
        headers=[('X-Int', '12'), ('X-Bad', 'twelve'), ('X-Date', 'yesterday')]
    )
    req = Request(scope, no_receive)
    assert req.get_header_as_int('X-Int') == 12
    assert req.get_header_as_int('X-None') is None
    with pytest.raises(errors.HTTPInvalidHeader):
        req.get_header_as_int('X-Bad')
    with pytest.raises(errors.HTTPMissingHeader):
        req.get_header_as_int('X-None', required=True)
    with pytest.raises(errors.HTTPInvalidHeader):
        req.get_header_as_datetime('X-Date')
    assert req.get_header_as_datetime('X-None') is None


def test_options_strip_trailing_slash_and_blank_values() -> None:
    options = RequestOptions()
    options.strip_url_path_trailing_slash = True
    options.keep_blank_qs_values = False
    options.auto_parse_qs_csv = True
    req = Request(make_scope('/a/b/', b'x=&y=1,2'), no_receive, options=options)
    assert req.path == '/a/b'
    assert req.params == {'y': ['1', '2']}
    assert Request(make_scope('/', b''), no_receive, options=options).path == '/'


def test_invalid_utf8_in_query_string_does_not_fail() -> None:
    req = Request(make_scope('/', b'q=\xff'), no_receive)
    assert req.params == {'q': '\ufffd'}


def test_websocket_handshake_request() -> None:
    req = Request(SCOPES['websocket'], no_receive)
    assert req.is_websocket
    assert req.method == 'GET'
    assert req.scheme == 'ws'
    assert req.get_param('token') == 'x'
    with pytest.raises(errors.UnsupportedError):
        _ = req.stream
    with pytest.raises(errors.UnsupportedError):
        _ = req.bounded_stream
    assert Request(SCOPES['websocket-secure'], no_receive).port == 443


async def test_websocket_get_media_is_unsupported() -> None:
    req = Request(SCOPES['websocket'], no_receive)
    with pytest.raises(errors.UnsupportedError):
        await req.get_media()


def test_scheme_defaults() -> None:
    scope = make_scope()
    del scope['scheme']
    assert Request(scope, no_receive).scheme == 'http'
    ws_scope = make_scope(scope_type='websocket')
    del ws_scope['scheme']
    assert Request(ws_scope, no_receive).scheme == 'ws'


def test_server_with_none_port_uses_the_default() -> None:
    req = Request(make_scope(server=('/tmp/sock', None)), no_receive)
    assert req.netloc == '/tmp/sock'
    assert req.port == 80


def test_wsgi_leftovers() -> None:
    req = Request(make_scope(), no_receive)
    with pytest.raises(AttributeError):
        _ = req.env
    with pytest.raises(NotImplementedError):
        req.log_error('x')
    from gyrfalcon.util import DeprecatedWarning

    with pytest.warns(DeprecatedWarning):
        assert req.app == ''


def test_context_type_and_attributes() -> None:
    class MyRequest(Request):
        context_type = dict

    req = MyRequest(make_scope(), no_receive)
    assert req.context == {}
    req.anything = 1  # type: ignore[attr-defined]
    assert req.anything == 1  # type: ignore[attr-defined]


# --- body ---------------------------------------------------------------------


async def test_stream_reads_the_body() -> None:
    receive = body_receiver(b'{"a": ', b'1}')
    req = Request(SCOPES['post-json'], receive)
    assert req.stream is req.bounded_stream
    assert await req.stream.read() == b'{"a": 1}'


async def test_first_event_comes_first() -> None:
    receive = body_receiver(b'2}')
    first = {'type': 'http.request', 'body': b'{"a": ', 'more_body': True}
    scope = make_scope(method='POST', headers=[('Content-Type', 'application/json')])
    req = Request(scope, receive, first_event=first)
    assert await req.get_media() == {'a': 2}


async def test_media_json() -> None:
    req = Request(SCOPES['post-json'], body_receiver(b'{"a": [1, 2]}'))
    assert await req.get_media() == {'a': [1, 2]}
    assert await req.media == {'a': [1, 2]}
    assert await req.get_media() is await req.media


async def test_media_empty_body() -> None:
    scope = make_scope(method='POST', headers=[('Content-Type', 'application/json')])
    req = Request(scope, body_receiver(b''))
    with pytest.raises(errors.MediaNotFoundError):
        await req.get_media()
    # The error is cached; a default can still be asked for.
    assert await req.get_media(default_when_empty={}) == {}
    with pytest.raises(errors.MediaNotFoundError):
        await req.media
    fresh = Request(scope, body_receiver(b''))
    assert await fresh.get_media(default_when_empty=None) is None


async def test_media_malformed_is_cached() -> None:
    scope = make_scope(method='POST', headers=[('Content-Type', 'application/json')])
    receive = body_receiver(b'{nope')
    req = Request(scope, receive)
    with pytest.raises(errors.MediaMalformedError) as first:
        await req.get_media()
    with pytest.raises(errors.MediaMalformedError) as second:
        await req.get_media(default_when_empty={})
    assert first.value is second.value
    assert len(receive.received) == 1  # type: ignore[attr-defined]


async def test_media_form_and_default_type() -> None:
    scope = make_scope(
        method='POST', headers=[('Content-Type', 'application/x-www-form-urlencoded')]
    )
    req = Request(scope, body_receiver(b'a=1&b=x+y&a=2'))
    assert await req.get_media() == {'a': ['1', '2'], 'b': 'x y'}

    # No Content-Type: the default media type (JSON) applies.
    plain = Request(make_scope(method='POST'), body_receiver(b'[1]'))
    assert await plain.get_media() == [1]


async def test_media_unsupported_type() -> None:
    scope = make_scope(method='POST', headers=[('Content-Type', 'text/csv')])
    req = Request(scope, body_receiver(b'a,b'))
    with pytest.raises(errors.HTTPUnsupportedMediaType) as info:
        await req.get_media()
    assert info.value.description == 'text/csv is an unsupported media type.'


async def test_media_with_async_only_handler_exhausts_stream() -> None:
    from gyrfalcon.media.base import BaseHandler

    class FirstLine(BaseHandler):
        exhaust_stream = True

        async def deserialize_async(
            self, stream: Any, content_type: str | None, content_length: int | None
        ) -> Any:
            return (await stream.read(3)).decode()

    options = RequestOptions()
    options.media_handlers['text/plain'] = FirstLine()
    scope = make_scope(method='POST', headers=[('Content-Type', 'text/plain')])
    receive = body_receiver(b'abc', b'def', b'ghi')
    req = Request(scope, receive, options=options)
    assert await req.get_media() == 'abc'
    assert req.stream.eof
    assert len(receive.received) == 3  # type: ignore[attr-defined]


def test_query_string_as_media() -> None:
    req = Request(make_scope('/', b'%7B%22a%22%3A%201%7D'), no_receive)
    assert req.get_query_string_as_media() == {'a': 1}
    assert req.get_query_string_as_media('application/json') == {'a': 1}
    empty = Request(make_scope(), no_receive)
    with pytest.raises(errors.MediaNotFoundError):
        empty.get_query_string_as_media()
    assert empty.get_query_string_as_media(default_when_empty=5) == 5
    with pytest.raises(ValueError, match='No media handler'):
        empty.get_query_string_as_media('text/csv')


def test_client_and_server_may_be_any_iterable() -> None:
    # ASGI: "an iterable of [host, port]"; an iterator can be read only once.
    scope = make_scope(client=iter(['192.0.2.1', 1234]), server=iter(['h', 8080]))
    req = Request(scope, no_receive)
    assert req.remote_addr == '192.0.2.1'
    assert req.access_route == ['192.0.2.1']
    assert req.remote_addr == '192.0.2.1'
    assert req.netloc == 'h:8080'
    assert req.port == 8080
    listed = Request(make_scope(client=['192.0.2.2', 1], server=['h', 80]), no_receive)
    assert (listed.remote_addr, listed.netloc) == ('192.0.2.2', 'h')


@pytest.mark.parametrize(
    ('root_path', 'path', 'expected'),
    [
        ('/api', '/items', '/api/items'),  # Falcon's testing helpers
        ('/api', '/api/items', '/api/items'),  # uvicorn --root-path, the spec
        ('/api', '/api', '/api'),
        ('/api', '/apiary', '/api/apiary'),
        ('/api/', '/api/items', '/api/items'),
        ('', '/items', '/items'),
    ],
)
def test_relative_uri_does_not_repeat_the_root_path(
    root_path: str, path: str, expected: str
) -> None:
    req = Request(make_scope(path, b'q=1', root_path=root_path), no_receive)
    assert req.relative_uri == expected + '?q=1'
    assert req.uri == 'http://127.0.0.1:8000' + expected + '?q=1'


def test_parsed_values_are_cached() -> None:
    scope = make_scope(
        headers=[
            ('If-Match', '"a"'),
            ('If-None-Match', '"b"'),
            ('X-Forwarded-For', '203.0.113.7'),
        ]
    )
    req = Request(scope, no_receive)
    assert req.headers is req.headers
    assert req.if_match is req.if_match
    assert req.if_none_match is req.if_none_match
    assert req.access_route is req.access_route
    assert req.access_route == ['203.0.113.7', '10.0.0.1']
    assert req.uri is req.uri
