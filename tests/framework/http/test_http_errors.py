"""HTTP errors, statuses and redirects, compared with Falcon 4.4's."""

from __future__ import annotations

import datetime
import http
import json
import warnings
from typing import Any

import falcon
import falcon.errors
import falcon.redirects
import pytest

import gyrfalcon.errors as errors
from gyrfalcon import redirects
from gyrfalcon.http_error import HTTPError
from gyrfalcon.http_status import HTTPStatus
from gyrfalcon.media.json import _STDLIB, JSONHandler
from gyrfalcon.util import DeprecatedWarning

# Classes whose constructor takes only the common keyword arguments.
SIMPLE_ERRORS = [
    'HTTPBadRequest',
    'HTTPForbidden',
    'HTTPNotFound',
    'HTTPRouteNotFound',
    'HTTPNotAcceptable',
    'HTTPConflict',
    'HTTPGone',
    'HTTPLengthRequired',
    'HTTPPreconditionFailed',
    'HTTPContentTooLarge',
    'HTTPPayloadTooLarge',
    'HTTPUriTooLong',
    'HTTPUnsupportedMediaType',
    'HTTPUnprocessableEntity',
    'HTTPLocked',
    'HTTPFailedDependency',
    'HTTPPreconditionRequired',
    'HTTPTooManyRequests',
    'HTTPRequestHeaderFieldsTooLarge',
    'HTTPUnavailableForLegalReasons',
    'HTTPInternalServerError',
    'HTTPNotImplemented',
    'HTTPBadGateway',
    'HTTPServiceUnavailable',
    'HTTPGatewayTimeout',
    'HTTPVersionNotSupported',
    'HTTPInsufficientStorage',
    'HTTPLoopDetected',
    'HTTPNetworkAuthenticationRequired',
    'HTTPUnauthorized',
    'MediaValidationError',
]

# Same cases, built with the other constructors: (name, args, kwargs).
SPECIAL_ERRORS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ('HTTPMethodNotAllowed', (['GET', 'PUT'],), {}),
    ('HTTPMethodNotAllowed', (('GET',),), {'headers': {'X-A': '1'}}),
    ('HTTPRangeNotSatisfiable', (1234,), {}),
    ('HTTPRangeNotSatisfiable', (10,), {'headers': [('X-A', '1')]}),
    ('HTTPInvalidHeader', ('It must be a number.', 'X-Count'), {}),
    ('HTTPMissingHeader', ('X-Token',), {'code': 7}),
    ('HTTPInvalidParam', ('The value must be an integer.', 'limit'), {}),
    ('HTTPMissingParam', ('limit',), {'href': 'http://docs/limit'}),
    ('MediaNotFoundError', ('JSON',), {}),
    ('MediaMalformedError', ('MessagePack',), {}),
    ('HTTPUnauthorized', (), {'challenges': ['Bearer', 'Basic realm="x"']}),
    ('HTTPTooManyRequests', (), {'retry_after': 30}),
    ('HTTPServiceUnavailable', (), {'retry_after': datetime.datetime(2030, 1, 2)}),
    ('HTTPContentTooLarge', (), {'retry_after': '60', 'headers': {'X-A': '1'}}),
    ('MultipartParseError', (), {'description': 'bad boundary'}),
    ('MultipartParseError', (), {}),
]


def _summary(error: Any) -> dict[str, Any]:
    headers = error.headers
    if headers is not None and not isinstance(headers, dict):
        headers = dict(headers)
    return {
        'status': error.status,
        'status_code': error.status_code,
        'title': error.title,
        'description': error.description,
        'headers': headers,
        'link': error.link,
        'code': error.code,
        'dict': dict(error.to_dict()),
        'xml': error._to_xml(),
        'repr': repr(error),
        'str': str(error),
        'mro': [cls.__name__ for cls in type(error).__mro__ if cls.__name__[0] != '_'],
    }


@pytest.mark.parametrize('name', SIMPLE_ERRORS)
@pytest.mark.parametrize(
    'kwargs',
    [
        {},
        {'title': 'T', 'description': 'D <&>', 'code': 42},
        {'headers': {'X-A': 'a'}, 'href': 'http://x/ä b', 'href_text': 'Docs'},
        {'headers': [('X-B', 'b')], 'href': '/relative'},
    ],
)
def test_simple_errors_match_falcon(name: str, kwargs: dict[str, Any]) -> None:
    if name == 'HTTPPayloadTooLarge':
        with pytest.warns(Warning, match='use HTTPContentTooLarge instead'):
            ours = getattr(errors, name)(**kwargs)
        with pytest.warns(Warning, match='use HTTPContentTooLarge instead'):
            theirs = getattr(falcon, name)(**kwargs)
    else:
        ours = getattr(errors, name)(**kwargs)
        theirs = getattr(falcon, name)(**kwargs)
    assert _summary(ours) == _summary(theirs)
    assert isinstance(ours, HTTPError)


