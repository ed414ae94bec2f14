"""URI helpers: percent-encoding, decoding, query strings and host parsing.

Import the module explicitly (it is not hoisted into ``gyrfalcon``)::

    from gyrfalcon.util import uri

    name, port = uri.parse_host('example.org:8080')

Encoding follows RFC 3986 §2: the unreserved characters are never escaped,
the reserved delimiters are kept by ``encode()`` (which works on whole URIs)
and escaped by ``encode_value()`` (which works on one component), and every
other character is percent-encoded as UTF-8 bytes with uppercase hex digits.
"""

from __future__ import annotations

import re
from typing import overload
from urllib.parse import quote

__all__ = (
    'decode',
    'encode',
    'encode_check_escaped',
    'encode_value',
    'encode_value_check_escaped',
    'parse_host',
    'parse_query_string',
    'unquote_string',
)

# RFC 3986 §2.2: the reserved characters (gen-delims and sub-delims).
_DELIMITERS = ":/?#[]@!$&'()*+,;="

# NOTE(gyrfalcon): the RFC 3986 §2.3 unreserved characters are always safe for
#   urllib's quote(), so the safe set only needs to add what we keep on top.
_SAFE_IN_URI = _DELIMITERS
_SAFE_IN_VALUE = ''

# A percent sign that does not start a valid escape (RFC 3986 §2.1).
_BARE_PERCENT = re.compile(r'%(?![0-9A-Fa-f]{2})')
_NOT_URI_CHAR = re.compile(r"[^A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]")
_NOT_VALUE_CHAR = re.compile(r'[^A-Za-z0-9\-._~%]')

# Every two-digit escape, in any letter case, mapped to the byte it encodes.
_HEX_PAIRS = {
    (hi + lo).encode(): int(hi + lo, 16)
    for hi in '0123456789abcdefABCDEF'
    for lo in '0123456789abcdefABCDEF'
}

_QUOTED_PAIR = re.compile(r'\\(.?)', re.DOTALL)


def encode(uri: str) -> str:
    """Percent-encode a full or relative URI (RFC 3986).

    Unreserved characters and the reserved delimiters are kept; everything
    else is percent-encoded as UTF-8.

    Args:
        uri: The URI, or part of a URI, to encode.

    Returns:
        The encoded URI (the same object when nothing needed escaping).
    """
    return quote(uri, safe=_SAFE_IN_URI)


def encode_value(uri: str) -> str:
    """Percent-encode one URI component, such as a query parameter value.

    Only the unreserved characters are kept: the reserved delimiters are
    escaped too, since the value must not cross a delimiter boundary. This
    models ``urllib.parse.quote(value, safe='~')``.

    Args:
        uri: The component to encode.

    Returns:
        The encoded component.
    """
    return quote(uri, safe=_SAFE_IN_VALUE)


def _is_escaped(value: str, stray: re.Pattern[str]) -> bool:
    return stray.search(value) is None and _BARE_PERCENT.search(value) is None


def encode_check_escaped(uri: str) -> str:
    """Percent-encode a URI unless it already looks encoded.

    A URI that contains only allowed characters, where every ``%`` starts a
    valid escape such as ``%26``, is returned unchanged; otherwise it is
    encoded as by ``encode()`` (which also escapes any ``%``).

    Args:
        uri: The URI, or part of a URI, to encode.

    Returns:
        The encoded URI.
    """
    if '%' in uri and _is_escaped(uri, _NOT_URI_CHAR):
        return uri
    return encode(uri)


def encode_value_check_escaped(uri: str) -> str:
    """Percent-encode a URI component unless it already looks encoded.

    Args:
        uri: The component to encode.

    Returns:
        The encoded component; see ``encode_check_escaped()`` for the rule.
    """
    if '%' in uri and _is_escaped(uri, _NOT_VALUE_CHAR):
        return uri
    return encode_value(uri)


def decode(encoded_uri: str, unquote_plus: bool = True) -> str:
    """Decode the percent-encoded characters of a URI or a query string.

    This models ``urllib.parse.unquote_plus()``: escaped bytes are decoded as
    UTF-8 (RFC 3986 §2.5), invalid UTF-8 becomes U+FFFD, and a ``%`` that does
    not start a valid escape is kept as is.

    Args:
        encoded_uri: The encoded URI, or part of one.
        unquote_plus: Turn ``+`` into a space (default ``True``). Set it to
            ``False`` when decoding anything but a query string.

    Returns:
        The decoded string.
    """
    if unquote_plus and '+' in encoded_uri:
        encoded_uri = encoded_uri.replace('+', ' ')
    if '%' not in encoded_uri:
        return encoded_uri

    first, *chunks = encoded_uri.encode().split(b'%')
    decoded = bytearray(first)
    for chunk in chunks:
        byte = _HEX_PAIRS.get(chunk[:2])
        if byte is None:
            decoded += b'%'
            decoded += chunk
        else:
            decoded.append(byte)
            decoded += chunk[2:]
    return decoded.decode('utf-8', 'replace')


