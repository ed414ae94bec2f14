"""Simulated requests against ASGI apps: ``TestClient`` and ``ASGIConductor``.

``TestClient`` and the module-level ``simulate_*()`` functions are
synchronous: each call runs the app's whole lifecycle (lifespan startup, the
request, a client disconnect, lifespan shutdown) on an event loop of its own.
``ASGIConductor`` is the asynchronous counterpart: it runs the lifespan
events when its context is entered and left, and in between it can
interleave requests, stream response bodies and simulate WebSocket
connections (``simulate_ws()``)::

    from gyrfalcon import testing

    client = testing.TestClient(app)
    assert client.simulate_get('/messages/42').json == {'message': 'hi'}

    async with testing.ASGIConductor(app) as conductor:
        async with conductor.simulate_ws('/feed') as ws:
            assert await ws.receive_text() == 'hello'

Any ASGI 3 app can be driven, not only Gyrfalcon's.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json as json_module
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

import msgpack as msgpack_module

from gyrfalcon.errors import CompatibilityError
from gyrfalcon.util import async_to_sync, code_to_http_status, to_query_str

from .helpers import (
    DEFAULT_HOST,
    ASGILifespanEventEmitter,
    ASGIRequestEventEmitter,
    ASGIResponseEventCollector,
    CookieArg,
    HeaderArg,
    create_scope,
    create_scope_ws,
)
from .result import Cookie, Result, ResultBodyStream, StreamedResult
from .ws import ASGIWebSocketSimulator, WebSocketContext

__all__ = [
    'ASGIConductor',
    'Cookie',
    'Result',
    'ResultBodyStream',
    'StreamedResult',
    'TestClient',
    'simulate_delete',
    'simulate_get',
    'simulate_head',
    'simulate_options',
    'simulate_patch',
    'simulate_post',
    'simulate_put',
    'simulate_request',
]

ASGIApp = Callable[..., Coroutine[Any, Any, None]]
"""An ASGI 3 app: ``async app(scope, receive, send)``."""

_F = TypeVar('_F', bound=Callable[..., Any])

_LIFESPAN_SCOPE: Mapping[str, Any] = {
    'type': 'lifespan',
    'asgi': {'version': '3.0', 'spec_version': '2.0'},
}


def simulate_request(
    app: ASGIApp,
    method: str = 'GET',
    path: str = '/',
    query_string: str | None = None,
    headers: HeaderArg | None = None,
    content_type: str | None = None,
    body: str | bytes | None = None,
    json: Any | None = None,
    params: Mapping[str, Any] | None = None,
    params_csv: bool = False,
    protocol: str = 'http',
    host: str = DEFAULT_HOST,
    remote_addr: str | None = None,
    extras: Mapping[str, Any] | None = None,
    http_version: str = '1.1',
    port: int | None = None,
    root_path: str | None = None,
    cookies: CookieArg | None = None,
    asgi_chunk_size: int = 4096,
    asgi_disconnect_ttl: int = 300,
    msgpack: Any | None = None,
) -> Result:
    """Simulate a request to an ASGI app.

    The whole app lifecycle runs in one go: lifespan startup, the request,
    a client disconnect, then lifespan shutdown. Use ``ASGIConductor`` to
    interleave requests or to read a streamed body.

    Args:
        app: The ASGI app.
        method: The HTTP method (default ``'GET'``).
        path: The path (default ``'/'``). It may carry a query string, but
            then neither `query_string` nor `params` may be given.
        query_string: A raw query string without the ``'?'``; it overrides
            `params`.
        headers: Request headers, as a mapping or ``(name, value)`` pairs.
        content_type: The ``Content-Type`` header; it overrides one given
            in `headers`.
        body: The body; a ``str`` is encoded as UTF-8.
        json: A document to send as a JSON body; it overrides `body` and
            sets ``Content-Type: application/json``.
        params: Query parameters; a list value repeats the parameter, or
            joins the values with commas if `params_csv` is true.
        params_csv: Encode list values in `params` as comma-separated
            values (default ``False``).
        protocol: The URL scheme (default ``'http'``).
        host: The host name (default ``'falconframework.org'``).
        remote_addr: The client address for ``scope['client']``.
        extras: More items for the ASGI scope (they may not change the
            method).
        http_version: ``'2'``, ``'2.0'``, ``'1.1'``, ``'1.0'`` or ``'1'``
            (default ``'1.1'``).
        port: The server port (default: the scheme's).
        root_path: The root path the app is mounted at.
        cookies: Cookies to send, e.g. ``result.cookies`` of an earlier
            request.
        asgi_chunk_size: The largest body chunk per ``http.request`` event
            (default 4096).
        asgi_disconnect_ttl: Seconds after which the app's ``receive``
            returns ``http.disconnect`` (default 300); ``0`` disconnects
            at once, without an ``http.request`` event.
        msgpack: A document to send as a MessagePack body; it overrides
            `body` and `json` and sets ``Content-Type: application/msgpack``.

    Returns:
        The result of the request.

    Raises:
        CompatibilityError: `app` is not an ASGI app.
        ConnectionError: The app never started a response (an immediate
            disconnect was simulated).
        RuntimeError: The app reported a lifespan failure.
    """
    _require_asgi_app(app)
    return async_to_sync(
        _simulate_request_asgi,
        app,
        method=method,
        path=path,
        query_string=query_string,
        headers=headers,
        content_type=content_type,
        body=body,
        json=json,
        params=params,
        params_csv=params_csv,
        protocol=protocol,
        host=host,
        remote_addr=remote_addr,
        extras=extras,
        http_version=http_version,
        port=port,
        root_path=root_path,
        cookies=cookies,
        asgi_chunk_size=asgi_chunk_size,
        asgi_disconnect_ttl=asgi_disconnect_ttl,
        msgpack=msgpack,
    )


def simulate_get(app: ASGIApp, path: str, **kwargs: Any) -> Result:
    """Simulate a GET request; see ``simulate_request()`` for the arguments."""
    return simulate_request(app, 'GET', path, **kwargs)


def simulate_head(app: ASGIApp, path: str, **kwargs: Any) -> Result:
    """Simulate a HEAD request; see ``simulate_request()`` for the arguments."""
    return simulate_request(app, 'HEAD', path, **kwargs)


def simulate_post(app: ASGIApp, path: str, **kwargs: Any) -> Result:
    """Simulate a POST request; see ``simulate_request()`` for the arguments."""
    return simulate_request(app, 'POST', path, **kwargs)


def simulate_put(app: ASGIApp, path: str, **kwargs: Any) -> Result:
    """Simulate a PUT request; see ``simulate_request()`` for the arguments."""
    return simulate_request(app, 'PUT', path, **kwargs)


def simulate_options(app: ASGIApp, path: str, **kwargs: Any) -> Result:
    """Simulate an OPTIONS request; see ``simulate_request()`` for the arguments."""
    return simulate_request(app, 'OPTIONS', path, **kwargs)


def simulate_patch(app: ASGIApp, path: str, **kwargs: Any) -> Result:
    """Simulate a PATCH request; see ``simulate_request()`` for the arguments."""
    return simulate_request(app, 'PATCH', path, **kwargs)


def simulate_delete(app: ASGIApp, path: str, **kwargs: Any) -> Result:
    """Simulate a DELETE request; see ``simulate_request()`` for the arguments."""
    return simulate_request(app, 'DELETE', path, **kwargs)


def _alias(method: _F, name: str) -> _F:
    """Return `method` under a name without the ``simulate_`` prefix."""
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def alias(self: Any, *args: Any, **kwargs: Any) -> Any:
            return await method(self, *args, **kwargs)

    else:

        @functools.wraps(method)
        def alias(self: Any, *args: Any, **kwargs: Any) -> Any:
            return method(self, *args, **kwargs)

    alias.__name__ = alias.__qualname__ = name
    return alias  # type: ignore[return-value]


class ASGIConductor:
    """Asynchronous test driver for an ASGI app.

    Entering the context runs the lifespan startup; leaving it runs the
    shutdown (or cancels the lifespan task if the block raised). Inside,
    ``simulate_*()`` coroutines may be awaited concurrently, a streamed
    body can be read with ``simulate_get_stream()``, and WebSocket
    connections are simulated with ``simulate_ws()``. Each ``simulate_*``
    method also has a short alias (``get``, ``post``, ``websocket``...).

    ``simulate_ws()`` and the HTTP methods also work without entering the
    context, in which case no lifespan events are sent.

    Args:
        app: The ASGI app.
        headers: Default headers for every HTTP request; the headers of a
            single request override them.

    Raises:
        CompatibilityError: `app` is not an ASGI app.
    """

    def __init__(self, app: ASGIApp, headers: Mapping[str, str] | None = None) -> None:
        _require_asgi_app(app)
        self.app = app
        self._default_headers = headers
        self._lifespan: _Lifespan | None = None

    async def __aenter__(self) -> ASGIConductor:
        self._lifespan = _Lifespan(self.app)
        await self._lifespan.startup()
        return self

    async def __aexit__(self, ex_type: object, ex: object, tb: object) -> bool:
        lifespan, self._lifespan = self._lifespan, None
        assert lifespan is not None
        if ex_type is not None:
            await lifespan.cancel()
        else:
            await lifespan.shutdown()
        return False

    async def simulate_request(self, *args: Any, **kwargs: Any) -> Result:
        """Simulate a request; takes the arguments of ``simulate_request()``.

        The conductor's default headers are merged in.
        """
        self._merge_default_headers(kwargs)
        return await _simulate_request_asgi(self.app, *args, _one_shot=False, **kwargs)

    async def simulate_get(self, path: str = '/', **kwargs: Any) -> Result:
        """Simulate a GET request (see ``simulate_request()``)."""
        return await self.simulate_request('GET', path, **kwargs)

    async def simulate_head(self, path: str = '/', **kwargs: Any) -> Result:
        """Simulate a HEAD request (see ``simulate_request()``)."""
        return await self.simulate_request('HEAD', path, **kwargs)

    async def simulate_post(self, path: str = '/', **kwargs: Any) -> Result:
        """Simulate a POST request (see ``simulate_request()``)."""
        return await self.simulate_request('POST', path, **kwargs)

    async def simulate_put(self, path: str = '/', **kwargs: Any) -> Result:
        """Simulate a PUT request (see ``simulate_request()``)."""
        return await self.simulate_request('PUT', path, **kwargs)

    async def simulate_options(self, path: str = '/', **kwargs: Any) -> Result:
        """Simulate an OPTIONS request (see ``simulate_request()``)."""
        return await self.simulate_request('OPTIONS', path, **kwargs)

    async def simulate_patch(self, path: str = '/', **kwargs: Any) -> Result:
        """Simulate a PATCH request (see ``simulate_request()``)."""
        return await self.simulate_request('PATCH', path, **kwargs)

    async def simulate_delete(self, path: str = '/', **kwargs: Any) -> Result:
        """Simulate a DELETE request (see ``simulate_request()``)."""
        return await self.simulate_request('DELETE', path, **kwargs)

    def simulate_get_stream(self, path: str = '/', **kwargs: Any) -> _StreamContext:
        """Simulate a GET request whose body is read as it streams.

        Returns an async context manager that gives a ``StreamedResult`` as
        soon as the app has started the response. Leaving the context
        disconnects the client and waits for the app's task::

            async with conductor.simulate_get_stream('/events') as result:
                chunk = await result.stream.read()

        Args:
            path: The path (default ``'/'``).
            **kwargs: The arguments of ``simulate_request()``.
        """
        self._merge_default_headers(kwargs)
        return _StreamContext(_simulate_stream_asgi(self.app, 'GET', path, **kwargs))

    def simulate_ws(
        self, path: str = '/', timeout: float | None = None, **kwargs: Any
    ) -> WebSocketContext:
        """Simulate a WebSocket connection to the app.

        Returns an async context manager that gives an
        ``ASGIWebSocketSimulator`` once the app has accepted the connection.
        If the app denies it, entering raises ``WebSocketDisconnected`` (or
        a subclass). Leaving the context closes the connection from the
        client side, if still open, and waits for the app's task::

            async with conductor.simulate_ws('/events') as ws:
                message = await ws.receive_text()

        Args:
            path: The path (default ``'/'``).
            timeout: Seconds to wait for the handshake and for each message
                (default 5), and for the app's task once the connection is
                closed (default 30). On expiry, ``TimeoutError`` is raised.
            **kwargs: Passed to ``create_scope_ws()`` (headers,
                subprotocols, spec_version, extensions...).
        """
        scope = create_scope_ws(path=path, **kwargs)
        ws = ASGIWebSocketSimulator(
            timeout, denial_response='websocket.http.response' in scope['extensions']
        )
        task: asyncio.Task[None] = asyncio.create_task(
            self.app(scope, ws._emit, ws._collect)
        )
        return WebSocketContext(ws, task, timeout)

    def _merge_default_headers(self, kwargs: dict[str, Any]) -> None:
        if self._default_headers:
            merged = dict(self._default_headers)
            merged.update(kwargs.get('headers') or {})
            kwargs['headers'] = merged

    delete = _alias(simulate_delete, 'delete')
    get = _alias(simulate_get, 'get')
    get_stream = _alias(simulate_get_stream, 'get_stream')
    head = _alias(simulate_head, 'head')
    options = _alias(simulate_options, 'options')
    patch = _alias(simulate_patch, 'patch')
    post = _alias(simulate_post, 'post')
    put = _alias(simulate_put, 'put')
    request = _alias(simulate_request, 'request')
    websocket = _alias(simulate_ws, 'websocket')


class TestClient:
    """Synchronous test client for an ASGI app.

    Each ``simulate_*()`` call runs the app's whole lifecycle (see
    ``simulate_request()``); each also has a short alias (``get``,
    ``post``...). Entering the client as an async context manager gives an
    ``ASGIConductor`` for finer control::

        async with client as conductor:
            async with conductor.simulate_ws('/feed') as ws:
                ...

    Args:
        app: The ASGI app.
        headers: Default headers for every request; the headers of a single
            request override them.
    """

    # NOTE(gyrfalcon): Not a test class, whatever pytest thinks of the name.
    __test__ = False

    def __init__(self, app: ASGIApp, headers: Mapping[str, str] | None = None) -> None:
        self.app = app
        self._default_headers = headers
        self._conductor: ASGIConductor | None = None

    async def __aenter__(self) -> ASGIConductor:
        assert self._conductor is None, 'the client context is already entered'
        self._conductor = ASGIConductor(self.app, headers=self._default_headers)
        await self._conductor.__aenter__()
        return self._conductor

    async def __aexit__(self, ex_type: object, ex: object, tb: object) -> bool:
        conductor, self._conductor = self._conductor, None
        assert conductor is not None
        return await conductor.__aexit__(ex_type, ex, tb)

    def simulate_request(self, *args: Any, **kwargs: Any) -> Result:
        """Simulate a request; takes the arguments of ``simulate_request()``.

        The client's default headers are merged in.
        """
        if self._default_headers:
            merged = dict(self._default_headers)
            merged.update(kwargs.get('headers') or {})
            kwargs['headers'] = merged
        return simulate_request(self.app, *args, **kwargs)

    def simulate_get(self, path: str = '/', **kwargs: Any) -> Result:
        """Simulate a GET request (see ``simulate_request()``)."""
        return self.simulate_request('GET', path, **kwargs)

    def simulate_head(self, path: str = '/', **kwargs: Any) -> Result:
        """Simulate a HEAD request (see ``simulate_request()``)."""
        return self.simulate_request('HEAD', path, **kwargs)

    def simulate_post(self, path: str = '/', **kwargs: Any) -> Result:
        """Simulate a POST request (see ``simulate_request()``)."""
        return self.simulate_request('POST', path, **kwargs)

    def simulate_put(self, path: str = '/', **kwargs: Any) -> Result:
        """Simulate a PUT request (see ``simulate_request()``)."""
        return self.simulate_request('PUT', path, **kwargs)

    def simulate_options(self, path: str = '/', **kwargs: Any) -> Result:
        """Simulate an OPTIONS request (see ``simulate_request()``)."""
        return self.simulate_request('OPTIONS', path, **kwargs)

    def simulate_patch(self, path: str = '/', **kwargs: Any) -> Result:
        """Simulate a PATCH request (see ``simulate_request()``)."""
        return self.simulate_request('PATCH', path, **kwargs)

    def simulate_delete(self, path: str = '/', **kwargs: Any) -> Result:
        """Simulate a DELETE request (see ``simulate_request()``)."""
        return self.simulate_request('DELETE', path, **kwargs)

    delete = _alias(simulate_delete, 'delete')
    get = _alias(simulate_get, 'get')
    head = _alias(simulate_head, 'head')
    options = _alias(simulate_options, 'options')
    patch = _alias(simulate_patch, 'patch')
    post = _alias(simulate_post, 'post')
    put = _alias(simulate_put, 'put')
    request = _alias(simulate_request, 'request')


class _StreamContext:
    """Async context manager that gives a ``StreamedResult`` and finalizes it."""

    def __init__(self, coro: Coroutine[Any, Any, StreamedResult]) -> None:
        self._coro = coro
        self._result: StreamedResult | None = None

    async def __aenter__(self) -> StreamedResult:
        self._result = await self._coro
        return self._result

    async def __aexit__(self, *exc_info: object) -> None:
        result, self._result = self._result, None
        assert result is not None
        await result.finalize()


class _Collector(ASGIResponseEventCollector):
    """A response collector that signals every event it receives."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    async def collect(self, event: dict[str, Any]) -> None:
        """Record the event (see the base class) and signal it."""
        try:
            await super().collect(event)
        finally:
            self.changed.set()

    __call__ = collect


