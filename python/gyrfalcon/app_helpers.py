"""Helpers of the App: middleware preparation and error serialization."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import IO, Any

from gyrfalcon.constants import MEDIA_JSON, MEDIA_XML
from gyrfalcon.errors import CompatibilityError
from gyrfalcon.util.misc import get_bound_method, is_python_func
from gyrfalcon.util.sync import _wrap_non_coroutine_unsafe

__all__ = (
    'CloseableStreamIterator',
    'default_serialize_error',
    'prepare_middleware',
    'prepare_middleware_ws',
)

_Method = Callable[..., Any]
PreparedMiddlewareResult = tuple[
    tuple[Any, ...], tuple[_Method, ...], tuple[_Method, ...]
]
"""``(request_mw, resource_mw, response_mw)``; with dependent middleware,
``request_mw`` holds ``(process_request, process_response)`` pairs and
``response_mw`` is empty."""

PreparedMiddlewareWsResult = tuple[tuple[_Method, ...], tuple[_Method, ...]]
"""``(process_request_ws methods, process_resource_ws methods)``."""

# NOTE(gyrfalcon): A component with only these methods is valid middleware.
_ASGI_ONLY_METHODS = (
    'process_startup',
    'process_shutdown',
    'process_request_ws',
    'process_resource_ws',
)


def _bound(component: object, name: str) -> _Method | None:
    method: _Method | None = get_bound_method(component, name)
    return method


def _is_blocking(method: _Method | None) -> bool:
    return (
        method is not None
        and not inspect.iscoroutinefunction(method)
        and is_python_func(method)
    )


def _async_method(component: object, name: str) -> _Method | None:
    # NOTE(gyrfalcon): A component that serves both kinds of app names its
    #   coroutine methods with an '_async' suffix.
    method = _bound(component, name + '_async') or _wrap_non_coroutine_unsafe(
        _bound(component, name)
    )
    if _is_blocking(method):
        raise CompatibilityError(
            f'{method} must be implemented as an awaitable coroutine. If you '
            f'would like to retain compatibility with WSGI apps, the coroutine '
            f'versions of the middleware methods may be implemented '
            f'side-by-side by applying an *_async postfix to the method names.'
        )
    return method


def prepare_middleware(
    middleware: Iterable[object],
    independent_middleware: bool = False,
    asgi: bool = True,
) -> PreparedMiddlewareResult:
    """Check middleware components and collect their HTTP methods.

    Looking the methods up once, here, spares a ``getattr()`` per request.

    Args:
        middleware: The components, in order.
        independent_middleware (bool): Run ``process_response()`` even when
            the same component's ``process_request()`` (or an earlier
            component's) raised (default ``False``).
        asgi (bool): Require coroutine methods (default ``True``; Gyrfalcon
            apps are always ASGI apps).

    Returns:
        The prepared methods (see ``PreparedMiddlewareResult``).

    Raises:
        CompatibilityError: A method has the wrong kind (sync on ASGI).
        TypeError: A component implements no middleware method at all.
    """
    request_mw: list[Any] = []
    resource_mw: list[_Method] = []
    response_mw: list[_Method] = []

    for component in middleware:
        if asgi:
            process_request = _async_method(component, 'process_request')
            process_resource = _async_method(component, 'process_resource')
            process_response = _async_method(component, 'process_response')
        else:
            process_request = _bound(component, 'process_request')
            process_resource = _bound(component, 'process_resource')
            process_response = _bound(component, 'process_response')
            for method in (process_request, process_resource, process_response):
                if method is not None and inspect.iscoroutinefunction(method):
                    raise CompatibilityError(
                        f'{component} may not implement coroutine methods and '
                        f'remain compatible with WSGI apps without using the '
                        f'*_async postfix to explicitly identify the coroutine '
                        f'version of a given middleware method.'
                    )

        if not (process_request or process_resource or process_response):
            if asgi and any(hasattr(component, m) for m in _ASGI_ONLY_METHODS):
                continue
            raise TypeError(
                f'{component} must implement at least one middleware method'
            )

        if independent_middleware:
            if process_request:
                request_mw.append(process_request)
            if process_response:
                # NOTE(gyrfalcon): responses unwind the stack: last in, first.
                response_mw.insert(0, process_response)
        elif process_request or process_response:
            request_mw.append((process_request, process_response))
        if process_resource:
            resource_mw.append(process_resource)

    return tuple(request_mw), tuple(resource_mw), tuple(response_mw)


def prepare_middleware_ws(middleware: Iterable[object]) -> PreparedMiddlewareWsResult:
    """Collect the WebSocket methods of middleware components.

    Args:
        middleware: The components, in order.

    Returns:
        ``(process_request_ws methods, process_resource_ws methods)``, in the
        components' order.

    Raises:
        CompatibilityError: A method is not a coroutine function.
    """
    request_mw: list[_Method] = []
    resource_mw: list[_Method] = []
    for component in middleware:
        process_request_ws = _bound(component, 'process_request_ws')
        process_resource_ws = _bound(component, 'process_resource_ws')
        for method in (process_request_ws, process_resource_ws):
            if _is_blocking(method):
                raise CompatibilityError(
                    f'{method} must be implemented as an awaitable coroutine.'
                )
        if process_request_ws:
            request_mw.append(process_request_ws)
        if process_resource_ws:
            resource_mw.append(process_resource_ws)
    return tuple(request_mw), tuple(resource_mw)


def default_serialize_error(req: Any, resp: Any, exception: Any) -> None:
    """Serialize an ``HTTPError`` into the response, as the client prefers.

    JSON is chosen when the client accepts it (and on a tie), XML when the
    client prefers it (and ``resp.options.xml_error_serialization`` is on),
    or another media type for which a handler is registered. A media type
    with a ``+json`` or ``+xml`` suffix gets JSON or XML. When nothing fits,
    the body stays empty. ``Vary: Accept`` is always added.

    Args:
        req: The request.
        resp: The response.
        exception (HTTPError): The error.
    """
    options = resp.options
    predefined = (
        [MEDIA_JSON, 'text/xml', MEDIA_XML]
        if options.xml_error_serialization
        else [MEDIA_JSON]
    )
    # NOTE(gyrfalcon): Registered handlers come after JSON (and XML), so that
    #   JSON wins a tie while the client's q-values still count.
    registered = [mt for mt in options.media_handlers if mt not in predefined]
    preferred = req.client_prefers(predefined + registered)
    if preferred is None:
        accept = req.accept.lower()
        if '+json' in accept:
            preferred = MEDIA_JSON
        elif '+xml' in accept:
            preferred = MEDIA_XML

    if preferred is not None:
        handler, _, _ = options.media_handlers._resolve(
            preferred, MEDIA_JSON, raise_not_found=False
        )
        if preferred == MEDIA_JSON:
            # NOTE(gyrfalcon): JSON is always possible, handler or not.
            resp.data = exception.to_json(handler)
        elif handler:
            resp.media = exception.to_dict()
        elif options.xml_error_serialization:
            resp.data = exception._to_xml()
        resp.content_type = preferred
    resp.append_header('Vary', 'Accept')


class CloseableStreamIterator:
    """Iterate over a file-like object in blocks, and close it on demand.

    Args:
        stream: A readable binary file-like object.
        block_size (int): The number of bytes per block.
    """

    def __init__(self, stream: IO[bytes], block_size: int) -> None:
        self._stream = stream
        self._block_size = block_size

    def __iter__(self) -> CloseableStreamIterator:
        """Return the iterator itself."""
        return self

    def __next__(self) -> bytes:
        """Return the next block; stop at the end of the stream."""
        data = self._stream.read(self._block_size)
        if data == b'':
            raise StopIteration
        return data

    def close(self) -> None:
        """Close the underlying stream, if it can be closed."""
        try:
            self._stream.close()
        except (AttributeError, TypeError):
            pass


@functools.lru_cache(maxsize=1024)
def _cached_has_arg(func: Callable[..., Any], name: str) -> bool:
    return _has_arg(func, name)


def _has_arg(func: Callable[..., Any], name: str) -> bool:
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    parameter = parameters.get(name)
    return parameter is not None and parameter.kind not in (
        inspect.Parameter.VAR_POSITIONAL,
        inspect.Parameter.VAR_KEYWORD,
    )


def has_arg_name(func: Callable[..., Any], name: str) -> bool:
    """Tell whether a callable declares a parameter called `name`.

    Results are cached (``inspect.signature()`` costs microseconds), except
    for unhashable callables.
    """
    try:
        return _cached_has_arg(func, name)
    except TypeError:
        return _has_arg(func, name)
