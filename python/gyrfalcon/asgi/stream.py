"""The request body stream of an ASGI request (``req.stream``).

The body arrives as a series of ASGI ``http.request`` events; the stream
reassembles it on demand, never reads past ``Content-Length``, and ends at
the last event (``more_body`` false) or at an ``http.disconnect``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, NoReturn

from ..errors import OperationNotAllowed

__all__ = ('BoundedStream',)

AsgiReceive = Callable[[], Awaitable[Mapping[str, Any]]]
"""The ASGI ``receive`` callable."""

# A body without a Content-Length is bounded only by the events themselves.
_UNBOUNDED = 2**63

_CLOSED_MESSAGE = 'This stream is closed; no further operations on it are permitted.'


class BoundedStream:
    """An async, read-only file-like view of an ASGI request body.

    Read it whole (``await stream.read()``), in pieces (``await
    stream.read(4096)``), or chunk by chunk as the events arrive::

        async for chunk in req.stream:
            await sink.write(chunk)

    A body is read once: data that was read is gone, and a stream can be
    iterated over only once. The stream stops at ``Content-Length`` bytes
    even if the client sends more, and ends early, without an error, when
    the client disconnects (check ``req.content_length`` against what you
    got when that matters).

    Args:
        receive: The ASGI ``receive`` callable.
        first_event: An ``http.request`` event that was already received
            (its body comes first), or ``None``.
        content_length: The request's ``Content-Length``, or ``None``.
    """

    __slots__ = ('_buffer', '_closed', '_iterating', '_pos', '_receive', '_remaining')

    def __init__(
        self,
        receive: AsgiReceive,
        first_event: Mapping[str, Any] | None = None,
        content_length: int | None = None,
    ) -> None:
        self._receive = receive
        self._closed = False
        self._iterating = False
        self._pos = 0
        self._remaining = _UNBOUNDED if content_length is None else content_length
        self._buffer = b''
        if first_event is not None:
            self._buffer = self._take(first_event)

    def _take(self, event: Mapping[str, Any]) -> bytes:
        """Return an event's body, cut at the remaining length.

        Updates the remaining length; an event without ``more_body`` (such
        as ``http.disconnect``) ends the body.
        """
        chunk: bytes = event.get('body', b'')
        if len(chunk) > self._remaining:
            chunk = chunk[: self._remaining]
        self._remaining -= len(chunk)
        if not event.get('more_body', False):
            self._remaining = 0
        return chunk

    async def _receive_chunk(self) -> bytes:
        return self._take(await self._receive())

    def _check_open(self) -> None:
        if self._closed:
            raise OperationNotAllowed(_CLOSED_MESSAGE)

    # --- io.IOBase-like interface ---------------------------------------------

    def fileno(self) -> NoReturn:
        """Raise ``OSError``: the stream has no file descriptor."""
        raise OSError('This IO object does not use a file descriptor')

    def isatty(self) -> bool:
        """Return ``False``: the stream is not a terminal."""
        return False

    def readable(self) -> bool:
        """Return ``True``: the stream can be read."""
        return True

    def seekable(self) -> bool:
        """Return ``False``: the stream cannot seek."""
        return False

    def writable(self) -> bool:
        """Return ``False``: the stream is read-only."""
        return False

    def tell(self) -> int:
        """Return how many bytes of the body were consumed so far."""
        return self._pos

    @property
    def closed(self) -> bool:
        """``True`` once ``close()`` was called."""
        return self._closed

    @property
    def eof(self) -> bool:
        """``True`` when the whole body was consumed."""
        return not self._buffer and self._remaining == 0

    def close(self) -> None:
        """Close the stream; later reads raise ``OperationNotAllowed``.

        The unread part of the body is discarded without being received.
        """
        self._buffer = b''
        self._remaining = 0
        self._closed = True

    # --- reading ----------------------------------------------------------------

    async def exhaust(self) -> None:
        """Receive and discard the rest of the body.

        Raises:
            OperationNotAllowed: The stream is closed (a ``ValueError``).
        """
        self._check_open()
        self._pos += len(self._buffer)
        self._buffer = b''
        while self._remaining > 0:
            self._pos += len(await self._receive_chunk())

    async def readall(self) -> bytes:
        """Read the rest of the body.

        Returns:
            The bytes that were left (``b''`` at the end of the body).

        Raises:
            OperationNotAllowed: The stream is closed.
        """
        self._check_open()
        chunks = [self._buffer] if self._buffer else []
        self._buffer = b''
        while self._remaining > 0:
            chunk = await self._receive_chunk()
            if chunk:
                chunks.append(chunk)
        data = chunks[0] if len(chunks) == 1 else b''.join(chunks)
        self._pos += len(data)
        return data

    async def read(self, size: int | None = None) -> bytes:
        """Read up to `size` bytes of the body.

        Args:
            size: How many bytes to read at most. ``None`` or ``-1`` (the
                default) reads the rest of the body; other negative values
                and ``0`` read nothing.

        Returns:
            Up to `size` bytes: fewer only at the end of the body, ``b''``
            once it is consumed.

        Raises:
            OperationNotAllowed: The stream is closed.
        """
        self._check_open()
        if size is None or size == -1:
            return await self.readall()
        if size <= 0:
            return b''

        chunks = [self._buffer] if self._buffer else []
        available = len(self._buffer)
        while available < size and self._remaining > 0:
            chunk = await self._receive_chunk()
            chunks.append(chunk)
            available += len(chunk)

        pending = chunks[0] if len(chunks) == 1 else b''.join(chunks)
        data, self._buffer = pending[:size], pending[size:]
        self._pos += len(data)
        return data

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iter_chunks()

    async def _iter_chunks(self) -> AsyncIterator[bytes]:
        """Yield the rest of the body, one non-empty chunk per event."""
        self._check_open()
        if self.eof:
            return
        if self._iterating:
            raise OperationNotAllowed('This stream is already being iterated over.')
        self._iterating = True

        if self._buffer:
            chunk, self._buffer = self._buffer, b''
            self._pos += len(chunk)
            yield chunk
        while self._remaining > 0:
            chunk = await self._receive_chunk()
            if chunk:
                self._pos += len(chunk)
                yield chunk
