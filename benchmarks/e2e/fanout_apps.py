"""The servers of the push-at-scale benchmark (``fanout.py``), one protocol.

Every connection of ``/fanout`` is a subscriber. A TEXT request
``"<count> <size> <conns>"`` (from any of them) makes the server wait until
``conns`` connections are subscribed, then send ``count`` messages of
``size`` bytes to every subscriber:

* ``hub_app``: Gyrfalcon, one ``await app.hub.publish()`` per message (the
  hub frames it once and writes the same bytes to every subscriber);
* ``gyrfalcon_loop_app``/``falcon_loop_app``: the same responder on
  Gyrfalcon or Falcon 4, looping ``await ws.send_text()`` over the
  subscribers for each message, as an app without a hub does;
* ``python3 fanout_apps.py PORT``: picows, looping ``transport.send()``.
"""

from __future__ import annotations

import asyncio
import sys
from types import ModuleType
from typing import Any

TOPIC = 'bench'


async def _until(predicate: Any) -> None:
    while not predicate():
        await asyncio.sleep(0.001)


def _request(text: str) -> tuple[int, str, int]:
    count, size, conns = map(int, text.split())
    return count, 'x' * size, conns


def make_loop_app(falcon: ModuleType) -> Any:
    """Fan out by looping ``send_text()`` over the subscribers."""
    disconnected = falcon.WebSocketDisconnected
    subscribers: set[Any] = set()

    class Fanout:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            subscribers.add(ws)
            try:
                while True:
                    count, payload, conns = _request(await ws.receive_text())
                    await _until(lambda: len(subscribers) >= conns)  # noqa: B023
                    for _ in range(count):
                        for peer in list(subscribers):
                            try:
                                await peer.send_text(payload)
                            except disconnected:
                                subscribers.discard(peer)
            except disconnected:
                pass
            finally:
                subscribers.discard(ws)

    app = falcon.asgi.App()
    app.add_route('/fanout', Fanout())
    return app


def make_hub_app() -> Any:
    """Fan out with ``app.hub.publish()``."""
    import gyrfalcon

    app = gyrfalcon.App()
    hub = app.hub

    class Fanout:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            await hub.subscribe(ws, TOPIC)
            try:
                while True:
                    count, payload, conns = _request(await ws.receive_text())
                    await _until(lambda: hub.count(TOPIC) >= conns)  # noqa: B023
                    for _ in range(count):
                        await hub.publish(TOPIC, payload)
            except gyrfalcon.WebSocketDisconnected:
                pass

    app.add_route('/fanout', Fanout())
    return app


def __getattr__(name: str) -> Any:
    # Import only the framework that the server process asks for.
    if name == 'hub_app':
        return make_hub_app()
    if name == 'gyrfalcon_loop_app':
        import gyrfalcon
        import gyrfalcon.asgi

        return make_loop_app(gyrfalcon)
    if name == 'falcon_loop_app':
        import falcon
        import falcon.asgi

        return make_loop_app(falcon)
    raise AttributeError(name)


async def _picows_main(port: int) -> None:
    from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_create_server

    subscribers: set[WSTransport] = set()

    async def fan_out(count: int, payload: bytes, conns: int) -> None:
        await _until(lambda: len(subscribers) >= conns)
        for _ in range(count):
            for transport in list(subscribers):
                transport.send(WSMsgType.TEXT, payload)

    class Fanout(WSListener):
        def on_ws_connected(self, transport: WSTransport) -> None:
            subscribers.add(transport)

        def on_ws_disconnected(self, transport: WSTransport) -> None:
            subscribers.discard(transport)

        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            if frame.msg_type == WSMsgType.TEXT:
                count, text, conns = _request(frame.get_payload_as_ascii_text())
                asyncio.ensure_future(fan_out(count, text.encode(), conns))
            elif frame.msg_type == WSMsgType.CLOSE:
                transport.send_close(frame.get_close_code())
                transport.disconnect()

    server = await ws_create_server(lambda request: Fanout(), '127.0.0.1', port)
    print(f'picows fan-out on 127.0.0.1:{port}', file=sys.stderr, flush=True)
    await server.serve_forever()


if __name__ == '__main__':
    try:
        asyncio.run(_picows_main(int(sys.argv[1])))
    except KeyboardInterrupt:
        pass
