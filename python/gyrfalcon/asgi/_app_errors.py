"""Error handling of the ASGI App: handlers, the serializer and the reporter.

An exception raised while handling a request or a WebSocket goes to the
handler registered for the most specific class in its MRO. The App installs
four handlers: ``HTTPError`` (error response, or close code
``3000 + status`` on a WebSocket), ``HTTPStatus`` (likewise),
``WebSocketDisconnected`` (quietly closes), and ``Exception`` (logs, then
answers 500, or closes the WebSocket with ``ws_options.error_close_code``).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from gyrfalcon import app_helpers
from gyrfalcon.asgi.ws import http_status_to_ws_code
from gyrfalcon.errors import (
    CompatibilityError,
    HTTPInternalServerError,
    WebSocketDisconnected,
)
from gyrfalcon.http_error import HTTPError
from gyrfalcon.http_status import HTTPStatus
from gyrfalcon.util.misc import is_python_func
from gyrfalcon.util.sync import _wrap_non_coroutine_unsafe

if TYPE_CHECKING:
    from gyrfalcon.asgi.ws import WebSocket, WebSocketOptions

__all__ = ('ErrorHandling',)

ErrorHandler = Callable[..., Awaitable[None]]
ErrorSerializer = Callable[[Any, Any, Any], None]
ErrorReporter = Callable[[Any, BaseException, dict[str, Any], bool], None]

_logger = logging.getLogger('gyrfalcon')
_FALLBACK_WS_ERROR_CODE = 3011
# NOTE(gyrfalcon): Scanners probe for paths all day long; a WebSocket
#   handshake to a missing route or handler is not an error of the app.
_ROUTINE_WS_STATUSES = frozenset((404, 405))


class ErrorHandling:
    """The error-handling half of the App (a mixin of ``App``)."""

    _error_handlers: dict[type[BaseException], ErrorHandler]
    _serialize_error: ErrorSerializer
    _report_error: ErrorReporter | None
    ws_options: WebSocketOptions

    def add_error_handler(
        self,
        exception: type[BaseException] | Iterable[type[BaseException]],
        handler: ErrorHandler | None = None,
    ) -> None:
        """Register a handler for one or more exception types.

        The handler for the most specific class in the raised exception's
        MRO is used; registering a class again replaces its handler. A
        handler may change the response, or raise an ``HTTPError`` or
        ``HTTPStatus`` to have it rendered instead.

        Args:
            exception: An exception class, or an iterable of them.
            handler: A coroutine function of the form
                ``async def handle(req, resp, ex, params, ws=None)``. For a
                WebSocket, `resp` is ``None`` and the ``WebSocket`` is passed
                as `ws` when the handler declares that parameter. Defaults to
                ``exception.handle`` (a static method), for a single class.

        Raises:
            AttributeError: No handler was given and the class has no
                ``handle`` attribute.
            CompatibilityError: The handler is not a coroutine function.
            TypeError: Something other than an exception class was given.
        """
        if handler is None:
            handler = getattr(exception, 'handle', None)
            if handler is None:
                raise AttributeError(
                    'handler must either be specified explicitly or defined as a '
                    'static method named "handle" that is a member of the given '
                    'exception class.'
                )
        handler = _require_coroutine(handler)
        try:
            classes = tuple(exception)  # type: ignore[arg-type]
        except TypeError:
            classes = (exception,)  # type: ignore[assignment]
        for cls in classes:
            if not (isinstance(cls, type) and issubclass(cls, Exception)):
                raise TypeError('"exception" must be an exception type.')
        for cls in classes:
            self._error_handlers[cls] = handler

    def set_error_serializer(self, serializer: ErrorSerializer) -> None:
        """Replace the function that renders an ``HTTPError`` into a response.

        The default negotiates JSON or XML with the client (see
        ``app_helpers.default_serialize_error``).

        Args:
            serializer: ``serializer(req, resp, exception)``; a regular
                function. It is not used when the ``HTTPError`` handler has
                been replaced.
        """
        self._serialize_error = serializer

    def set_error_reporter(self, reporter: ErrorReporter) -> None:
        """Set a callback that observes every exception the app handles.

        It is called as ``reporter(req, error, params, handled)`` for every
        exception passed to the error handling, HTTP and WebSocket alike;
        `handled` tells whether a handler dealt with it. When a handler
        raises an ``HTTPError`` or ``HTTPStatus``, both the original and the
        new exception are reported. It runs on the event loop: it must be
        quick and must not raise. Setting it again replaces it.

        Args:
            reporter: The callback (a regular function).
        """
        self._report_error = reporter

    # -- dispatch ------------------------------------------------------------

    def _find_error_handler(self, ex: BaseException) -> ErrorHandler | None:
        for cls in type(ex).__mro__:
            handler = self._error_handlers.get(cls)
            if handler is not None:
                return handler
        return None

    def _report(self, req: Any, ex: BaseException, params: Any, handled: bool) -> None:
        if self._report_error is not None:
            self._report_error(req, ex, params, handled)

    async def _handle_exception(
        self,
        req: Any,
        resp: Any,
        ex: Exception,
        params: dict[str, Any],
        ws: WebSocket | None = None,
    ) -> bool:
        """Pass an exception to its handler.

        Returns:
            ``True`` if a handler dealt with it, ``False`` if there is none
            (the caller then re-raises it).

        Raises:
            Exception: Whatever the handler raises, other than an
                ``HTTPError`` or ``HTTPStatus`` (those are rendered).
        """
        handler = self._find_error_handler(ex)
        if handler is None:
            self._report(req, ex, params, False)
            return False
        if resp is not None:
            resp.text = resp.data = resp.media = None

        derived: HTTPError | HTTPStatus | None = None
        try:
            try:
                if ws is not None and app_helpers.has_arg_name(handler, 'ws'):
                    await handler(req, resp, ex, params, ws=ws)
                else:
                    await handler(req, resp, ex, params)
            except HTTPStatus as status:
                derived = status
                await self._http_status_handler(req, resp, status, params, ws=ws)
            except HTTPError as error:
                derived = error
                await self._http_error_handler(req, resp, error, params, ws=ws)
        except Exception as handler_ex:
            # NOTE(gyrfalcon): Nothing was rendered; report everything as
            #   unhandled and let the failure reach the server.
            self._report(req, ex, params, False)
            if derived is not None and derived is not ex:
                self._report(req, derived, params, False)
            if handler_ex is not ex:
                self._report(req, handler_ex, params, False)
            raise
        self._report(req, ex, params, True)
        if derived is not None and derived is not ex:
            self._report(req, derived, params, True)
        return True

    # -- the default handlers ------------------------------------------------

    def _compose_status_response(self, req: Any, resp: Any, status: HTTPStatus) -> None:
        resp.status = status.status
        if status.headers is not None:
            resp.set_headers(status.headers)
        resp.text = status.text

    def _compose_error_response(self, req: Any, resp: Any, error: HTTPError) -> None:
        resp.status = error.status
        if error.headers is not None:
            resp.set_headers(error.headers)
        self._serialize_error(req, resp, error)

    async def _close_for_status(self, ws: WebSocket, what: object, status: int) -> None:
        code = http_status_to_ws_code(status)
        level = logging.INFO if status in _ROUTINE_WS_STATUSES else logging.ERROR
        _logger.log(
            level,
            '[gyrfalcon] %s raised while handling WebSocket. Closing with code %s',
            what,
            code,
        )
        await ws.close(code)

    async def _http_status_handler(
        self,
        req: Any,
        resp: Any,
        status: HTTPStatus,
        params: dict[str, Any],
        ws: WebSocket | None = None,
    ) -> None:
        if resp is not None:
            self._compose_status_response(req, resp, status)
        elif ws is not None:
            await self._close_for_status(ws, status, status.status_code)
        else:
            raise NotImplementedError('resp or ws expected')

    async def _http_error_handler(
        self,
        req: Any,
        resp: Any,
        error: HTTPError,
        params: dict[str, Any],
        ws: WebSocket | None = None,
    ) -> None:
        if resp is not None:
            self._compose_error_response(req, resp, error)
        elif ws is not None:
            await self._close_for_status(ws, error, error.status_code)
        else:
            raise NotImplementedError('resp or ws expected')

    async def _python_error_handler(
        self,
        req: Any,
        resp: Any,
        error: Exception,
        params: dict[str, Any],
        ws: WebSocket | None = None,
    ) -> None:
        _logger.error('[gyrfalcon] Unhandled exception in ASGI app', exc_info=error)
        if resp is not None:
            self._compose_error_response(req, resp, HTTPInternalServerError())
        elif ws is not None:
            await self._ws_cleanup_on_error(ws)
        else:
            raise NotImplementedError('resp or ws expected')

    async def _ws_disconnected_error_handler(
        self,
        req: Any,
        resp: Any,
        error: WebSocketDisconnected,
        params: dict[str, Any],
        ws: WebSocket | None = None,
    ) -> None:
        if ws is None:
            raise NotImplementedError('ws expected')
        _logger.debug(
            '[gyrfalcon] WebSocket client disconnected with code %i', error.code
        )
        await self._ws_cleanup_on_error(ws)

    async def _ws_cleanup_on_error(self, ws: WebSocket) -> None:
        try:
            await ws.close(self.ws_options.error_close_code)
        except Exception as ex:
            # NOTE(gyrfalcon): Some servers (Daphne) refuse 1011; so do we,
            #   for a misconfigured error_close_code.
            if 'invalid close code' in str(ex).lower():
                await ws.close(_FALLBACK_WS_ERROR_CODE)
            else:
                _logger.warning(
                    '[gyrfalcon] Attempt to close web connection cleanly failed '
                    'due to raised error.',
                    exc_info=True,
                )
                raise


def _require_coroutine(handler: ErrorHandler) -> ErrorHandler:
    handler = _wrap_non_coroutine_unsafe(handler) or handler
    if inspect.iscoroutinefunction(handler) or not is_python_func(handler):
        return handler
    raise CompatibilityError(
        'The handler must be an awaitable coroutine function in order to be '
        'used safely with an ASGI app.'
    )
