"""The default router: converters, options, responders and matching rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import falcon.routing.converters as falcon_converters
import pytest

from gyrfalcon import constants
from gyrfalcon.routing import (
    CompiledRouter,
    SuffixedMethodNotFoundError,
    UnacceptableRouteError,
    compile_uri_template,
    converters,
    map_http_methods,
    set_default_responders,
)


class Things:
    def on_get(self, req: Any, resp: Any, **kw: Any) -> None:
        pass

    def on_post(self, req: Any, resp: Any, **kw: Any) -> None:
        pass

    def on_get_item(self, req: Any, resp: Any, **kw: Any) -> None:
        pass

    def on_websocket_item(self, req: Any, ws: Any, **kw: Any) -> None:
        pass


class AsyncThings:
    async def on_get(self, req: Any, resp: Any) -> None:
        pass


# -- converters ------------------------------------------------------------------

_CONVERTER_CASES = [
    ('IntConverter', (), ['7', '-3', ' 7', '7 ', '', 'x', '1_000', '٣']),
    ('IntConverter', (2,), ['7', '07', '123']),
    ('IntConverter', (None, 2, 5), ['1', '2', '5', '6']),
    ('FloatConverter', (), ['1.5', 'nan', 'inf', '-inf', ' 1', '1e3', 'x']),
    ('FloatConverter', (None, None, False), ['nan', 'inf', '2']),
    ('FloatConverter', (0.5, 1.5), ['0.4', '0.5', '1.5', '1.6']),
    (
        'DateTimeConverter',
        (),
        ['2024-01-02T03:04:05Z', '2024-01-02T03:04:05+02:00', 'x'],
    ),
    ('DateTimeConverter', ('%Y-%m-%d',), ['2024-01-02', '2024-1-2', '02-01-2024']),
    (
        'UUIDConverter',
        (),
        [
            str(uuid.UUID(int=1)),
            uuid.UUID(int=1).hex,
            'urn:uuid:' + str(uuid.UUID(int=1)),
            'x',
        ],
    ),
    ('RegexConverter', ('a+',), ['a', 'aaa', 'ab', '']),
    ('RegexConverter', (r'id(?P<n>\d+)?', 'n'), ['id12', 'id', 'x']),
]


@pytest.mark.parametrize(('name', 'args', 'values'), _CONVERTER_CASES)
def test_converters_match_falcon(
    name: str, args: tuple[Any, ...], values: list[str]
) -> None:
    ours = getattr(converters, name)(*args)
    theirs = getattr(falcon_converters, name)(*args)
    for value in values:
        # NOTE(gyrfalcon): repr() so that nan compares equal to nan.
        assert repr(ours.convert(value)) == repr(theirs.convert(value)), value


def test_path_converter_joins_segments() -> None:
    assert converters.PathConverter().convert(['a', 'b', '']) == 'a/b/'
    assert converters.consumes_multiple_segments(converters.PathConverter)
    assert not converters.consumes_multiple_segments(converters.IntConverter())


@pytest.mark.parametrize(
    ('args', 'message'),
    [
        ((b'a',), 'only str patterns'),
        (('(',), 'invalid regex pattern'),
        (('a', 'g'), 'does not contain named group'),
    ],
)
def test_regex_converter_rejects_bad_patterns(
    args: tuple[Any, ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        converters.RegexConverter(*args)


def test_int_converter_rejects_zero_digits() -> None:
    with pytest.raises(ValueError, match='num_digits'):
        converters.IntConverter(num_digits=0)


def test_datetime_converter_default_is_aware() -> None:
    converted = converters.DateTimeConverter().convert('2024-01-02T03:04:05Z')
    assert converted == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


# -- matching ----------------------------------------------------------------------


def _find(
    router: CompiledRouter, path: str
) -> tuple[str | None, dict[str, Any]] | None:
    found = router.find(path)
    return None if found is None else (found[3], found[2])


def test_field_values_are_converted() -> None:
    router = CompiledRouter()
    router.add_route('/teams/{team}/members/{id:int(min=1)}', Things())
    router.add_route('/at/{when:dt("%Y-%m-%d")}/{key:uuid}', Things())
    router.add_route('/files/{rest:path}', Things())
    key = uuid.UUID(int=5)

    assert _find(router, '/teams/red/members/7') == (
        '/teams/{team}/members/{id:int(min=1)}',
        {'team': 'red', 'id': 7},
    )
    assert _find(router, '/teams/red/members/0') is None
    assert _find(router, f'/at/2024-05-06/{key}') == (
        '/at/{when:dt("%Y-%m-%d")}/{key:uuid}',
        {'when': datetime(2024, 5, 6), 'key': key},
    )
    assert _find(router, '/files/a/b/c.txt') == (
        '/files/{rest:path}',
        {'rest': 'a/b/c.txt'},
    )
    assert _find(router, '/files/') == ('/files/{rest:path}', {'rest': ''})
    assert _find(router, '/files') is None


def test_literals_win_over_compound_segments_over_fields() -> None:
    router = CompiledRouter()
    router.add_route('/items/{id}', Things())
    router.add_route('/items/{id}.{ext}', Things())
    router.add_route('/items/new', Things())

    assert _find(router, '/items/new') == ('/items/new', {})
    assert _find(router, '/items/7.json') == (
        '/items/{id}.{ext}',
        {'id': '7', 'ext': 'json'},
    )
    assert _find(router, '/items/7') == ('/items/{id}', {'id': '7'})


def test_abandoned_branch_leaves_no_field_behind() -> None:
    router = CompiledRouter()
    router.add_route('/x/{a:int}.json/y', Things())
    router.add_route('/x/{c}/z', Things())

    assert _find(router, '/x/1.json/y') == ('/x/{a:int}.json/y', {'a': 1})
    assert _find(router, '/x/1.json/z') == ('/x/{c}/z', {'c': '1.json'})


def test_adding_a_template_again_replaces_the_route() -> None:
    router = CompiledRouter()
    first, second = Things(), Things()
    router.add_route('/a/{b}', first)
    assert router.find('/a/1')[0] is first  # type: ignore[index]
    router.add_route('/a/{b}', second)
    assert router.find('/a/1')[0] is second  # type: ignore[index]


def test_conflicting_fields_are_refused() -> None:
    router = CompiledRouter()
    router.add_route('/parents/{id}', Things())
    with pytest.raises(UnacceptableRouteError, match='conflicts'):
        router.add_route('/parents/{parent_id}/children', Things())
    with pytest.raises(UnacceptableRouteError, match='conflicts'):
        router.add_route('/parents/{id:int}', Things())


def test_refused_route_leaves_the_tree_untouched() -> None:
    router = CompiledRouter()
    with pytest.raises(UnacceptableRouteError, match='consume all the path'):
        router.add_route('/a/{b}/{c:path}/d', Things())
    # NOTE(gyrfalcon): Falcon keeps a dangling '/a/{b}' node here, which
    #   would make the next template conflict.
    router.add_route('/a/{other}', Things())
    assert _find(router, '/a/1') == ('/a/{other}', {'other': '1'})


def test_compilation_is_deferred_unless_requested() -> None:
    router = CompiledRouter()
    router.add_route('/a', Things())
    assert router._find == router._compile_and_find
    router.add_route('/b/{c:int}', Things(), compile=True)
    assert router._find != router._compile_and_find
    source = router.finder_src
    assert source.startswith('def find(path, params):')
    assert "== 'b'" in source


def test_custom_converter() -> None:
    class Upper(converters.BaseConverter):
        def __init__(self, suffix: str = '') -> None:
            self.suffix = suffix

        def convert(self, value: str) -> str | None:
            return value.upper() + self.suffix if value.isalpha() else None

    router = CompiledRouter()
    router.options.converters['upper'] = Upper
    router.add_route('/shout/{word:upper("!")}', Things())
    assert _find(router, '/shout/hey') == ('/shout/{word:upper("!")}', {'word': 'HEY!'})
    assert _find(router, '/shout/h3y') is None


def test_converter_names_are_checked() -> None:
    router = CompiledRouter()
    with pytest.raises(ValueError, match='Invalid converter name'):
        router.options.converters['not ok'] = converters.IntConverter
    with pytest.raises(AttributeError, match='update it in place'):
        router.options.converters = {}  # type: ignore[misc]


def test_converter_arguments_must_be_literals() -> None:
    router = CompiledRouter()
    with pytest.raises(UnacceptableRouteError, match='Cannot instantiate') as info:
        router.add_route('/{x:int(__import__("os"))}', Things())
    assert isinstance(info.value.__cause__, ValueError)


def test_responder_kinds_follow_the_asgi_flag() -> None:
    with pytest.raises(TypeError, match='non-blocking async'):
        CompiledRouter().add_route('/', Things(), _asgi=True)
    with pytest.raises(TypeError, match='regular synchronous'):
        CompiledRouter().add_route('/', AsyncThings())
    CompiledRouter().add_route('/', AsyncThings(), _asgi=True)


# -- responders ----------------------------------------------------------------------


def test_map_http_methods_with_and_without_suffix() -> None:
    resource = Things()
    assert set(map_http_methods(resource)) == {'GET', 'POST'}
    mapped = map_http_methods(resource, suffix='item')
    assert mapped == {
        'GET': resource.on_get_item,
        'WEBSOCKET': resource.on_websocket_item,
    }
    with pytest.raises(SuffixedMethodNotFoundError):
        map_http_methods(resource, suffix='nothing')


def test_default_responders_fill_every_method() -> None:
    resource = Things()
    method_map = map_http_methods(resource)
    set_default_responders(method_map, asgi=True)
    assert set(method_map) == set(constants.COMBINED_METHODS)
    assert method_map['GET'] == resource.on_get
    assert method_map['OPTIONS'] is not method_map['PUT']
    assert method_map['WEBSOCKET'] is not method_map['PUT']


def test_on_request_serves_the_other_methods() -> None:
    class Catchall:
        async def on_get(self, req: Any, resp: Any) -> None:
            pass

        async def on_request(self, req: Any, resp: Any) -> None:
            pass

    router = CompiledRouter()
    router.options.default_to_on_request = True
    resource = Catchall()
    router.add_route('/', resource, _asgi=True)
    method_map = router.find('/')[1]  # type: ignore[index]
    assert method_map['GET'] == resource.on_get
    assert method_map['PATCH'] == resource.on_request
    assert method_map['WEBSOCKET'] != resource.on_request
    assert method_map['OPTIONS'] != resource.on_request


def test_compile_uri_template() -> None:
    fields, pattern = compile_uri_template('/books/{isbn}/pages/{page}/')
    assert fields == {'isbn', 'page'}
    match = pattern.match('/BOOKS/978-0/pages/12')
    assert match is not None
    assert match.groupdict() == {'isbn': '978-0', 'page': '12'}
    assert pattern.match('/books/978/0/pages/12') is None
    assert compile_uri_template('/')[1].match('/')
    with pytest.raises(TypeError):
        compile_uri_template(b'/x')  # type: ignore[arg-type]
    with pytest.raises(ValueError, match='start with'):
        compile_uri_template('x')
    with pytest.raises(ValueError, match='//'):
        compile_uri_template('/a//b')
