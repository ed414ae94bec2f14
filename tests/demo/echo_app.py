"""A small echo app for the real-client tests, written as a user would.

* ``/echo`` sends every message back as it came (TEXT as TEXT, BINARY as
  BINARY). The text ``close <code> <reason>`` makes the server close with
  that code and reason instead. It accepts the first subprotocol offered.
* ``/media`` reads each message with ``receive_media()`` (JSON in TEXT,
  MessagePack in BINARY) and answers ``{"got": <it>}`` twice, with
  ``send_media()``: as JSON TEXT, then as MessagePack BINARY.

Both record how each connection ended (close code and reason, as the app
saw them) in ``Recorder.closes``.
"""

from __future__ import annotations

import asyncio

from gyrfalcon import WebSocketPayloadType
from gyrfalcon.asgi import App, Request, Response, WebSocket


class Recorder:
    """Collects how connections ended, as seen by the app."""

    def __init__(self) -> None:
        self.closes: list[tuple[int | None, str | None]] = []
        self.ended = asyncio.Event()

    def record(self, ws: WebSocket) -> None:
        self.closes.append((ws.close_code, ws.close_reason))
        self.ended.set()


class Echo:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        offered = ws.subprotocols
        await ws.accept(subprotocol=offered[0] if offered else None)
        try:
            async for message in ws:
                if isinstance(message, str) and message.startswith('close '):
                    _, code, reason = message.split(' ', 2)
                    await ws.close(int(code), reason)
                    return
                if isinstance(message, str):
                    await ws.send_text(message)
                else:
                    await ws.send_data(message)
        finally:
            self.recorder.record(ws)


class MediaEcho:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    async def on_websocket(self, req: Request, ws: WebSocket) -> None:
        await ws.accept()
        try:
            async for media in ws.iter_media():
                await ws.send_media({'got': media})
                await ws.send_media({'got': media}, WebSocketPayloadType.BINARY)
        finally:
            self.recorder.record(ws)


def create_echo_app(recorder: Recorder) -> App[Request, Response]:
    """Build the echo app; `recorder` learns how connections ended."""
    app: App[Request, Response] = App()
    app.add_route('/echo', Echo(recorder))
    app.add_route('/media', MediaEcho(recorder))
    return app
