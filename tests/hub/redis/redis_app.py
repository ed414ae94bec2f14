"""The app the multi-process Redis tests serve with ``gyrfalcon serve``.

Every worker process builds it with a ``RedisBackend`` on
``$GYRFALCON_TEST_REDIS``. Routes:

* ``/ws/{topic}``: a WebSocket that subscribes to the topic (resuming after
  ``?last=<id>``), says ``subscribed``, and then publishes every text message
  it receives to the topic.
* ``/presence/{topic}``: ``{"local": n, "total": n}`` as JSON.
* ``/publish/{topic}``: ``POST`` the body as a TEXT event.

Topics starting with ``feed`` are resumable (100 retained events): their
subscribers receive ``{"id": <event id>, "data": <payload>}``. Every topic
sends ``{"gap": true}`` when events may have been lost.
"""

from __future__ import annotations

import json
import os

import gyrfalcon as falcon
from gyrfalcon.asgi import Request, Response, WebSocket
from gyrfalcon.hub import Event, Hub
from gyrfalcon.hub.redis import RedisBackend


def envelope(event: Event) -> str:
    return json.dumps({'id': event.event_id, 'data': event.payload})


class Topic:
    async def on_websocket(self, req: Request, ws: WebSocket, topic: str) -> None:
        await ws.accept()
        await hub.subscribe(ws, topic, last_event_id=req.get_param('last'))
        await ws.send_text('subscribed')
        async for message in ws:
            await hub.publish(topic, message)


class Presence:
    async def on_get(self, req: Request, resp: Response, topic: str) -> None:
        resp.media = {'local': hub.count(topic), 'total': await hub.presence(topic)}


class Publish:
    async def on_post(self, req: Request, resp: Response, topic: str) -> None:
        text = (await req.stream.read()).decode()
        await hub.publish(topic, text)
        resp.status = falcon.HTTP_204


class CloseHub:
    """Stop the hub (and withdraw this process's presence) at shutdown."""

    async def process_shutdown(self, scope: object, event: object) -> None:
        await hub.close()


backend = RedisBackend(
    os.environ['GYRFALCON_TEST_REDIS'],
    presence_ttl=float(os.environ.get('GYRFALCON_TEST_PRESENCE_TTL', '30')),
)
hub = Hub(backend)
hub.configure('*', gap_message={'gap': True})
hub.configure('feed*', retain=100, envelope=envelope, gap_message={'gap': True})
app = falcon.App(hub=hub, middleware=[CloseHub()])
app.add_route('/ws/{topic}', Topic())
app.add_route('/presence/{topic}', Presence())
app.add_route('/publish/{topic}', Publish())
