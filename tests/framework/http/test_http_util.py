"""``gyrfalcon.util``, ``constants`` and ``status_codes``, against Falcon 4.4."""

from __future__ import annotations

import asyncio
import datetime
import http
import os
from typing import Any

import falcon
import falcon.constants
import falcon.status_codes
import pytest
from falcon.util import mediatypes as falcon_mediatypes
from hypothesis import given, strategies as st

import gyrfalcon.constants as constants
import gyrfalcon.status_codes as status_codes
from gyrfalcon import errors, util
from gyrfalcon.util import mediatypes, misc, structures, sync

# --- constants and status codes --------------------------------------------------


def test_status_codes_match_falcon() -> None:
    ours = {name: getattr(status_codes, name) for name in dir(status_codes)}
    theirs = {
        name: getattr(falcon.status_codes, name)
        for name in dir(falcon.status_codes)
        if name.startswith('HTTP_')
    }
    assert {name: ours.get(name) for name in theirs} == theirs
    assert set(status_codes.__all__) == set(falcon.status_codes.__all__)


@pytest.mark.parametrize(
    'name',
    [
        'HTTP_METHODS',
        'WEBDAV_METHODS',
        'HTTP_WG_DRAFT_METHODS',
        'COMBINED_METHODS',
        'MEDIA_JSON',
        'MEDIA_MSGPACK',
        'MEDIA_MULTIPART',
        'MEDIA_URLENCODED',
        'MEDIA_YAML',
        'MEDIA_XML',
        'MEDIA_JS',
        'MEDIA_HTML',
        'MEDIA_TEXT',
        'MEDIA_CSV',
        'MEDIA_JPEG',
        'MEDIA_PNG',
        'MEDIA_GIF',
        'MEDIA_BMP',
        'MEDIA_PARQUET',
        'DEFAULT_MEDIA_TYPE',
        'SINGLETON_HEADERS',
        'TRUE_STRINGS',
        'FALSE_STRINGS',
        '_DEFAULT_STATIC_MEDIA_TYPES',
        'PYTHON_VERSION',
    ],
)
def test_constants_match_falcon(name: str) -> None:
    assert getattr(constants, name) == getattr(falcon.constants, name)


def test_websocket_payload_type() -> None:
    assert [member.name for member in constants.WebSocketPayloadType] == [
        'TEXT',
        'BINARY',
    ]
    assert constants.WebSocketPayloadType.TEXT != constants.WebSocketPayloadType.BINARY


def test_combined_methods_end_with_websocket() -> None:
    assert constants.COMBINED_METHODS[-1] == 'WEBSOCKET'
    assert 'QUERY' in constants.COMBINED_METHODS


# --- statuses ---------------------------------------------------------------------


@pytest.mark.parametrize(
    'status',
    [
        200,
        404,
        299,
        999,
        http.HTTPStatus.IM_A_TEAPOT,
        '404',
        b'404',
        '200 OK',
        b'201 Created',
        '799',
        703,
    ],
)
def test_code_to_http_status_matches_falcon(status: Any) -> None:
    assert misc.code_to_http_status(status) == falcon.code_to_http_status(status)


@pytest.mark.parametrize('status', [99, 1000, 'abc', b'x', None, 3.5j])
def test_code_to_http_status_rejects(status: Any) -> None:
    with pytest.raises(ValueError):
        misc.code_to_http_status(status)


@pytest.mark.parametrize(
    'status', [200, http.HTTPStatus.NOT_FOUND, '404 Not Found', b'201 Created', '418']
)
def test_http_status_to_code_matches_falcon(status: Any) -> None:
    assert misc.http_status_to_code(status) == falcon.http_status_to_code(status)


@pytest.mark.parametrize('status', ['20', 'abc OK', 3.5, None])
def test_http_status_to_code_rejects(status: Any) -> None:
    with pytest.raises(ValueError):
        misc.http_status_to_code(status)


