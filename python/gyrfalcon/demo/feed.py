"""The event feed: ``/ws/feed``, server-pushed events at a steady rate.

The server greets each client with ``{"type": "hello", "rate": 10.0,
"seq": 41, "server": ...}``, then pushes ``{"type": "tick", "seq": 42,
"ts": 1700000000.123, "value": 101.37, "listeners": 2}`` events, ``rate``
times a second: ``seq`` counts up by one per event, ``ts`` is the server's
Unix time when the event was made and ``value`` a random walk to plot.
Clients don't need to send anything; what they send is ignored.

One ``Ticker`` makes the events for everyone and publishes each one once,
through the hub. It runs only while someone listens: the first listener
starts it and it stops by itself after the last one leaves, so an idle
server does no work, and the app needs no startup hook.

Each process has its own ticker and its own feed topic (``Ticker.topic``),
so with several workers every client follows the ticker of the worker it
is connected to, with one sequence of ``seq`` numbers, even when the hub
is shared (``gyrfalcon demo --redis URL --workers N``); the chat room is
the part that spans processes.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time

import gyrfalcon as falcon
from gyrfalcon.asgi import Request, WebSocket
from gyrfalcon.demo.handshake import accept
from gyrfalcon.hub import Hub
from gyrfalcon.protocol import ENGINE
from gyrfalcon.server.fastpath import EXTENSION

__all__ = ['FEED_TOPIC', 'EventFeed', 'Ticker']

FEED_TOPIC = 'feed'


class Ticker:
    """Publish a tick to the feed topic `rate` times a second.

    Args:
        hub: Delivers the ticks (``app.hub``).
        rate: Events per second.

    Attributes:
        topic (str): This ticker's topic: ``feed:`` and a random suffix,
            so that the tickers of several processes sharing a hub do not
            mix their events.
    """

    def __init__(self, hub: Hub, rate: float = 10.0) -> None:
        if rate <= 0:
            raise ValueError('rate must be positive')
        self.rate = rate
        self.seq = 0
        """The counter of the last event made."""
        self.value = 100.0
        self.topic = f'{FEED_TOPIC}:{secrets.token_hex(4)}'
        self._hub = hub
        self._random = random.Random()
        self._task: asyncio.Task[None] | None = None

    def ensure_running(self) -> None:
        """Start making events, unless already doing so."""
        if self._task is None or self._task.done():
            self._task = falcon.create_task(self._run(), name='gyrfalcon.demo ticker')

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = 1.0 / self.rate
        deadline = loop.time()
        while listeners := self._hub.count(self.topic):
            self.seq += 1
            self.value = round(max(1.0, self.value + self._random.gauss(0, 0.5)), 2)
            await self._hub.publish(
                self.topic,
                {
                    'type': 'tick',
                    'seq': self.seq,
                    'ts': round(time.time(), 3),
                    'value': self.value,
                    'listeners': listeners,
                },
            )
            # Sleep until the next deadline rather than for a fixed interval,
            # so the time spent publishing does not slow the rate down; after
            # a stall (a busy event loop), start afresh instead of bursting.
            deadline += interval
            delay = deadline - loop.time()
            if delay < 0:
                deadline, delay = loop.time(), 0.0
            await asyncio.sleep(delay)


class EventFeed:
    """The event feed resource.

    Args:
        hub: Delivers the events (``app.hub``).
        ticker: Makes the events.
    """

    def __init__(self, hub: Hub, ticker: Ticker) -> None:
        self._hub = hub
        self._ticker = ticker

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        """Push events to one client until it leaves."""
        await accept(ws)
        # Ticks are held until the hello is sent (paused=True).
        subscription = await self._hub.subscribe(ws, self._ticker.topic, paused=True)
        await ws.send_media(
            {
                'type': 'hello',
                'rate': self._ticker.rate,
                'seq': self._ticker.seq,
                'server': _server_name(req),
            }
        )
        subscription.resume()
        self._ticker.ensure_running()

        # The feed only pushes, but it still reads: iterating over the
        # connection ends as soon as the client closes it (or the
        # connection drops); the connection then leaves the topic.
        async for _ in ws:
            pass


def _server_name(req: Request) -> str:
    """Describe what runs this connection's WebSocket protocol."""
    # Gyrfalcon's own server adapter announces itself with an ASGI extension;
    # any other ASGI server (uvicorn's stock classes, hypercorn...) does not.
    if EXTENSION in (req.scope.get('extensions') or {}):
        return f'gyrfalcon engine ({ENGINE})'
    return 'ASGI server'
