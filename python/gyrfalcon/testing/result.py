"""The results of simulated requests: ``Result``, ``StreamedResult``, ``Cookie``.

These classes are re-exported by ``gyrfalcon.testing.client`` and
``gyrfalcon.testing``, where Falcon has them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from gyrfalcon.util import CaseInsensitiveDict, http_cookies, http_date_to_dt

from .helpers import get_encoding_from_headers

if TYPE_CHECKING:
    from http.cookies import Morsel

    from .helpers import ASGIRequestEventEmitter

__all__ = ['Cookie', 'Result', 'ResultBodyStream', 'StreamedResult']

_COOKIE_ATTRIBUTES = (
    'expires',
    'path',
    'domain',
    'max_age',
    'secure',
    'httponly',
    'samesite',
    'partitioned',
)


class Cookie:
    """A cookie set by the response to a simulated request.

    Args:
        morsel: The parsed ``Set-Cookie`` header.
    """

    def __init__(self, morsel: Morsel[str]) -> None:
        self._name = morsel.key
        self._value = morsel.value
        self._attributes: dict[str, str | None] = {
            name: (morsel.get(name.replace('_', '-')) or None)
            for name in _COOKIE_ATTRIBUTES
        }

    @property
    def name(self) -> str:
        """The cookie's name."""
        return self._name

    @property
    def value(self) -> str:
        """The cookie's value."""
        return self._value

    @property
    def expires(self) -> dt.datetime | None:
        """The expiry time (timezone-aware, UTC), or ``None`` if not set."""
        expires = self._attributes['expires']
        return http_date_to_dt(expires, obs_date=True) if expires else None

    @property
    def path(self) -> str | None:
        """The path the cookie is restricted to, or ``None`` if not set."""
        return self._attributes['path']

    @property
    def domain(self) -> str | None:
        """The domain the cookie is restricted to, or ``None`` if not set."""
        return self._attributes['domain']

    @property
    def max_age(self) -> int | None:
        """The cookie's lifetime in seconds, or ``None`` if not set."""
        max_age = self._attributes['max_age']
        return int(max_age) if max_age else None

    @property
    def secure(self) -> bool:
        """Whether the client may send the cookie over HTTPS only."""
        return bool(self._attributes['secure'])

    @property
    def http_only(self) -> bool:
        """Whether the cookie is hidden from JavaScript in the client."""
        return bool(self._attributes['httponly'])

    @property
    def same_site(self) -> str | None:
        """``'Lax'``, ``'Strict'`` or ``'None'``; ``None`` if not set."""
        return self._attributes['samesite']

    @property
    def partitioned(self) -> bool:
        """Whether the cookie has the ``Partitioned`` attribute."""
        return bool(self._attributes['partitioned'])


class _ResultBase:
    """What plain and streamed results have in common: status and headers.

    Args:
        status: The status line, e.g. ``'200 OK'``.
        headers: The response headers as ``(name, value)`` pairs.
    """

    def __init__(self, status: str, headers: Sequence[tuple[str, str]]) -> None:
        self._status = status
        self._status_code = int(status[:3])
        self._headers = CaseInsensitiveDict(headers)

        jar: http_cookies.SimpleCookie = http_cookies.SimpleCookie()
        for name, value in headers:
            if name.lower() == 'set-cookie':
                jar.load(value)
        self._cookies = {morsel.key: Cookie(morsel) for morsel in jar.values()}
        self._encoding = get_encoding_from_headers(self._headers)

    @property
    def status(self) -> str:
        """The status line, e.g. ``'200 OK'``."""
        return self._status

    @property
    def status_code(self) -> int:
        """The status code, e.g. ``200``."""
        return self._status_code

    @property
    def headers(self) -> CaseInsensitiveDict:
        """The response headers, by case-insensitive name.

        When a header appears more than once, the last value wins; cookies
        are in ``cookies``.
        """
        return self._headers

    @property
    def cookies(self) -> dict[str, Cookie]:
        """The cookies the response set, by name.

        The dict can be passed as the `cookies` of a later request.
        """
        return self._cookies

    @property
    def encoding(self) -> str | None:
        """The text encoding of the body, or ``None`` if unknown."""
        return self._encoding

    @property
    def content_type(self) -> str | None:
        """The ``Content-Type`` header, or ``None`` if missing."""
        value: str | None = self._headers.get('Content-Type')
        return value