def test_get_http_status_is_deprecated() -> None:
    with pytest.warns(util.DeprecatedWarning):
        assert misc.get_http_status(404) == '404 Not Found'
    with pytest.warns(util.DeprecatedWarning):
        assert misc.get_http_status('299.0', default_reason='Odd') == '299 Odd'
    with pytest.warns(util.DeprecatedWarning), pytest.raises(ValueError):
        misc.get_http_status('x')
    with pytest.warns(util.DeprecatedWarning), pytest.raises(ValueError):
        misc.get_http_status(42)


# --- dates ------------------------------------------------------------------------


def test_dt_to_http() -> None:
    moment = datetime.datetime(1994, 11, 15, 12, 45, 26)
    assert misc.dt_to_http(moment) == 'Tue, 15 Nov 1994 12:45:26 GMT'
    assert misc.dt_to_http(moment) == falcon.dt_to_http(moment)
    aware = moment.replace(tzinfo=datetime.UTC)
    assert misc.dt_to_http(aware) == falcon.dt_to_http(aware)


def test_dt_to_http_converts_other_zones_to_utc() -> None:
    # NOTE(gyrfalcon): Falcon would write 14:45:26 GMT, the wrong instant.
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    moment = datetime.datetime(1994, 11, 15, 14, 45, 26, tzinfo=plus_two)
    assert misc.dt_to_http(moment) == 'Tue, 15 Nov 1994 12:45:26 GMT'


@given(st.datetimes(min_value=datetime.datetime(1000, 1, 1)))
def test_dt_to_http_round_trips(moment: datetime.datetime) -> None:
    text = misc.dt_to_http(moment)
    assert text == falcon.dt_to_http(moment)
    assert misc.http_date_to_dt(text) == moment.replace(
        microsecond=0, tzinfo=datetime.UTC
    )


def test_http_now_parses() -> None:
    now = misc.http_date_to_dt(misc.http_now())
    assert now.tzinfo is datetime.UTC


@pytest.mark.parametrize(
    'text',
    [
        'Sun, 06 Nov 1994 08:49:37 GMT',
        'Sunday, 06-Nov-94 08:49:37 GMT',
        'Sun Nov  6 08:49:37 1994',
        'Sun, 06-Nov-1994 08:49:37 GMT',
    ],
)
def test_http_date_to_dt_obsolete_formats(text: str) -> None:
    expected = datetime.datetime(1994, 11, 6, 8, 49, 37, tzinfo=datetime.UTC)
    assert misc.http_date_to_dt(text, obs_date=True) == expected
    assert falcon.http_date_to_dt(text, obs_date=True) == expected


def test_http_date_to_dt_rejects() -> None:
    with pytest.raises(ValueError):
        misc.http_date_to_dt('Sunday, 06-Nov-94 08:49:37 GMT')
    with pytest.raises(ValueError, match='does not match known formats'):
        misc.http_date_to_dt('yesterday', obs_date=True)


# --- misc ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ('params', 'kwargs'),
    [
        ({}, {}),
        (None, {}),
        ({'a': 1, 'b': True, 'c': False, 'd': 'x y'}, {}),
        ({'l': [1, 'a b', True]}, {}),
        ({'l': [1, 'a b', True, False]}, {'comma_delimited_lists': False}),
        ({'k/ey': 'v&al'}, {'prefix': False}),
    ],
)
def test_to_query_str_matches_falcon(params: Any, kwargs: dict[str, Any]) -> None:
    assert misc.to_query_str(params, **kwargs) == falcon.to_query_str(params, **kwargs)


@pytest.mark.parametrize(
    ('name', 'max_length'),
    [
        ('Bold Digit 𝟏', None),
        ('Ångström unit physics.pdf', None),
        ('Ångström unit physics.pdf', 19),
        ('.hidden', None),
        ('../../etc/passwd', None),
        ('report.verylongextension', 5),
        ('noext', 3),
        ('x.y', 0),
    ],
)
def test_secure_filename_matches_falcon(name: str, max_length: int | None) -> None:
    assert misc.secure_filename(name, max_length) == falcon.secure_filename(
        name, max_length
    )


