"""Constants shared by the framework: HTTP methods, media types, and more.

The names and values follow Falcon 4, so ``falcon.MEDIA_JSON`` and
``gyrfalcon.MEDIA_JSON`` are the same string, and the method lists contain
the same verbs in the same order.
"""

from __future__ import annotations

import enum
import os
import sys
from typing import Final

__all__ = (
    'ASGI_SUPPORTED',
    'COMBINED_METHODS',
    'DEFAULT_MEDIA_TYPE',
    'FALSE_STRINGS',
    'HTTP_METHODS',
    'HTTP_WG_DRAFT_METHODS',
    'MEDIA_BMP',
    'MEDIA_CSV',
    'MEDIA_GIF',
    'MEDIA_HTML',
    'MEDIA_JPEG',
    'MEDIA_JS',
    'MEDIA_JSON',
    'MEDIA_MSGPACK',
    'MEDIA_MULTIPART',
    'MEDIA_PARQUET',
    'MEDIA_PNG',
    'MEDIA_TEXT',
    'MEDIA_URLENCODED',
    'MEDIA_XML',
    'MEDIA_YAML',
    'PYPY',
    'PYTHON_VERSION',
    'SINGLETON_HEADERS',
    'TRUE_STRINGS',
    'WEBDAV_METHODS',
    'WebSocketPayloadType',
)

PYPY: Final[bool] = sys.implementation.name == 'pypy'
"""``True`` when the interpreter is PyPy."""

PYTHON_VERSION: Final[tuple[int, int, int]] = (
    sys.version_info.major,
    sys.version_info.minor,
    sys.version_info.micro,
)
"""The interpreter's version as a ``(major, minor, micro)`` triplet."""

ASGI_SUPPORTED: Final[bool] = True
"""Always ``True``; kept because Falcon 3 apps test it."""

TRUE_STRINGS: Final[frozenset[str]] = frozenset(
    ('true', 'True', 't', 'yes', 'y', '1', 'on')
)
"""Query parameter values that ``get_param_as_bool()`` reads as ``True``."""

FALSE_STRINGS: Final[frozenset[str]] = frozenset(
    ('false', 'False', 'f', 'no', 'n', '0', 'off')
)
"""Query parameter values that ``get_param_as_bool()`` reads as ``False``."""

# NOTE(gyrfalcon): RFC 9110 and RFC 5789 (PATCH).
HTTP_METHODS: Final[list[str]] = [
    'CONNECT',
    'DELETE',
    'GET',
    'HEAD',
    'OPTIONS',
    'PATCH',
    'POST',
    'PUT',
    'TRACE',
]

# NOTE(gyrfalcon): methods from HTTP working group drafts (the safe QUERY).
HTTP_WG_DRAFT_METHODS: Final[list[str]] = ['QUERY']

# NOTE(gyrfalcon): WebDAV, RFC 2518 and RFC 4918.
WEBDAV_METHODS: Final[list[str]] = [
    'CHECKIN',
    'CHECKOUT',
    'COPY',
    'LOCK',
    'MKCOL',
    'MOVE',
    'PROPFIND',
    'PROPPATCH',
    'REPORT',
    'UNCHECKIN',
    'UNLOCK',
    'UPDATE',
    'VERSION-CONTROL',
]


def _custom_methods(value: str) -> list[str]:
    """Split a comma-separated list of extra methods, as Falcon reads it."""
    return [name.strip().upper() for name in value.split(',') if name.strip()]


# NOTE(gyrfalcon): the environment variable keeps Falcon's name so that a
#   deployment that sets it keeps working after the port.
FALCON_CUSTOM_HTTP_METHODS: Final[list[str]] = _custom_methods(
    os.environ.get('FALCON_CUSTOM_HTTP_METHODS', '')
)

# NOTE(gyrfalcon): pseudo-methods used for routing only; a WebSocket
#   handshake is routed to ``on_websocket()`` through ``'WEBSOCKET'``.
_META_METHODS: Final[list[str]] = ['WEBSOCKET']

COMBINED_METHODS: Final[list[str]] = (
    HTTP_METHODS
    + WEBDAV_METHODS
    + HTTP_WG_DRAFT_METHODS
    + FALCON_CUSTOM_HTTP_METHODS
    + _META_METHODS
)
"""Every method the router knows, in Falcon's order."""

MEDIA_JSON: Final[str] = 'application/json'
# NOTE(gyrfalcon): MessagePack has no registered media type; this is the
#   unprefixed form that RFC 6838 prefers over 'application/x-msgpack'.
MEDIA_MSGPACK: Final[str] = 'application/msgpack'
MEDIA_PARQUET: Final[str] = 'application/vnd.apache.parquet'
MEDIA_MULTIPART: Final[str] = 'multipart/form-data'
MEDIA_URLENCODED: Final[str] = 'application/x-www-form-urlencoded'
MEDIA_YAML: Final[str] = 'application/yaml'
MEDIA_XML: Final[str] = 'application/xml'
MEDIA_JS: Final[str] = 'text/javascript'
MEDIA_HTML: Final[str] = 'text/html; charset=utf-8'
MEDIA_TEXT: Final[str] = 'text/plain; charset=utf-8'
MEDIA_CSV: Final[str] = 'text/csv; charset=utf-8'
MEDIA_JPEG: Final[str] = 'image/jpeg'
MEDIA_PNG: Final[str] = 'image/png'
MEDIA_GIF: Final[str] = 'image/gif'
MEDIA_BMP: Final[str] = 'image/bmp'

DEFAULT_MEDIA_TYPE: Final[str] = MEDIA_JSON
"""The media type used when a request or response does not name one."""

SINGLETON_HEADERS: Final[frozenset[str]] = frozenset(
    (
        'content-length',
        'content-type',
        'cookie',
        'expect',
        'from',
        'host',
        'max-forwards',
        'referer',
        'user-agent',
    )
)
"""Request headers that may appear once; a repeat replaces, never joins."""

# NOTE(gyrfalcon): static files get the bare media type (no charset): which
#   charset a file uses cannot be known without reading it.
_DEFAULT_STATIC_MEDIA_TYPES: Final[tuple[tuple[str, str], ...]] = tuple(
    (extension, media_type.partition(';')[0])
    for extension, media_type in (
        ('.bmp', MEDIA_BMP),
        ('.csv', MEDIA_CSV),
        ('.gif', MEDIA_GIF),
        ('.htm', MEDIA_HTML),
        ('.html', MEDIA_HTML),
        ('.jpeg', MEDIA_JPEG),
        ('.jpg', MEDIA_JPEG),
        ('.js', MEDIA_JS),
        ('.json', MEDIA_JSON),
        ('.mjs', MEDIA_JS),
        ('.parquet', MEDIA_PARQUET),
        ('.png', MEDIA_PNG),
        ('.txt', MEDIA_TEXT),
        ('.xml', MEDIA_XML),
        ('.yaml', MEDIA_YAML),
        ('.yml', MEDIA_YAML),
    )
)


class WebSocketPayloadType(enum.Enum):
    """The two kinds of WebSocket data message (RFC 6455 §5.6)."""

    TEXT = enum.auto()
    """A TEXT message: UTF-8 text, handed to the app as ``str``."""

    BINARY = enum.auto()
    """A BINARY message: arbitrary bytes, handed to the app as ``bytes``."""
