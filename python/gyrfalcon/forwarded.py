"""Parsing of the ``Forwarded`` request header (RFC 7239)."""

from __future__ import annotations

import re
import string

from .util.uri import unquote_string

__all__ = ('Forwarded',)

# RFC 9110 §5.6.2 token characters, and RFC 9110 §5.6.4 quoted strings.
_TCHAR = re.escape(string.digits + string.ascii_letters + "!#$%&'*+.^_`|~-")
_TOKEN = f'[{_TCHAR}]+'
# NOTE(gyrfalcon): a lone backslash is accepted as text, as Falcon does; the
#   RFC would reject the pair, but proxies are not always that careful.
_QDTEXT = r'[\t !#-~]'
_QUOTED_PAIR = r'\\[\t !-~]'
_QUOTED_STRING = f'"(?:{_QUOTED_PAIR}|{_QDTEXT})*"'

# RFC 7239 §4: forwarded-pair = token "=" value; value = token / quoted-string
_PAIR = re.compile(f'({_TOKEN})=({_TOKEN}|{_QUOTED_STRING})')


class Forwarded:
    """One element of a ``Forwarded`` header: the hop through one proxy.

    Attributes:
        src: The ``for`` parameter (the client, or the previous proxy), or
            ``None``.
        dest: The ``by`` parameter (the proxy's interface that received the
            request), or ``None``.
        host: The ``host`` parameter (the ``Host`` header the proxy
            received), or ``None``.
        scheme: The ``proto`` parameter, lowercased (the scheme the request
            reached the proxy with), or ``None``.
    """

    __slots__ = ('dest', 'host', 'scheme', 'src')

    def __init__(self) -> None:
        self.src: str | None = None
        self.dest: str | None = None
        self.host: str | None = None
        self.scheme: str | None = None

    def __repr__(self) -> str:
        fields = ', '.join(
            f'{name}={getattr(self, name)!r}'
            for name in ('src', 'dest', 'host', 'scheme')
            if getattr(self, name) is not None
        )
        return f'{type(self).__name__}({fields})'


def _set_param(element: Forwarded, name: str, value: str) -> None:
    if value[0] == '"':
        value = unquote_string(value)
    if name == 'for':
        element.src = value
    elif name == 'by':
        element.dest = value
    elif name == 'host':
        element.host = value
    elif name == 'proto':
        element.scheme = value.lower()


def _parse_forwarded_header(forwarded: str) -> list[Forwarded]:
    """Parse a ``Forwarded`` header into its elements, first hop first.

    The parser is lenient, like the header's users must be: a malformed
    pair is skipped up to the next element (``,``), unknown parameters are
    ignored, and elements without any known parameter are left out.

    Args:
        forwarded: The header value (several headers joined with ``,``).

    Returns:
        The parsed elements, in the order of the header.
    """
    elements: list[Forwarded] = []
    current: Forwarded | None = None
    expecting_pair = True
    pos = 0
    end = len(forwarded)

    while 0 <= pos < end:
        char = forwarded[pos]
        if char == ',':
            if current is not None:
                elements.append(current)
                current = None
            expecting_pair = True
            pos += 1
        elif char == ';':
            expecting_pair = True
            pos += 1
        elif char in ' \t':
            pos += 1
        elif expecting_pair and (match := _PAIR.match(forwarded, pos)):
            name, value = match.groups()
            if current is None:
                current = Forwarded()
            _set_param(current, name.lower(), value)
            pos = match.end()
            expecting_pair = False
        else:
            # Garbage, or a second pair without a ';': skip to the next element.
            pos = forwarded.find(',', pos)

    if current is not None:
        elements.append(current)
    return elements
