"""The ``gyrfalcon.engine`` ASGI extension: a direct channel to the engine.

Standard ASGI costs a dict per message in each direction, plus a coroutine
call. When a Gyrfalcon server adapter (such as
``gyrfalcon.server.uvicorn:WebSocketProtocol``) runs a WebSocket connection,
it also puts a channel object into the connection scope::

    scope['extensions']['gyrfalcon.engine']

The channel moves message payloads (``str`` or ``bytes``) between the app and
the engine without building ASGI dicts. It is only safe to use when nothing
sits between the server and the app: ASGI middleware that wraps ``receive``
or ``send`` (to log, transform or count messages) must keep seeing every
message. The channel therefore exposes the very ``receive`` and ``send``
callables the server handed to the app, and a framework takes the fast path
only when the callables it was given *are* those objects::

    channel = get_channel(scope, receive, send)
    if channel is None:
        ...  # plain ASGI: receive() and send() dicts

``get_channel()`` performs that identity check. The channel value is also a
``dict`` holding ``'receive'`` and ``'send'``, so code that expects every
extension value to be a dict (as the ASGI spec describes them) keeps working.

Gyrfalcon's own ``WebSocket`` facade (``gyrfalcon.asgi.ws``) takes this path
by itself; ``docs/topics/fast-path.md`` describes how, and what it saves.

Usage, after the ASGI handshake (``websocket.connect`` received and
``websocket.accept`` sent through the normal ``receive``/``send``)::

    while True:
        message = channel.next_message()
        if message is None:
            if channel.closed:
                break  # channel.close_code and close_reason say why
            await channel.wait_message()
            continue
        if isinstance(message, str):
            channel.send_text(message)
        else:
            channel.send_binary(message)
        if channel.writing_paused:
            await channel.drain()

Closing still goes through ASGI (``await send({'type': 'websocket.close'})``),
and so does the disconnect message: ``receive()`` returns
``websocket.disconnect`` once every queued message has been taken, whether
through ``receive()`` or ``next_message()``. The two paths share one queue
and may be mixed freely.

Writes through the channel follow the server's batching rule: the first
send of an event-loop iteration on an idle connection is written through at
once; the sends that follow it in the same iteration, and every send while
received messages are waiting, are collected and written with one
``transport.write()`` (when the app next waits for a message, or at the end
of the event-loop iteration at the latest).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..protocol import DeflateParams

__all__ = ['EXTENSION', 'EngineChannel', 'get_channel']

EXTENSION = 'gyrfalcon.engine'
"""The key of the channel in ``scope['extensions']``."""


class EngineChannel(Protocol):
    """A direct, dict-free path between an app and a WebSocket engine.

    Servers put an object with this interface in
    ``scope['extensions']['gyrfalcon.engine']``. Obtain it with
    ``get_channel()``, which returns it only when no middleware wraps
    ``receive`` or ``send``.

    Attributes:
        receive: The exact ``receive`` callable the server passed to the app.
        send: The exact ``send`` callable the server passed to the app.
    """

    @property
    def receive(self) -> Callable[[], Awaitable[dict[str, Any]]]:
        """The exact ``receive`` callable the server passed to the app."""
        ...

    @property
    def send(self) -> Callable[[dict[str, Any]], Awaitable[None]]:
        """The exact ``send`` callable the server passed to the app."""
        ...

    def next_message(self) -> str | bytes | None:
        """Pop the oldest received message without waiting.

        Text messages come out as ``str`` and binary ones as ``bytes``. Taking
        a message may resume reading from the socket when the queue drops
        to its low-water mark.

        Returns:
            The message, or ``None`` when none is queued. After ``None``,
            check ``closed``: if it is True no message will ever arrive;
            otherwise ``await wait_message()``.
        """
        ...

    def wait_message(self) -> Awaitable[None]:
        """Return an awaitable that ends once a message or the close is there.

        ``await channel.wait_message()`` returns at once if a message is
        queued or the connection is closed already. Any output collected by
        the batching rule is written before waiting. Afterwards call
        ``next_message()`` again.

        Returns:
            The awaitable: a future of the server's event loop, so that a
            waiting connection holds no coroutine frame for it (or an
            awaitable that is already done).
        """
        ...

    def send_text(self, text: str) -> None:
        """Queue a TEXT message for the peer.

        Args:
            text: The message.

        Raises:
            RuntimeError: The connection was not accepted yet, or the app
                already sent ``websocket.close``.
            OSError: The connection is closed or lost (a
                ``ClientDisconnected``, which is also a
                ``gyrfalcon.errors.WebSocketDisconnected``).
            TypeError: ``text`` is not a ``str``.
        """
        ...

    def send_binary(self, data: bytes | bytearray | memoryview) -> None:
        """Queue a BINARY message for the peer.

        Args:
            data: The message.

        Raises:
            RuntimeError: The connection was not accepted yet, or the app
                already sent ``websocket.close``.
            OSError: The connection is closed or lost.
            TypeError: ``data`` is not a bytes-like object.
        """
        ...

    def send_prepared(
        self,
        frame: bytes | bytearray | memoryview,
        *,
        compressed: bool = False,
        flush: bool = True,
    ) -> None:
        """Queue a frame built once by ``prepare_frame()`` for many peers.

        The bytes go out as they are, under the same write-through/batch rule
        as ``send_text()``. A hub builds each message's frame once and hands
        the same bytes to every subscriber's channel.

        Args:
            frame: One complete frame from the engine's ``prepare_frame()``.

        Keyword Args:
            compressed (bool): The frame was compressed (``prepare_frame()``
                with ``deflate_window_bits``, at most this connection's
                ``deflate.server_max_window_bits``); only for a connection
                that negotiated permessage-deflate.
            flush (bool): False batches the frame even when the connection
                is idle: it is written with the connection's batch, on the
                next event-loop iteration at the latest (or at once when the
                engine's output reaches its limit). A burst of publishes in
                one iteration then costs one ``transport.write()`` per
                connection instead of one per message.

        Raises:
            RuntimeError: The connection was not accepted yet, or the app
                already sent ``websocket.close``.
            OSError: The connection is closed or lost.
            TypeError: `frame` is not bytes-like.
            ValueError: `compressed` is True but permessage-deflate was not
                negotiated.
        """
        ...

    def close(self, code: int = 1000, reason: str = '') -> None:
        """Close the connection now, without waiting for anything.

        The Close frame is queued behind whatever is still unsent, even while
        writing is paused (``send()`` of ``websocket.close`` would wait for
        the transport to drain first). The app then sees the connection as
        closed with this code, and the transport is closed when the peer
        answers or ``close_timeout`` passes. Does nothing unless the
        connection is open. A hub uses this to close a peer that fell too
        far behind.

        Args:
            code: The close code (the caller checked it).
            reason: The close reason.
        """
        ...

    @property
    def deflate(self) -> DeflateParams | None:
        """The permessage-deflate parameters agreed in the handshake, if any."""
        ...

    @property
    def buffered_amount(self) -> int:
        """How many bytes were sent but are not yet on the network.

        The engine's pending output plus the transport's write buffer: what
        a peer that stopped reading holds up in this process.
        """
        ...

    @property
    def writing_paused(self) -> bool:
        """Whether the transport asked the app to stop writing.

        ``send_text()`` and ``send_binary()`` never block; when this is True,
        ``await drain()`` before sending more.
        """
        ...

    async def drain(self) -> None:
        """Wait until the transport accepts more data.

        Returns at once when writing is not paused.

        Raises:
            OSError: The connection was lost while waiting (or before).
        """
        ...

    @property
    def closed(self) -> bool:
        """Whether the connection is closed, closing or lost.

        Once True, ``close_code`` and ``close_reason`` are set. Messages
        received before the close may still be queued for
        ``next_message()``.
        """
        ...

    @property
    def close_code(self) -> int | None:
        """The close code of the ``websocket.disconnect`` message, if any.

        1005 when the peer closed without a code or the connection was lost
        after the handshake, 1006 when it ended before the handshake
        completed, 1012 on server shutdown, the app's own code when the app
        closed first.
        """
        ...

    @property
    def close_reason(self) -> str | None:
        """The close reason that goes with ``close_code`` (``''`` if none)."""
        ...


def get_channel(
    scope: Mapping[str, Any], receive: object, send: object
) -> EngineChannel | None:
    """Return the engine channel when it is safe to bypass ASGI messages.

    Args:
        scope: The connection scope.
        receive: The ``receive`` callable the app was given.
        send: The ``send`` callable the app was given.

    Returns:
        The channel from ``scope['extensions']['gyrfalcon.engine']`` if the
        server offers one and ``receive`` and ``send`` are the server's own
        callables (no middleware wraps them); ``None`` otherwise.
    """
    extensions = scope.get('extensions')
    if not extensions:
        return None
    channel: EngineChannel | None = extensions.get(EXTENSION)
    if channel is None:
        return None
    if channel.receive is not receive or channel.send is not send:
        return None
    return channel
