"""``gyrfalcon.util.uri``: encoding, decoding, query strings, hosts.

Each function is checked on hand-picked cases and, with Hypothesis, against
Falcon 4.4's own implementation: identical results are the parity proof.
"""

from __future__ import annotations

import pytest
from falcon.util import uri as falcon_uri
from hypothesis import given, strategies as st

from gyrfalcon.util import uri

# Characters that matter to URIs, plus some non-ASCII ones.
uri_text = st.lists(
    st.sampled_from(
        list('abcXYZ019-._~:/?#[]@!$&\'()*+,;=% "<>\\^`{|}\x00\x7féü中😀')
        + ['%2', '%20', '%2C', '%zz', '%e2%82%ac', '%C3', '%A9', '+']
    ),
    max_size=20,
).map(''.join)


class TestEncode:
    @pytest.mark.parametrize(
        ('value', 'expected'),
        [
            ('http://example.com/a b', 'http://example.com/a%20b'),
            ('/ä?x=1&y=[2]', '/%C3%A4?x=1&y=[2]'),
            ('100%', '100%25'),
            ('', ''),
        ],
    )
    def test_encode(self, value: str, expected: str) -> None:
        assert uri.encode(value) == expected

    def test_encode_value_escapes_delimiters(self) -> None:
        assert uri.encode_value('a/b?c=d&e+f~g') == 'a%2Fb%3Fc%3Dd%26e%2Bf~g'

    def test_check_escaped_keeps_encoded_input(self) -> None:
        assert uri.encode_check_escaped('/a%20b?x=%26') == '/a%20b?x=%26'
        assert uri.encode_value_check_escaped('a%2Fb') == 'a%2Fb'

    def test_check_escaped_encodes_bare_percent(self) -> None:
        assert uri.encode_check_escaped('/a%2 b') == '/a%252%20b'
        assert uri.encode_value_check_escaped('100%') == '100%25'

    @given(uri_text)
    def test_same_as_falcon(self, value: str) -> None:
        assert uri.encode(value) == falcon_uri.encode(value)
        assert uri.encode_value(value) == falcon_uri.encode_value(value)
        assert uri.encode_check_escaped(value) == falcon_uri.encode_check_escaped(value)
        assert uri.encode_value_check_escaped(
            value
        ) == falcon_uri.encode_value_check_escaped(value)


class TestDecode:
    @pytest.mark.parametrize(
        ('value', 'plus', 'expected'),
        [
            ('a+b%20c', True, 'a b c'),
            ('a+b%20c', False, 'a+b c'),
            ('%E2%82%AC', True, '€'),
            ('%e2%82%ac', True, '€'),
            ('%zz%2', True, '%zz%2'),
            ('%C3', True, '\ufffd'),
            ('no escapes', True, 'no escapes'),
        ],
    )
    def test_decode(self, value: str, plus: bool, expected: str) -> None:
        assert uri.decode(value, unquote_plus=plus) == expected

    @given(uri_text, st.booleans())
    def test_same_as_falcon(self, value: str, plus: bool) -> None:
        assert uri.decode(value, unquote_plus=plus) == falcon_uri.decode(
            value, unquote_plus=plus
        )


class TestParseQueryString:
    def test_repeated_names_make_lists(self) -> None:
        assert uri.parse_query_string('a=1&b=2&a=3') == {'a': ['1', '3'], 'b': '2'}

    def test_blank_values(self) -> None:
        assert uri.parse_query_string('a=&b&c=1') == {'c': '1'}
        assert uri.parse_query_string('a=&b&c=1', keep_blank=True) == {
            'a': '',
            'b': '',
            'c': '1',
        }

    def test_csv(self) -> None:
        assert uri.parse_query_string('t=1,2,,3', csv=True) == {'t': ['1', '2', '3']}
        assert uri.parse_query_string('t=1,,2', keep_blank=True, csv=True) == {
            't': ['1', '', '2']
        }
        # An encoded comma never splits.
        assert uri.parse_query_string('t=1%2C2', csv=True) == {'t': '1,2'}
        # Without csv, commas are plain characters.
        assert uri.parse_query_string('t=1,2') == {'t': '1,2'}

    def test_decoding(self) -> None:
        assert uri.parse_query_string('n%20a=v+1&x=%E2%82%AC') == {
            'n a': 'v 1',
            'x': '€',
        }

    def test_name_without_value_but_value_without_name(self) -> None:
        assert uri.parse_query_string('=v') == {'': 'v'}
        assert uri.parse_query_string('=') == {}
        assert uri.parse_query_string('=', keep_blank=True) == {'': ''}
        assert uri.parse_query_string('&&', keep_blank=True) == {}

    @given(
        st.lists(
            st.tuples(
                st.sampled_from(['a', 'b', '', 'a%20b', 'c+d', 'x%2']),
                st.sampled_from(['', '=', '=1', '=1,2', '=,', '=%2C', '=a+b', '=1,,3']),
            ),
            max_size=6,
        ),
        st.booleans(),
        st.booleans(),
    )
    def test_same_as_falcon(
        self, fields: list[tuple[str, str]], keep_blank: bool, csv: bool
    ) -> None:
        query = '&'.join(name + value for name, value in fields)
        assert uri.parse_query_string(
            query, keep_blank=keep_blank, csv=csv
        ) == falcon_uri.parse_query_string(query, keep_blank=keep_blank, csv=csv)


class TestParseHost:
    @pytest.mark.parametrize(
        ('host', 'expected'),
        [
            ('example.org', ('example.org', None)),
            ('example.org:8080', ('example.org', 8080)),
            ('127.0.0.1:80', ('127.0.0.1', 80)),
            ('[::1]', ('::1', None)),
            ('[::1]:443', ('::1', 443)),
            ('::1', ('::1', None)),
            ('fe80::1:2', ('fe80::1:2', None)),
        ],
    )
    def test_parse_host(self, host: str, expected: tuple[str, int | None]) -> None:
        assert uri.parse_host(host) == expected
        assert uri.parse_host(host) == falcon_uri.parse_host(host)

    def test_default_port(self) -> None:
        assert uri.parse_host('example.org', default_port=443) == ('example.org', 443)

    def test_invalid_port(self) -> None:
        with pytest.raises(ValueError):
            uri.parse_host('example.org:http')


class TestUnquoteString:
    @pytest.mark.parametrize(
        ('quoted', 'expected'),
        [
            ('"abc"', 'abc'),
            ('abc', 'abc'),
            ('"', '"'),
            ('"a\\"b"', 'a"b'),
            ('"a\\\\b"', 'a\\b'),
            ('"\\\\\\""', '\\"'),
        ],
    )
    def test_unquote(self, quoted: str, expected: str) -> None:
        assert uri.unquote_string(quoted) == expected

    @given(st.text(alphabet='ab"\\ ', max_size=12))
    def test_same_as_falcon(self, value: str) -> None:
        assert uri.unquote_string(value) == falcon_uri.unquote_string(value)