@pytest.mark.parametrize(('name', 'args', 'kwargs'), SPECIAL_ERRORS)
def test_special_errors_match_falcon(
    name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    ours = getattr(errors, name)(*args, **kwargs)
    theirs = getattr(falcon, name)(*args, **kwargs)
    assert _summary(ours) == _summary(theirs)


def test_error_classes_cover_falcon() -> None:
    names = {
        name
        for name, value in vars(falcon.errors).items()
        if isinstance(value, type) and issubclass(value, Exception)
    }
    assert names - set(errors.__all__) == set()


def test_media_malformed_error_names_its_cause() -> None:
    try:
        try:
            json.loads('{')
        except ValueError as ex:
            raise errors.MediaMalformedError('JSON') from ex
    except errors.MediaMalformedError as error:
        assert error.description == (
            'Could not parse JSON body - Expecting property name enclosed in '
            'double quotes: line 1 column 2 (char 1)'
        )
        assert error.to_dict()['description'] == error.description
    bare = errors.MediaMalformedError('JSON')
    bare.description = 'ignored'
    assert bare.description == 'Could not parse JSON body'


def test_headers_argument_is_not_mutated() -> None:
    headers = {'X-A': '1'}
    error = errors.HTTPMethodNotAllowed(['GET'], headers=headers)
    assert headers == {'X-A': '1'}
    assert error.headers == {'X-A': '1', 'Allow': 'GET'}


@pytest.mark.parametrize(
    'status',
    [400, '422 Unprocessable Entity', http.HTTPStatus.CONFLICT, b'409 Conflict', 299],
)
def test_http_error_status_forms(status: Any) -> None:
    ours = HTTPError(status)
    theirs = falcon.HTTPError(status)
    assert (ours.status, ours.status_code, ours.title) == (
        theirs.status,
        theirs.status_code,
        theirs.title,
    )


def test_http_error_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        HTTPError(400, 'title')  # type: ignore[misc]
    with pytest.raises(TypeError):
        errors.HTTPBadRequest('title')  # type: ignore[misc]


def test_to_json_default_and_custom_handler() -> None:
    error = errors.HTTPNotFound(description='missing', code=3)
    assert json.loads(error.to_json()) == {
        'title': '404 Not Found',
        'description': 'missing',
        'code': 3,
    }
    stdlib = JSONHandler(dumps=_STDLIB.dumps_str)
    assert (
        error.to_json(stdlib)
        == falcon.HTTPNotFound(description='missing', code=3).to_json()
    )


def test_to_dict_obj_type() -> None:
    class Ordered(dict[str, Any]):
        pass

    result = errors.HTTPForbidden(description='no').to_dict(Ordered)
    assert isinstance(result, Ordered)
    assert list(result) == ['title', 'description']


def test_to_xml_is_deprecated() -> None:
    error = errors.HTTPBadRequest(description='<bad>')
    with pytest.warns(DeprecatedWarning, match='serialize the output of to_dict'):
        xml = error.to_xml()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        assert xml == falcon.HTTPBadRequest(description='<bad>').to_xml()
    assert b'<description>&lt;bad&gt;</description>' in xml


def test_http_status() -> None:
    status = HTTPStatus(204, headers={'X-A': '1'}, text='gone')
    assert (status.status, status.status_code, status.headers, status.text) == (
        204,
        204,
        {'X-A': '1'},
        'gone',
    )
    assert HTTPStatus('304 Not Modified').status_code == 304
    assert repr(status) == '<HTTPStatus: 204>'


@pytest.mark.parametrize(
    'name',
    [
        'HTTPMovedPermanently',
        'HTTPFound',
        'HTTPSeeOther',
        'HTTPTemporaryRedirect',
        'HTTPPermanentRedirect',
    ],
)
def test_redirects_match_falcon(name: str) -> None:
    ours = getattr(redirects, name)('/new place')
    theirs = getattr(falcon.redirects, name)('/new place')
    assert isinstance(ours, HTTPStatus)
    assert (ours.status, ours.headers, ours.text) == (
        theirs.status,
        theirs.headers,
        theirs.text,
    )
    custom = getattr(redirects, name)('/a', headers={'location': '/b', 'X-A': '1'})
    assert custom.headers == {'location': '/b', 'X-A': '1'}


def test_framework_errors_keep_their_bases() -> None:
    assert issubclass(errors.HeaderNotSupported, ValueError)
    assert issubclass(errors.InvalidMediaRange, errors.InvalidMediaType)
    assert issubclass(errors.InvalidMediaType, ValueError)
    assert issubclass(errors.DelimiterError, OSError)
    assert issubclass(errors.OperationNotAllowed, ValueError)
    assert issubclass(errors.MultipartParseError, errors.MediaMalformedError)
    assert issubclass(errors.HTTPRouteNotFound, errors.HTTPNotFound)
    assert issubclass(errors.HTTPPayloadTooLarge, errors.HTTPContentTooLarge)
