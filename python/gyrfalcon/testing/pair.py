"""Two WebSocket engines talking to each other in memory.

``EnginePair`` connects a client-role engine to a server-role engine with no
socket in between (h11's ``ConnectionPair`` idea), so that engine tests read
as conversations::

    pair = EnginePair(engine).open()
    pair.client.send_text('hi')
    pair.transfer()
    assert pair.server.next_message() == 'hi'

It works with either engine module (``gyrfalcon._native`` or the twin in
``gyrfalcon.protocol._py``), which ``gyrfalcon.protocol.load_engine()``
returns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import ModuleType
from typing import Any, Literal

from ..protocol.common import State

__all__ = [
    'RFC_MASK_KEY',
    'STANDARD_REQUEST',
    'EnginePair',
    'deterministic_random',
    'drain_messages',
    'open_engine',
]

Side = Literal['client', 'server']

RFC_MASK_KEY = bytes.fromhex('37fa213d')
"""The masking key of the examples in RFC 6455 §5.7."""

STANDARD_REQUEST = (
    b'GET /chat HTTP/1.1\r\n'
    b'Host: server.example.com\r\n'
    b'Upgrade: websocket\r\n'
    b'Connection: Upgrade\r\n'
    b'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
    b'Sec-WebSocket-Version: 13\r\n'
    b'\r\n'
)
"""The opening request of RFC 6455 §1.2/§1.3, as ``tests/vectors`` uses it."""


def deterministic_random(pattern: bytes = RFC_MASK_KEY) -> Callable[[int], bytes]:
    """Return a ``random`` source for ``ClientConnection`` that repeats itself.

    With the default pattern every masking key is ``37 fa 21 3d`` (the RFC
    6455 §5.7 key) and the handshake key is four copies of it, so a client's
    output is reproducible byte for byte.

    Args:
        pattern: The bytes to repeat endlessly.

    Returns:
        A callable; ``source(n)`` returns the next `n` bytes of the
        repetition.
    """
    if not pattern:
        raise ValueError('pattern must not be empty')
    position = 0

    def source(size: int) -> bytes:
        nonlocal position
        out = bytearray()
        while len(out) < size:
            start = position % len(pattern)
            take = min(len(pattern) - start, size - len(out))
            out += pattern[start : start + take]
            position += take
        return bytes(out)

    return source


def drain_messages(connection: Any) -> list[str | bytes]:
    """Take every queued message of an engine.

    Args:
        connection: A ``ServerConnection`` or ``ClientConnection``.

    Returns:
        The messages in order (``str`` for TEXT, ``bytes`` for BINARY).
    """
    messages: list[str | bytes] = []
    while (message := connection.next_message()) is not None:
        messages.append(message)
    return messages


def open_engine(
    engine: ModuleType,
    role: Side,
    options: Mapping[str, Any] | None = None,
    extensions: str | None = None,
) -> Any:
    """Build an engine and bring it to ``OPEN`` with the standard handshake.

    A server is fed ``STANDARD_REQUEST`` and accepts it. A client for
    ``server.example.com/chat`` with ``deterministic_random()`` sends its
    request and is fed the matching 101 response. The handshake output is
    drained.

    Args:
        engine: The engine module.
        role: ``'server'`` or ``'client'``.
        options: Constructor keyword arguments; a client also takes
            ``random``, ``subprotocols`` and so on here.
        extensions: A ``Sec-WebSocket-Extensions`` value added to the
            handshake: to the request a server is fed (its offer), or to
            the response a client is fed (the server's answer). With
            ``compression=True`` in `options` this negotiates
            permessage-deflate.

    Returns:
        The open connection.

    Raises:
        RuntimeError: The handshake did not succeed.
    """
    kwargs = dict(options or {})
    extra = b''
    if extensions is not None:
        extra = b'Sec-WebSocket-Extensions: ' + extensions.encode() + b'\r\n'
    if role == 'server':
        connection = engine.ServerConnection(**kwargs)
        connection.receive_data(STANDARD_REQUEST[:-2] + extra + b'\r\n')
        if connection.request is None:
            raise RuntimeError(f'the server refused the request: {connection.error}')
        connection.accept()
    else:
        kwargs.setdefault('random', deterministic_random())
        connection = engine.ClientConnection('server.example.com', '/chat', **kwargs)
        connection.send_request()
        request = connection.data_to_send()
        key = request.split(b'Sec-WebSocket-Key: ', 1)[1].split(b'\r\n', 1)[0]
        accept = engine.accept_key(key.decode())
        connection.receive_data(
            b'HTTP/1.1 101 Switching Protocols\r\n'
            b'Upgrade: websocket\r\n'
            b'Connection: Upgrade\r\n'
            b'Sec-WebSocket-Accept: ' + accept.encode() + b'\r\n' + extra + b'\r\n'
        )
    if connection.state != State.OPEN:
        raise RuntimeError(f'the handshake failed: {connection.error}')
    connection.data_to_send()
    return connection


class EnginePair:
    """A client engine and a server engine connected in memory.

    Bytes move only when asked: ``to_server()``, ``to_client()``, or
    ``transfer()`` which moves them both ways until neither side has output.
    The flags each side returned are kept in ``client_flags`` and
    ``server_flags`` (OR-ed since the last move).

    Args:
        engine: The engine module for both sides (or the client side when
            `server_engine` is given).
        server_engine: Another engine module for the server, to pair the
            two engines with each other.
        host: The client's ``Host``.
        target: The client's request-target.
        subprotocols: The subprotocols the client offers.
        headers: Extra request headers.
        origin: The client's ``Origin``.
        random: The client's random source; ``deterministic_random()`` by
            default, so that runs are reproducible.
        client_options: More ``ClientConnection`` keyword arguments.
        server_options: ``ServerConnection`` keyword arguments.
        compression: Pass ``compression=True`` to both sides (unless their
            options say otherwise), so that they negotiate
            permessage-deflate.
        chunk_size: Deliver bytes in pieces of at most this size (``None``:
            in one piece), to exercise incremental parsing.

    Attributes:
        client: The ``ClientConnection``.
        server: The ``ServerConnection``.
        client_flags: Flags the client returned during the last move.
        server_flags: Flags the server returned during the last move.
    """

    def __init__(
        self,
        engine: ModuleType,
        *,
        server_engine: ModuleType | None = None,
        host: str = 'server.example.com',
        target: str = '/chat',
        subprotocols: Sequence[str] = (),
        headers: Sequence[tuple[bytes, bytes]] = (),
        origin: str | None = None,
        random: Callable[[int], bytes] | None = None,
        client_options: Mapping[str, Any] | None = None,
        server_options: Mapping[str, Any] | None = None,
        chunk_size: int | None = None,
        compression: bool = False,
    ) -> None:
        if chunk_size is not None and chunk_size < 1:
            raise ValueError('chunk_size must be positive')
        enable = {'compression': True} if compression else {}
        self.client: Any = engine.ClientConnection(
            host,
            target,
            subprotocols=subprotocols,
            headers=headers,
            origin=origin,
            random=deterministic_random() if random is None else random,
            **{**enable, **dict(client_options or {})},
        )
        self.server: Any = (server_engine or engine).ServerConnection(
            **{**enable, **dict(server_options or {})}
        )
        self.chunk_size = chunk_size
        self.client_flags = 0
        self.server_flags = 0

    def open(
        self,
        subprotocol: str | None = None,
        headers: Sequence[tuple[bytes, bytes]] = (),
    ) -> EnginePair:
        """Run the opening handshake; the server accepts it.

        Args:
            subprotocol: The subprotocol the server selects.
            headers: Extra headers for the 101 response.

        Returns:
            The pair itself, both sides ``OPEN``.

        Raises:
            RuntimeError: Either side failed the handshake.
        """
        self.client.send_request()
        self.to_server()
        if self.server.request is None:
            raise RuntimeError(f'the server refused the request: {self.server.error}')
        self.server_flags |= self.server.accept(subprotocol, headers)
        self.to_client()
        if self.client.state != State.OPEN:
            raise RuntimeError(f'the client refused the response: {self.client.error}')
        return self

    def _deliver(self, receiver: Any, data: bytes) -> int:
        if not data:
            return 0
        size = self.chunk_size or len(data)
        flags = 0
        for start in range(0, len(data), size):
            flags |= receiver.receive_data(data[start : start + size])
        return int(flags)

    def to_server(self) -> int:
        """Move the client's pending output to the server.

        Returns:
            The flags the server returned.
        """
        flags = self._deliver(self.server, self.client.data_to_send())
        self.server_flags = flags
        return flags

    def to_client(self) -> int:
        """Move the server's pending output to the client.

        Returns:
            The flags the client returned.
        """
        flags = self._deliver(self.client, self.server.data_to_send())
        self.client_flags = flags
        return flags

    def transfer(self) -> tuple[int, int]:
        """Move bytes both ways until neither side has output.

        Auto-pongs and close echoes produced on the way are delivered too.

        Returns:
            ``(client_flags, server_flags)``: the OR of the flags each side
            returned.
        """
        client_flags = server_flags = 0
        while self.client.pending_output or self.server.pending_output:
            server_flags |= self._deliver(self.server, self.client.data_to_send())
            client_flags |= self._deliver(self.client, self.server.data_to_send())
        self.client_flags = client_flags
        self.server_flags = server_flags
        return client_flags, server_flags

    def eof(self, to: Side) -> int:
        """Close the transport towards one side: it receives EOF.

        Args:
            to: The side that sees the EOF.

        Returns:
            The flags that side returned.
        """
        receiver = self.server if to == 'server' else self.client
        return int(receiver.receive_eof())

    def messages(self, side: Side) -> list[str | bytes]:
        """Take every message queued on one side.

        Args:
            side: ``'client'`` or ``'server'``.

        Returns:
            The messages in order.
        """
        return drain_messages(self.server if side == 'server' else self.client)
