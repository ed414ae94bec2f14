"""Header formatting for ``Response``: properties, links and cookies."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from http import cookies as http_cookies
from typing import TYPE_CHECKING, Any

from ..util.misc import dt_to_http, secure_filename
from ..util.uri import encode_check_escaped, encode_value_check_escaped

if TYPE_CHECKING:
    from .response import Response

__all__ = ()

_CROSSORIGIN_VALUES = frozenset(('anonymous', 'use-credentials'))
_SAMESITE_VALUES = frozenset(('lax', 'strict', 'none'))


def header_property(name: str, doc: str, transform: Callable[[Any], str] = str) -> Any:
    """Make a read/write property for a response header.

    Reading gives the header's value (or ``None``); assigning ``None``
    removes the header; assigning anything else sets it to
    ``transform(value)``; ``del`` removes it (``KeyError`` when absent).
    """
    key = name.lower()

    def fget(self: Response) -> str | None:
        return self._headers.get(key)

    def fset(self: Response, value: Any) -> None:
        if value is None:
            self._headers.pop(key, None)
        else:
            self._headers[key] = transform(value)

    def fdel(self: Response) -> None:
        del self._headers[key]

    return property(fget, fset, fdel, doc)


def format_list(value: str | Iterable[str]) -> str:
    """Join header list items with ``', '``; a ``str`` is one item.

    (Falcon joins the characters of a ``str``: ``'no-cache'`` would become
    ``'n, o, -, ...'``.)
    """
    if isinstance(value, str):
        return value
    return ', '.join(value)


def format_range(value: str | tuple[Any, ...]) -> str:
    """Format ``(start, end, length[, unit])`` as a ``Content-Range`` value."""
    if isinstance(value, str):
        return value
    if len(value) == 4:
        start, end, length, unit = value
        return f'{unit} {start}-{end}/{length}'
    start, end, length = value
    return f'bytes {start}-{end}/{length}'


def format_date(value: str | datetime) -> str:
    """Format a ``datetime`` as an HTTP date; a ``str`` is kept as is."""
    if isinstance(value, str):
        return value
    return dt_to_http(value)


def format_etag(value: str) -> str:
    """Quote an entity-tag unless it is quoted already (RFC 9110 §8.8.3)."""
    value = str(value)
    if not value.endswith('"'):
        value = f'"{value}"'
    return value


def format_disposition(filename: str, disposition: str) -> str:
    """Build a ``Content-Disposition`` value for a filename (RFC 6266).

    A non-ASCII name is sent as ``filename*`` (UTF-8, percent-encoded), with
    a sanitized ASCII fallback in ``filename``.
    """
    if filename.isascii():
        return f'{disposition}; filename="{filename}"'
    fallback = secure_filename(filename)
    encoded = encode_value_check_escaped(filename)
    return f"{disposition}; filename={fallback}; filename*=UTF-8''{encoded}"


def attachment(filename: str) -> str:
    """Format ``Content-Disposition: attachment`` (``downloadable_as``)."""
    return format_disposition(filename, 'attachment')


def inline(filename: str) -> str:
    """Format ``Content-Disposition: inline`` (``viewable_as``)."""
    return format_disposition(filename, 'inline')


def format_link(
    target: str,
    rel: str,
    title: str | None = None,
    title_star: tuple[str, str] | None = None,
    anchor: str | None = None,
    hreflang: str | Iterable[str] | None = None,
    type_hint: str | None = None,
    crossorigin: str | None = None,
    link_extension: Iterable[tuple[str, str]] | None = None,
) -> str:
    """Build one ``Link`` header value (RFC 8288); see ``append_link()``."""
    if '//' in rel:
        # An extension relation type is a URI, quoted (RFC 8288 §3.3).
        rel = '"' + ' '.join(encode_check_escaped(item) for item in rel.split()) + '"'

    parts = [f'<{encode_check_escaped(target)}>', f'rel={rel}']
    if title is not None:
        parts.append(f'title="{title}"')
    if title_star is not None:
        language, text = title_star
        parts.append(f"title*=UTF-8'{language}'{encode_value_check_escaped(text)}")
    if type_hint is not None:
        parts.append(f'type="{type_hint}"')
    if hreflang is not None:
        languages = [hreflang] if isinstance(hreflang, str) else hreflang
        parts.extend(f'hreflang={language}' for language in languages)
    if anchor is not None:
        parts.append(f'anchor="{encode_check_escaped(anchor)}"')
    if crossorigin is not None:
        crossorigin = crossorigin.lower()
        if crossorigin not in _CROSSORIGIN_VALUES:
            raise ValueError(
                "crossorigin must be set to either 'anonymous' or 'use-credentials'"
            )
        if crossorigin == 'anonymous':
            parts.append('crossorigin')
        else:
            parts.append('crossorigin="use-credentials"')
    if link_extension is not None:
        parts.extend(f'{param}={value}' for param, value in link_extension)
    return '; '.join(parts)


class CookieMorsel(http_cookies.Morsel):  # type: ignore[type-arg]
    """A ``Morsel`` that also knows the ``Partitioned`` attribute (CHIPS).

    Python added ``Partitioned`` in 3.14; this subclass adds it for older
    versions without patching ``http.cookies`` for everyone.
    """

    # NOTE(gyrfalcon): Morsel reads its attribute tables through self, so a
    #   subclass can extend them.
    _reserved = {**http_cookies.Morsel._reserved, 'partitioned': 'Partitioned'}  # type: ignore[attr-defined]
    _flags = {*http_cookies.Morsel._flags, 'partitioned'}  # type: ignore[attr-defined]


_cookie_codec = http_cookies.SimpleCookie()


def make_cookie(
    name: str,
    value: str,
    expires: datetime | None,
    max_age: int | None,
    domain: str | None,
    path: str | None,
    secure: bool,
    http_only: bool,
    same_site: str | None,
    partitioned: bool,
) -> CookieMorsel:
    """Build the ``Set-Cookie`` morsel for ``Response.set_cookie()``."""
    if not name.isascii():
        raise KeyError('name is not ASCII encodable')
    value = str(value)
    if not value.isascii():
        raise ValueError('value is not ASCII encodable')

    morsel = CookieMorsel()
    real, coded = _cookie_codec.value_encode(value)
    try:
        morsel.set(name, real, coded)
    except http_cookies.CookieError as ex:
        raise KeyError(str(ex)) from None

    if expires:
        if expires.tzinfo is not None:
            expires = expires.astimezone(UTC)
        morsel['expires'] = dt_to_http(expires)
    if max_age:
        morsel['max-age'] = int(max_age)
    if domain:
        morsel['domain'] = domain
    if path:
        morsel['path'] = path
    if secure:
        morsel['secure'] = True
    if http_only:
        morsel['httponly'] = True
    if same_site:
        same_site = same_site.lower()
        if same_site not in _SAMESITE_VALUES:
            raise ValueError(
                "same_site must be set to either 'lax', 'strict', or 'none'"
            )
        morsel['samesite'] = same_site.capitalize()
    if partitioned:
        morsel['partitioned'] = True
    return morsel


# NOTE(gyrfalcon): a fixed date in the past, so that a client whose clock is
#   behind the server's still drops the cookie (Falcon uses "now - 1 s").
_EPOCH = 'Thu, 01 Jan 1970 00:00:00 GMT'


def make_expired_cookie(
    name: str, domain: str | None, path: str | None, same_site: str
) -> CookieMorsel:
    """Build the morsel that tells the client to drop a cookie."""
    morsel = CookieMorsel()
    try:
        morsel.set(name, '', '""')
    except http_cookies.CookieError as ex:
        raise KeyError(str(ex)) from None
    morsel['expires'] = _EPOCH
    morsel['max-age'] = 0
    morsel['samesite'] = same_site
    if domain:
        morsel['domain'] = domain
    if path:
        morsel['path'] = path
    return morsel