def test_secure_filename_rejects() -> None:
    with pytest.raises(ValueError):
        misc.secure_filename('')
    with pytest.raises(ValueError):
        misc.secure_filename('abc', max_length=-1)


def test_secure_filename_examples() -> None:
    assert misc.secure_filename('Bold Digit 𝟏') == 'Bold_Digit_1'
    assert (
        misc.secure_filename('Ångström unit physics.pdf', 19) == 'A_ngstro_m_unit.pdf'
    )


def test_introspection_helpers() -> None:
    class Thing:
        def method(self, req: Any, resp: Any, *args: Any, ws: Any = None) -> None:
            pass

    def func(a: int, b: int, **kwargs: Any) -> None:
        pass

    assert misc.get_argnames(func) == ['a', 'b']
    assert misc.get_argnames(Thing().method) == ['req', 'resp', 'ws']
    assert misc.get_argnames(Thing.method) == ['req', 'resp', 'ws']
    assert misc._has_arg_name(Thing().method, 'ws')
    assert not misc._has_arg_name(func, 'ws')

    assert misc.is_python_func(func)
    assert misc.is_python_func(Thing().method)
    assert not misc.is_python_func(len)
    assert not misc.is_python_func(Thing)

    bound = misc.get_bound_method(Thing(), 'method')
    assert bound is not None and bound.__name__ == 'method'
    assert misc.get_bound_method(Thing(), 'missing') is None
    with pytest.raises(AttributeError):
        misc.get_bound_method(Thing, 'method')


# --- structures ---------------------------------------------------------------


def test_case_insensitive_dict() -> None:
    cid = structures.CaseInsensitiveDict({'Accept': 'json'}, Host='a')
    assert cid['aCCEPT'] == 'json'
    assert 'HOST' in cid
    assert list(cid) == ['Accept', 'Host']
    cid['ACCEPT'] = 'xml'
    assert list(cid) == ['ACCEPT', 'Host']
    assert dict(cid.lower_items()) == {'accept': 'xml', 'host': 'a'}
    assert cid == {'accept': 'xml', 'HOST': 'a'}
    assert cid != {'accept': 'json', 'host': 'a'}
    assert cid.__eq__(42) is NotImplemented
    duplicate = cid.copy()
    del cid['host']
    assert len(cid) == 1 and len(duplicate) == 2
    assert repr(duplicate) == "CaseInsensitiveDict({'ACCEPT': 'xml', 'Host': 'a'})"
    with pytest.raises(TypeError):
        hash(cid)


def test_context_attributes_and_mapping() -> None:
    context = structures.Context()
    context.user = 'ann'
    assert context['user'] == 'ann'
    assert 'user' in context and len(context) == 1 and list(context) == ['user']
    context['role'] = 'admin'
    assert context.role == 'admin'
    assert context.get('missing', 1) == 1
    assert dict(context.items()) == {'user': 'ann', 'role': 'admin'}
    assert list(context.keys()) == ['user', 'role']
    assert list(context.values()) == ['ann', 'admin']
    assert context.setdefault('n', 5) == 5
    assert context.pop('n') == 5
    copy = context.copy()
    assert copy == context and copy is not context
    assert context == {'user': 'ann', 'role': 'admin'}
    assert context != {'user': 'bob'}
    assert context.popitem() == ('role', 'admin')
    del context['user']
    context.update({'a': 1})
    assert repr(context) == "Context({'a': 1})" == str(context)
    context.clear()
    assert len(context) == 0
    with pytest.raises(TypeError):
        hash(context)


@pytest.mark.parametrize(
    'text', ['"abc"', 'W/"abc"', 'w/"abc"', 'abc', '"', '', 'W/abc', '""']
)
def test_etag_loads_matches_falcon(text: str) -> None:
    ours = structures.ETag.loads(text)
    theirs = falcon.ETag.loads(text)
    assert (str(ours), ours.is_weak, ours.dumps()) == (
        str(theirs),
        theirs.is_weak,
        theirs.dumps(),
    )


