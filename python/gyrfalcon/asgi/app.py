"""The ASGI App: routes, sinks, middleware, and the three ASGI scopes.

``App`` is an ASGI 3 application. ``http`` scopes go through middleware and
the router to a responder (``_app_http.py``); ``websocket`` scopes go through
the WebSocket middleware to ``on_websocket(req, ws, **params)``; ``lifespan``
scopes run the middleware's ``process_startup()``/``process_shutdown()``.
Errors are handled in ``_app_errors.py``.
"""

from __future__ import annotations

import functools
import inspect
import re
import traceback
import warnings
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from gyrfalcon import app_helpers, constants, responders, routing
from gyrfalcon.asgi._app_errors import ErrorHandling
from gyrfalcon.asgi._app_http import HttpDispatch
from gyrfalcon.asgi._ws_options import supports_reason
from gyrfalcon.asgi.request import Request
from gyrfalcon.asgi.response import Response
from gyrfalcon.asgi.ws import WebSocket, WebSocketOptions
from gyrfalcon.errors import (
    CompatibilityError,
    UnsupportedError,
    UnsupportedScopeError,
    WebSocketDisconnected,
)
from gyrfalcon.http_error import HTTPError
from gyrfalcon.http_status import HTTPStatus
from gyrfalcon.middleware import CORSMiddleware
from gyrfalcon.options import RequestOptions, ResponseOptions
from gyrfalcon.util.deprecation import DeprecatedWarning
from gyrfalcon.util.misc import is_python_func
from gyrfalcon.util.sync import _should_wrap_non_coroutines, wrap_sync_to_async

if TYPE_CHECKING:
    from gyrfalcon.hub import Hub

__all__ = ('App',)

AsgiEvent = MutableMapping[str, Any]
AsgiReceive = Callable[[], Awaitable[AsgiEvent]]
AsgiSend = Callable[[AsgiEvent], Awaitable[None]]
_ReqT = TypeVar('_ReqT')
_RespT = TypeVar('_RespT')


@functools.lru_cache(maxsize=16)
def _validate_scope(scope_type: str, spec: str | None, http_version: str) -> str:
    """Check the ASGI scope's versions and return the spec version."""
    if scope_type == 'http':
        spec = spec or '2.0'
        if not spec.startswith('2.'):
            raise UnsupportedScopeError(
                f'The ASGI "http" scope version {spec} is not supported.'
            )
        if http_version not in {'1.0', '1.1', '2', '3'}:
            raise UnsupportedError(
                f'The ASGI "http" scope does not support HTTP version {http_version}.'
            )
        return spec
    if scope_type == 'websocket':
        spec = spec or '2.0'
        if not spec.startswith('2.'):
            raise UnsupportedScopeError(
                'Only versions 2.x of the ASGI "websocket" scope are supported.'
            )
        if http_version not in {'1.1', '2', '3'}:
            raise UnsupportedError(
                'The ASGI "websocket" scope does not support HTTP version '
                f'{http_version}.'
            )
        return spec
    if scope_type == 'lifespan':
        spec = spec or '1.0'
        if not (spec.startswith('1.') or spec.startswith('2.')):
            raise UnsupportedScopeError(
                'Only versions 1.x and 2.x of the ASGI "lifespan" scope are supported.'
            )
        return spec
    # NOTE(gyrfalcon): ASGI: reject a protocol you do not understand by
    #   raising.
    raise UnsupportedScopeError(f'The ASGI "{scope_type}" scope type is not supported.')


