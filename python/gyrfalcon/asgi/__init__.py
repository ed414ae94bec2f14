"""The ASGI classes of Gyrfalcon: the App, its request, response and WebSocket.

Gyrfalcon is ASGI-only, so ``gyrfalcon.App`` is ``gyrfalcon.asgi.App`` and
``gyrfalcon.Request``/``Response`` are the classes exported here.
"""

from __future__ import annotations

from gyrfalcon.asgi.app import App
from gyrfalcon.asgi.request import Request
from gyrfalcon.asgi.response import Response
from gyrfalcon.asgi.stream import BoundedStream
from gyrfalcon.asgi.structures import SSEvent
from gyrfalcon.asgi.ws import WebSocket, WebSocketOptions

__all__ = (
    'App',
    'BoundedStream',
    'Request',
    'Response',
    'SSEvent',
    'WebSocket',
    'WebSocketOptions',
)