def test_etag_comparisons() -> None:
    strong = structures.ETag.loads('"v1"')
    weak = structures.ETag.loads('W/"v1"')
    assert strong == weak
    assert not strong.strong_compare(weak)
    assert strong.strong_compare(structures.ETag.loads('"v1"'))
    assert weak.dumps() == 'W/"v1"'


def test_timezone_gmt_is_deprecated() -> None:
    with pytest.warns(util.DeprecatedWarning):
        tz = util.TimezoneGMT()
    moment = datetime.datetime(2020, 1, 1, tzinfo=tz)
    assert tz.utcoffset(moment) == datetime.timedelta(0)
    assert tz.dst(moment) == datetime.timedelta(0)
    assert tz.tzname(moment) == 'GMT'


# --- deprecation ------------------------------------------------------------------


def test_deprecated_decorator() -> None:
    @util.deprecated('Use new() instead.')
    def old() -> int:
        return 1

    with pytest.warns(
        util.DeprecatedWarning,
        match=r'Call to deprecated function old\(\.\.\.\)\. Use new\(\) instead\.',
    ):
        assert old() == 1

    class Thing:
        @property
        @util.deprecated('Use y.', is_property=True)
        def x(self) -> int:
            return 2

    with pytest.warns(util.DeprecatedWarning, match='deprecated property x. Use y.'):
        assert Thing().x == 2


def test_deprecated_args() -> None:
    class Thing:
        @util.deprecated_args(allowed_positional=1)
        def method(self, a: int, b: int = 0) -> int:
            return a + b

    assert Thing().method(1, b=2) == 3
    with pytest.warns(util.DeprecatedWarning, match='more than 1 positional args'):
        assert Thing().method(1, 2) == 3

    @util.deprecated_args(allowed_positional=0, is_method=False)
    def func(a: int = 0) -> int:
        return a

    with pytest.warns(util.DeprecatedWarning, match='with positional args'):
        assert func(4) == 4


# --- sync ---------------------------------------------------------------------


async def test_create_task_keeps_a_reference() -> None:
    done = asyncio.Event()

    async def job() -> str:
        await asyncio.sleep(0)
        done.set()
        return 'ok'

    task = util.create_task(job(), name='job')
    assert task.get_name() == 'job'
    assert task in sync._background_tasks
    assert await task == 'ok'
    assert done.is_set()
    await asyncio.sleep(0)  # let the done callback run
    assert task not in sync._background_tasks


async def test_create_task_is_not_deprecated() -> None:
    # filterwarnings=error: a DeprecatedWarning here would fail the test.
    async def noop() -> None:
        pass

    await util.create_task(noop())
    assert util.get_running_loop() is asyncio.get_running_loop()


async def test_sync_to_async_helpers() -> None:
    def add(a: int, b: int = 0) -> int:
        return a + b

    assert await util.sync_to_async(add, 1, b=2) == 3
    assert await util.wrap_sync_to_async(add)(2, b=3) == 5
    assert await util.wrap_sync_to_async(add, threadsafe=False)(3, b=3) == 6
    assert await util.wrap_sync_to_async_unsafe(add)(4) == 4
    assert util.wrap_sync_to_async(add).__name__ == 'add'


def test_async_to_sync_and_runs_sync() -> None:
    async def twice(value: int) -> int:
        await asyncio.sleep(0)
        return value * 2

    assert util.async_to_sync(twice, 21) == 42
    assert util.runs_sync(twice)(value=4) == 8


def test_wrap_non_coroutine_unsafe(monkeypatch: pytest.MonkeyPatch) -> None:
    def plain() -> int:
        return 1

    async def coroutine_function() -> int:
        return 2

    monkeypatch.delenv('FALCON_ASGI_WRAP_NON_COROUTINES', raising=False)
    assert sync._wrap_non_coroutine_unsafe(plain) is plain
    monkeypatch.setenv('FALCON_ASGI_WRAP_NON_COROUTINES', '1')
    assert sync._wrap_non_coroutine_unsafe(None) is None
    assert sync._wrap_non_coroutine_unsafe(coroutine_function) is coroutine_function
    wrapped = sync._wrap_non_coroutine_unsafe(plain)
    assert wrapped is not plain and wrapped is not None
    assert util.async_to_sync(wrapped) == 1


