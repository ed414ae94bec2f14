"""Every branch of ``Request.get_param*()``, compared with Falcon 4.4.

Each case calls the same getter with the same arguments on a Gyrfalcon and
a Falcon request built from the same query string, and expects the same
value (and the same ``store``), or an error with the same class name and
the same serialized body.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import falcon.asgi
import pytest
from http_support import make_scope, no_receive

from gyrfalcon import errors
from gyrfalcon.asgi.request import Request
from gyrfalcon.media.base import BaseHandler
from gyrfalcon.options import RequestOptions

QUERY = (
    b'id=42&neg=-7&ids=1&ids=2&word=abc&pi=3.14&big=1e400&u='
    b'9b2f1d5c-6c6f-4a0e-8a41-0c1d8e4f1a2b&badu=xyz&t=true&f=no&blank=&maybe=perhaps'
    b'&csv=a,b,c&pipes=a|b|c&spaces=a%20b%20c&when=2024-05-06T07:08:09%2B0200'
    b'&day=2024-05-06&badday=06/05/2024&doc=%7B%22a%22%3A%5B1%2C2%5D%7D&baddoc=%7B'
    b'&pairs=a,1,b,2&odd=a,1,b&obj%5Bx%5D=1&obj%5By%5D=2&obj%5By%5D=3'
    b'&twice=1&twice=2'
)

# (getter, positional args, keyword args)
CASES: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ('get_param', ('word',), {}),
    ('get_param', ('missing',), {}),
    ('get_param', ('missing',), {'default': 'd'}),
    ('get_param', ('missing',), {'required': True}),
    ('get_param', ('ids',), {}),
    ('get_param', ('ids',), {'allow_multiple': False}),
    ('get_param', ('blank',), {}),
    ('get_param_as_int', ('id',), {}),
    ('get_param_as_int', ('neg',), {'min_value': -10, 'max_value': 0}),
    ('get_param_as_int', ('id',), {'min_value': 50}),
    ('get_param_as_int', ('id',), {'max_value': 41}),
    ('get_param_as_int', ('word',), {}),
    ('get_param_as_int', ('pi',), {}),
    ('get_param_as_int', ('ids',), {}),
    ('get_param_as_int', ('ids',), {'allow_multiple': False}),
    ('get_param_as_int', ('missing',), {'default': 5}),
    ('get_param_as_int', ('missing',), {'required': True}),
    ('get_param_as_float', ('pi',), {}),
    ('get_param_as_float', ('id',), {'min_value': 42.5}),
    ('get_param_as_float', ('pi',), {'max_value': 3.0}),
    ('get_param_as_float', ('big',), {}),
    ('get_param_as_float', ('word',), {}),
    ('get_param_as_float', ('missing',), {'default': 1.5}),
    ('get_param_as_uuid', ('u',), {}),
    ('get_param_as_uuid', ('badu',), {}),
    ('get_param_as_uuid', ('missing',), {'required': True}),
    ('get_param_as_uuid', ('missing',), {'default': uuid.UUID(int=1)}),
    ('get_param_as_bool', ('t',), {}),
    ('get_param_as_bool', ('f',), {}),
    ('get_param_as_bool', ('blank',), {}),
    ('get_param_as_bool', ('blank',), {'blank_as_true': False}),
    ('get_param_as_bool', ('maybe',), {}),
    ('get_param_as_bool', ('id',), {}),
    ('get_param_as_bool', ('missing',), {'default': False}),
    ('get_param_as_bool', ('missing',), {'required': True}),
    ('get_param_as_bool', ('twice',), {'allow_multiple': False}),
    ('get_param_as_list', ('ids',), {}),
    ('get_param_as_list', ('ids',), {'transform': int}),
    ('get_param_as_list', ('csv',), {}),
    ('get_param_as_list', ('csv',), {'delimiter': ','}),
    ('get_param_as_list', ('pipes',), {'delimiter': 'pipeDelimited'}),
    ('get_param_as_list', ('pipes',), {'delimiter': '|'}),
    ('get_param_as_list', ('spaces',), {'delimiter': 'spaceDelimited'}),
    ('get_param_as_list', ('spaces',), {'delimiter': ' ', 'transform': str.upper}),
    ('get_param_as_list', ('word',), {'transform': int}),
    ('get_param_as_list', ('missing',), {'default': ['x']}),
    ('get_param_as_list', ('missing',), {'required': True}),
    ('get_param_as_datetime', ('when',), {}),
    ('get_param_as_datetime', ('day',), {'format_string': '%Y-%m-%d'}),
    ('get_param_as_datetime', ('day',), {}),
    ('get_param_as_datetime', ('missing',), {'required': True}),
    ('get_param_as_datetime', ('missing',), {}),
    ('get_param_as_date', ('day',), {}),
    ('get_param_as_date', ('badday',), {}),
    ('get_param_as_date', ('badday',), {'format_string': '%d/%m/%Y'}),
    ('get_param_as_date', ('missing',), {'default': datetime.date(2000, 1, 1)}),
    ('get_param_as_date', ('missing',), {'required': True}),
    ('get_param_as_date', ('twice',), {'allow_multiple': False}),
    ('get_param_as_json', ('doc',), {}),
    ('get_param_as_json', ('baddoc',), {}),
    ('get_param_as_json', ('blank',), {}),
    ('get_param_as_json', ('missing',), {'default': {}}),
    ('get_param_as_json', ('missing',), {'required': True}),
    ('get_param_as_media', ('doc',), {}),
    ('get_param_as_media', ('baddoc',), {'media_type': 'application/json'}),
    ('get_param_as_media', ('missing',), {'default': 1}),
    ('get_param_as_dict', ('pairs',), {}),
    ('get_param_as_dict', ('odd',), {}),
    ('get_param_as_dict', ('obj',), {'deep_object': True}),
    ('get_param_as_dict', ('obj',), {'deep_object': True, 'allow_multiple': False}),
    ('get_param_as_dict', ('missing',), {'deep_object': True}),
    ('get_param_as_dict', ('missing',), {'deep_object': True, 'required': True}),
    ('get_param_as_dict', ('missing',), {'default': {'a': 'b'}}),
    ('get_param_as_dict', ('missing',), {'required': True}),
    ('get_param_as_dict', ('pipes',), {'delimiter': '|'}),
]


def _call(req: Any, getter: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    store: dict[str, Any] = {}
    try:
        value = getattr(req, getter)(*args, store=store, **kwargs)
    except Exception as ex:
        to_dict = getattr(ex, 'to_dict', None)
        return ('error', type(ex).__name__, to_dict() if to_dict else str(ex))
    return ('value', value, store)


def _options(module: Any, csv: bool) -> Any:
    options = module()
    options.auto_parse_qs_csv = csv
    return options


@pytest.mark.parametrize('csv', [False, True], ids=['plain', 'csv'])
@pytest.mark.parametrize(('getter', 'args', 'kwargs'), CASES)
def test_getter_matches_falcon(
    getter: str, args: tuple[Any, ...], kwargs: dict[str, Any], csv: bool
) -> None:
    scope = make_scope('/', QUERY)
    ours = Request(scope, no_receive, options=_options(RequestOptions, csv))
    theirs = falcon.asgi.Request(
        scope, no_receive, options=_options(falcon.RequestOptions, csv)
    )
    assert _call(ours, getter, args, kwargs) == _call(theirs, getter, args, kwargs)


def test_typed_values() -> None:
    req = Request(make_scope('/', QUERY), no_receive)
    assert req.get_param_as_int('id') == 42
    assert req.get_param_as_float('pi') == 3.14
    assert req.get_param_as_uuid('u') == uuid.UUID(
        '9b2f1d5c-6c6f-4a0e-8a41-0c1d8e4f1a2b'
    )
    assert req.get_param_as_bool('t') is True
    assert req.get_param_as_bool('f') is False
    assert req.get_param_as_list('ids', int) == [1, 2]
    assert req.get_param_as_datetime('when') == datetime.datetime(
        2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone(datetime.timedelta(hours=2))
    )
    assert req.get_param_as_date('day') == datetime.date(2024, 5, 6)
    assert req.get_param_as_json('doc') == {'a': [1, 2]}
    assert req.get_param_as_dict('obj', deep_object=True) == {'x': '1', 'y': '2'}
    assert req.has_param('blank')
    assert not req.has_param('missing')


def test_error_messages() -> None:
    req = Request(make_scope('/', QUERY), no_receive)
    with pytest.raises(errors.HTTPInvalidParam) as info:
        req.get_param_as_int('id', max_value=10)
    assert info.value.to_dict() == {
        'title': 'Invalid parameter',
        'description': 'The "id" parameter is invalid. The value may not exceed 10',
    }
    with pytest.raises(errors.HTTPMissingParam) as missing:
        req.get_param('nope', required=True)
    assert missing.value.description == 'The "nope" parameter is required.'
    assert missing.value.status_code == 400


def test_store_keeps_converted_values() -> None:
    req = Request(make_scope('/', QUERY), no_receive)
    req.get_param_as_int('id', store=req.context)
    req.get_param_as_bool('t', store=req.context)
    req.get_param_as_date('day', store=req.context)
    assert req.context.id == 42
    assert req.context.t is True
    assert req.context.day == datetime.date(2024, 5, 6)


def test_unsupported_delimiter() -> None:
    req = Request(make_scope('/', QUERY), no_receive)
    with pytest.raises(ValueError, match='Unsupported delimiter'):
        req.get_param_as_list('word', delimiter=';')


def test_json_param_uses_registered_handler() -> None:
    class Upper(BaseHandler):
        def deserialize(
            self, stream: Any, content_type: str | None, content_length: int | None
        ) -> Any:
            return stream.read().decode().upper()

    options = RequestOptions()
    options.media_handlers['application/json'] = Upper()
    req = Request(make_scope('/', b'j=abc'), no_receive, options=options)
    assert req.get_param_as_json('j') == 'ABC'

    # Without a registered JSON handler, the default one is used.
    options.media_handlers.clear()
    with pytest.raises(errors.HTTPInvalidParam):
        req.get_param_as_json('j')
    listed = Request(make_scope('/', b'j=[1]'), no_receive, options=options)
    assert listed.get_param_as_json('j') == [1]
