"""The echo/push protocol of ``apps.py`` on picows, an outside reference.

picows is a callback API with no ASGI layer: a frame arrives in
``on_ws_frame`` and replies are queued with ``transport.send()``, which never
waits. ``/echo`` echoes TEXT; ``/push`` answers ``"<count> <size>"`` with
``count`` TEXT messages of ``size`` bytes.

Usage: ``python3 picows_server.py PORT``
"""

from __future__ import annotations

import asyncio
import sys

from picows import (
    WSFrame,
    WSListener,
    WSMsgType,
    WSTransport,
    WSUpgradeRequest,
    ws_create_server,
)


class Echo(WSListener):
    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.TEXT:
            transport.send(WSMsgType.TEXT, frame.get_payload_as_bytes())
        elif frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()


class Push(WSListener):
    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.TEXT:
            count, size = map(int, frame.get_payload_as_ascii_text().split())
            payload = b'x' * size
            for _ in range(count):
                transport.send(WSMsgType.TEXT, payload)
        elif frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code())
            transport.disconnect()


def listener(request: WSUpgradeRequest) -> WSListener:
    return Push() if request.path == b'/push' else Echo()


async def main(port: int) -> None:
    server = await ws_create_server(listener, '127.0.0.1', port)
    print(f'picows running on http://127.0.0.1:{port}', file=sys.stderr, flush=True)
    await server.serve_forever()


if __name__ == '__main__':
    try:
        asyncio.run(main(int(sys.argv[1])))
    except KeyboardInterrupt:
        pass
