"""The receive pump of the WebSocket facade: disconnects seen while sending.

Under ASGI, a disconnect is an event on ``receive()``. An app that only sends
(a push feed) never calls ``receive()``, and before ASGI 2.4 a server may
silently drop what is sent after the client left, so the app would push into
the void forever. Once the connection is accepted, ``BufferedReceiver`` keeps
one background task reading ahead: messages wait in a small bounded queue for
the app, and a disconnect is recorded the moment it arrives, so that the next
send fails with ``WebSocketDisconnected`` and ``ws.closed`` turns true.

The queue bound gives backpressure: when it is full, the pump stops reading
and the server's own flow control takes over.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

__all__ = ('BufferedReceiver',)

AsgiEvent = MutableMapping[str, Any]
AsgiReceive = Callable[[], Awaitable[AsgiEvent]]

_CLOSE_NO_STATUS = 1005
_CLOSE_ABNORMAL = 1006

_logger = logging.getLogger('gyrfalcon')


def disconnect_code(event: AsgiEvent) -> int:
    """Return the close code of a ``websocket.disconnect`` event.

    ASGI servers send 1005 when the client gave no code; a missing key means
    the same thing (Falcon assumed 1000).
    """
    code = event.get('code')
    return _CLOSE_NO_STATUS if code is None else int(code)


class BufferedReceiver:
    """Read a WebSocket's ASGI events ahead of the app, up to a bound.

    Args:
        receive: The ASGI ``receive`` callable.
        max_queue: How many messages may wait for the app (at least 1).

    Attributes:
        disconnected (bool): The client has gone (or reading failed).
        code (int): The disconnect's close code, once disconnected.
        reason (str): The disconnect's reason (ASGI 2.5), or ``''``.
    """

    __slots__ = (
        '_max_queue',
        '_messages',
        '_pump_waiter',
        '_reader_waiter',
        '_receive',
        '_task',
        'code',
        'disconnected',
        'reason',
    )

    def __init__(self, receive: AsgiReceive, max_queue: int) -> None:
        self._receive = receive
        self._max_queue = max_queue
        self._messages: deque[AsgiEvent] = deque()
        self._task: asyncio.Task[None] | None = None
        self._reader_waiter: asyncio.Future[None] | None = None
        self._pump_waiter: asyncio.Future[None] | None = None
        self.disconnected = False
        self.code: int | None = None
        self.reason = ''

    @property
    def running(self) -> bool:
        """``True`` while the pump task is reading."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the pump (once)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._pump())

    async def stop(self) -> None:
        """Stop the pump and wait for it to finish; queued messages stay."""
        task = self._task
        if task is None or task.done():
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    async def receive(self) -> AsgiEvent | None:
        """Return the next message, waiting for one if needed.

        Returns:
            The next ``websocket.receive`` event, or ``None`` when no more
            will come (the client disconnected, or the pump was stopped).
            Messages that arrived before a disconnect are returned first.
        """
        messages = self._messages
        while not messages:
            if not self.running:
                return None
            waiter = asyncio.get_running_loop().create_future()
            self._reader_waiter = waiter
            try:
                await waiter
            finally:
                self._reader_waiter = None
        message = messages.popleft()
        pump_waiter = self._pump_waiter
        if pump_waiter is not None and not pump_waiter.done():
            pump_waiter.set_result(None)
        return message

    def _wake_reader(self) -> None:
        waiter = self._reader_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _pump(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                event = await self._receive()
                if event.get('type') != 'websocket.receive':
                    # NOTE(gyrfalcon): ASGI defines no other event for an
                    #   open connection; anything else is read as its end.
                    self.code = disconnect_code(event)
                    self.reason = event.get('reason') or ''
                    self.disconnected = True
                    return
                while len(self._messages) >= self._max_queue:
                    self._pump_waiter = loop.create_future()
                    try:
                        await self._pump_waiter
                    finally:
                        self._pump_waiter = None
                self._messages.append(event)
                self._wake_reader()
        except Exception:
            # NOTE(gyrfalcon): A server whose receive() fails has lost the
            #   connection; report it as an abnormal closure.
            _logger.debug('[gyrfalcon] WebSocket receive failed', exc_info=True)
            self.code = _CLOSE_ABNORMAL
            self.reason = ''
            self.disconnected = True
        finally:
            self._wake_reader()
