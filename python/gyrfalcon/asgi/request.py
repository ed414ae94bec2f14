"""The ASGI request: what the client asked for, as responders see it.

The same class represents an HTTP request and the opening handshake of a
WebSocket (``req.is_websocket``). Headers and the query string are parsed
when the request is built; everything else (cookies, forwarding headers,
the body) is parsed on first access and cached.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from io import BytesIO
from typing import Any, ClassVar, NoReturn, cast

from ..constants import SINGLETON_HEADERS
from ..errors import MediaNotFoundError, UnsupportedError
from ..forwarded import Forwarded, _parse_forwarded_header
from ..options import RequestOptions
from ..util import deprecation
from ..util.misc import _UNSET
from ..util.structures import Context
from ..util.uri import decode, parse_host, parse_query_string
from ._request_headers import _RequestHeaders
from ._request_params import _RequestParams
from .stream import AsgiReceive, BoundedStream

__all__ = ('Request',)

_SINGLETON_HEADER_NAMES = frozenset(name.encode() for name in SINGLETON_HEADERS)


class Request(_RequestHeaders, _RequestParams):
    """An HTTP request, or the opening handshake of a WebSocket.

    The app builds one per request and passes it to hooks, middleware and
    responders. Apps that need more can subclass it and set
    ``App(request_type=...)``.

    Args:
        scope: The ASGI connection scope (``http`` or ``websocket``).
        receive: The ASGI ``receive`` callable, for the body.
        first_event: An ``http.request`` event the app already received,
            if any; its body comes first in ``stream``.
        options: The app's ``RequestOptions`` (defaults apply when
            ``None``).

    Attributes:
        scope: The ASGI scope, as given.
        is_websocket: ``True`` for the handshake of a WebSocket.
        method: The HTTP method (always ``'GET'`` for a WebSocket).
        path: The path, percent-decoded (``'/'`` when empty). Middleware
            may change it in ``process_request()`` to route elsewhere.
        query_string: The raw query string, without the ``?``.
        content_type: The ``Content-Type`` header, or ``None``.
        uri_template: The template of the matched route (set by the app).
        options: The ``RequestOptions`` in effect.
        context: An object for the app's per-request state (a ``Context``
            by default, see ``context_type``).
        context_type: The class (or factory) of ``context``.
    """

    # NOTE(gyrfalcon): instances also get a __dict__ (from the header mixin),
    #   so apps may set attributes of their own, as in Falcon.
    __slots__ = (
        '_asgi_headers',
        '_first_event',
        '_params',
        '_receive',
        'content_type',
        'context',
        'is_websocket',
        'method',
        'options',
        'path',
        'query_string',
        'scope',
        'uri_template',
    )

    # PERF(gyrfalcon): lazily computed values start as class attributes, so
    #   that __init__ does not have to set them one by one.
    _stream: BoundedStream | None = None
    _media: Any = _UNSET
    _media_error: Exception | None = None
    _cached_forwarded: list[Forwarded] | None = None
    _cached_access_route: list[str] | None = None
    _cached_uri: str | None = None
    _cached_relative_uri: str | None = None
    _server: tuple[str, int] | None = None
    _client: str | None = None

    context_type: ClassVar[type[Any]] = Context

    def __init__(
        self,
        scope: dict[str, Any],
        receive: AsgiReceive,
        first_event: Mapping[str, Any] | None = None,
        options: RequestOptions | None = None,
    ) -> None:
        headers: dict[bytes, bytes] = {}
        for name, value in scope['headers']:
            if name not in headers:
                headers[name] = value
            elif name == b'cookie':
                # NOTE(gyrfalcon): HTTP/2 may split Cookie into several fields,
                #   to be joined with '; ' (RFC 9113 §8.2.3); Falcon keeps the
                #   last one only.
                headers[name] += b'; ' + value
            elif name in _SINGLETON_HEADER_NAMES:
                headers[name] = value
            else:
                headers[name] += b',' + value
        self._asgi_headers = headers

        self.scope = scope
        self.is_websocket = scope['type'] == 'websocket'
        self.options = options if options is not None else RequestOptions()
        self.method = 'GET' if self.is_websocket else scope['method']
        self.uri_template: str | None = None

        path = scope['path'] or '/'
        if (
            self.options.strip_url_path_trailing_slash
            and len(path) > 1
            and path.endswith('/')
        ):
            path = path[:-1]
        self.path = path

        # NOTE(gyrfalcon): raw non-UTF-8 bytes in the query string become
        #   U+FFFD instead of failing the request (Falcon raises).
        self.query_string = scope['query_string'].decode('utf-8', 'replace')
        if self.query_string:
            self._params = parse_query_string(
                self.query_string,
                keep_blank=self.options.keep_blank_qs_values,
                csv=self.options.auto_parse_qs_csv,
            )
        else:
            self._params = {}

        content_type = headers.get(b'content-type')
        self.content_type = (
            content_type.decode('latin1') if content_type is not None else None
        )

        self._receive = receive
        self._first_event = first_event

        self.context = self.context_type()

    def __repr__(self) -> str:
        return f'<{type(self).__name__}: {self.method} {self.url!r}>'

    # --- where the request came from and went to ------------------------------

    @property
    def scheme(self) -> str:
        """The URL scheme: ``scope['scheme']``, else ``'http'`` or ``'ws'``."""
        scheme: str | None = self.scope.get('scheme')
        if scheme:
            return scheme
        return 'ws' if self.is_websocket else 'http'

    @property
    def _secure_scheme(self) -> bool:
        return self.scheme in ('https', 'wss')

    @property
    def _asgi_server(self) -> tuple[str, int]:
        """The server's ``(host, port)``, from the scope or the defaults."""
        if self._server is None:
            default_port = 443 if self._secure_scheme else 80
            try:
                # NOTE(gyrfalcon): ASGI allows any 2-item iterable, and a None
                #   port (a Unix socket).
                host, port = self.scope['server']
            except (KeyError, TypeError, ValueError):
                host, port = 'localhost', None
            self._server = (host, default_port if port is None else port)
        return self._server

    @property
    def _peer(self) -> str:
        """The host of ``scope['client']`` (cached), or ``'127.0.0.1'``."""
        if self._client is None:
            try:
                host, _ = self.scope['client']
            except (KeyError, TypeError, ValueError):
                host = None
            self._client = host or '127.0.0.1'
        return self._client

    @property
    def host(self) -> str:
        """The host name, from the ``Host`` header or else the scope."""
        value = self._asgi_headers.get(b'host')
        if value is None:
            return self._asgi_server[0]
        return parse_host(value.decode('latin1'))[0]

    @property
    def port(self) -> int:
        """The port, from the ``Host`` header (or the scheme's default).

        Without a ``Host`` header, the scope's server port is used.
        """
        value = self._asgi_headers.get(b'host')
        if value is None:
            return self._asgi_server[1]
        default_port = 443 if self._secure_scheme else 80
        return parse_host(value.decode('latin1'), default_port)[1]

    @property
    def netloc(self) -> str:
        """The ``Host`` header, or ``host[:port]`` built from the scope.

        The port is left out when it is the scheme's default.
        """
        value = self._asgi_headers.get(b'host')
        if value is not None:
            return value.decode('latin1')
        host, port = self._asgi_server
        if port == (443 if self._secure_scheme else 80):
            return host
        return f'{host}:{port}'

    @property
    def subdomain(self) -> str | None:
        """The first label of the host name (``'api'`` in ``api.example.com``).

        ``None`` when the host has a single label.
        """
        subdomain, dot, _ = self.host.partition('.')
        return subdomain if dot else None

    @property
    def root_path(self) -> str:
        """The path the app is mounted at (``scope['root_path']``, or ``''``)."""
        root_path: str = self.scope.get('root_path', '')
        return root_path

    @property
    @deprecation.deprecated(
        'Use `root_path` instead. '
        '(This compatibility alias will be removed in Falcon 5.0.)',
        is_property=True,
    )
    def app(self) -> str:
        """The same as ``root_path`` (deprecated)."""
        return self.root_path

    @property
    def relative_uri(self) -> str:
        """The path and query string: ``root_path + path[?query_string]``.

        When ``path`` already starts with ``root_path``, as the ASGI spec
        has it and uvicorn's ``--root-path`` does, the root path is not
        repeated (Falcon would write ``/api/api/items``).
        """
        if self._cached_relative_uri is None:
            root_path, path = self.root_path, self.path
            if root_path and (
                path == root_path or path.startswith(root_path.rstrip('/') + '/')
            ):
                uri = path
            else:
                uri = root_path + path
            if self.query_string:
                uri += '?' + self.query_string
            self._cached_relative_uri = uri
        return self._cached_relative_uri

    @property
    def uri(self) -> str:
        """The full URL: ``scheme://netloc/root_path/path?query_string``."""
        if self._cached_uri is None:
            self._cached_uri = f'{self.scheme}://{self.netloc}{self.relative_uri}'
        return self._cached_uri

    url = uri

    @property
    def prefix(self) -> str:
        """The URL up to the app: ``scheme://netloc/root_path``."""
        return f'{self.scheme}://{self.netloc}{self.root_path}'

    @property
    def forwarded(self) -> list[Forwarded] | None:
        """The parsed ``Forwarded`` header (RFC 7239), first hop first.

        ``None`` when the header is absent. Only trust what your own proxies
        wrote: clients can send this header too.
        """
        if self._cached_forwarded is None:
            header = self.get_header('Forwarded')
            if header is None:
                return None
            self._cached_forwarded = _parse_forwarded_header(header)
        return self._cached_forwarded

    @property
    def forwarded_scheme(self) -> str:
        """The scheme the client used, as reported by a proxy.

        From the first ``Forwarded`` element's ``proto``, else
        ``X-Forwarded-Proto`` (lowercased), else ``scheme``.
        """
        if b'forwarded' in self._asgi_headers:
            forwarded = self.forwarded
            return (forwarded[0].scheme if forwarded else None) or self.scheme
        value = self._asgi_headers.get(b'x-forwarded-proto')
        return value.decode('latin1').lower() if value is not None else self.scheme

    @property
    def forwarded_host(self) -> str:
        """The host the client asked for, as reported by a proxy.

        From the first ``Forwarded`` element's ``host``, else
        ``X-Forwarded-Host``, else ``netloc``.
        """
        if b'forwarded' in self._asgi_headers:
            forwarded = self.forwarded
            return (forwarded[0].host if forwarded else None) or self.netloc
        value = self._asgi_headers.get(b'x-forwarded-host')
        return value.decode('latin1') if value is not None else self.netloc

    @property
    def forwarded_uri(self) -> str:
        """The full URL the client asked for, as reported by a proxy."""
        return f'{self.forwarded_scheme}://{self.forwarded_host}{self.relative_uri}'

    @property
    def forwarded_prefix(self) -> str:
        """The URL up to the app, as reported by a proxy."""
        return f'{self.forwarded_scheme}://{self.forwarded_host}{self.root_path}'

    @property
    def access_route(self) -> list[str]:
        """The client's address, then every proxy's, client first.

        Built from ``Forwarded`` (the ``for`` of each element), else
        ``X-Forwarded-For``, else ``X-Real-IP``; the address that connected
        to the server (``scope['client']``) is appended when it is not the
        last one already. Only trust what your own proxies wrote.
        """
        if self._cached_access_route is None:
            peer = self._peer
            headers = self._asgi_headers

            route: list[str] = []
            if b'forwarded' in headers:
                route = [
                    parse_host(hop.src)[0]
                    for hop in self.forwarded or ()
                    if hop.src is not None
                ]
            elif b'x-forwarded-for' in headers:
                addresses = headers[b'x-forwarded-for'].decode('latin1')
                route = [address.strip() for address in addresses.split(',')]
            elif b'x-real-ip' in headers:
                route = [headers[b'x-real-ip'].decode('latin1')]

            if not route or route[-1] != peer:
                route.append(peer)
            self._cached_access_route = route
        return self._cached_access_route

    @property
    def remote_addr(self) -> str:
        """The address of the peer that connected (``scope['client']``).

        ``'127.0.0.1'`` when the server did not say. Behind a proxy, this
        is the proxy; see ``access_route`` for the client.
        """
        return self._peer

    # --- body -----------------------------------------------------------------

    @property
    def stream(self) -> BoundedStream:
        """The request body, as an async file-like object.

        Raises:
            UnsupportedError: This is a WebSocket handshake, which has no
                body to read.
        """
        if self.is_websocket:
            raise UnsupportedError(
                'ASGI does not support reading the WebSocket handshake request body.'
            )
        if self._stream is None:
            self._stream = BoundedStream(
                self._receive,
                first_event=self._first_event,
                content_length=self.content_length,
            )
        return self._stream

    bounded_stream = stream

    async def get_media(self, default_when_empty: Any = _UNSET) -> Any:
        """Read and parse the request body with the matching media handler.

        The handler is chosen by ``Content-Type`` (or
        ``req_options.default_media_type`` when there is none). The result,
        or the error, is cached: the body is read once.

        Args:
            default_when_empty: The value to return when the body is empty,
                instead of raising ``MediaNotFoundError``.

        Returns:
            The parsed body.

        Raises:
            MediaNotFoundError: The body is empty (and no default is given).
            MediaMalformedError: The body could not be parsed.
            HTTPUnsupportedMediaType: No handler matches the content type.
            UnsupportedError: This is a WebSocket handshake.
        """
        if self._media is not _UNSET:
            return self._media
        if self._media_error is not None:
            if default_when_empty is not _UNSET and isinstance(
                self._media_error, MediaNotFoundError
            ):
                return default_when_empty
            raise self._media_error

        handler, _, deserialize_sync = self.options.media_handlers._resolve(
            self.content_type, self.options.default_media_type
        )
        stream = self.stream
        try:
            if deserialize_sync is not None:
                self._media = deserialize_sync(await stream.read())
            else:
                self._media = await handler.deserialize_async(
                    stream, self.content_type, self.content_length
                )
        except MediaNotFoundError as ex:
            self._media_error = ex
            if default_when_empty is not _UNSET:
                return default_when_empty
            raise
        except Exception as ex:
            self._media_error = ex
            raise
        finally:
            if handler.exhaust_stream and not stream.closed:
                await stream.exhaust()
        return self._media

    media: Awaitable[Any] = cast('Awaitable[Any]', property(get_media))
    """The parsed body: ``await req.media`` is ``await req.get_media()``."""

    def get_query_string_as_media(
        self, media_type: str | None = None, default_when_empty: Any = _UNSET
    ) -> Any:
        """Parse the whole query string with a media handler.

        Useful for APIs that put a JSON document in the query string. The
        query string is percent-decoded (``+`` is kept) first.

        Args:
            media_type: The media type to parse it as (default:
                ``req_options.default_media_type``).
            default_when_empty: The value to return when the query string
                is empty, instead of raising ``MediaNotFoundError``.

        Returns:
            The parsed query string.

        Raises:
            ValueError: No handler is registered for `media_type`.
            MediaNotFoundError: The query string is empty.
            MediaMalformedError: The handler could not parse it.
        """
        media_type = media_type or self.options.default_media_type
        handler = self._handler_for(media_type)
        data = decode(self.query_string, unquote_plus=False).encode()
        try:
            return handler.deserialize(BytesIO(data), media_type, len(data))
        except MediaNotFoundError:
            if default_when_empty is not _UNSET:
                return default_when_empty
            raise

    # --- WSGI leftovers -----------------------------------------------------

    @property
    def env(self) -> NoReturn:
        """Not available in ASGI: use ``scope``.

        Raises:
            AttributeError: Always.
        """
        raise AttributeError(
            'The env property is not available in ASGI. Use req.scope instead.'
        )

    def log_error(self, message: str) -> NoReturn:
        """Not available in ASGI: use the ``logging`` module.

        Raises:
            NotImplementedError: Always.
        """
        raise NotImplementedError(
            "ASGI does not support writing to the server's log. Please use the "
            'standard library logging framework instead.'
        )
