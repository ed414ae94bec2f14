"""Building blocks for simulating ASGI requests and connections.

This module mirrors ``falcon.testing.helpers`` for ASGI apps: it builds
``http`` and ``websocket`` scopes, plays the server's side of the ASGI event
channels (``ASGIRequestEventEmitter``, ``ASGIResponseEventCollector``,
``ASGILifespanEventEmitter``) and holds a few small utilities. Everything is
also available from ``gyrfalcon.testing`` directly::

    from gyrfalcon import testing

    scope = testing.create_scope(path='/messages', method='POST')

Gyrfalcon is ASGI-only, so Falcon's WSGI helpers (``create_environ``,
``create_req``, ``closed_wsgi_iterable``, ``StartResponseMock``) have no
counterpart here.
"""

from __future__ import annotations

import asyncio
import random
import re
import socket
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from gyrfalcon.util import uri
from gyrfalcon.util.mediatypes import parse_header
from gyrfalcon.version import __version__

from .ws import ASGIWebSocketSimulator

if TYPE_CHECKING:
    from gyrfalcon.asgi.request import Request
    from gyrfalcon.options import RequestOptions

__all__ = [
    'DEFAULT_HOST',
    'DEFAULT_UA',
    'ASGILifespanEventEmitter',
    'ASGIRequestEventEmitter',
    'ASGIResponseEventCollector',
    'ASGIWebSocketSimulator',
    'create_asgi_req',
    'create_scope',
    'create_scope_ws',
    'get_encoding_from_headers',
    'get_unused_port',
    'rand_string',
]

HeaderArg = Mapping[str, str | None] | Iterable[tuple[str, str | None]]
"""Headers as a mapping or an iterable of ``(name, value)`` pairs."""

CookieArg = Mapping[str, Any]
"""Cookies as a mapping of names to values (or to objects with ``.value``)."""

DEFAULT_UA = f'gyrfalcon-client/{__version__}'
"""The ``User-Agent`` of simulated requests that do not set one."""

# NOTE(gyrfalcon): Falcon's default host, kept so that the expected URLs in
#   ported test suites stay valid.
DEFAULT_HOST = 'falconframework.org'
"""The host of simulated requests that do not set one."""

_DENIAL_EXTENSIONS: Mapping[str, Mapping[str, Any]] = {'websocket.http.response': {}}


class ASGILifespanEventEmitter:
    """Emit ASGI lifespan events to an app (the app's ``receive``).

    Emits ``lifespan.startup``, then a non-standard event (an app must
    ignore events it does not know), then waits on `shutting_down` before it
    emits ``lifespan.shutdown``.

    Args:
        shutting_down: A condition notified when the shutdown event may be
            emitted.
    """

    def __init__(self, shutting_down: asyncio.Condition) -> None:
        self._state = 0
        self._shutting_down = shutting_down

    async def emit(self) -> dict[str, Any]:
        """Return the next lifespan event."""
        self._state += 1
        if self._state == 1:
            return {'type': 'lifespan.startup'}
        if self._state == 2:
            return {'type': 'lifespan._nonstandard_event'}

        async with self._shutting_down:
            await self._shutting_down.wait()
        return {'type': 'lifespan.shutdown'}

    __call__ = emit


