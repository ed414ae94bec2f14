"""The echo app that the Autobahn|Testsuite cases run against.

A Gyrfalcon app: every TEXT message goes back as TEXT and every BINARY
message as BINARY. The close handshake is left to the server: the app returns
when the client has gone. uvicorn's stock WebSocket classes serve this same
app when ``run.py`` compares them.

The handshake response names the engine that serves the connection in an
``X-Gyrfalcon-Engine`` header (``native``, ``python``, or ``none`` on a
server without the Gyrfalcon protocol class), so that a run can prove which
engine it measured.
"""

from __future__ import annotations

import gyrfalcon
from gyrfalcon.asgi import WebSocket


def engine_name(req: gyrfalcon.Request) -> str:
    """Name the engine behind this connection: native, python or none."""
    if 'gyrfalcon.engine' not in req.scope.get('extensions', {}):
        return 'none'
    from gyrfalcon.server.uvicorn import WebSocketProtocol

    module = WebSocketProtocol.engine_class.__module__
    return 'native' if module == 'gyrfalcon._native' else 'python'


class Echo:
    """Echo every message with its own type until the client leaves."""

    async def on_websocket(self, req: gyrfalcon.Request, ws: WebSocket) -> None:
        await ws.accept(headers={'X-Gyrfalcon-Engine': engine_name(req)})
        async for message in ws:
            if isinstance(message, str):
                await ws.send_text(message)
            else:
                await ws.send_data(message)


app: gyrfalcon.App[gyrfalcon.Request, gyrfalcon.Response] = gyrfalcon.App()
app.add_route('/', Echo())
