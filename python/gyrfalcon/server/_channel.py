"""The engine channel of one connection, and the phases it checks.

``Channel`` implements ``gyrfalcon.server.fastpath.EngineChannel`` for
``gyrfalcon.server.uvicorn.WebSocketProtocol``: it works directly on the
protocol's engine and state, which this package keeps private.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import InvalidState

if TYPE_CHECKING:
    from .uvicorn import WebSocketProtocol

__all__ = ['CONNECTING', 'Channel', 'DENYING', 'FINISHED', 'OPEN']

# The connection's phases, as the app's ASGI messages drive them.
CONNECTING = 0  # waiting for accept, close or a denial response
DENYING = 1  # websocket.http.response.start sent; body pending
OPEN = 2  # accepted
FINISHED = 3  # the app sent websocket.close, or the handshake was answered


class Channel(dict[str, Any]):
    """The ``gyrfalcon.engine`` extension of one connection.

    See ``gyrfalcon.server.fastpath.EngineChannel`` for the interface. It is
    also a dict holding ``'receive'`` and ``'send'``.
    """

    __slots__ = ('_protocol', 'receive', 'send')

    def __init__(self, protocol: WebSocketProtocol) -> None:
        receive = protocol._asgi_receive
        send = protocol._asgi_send
        super().__init__(receive=receive, send=send)
        self._protocol = protocol
        self.receive = receive
        self.send = send

    def next_message(self) -> str | bytes | None:
        """Pop the oldest received message, or return ``None``."""
        protocol = self._protocol
        engine = protocol._engine
        data = engine.next_message()
        if data is not None and protocol._read_paused and not engine.reading_paused:
            protocol._resume_reading()
        return data

    async def wait_message(self) -> None:
        """Wait until a message is queued or the connection is closed."""
        protocol = self._protocol
        if protocol._engine.queued_messages or protocol._disconnect is not None:
            return
        await protocol._wait_for_input()

    def send_text(self, text: str) -> None:
        """Queue a TEXT message (see ``EngineChannel.send_text``)."""
        protocol = self._protocol
        if protocol._phase != OPEN:
            raise protocol._not_open_error('send_text')
        try:
            protocol._engine.send_text(text)
        except InvalidState:
            raise protocol._disconnected() from None
        protocol._after_send()

    def send_binary(self, data: bytes | bytearray | memoryview) -> None:
        """Queue a BINARY message (see ``EngineChannel.send_binary``)."""
        protocol = self._protocol
        if protocol._phase != OPEN:
            raise protocol._not_open_error('send_binary')
        try:
            protocol._engine.send_binary(data)
        except InvalidState:
            raise protocol._disconnected() from None
        protocol._after_send()

    @property
    def writing_paused(self) -> bool:
        """Whether the transport asked the app to stop writing."""
        return self._protocol._write_paused

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
