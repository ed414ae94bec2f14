"""Fan-out: deliver one message to every WebSocket subscribed to a topic.

This module is the demo's only fan-out code. The chat room and the event feed
call ``subscribe()`` once per connection and ``publish()`` once per message;
they never loop over connections themselves.

Three rules make fan-out behave under load, and they are worth copying:

* **Serialize once.** ``publish()`` turns the message into JSON text once,
  and every subscriber gets the same ``str``. With a thousand clients that is
  one ``json.dumps`` instead of a thousand.
* **Never wait for a client while publishing.** ``publish()`` is a plain
  function: it appends to each subscriber's queue and returns. Each
  subscriber has its own writer task, so a client on a slow network only
  delays itself.
* **Bound every queue.** A subscriber that falls more than ``max_pending``
  messages behind loses its oldest messages (and they are counted in
  ``dropped``) instead of growing memory without limit.

NOTE(gyrfalcon): Gyrfalcon's pub/sub hub (``app.hub.subscribe()`` and
    ``app.hub.publish()``) will do all of this, framing each message once as
    well. When it lands, ``Broadcaster`` goes away and the two resources call
    the hub instead; nothing else in the demo changes.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from types import TracebackType

import gyrfalcon as falcon
from gyrfalcon import WebSocketDisconnected
from gyrfalcon.asgi import WebSocket

__all__ = ['Broadcaster', 'Subscription']

Serializer = Callable[[object], str]


class Subscription:
    """One WebSocket's subscription to a topic, with its own outbox.

    Returned by ``Broadcaster.subscribe()`` and used as an async context
    manager: entering it registers the subscription, leaving it unregisters
    it and stops its writer. Messages published in between are queued from
    the start, but written to the client only once ``start()`` is called, so
    that a connection can send a greeting of its own first without missing
    anything.

    Args:
        broadcaster: The broadcaster that feeds it.
        topic: The topic subscribed to.
        ws: The (accepted) connection to write to.
        max_pending: How many messages may wait; beyond that the oldest are
            dropped.

    Attributes:
        topic (str): The topic subscribed to.
        dropped (int): How many messages were dropped because the client fell
            behind.
    """

    def __init__(
        self, broadcaster: Broadcaster, topic: str, ws: WebSocket, max_pending: int
    ) -> None:
        self.topic = topic
        self.dropped = 0
        self._broadcaster = broadcaster
        self._ws = ws
        # NOTE(gyrfalcon): A deque with a maxlen drops from the other end when
        #   full: the oldest message goes, the newest is kept.
        self._outbox: collections.deque[str] = collections.deque(maxlen=max_pending)
        self._wakeup = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Subscription:
        self._broadcaster._add(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._broadcaster._remove(self)
        if self._writer is not None:
            self._writer.cancel()
            try:
                await self._writer
            except asyncio.CancelledError:
                # NOTE(gyrfalcon): Only swallow the writer's own
                #   cancellation; if this task is being cancelled too, pass
                #   that on.
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise

    def start(self) -> None:
        """Start writing queued and future messages to the client."""
        if self._writer is None:
            self._writer = falcon.create_task(
                self._write(), name=f'gyrfalcon.demo writer ({self.topic})'
            )

    def deliver(self, message: str) -> None:
        """Queue a serialized message for the client; never blocks."""
        if len(self._outbox) == self._outbox.maxlen:
            self.dropped += 1
        self._outbox.append(message)
        self._wakeup.set()

    async def _write(self) -> None:
        outbox = self._outbox
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while outbox:
                try:
                    # The message is JSON text already: send_text() frames it
                    # as it is, without serializing it again.
                    await self._ws.send_text(outbox.popleft())
                except WebSocketDisconnected:
                    # The client left; the responder notices it too (its
                    # receive ends) and leaves the subscription.
                    return


class Broadcaster:
    """Publish messages to topics; every subscriber of a topic gets each one.

    Args:
        serialize: Turns a message (a ``dict``, say) into the text sent to
            clients; pass the app's TEXT media handler's ``serialize`` so that
            broadcasts look exactly like ``ws.send_media()`` output.
        max_pending: How many messages a subscriber may fall behind before
            its oldest ones are dropped.
    """

    def __init__(self, serialize: Serializer, max_pending: int = 256) -> None:
        self._serialize = serialize
        self._max_pending = max_pending
        self._topics: dict[str, set[Subscription]] = collections.defaultdict(set)

    def subscribe(self, topic: str, ws: WebSocket) -> Subscription:
        """Create a subscription of `ws` to `topic`.

        Use the result as an async context manager (``async with``); call its
        ``start()`` once the connection may receive broadcasts.

        Args:
            topic: The topic name.
            ws: An accepted WebSocket connection.

        Returns:
            The subscription.
        """
        return Subscription(self, topic, ws, self._max_pending)

    def publish(self, topic: str, message: object) -> int:
        """Serialize `message` once and queue it for every subscriber.

        Args:
            topic: The topic name.
            message: The message; anything `serialize` accepts.

        Returns:
            How many subscribers it was queued for.
        """
        subscribers = self._topics.get(topic)
        if not subscribers:
            return 0
        text = self._serialize(message)
        for subscription in subscribers:
            subscription.deliver(text)
        return len(subscribers)

    def subscriber_count(self, topic: str) -> int:
        """Return how many connections are subscribed to `topic`."""
        return len(self._topics.get(topic, ()))

    def _add(self, subscription: Subscription) -> None:
        self._topics[subscription.topic].add(subscription)

    def _remove(self, subscription: Subscription) -> None:
        subscribers = self._topics.get(subscription.topic)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._topics[subscription.topic]
