"""``gyrfalcon.asgi.Response``: headers, cookies, bodies and callbacks.

Header rendering is compared with ``falcon.asgi.Response`` driven the same
way.
"""

from __future__ import annotations

import datetime
import http
import json
from typing import Any

import falcon.asgi
import pytest

from gyrfalcon import errors
from gyrfalcon.asgi.response import Response
from gyrfalcon.media.base import BaseHandler
from gyrfalcon.options import ResponseOptions
from gyrfalcon.util import DeprecatedWarning
from gyrfalcon.util.deprecation import AttributeRemovedError
from gyrfalcon.util.structures import Context


def _both(script: Any) -> tuple[Any, Any]:
    ours, theirs = Response(), falcon.asgi.Response()
    script(ours)
    script(theirs)
    return ours, theirs


SCRIPTS = {
    'set-append-delete': lambda r: (
        r.set_header('X-A', 'one'),
        r.append_header('x-a', 'two'),
        r.append_header('X-New', 3),
        r.set_header('X-Gone', 'x'),
        r.delete_header('x-gone'),
        r.delete_header('never-set'),
        r.set_headers({'X-M': '1', 'Content-Type': 'text/plain'}),
        r.set_headers([('X-L', 2)]),
    ),
    'properties': lambda r: [
        setattr(r, name, value)
        for name, value in (
            ('accept_ranges', 'bytes'),
            ('cache_control', ['no-cache', 'max-age=0']),
            ('content_length', 12),
            ('content_location', '/a b/ä'),
            ('content_range', (0, 9, 100)),
            ('content_type', 'text/html'),
            ('etag', 'abc'),
            ('expires', datetime.datetime(2030, 1, 2, 3, 4, 5)),
            ('last_modified', datetime.datetime(2020, 1, 2, 3, 4, 5)),
            ('location', '/redirect here?x=%20'),
            ('retry_after', 30),
            ('vary', ('Accept', 'Cookie')),
        )
    ],
    'more-properties': lambda r: [
        setattr(r, name, value)
        for name, value in (
            ('content_range', (0, 9, '*', 'items')),
            ('etag', 'W/"weak"'),
            ('downloadable_as', 'report.pdf'),
        )
    ],
    'non-ascii-download': lambda r: setattr(r, 'downloadable_as', 'résumé €.pdf'),
    'viewable': lambda r: setattr(r, 'viewable_as', 'Ångström.png'),
    'unset-property': lambda r: (
        setattr(r, 'content_type', 'a/b'),
        setattr(r, 'content_type', None),
        setattr(r, 'etag', None),
    ),
    'links': lambda r: (
        r.append_link('/next page', 'next'),
        r.append_link(
            '/x',
            'alternate',
            title='T',
            title_star=('en', 'Naïve title'),
            anchor='/a b',
            hreflang=['en', 'fr'],
            type_hint='text/html',
            crossorigin='anonymous',
            link_extension=[('foo', 'bar'), ('baz', '"q"')],
        ),
        r.append_link('/y', 'http://rel.example/a http://rel.example/b', hreflang='de'),
        r.append_link('/z', 'https://rel.example/c', crossorigin='Use-Credentials'),
    ),
    'cookies': lambda r: (
        r.set_cookie('plain', 'v'),
        r.set_cookie(
            'full',
            'a b;c',
            expires=datetime.datetime(2030, 1, 1, 12, 0, 0),
            max_age=3600,
            domain='example.com',
            path='/p',
            secure=False,
            http_only=False,
            same_site='strict',
        ),
        r.set_cookie(
            'aware',
            'x',
            expires=datetime.datetime(
                2030,
                1,
                1,
                14,
                0,
                0,
                tzinfo=datetime.timezone(datetime.timedelta(hours=2)),
            ),
        ),
        r.set_cookie('chips', 'p', partitioned=True, same_site='None'),
        r.set_cookie('plain', 'replaced', max_age=0),
        r.append_header('Set-Cookie', 'raw=1; Path=/'),
    ),
}


@pytest.mark.parametrize('name', SCRIPTS)
def test_headers_match_falcon(name: str) -> None:
    ours, theirs = _both(SCRIPTS[name])
    assert ours.headers == theirs.headers
    assert ours._asgi_headers('application/json') == theirs._asgi_headers(
        'application/json'
    )


def test_status() -> None:
    resp = Response()
    assert resp.status == '200 OK' and resp.status_code == 200
    resp.status_code = 404
    assert resp.status == 404
    resp.status = http.HTTPStatus.CREATED
    assert resp.status_code == 201
    resp.status = '418 I am a teapot'
    assert resp.status_code == 418
    assert repr(resp) == '<Response: 418 I am a teapot>'