class App(ErrorHandling, HttpDispatch, Generic[_ReqT, _RespT]):
    """An ASGI application: the entry point of a Gyrfalcon app.

    ``gyrfalcon.App`` is this class. Add resources with :meth:`add_route`
    and serve it with any ASGI server, e.g. ``uvicorn module:app``.

    Keyword Args:
        media_type (str): The default media type of requests and responses
            (default ``'application/json'``).
        request_type (type): The request class (default
            :class:`gyrfalcon.asgi.Request`).
        response_type (type): The response class (default
            :class:`gyrfalcon.asgi.Response`).
        middleware: A middleware component, or an iterable of them. A
            component implements any of these coroutine methods:
            ``process_startup(scope, event)``,
            ``process_shutdown(scope, event)``,
            ``process_request(req, resp)``,
            ``process_resource(req, resp, resource, params)``,
            ``process_response(req, resp, resource, req_succeeded)``,
            ``process_request_ws(req, ws)`` and
            ``process_resource_ws(req, ws, resource, params)``. A component
            shared with a WSGI app may name its coroutine methods with an
            ``_async`` suffix.
        router: A router to use instead of :class:`~.CompiledRouter`.
        independent_middleware (bool): Run ``process_response()`` even
            when the component's ``process_request()`` (or an earlier one)
            raised (default ``True``).
        cors_enable (bool): Add a :class:`~.CORSMiddleware` with its
            defaults (default ``False``).
        sink_before_static_route (bool): Try sinks before static routes
            (default ``True``); either way, after the regular routes.
        hub (Hub): The pub/sub hub of ``app.hub`` (default: one with the
            in-process backend, created on first use).

    Attributes:
        req_options (RequestOptions): Options for requests.
        resp_options (ResponseOptions): Options for responses.
        ws_options (WebSocketOptions): Options for WebSocket connections.
        hub (Hub): Topics that WebSockets subscribe to; see
            ``docs/guide/hub.md``.
    """

    _META_METHODS: ClassVar[frozenset[str]] = frozenset(constants._META_METHODS)
    _STATIC_ROUTE_TYPE: ClassVar[type[routing.StaticRoute]] = routing.StaticRouteAsync
    _ASGI: ClassVar[bool] = True
    _default_responder_bad_request: ClassVar[Callable[..., Any]] = (
        responders.bad_request_async
    )
    _default_responder_path_not_found: ClassVar[Callable[..., Any]] = (
        responders.path_not_found_async
    )

    def __init__(
        self,
        media_type: str = constants.DEFAULT_MEDIA_TYPE,
        request_type: type[_ReqT] | None = None,
        response_type: type[_RespT] | None = None,
        middleware: object | Iterable[object] | None = None,
        router: Any = None,
        independent_middleware: bool = True,
        cors_enable: bool = False,
        sink_before_static_route: bool = True,
        hub: Hub | None = None,
    ) -> None:
        self._cors_enable = cors_enable
        self._sink_before_static_route = sink_before_static_route
        self._sinks: list[tuple[Any, Callable[..., Any], bool]] = []
        self._static_routes: list[tuple[Any, Callable[..., Any], bool]] = []
        self._sink_and_static_routes: tuple[tuple[Any, Callable[..., Any], bool], ...]
        self._sink_and_static_routes = ()
        self._unprepared_middleware: list[object] = []
        self._independent_middleware = independent_middleware
        self.add_middleware(middleware or [])
        if cors_enable:
            self.add_middleware([CORSMiddleware()])

        self._router = router or routing.DefaultRouter()
        self._router_search = self._router.find
        self._request_type = request_type or Request
        self._response_type = response_type or Response
        self._error_handlers = {}
        self._report_error = None
        self._serialize_error = app_helpers.default_serialize_error
        self.req_options = RequestOptions()
        self.resp_options = ResponseOptions()
        self.req_options.default_media_type = media_type
        self.resp_options.default_media_type = media_type
        self.ws_options = WebSocketOptions()
        self._hub: Hub | None = None
        if hub is not None:
            self.hub = hub

        self.add_error_handler(Exception, self._python_error_handler)
        self.add_error_handler(HTTPError, self._http_error_handler)
        self.add_error_handler(HTTPStatus, self._http_status_handler)
        self.add_error_handler(
            WebSocketDisconnected, self._ws_disconnected_error_handler
        )

    async def __call__(
        self, scope: MutableMapping[str, Any], receive: AsgiReceive, send: AsgiSend
    ) -> None:
        """Handle one ASGI connection (the ASGI 3 application interface)."""
        scope_type: str = scope['type']
        asgi_info = scope.get('asgi')
        if asgi_info is None:
            asgi_info = scope['asgi'] = {'version': '2.0'}
        spec = _validate_scope(
            scope_type, asgi_info.get('spec_version'), scope.get('http_version', '1.1')
        )
        if scope_type == 'http':
            await self._handle_http(scope, receive, send)
        elif scope_type != 'websocket':
            await self._handle_lifespan(scope, receive, send)
        elif (await receive())['type'] != 'websocket.connect':
            # NOTE(gyrfalcon): The handshake was abandoned (or the server is
            #   confused); ASGI requires the connect event first.
            close: AsgiEvent = {'type': 'websocket.close', 'code': 1011}
            if supports_reason(spec):
                close['reason'] = 'Internal Server Error'
            await send(close)
        else:
            # PERF(gyrfalcon): The WebSocket dispatch is here rather than in
            #   a method of its own: the frame of __call__ stays alive as long
            #   as the connection, and one frame per connection is enough.
            options = self.ws_options
            req = self._request_type(scope, receive, options=self.req_options)
            ws = WebSocket(
                spec,
                scope,
                receive,
                send,
                options.media_handlers,
                options.max_receive_queue,
                options.default_close_reasons,
            )
            params: dict[str, Any] = {}
            request_mw, resource_mw = self._middleware_ws
            try:
                for process_request_ws in request_mw:
                    await process_request_ws(req, ws)
                responder, params, resource, req.uri_template = self._get_responder(req)
                if resource:
                    for process_resource_ws in resource_mw:
                        await process_resource_ws(req, ws, resource, params)
                    await responder(req, ws, **params)
                elif app_helpers.has_arg_name(responder, 'ws') and 'ws' not in params:
                    params['ws'] = ws
                    await responder(req, None, **params)
                else:
                    self._warn_legacy_sink(responder)
                    await responder(req, ws, **params)
                await ws.close()
            except Exception as ex:
                if not await self._handle_exception(req, None, ex, params, ws=ws):
                    raise
            finally:
                # The connection leaves every hub topic, however it ended.
                if self._hub is not None:
                    self._hub._forget(ws)

    # -- configuration -------------------------------------------------------

    @property
    def hub(self) -> Hub:
        """The app's pub/sub hub (``docs/guide/hub.md``).

        Created on first use, with the in-process backend; assign a
        :class:`~gyrfalcon.hub.Hub` to choose another backend or defaults.
        The hub serialises media with ``ws_options.media_handlers``.
        """
        hub = self._hub
        if hub is None:
            from gyrfalcon.hub import Hub

            hub = self.hub = Hub()
        return hub

    @hub.setter
    def hub(self, hub: Hub) -> None:
        hub._bind(self.ws_options)
        self._hub = hub

    @property
    def router_options(self) -> Any:
        """The router's options (:class:`~.CompiledRouterOptions` by default).

        Raises:
            AttributeError: A custom router without options is in use.
        """
        return self._router.options

    def add_middleware(self, middleware: object | Iterable[object]) -> None:
        """Add middleware components, after those already added.

        Args:
            middleware: A component, or an iterable of them.

        Raises:
            ValueError: A ``CORSMiddleware`` was added to an app created with
                ``cors_enable=True`` (which already has one).
            CompatibilityError: A component has a non-coroutine method.
            TypeError: A component implements no middleware method.
        """
        if middleware:
            try:
                components = list(middleware)  # type: ignore[call-overload]
            except TypeError:
                components = [middleware]
            if self._cors_enable:
                every = self._unprepared_middleware + components
                if sum(isinstance(c, CORSMiddleware) for c in every) > 1:
                    raise ValueError(
                        'CORSMiddleware is not allowed in conjunction with '
                        'cors_enable (which already constructs one instance)'
                    )
            self._unprepared_middleware += components
        # NOTE(gyrfalcon): Prepared even when empty: the first call comes
        #   from __init__ and must initialize the stacks.
        self._middleware = app_helpers.prepare_middleware(
            self._unprepared_middleware,
            independent_middleware=self._independent_middleware,
            asgi=True,
        )
        self._middleware_ws = app_helpers.prepare_middleware_ws(
            self._unprepared_middleware
        )

    def add_route(self, uri_template: str, resource: object, **kwargs: Any) -> None:
        """Route a URI template to a resource.

        Requests whose path matches the template go to the resource's
        responder for their method: ``on_get(req, resp, **fields)`` for a
        ``GET``, ``on_websocket(req, ws, **fields)`` for a WebSocket
        handshake, and so on. Responders must be coroutine functions. A
        method without a responder is answered with 405 (and ``OPTIONS``
        with the allowed methods); a path without a route with 404.

        Args:
            uri_template: The template, e.g. ``'/teams/{team}/members/{id:int}'``.
            resource: The resource object.

        Keyword Args:
            suffix (str): Use the ``on_*_{suffix}()`` responders, so that one
                resource may serve several routes.
            compile (bool): Compile the router now rather than on the first
                request.
            **kwargs: Passed on to the router's ``add_route()``.

        Raises:
            TypeError: The template is not a string, or a responder is not a
                coroutine function.
            ValueError: The template does not start with ``'/'``, contains
                ``'//'``, or is otherwise invalid.
        """
        if not isinstance(uri_template, str):
            raise TypeError('uri_template is not a string')
        if not uri_template.startswith('/'):
            raise ValueError("uri_template must start with '/'")
        if '//' in uri_template:
            raise ValueError("uri_template may not contain '//'")
        # NOTE(gyrfalcon): Tells the default router to require coroutines.
        kwargs['_asgi'] = True
        self._router.add_route(uri_template, resource, **kwargs)

    def add_static_route(
        self,
        prefix: str,
        directory: str | Path,
        downloadable: bool = False,
        fallback_filename: str | None = None,
    ) -> None:
        """Serve the files of a directory under a path prefix.

        Static routes are tried after the regular routes, the most recently
        added first, so add the more specific prefixes last. Files are read
        in the default executor; a front-end server does this better in
        production. A WebSocket handshake to a static route is refused
        (close code 3400).

        Args:
            prefix: The path prefix, e.g. ``'/static'``.
            directory: The absolute path of the directory.
            downloadable (bool): Add ``Content-Disposition: attachment``.
            fallback_filename (str): The file to serve when the requested one
                is not found.
        """
        route = self._STATIC_ROUTE_TYPE(
            prefix,
            directory,
            downloadable=downloadable,
            fallback_filename=fallback_filename,
        )
        self._static_routes.insert(0, (route, route, False))
        self._update_sink_and_static_routes()

    def add_sink(
        self, sink: Callable[..., Any], prefix: str | re.Pattern[str] = r'/'
    ) -> None:
        """Send requests that match no route, but a prefix, to a callable.

        Args:
            sink: A coroutine function ``async def sink(req, resp, ws=None,
                **groups)``, called for any method. For a WebSocket, `resp` is
                ``None`` and `ws` is the connection. A sink without a `ws`
                parameter gets the WebSocket in place of `resp` (deprecated,
                as in Falcon 4).
            prefix: A regular expression (string or compiled) matched at the
                start of the path; its named groups become keyword arguments.
                The sink added last wins among equal prefixes.

        Raises:
            CompatibilityError: The sink is not a coroutine function.
        """
        if not inspect.iscoroutinefunction(sink) and is_python_func(sink):
            if not _should_wrap_non_coroutines():
                raise CompatibilityError(
                    'The sink method must be an awaitable coroutine function in '
                    'order to be used safely with an ASGI app.'
                )
            sink = wrap_sync_to_async(sink)
        pattern = prefix if hasattr(prefix, 'match') else re.compile(prefix)
        self._sinks.insert(0, (pattern, sink, True))
        self._update_sink_and_static_routes()

    def _update_sink_and_static_routes(self) -> None:
        if self._sink_before_static_route:
            self._sink_and_static_routes = tuple(self._sinks + self._static_routes)
        else:
            self._sink_and_static_routes = tuple(self._static_routes + self._sinks)

    # -- routing -------------------------------------------------------------

    def _get_responder(
        self, req: Any
    ) -> tuple[Callable[..., Any], dict[str, Any], object, str | None]:
        """Find the responder for a request.

        Returns:
            ``(responder, params, resource, uri_template)``. Without a route,
            the responder is a sink, a static route or the 404 responder,
            and the resource is ``None``.
        """
        path = req.path
        method = 'WEBSOCKET' if req.is_websocket else req.method
        route: Any = self._router_search(path, req=req)
        uri_template = None
        if route is not None:
            try:
                resource, method_map, params, uri_template = route
            except ValueError:
                # NOTE(gyrfalcon): Older custom routers return a 3-tuple.
                resource, method_map, params = route
        else:
            resource, method_map, params = None, {}, {}

        if resource is not None:
            responder = method_map.get(method)
            if responder is None:
                responder = type(self)._default_responder_bad_request
            return responder, params, resource, uri_template

        for matcher, target, is_sink in self._sink_and_static_routes:
            match = matcher.match(path)
            if match:
                params = match.groupdict() if is_sink else {}
                return target, params, None, uri_template
        return type(self)._default_responder_path_not_found, {}, None, uri_template

    # -- WebSocket (dispatched in __call__) ------------------------------------

    def _warn_legacy_sink(self, responder: Callable[..., Any]) -> None:
        cls = type(self)
        if responder in (
            cls._default_responder_bad_request,
            cls._default_responder_path_not_found,
        ):
            return
        name = getattr(responder, '__name__', repr(responder))
        warnings.warn(
            f'Please define the sink coroutine function '
            f'{getattr(responder, "__qualname__", name)} as {name}(req, resp, '
            f'ws=None, **kwargs); receiving ws in place of resp is deprecated, '
            f'and resp will be set to None when invoking WebSocket sinks in a '
            f'future release.',
            category=DeprecatedWarning,
            stacklevel=2,
        )

    # -- lifespan ------------------------------------------------------------

    async def _handle_lifespan(
        self, scope: MutableMapping[str, Any], receive: AsgiReceive, send: AsgiSend
    ) -> None:
        while True:
            event = await receive()
            if event['type'] == 'lifespan.startup':
                version = scope['asgi'].get('version', '2.0 (implicit)')
                if not version.startswith('3.'):
                    await send(
                        {
                            'type': 'lifespan.startup.failed',
                            'message': (
                                'Gyrfalcon requires ASGI version 3.x. '
                                f'Detected: {version}.'
                            ),
                        }
                    )
                    return
                if getattr(self.req_options, 'auto_parse_form_urlencoded', False):
                    await send(
                        {
                            'type': 'lifespan.startup.failed',
                            'message': (
                                'The deprecated WSGI RequestOptions.'
                                'auto_parse_form_urlencoded option is not '
                                'supported by ASGI apps. Please use '
                                'Request.get_media() instead.'
                            ),
                        }
                    )
                    return
                for component in self._unprepared_middleware:
                    if not await _run_lifespan_hook(
                        component, 'process_startup', scope, event, send
                    ):
                        return
                await send({'type': 'lifespan.startup.complete'})
            elif event['type'] == 'lifespan.shutdown':
                for component in reversed(self._unprepared_middleware):
                    if not await _run_lifespan_hook(
                        component, 'process_shutdown', scope, event, send
                    ):
                        return
                await send({'type': 'lifespan.shutdown.complete'})
                return


async def _run_lifespan_hook(
    component: object,
    name: str,
    scope: MutableMapping[str, Any],
    event: AsgiEvent,
    send: AsgiSend,
) -> bool:
    """Run one lifespan method; on failure, report it and return ``False``."""
    hook = getattr(component, name, None)
    if hook is None:
        return True
    try:
        await hook(scope, event)
    except Exception:
        phase = 'startup' if name == 'process_startup' else 'shutdown'
        await send(
            {'type': f'lifespan.{phase}.failed', 'message': traceback.format_exc()}
        )
        return False
    return True
