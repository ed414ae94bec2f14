"""Default responders: 404, 400, 405 and the automatic ``OPTIONS``.

Each has a synchronous and a coroutine form, because the router can also be
used on its own, outside an App (the App always asks for the coroutines).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NoReturn

from gyrfalcon.errors import HTTPBadRequest, HTTPMethodNotAllowed, HTTPRouteNotFound
from gyrfalcon.status_codes import HTTP_200

__all__ = (
    'bad_request',
    'bad_request_async',
    'create_default_options',
    'create_method_not_allowed',
    'path_not_found',
    'path_not_found_async',
)


def path_not_found(req: Any, resp: Any, **kwargs: Any) -> NoReturn:
    """Raise :class:`~gyrfalcon.HTTPRouteNotFound` (404)."""
    raise HTTPRouteNotFound()


async def path_not_found_async(req: Any, resp: Any, **kwargs: Any) -> NoReturn:
    """Raise :class:`~gyrfalcon.HTTPRouteNotFound` (404)."""
    raise HTTPRouteNotFound()


def bad_request(req: Any, resp: Any, **kwargs: Any) -> NoReturn:
    """Raise :class:`~gyrfalcon.HTTPBadRequest` for an invalid method."""
    raise HTTPBadRequest(title='Bad request', description='Invalid HTTP method')


async def bad_request_async(req: Any, resp: Any, **kwargs: Any) -> NoReturn:
    """Raise :class:`~gyrfalcon.HTTPBadRequest` for an invalid method."""
    raise HTTPBadRequest(title='Bad request', description='Invalid HTTP method')


def create_method_not_allowed(
    allowed_methods: Iterable[str], asgi: bool = False
) -> Callable[..., Any]:
    """Build a responder that raises "405 Method Not Allowed".

    Args:
        allowed_methods: The methods (uppercase) for the ``Allow`` header.
            The list is read when the error is raised, so methods appended
            later are included.
        asgi (bool): Return a coroutine function (default ``False``).

    Returns:
        The responder.
    """
    if asgi:

        async def method_not_allowed_responder_async(
            req: Any, resp: Any, **kwargs: Any
        ) -> None:
            raise HTTPMethodNotAllowed(allowed_methods)

        return method_not_allowed_responder_async

    def method_not_allowed(req: Any, resp: Any, **kwargs: Any) -> None:
        raise HTTPMethodNotAllowed(allowed_methods)

    return method_not_allowed


def create_default_options(
    allowed_methods: Iterable[str], asgi: bool = False
) -> Callable[..., Any]:
    """Build the responder for ``OPTIONS`` when a resource has none.

    It answers ``200 OK`` with an empty body and, when there is anything to
    list, an ``Allow`` header.

    Args:
        allowed_methods: The methods (uppercase) for the ``Allow`` header.
        asgi (bool): Return a coroutine function (default ``False``).

    Returns:
        The responder.
    """
    allow = ', '.join(allowed_methods)

    def fill(resp: Any) -> None:
        resp.status = HTTP_200
        if allow:
            resp.set_header('Allow', allow)
        resp.set_header('Content-Length', '0')

    if asgi:

        async def options_responder_async(req: Any, resp: Any, **kwargs: Any) -> None:
            fill(resp)

        return options_responder_async

    def options_responder(req: Any, resp: Any, **kwargs: Any) -> None:
        fill(resp)

    return options_responder
