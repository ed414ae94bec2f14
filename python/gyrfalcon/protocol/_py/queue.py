"""The inbound message queue and the outbound byte buffer.

The twin of ``rust/src/queue.rs``. The engine never refuses input because of
the queue: it *reports* a full queue (``reading_paused``) and the adapter
stops reading from the transport, so the queue holds at most the high-water
mark plus one transport read plus one ``max_size`` message.
"""

from __future__ import annotations

from collections import deque

__all__ = ['BinaryBuffer', 'InboundQueue', 'OutboundBuffer', 'TextBuffer']


class TextBuffer:
    """The payload of the TEXT message being received, grown as it arrives.

    A message that arrives in one read keeps the text its validation
    decoded, and is never copied. Once a second piece arrives, the raw
    (already validated) bytes go into one ``bytearray``, decoded once at the
    end: memory follows the bytes received, not the number of reads (a frame
    trickled one byte per read must not cost an object per byte; aiohttp
    PYSEC-2026-4389).

    Attributes:
        size: The payload bytes received so far (UTF-8 bytes).
    """

    __slots__ = ('_first', '_first_text', '_more', 'size')

    def __init__(self) -> None:
        self._first = b''
        self._first_text = ''
        self._more: bytearray | None = None
        self.size = 0

    def append(self, data: bytes, text: str) -> None:
        """Add the next piece of payload.

        Args:
            data: The unmasked bytes (not empty), already checked to keep
                the message a valid UTF-8 prefix.
            text: What the validator decoded from them.
        """
        self.size += len(data)
        if self._more is not None:
            self._more += data
        elif self._first:
            self._more = bytearray(self._first)
            self._more += data
            self._first_text = ''
        else:
            self._first = data
            self._first_text = text

    def take(self) -> str:
        """Return the whole text and empty the buffer.

        Call it once the message is complete and its end was validated.
        """
        more = self._more
        text = self._first_text if more is None else more.decode('utf-8')
        self.clear()
        return text

    def clear(self) -> None:
        """Forget the text received so far."""
        self._first = b''
        self._first_text = ''
        self._more = None
        self.size = 0


class BinaryBuffer:
    """The payload of the BINARY message being received, grown as it arrives.

    Like ``TextBuffer``: the first piece is kept as it is, later pieces go
    into one ``bytearray``, so memory follows the bytes received.

    Attributes:
        size: The payload bytes received so far.
    """

    __slots__ = ('_first', '_more', 'size')

    def __init__(self) -> None:
        self._first = b''
        self._more: bytearray | None = None
        self.size = 0

    def append(self, data: bytes) -> None:
        """Add the next piece of payload.

        Args:
            data: The unmasked bytes (not empty).
        """
        self.size += len(data)
        if self._more is not None:
            self._more += data
        elif self._first:
            self._more = bytearray(self._first)
            self._more += data
        else:
            self._first = data

    def take(self) -> bytes:
        """Return the whole payload and empty the buffer."""
        data = self._first if self._more is None else bytes(self._more)
        self.clear()
        return data

    def clear(self) -> None:
        """Forget the payload received so far."""
        self._first = b''
        self._more = None
        self.size = 0


class InboundQueue:
    """Complete messages waiting for ``next_message()``, with water marks.

    Args:
        max_queue: High-water mark in messages, or ``None`` for no count
            limit. The low-water mark is a quarter of it.
        max_queue_bytes: High-water mark in payload bytes (UTF-8 bytes for
            text), or ``None`` for no byte limit. The low-water mark is a
            quarter of it.

    Attributes:
        messages: How many messages are queued.
        size: How many payload bytes are queued.
        paused: Whether reading is paused (set by ``update_pause()`` at the
            end of an input call, cleared by ``pop()``).
    """

    __slots__ = ('_high_bytes', '_high_count', '_items', '_low_bytes', '_low_count',
                 'messages', 'paused', 'size')  # fmt: skip

    def __init__(self, max_queue: int | None, max_queue_bytes: int | None) -> None:
        self._items: deque[tuple[str | bytes, int]] = deque()
        self._high_count = max_queue
        self._high_bytes = max_queue_bytes
        self._low_count = None if max_queue is None else max_queue // 4
        self._low_bytes = None if max_queue_bytes is None else max_queue_bytes // 4
        self.messages = 0
        self.size = 0
        self.paused = False

    def push(self, message: str | bytes, size: int) -> None:
        """Queue a complete message.

        Args:
            message: The message: ``str`` for TEXT, ``bytes`` for BINARY.
            size: Its payload size in bytes.
        """
        self._items.append((message, size))
        self.messages += 1
        self.size += size

    def update_pause(self) -> bool:
        """Pause reading if a high-water mark is reached; call after input.

        Returns:
            Whether reading is paused now.
        """
        if not self.paused:
            high_count = self._high_count
            high_bytes = self._high_bytes
            self.paused = (high_count is not None and self.messages >= high_count) or (
                high_bytes is not None and self.size >= high_bytes
            )
        return self.paused

    def pop(self) -> str | bytes | None:
        """Take the oldest message, resuming reading below the low marks.

        Returns:
            The oldest message, or ``None`` when the queue is empty.
        """
        if not self._items:
            return None
        message, size = self._items.popleft()
        self.messages -= 1
        self.size -= size
        if self.paused:
            low_count = self._low_count
            low_bytes = self._low_bytes
            if (low_count is None or self.messages <= low_count) and (
                low_bytes is None or self.size <= low_bytes
            ):
                self.paused = False
        return message


class OutboundBuffer:
    """Bytes waiting for ``data_to_send()``, kept as a list of pieces.

    Payloads are stored as given (no copy) and joined once when drained, so
    each outgoing payload is copied once on its way to the transport.

    Attributes:
        size: How many bytes are pending.
    """

    __slots__ = ('_pieces', 'size')

    def __init__(self) -> None:
        self._pieces: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> None:
        """Append bytes to send.

        Args:
            data: The bytes; they must not be mutated afterwards.
        """
        if data:
            self._pieces.append(data)
            self.size += len(data)

    def drain(self) -> bytes:
        """Take everything pending, joined.

        Returns:
            The pending bytes in order, or ``b''``.
        """
        pieces = self._pieces
        if not pieces:
            return b''
        self._pieces = []
        self.size = 0
        return pieces[0] if len(pieces) == 1 else b''.join(pieces)
