"""Built-in middleware: a simple CORS policy."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

__all__ = ('CORSMiddleware',)


def _origin_set(value: str | Iterable[str], argument: str) -> frozenset[str]:
    origins = frozenset([value] if isinstance(value, str) else value)
    if '*' in origins:
        raise ValueError(
            f'The wildcard string "*" may only be passed to {argument} as a '
            f'string literal, not inside an iterable.'
        )
    return origins


class CORSMiddleware:
    """Answer CORS requests, including browser preflight requests.

    Enable it with ``App(cors_enable=True)``, or pass an instance in
    ``middleware=`` to configure it. Preflight answers are built from the
    ``Allow`` header of the ``OPTIONS`` response: the automatic ``OPTIONS``
    responder sets it, and a custom ``on_options()`` (or a sink) must set it
    too, or the preflight is denied. WebSocket handshakes are not affected;
    check their ``Origin`` in ``process_request_ws()`` or the responder.

    Keyword Args:
        allow_origins (str or Iterable[str]): The origins to allow (case
            sensitive); the string ``'*'`` allows every origin (default).
        expose_headers (str or Iterable[str]): Response headers to list in
            ``Access-Control-Expose-Headers``, beyond the CORS-safelisted
            ones (default ``None``).
        allow_credentials (str or Iterable[str]): The allowed origins for
            which to send ``Access-Control-Allow-Credentials: true``; ``'*'``
            means all of them and ``None`` none (default ``None``).
        allow_private_network (bool): Answer a preflight that asks for
            ``Access-Control-Request-Private-Network`` with
            ``Access-Control-Allow-Private-Network: true`` (default
            ``False``).

    Raises:
        ValueError: ``'*'`` was given inside an iterable.
    """

    allow_origins: Literal['*'] | frozenset[str]
    allow_credentials: Literal['*'] | frozenset[str]
    expose_headers: str | None

    def __init__(
        self,
        allow_origins: str | Iterable[str] = '*',
        expose_headers: str | Iterable[str] | None = None,
        allow_credentials: str | Iterable[str] | None = None,
        allow_private_network: bool = False,
    ) -> None:
        self.allow_origins = (
            '*' if allow_origins == '*' else _origin_set(allow_origins, 'allow_origins')
        )
        if expose_headers is not None and not isinstance(expose_headers, str):
            expose_headers = ', '.join(expose_headers)
        self.expose_headers = expose_headers
        if allow_credentials is None:
            self.allow_credentials = frozenset()
        elif allow_credentials == '*':
            self.allow_credentials = '*'
        else:
            self.allow_credentials = _origin_set(allow_credentials, 'allow_credentials')
        self.allow_private_network = allow_private_network

    def process_response(
        self, req: Any, resp: Any, resource: object, req_succeeded: bool
    ) -> None:
        """Add the CORS headers to a response."""
        origin = req.get_header('Origin')
        if origin is None:
            return
        if self.allow_origins != '*' and origin not in self.allow_origins:
            return

        if resp.get_header('Access-Control-Allow-Origin') is None:
            allowed = '*' if self.allow_origins == '*' else origin
            if self.allow_credentials == '*' or origin in self.allow_credentials:
                # NOTE(gyrfalcon): Browsers refuse credentials with a '*'
                #   origin, so the origin is echoed back.
                allowed = origin
                resp.set_header('Access-Control-Allow-Credentials', 'true')
            resp.set_header('Access-Control-Allow-Origin', allowed)

        if self.expose_headers:
            resp.set_header('Access-Control-Expose-Headers', self.expose_headers)

        preflight = (
            req_succeeded
            and req.method == 'OPTIONS'
            and req.get_header('Access-Control-Request-Method')
        )
        if not preflight:
            return
        allow = resp.get_header('Allow')
        resp.delete_header('Allow')
        if allow is None:
            # NOTE(gyrfalcon): Without an Allow header there is nothing to
            #   grant; strip the CORS headers so that the browser denies it.
            for name in (
                'Access-Control-Allow-Methods',
                'Access-Control-Allow-Headers',
                'Access-Control-Max-Age',
                'Access-Control-Expose-Headers',
                'Access-Control-Allow-Origin',
            ):
                resp.delete_header(name)
        else:
            resp.set_header('Access-Control-Allow-Methods', allow)
            resp.set_header(
                'Access-Control-Allow-Headers',
                req.get_header('Access-Control-Request-Headers', default='*'),
            )
            resp.set_header('Access-Control-Max-Age', '86400')
        if (
            self.allow_private_network
            and req.get_header('Access-Control-Request-Private-Network') == 'true'
        ):
            resp.set_header('Access-Control-Allow-Private-Network', 'true')

    async def process_response_async(
        self, req: Any, resp: Any, resource: object, req_succeeded: bool
    ) -> None:
        """Add the CORS headers to a response (the ASGI form)."""
        self.process_response(req, resp, resource, req_succeeded)
