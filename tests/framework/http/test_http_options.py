"""Request and response options, and the ``Forwarded`` header parser."""

from __future__ import annotations

import falcon
import pytest
from falcon.forwarded import _parse_forwarded_header as falcon_parse
from hypothesis import given, strategies as st

from gyrfalcon.forwarded import Forwarded, _parse_forwarded_header
from gyrfalcon.media import Handlers
from gyrfalcon.options import RequestOptions, ResponseOptions
from gyrfalcon.util import DeprecatedWarning


def test_request_options_defaults_match_falcon() -> None:
    ours, theirs = RequestOptions(), falcon.RequestOptions()
    for name in (
        'keep_blank_qs_values',
        'auto_parse_qs_csv',
        'strip_url_path_trailing_slash',
        'default_media_type',
        'auto_parse_form_urlencoded',
    ):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert isinstance(ours.media_handlers, Handlers)
    assert set(ours.media_handlers) == set(theirs.media_handlers)


def test_response_options_defaults_match_falcon() -> None:
    ours, theirs = ResponseOptions(), falcon.ResponseOptions()
    for name in (
        'secure_cookies_by_default',
        'default_media_type',
        'static_media_types',
        'xml_error_serialization',
    ):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert set(ours.media_handlers) == set(theirs.media_handlers)
    assert ours.static_media_types['.js'] == 'text/javascript'
    assert ours.static_media_types['.html'] == 'text/html'


def test_options_have_no_other_attributes() -> None:
    with pytest.raises(AttributeError):
        RequestOptions().unknown = 1  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        ResponseOptions().unknown = 1  # type: ignore[attr-defined]


def test_auto_parse_form_urlencoded_is_deprecated() -> None:
    options = RequestOptions()
    options.auto_parse_form_urlencoded = False  # no warning
    with pytest.warns(DeprecatedWarning, match='get_media'):
        options.auto_parse_form_urlencoded = True
    assert options.auto_parse_form_urlencoded is True


def test_options_are_independent() -> None:
    first, second = RequestOptions(), RequestOptions()
    assert first.media_handlers is not second.media_handlers


# --- Forwarded ------------------------------------------------------------------

forwarded_tokens = st.sampled_from(
    [
        'for=192.0.2.43',
        'for="[2001:db8:cafe::17]:4711"',
        'proto=HTTPS',
        'host=example.com',
        'by=203.0.113.60',
        'for=unknown',
        'for="_hidden"',
        'for="a\\"b"',
        'FOR=x',
        'ext=1',
        'garbage',
        '=',
        'for=',
        '"',
    ]
)
separators = st.sampled_from([';', ',', ', ', ' ; ', '', ' ', '\t,'])


@given(st.lists(st.tuples(forwarded_tokens, separators), max_size=6))
def test_forwarded_parser_matches_falcon(items: list[tuple[str, str]]) -> None:
    header = ''.join(token + separator for token, separator in items)

    def fields(elements: list[Forwarded]) -> list[tuple[str | None, ...]]:
        return [(e.src, e.dest, e.host, e.scheme) for e in elements]

    assert fields(_parse_forwarded_header(header)) == fields(falcon_parse(header))


def test_forwarded_examples() -> None:
    # RFC 7239 §4 examples.
    elements = _parse_forwarded_header(
        'for="_gazonk"; proto=http;by=203.0.113.43, for=192.0.2.43, '
        'For="[2001:db8:cafe::17]:4711"'
    )
    assert [(e.src, e.dest, e.scheme) for e in elements] == [
        ('_gazonk', '203.0.113.43', 'http'),
        ('192.0.2.43', None, None),
        ('[2001:db8:cafe::17]:4711', None, None),
    ]
    assert repr(elements[0]) == (
        "Forwarded(src='_gazonk', dest='203.0.113.43', scheme='http')"
    )
    assert _parse_forwarded_header('') == []