def test_header_accessors() -> None:
    resp = Response()
    resp.set_header('X-Count', 5)  # type: ignore[arg-type]
    assert resp.get_header('x-count') == '5'
    assert resp.get_header('missing') is None
    assert resp.get_header('missing', 'd') == 'd'
    headers = resp.headers
    headers['x-other'] = 'not stored'
    assert 'x-other' not in resp.headers
    with pytest.raises(KeyError):  # not set: KeyError, as in Falcon
        del resp.content_type
    resp.content_type = 'text/plain'
    del resp.content_type
    assert resp.content_type is None


def test_header_properties_accept_plain_strings() -> None:
    # NOTE(gyrfalcon): Falcon joins the characters of a str ('n, o, -, ...').
    resp = Response()
    resp.cache_control = 'no-cache'
    resp.vary = 'Accept'
    resp.content_range = 'bytes */100'
    resp.last_modified = 'Tue, 15 Nov 1994 12:45:26 GMT'
    assert resp.headers == {
        'cache-control': 'no-cache',
        'vary': 'Accept',
        'content-range': 'bytes */100',
        'last-modified': 'Tue, 15 Nov 1994 12:45:26 GMT',
    }


@pytest.mark.parametrize('method', ['get_header', 'set_header', 'delete_header'])
def test_set_cookie_header_is_refused(method: str) -> None:
    resp = Response()
    args = ('Set-Cookie', 'a=b') if method == 'set_header' else ('Set-Cookie',)
    with pytest.raises(errors.HeaderNotSupported):
        getattr(resp, method)(*args)
    with pytest.raises(errors.HeaderNotSupported):
        resp.set_headers({'set-cookie': 'x'})


def test_cookies_rendering() -> None:
    resp = Response()
    resp.set_cookie('sid', 'abc', path='/', same_site='Lax', partitioned=True)
    assert resp._asgi_headers() == [
        (b'set-cookie', b'sid=abc; HttpOnly; Partitioned; Path=/; SameSite=Lax; Secure')
    ]
    options = ResponseOptions()
    options.secure_cookies_by_default = False
    insecure = Response(options)
    insecure.set_cookie('a', 'b')
    assert insecure._asgi_headers() == [(b'set-cookie', b'a=b; HttpOnly')]