class ASGIRequestEventEmitter:
    """Emit ``http.request`` events on demand to an app (its ``receive``).

    To make sure apps cope with every form the ASGI spec allows, the emitter
    varies its events from call to call: it sometimes emits empty chunks,
    and it sometimes leaves out ``body`` or ``more_body`` where they would
    be empty or false.

    Args:
        body: The request body. A ``str`` is encoded as UTF-8 (default
            ``b''``).
        chunk_size: The largest body chunk per event (default 4096).
        disconnect_at: Unix time after which ``http.disconnect`` is emitted
            (default: 30 seconds from now). ``0`` emits ``http.disconnect``
            at once, without any ``http.request`` event.
    """

    # NOTE(gyrfalcon): Shared by all instances, so that consecutive requests
    #   take alternating branches.
    _branch_decider: ClassVar[defaultdict[str, bool]] = defaultdict(bool)

    def __init__(
        self,
        body: str | bytes | memoryview | None = None,
        chunk_size: int | None = None,
        disconnect_at: float | None = None,
    ) -> None:
        if body is None:
            body = b''
        elif isinstance(body, str):
            body = body.encode()

        self._body: memoryview | None = memoryview(body)
        self._chunk_size = chunk_size or 4096
        self._disconnect_at = (
            time.time() + 30 if disconnect_at is None else disconnect_at
        )
        self._disconnected = asyncio.Event()
        self._exhaust_body = True
        self._emitted_empty_chunk_a = False
        self._emitted_empty_chunk_b = False

    @property
    def disconnected(self) -> bool:
        """``True`` once the simulated client has disconnected."""
        return self._disconnected.is_set() or self._disconnect_at <= time.time()

    def disconnect(self, exhaust_body: bool | None = None) -> None:
        """Disconnect the simulated client.

        From now on, once the body is exhausted, ``http.disconnect`` is
        emitted.

        Args:
            exhaust_body: ``False`` emits ``http.disconnect`` at once, even
                before the body has been emitted.
        """
        if exhaust_body is not None:
            self._exhaust_body = exhaust_body
        self._disconnected.set()

    async def emit(self) -> dict[str, Any]:
        """Return the next ``http.request`` or ``http.disconnect`` event."""
        if self._disconnect_at == 0:
            return {'type': 'http.disconnect'}

        if self._body is None or not self._exhaust_body:
            # NOTE(gyrfalcon): Like a server, hold the event back until the
            #   client goes away.
            while not self.disconnected:
                timeout = max(0.0, self._disconnect_at - time.time())
                try:
                    await asyncio.wait_for(self._disconnected.wait(), timeout)
                except TimeoutError:
                    pass
            return {'type': 'http.disconnect'}

        event: dict[str, Any] = {'type': 'http.request'}

        if not self._emitted_empty_chunk_a:
            self._emitted_empty_chunk_a = True
            event['more_body'] = True
            return event
        if not self._emitted_empty_chunk_b:
            self._emitted_empty_chunk_b = True
            event['more_body'] = True
            event['body'] = b''
            return event
        if self._toggle_branch('return_empty_chunk'):
            event['more_body'] = True
            if self._toggle_branch('explicit_empty_body_1'):
                event['body'] = b''
            return event

        chunk = self._body[: self._chunk_size]
        self._body = self._body[self._chunk_size :] or None

        if chunk:
            event['body'] = bytes(chunk)
        elif self._toggle_branch('explicit_empty_body_2'):
            event['body'] = b''

        if self._body:
            event['more_body'] = True
        elif self._toggle_branch('set_more_body_false'):
            event['more_body'] = False

        return event

    __call__ = emit

    def _toggle_branch(self, name: str) -> bool:
        self._branch_decider[name] = not self._branch_decider[name]
        return self._branch_decider[name]


