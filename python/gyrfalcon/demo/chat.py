"""The chat room: ``/ws/chat``, every message goes to everyone.

The conversation, in the ``gyrfalcon.demo.v1`` subprotocol (JSON objects in
TEXT messages):

* The server greets a new client with ``{"type": "welcome", "name": ...,
  "online": [...], "history": [...]}``: who it is, who is here and the last
  messages.
* The client says something with ``{"text": "hello"}``. The server
  broadcasts ``{"type": "message", "id": 7, "from": "alice", "text":
  "hello", "ts": 1700000000.123}`` to every client, the sender included.
* Joins and departures are broadcast as ``{"type": "joined"}`` and
  ``{"type": "left"}`` with the name and who is online.
* A message the server cannot use gets ``{"type": "error", "error": ...}``
  back, to the sender only; the connection stays open.
* ``{"text": "/quit"}`` makes the server close the connection cleanly
  (code 1000, reason ``Goodbye``).

``receive_media()`` picks the media handler by the message's type, so a
client may also send its ``{"text": ...}`` as MessagePack in a BINARY
message. Broadcasts are always JSON text.
"""

from __future__ import annotations

import collections
import time
from typing import Any

from gyrfalcon import WebSocketDisconnected
from gyrfalcon.asgi import Request, WebSocket
from gyrfalcon.demo.handshake import accept
from gyrfalcon.hub import Hub

__all__ = ['CHAT_TOPIC', 'MAX_TEXT', 'ChatRoom']

CHAT_TOPIC = 'chat'
MAX_TEXT = 500
"""The longest chat message accepted, in characters."""


class ChatRoom:
    """The chat room resource.

    Args:
        hub: Delivers the room's messages to every member (``app.hub``).
        history_size: How many past messages a newcomer receives.
    """

    def __init__(self, hub: Hub, history_size: int = 50) -> None:
        self._hub = hub
        self._history: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=history_size
        )
        # A name may be connected more than once (two tabs): count them.
        self._members: collections.Counter[str] = collections.Counter()
        self._last_id = 0

    @property
    def online(self) -> list[str]:
        """The names of the connected members, sorted."""
        return sorted(self._members)

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        """Run one member's connection, from the handshake to the goodbye."""
        # TokenMiddleware has checked the token and named the user.
        name: str = req.context.user
        await accept(ws)

        # From here on, broadcasts are held for this client (paused=True);
        # the welcome goes out first, then resume() lets them flow. The
        # history in the welcome and the held broadcasts meet exactly:
        # nothing published after subscribing is missing from the held ones.
        # The connection leaves the topic by itself when it closes.
        subscription = await self._hub.subscribe(ws, CHAT_TOPIC, paused=True)
        welcome = {
            'type': 'welcome',
            'name': name,
            'online': sorted({*self._members, name}),
            'history': list(self._history),
        }
        # (If the client is gone already, this raises
        # WebSocketDisconnected, which the framework logs at DEBUG.)
        await ws.send_media(welcome)
        subscription.resume()
        self._members[name] += 1
        try:
            await self._hub.publish(
                CHAT_TOPIC, {'type': 'joined', 'name': name, 'online': self.online}
            )
            await self._converse(ws, name)
        finally:
            await self._leave(name)

    async def _converse(self, ws: WebSocket, name: str) -> None:
        """Relay what the member says until it leaves."""
        while True:
            try:
                media = await ws.receive_media()
            except WebSocketDisconnected:
                # The client closed the connection (or it was lost):
                # ws.close_code says how (1000, 1001, 1006...).
                return
            except ValueError as ex:
                # The payload did not parse: json.JSONDecodeError for TEXT,
                # MessagePack's errors for BINARY (all are ValueErrors). Tell
                # the sender and carry on; a send to a client that has gone
                # raises WebSocketDisconnected, which ends the responder.
                await ws.send_media({'type': 'error', 'error': f'unreadable: {ex}'})
                continue

            try:
                text = _chat_text(media)
            except ValueError as ex:
                await ws.send_media({'type': 'error', 'error': str(ex)})
                continue

            if text == '/quit':
                # A clean close from the server: the client gets a Close frame
                # with this code and reason, and answers with its own.
                await ws.close(1000, 'Goodbye')
                return
            await self._say(name, text)

    async def _say(self, name: str, text: str) -> None:
        self._last_id += 1
        message = {
            'type': 'message',
            'id': self._last_id,
            'from': name,
            'text': text,
            'ts': round(time.time(), 3),
        }
        self._history.append(message)
        await self._hub.publish(CHAT_TOPIC, message)

    async def _leave(self, name: str) -> None:
        self._members[name] -= 1
        if self._members[name] <= 0:
            del self._members[name]
        await self._hub.publish(
            CHAT_TOPIC, {'type': 'left', 'name': name, 'online': self.online}
        )


def _chat_text(media: object) -> str:
    """Return the text of a chat message, or raise ``ValueError``."""
    text = media.get('text') if isinstance(media, dict) else None
    if not isinstance(text, str):
        raise ValueError('expected an object like {"text": "hello"}')
    text = text.strip()
    if not text:
        raise ValueError('empty message')
    if len(text) > MAX_TEXT:
        raise ValueError(f'message longer than {MAX_TEXT} characters')
    return text
