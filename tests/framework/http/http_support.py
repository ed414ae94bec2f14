"""Helpers of the HTTP-layer tests: hand-built ASGI scopes and receivers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

Receive = Callable[[], Awaitable[dict[str, Any]]]


def make_scope(
    path: str = '/',
    query_string: bytes = b'',
    headers: Iterable[tuple[str, str]] = (),
    method: str = 'GET',
    scope_type: str = 'http',
    **extra: Any,
) -> dict[str, Any]:
    """Build an ASGI ``http`` (or ``websocket``) scope by hand."""
    scope: dict[str, Any] = {
        'type': scope_type,
        'asgi': {'version': '3.0', 'spec_version': '2.4'},
        'http_version': '1.1',
        'path': path,
        'raw_path': path.encode(),
        'query_string': query_string,
        'root_path': '',
        'headers': [
            (name.lower().encode('latin1'), value.encode('latin1'))
            for name, value in headers
        ],
        'client': ('10.0.0.1', 50000),
        'server': ('127.0.0.1', 8000),
        'scheme': 'http' if scope_type == 'http' else 'ws',
    }
    if scope_type == 'http':
        scope['method'] = method
    scope.update(extra)
    return scope


def body_receiver(*chunks: bytes, disconnect: bool = False) -> Receive:
    """Return an ASGI ``receive`` that yields the chunks as body events.

    After the last chunk (``more_body`` false), or instead of it when
    `disconnect` is set, it yields ``http.disconnect`` forever.
    """
    events: list[dict[str, Any]] = [
        {'type': 'http.request', 'body': chunk, 'more_body': True} for chunk in chunks
    ]
    if events and not disconnect:
        events[-1]['more_body'] = False
    received: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        event = events.pop(0) if events else {'type': 'http.disconnect'}
        received.append(event)
        return event

    receive.received = received  # type: ignore[attr-defined]
    return receive


async def no_receive() -> dict[str, Any]:
    """An ASGI ``receive`` that must not be called."""
    raise AssertionError('receive() was called')