class ResultBodyStream:
    """A forward-only reader of a streamed response body.

    Args:
        chunks: The list the body chunks are appended to as they arrive.
    """

    def __init__(self, chunks: Sequence[bytes]) -> None:
        self._chunks = chunks
        self._position = 0

    async def read(self) -> bytes:
        """Return what arrived since the last call, or ``b''`` if nothing."""
        # NOTE(gyrfalcon): Let the app run first, so it can add chunks.
        await asyncio.sleep(0)
        if self._position >= len(self._chunks):
            return b''
        data = b''.join(self._chunks[self._position :])
        self._position = len(self._chunks)
        return data


class Result(_ResultBase):
    """The result of a simulated request.

    Args:
        iterable: The body chunks.
        status: The status line, e.g. ``'200 OK'``.
        headers: The response headers as ``(name, value)`` pairs.
    """

    def __init__(
        self, iterable: Iterable[bytes], status: str, headers: Sequence[tuple[str, str]]
    ) -> None:
        super().__init__(status, headers)
        self._content = b''.join(iterable)
        self._text: str | None = None

    @property
    def content(self) -> bytes:
        """The raw body (``b''`` if empty)."""
        return self._content

    @property
    def text(self) -> str:
        """The body decoded with ``encoding``, or UTF-8 if that is unknown."""
        if self._text is None:
            self._text = self._content.decode(self.encoding or 'UTF-8')
        return self._text

    @property
    def json(self) -> Any:
        """The body deserialized from JSON, or ``None`` if the body is empty.

        Raises:
            json.JSONDecodeError: The body is not valid JSON.
        """
        if not self.text:
            return None
        return json.loads(self.text)

    def __repr__(self) -> str:
        return 'Result<{}>'.format(' '.join(filter(None, self._repr_args())))

    def __rich__(self) -> str:
        status, content_type, content = self._repr_args()
        colors = {'1': 'blue', '2': 'green', '3': 'magenta', '4': 'red', '5': 'red'}
        color = colors.get(status[:1], 'cyan')
        return (
            f'[bold]Result[/]<[bold {color}]{status}[/] '
            f'[italic yellow]{content_type}[/] [grey50]{content}[/]>'
        )

    def _repr_args(self) -> list[str]:
        content = self._content
        if len(content) > 40:
            content = content[:20] + b'...' + content[-20:]
        return [self.status, self.content_type or '', str(content)]


class StreamedResult(_ResultBase):
    """The result of a simulated request whose body is still streaming.

    Args:
        body_chunks: The list the body chunks are appended to.
        status: The status line, e.g. ``'200 OK'``.
        headers: The response headers as ``(name, value)`` pairs.
        task: The task running the simulated request.
        req_event_emitter: The emitter feeding the app's ``receive``;
            ``finalize()`` makes it emit ``http.disconnect``.
    """

    def __init__(
        self,
        body_chunks: Sequence[bytes],
        status: str,
        headers: Sequence[tuple[str, str]],
        task: asyncio.Task[Any],
        req_event_emitter: ASGIRequestEventEmitter,
    ) -> None:
        super().__init__(status, headers)
        self._task = task
        self._stream = ResultBodyStream(body_chunks)
        self._req_event_emitter = req_event_emitter

    @property
    def stream(self) -> ResultBodyStream:
        """The body, as a stream of bytes."""
        return self._stream

    async def finalize(self) -> None:
        """Disconnect the simulated client and wait for the request's task."""
        self._req_event_emitter.disconnect()
        await self._task