# --- media types --------------------------------------------------------------


@pytest.mark.parametrize(
    'line',
    [
        'text/html; charset=utf-8',
        'text/html;charset="utf-8"; q=0.5',
        'multipart/form-data; boundary="a;b\\"c"',
        'application/json',
        ' text/plain ; FORMAT = flowed ',
        'a/b; x',
    ],
)
def test_parse_header_matches_falcon(line: str) -> None:
    assert mediatypes.parse_header(line) == falcon.parse_header(line)


accept_items = st.sampled_from(
    [
        '*/*',
        'application/json',
        'application/*',
        'text/*;q=0.5',
        'text/html;level=1',
        'text/html;q=0',
        'application/json;q=0.8',
        'application/xml;q=0.9',
        '*',
        'image/png;q=1.0',
    ]
)
media_candidates = st.sampled_from(
    [
        'application/json',
        'text/html',
        'text/html;level=1',
        'application/xml',
        'image/png',
        'text/plain',
    ]
)


@given(st.lists(accept_items, min_size=1, max_size=4), media_candidates)
def test_quality_matches_falcon(items: list[str], media_type: str) -> None:
    header = ', '.join(items)
    assert mediatypes.quality(media_type, header) == falcon_mediatypes.quality(
        media_type, header
    )


@given(
    st.lists(accept_items, min_size=1, max_size=4),
    st.lists(media_candidates, max_size=4),
)
def test_best_match_matches_falcon(items: list[str], candidates: list[str]) -> None:
    header = ', '.join(items)
    assert mediatypes.best_match(candidates, header) == falcon_mediatypes.best_match(
        candidates, header
    )


@pytest.mark.parametrize('header', ['text', 'text/html;q=2', 'text/*;q=x', '*/*;q=nan'])
def test_invalid_media_ranges(header: str) -> None:
    with pytest.raises(errors.InvalidMediaRange):
        mediatypes.quality('text/html', header)
    with pytest.raises(errors.InvalidMediaRange):
        mediatypes.best_match(['text/html'], header)


def test_invalid_media_type() -> None:
    with pytest.raises(errors.InvalidMediaType):
        mediatypes.quality('json', '*/*')


def test_util_exports_match_falcon() -> None:
    import falcon.util

    missing = set(falcon.util.__all__) - set(util.__all__)
    assert missing == set()


def test_custom_http_methods_env_var() -> None:
    assert constants._custom_methods(' purge, ,Foo ') == ['PURGE', 'FOO']
    assert os.environ.get('FALCON_CUSTOM_HTTP_METHODS') is None


def test_unset_sentinel_and_unhashable_callables() -> None:
    assert repr(misc._UNSET) == '<unset>'

    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

        def __call__(self, req: Any, ws: Any = None) -> None:
            pass

    assert misc._has_arg_name(Unhashable(), 'ws')


def test_case_insensitive_dict_equality_with_its_own_kind() -> None:
    one = structures.CaseInsensitiveDict({'A': 1})
    assert one == structures.CaseInsensitiveDict({'a': 1})


def test_parse_header_quoted_semicolons() -> None:
    value = 'form-data; name="a;b"; filename="x\\"y.txt"; flag'
    assert mediatypes.parse_header(value) == falcon.parse_header(value)
    assert mediatypes.parse_header(value)[1] == {'name': 'a;b', 'filename': 'x"y.txt'}


def test_quality_parameter_values_must_match() -> None:
    assert mediatypes.quality('text/html;level=2', 'text/html;level=1') == 0.0
    assert mediatypes.quality('text/html;level=1', 'text/html;level=1;q=0.3') == 0.3


def test_async_to_sync_recovers_from_a_closed_loop() -> None:
    async def one() -> int:
        return 1

    assert util.async_to_sync(one) == 1
    sync._runner.close()
    assert util.async_to_sync(one) == 1
