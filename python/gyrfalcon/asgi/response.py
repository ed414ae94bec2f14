"""The ASGI response: what responders fill in, and the app sends.

A responder sets ``status``, headers and one kind of body: ``text``,
``data``, ``media`` (serialized by a media handler), ``stream`` (an async
iterable or file-like object) or ``sse`` (Server-Sent Events). The app then
renders it with ``render_body()`` and ``_asgi_headers()`` and sends it.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar, NoReturn, overload

from ..errors import HeaderNotSupported
from ..http_error import ResponseStatus
from ..media.base import AsyncReadableIO
from ..options import ResponseOptions
from ..util.deprecation import AttributeRemovedError, DeprecatedWarning
from ..util.misc import _UNSET, http_status_to_code, is_python_func
from ..util.structures import Context
from ..util.uri import encode_check_escaped
from . import _response_headers as fmt
from .structures import SSEvent

__all__ = ('Response',)

SSEEmitter = AsyncIterator[SSEvent | None]
"""What ``resp.sse`` takes: an async iterator of events (``None`` pings)."""

ResponseCallback = tuple[Callable[[], Any], bool]
"""A scheduled callback, and whether it is a coroutine function."""


def _refuse_set_cookie(name: str, message: str) -> None:
    if name == 'set-cookie':
        raise HeaderNotSupported(message)


class Response:
    """An HTTP response, as a responder prepares it.

    The app builds one per request and passes it to hooks, middleware and
    responders. Apps that need more can subclass it and set
    ``App(response_type=...)``.

    Args:
        options: The app's ``ResponseOptions`` (defaults apply when
            ``None``).

    Attributes:
        status: The status: an ``int``, an ``http.HTTPStatus`` member or a
            status line (default ``'200 OK'``).
        text: The body as text, sent encoded as UTF-8. It takes precedence
            over ``data`` and ``media``.
        stream: The body as an async iterable of ``bytes``, or an async
            file-like object with ``read()`` (and optionally ``close()``).
            Used when ``text``, ``data`` and ``media`` are all unset.
        complete: Set it to ``True`` in middleware or a hook to skip the
            responder (and the rest of ``process_request()``).
        context: An object for the app's per-response state.
        context_type: The class (or factory) of ``context``.
        options: The ``ResponseOptions`` in effect.
    """

    __slots__ = (
        '__dict__',
        '_cookies',
        '_data',
        '_extra_headers',
        '_headers',
        '_media',
        '_media_rendered',
        '_registered_callbacks',
        '_sse',
        'context',
        'options',
        'status',
        'stream',
        'text',
    )

    context_type: ClassVar[type[Any]] = Context
    complete: bool = False

    def __init__(self, options: ResponseOptions | None = None) -> None:
        self.status: ResponseStatus = '200 OK'
        self.options = options if options is not None else ResponseOptions()
        self.text: str | None = None
        self.stream: AsyncReadableIO | AsyncIterator[bytes] | None = None
        self._data: bytes | None = None
        self._media: Any = None
        self._media_rendered: Any = _UNSET
        self._sse: SSEEmitter | None = None
        self._headers: dict[str, str] = {}
        self._extra_headers: list[tuple[str, str]] | None = None
        self._cookies: dict[str, fmt.CookieMorsel] | None = None
        self._registered_callbacks: list[ResponseCallback] | None = None
        self.context = self.context_type()

    def __repr__(self) -> str:
        return f'<{type(self).__name__}: {self.status}>'

    # --- status and body ------------------------------------------------------

    @property
    def status_code(self) -> int:
        """The status as an ``int`` code; assigning an ``int`` sets ``status``."""
        return http_status_to_code(self.status)

    @status_code.setter
    def status_code(self, value: int) -> None:
        self.status = value

    @property
    def data(self) -> bytes | None:
        """The body as bytes (used when ``text`` is ``None``)."""
        return self._data

    @data.setter
    def data(self, value: bytes | None) -> None:
        self._data = value

    @property
    def media(self) -> Any:
        """An object to serialize as the body.

        It is used when ``text`` and ``data`` are ``None``, and serialized by
        the handler of the response's ``Content-Type``
        (``resp_options.default_media_type``, JSON, when none is set).
        """
        return self._media

    @media.setter
    def media(self, value: Any) -> None:
        self._media = value
        self._media_rendered = _UNSET

    @property
    def sse(self) -> SSEEmitter | None:
        """An async iterator of ``SSEvent`` to stream as Server-Sent Events.

        When set, the response is sent as ``text/event-stream``, one event at
        a time, until the iterator ends or the client disconnects; every
        other body attribute is ignored. Yield ``None`` to send a keep-alive
        comment.
        """
        return self._sse

    @sse.setter
    def sse(self, value: SSEEmitter | None) -> None:
        self._sse = value

    @property
    def body(self) -> NoReturn:
        """Removed in Falcon 4: use ``text``.

        Raises:
            AttributeRemovedError: Always.
        """
        raise AttributeRemovedError(
            'The body attribute is no longer supported. '
            'Please use the text attribute instead.'
        )

    @body.setter
    def body(self, value: str) -> NoReturn:
        raise AttributeRemovedError(
            'The body attribute is no longer supported. '
            'Please use the text attribute instead.'
        )

    def set_stream(
        self, stream: AsyncReadableIO | AsyncIterator[bytes], content_length: int
    ) -> None:
        """Set the body to a stream of known length.

        This sets ``stream`` and ``Content-Length`` (so the server need not
        use chunked transfer encoding).

        Args:
            stream: An async iterable of ``bytes``, or an async file-like
                object.
            content_length: The stream's length in bytes.
        """
        self.stream = stream
        self._headers['content-length'] = str(content_length)

    async def render_body(self) -> bytes | None:
        """Return the body as bytes, from ``text``, ``data`` or ``media``.

        The first one that is set wins, in that order. ``media`` is
        serialized once and cached (until it is assigned again); when no
        ``Content-Type`` is set, it becomes ``resp_options.default_media_type``.

        Returns:
            The body, or ``None`` when none of the three is set (the app
            then looks at ``stream`` and ``sse``).

        Raises:
            HTTPUnsupportedMediaType: No handler matches the content type.
        """
        text = self.text
        if text is not None:
            return text.encode() if isinstance(text, str) else text
        if self._data is not None or self._media is None:
            return self._data

        if self._media_rendered is _UNSET:
            content_type = self.content_type
            if not content_type:
                content_type = self.content_type = self.options.default_media_type
            handler, serialize_sync, _ = self.options.media_handlers._resolve(
                content_type, self.options.default_media_type
            )
            if serialize_sync is not None:
                self._media_rendered = serialize_sync(self._media)
            else:
                self._media_rendered = await handler.serialize_async(
                    self._media, content_type
                )
        rendered: bytes = self._media_rendered
        return rendered

    # --- post-response callbacks ----------------------------------------------

    def schedule(self, callback: Callable[[], Awaitable[Any]]) -> None:
        """Schedule a coroutine function to run after the response is sent.

        The callback is called without arguments once the last byte of the
        response went out (bind arguments with ``functools.partial``). An
        exception it raises is logged by the server, and the response is
        unaffected.

        Args:
            callback: The coroutine function (not a coroutine object).

        Raises:
            TypeError: `callback` is a coroutine object, or a plain Python
                function.
        """
        if not inspect.iscoroutinefunction(callback):
            if inspect.iscoroutine(callback):
                raise TypeError(
                    'The callback object appears to be a coroutine, rather than a '
                    'coroutine function. Please pass the function itself, rather '
                    'than the result obtained by calling the function. '
                )
            if is_python_func(callback):
                raise TypeError('The callback must be a coroutine function.')
        self._add_callback((callback, True))

    def schedule_sync(self, callback: Callable[[], Any]) -> None:
        """Schedule a plain function to run after the response is sent.

        The function runs on the event loop's default executor (a worker
        thread), so it may block, but it must be thread-safe.

        Args:
            callback: The function, called without arguments.
        """
        self._add_callback((callback, False))

    def _add_callback(self, entry: ResponseCallback) -> None:
        if self._registered_callbacks is None:
            self._registered_callbacks = [entry]
        else:
            self._registered_callbacks.append(entry)

    # --- cookies --------------------------------------------------------------

    def set_cookie(
        self,
        name: str,
        value: str,
        expires: datetime | None = None,
        max_age: int | None = None,
        domain: str | None = None,
        path: str | None = None,
        secure: bool | None = None,
        http_only: bool = True,
        same_site: str | None = None,
        partitioned: bool = False,
    ) -> None:
        """Set a cookie (a ``Set-Cookie`` header, RFC 6265).

        Setting the same name again replaces the earlier cookie.

        Args:
            name: The cookie's name (ASCII).
            value: The cookie's value (ASCII; quoted when needed).

        Keyword Args:
            expires: When the cookie expires; naive values are taken as UTC.
            max_age: The cookie's lifetime in seconds (it takes precedence
                over `expires` in browsers).
            domain: The domain the cookie is sent to (subdomains included).
            path: The path prefix the cookie is sent for.
            secure: Send the cookie over HTTPS only. Defaults to
                ``resp_options.secure_cookies_by_default`` (``True``).
            http_only: Hide the cookie from JavaScript (default ``True``).
            same_site: ``'Lax'``, ``'Strict'`` or ``'None'``.
            partitioned: Partition the cookie by top-level site (CHIPS),
                for cross-site embedding (default ``False``).

        Raises:
            KeyError: `name` is not ASCII, or not a valid cookie name.
            ValueError: `value` is not ASCII, or `same_site` is invalid.
        """
        if secure is None:
            secure = self.options.secure_cookies_by_default
        morsel = fmt.make_cookie(
            name,
            value,
            expires,
            max_age,
            domain,
            path,
            secure,
            http_only,
            same_site,
            partitioned,
        )
        if self._cookies is None:
            self._cookies = {}
        self._cookies[name] = morsel

    def unset_cookie(
        self,
        name: str,
        domain: str | None = None,
        path: str | None = None,
        same_site: str = 'Lax',
        samesite: str | None = None,
    ) -> None:
        """Tell the client to delete a cookie.

        This sets the cookie to an empty value that has already expired
        (``Max-Age=0`` and an ``Expires`` in 1970). To delete a cookie, the
        `domain` and `path` must match the ones it was set with.

        Args:
            name: The cookie's name.
            domain: The domain it was set for.
            path: The path it was set for.
            same_site: The ``SameSite`` attribute (default ``'Lax'``; some
                browsers ignore a ``Set-Cookie`` without it).
            samesite: Deprecated spelling of `same_site`.

        Raises:
            KeyError: `name` is not a valid cookie name.
        """
        if samesite is not None:
            warnings.warn(
                'The "samesite" parameter is deprecated. Please use "same_site" '
                'instead.',
                DeprecatedWarning,
                stacklevel=2,
            )
            same_site = samesite
        morsel = fmt.make_expired_cookie(name, domain, path, same_site)
        if self._cookies is None:
            self._cookies = {}
        self._cookies[name] = morsel

    # --- headers ----------------------------------------------------------------

    @property
    def headers(self) -> dict[str, str]:
        """A copy of the response headers, with lowercase names.

        Cookies and headers added with ``append_header('Set-Cookie', ...)``
        are not included.
        """
        return self._headers.copy()

    @overload
    def get_header(self, name: str, default: str) -> str: ...

    @overload
    def get_header(self, name: str, default: str | None = ...) -> str | None: ...

    def get_header(self, name: str, default: str | None = None) -> str | None:
        """Return a response header's value.

        Args:
            name: The header's name (case-insensitive).
            default: The value to return when the header is not set.

        Returns:
            The value, or `default`.

        Raises:
            HeaderNotSupported: `name` is ``Set-Cookie``.
        """
        name = name.lower()
        _refuse_set_cookie(name, 'Getting Set-Cookie is not currently supported.')
        return self._headers.get(name, default)

    def set_header(self, name: str, value: str) -> None:
        """Set a response header, replacing any earlier value.

        Args:
            name: The header's name (case-insensitive).
            value: The value; anything else than a ``str`` is converted with
                ``str()``.

        Raises:
            HeaderNotSupported: `name` is ``Set-Cookie`` (use
                ``set_cookie()`` or ``append_header()``).
        """
        name = name.lower()
        _refuse_set_cookie(name, 'This method cannot be used to set cookies')
        self._headers[name] = str(value)

    def delete_header(self, name: str) -> None:
        """Remove a response header, if it is set.

        Args:
            name: The header's name (case-insensitive).

        Raises:
            HeaderNotSupported: `name` is ``Set-Cookie`` (use
                ``unset_cookie()``).
        """
        name = name.lower()
        _refuse_set_cookie(name, 'This method cannot be used to remove cookies')
        self._headers.pop(name, None)

    def append_header(self, name: str, value: str) -> None:
        """Add a value to a response header.

        The value is joined to an existing one with ``', '``. A
        ``Set-Cookie`` value is sent as a header line of its own instead.

        Args:
            name: The header's name (case-insensitive).
            value: The value to add (converted with ``str()``).
        """
        name = name.lower()
        value = str(value)
        if name == 'set-cookie':
            if self._extra_headers is None:
                self._extra_headers = [(name, value)]
            else:
                self._extra_headers.append((name, value))
            return
        existing = self._headers.get(name)
        self._headers[name] = value if existing is None else f'{existing}, {value}'

    def set_headers(
        self, headers: Mapping[str, str] | Iterable[tuple[str, str]]
    ) -> None:
        """Set several response headers, replacing earlier values.

        Args:
            headers: A mapping, or an iterable of ``(name, value)`` pairs.

        Raises:
            HeaderNotSupported: One of the names is ``Set-Cookie``.
        """
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        for name, value in pairs:
            self.set_header(name, value)

    def append_link(
        self,
        target: str,
        rel: str,
        title: str | None = None,
        title_star: tuple[str, str] | None = None,
        anchor: str | None = None,
        hreflang: str | Iterable[str] | None = None,
        type_hint: str | None = None,
        crossorigin: str | None = None,
        link_extension: Iterable[tuple[str, str]] | None = None,
    ) -> None:
        """Add a link to the ``Link`` header (RFC 8288).

        Args:
            target: The link's URI (percent-encoded unless it already is).
            rel: The relation type, such as ``'next'``; an extension type
                that is a URI is quoted.

        Keyword Args:
            title: A human-readable title (ASCII).
            title_star: A ``(language, title)`` pair, for a title in another
                language or with non-ASCII characters.
            anchor: The URI of the link's context, when it is not this
                resource.
            hreflang: The language(s) of the target.
            type_hint: The media type of the target.
            crossorigin: ``'anonymous'`` or ``'use-credentials'``.
            link_extension: Extra ``(param, value)`` pairs.

        Raises:
            ValueError: `crossorigin` is not one of the two values.
        """
        value = fmt.format_link(
            target,
            rel,
            title,
            title_star,
            anchor,
            hreflang,
            type_hint,
            crossorigin,
            link_extension,
        )
        self.append_header('Link', value)

    @property
    def add_link(self) -> NoReturn:
        """Removed in Falcon 4: use ``append_link()``.

        Raises:
            AttributeRemovedError: Always.
        """
        raise AttributeRemovedError(
            'The add_link() method is no longer supported. '
            'Please use append_link() instead.'
        )

    accept_ranges: str | None = fmt.header_property(
        'Accept-Ranges',
        "The ``Accept-Ranges`` header: ``'bytes'``, or ``'none'``.",
    )
    cache_control: str | Iterable[str] | None = fmt.header_property(
        'Cache-Control',
        "The ``Cache-Control`` header; a list of directives is joined with ``', '``.",
        fmt.format_list,
    )
    content_length: str | int | None = fmt.header_property(
        'Content-Length',
        'The ``Content-Length`` header.\n\nThe app sets it for ``text``, '
        '``data`` and ``media`` bodies; set it for a ``stream`` or a HEAD '
        'response.',
    )
    content_location: str | None = fmt.header_property(
        'Content-Location',
        'The ``Content-Location`` header (percent-encoded unless it already is).',
        encode_check_escaped,
    )
    content_range: str | tuple[Any, ...] | None = fmt.header_property(
        'Content-Range',
        'The ``Content-Range`` header (RFC 9110 §14.4).\n\n'
        'Set it from ``(start, end, length[, unit])``; *end* is inclusive '
        "and *length* may be ``'*'``.",
        fmt.format_range,
    )
    content_type: str | None = fmt.header_property(
        'Content-Type',
        'The ``Content-Type`` header (see the ``MEDIA_*`` constants).',
    )
    downloadable_as: str | None = fmt.header_property(
        'Content-Disposition',
        'A ``Content-Disposition: attachment`` header (RFC 6266).\n\n'
        'Set it to a filename; non-ASCII names use ``filename*``.',
        fmt.attachment,
    )
    viewable_as: str | None = fmt.header_property(
        'Content-Disposition',
        'A ``Content-Disposition: inline`` header for the given filename.',
        fmt.inline,
    )
    etag: str | None = fmt.header_property(
        'ETag',
        'The ``ETag`` header; the value is quoted unless it already is.',
        fmt.format_etag,
    )
    expires: str | datetime | None = fmt.header_property(
        'Expires',
        'The ``Expires`` header, from a UTC ``datetime``.',
        fmt.format_date,
    )
    last_modified: str | datetime | None = fmt.header_property(
        'Last-Modified',
        'The ``Last-Modified`` header, from a UTC ``datetime``.',
        fmt.format_date,
    )
    location: str | None = fmt.header_property(
        'Location',
        'The ``Location`` header (percent-encoded unless it already is).',
        encode_check_escaped,
    )
    retry_after: int | str | None = fmt.header_property(
        'Retry-After',
        'The ``Retry-After`` header, in seconds.',
    )
    vary: str | Iterable[str] | None = fmt.header_property(
        'Vary',
        "The ``Vary`` header; a list of header names is joined with ``', '``.",
        fmt.format_list,
    )

    def _asgi_headers(self, media_type: str | None = None) -> list[tuple[bytes, bytes]]:
        """Render the headers and cookies for ``http.response.start``.

        Args:
            media_type: The ``Content-Type`` to set when none is set.

        Returns:
            The ASGI header list: ``(name, value)`` byte pairs with
            lowercase names; ``Set-Cookie`` lines come last.

        Raises:
            ValueError: A header name or value is not Latin-1 (or a
                ``Set-Cookie`` line is not ASCII).
        """
        headers = self._headers
        if media_type is not None and 'content-type' not in headers:
            headers['content-type'] = media_type
        try:
            items = [
                (name.encode('latin1'), value.encode('latin1'))
                for name, value in headers.items()
            ]
            if self._extra_headers:
                items += [
                    (name.encode('ascii'), value.encode('ascii'))
                    for name, value in self._extra_headers
                ]
            if self._cookies:
                items += [
                    (b'set-cookie', morsel.OutputString().encode('ascii'))
                    for morsel in self._cookies.values()
                ]
        except UnicodeEncodeError as ex:
            raise ValueError(
                'The modern series of HTTP standards require that header names and '
                f'values use only ASCII characters: {ex}'
            ) from None
        return items
