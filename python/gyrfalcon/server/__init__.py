"""Server adapters that drive one WebSocket engine per connection.

``gyrfalcon.server.uvicorn:WebSocketProtocol`` is the uvicorn WebSocket
protocol class (``uvicorn app:app --ws gyrfalcon.server.uvicorn:WebSocketProtocol``);
``gyrfalcon.server.fastpath`` documents the ASGI extension it offers to
frameworks that want to skip the per-message ASGI dicts.

This package imports nothing from uvicorn itself; import
``gyrfalcon.server.uvicorn`` for the protocol class.
"""

from __future__ import annotations

from .fastpath import EXTENSION, EngineChannel, get_channel

__all__ = ['EXTENSION', 'EngineChannel', 'get_channel']
