"""The engine channel of one connection, and the phases it checks.

``Channel`` implements ``gyrfalcon.server.fastpath.EngineChannel`` for
``gyrfalcon.server.uvicorn.WebSocketProtocol``: it works directly on the
protocol's engine and state, which this package keeps private.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Generator
from typing import TYPE_CHECKING, Any

from ..errors import InvalidState

if TYPE_CHECKING:
    from ..protocol import DeflateParams, ServerConnection
    from .uvicorn import WebSocketProtocol

__all__ = ['CONNECTING', 'Channel', 'DENYING', 'FINISHED', 'OPEN']

# The connection's phases, as the app's ASGI messages drive them.
CONNECTING = 0  # waiting for accept, close or a denial response
DENYING = 1  # websocket.http.response.start sent; body pending
OPEN = 2  # accepted
FINISHED = 3  # the app sent websocket.close, or the handshake was answered


class _Ready:
    """An awaitable that is done already: ``await`` returns at once."""

    __slots__ = ()

    def __await__(self) -> Generator[None, None, None]:
        return
        yield  # a generator that ends before its first step


_READY = _Ready()


class _Batches(threading.local):
    """The connections ``send_prepared(flush=False)`` left to flush.

    One list per thread, as one event loop runs per thread.
    """

    def __init__(self) -> None:
        self.protocols: list[WebSocketProtocol] = []


_batches = _Batches()


def _flush_batch(batch: list[WebSocketProtocol]) -> None:
    protocols = batch[:]
    batch.clear()
    for protocol in protocols:
        if protocol._flush_scheduled:  # not flushed meanwhile by its own batch
            protocol._deferred_flush()


class Channel(dict[str, Any]):
    """The ``gyrfalcon.engine`` extension of one connection.

    See ``gyrfalcon.server.fastpath.EngineChannel`` for the interface. It is
    also a dict holding ``'receive'`` and ``'send'``.

    Attributes:
        writing_paused (bool): Whether the transport asked the app to stop
            writing; the protocol keeps it up to date.
    """

    __slots__ = ('_engine', '_protocol', 'receive', 'send', 'writing_paused')

    def __init__(self, protocol: WebSocketProtocol) -> None:
        receive = protocol._asgi_receive
        send = protocol._asgi_send
        super().__init__(receive=receive, send=send)
        self._protocol = protocol
        self._engine: ServerConnection = protocol._engine
        self.receive = receive
        self.send = send
        # PERF(gyrfalcon): A plain attribute, read before every send, that
        #   pause_writing() and resume_writing() set.
        self.writing_paused: bool = protocol._write_paused

    def next_message(self) -> str | bytes | None:
        """Pop the oldest received message, or return ``None``."""
        engine = self._engine
        data = engine.next_message()
        if data is not None:
            protocol = self._protocol
            if protocol._read_paused and not engine.reading_paused:
                protocol._resume_reading()
        else:
            self._protocol._on_queue_empty()
        return data

    def wait_message(self) -> Awaitable[None]:
        """Return an awaitable that ends when a message or the close is there."""
        protocol = self._protocol
        if self._engine.queued_messages or protocol._disconnect is not None:
            return _READY
        if protocol._flush_scheduled:
            protocol._flush()  # the app is about to wait: write the batch now
        # PERF(gyrfalcon): The future itself, not a coroutine awaiting it: a
        #   waiting connection holds one object less. The read path wakes
        #   _waiter (and _waiters, when several tasks wait). A cancelled
        #   future left in _waiter is skipped by the next wake-up, as the read
        #   path only wakes futures that are not done.
        future = protocol.loop.create_future()
        if protocol._waiter is None:
            protocol._waiter = future
        else:
            protocol._add_waiter(future)
        return future

    def send_text(self, text: str) -> None:
        """Queue a TEXT message (see ``EngineChannel.send_text``)."""
        engine = self._engine
        try:
            engine.send_text(text)
        except InvalidState:
            # NOTE(gyrfalcon): The engine is OPEN exactly while the phase is
            #   OPEN and no disconnect was seen, so the phase is only checked
            #   once the engine refused.
            raise self._refused('send_text') from None
        # PERF(gyrfalcon): WebSocketProtocol._after_send(), inlined (a call
        #   less per message on the fast path); send_binary() too.
        protocol = self._protocol
        if not protocol._flush_scheduled:
            protocol._flush_scheduled = True
            protocol.loop.call_soon(protocol._deferred_flush)
            if not (protocol._in_read or engine.queued_messages):
                protocol.transport.write(engine.data_to_send())
                return
        if engine.writing_paused:
            protocol._flush()

    def send_binary(self, data: bytes | bytearray | memoryview) -> None:
        """Queue a BINARY message (see ``EngineChannel.send_binary``)."""
        engine = self._engine
        try:
            engine.send_binary(data)
        except InvalidState:
            raise self._refused('send_binary') from None
        protocol = self._protocol
        if not protocol._flush_scheduled:
            protocol._flush_scheduled = True
            protocol.loop.call_soon(protocol._deferred_flush)
            if not (protocol._in_read or engine.queued_messages):
                protocol.transport.write(engine.data_to_send())
                return
        if engine.writing_paused:
            protocol._flush()

    def send_prepared(
        self,
        frame: bytes | bytearray | memoryview,
        *,
        compressed: bool = False,
        flush: bool = True,
    ) -> None:
        """Queue a prepared frame (see ``EngineChannel.send_prepared``)."""
        engine = self._engine
        try:
            if compressed:
                engine.send_prepared(frame, compressed=True)
            else:
                engine.send_prepared(frame)
        except InvalidState:
            raise self._refused('send_prepared') from None
        protocol = self._protocol
        if not flush:
            if engine.writing_paused:
                protocol._flush()
            elif not protocol._flush_scheduled:
                # PERF(gyrfalcon): One callback flushes every connection a
                #   fan-out touched in this loop iteration, not one each: a
                #   publish to 10,000 subscribers made 10,000 handles.
                protocol._flush_scheduled = True
                batch = _batches.protocols
                if not batch:
                    protocol.loop.call_soon(_flush_batch, batch)
                batch.append(protocol)
            return
        protocol._after_send()

    @property
    def deflate(self) -> DeflateParams | None:
        """The permessage-deflate parameters agreed, or ``None``."""
        return self._engine.deflate

    @property
    def buffered_amount(self) -> int:
        """Bytes sent but not yet on the network (engine and transport)."""
        return (
            self._engine.pending_output
            + self._protocol.transport.get_write_buffer_size()
        )

    def close(self, code: int = 1000, reason: str = '') -> None:
        """Close the connection now (see ``EngineChannel.close``)."""
        protocol = self._protocol
        if protocol._phase == OPEN:
            protocol._close({'type': 'websocket.close', 'code': code, 'reason': reason})

    def _refused(self, method: str) -> Exception:
        protocol = self._protocol
        if protocol._phase != OPEN:
            return protocol._not_open_error(method)
        return protocol._disconnected()

    async def drain(self) -> None:
        """Wait until the transport accepts more data."""
        protocol = self._protocol
        if protocol._write_paused:
            await protocol._wait_writable()
        if protocol._lost:
            raise protocol._disconnected()

    @property
    def closed(self) -> bool:
        """Whether the connection is closed, closing or lost."""
        return self._protocol._disconnect is not None

    @property
    def close_code(self) -> int | None:
        """The close code of the disconnect, or ``None``."""
        disconnect = self._protocol._disconnect
        return None if disconnect is None else disconnect[0]

    @property
    def close_reason(self) -> str | None:
        """The close reason of the disconnect, or ``None``."""
        disconnect = self._protocol._disconnect
        return None if disconnect is None else disconnect[1]