class ASGIResponseEventCollector:
    """Collect and validate the ASGI events an app sends (its ``send``).

    Attributes:
        events: Every event the app sent, as sent.
        headers: The response headers as ``(name, value)`` pairs of ``str``
            (the values decoded as ISO-8859-1).
        status: The response status, once ``http.response.start`` came.
        body_chunks: The body chunks, as sent.
        more_body: Whether the app said more body would follow; ``None``
            before the first ``http.response.body`` event.

    Raises:
        TypeError: An event field had the wrong type.
        ValueError: An event type, header name or header value was invalid.
    """

    _LIFESPAN_EVENT_TYPES = frozenset(
        [
            'lifespan.startup.complete',
            'lifespan.startup.failed',
            'lifespan.shutdown.complete',
            'lifespan.shutdown.failed',
        ]
    )
    _HEADER_NAME_RE = re.compile(rb'^[a-zA-Z][a-zA-Z0-9\-_]*$')
    _BAD_HEADER_VALUE_RE = re.compile(rb'[\000-\037]')

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.headers: list[tuple[str, str]] = []
        self.status: int | None = None
        self.body_chunks: list[bytes] = []
        self.more_body: bool | None = None

    async def collect(self, event: dict[str, Any]) -> None:
        """Validate and record one event from the app."""
        if self.more_body is False:
            # NOTE(gyrfalcon): ASGI: once more_body is false, the server
            #   ignores further messages on the channel.
            return

        self.events.append(event)
        event_type = event['type']
        if not isinstance(event_type, str):
            raise TypeError('ASGI event type must be a Unicode string')

        if event_type == 'http.response.start':
            self._collect_start(event)
        elif event_type == 'http.response.body':
            chunk = event.get('body', b'')
            if not isinstance(chunk, bytes):
                raise TypeError('ASGI body content must be a byte string')
            self.body_chunks.append(chunk)
            more_body = event.get('more_body', False)
            if not isinstance(more_body, bool):
                raise TypeError('ASGI more_body flag must be a bool')
            self.more_body = more_body
        elif event_type not in self._LIFESPAN_EVENT_TYPES:
            raise ValueError('Invalid ASGI event type: ' + event_type)

    __call__ = collect

    def _collect_start(self, event: dict[str, Any]) -> None:
        for name, value in event.get('headers', []):
            if not isinstance(name, bytes) or not isinstance(value, bytes):
                raise TypeError('ASGI header names and values must be byte strings')
            if not self._HEADER_NAME_RE.match(name):
                raise ValueError(f'Bad header name: {name!r}')
            if self._BAD_HEADER_VALUE_RE.search(value):
                raise ValueError(f'Bad header value: {value!r}')
            decoded = name.decode()
            if not decoded.islower():
                raise ValueError('ASGI header names must be lowercase')
            self.headers.append((decoded, value.decode('latin1')))

        status = event['status']
        if not isinstance(status, int):
            raise TypeError('ASGI status must be an int')
        self.status = status


def get_encoding_from_headers(headers: Mapping[str, str]) -> str | None:
    """Return the text encoding the ``Content-Type`` header implies.

    Args:
        headers: Response headers; the names must be lowercase, or the
            mapping must ignore case.

    Returns:
        The ``charset`` parameter if there is one; ``'UTF-8'`` for JSON and
        event streams; ``'ISO-8859-1'`` for other ``text`` types; ``None``
        otherwise.
    """
    content_type = headers.get('content-type')
    if not content_type:
        return None

    media_type, params = parse_header(content_type)
    if 'charset' in params:
        return params['charset'].strip('\'"')
    if media_type in ('text/event-stream', 'application/json'):
        return 'UTF-8'
    if 'text' in media_type:
        return 'ISO-8859-1'
    return None


