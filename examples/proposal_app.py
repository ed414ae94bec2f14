"""Falcon's ASGI + WebSocket proposal (kgriffs' 2020 gist), made concrete.

The gist shows one ``on_websocket`` responder with every way of using the
connection one after the other, and placeholders where an app would put its
own logic. Here the placeholders are filled in and each way is a *mode* the
client picks with a query parameter, so that every branch can run:

* ``/{account_id}/messages`` (``?mode=feed``, the default): an event feed;
  each event is sent as TEXT, as BINARY and as media.
* ``?mode=rpc``: a request-response loop; each request is a TEXT message, a
  BINARY message and a media message; the reply is media in a BINARY
  message. A message of the wrong type or invalid JSON gets an error notice;
  ``bye`` ends the conversation.
* ``?mode=chat``: two loops in parallel; a sink task receives, the responder
  sends every received message back.

Before any of that, the handshake is checked: no valid ``Authorization``
header and the connection is denied (HTTP 403); no ``wamp`` subprotocol
offered and the responder returns without accepting (also HTTP 403).

Run it with::

    uvicorn examples.proposal_app:app

and talk to it with any WebSocket client, e.g. with ``websockets``::

    async with websockets.connect(
        'ws://127.0.0.1:8000/42/messages?mode=rpc',
        subprotocols=['wamp'],
        additional_headers={'Authorization': 'Bearer letmein'},
    ) as ws:
        ...
"""

from __future__ import annotations

import asyncio
import collections
import json
from typing import Any

import msgpack

import gyrfalcon as falcon
from gyrfalcon import WebSocketDisconnected, WebSocketPayloadType
from gyrfalcon.asgi import App, Request, Response, WebSocket
from gyrfalcon.media import BinaryBaseHandlerWS, TextBaseHandlerWS

API_TOKEN = 'letmein'
"""The bearer token a client must send (a stand-in for real authentication)."""


class EventSource:
    """An in-process source of events, one queue per subscriber.

    ``publish()`` hands an event to every current subscriber of an account;
    ``subscribe()`` returns the queue a feed reads from.
    """

    def __init__(self) -> None:
        self._subscribers: dict[str, set[asyncio.Queue[str]]] = collections.defaultdict(
            set
        )

    def subscribe(self, account_id: str) -> asyncio.Queue[str]:
        """Return a new queue that receives the account's events."""
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._subscribers[account_id].add(queue)
        return queue

    def unsubscribe(self, account_id: str, queue: asyncio.Queue[str]) -> None:
        """Stop delivering events to `queue`."""
        self._subscribers[account_id].discard(queue)

    def subscriber_count(self, account_id: str) -> int:
        """Return how many feeds listen to the account."""
        return len(self._subscribers[account_id])

    def publish(self, account_id: str, event: str) -> None:
        """Deliver `event` to every subscriber of the account."""
        for queue in self._subscribers[account_id]:
            queue.put_nowait(event)


async def accept_wamp(req: Request, ws: WebSocket) -> bool:
    """Check the handshake; accept with the ``wamp`` subprotocol if it passes.

    Returns:
        Whether the connection was accepted.
    """
    # The HTTP request of the handshake can be examined as needed.
    if req.get_header('Authorization') != f'Bearer {API_TOKEN}':
        # Closing before accept() denies the connection: the server answers
        # HTTP 403 without upgrading it.
        await ws.close()
        return False

    # Only wamp is supported. Returning without accepting also denies the
    # connection: the framework closes it once the responder returns.
    if 'wamp' not in ws.subprotocols:
        return False

    try:
        await ws.accept(subprotocol='wamp')
    except WebSocketDisconnected:
        return False
    return True


async def feed(ws: WebSocket, events: EventSource, account_id: str) -> None:
    """Push the account's events to the client until it goes away."""
    queue = events.subscribe(account_id)
    # A loop that only sends learns that the client left at its next send.
    # To stop as soon as it leaves, also wait for the disconnect: iterating
    # over the connection ends when the client closes it.
    client_gone = falcon.create_task(ignore_messages(ws))
    try:
        while True:
            next_event = asyncio.ensure_future(queue.get())
            await asyncio.wait(
                [next_event, client_gone], return_when=asyncio.FIRST_COMPLETED
            )
            if client_gone.done():
                next_event.cancel()
                return
            event = next_event.result()
            try:
                # A str goes out as a TEXT (0x01) message...
                await ws.send_text(event)
                # ...bytes, bytearray or memoryview as BINARY (0x02)...
                await ws.send_data(event.encode())
                # ...and media is serialized by the TEXT handler by default.
                await ws.send_media({'event': event})
            except WebSocketDisconnected:
                return
    finally:
        events.unsubscribe(account_id, queue)
        client_gone.cancel()


async def ignore_messages(ws: WebSocket) -> None:
    """Read (and drop) what the client sends, until it disconnects."""
    async for __ in ws:
        pass


