"""The echo/push app of the end-to-end benchmarks, written once for Falcon 4.

``/echo`` sends every TEXT message back. ``/push`` reads TEXT requests of the
form ``"<count> <size>"`` and answers each with ``count`` TEXT messages of
``size`` bytes, sent one ``await ws.send_text()`` at a time, as a feed or
notification responder would. The same responders run on Gyrfalcon
(``gyrfalcon_app``, through ``import gyrfalcon as falcon``) and on Falcon 4.4
(``falcon_app``); ``picows_server.py`` is the same protocol on picows.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any


def make_app(falcon: ModuleType) -> Any:
    """Build the app with the given ``falcon``-compatible package.

    Args:
        falcon: ``gyrfalcon`` or ``falcon``; its ``asgi.App`` is used.

    Returns:
        The ASGI app.
    """
    disconnected = falcon.WebSocketDisconnected

    class Echo:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            try:
                while True:
                    await ws.send_text(await ws.receive_text())
            except disconnected:
                pass

    class Push:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            try:
                while True:
                    count, size = map(int, (await ws.receive_text()).split())
                    payload = 'x' * size
                    for _ in range(count):
                        await ws.send_text(payload)
            except disconnected:
                pass

    app = falcon.asgi.App()
    app.add_route('/echo', Echo())
    app.add_route('/push', Push())
    return app


def _gyrfalcon_app() -> Any:
    import gyrfalcon
    import gyrfalcon.asgi

    return make_app(gyrfalcon)


def _falcon_app() -> Any:
    import falcon
    import falcon.asgi

    return make_app(falcon)


def __getattr__(name: str) -> Any:
    # Import only the framework that the server process asks for.
    if name == 'gyrfalcon_app':
        return _gyrfalcon_app()
    if name == 'falcon_app':
        return _falcon_app()
    raise AttributeError(name)


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The same echo/push protocol as a bare ASGI app (no framework).

    A diagnostic: served by ``gyrfalcon serve`` it shows the cost of the
    server adapter and the engine alone; ``channel_app`` is the same on the
    adapter's engine channel (``gyrfalcon.server.get_channel``).
    """
    if scope['type'] != 'websocket':
        return
    await receive()
    await send({'type': 'websocket.accept'})
    push = scope['path'] == '/push'
    while True:
        message = await receive()
        if message['type'] == 'websocket.disconnect':
            return
        text = message.get('text') or ''
        if not push:
            await send({'type': 'websocket.send', 'text': text})
            continue
        count, size = map(int, text.split())
        outgoing = {'type': 'websocket.send', 'text': 'x' * size}
        for _ in range(count):
            await send(outgoing)


async def channel_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The echo/push protocol on the adapter's engine channel (diagnostic)."""
    from gyrfalcon.server import get_channel

    if scope['type'] != 'websocket':
        return
    channel = get_channel(scope, receive, send)
    assert channel is not None, 'serve this app with gyrfalcon serve'
    await receive()
    await send({'type': 'websocket.accept'})
    push = scope['path'] == '/push'
    while True:
        message = channel.next_message()
        if message is None:
            if channel.closed:
                return
            await channel.wait_message()
            continue
        text = str(message)
        if not push:
            channel.send_text(text)
        else:
            count, size = map(int, text.split())
            payload = 'x' * size
            for _ in range(count):
                channel.send_text(payload)
                if channel.writing_paused:
                    await channel.drain()
        if channel.writing_paused:
            await channel.drain()
