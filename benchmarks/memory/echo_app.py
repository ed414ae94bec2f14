"""A plain ASGI echo app for the memory benchmarks (``deflate.py``)."""

from __future__ import annotations

from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Accept, then echo every message until the client leaves."""
    assert scope['type'] == 'websocket'
    await receive()
    await send({'type': 'websocket.accept'})
    while True:
        message = await receive()
        if message['type'] == 'websocket.disconnect':
            return
        reply = {k: v for k, v in message.items() if k in ('text', 'bytes')}
        await send({'type': 'websocket.send', **reply})