@pytest.mark.parametrize(
    ('name', 'value', 'error'),
    [
        ('ä', 'v', KeyError),
        ('a b', 'v', KeyError),
        ('expires', 'v', KeyError),
        ('ok', 'ä', ValueError),
    ],
)
def test_invalid_cookies(name: str, value: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        Response().set_cookie(name, value)
    with pytest.raises(error):
        falcon.asgi.Response().set_cookie(name, value)


def test_invalid_same_site() -> None:
    with pytest.raises(ValueError, match='same_site'):
        Response().set_cookie('a', 'b', same_site='sometimes')


def test_unset_cookie() -> None:
    resp = Response()
    resp.set_cookie('sid', 'abc')
    resp.unset_cookie('sid', domain='example.com', path='/')
    # NOTE(gyrfalcon): Max-Age=0 and a fixed past date, so that a client whose
    #   clock lags the server's still drops it (Falcon sends now - 1 s).
    assert resp._asgi_headers() == [
        (
            b'set-cookie',
            b'sid=""; Domain=example.com; expires=Thu, 01 Jan 1970 00:00:00 GMT; '
            b'Max-Age=0; Path=/; SameSite=Lax',
        )
    ]
    with pytest.warns(DeprecatedWarning, match='same_site'):
        resp.unset_cookie('other', samesite='Strict')
    assert resp._asgi_headers()[-1][1].endswith(b'SameSite=Strict')
    with pytest.raises(KeyError):
        resp.unset_cookie('bad name')


def test_asgi_headers_defaults_content_type() -> None:
    resp = Response()
    assert resp._asgi_headers() == []
    assert resp._asgi_headers('text/plain') == [(b'content-type', b'text/plain')]
    resp.content_type = 'application/xml'
    assert resp._asgi_headers('text/plain') == [(b'content-type', b'application/xml')]


def test_asgi_headers_reject_non_latin1() -> None:
    resp = Response()
    resp.set_header('X-Emoji', '😀')
    with pytest.raises(ValueError, match='ASCII'):
        resp._asgi_headers()


def test_crossorigin_validation() -> None:
    with pytest.raises(ValueError, match='crossorigin'):
        Response().append_link('/x', 'next', crossorigin='sometimes')


def test_removed_attributes() -> None:
    resp = Response()
    with pytest.raises(AttributeRemovedError):
        _ = resp.body
    with pytest.raises(AttributeRemovedError):
        resp.body = 'x'
    with pytest.raises(AttributeRemovedError):
        _ = resp.add_link


def test_defaults() -> None:
    resp = Response()
    assert resp.text is None and resp.data is None and resp.media is None
    assert resp.stream is None and resp.sse is None
    assert resp.complete is False
    assert isinstance(resp.context, Context)
    resp.complete = True
    assert resp.complete is True
    assert Response().complete is False


# --- bodies -----------------------------------------------------------------------


async def test_render_text_data_media() -> None:
    resp = Response()
    assert await resp.render_body() is None
    resp.media = {'a': 1}
    assert json.loads(await resp.render_body() or b'') == {'a': 1}
    assert resp.content_type == 'application/json'
    resp.data = b'raw'
    assert await resp.render_body() == b'raw'
    resp.text = 'héllo'
    assert await resp.render_body() == 'héllo'.encode()


async def test_render_media_is_cached_until_reassigned() -> None:
    calls = []

    class Counting(BaseHandler):
        def serialize(self, media: object, content_type: str) -> bytes:
            calls.append(media)
            return repr(media).encode()

    options = ResponseOptions()
    options.media_handlers['text/x-repr'] = Counting()
    resp = Response(options)
    resp.content_type = 'text/x-repr'
    resp.media = [1]
    assert await resp.render_body() == b'[1]'
    assert await resp.render_body() == b'[1]'
    assert calls == [[1]]
    resp.media = [2]
    assert await resp.render_body() == b'[2]'
    assert calls == [[1], [2]]


async def test_render_media_unsupported_type() -> None:
    resp = Response()
    resp.content_type = 'text/csv'
    resp.media = [1]
    with pytest.raises(errors.HTTPUnsupportedMediaType):
        await resp.render_body()


async def test_render_media_with_default_media_type() -> None:
    options = ResponseOptions()
    options.default_media_type = 'application/x-www-form-urlencoded'
    resp = Response(options)
    resp.media = {'a': ['1', '2'], 'b': 'x y'}
    assert await resp.render_body() == b'a=1&a=2&b=x+y'
    assert resp.content_type == 'application/x-www-form-urlencoded'


def test_set_stream() -> None:
    async def chunks() -> Any:
        yield b'a'

    resp = Response()
    stream = chunks()
    resp.set_stream(stream, 1)
    assert resp.stream is stream
    assert resp.content_length == '1'


# --- scheduled callbacks ----------------------------------------------------------


def test_schedule() -> None:
    async def job() -> None:
        pass

    def sync_job() -> None:
        pass

    resp = Response()
    assert resp._registered_callbacks is None
    resp.schedule(job)
    resp.schedule_sync(sync_job)
    resp.schedule(job)
    assert resp._registered_callbacks == [(job, True), (sync_job, False), (job, True)]


def test_schedule_rejects_non_coroutine_functions() -> None:
    async def job() -> None:
        pass

    def sync_job() -> None:
        pass

    resp = Response()
    coroutine = job()
    with pytest.raises(TypeError, match='coroutine, rather than a coroutine function'):
        resp.schedule(coroutine)  # type: ignore[arg-type]
    coroutine.close()
    with pytest.raises(TypeError, match='must be a coroutine function'):
        resp.schedule(sync_job)  # type: ignore[arg-type]
    assert resp._registered_callbacks is None


def test_sse_and_repeated_cookie_headers() -> None:
    async def events() -> Any:
        yield None

    resp = Response()
    emitter = events()
    resp.sse = emitter
    assert resp.sse is emitter
    resp.unset_cookie('a')
    resp.unset_cookie('b')
    resp.append_header('Set-Cookie', 'x=1')
    resp.append_header('Set-Cookie', 'y=2')
    assert [value for name, value in resp._asgi_headers() if name == b'set-cookie'][
        :2
    ] == [b'x=1', b'y=2']
    assert len(resp._asgi_headers()) == 4


def test_schedule_accepts_other_callables_returning_awaitables() -> None:
    import functools

    async def job(value: int) -> None:
        pass

    class Job:
        async def __call__(self) -> None:
            pass

    resp = Response()
    bound = functools.partial(job, 1)
    instance = Job()
    resp.schedule(bound)
    resp.schedule(instance)
    assert resp._registered_callbacks == [(bound, True), (instance, True)]