async def request_response(ws: WebSocket) -> None:
    """Serve requests made of a TEXT, a BINARY and a media message."""
    while True:
        try:
            payload_str = await ws.receive_text()
            payload_bytes = await ws.receive_data()
            # TEXT media goes through the TEXT handler (JSON), BINARY media
            # through the BINARY handler (MessagePack).
            media_object = await ws.receive_media()
        except WebSocketDisconnected:
            return
        except TypeError:
            # The message was not of the expected type (BINARY when TEXT
            # was expected, or the other way round): PayloadTypeError.
            await ws.send_media({'error': 'unexpected payload type'})
            continue
        except json.JSONDecodeError:
            await ws.send_media({'error': 'invalid JSON'})
            continue

        if payload_str == 'bye':
            await ws.close(code=1000)
            return

        try:
            await ws.send_media(
                {
                    'event': 'message',
                    'text': payload_str,
                    'size': len(payload_bytes),
                    'media': media_object,
                },
                payload_type=WebSocketPayloadType.BINARY,
            )
        except WebSocketDisconnected:
            return


async def chat(ws: WebSocket) -> None:
    """Receive in a sink task while sending in the responder."""
    messages: collections.deque[str] = collections.deque()
    arrived = asyncio.Event()

    async def sink() -> None:
        while True:
            try:
                message = await ws.receive_text()
            except WebSocketDisconnected:
                break
            messages.append(message)
            arrived.set()

    sink_task = falcon.create_task(sink())
    try:
        while not sink_task.done():
            # Wait for a message or for the sink to end (the gist spins on
            # asyncio.sleep(0) here, which keeps a CPU busy).
            waiter = asyncio.ensure_future(arrived.wait())
            await asyncio.wait([waiter, sink_task], return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            arrived.clear()
            while messages:
                try:
                    await ws.send_text(messages.popleft())
                except WebSocketDisconnected:
                    return
    finally:
        sink_task.cancel()
        try:
            await sink_task
        except asyncio.CancelledError:
            pass


class SomeResource:
    """The resource of the proposal: HTTP and WebSocket side by side.

    Args:
        events: Where the event feed takes its events from.
    """

    def __init__(self, events: EventSource) -> None:
        self.events = events

    async def on_get(self, req: Request, resp: Response, account_id: str) -> None:
        """Get a page of the account's events over plain HTTP."""
        resp.media = {'account_id': account_id, 'events': []}

    async def on_websocket(self, req: Request, ws: WebSocket, account_id: str) -> None:
        """Check the handshake, then run the mode the client asked for."""
        if not await accept_wamp(req, ws):
            return

        mode = req.get_param('mode', default='feed')
        if mode == 'feed':
            await feed(ws, self.events, account_id)
        elif mode == 'rpc':
            await request_response(ws)
        elif mode == 'chat':
            await chat(ws)
        else:
            await ws.close(4400, f'unknown mode: {mode}')


class SomeMiddleware:
    """WebSocket middleware: called for the handshake request.

    Records each call in ``calls`` so that its order can be seen.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    async def process_request_ws(self, req: Request, ws: WebSocket) -> None:
        """Run for every WebSocket handshake, before routing."""
        self.calls.append(('process_request_ws', req.path))

    async def process_resource_ws(
        self, req: Request, ws: WebSocket, resource: object, params: dict[str, Any]
    ) -> None:
        """Run after routing, when a route matched the handshake."""
        self.calls.append(
            ('process_resource_ws', type(resource).__name__, params['account_id'])
        )


class CompactJSONHandler(TextBaseHandlerWS):
    """TEXT media as compact JSON (the gist used rapidjson here)."""

    def serialize(self, media: object) -> str:
        """Serialize `media` without insignificant whitespace."""
        return json.dumps(media, ensure_ascii=False, separators=(',', ':'))

    def deserialize(self, payload: str) -> object:
        """Deserialize a TEXT payload."""
        return json.loads(payload)


class TimestampMessagePackHandler(BinaryBaseHandlerWS):
    """BINARY media as MessagePack, with timezone-aware datetimes.

    The gist used Protocol Buffers here; this shows the other use it names:
    serializing a type the default handler does not support.
    """

    def serialize(self, media: object) -> bytes:
        """Serialize `media`, datetimes as MessagePack timestamps."""
        data: bytes = msgpack.packb(media, use_bin_type=True, datetime=True)
        return data

    def deserialize(self, payload: bytes) -> object:
        """Deserialize a BINARY payload, timestamps as datetimes."""
        return msgpack.unpackb(payload, raw=False, timestamp=3)


def create_app(
    events: EventSource | None = None, middleware: SomeMiddleware | None = None
) -> App[Request, Response]:
    """Build the app of the proposal.

    Args:
        events: The event source of the feed (default: a new one).
        middleware: The WebSocket middleware (default: a new one).

    Returns:
        The app.
    """
    events = events or EventSource()
    app: App[Request, Response] = App(middleware=middleware or SomeMiddleware())
    app.add_route('/{account_id}/messages', SomeResource(events))

    handlers = app.ws_options.media_handlers
    handlers[WebSocketPayloadType.TEXT] = CompactJSONHandler()
    handlers[WebSocketPayloadType.BINARY] = TimestampMessagePackHandler()
    return app


app = create_app()

__all__ = [
    'API_TOKEN',
    'accept_wamp',
    'chat',
    'feed',
    'ignore_messages',
    'request_response',
    'CompactJSONHandler',
    'EventSource',
    'SomeMiddleware',
    'SomeResource',
    'TimestampMessagePackHandler',
    'app',
    'create_app',
]