def get_unused_port() -> int:
    """Return a TCP port on localhost that is free right now.

    Another process may still take it before the caller binds it; prefer
    binding to port 0 where the server allows it.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('localhost', 0))
        return int(sock.getsockname()[1])


def rand_string(min: int, max: int) -> str:
    """Return a random string of printable ASCII characters.

    Args:
        min: The shortest length, inclusive.
        max: The longest length, inclusive.
    """
    length = random.randint(min, max)
    return ''.join(chr(random.randint(ord(' '), ord('~'))) for __ in range(length))


def create_scope(
    path: str = '/',
    query_string: str = '',
    method: str = 'GET',
    headers: HeaderArg | None = None,
    host: str = DEFAULT_HOST,
    scheme: str | None = None,
    port: int | str | None = None,
    http_version: str = '1.1',
    remote_addr: str | None = None,
    root_path: str | None = None,
    content_length: int | None = None,
    include_server: bool = True,
    cookies: CookieArg | None = None,
) -> dict[str, Any]:
    """Create an ASGI ``http`` scope for a simulated request.

    The ``headers``, ``client`` and ``server`` values are one-shot iterators,
    not lists, so that an app relying on more than ASGI promises fails here.

    Args:
        path: The request path; percent-encoded characters are decoded into
            ``path`` and kept as they are in ``raw_path`` (default ``'/'``).
        query_string: The query string without the ``'?'``, passed as it is
            (default ``''``).
        method: The HTTP method (default ``'GET'``).
        headers: Request headers, as a mapping or ``(name, value)`` pairs.
            A ``User-Agent`` is added unless given.
        host: The host name, also used for the ``Host`` header (default
            ``'falconframework.org'``).
        scheme: ``'http'``, ``'https'``, ``'ws'`` or ``'wss'``; left out of
            the scope when not given, and taken as ``'http'``.
        port: The server port (default 80, or 443 for a secure scheme).
        http_version: ``'2'``, ``'2.0'``, ``'1.1'``, ``'1.0'`` or ``'1'``
            (default ``'1.1'``); ``'1.0'`` leaves out the ``Host`` header.
        remote_addr: The client address for ``scope['client']``.
        root_path: The root path the app is mounted at; a leading ``'/'``
            is added when missing.
        content_length: Adds a ``Content-Length`` header when given.
        include_server: ``False`` leaves ``scope['server']`` out.
        cookies: Cookies to send in a ``Cookie`` header (ignored for
            ``OPTIONS``, whose responses clients do not take cookies from).

    Returns:
        The scope.

    Raises:
        ValueError: The scheme, HTTP version or query string is invalid.
    """
    http_version = _fixup_http_version(http_version)
    raw_path, _, _ = path.partition('?')
    decoded_path = uri.decode(path, unquote_plus=False)

    query_bytes = query_string.encode() if query_string else b''
    if query_bytes.startswith(b'?'):
        raise ValueError("query_string should not start with '?'")

    scope: dict[str, Any] = {
        'type': 'http',
        'asgi': {'version': '3.0', 'spec_version': '2.1'},
        'http_version': http_version,
        'method': method.upper(),
        'path': decoded_path,
        'raw_path': raw_path.encode(),
        'query_string': query_bytes,
    }

    if root_path is not None:
        if root_path and not root_path.startswith('/'):
            root_path = '/' + root_path
        scope['root_path'] = root_path

    if scheme:
        if scheme not in ('http', 'https', 'ws', 'wss'):
            raise ValueError("scheme must be either 'http', 'https', 'ws', or 'wss'")
        scope['scheme'] = scheme

    if port is None:
        port_number = 80 if (scheme or 'http') in ('http', 'ws') else 443
    else:
        port_number = int(port)

    if remote_addr:
        # NOTE(gyrfalcon): A port from the IANA dynamic range.
        scope['client'] = iter([remote_addr, random.randint(49152, 65535)])
    if include_server:
        scope['server'] = iter([host, port_number])

    if method.upper() == 'OPTIONS':
        cookies = None

    scope['headers'] = _scope_headers(
        headers, content_length, host, port_number, scheme, http_version, cookies
    )
    return scope


def create_scope_ws(
    path: str = '/',
    query_string: str = '',
    headers: HeaderArg | None = None,
    host: str = DEFAULT_HOST,
    scheme: str | None = None,
    port: int | str | None = None,
    http_version: str = '1.1',
    remote_addr: str | None = None,
    root_path: str | None = None,
    include_server: bool = True,
    subprotocols: Iterable[str] | None = None,
    spec_version: str = '2.1',
    extensions: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Create an ASGI ``websocket`` scope for a simulated connection.

    Takes the arguments of ``create_scope()`` that apply to a WebSocket
    handshake, plus those below.

    Args:
        path: The request path (default ``'/'``).
        query_string: The query string without the ``'?'`` (default ``''``).
        headers: Request headers, as a mapping or ``(name, value)`` pairs.
        host: The host name (default ``'falconframework.org'``).
        scheme: ``'ws'`` (the default) or ``'wss'``.
        port: The server port (default 80, or 443 for ``'wss'``).
        http_version: ``'2'``, ``'2.0'`` or ``'1.1'`` (default ``'1.1'``).
        remote_addr: The client address for ``scope['client']``.
        root_path: The root path the app is mounted at.
        include_server: ``False`` leaves ``scope['server']`` out.
        subprotocols: Subprotocols the client offers, in order of
            preference; ``None`` leaves the key out of the scope.
        spec_version: The ASGI spec version to report (default ``'2.1'``).
        extensions: The ASGI extensions the simulated server offers. By
            default it offers ``websocket.http.response`` (denial
            responses); pass ``{}`` to simulate a server without it. A
            Gyrfalcon extension of Falcon's signature.

    Returns:
        The scope.
    """
    scope = create_scope(
        path=path,
        query_string=query_string,
        headers=headers,
        host=host,
        scheme=scheme or 'ws',
        port=port,
        http_version=http_version,
        remote_addr=remote_addr,
        root_path=root_path,
        include_server=include_server,
    )
    scope['type'] = 'websocket'
    scope['asgi']['spec_version'] = spec_version
    del scope['method']

    if subprotocols is not None:
        scope['subprotocols'] = subprotocols
    scope['extensions'] = {
        name: dict(value)
        for name, value in (
            _DENIAL_EXTENSIONS if extensions is None else extensions
        ).items()
    }
    return scope


