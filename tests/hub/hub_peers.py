"""An app with hub routes, served on uvicorn, and the clients that read it.

``hub_app()`` builds a Gyrfalcon app whose ``/sub/{topic}`` route accepts,
subscribes to the topic (resuming from ``?last=<id>`` when given) and then
reads until the client leaves. ``PATHS`` are the ways a subscriber can be
served: on Gyrfalcon's class (the fast path, the hub writes prepared frames
through the engine channel), on Gyrfalcon's class behind an ASGI middleware
that wraps ``receive``/``send`` (the facade's dict path: the hub's fallback
queue), and on uvicorn's ``websockets-sansio`` class (the fallback too).
"""

from __future__ import annotations

import asyncio
from typing import Any

from ws_peers import IMPLEMENTATIONS

import gyrfalcon as falcon
from gyrfalcon.asgi import Request, WebSocket
from gyrfalcon.hub import Hub

PATHS = ['fast', 'wrapped', 'sansio']
"""How subscribers are served: fast path, and two kinds of fallback."""


class Subscriber:
    """``/sub/{topic}``: subscribe, then read until the client leaves."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.subscriptions: list[Any] = []
        self.finished = 0
        self.received: list[str | bytes] = []

    async def on_websocket(self, req: Request, ws: WebSocket, topic: str) -> None:
        await ws.accept()
        try:
            last = req.get_param('last')
            subscription = await self.hub.subscribe(ws, topic, last_event_id=last)
            self.subscriptions.append(subscription)
            await ws.send_text('subscribed')
            async for message in ws:
                if message == 'quit':
                    await ws.close(4000)
                    return
                self.received.append(message)
        finally:
            self.finished += 1


class Wrap:
    """ASGI middleware that wraps ``receive`` and ``send`` (no fast path)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def wrapped_receive() -> Any:
            return await receive()

        async def wrapped_send(message: Any) -> None:
            await send(message)

        await self.app(scope, wrapped_receive, wrapped_send)


def hub_app(path: str, hub: Hub | None = None) -> tuple[Any, falcon.App, Subscriber]:
    """Return (the ASGI app to serve, the Gyrfalcon app, its responder)."""
    app = falcon.App(hub=hub) if hub is not None else falcon.App()
    subscriber = Subscriber(app.hub)
    app.add_route('/sub/{topic}', subscriber)
    served: Any = Wrap(app) if path == 'wrapped' else app
    return served, app, subscriber


def ws_class(path: str) -> Any:
    """The uvicorn WebSocket class for a path."""
    return IMPLEMENTATIONS['websockets-sansio' if path == 'sansio' else 'gyrfalcon']


async def wait_for(predicate: Any, what: str) -> None:
    """Wait (without asserting on time) until ``predicate()`` is true."""
    from ws_peers import eventually

    await eventually(predicate, what)


async def drain(queue: asyncio.Queue[Any]) -> list[Any]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items