async def _wait_until(
    predicate: Callable[[], bool], changed: asyncio.Event, task: asyncio.Task[Any]
) -> bool:
    """Wait until `predicate` holds or `task` is done.

    Returns:
        Whether `predicate` holds.
    """
    while not predicate():
        if task.done():
            return predicate()
        changed.clear()
        waiter = asyncio.ensure_future(changed.wait())
        try:
            await asyncio.wait([waiter, task], return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
    return True


class _Lifespan:
    """The lifespan protocol, run against an app for a conductor.

    An app that fails or returns on the ``lifespan`` scope before sending
    any lifespan event does not support the protocol; the requests then go
    ahead without it, as under ``uvicorn --lifespan auto``.
    """

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._shutting_down = asyncio.Condition()
        self._collector = _Collector()
        self._task: asyncio.Task[Any] | None = None
        self._supported = True

    async def startup(self) -> None:
        emitter = ASGILifespanEventEmitter(self._shutting_down)
        self._task = asyncio.create_task(
            self._app(dict(_LIFESPAN_SCOPE), emitter, self._collector)
        )
        if not await self._wait_for('startup'):
            if self._collector.events:
                await self._task
                raise RuntimeError(
                    'ASGI app returned before lifespan startup completed'
                )
            # NOTE(gyrfalcon): Retrieve the exception, if any, so that it is
            #   not reported as never retrieved.
            await asyncio.gather(self._task, return_exceptions=True)
            self._supported = False

    async def shutdown(self) -> None:
        assert self._task is not None
        if not self._supported:
            return
        async with self._shutting_down:
            self._shutting_down.notify()
        if not await self._wait_for('shutdown'):
            await self._task
            raise RuntimeError('ASGI app returned before lifespan shutdown completed')
        await self._task

    async def cancel(self) -> None:
        assert self._task is not None
        await _cancel_and_drain(self._task)

    async def _wait_for(self, phase: str) -> bool:
        """Wait for ``lifespan.<phase>.complete``.

        Returns:
            ``True`` once it came, ``False`` if the task ended without it.

        Raises:
            RuntimeError: The app sent ``lifespan.<phase>.failed``.
        """
        assert self._task is not None
        events = self._collector.events
        names = (f'lifespan.{phase}.complete', f'lifespan.{phase}.failed')
        found = await _wait_until(
            lambda: any(event['type'] in names for event in events),
            self._collector.changed,
            self._task,
        )
        for event in events:
            if event['type'] == names[1]:
                raise RuntimeError(
                    f'ASGI app returned lifespan.{phase}.failed. '
                    + str(event.get('message', ''))
                )
        return found


async def _cancel_and_drain(task: asyncio.Task[Any]) -> None:
    """Cancel `task` if still running, and wait for it to end."""
    if not task.done():
        task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _simulate_request_asgi(
    app: ASGIApp, *args: Any, _one_shot: bool = True, **kwargs: Any
) -> Result:
    """Simulate one request; with `_one_shot`, run the lifespan around it."""
    scope, emitter = _request_parts(*args, **kwargs)
    collector = _Collector()

    if not _one_shot:
        emitter.disconnect()
        await app(scope, emitter, collector)
        return _result(collector)

    lifespan = _Lifespan(app)
    await lifespan.startup()
    try:
        emitter.disconnect()
        await app(scope, emitter, collector)
    except BaseException:
        await lifespan.cancel()
        raise
    await lifespan.shutdown()
    return _result(collector)


async def _simulate_stream_asgi(
    app: ASGIApp, *args: Any, **kwargs: Any
) -> StreamedResult:
    """Start a request; return as soon as the app has started the response.

    The body keeps streaming into the result while the app's task runs.
    """
    scope, emitter = _request_parts(*args, **kwargs)
    collector = _Collector()
    task: asyncio.Task[None] = asyncio.create_task(app(scope, emitter, collector))
    started = await _wait_until(
        lambda: collector.status is not None, collector.changed, task
    )
    if not started or collector.status is None:
        await task
        raise ConnectionError('The app returned without starting a response.')
    return StreamedResult(
        collector.body_chunks,
        code_to_http_status(collector.status),
        collector.headers,
        task,
        emitter,
    )


def _request_parts(
    method: str = 'GET',
    path: str = '/',
    query_string: str | None = None,
    headers: HeaderArg | None = None,
    content_type: str | None = None,
    body: str | bytes | None = None,
    json: Any | None = None,
    params: Mapping[str, Any] | None = None,
    params_csv: bool = False,
    protocol: str = 'http',
    host: str = DEFAULT_HOST,
    remote_addr: str | None = None,
    extras: Mapping[str, Any] | None = None,
    http_version: str = '1.1',
    port: int | None = None,
    root_path: str | None = None,
    cookies: CookieArg | None = None,
    asgi_chunk_size: int = 4096,
    asgi_disconnect_ttl: int = 300,
    msgpack: Any | None = None,
) -> tuple[dict[str, Any], ASGIRequestEventEmitter]:
    """Build the scope and the request event emitter of a simulated request."""
    path, query_string, headers, body = _prepare_sim_args(
        path,
        query_string,
        params,
        params_csv,
        content_type,
        headers,
        body,
        json,
        msgpack,
    )

    body_bytes = body.encode() if isinstance(body, str) else body
    scope = create_scope(
        path=path,
        query_string=query_string,
        method=method,
        headers=headers,
        host=host,
        scheme=protocol,
        port=port,
        http_version=http_version,
        remote_addr=remote_addr,
        root_path=root_path,
        content_length=None if body_bytes is None else len(body_bytes),
        cookies=cookies,
    )
    extras = extras or {}
    if 'method' in extras and extras['method'] != method.upper():
        raise ValueError(
            'ASGI scope extras may not override the request method. '
            'Please use the method parameter.'
        )
    scope.update(extras)

    if asgi_disconnect_ttl == 0:
        disconnect_at = 0.0
    else:
        disconnect_at = time.time() + max(0, asgi_disconnect_ttl)
    emitter = ASGIRequestEventEmitter(
        body_bytes or b'', chunk_size=asgi_chunk_size, disconnect_at=disconnect_at
    )
    return scope, emitter


def _result(collector: ASGIResponseEventCollector) -> Result:
    if collector.status is None:
        raise ConnectionError('An immediate disconnect was simulated.')
    return Result(
        collector.body_chunks, code_to_http_status(collector.status), collector.headers
    )


def _prepare_sim_args(
    path: str,
    query_string: str | None,
    params: Mapping[str, Any] | None,
    params_csv: bool,
    content_type: str | None,
    headers: HeaderArg | None,
    body: str | bytes | None,
    json: Any | None,
    msgpack: Any | None,
) -> tuple[str, str, HeaderArg | None, str | bytes | None]:
    if not path.startswith('/'):
        raise ValueError("path must start with '/'")

    if '?' in path:
        if query_string or params:
            raise ValueError(
                'path may not contain a query string in combination with the '
                'query_string or params parameters. Please use only one way of '
                'specifying the query string.'
            )
        path, query_string = path.split('?', 1)
    elif query_string and query_string.startswith('?'):
        raise ValueError("query_string should not start with '?'")

    if query_string is None:
        query_string = to_query_str(
            params, comma_delimited_lists=params_csv, prefix=False
        )

    def with_content_type(value: str) -> dict[str, Any]:
        merged = dict(
            headers.items() if isinstance(headers, Mapping) else headers or ()
        )
        merged['Content-Type'] = value
        return merged

    if content_type is not None:
        headers = with_content_type(content_type)
    if json is not None:
        body = json_module.dumps(json, ensure_ascii=False)
        headers = with_content_type('application/json')
    if msgpack is not None:
        body = msgpack_module.packb(msgpack, use_bin_type=True)
        headers = with_content_type('application/msgpack')

    return path, query_string, headers, body


def _require_asgi_app(app: Callable[..., Any]) -> None:
    """Raise ``CompatibilityError`` unless `app` takes ASGI 3's arguments."""
    try:
        parameters = inspect.signature(app).parameters.values()
    except (TypeError, ValueError):
        parameters = None
    positional = (
        None
        if parameters is None
        else [
            p
            for p in parameters
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    )
    if positional is None or len(positional) != 3:
        raise CompatibilityError(
            'gyrfalcon.testing can only simulate requests to an ASGI 3 app: '
            'a callable taking (scope, receive, send)'
        )