def _split_csv(value: str, keep_blank: bool) -> list[str]:
    return [decode(item) for item in value.split(',') if keep_blank or item]


def parse_query_string(
    query_string: str, keep_blank: bool = False, csv: bool = False
) -> dict[str, str | list[str]]:
    """Parse a form-encoded query string into a ``dict``.

    A parameter that occurs more than once gets a ``list`` of its values, in
    order. With `csv`, a value that contains commas is split into a ``list``
    too (``'a=1,2'`` gives ``{'a': ['1', '2']}``); an encoded comma (``%2C``)
    never splits.

    Args:
        query_string: The query string, without the leading ``?``.
        keep_blank: Keep parameters without a value (``'flag'`` or ``'a='``)
            as empty strings, and keep empty items of comma-separated lists
            (default ``False``).
        csv: Split values on commas (default ``False``).

    Returns:
        A mapping of names to a ``str`` or a ``list`` of ``str``.
    """
    params: dict[str, str | list[str]] = {}
    encoded = '%' in query_string or '+' in query_string
    if not encoded and not csv:
        return _parse_plain_query_string(query_string, keep_blank)

    for field in query_string.split('&'):
        name, _, value = field.partition('=')
        # NOTE(gyrfalcon): as Falcon's compiled parser does, '=' alone keeps
        #   an empty name with keep_blank (its pure-Python twin drops it).
        if not field or not (value or keep_blank):
            continue
        if encoded:
            name = decode(name)

        new: str | list[str]
        if csv and ',' in value:
            new = _split_csv(value, keep_blank)
        else:
            new = decode(value) if encoded else value

        if name not in params:
            params[name] = new
            continue

        old = params[name]
        if isinstance(old, list):
            if isinstance(new, list):
                old.extend(new)
            else:
                old.append(new)
        elif isinstance(new, list):
            params[name] = [old, *new]
        else:
            params[name] = [old, new]

    return params


def _parse_plain_query_string(
    query_string: str, keep_blank: bool
) -> dict[str, str | list[str]]:
    """Parse a query string that needs no decoding and no comma splitting."""
    # PERF(gyrfalcon): the common case, without the branches of the general
    #   loop in parse_query_string().
    params: dict[str, str | list[str]] = {}
    for field in query_string.split('&'):
        name, _, value = field.partition('=')
        if not value and not (keep_blank and field):
            continue
        old = params.get(name)
        if old is None:
            params[name] = value
        elif isinstance(old, list):
            old.append(value)
        else:
            params[name] = [old, value]
    return params


@overload
def parse_host(host: str, default_port: int) -> tuple[str, int]: ...


@overload
def parse_host(
    host: str, default_port: int | None = None
) -> tuple[str, int | None]: ...


def parse_host(host: str, default_port: int | None = None) -> tuple[str, int | None]:
    """Split a ``host[:port]`` string into its name and port.

    Domain names, IPv4 addresses and bracketed IPv6 addresses (``[::1]:80``)
    are supported. An unbracketed string with several colons is taken to be
    a bare IPv6 address without a port.

    Args:
        host: The host string, with or without a port.
        default_port: The port to return when the string has none (default
            ``None``).

    Returns:
        A ``(name, port)`` tuple; the port is an ``int``.

    Raises:
        ValueError: The port is not an integer.
    """
    if host.startswith('['):
        end = host.rfind(']:')
        if end == -1:
            return host[1:-1], default_port
        return host[1:end], int(host[end + 2 :])

    if host.count(':') != 1:
        return host, default_port

    name, _, port = host.partition(':')
    return name, int(port)


def unquote_string(quoted: str) -> str:
    """Unquote an RFC 9110 ``quoted-string`` (§5.6.4).

    A string that is not wrapped in double quotes is returned as is. Inside
    the quotes, each backslash escapes the character that follows it.

    Args:
        quoted: The string to unquote.

    Returns:
        The unquoted string.
    """
    if len(quoted) < 2 or quoted[0] != '"' or quoted[-1] != '"':
        return quoted

    inner = quoted[1:-1]
    if '\\' not in inner:
        return inner
    return _QUOTED_PAIR.sub(r'\1', inner)
