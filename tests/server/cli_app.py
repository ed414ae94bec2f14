"""An ASGI app for the ``gyrfalcon serve`` tests, served from a subprocess.

Its first WebSocket message reports what the serving process sees: the
protocol class's settings and whether the engine channel is offered. Then it
echoes text until the client leaves.
"""

from __future__ import annotations

import json
import os
from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope['type'] == 'lifespan':
        while True:
            message = await receive()
            await send({'type': message['type'] + '.complete'})
            if message['type'] == 'lifespan.shutdown':
                return
    assert scope['type'] == 'websocket'
    from gyrfalcon.server.uvicorn import WebSocketProtocol

    await receive()
    await send({'type': 'websocket.accept'})
    report = {
        'pid': os.getpid(),
        'close_timeout': WebSocketProtocol.close_timeout,
        'max_queue_bytes': WebSocketProtocol.max_queue_bytes,
        'close_on_app_exit': WebSocketProtocol.close_on_app_exit,
        'channel': 'gyrfalcon.engine' in scope['extensions'],
        'root_path': scope['root_path'],
    }
    await send({'type': 'websocket.send', 'text': json.dumps(report)})
    while True:
        message = await receive()
        if message['type'] == 'websocket.disconnect':
            return
        await send({'type': 'websocket.send', 'text': message['text']})