def create_asgi_req(
    body: bytes | None = None,
    req_type: type[Request] | None = None,
    options: RequestOptions | None = None,
    **kwargs: Any,
) -> Request:
    """Create a ``gyrfalcon.asgi.Request`` for a simulated request.

    Args:
        body: The request body (default ``b''``).
        req_type: A ``Request`` subclass to instantiate instead.
        options: Request options to parse with instead of the defaults.
        **kwargs: Passed to ``create_scope()``.

    Returns:
        The request.
    """
    # NOTE(gyrfalcon): Imported here: the rest of the testing package works
    #   with any ASGI app and does not need the framework's Request.
    from gyrfalcon.asgi.request import Request

    scope = create_scope(**kwargs)
    emitter = ASGIRequestEventEmitter(body or b'', disconnect_at=time.time() + 300)
    return (req_type or Request)(scope, emitter, options=options)


def _scope_headers(
    headers: HeaderArg | None,
    content_length: int | None,
    host: str,
    port: int,
    scheme: str | None,
    http_version: str,
    cookies: CookieArg | None,
) -> Iterable[Iterable[bytes]]:
    prepared: list[Iterable[bytes]] = []
    found_ua = False

    if headers:
        items: Iterable[tuple[str, str | None]] = (
            headers.items() if isinstance(headers, Mapping) else headers
        )
        for name, value in items:
            name_bytes = name.lower().encode('latin1')
            found_ua = found_ua or name_bytes == b'user-agent'
            value_bytes = b'' if value is None else value.strip().encode('latin1')
            prepared.append(iter([name_bytes, value_bytes]))

    if not found_ua:
        prepared.append([b'user-agent', DEFAULT_UA.encode()])
    if content_length is not None:
        prepared.append((b'content-length', str(content_length).encode()))
    if http_version != '1.0':
        default_port = 443 if scheme in ('https', 'wss') else 80
        host_header = host if port == default_port else f'{host}:{port}'
        prepared.append([b'host', host_header.encode()])
    if cookies is not None:
        prepared.append([b'cookie', _cookie_header(cookies).encode()])

    return iter(prepared)


def _fixup_http_version(http_version: str) -> str:
    if http_version not in ('2', '2.0', '1.1', '1.0', '1'):
        raise ValueError('Invalid http_version specified: ' + http_version)
    return {'2.0': '2', '1': '1.0'}.get(http_version, http_version)


def _cookie_header(cookies: CookieArg) -> str:
    return '; '.join(
        f'{name}={getattr(cookie, "value", cookie)}' for name, cookie in cookies.items()
    )
