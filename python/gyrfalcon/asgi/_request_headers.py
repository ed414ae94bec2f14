"""Header access for ``Request`` (a mixin).

Raw headers, content negotiation, conditional requests, ranges and cookies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from ..errors import HTTPInvalidHeader, HTTPMissingHeader
from ..util import mediatypes
from ..util.misc import _UNSET, http_date_to_dt
from ..util.structures import ETag

if TYPE_CHECKING:
    from .request import Request

__all__ = ()

# RFC 6265 §4.1.1: a cookie name is a token (RFC 9110 §5.6.2).
_COOKIE_NAME_INVALID = re.compile(r'[\x00-\x1f\x7f-\xff()<>@,;:\\"/\[\]?={} \t]')
_COOKIE_ESCAPE = re.compile(r'\\(?:([0-3][0-7][0-7])|(.))', re.DOTALL)
_ENTITY_TAG = re.compile(r'([Ww]/)?"([^"]*)"')

_RANGE_HREF = 'https://tools.ietf.org/html/rfc7233'


def _unquote_cookie(value: str) -> str:
    """Undo the quoting that ``http.cookies`` applies to cookie values."""

    def unescape(match: re.Match[str]) -> str:
        octal = match.group(1)
        return chr(int(octal, 8)) if octal else match.group(2)

    return _COOKIE_ESCAPE.sub(unescape, value[1:-1])


def _parse_cookie_header(header: str) -> dict[str, list[str]]:
    """Parse a ``Cookie`` header into names and their values, in order.

    Pairs with an empty or invalid name are skipped; a name that occurs
    more than once keeps all its values.
    """
    cookies: dict[str, list[str]] = {}
    for pair in header.split(';'):
        name, _, value = pair.partition('=')
        name = name.strip()
        if not name or _COOKIE_NAME_INVALID.search(name):
            continue
        value = value.strip()
        if len(value) > 2 and value[0] == '"' and value[-1] == '"':
            value = _unquote_cookie(value)
        cookies.setdefault(name, []).append(value)
    return cookies


def _parse_etags(header: str) -> list[ETag | Literal['*']] | None:
    """Parse an ``If-Match`` or ``If-None-Match`` header (RFC 9110 §13.1)."""
    header = header.strip()
    if not header:
        return None
    if header == '*':
        return ['*']
    if ',' not in header:
        return [ETag.loads(header)]

    etags: list[ETag | Literal['*']] = []
    for weak, opaque in _ENTITY_TAG.findall(header):
        etag = ETag(opaque)
        etag.is_weak = bool(weak)
        etags.append(etag)
    return etags or None


def _header_property(name: str, doc: str) -> Any:
    """Make a read-only property for a header: its value, or ``None``."""
    key = name.lower().encode()

    def fget(self: Request) -> str | None:
        value = self._asgi_headers.get(key)
        return value.decode('latin1') if value else None

    return property(fget, doc=doc)


class _RequestHeaders:
    """The header accessors of ``Request`` (a mixin).

    ``Request`` provides ``_asgi_headers``.
    """

    _asgi_headers: dict[bytes, bytes]

    # Lazily computed values (class attributes until first computed).
    _cached_headers: dict[str, str] | None = None
    _cached_if_match: Any = _UNSET
    _cached_if_none_match: Any = _UNSET
    _cookies: dict[str, list[str]] | None = None
    _cookies_collapsed: dict[str, str] | None = None

    auth: str | None = _header_property(
        'Authorization', 'The ``Authorization`` header, or ``None``.'
    )
    expect: str | None = _header_property(
        'Expect', 'The ``Expect`` header, or ``None``.'
    )
    if_range: str | None = _header_property(
        'If-Range', 'The ``If-Range`` header, or ``None``.'
    )
    last_event_id: str | None = _header_property(
        'Last-Event-ID',
        'The ``Last-Event-ID`` header (sent by a reconnecting SSE client).',
    )
    referer: str | None = _header_property(
        'Referer', 'The ``Referer`` header, or ``None``.'
    )
    user_agent: str | None = _header_property(
        'User-Agent', 'The ``User-Agent`` header, or ``None``.'
    )

    @property
    def headers(self) -> dict[str, str]:
        """The request headers, with lowercase names.

        Repeated headers are joined with ``','`` (``'; '`` for ``Cookie``),
        except the singleton ones (``Content-Type``, ``Host``...), where the
        last one wins. Use ``get_header()`` for a single header.
        """
        if self._cached_headers is None:
            self._cached_headers = {
                name.decode('latin1'): value.decode('latin1')
                for name, value in self._asgi_headers.items()
            }
        return self._cached_headers

    @property
    def headers_lower(self) -> dict[str, str]:
        """The same as ``headers`` (whose names are lowercase already)."""
        return self.headers

    @overload
    def get_header(
        self, name: str, required: Literal[True], default: str | None = ...
    ) -> str: ...

    @overload
    def get_header(self, name: str, required: bool = ..., *, default: str) -> str: ...

    @overload
    def get_header(
        self, name: str, required: bool = ..., default: str | None = ...
    ) -> str | None: ...

    def get_header(
        self, name: str, required: bool = False, default: str | None = None
    ) -> str | None:
        """Return a request header's value.

        Args:
            name: The header's name (case-insensitive).
            required: Raise ``HTTPMissingHeader`` when the header is absent
                (default ``False``).
            default: The value to return when the header is absent.

        Returns:
            The value (repeated headers joined), or `default`.

        Raises:
            HTTPMissingHeader: The header is required but absent.
        """
        value = self._asgi_headers.get(name.lower().encode('latin1'))
        if value is not None:
            return value.decode('latin1')
        if required:
            raise HTTPMissingHeader(name)
        return default

    def get_header_as_int(self, header: str, required: bool = False) -> int | None:
        """Return a request header's value, as an ``int``.

        Args:
            header: The header's name (case-insensitive).
            required: Raise ``HTTPMissingHeader`` when it is absent.

        Returns:
            The value, or ``None`` when the header is absent.

        Raises:
            HTTPMissingHeader: The header is required but absent.
            HTTPInvalidHeader: The value is not an integer.
        """
        value = self.get_header(header, required=required)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            raise HTTPInvalidHeader(
                'The value of the header must be an integer.', header
            ) from None

    def get_header_as_datetime(
        self, header: str, required: bool = False, obs_date: bool = False
    ) -> datetime | None:
        """Return a request header's value, parsed as an HTTP date.

        Args:
            header: The header's name (case-insensitive).
            required: Raise ``HTTPMissingHeader`` when it is absent.
            obs_date: Also accept the obsolete date formats (RFC 850 and
                asctime()).

        Returns:
            An aware UTC ``datetime``, or ``None`` when the header is absent.

        Raises:
            HTTPMissingHeader: The header is required but absent.
            HTTPInvalidHeader: The value is not an HTTP date.
        """
        value = self.get_header(header, required=required)
        if value is None:
            return None
        try:
            return http_date_to_dt(value, obs_date=obs_date)
        except ValueError:
            raise HTTPInvalidHeader(
                'It must be formatted according to RFC 7231, Section 7.1.1.1', header
            ) from None

    @property
    def accept(self) -> str:
        """The ``Accept`` header, or ``'*/*'`` when it is absent or empty."""
        value = self._asgi_headers.get(b'accept')
        return value.decode('latin1') if value else '*/*'

    def client_accepts(self, media_type: str) -> bool:
        """Tell whether the client accepts a media type.

        Args:
            media_type: The media type, e.g. ``'application/json'``.

        Returns:
            ``True`` when the ``Accept`` header gives it a non-zero quality.
            An invalid header accepts nothing.
        """
        accept = self.accept
        if accept == media_type or accept == '*/*':
            return True
        try:
            return mediatypes.quality(media_type, accept) != 0.0
        except ValueError:
            return False

    def client_prefers(self, media_types: Iterable[str]) -> str | None:
        """Return the media type the client prefers among some candidates.

        Args:
            media_types: The candidates, in the server's order of preference.

        Returns:
            The best candidate, or ``None`` when the client accepts none of
            them (or the ``Accept`` header is invalid).
        """
        try:
            preferred = mediatypes.best_match(media_types, self.accept)
        except ValueError:
            return None
        return preferred or None

    @property
    def client_accepts_json(self) -> bool:
        """``True`` when the client accepts ``application/json``."""
        return self.client_accepts('application/json')

    @property
    def client_accepts_msgpack(self) -> bool:
        """``True`` when the client accepts MessagePack (either media type)."""
        return self.client_accepts('application/x-msgpack') or self.client_accepts(
            'application/msgpack'
        )

    @property
    def client_accepts_xml(self) -> bool:
        """``True`` when the client accepts ``application/xml``."""
        return self.client_accepts('application/xml')

    @property
    def content_length(self) -> int | None:
        """The ``Content-Length`` header as an ``int``, or ``None``.

        Raises:
            HTTPInvalidHeader: The value is not a non-negative integer.
        """
        value = self._asgi_headers.get(b'content-length')
        if not value:
            return None
        try:
            length = int(value)
        except ValueError:
            raise HTTPInvalidHeader(
                'The value of the header must be a number.', 'Content-Length'
            ) from None
        if length < 0:
            raise HTTPInvalidHeader(
                'The value of the header must be a positive number.', 'Content-Length'
            )
        return length

    @property
    def date(self) -> datetime | None:
        """The ``Date`` header as a UTC ``datetime``, or ``None``."""
        return self.get_header_as_datetime('Date')

    @property
    def if_modified_since(self) -> datetime | None:
        """The ``If-Modified-Since`` header as a UTC ``datetime``, or ``None``."""
        return self.get_header_as_datetime('If-Modified-Since')

    @property
    def if_unmodified_since(self) -> datetime | None:
        """The ``If-Unmodified-Since`` header as a ``datetime``, or ``None``."""
        return self.get_header_as_datetime('If-Unmodified-Since')

    @property
    def if_match(self) -> list[ETag | Literal['*']] | None:
        """The entity-tags of the ``If-Match`` header, or ``None``.

        ``['*']`` stands for the header's ``*``; each other item is an
        ``ETag``.
        """
        if self._cached_if_match is _UNSET:
            value = self._asgi_headers.get(b'if-match')
            self._cached_if_match = (
                _parse_etags(value.decode('latin1')) if value else None
            )
        return cast('list[ETag | Literal["*"]] | None', self._cached_if_match)

    @property
    def if_none_match(self) -> list[ETag | Literal['*']] | None:
        """The entity-tags of the ``If-None-Match`` header, or ``None``."""
        if self._cached_if_none_match is _UNSET:
            value = self._asgi_headers.get(b'if-none-match')
            self._cached_if_none_match = (
                _parse_etags(value.decode('latin1')) if value else None
            )
        return cast('list[ETag | Literal["*"]] | None', self._cached_if_none_match)

    @property
    def range(self) -> tuple[int, int] | None:
        """The byte range of the ``Range`` header, or ``None``.

        ``bytes=0-499`` gives ``(0, 499)``; an open range (``bytes=500-``)
        ends with ``-1``; a suffix range (``bytes=-500``) gives ``(-500,
        -1)``. Only a single, continuous range is supported.

        Raises:
            HTTPInvalidHeader: The value is not such a range.
        """
        value = self.get_header('Range')
        if value is None:
            return None
        if '=' not in value:
            raise HTTPInvalidHeader(
                "The value must be prefixed with a range unit, e.g. 'bytes='", 'Range'
            )
        spec = value.partition('=')[2]
        if ',' in spec:
            raise HTTPInvalidHeader('The value must be a continuous range.', 'Range')

        first, dash, last = spec.partition('-')
        if dash and not first and not last:
            raise HTTPInvalidHeader('The range offsets are missing.', 'Range')
        try:
            if not dash:
                raise ValueError(spec)
            if first and last:
                start, end = int(first), int(last)
                if end < start:
                    raise ValueError(spec)
                return start, end
            if first:
                return int(first), -1
            start = -int(last)
            if start >= 0:
                raise ValueError(spec)
            return start, -1
        except ValueError:
            raise HTTPInvalidHeader(
                'It must be a range formatted according to RFC 7233.',
                'Range',
                href=_RANGE_HREF,
                href_text='HTTP/1.1 Range Requests',
            ) from None

    @property
    def range_unit(self) -> str | None:
        """The unit of the ``Range`` header (``'bytes'``), or ``None``.

        Raises:
            HTTPInvalidHeader: The value has no unit.
        """
        value = self.get_header('Range')
        if value is None:
            return None
        if '=' not in value:
            raise HTTPInvalidHeader(
                "The value must be prefixed with a range unit, e.g. 'bytes='", 'Range'
            )
        return value.partition('=')[0]

    # --- cookies ------------------------------------------------------------

    def _parsed_cookies(self) -> dict[str, list[str]]:
        if self._cookies is None:
            header = self.get_header('Cookie')
            self._cookies = _parse_cookie_header(header) if header else {}
        return self._cookies

    @property
    def cookies(self) -> dict[str, str]:
        """The request cookies, each name mapped to its first value.

        Use ``get_cookie_values()`` for a cookie sent more than once (for
        different paths or domains, say).
        """
        if self._cookies_collapsed is None:
            self._cookies_collapsed = {
                name: values[0] for name, values in self._parsed_cookies().items()
            }
        return self._cookies_collapsed

    def get_cookie_values(self, name: str) -> list[str] | None:
        """Return every value of a cookie, in the order the client sent them.

        Args:
            name: The cookie's name (case-sensitive).

        Returns:
            The values, or ``None`` when there is no such cookie.
        """
        return self._parsed_cookies().get(name)
