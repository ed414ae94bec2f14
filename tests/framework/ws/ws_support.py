"""Helpers of the WebSocket suite (fixtures are in ``conftest.py``).

Every test drives a Gyrfalcon app the way a ported Falcon app's tests would:
``import gyrfalcon as falcon`` and ``gyrfalcon.testing``'s simulator. Rows
that need control over the raw ASGI events (a server that raises on send, a
disconnect without a code, a slow send...) use ``RawConnection``, a minimal
ASGI server written here.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import gyrfalcon as falcon
from gyrfalcon import testing

Event = dict[str, Any]
SendHook = Callable[[Event], Awaitable[None]]


def connect(app: Any, path: str = '/', **kwargs: Any) -> Any:
    """Return ``simulate_ws()``'s context manager for `app`."""
    return testing.ASGIConductor(app).simulate_ws(path, **kwargs)


async def denial(app: Any, path: str = '/', **kwargs: Any) -> Any:
    """Connect, expect the app to deny the connection, return the exception.

    The simulator is available as ``exception.ws``.
    """
    context = connect(app, path, **kwargs)
    with pytest.raises(falcon.WebSocketDisconnected) as exc_info:
        async with context:
            pytest.fail('the connection was accepted')
    exc_info.value.ws = context.ws
    return exc_info.value


async def settle(rounds: int = 10) -> None:
    """Let the app's task run until it waits on something."""
    for __ in range(rounds):
        await asyncio.sleep(0)


class RawConnection:
    """A hand-written ASGI server for one WebSocket connection.

    The app's ``receive`` returns the events put with ``push()`` (the first
    one, ``websocket.connect``, is queued already); its ``send`` records the
    events in ``sent`` and then awaits ``send_hook`` if one is set.

    Args:
        app: The ASGI app.
        scope: The scope; by default one from ``create_scope_ws(**kwargs)``.
    """

    def __init__(self, app: Any, scope: Event | None = None, **kwargs: Any) -> None:
        self.app = app
        self.scope = scope if scope is not None else testing.create_scope_ws(**kwargs)
        self.incoming: asyncio.Queue[Event] = asyncio.Queue()
        self.incoming.put_nowait({'type': 'websocket.connect'})
        self.sent: list[Event] = []
        self.send_hook: SendHook | None = None
        self.receive_calls = 0
        self.task: asyncio.Task[None] | None = None

    async def receive(self) -> Event:
        self.receive_calls += 1
        return await self.incoming.get()

    async def send(self, event: Event) -> None:
        self.sent.append(event)
        if self.send_hook is not None:
            await self.send_hook(event)

    def push(self, event: Event) -> None:
        self.incoming.put_nowait(event)

    def push_text(self, text: str) -> None:
        self.push({'type': 'websocket.receive', 'text': text})

    def push_disconnect(
        self, code: int | None = 1000, reason: str | None = None
    ) -> None:
        event: Event = {'type': 'websocket.disconnect'}
        if code is not None:
            event['code'] = code
        if reason is not None:
            event['reason'] = reason
        self.push(event)

    def start(self) -> asyncio.Task[None]:
        self.task = asyncio.create_task(self.app(self.scope, self.receive, self.send))
        return self.task

    async def run(self) -> None:
        """Run the app to completion; bounded, so a stuck app fails the test."""
        await asyncio.wait_for(self.start(), 10)

    def types(self) -> list[str]:
        return [event['type'] for event in self.sent]

    def closes(self) -> list[Event]:
        return [event for event in self.sent if event['type'] == 'websocket.close']


@contextlib.asynccontextmanager
async def uvicorn_server(app: Any, ws: str) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1, port 0; yield its ``ws://`` URL.

    Args:
        app: The ASGI app.
        ws: uvicorn's WebSocket implementation (``'websockets-sansio'`` or
            ``'wsproto'``, its stock classes).
    """
    import uvicorn

    config = uvicorn.Config(
        app,
        host='127.0.0.1',
        port=0,
        ws=ws,
        lifespan='on',
        log_level='warning',
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    await task
                    raise RuntimeError('uvicorn stopped before it started')
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f'ws://127.0.0.1:{port}'
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def wait_until(predicate: Callable[[], bool], what: str) -> None:
    """Wait for `predicate` (for work another task does), for 10 s at most."""
    async with asyncio.timeout(10):
        while not predicate():
            await asyncio.sleep(0.005)
    assert predicate(), what
