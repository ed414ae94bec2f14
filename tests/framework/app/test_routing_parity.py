"""The compiled router against Falcon 4.4's, on random route tables.

Hypothesis builds route tables out of literal, field, converter, compound and
``path`` segments, adds them to both routers, and checks that both accept or
refuse each template and route every random path to the same template with
the same field values.
"""

from __future__ import annotations

import uuid
from typing import Any

import falcon.routing
import pytest
from hypothesis import given, settings, strategies as st

import gyrfalcon.routing


class _Resource:
    def __init__(self, name: str) -> None:
        self.name = name

    def on_get(self, req: Any, resp: Any, **kwargs: Any) -> None:
        pass


_NAMES = ('a', 'b')
_CONVERTERS = ('', ':int', ':int(min=2)', ':int(2)', ':float', ':uuid', ':re("a+")')


@st.composite
def _segment(draw: st.DrawFn, index: int) -> str:
    kind = draw(st.sampled_from(['literal', 'field', 'compound', 'path']))
    name = f'{draw(st.sampled_from(_NAMES))}{index}'
    if kind == 'literal':
        return draw(st.sampled_from(['x', 'y', 'xy', 'x.y', '']))
    if kind == 'field':
        return '{' + name + draw(st.sampled_from(_CONVERTERS)) + '}'
    if kind == 'path':
        return '{' + name + ':path}'
    shape = draw(st.sampled_from(['{0}.{1}', 'v{0}', '{0}-{1}', '{0}.{1}.x']))
    first = '{' + name + draw(st.sampled_from(['', ':int'])) + '}'
    return shape.format(
        first, '{' + name + 'z' + draw(st.sampled_from(_CONVERTERS)) + '}'
    )


@st.composite
def _template(draw: st.DrawFn) -> str:
    count = draw(st.integers(min_value=1, max_value=4))
    return '/' + '/'.join(draw(_segment(i)) for i in range(count))


_PATH_SEGMENTS = (
    'x',
    'y',
    'xy',
    'x.y',
    '',
    '1',
    '12',
    '3.5',
    '1-2',
    'a-7',
    'aaa',
    'nan',
    'v1',
    'v1.x',
    str(uuid.UUID(int=7)),
)


def _build(router: Any, templates: list[str]) -> None:
    for template in templates:
        router.add_route(template, _Resource(template))


def _outcome(router_class: type, templates: list[str]) -> str | None:
    try:
        _build(router_class(), templates)
    except ValueError as ex:
        return type(ex).__name__
    return None


def _route(router: Any, path: str) -> tuple[str, dict[str, Any]] | None:
    found = router.find(path)
    if found is None:
        return None
    resource, _, params, template = found
    assert resource.name == template
    return template, params


@settings(max_examples=300, deadline=None)
@given(
    candidates=st.lists(_template(), min_size=1, max_size=7),
    paths=st.lists(
        st.lists(st.sampled_from(_PATH_SEGMENTS), max_size=5), min_size=1, max_size=12
    ),
)
def test_same_routes_as_falcon(candidates: list[str], paths: list[list[str]]) -> None:
    accepted: list[str] = []
    for template in candidates:
        ours = _outcome(gyrfalcon.routing.CompiledRouter, accepted + [template])
        theirs = _outcome(falcon.routing.CompiledRouter, accepted + [template])
        assert ours == theirs, (accepted, template)
        if ours is None:
            accepted.append(template)

    ours_router = gyrfalcon.routing.CompiledRouter()
    theirs_router = falcon.routing.CompiledRouter()
    _build(ours_router, accepted)
    _build(theirs_router, accepted)
    for segments in paths:
        path = '/' + '/'.join(segments)
        assert _route(ours_router, path) == _route(theirs_router, path), path


@pytest.mark.parametrize(
    'template',
    [
        '/{x}/{x}',
        '/{1x}',
        '/{class}',
        '/{}',
        '/{x:}',
        '/{x:nope}',
        '/{x:int(0)}',
        '/{x:int("a", "b", "c", "d")}',
        '/a b',
        '/{x:path}/more',
        '/a/{x:path}.json',
        '/{x:re("(")}',
    ],
)
def test_refused_like_falcon(template: str) -> None:
    with pytest.raises(falcon.routing.compiled.UnacceptableRouteError) as theirs:
        falcon.routing.CompiledRouter().add_route(template, _Resource(template))
    with pytest.raises(gyrfalcon.routing.UnacceptableRouteError) as ours:
        gyrfalcon.routing.CompiledRouter().add_route(template, _Resource(template))
    assert str(ours.value) == str(theirs.value)
