"""``WebSocketOptions`` (``app.ws_options``) and ASGI version helpers."""

from __future__ import annotations

import functools
import re
from typing import Any

from gyrfalcon import media, status_codes
from gyrfalcon.constants import WebSocketPayloadType

__all__ = ('WebSocketOptions', 'http_status_to_ws_code', 'supports_reason')

_STATUS_CONSTANT = re.compile(r'HTTP_([1-5]\d\d)\Z')


def http_status_to_ws_code(http_status: int) -> int:
    """Return the WebSocket close code for an HTTP status: ``3000 + status``."""
    return http_status + 3000


@functools.lru_cache(maxsize=16)
def supports_reason(asgi_version: str) -> bool:
    """Tell whether an ASGI HTTP/WebSocket spec version sends close reasons.

    ``reason`` in ``websocket.close`` arrived in spec 2.3. Versions are
    compared numerically, ignoring any suffix (``'2.3a'`` counts as 2.3).
    """
    numbers: list[int] = []
    for part in asgi_version.split('.'):
        digits = re.match(r'\d+', part)
        if digits is None:
            break
        numbers.append(int(digits.group()))
    return tuple(numbers) >= (2, 3)


def _default_close_reasons() -> dict[int, str]:
    reasons = {
        1000: 'Normal Closure',
        1011: 'Internal Server Error',
        3011: 'Internal Server Error',
    }
    for name in dir(status_codes):
        if _STATUS_CONSTANT.match(name):
            code, _, phrase = getattr(status_codes, name).partition(' ')
            reasons[http_status_to_ws_code(int(code))] = phrase
    return reasons


class WebSocketOptions:
    """Options for the app's WebSocket connections (``app.ws_options``).

    They are read when a connection starts, so a change applies to the
    connections that start afterwards.

    Attributes:
        error_close_code (int): The close code used when an unhandled error
            ends a connection (default 1011). If the server refuses it as an
            invalid code, 3011 is used instead.
        default_close_reasons (dict[int, str]): The reason sent with a close
            code when ``close()`` is given none: ``'Normal Closure'`` for
            1000, ``'Internal Server Error'`` for 1011 and 3011, and the
            status phrase for ``3000 + status`` of every HTTP status (e.g.
            3404: ``'Not Found'``). Replace or change it freely.
        media_handlers (dict): The media handlers by payload type: JSON for
            ``WebSocketPayloadType.TEXT``, MessagePack for
            ``WebSocketPayloadType.BINARY`` (a handler that explains what to
            install if the ``msgpack`` package is missing).
        max_receive_queue (int): How many incoming messages the framework may
            read ahead of the app (default 4). Reading ahead is what detects a
            client that left while the app only sends; 0 turns it off, after
            which a disconnect is only noticed by a receive, or by a send on a
            server that raises ``OSError`` (ASGI 2.4).
    """

    __slots__ = (
        'default_close_reasons',
        'error_close_code',
        'max_receive_queue',
        'media_handlers',
    )

    error_close_code: int
    default_close_reasons: dict[int, str]
    media_handlers: dict[WebSocketPayloadType, Any]
    max_receive_queue: int

    def __init__(self) -> None:
        binary: Any
        try:
            binary = media.MessagePackHandlerWS()
        except ImportError:
            binary = media.MissingDependencyHandler(
                'default WebSocket media handler for BINARY payloads', 'msgpack'
            )
        self.media_handlers = {
            WebSocketPayloadType.TEXT: media.JSONHandlerWS(),
            WebSocketPayloadType.BINARY: binary,
        }
        self.error_close_code = 1011
        self.default_close_reasons = _default_close_reasons()
        # NOTE(gyrfalcon): The server buffers too; a short queue here keeps
        #   memory per connection small.
        self.max_receive_queue = 4
