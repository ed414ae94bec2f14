"""An async buffered reader that can look ahead and split on delimiters.

The multipart form parser reads the request body through it: it skips to
a boundary, reads part headers up to a blank line, and hands each body part
to the app as a reader that ends at the next boundary.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import NoReturn, Protocol

from ..errors import DelimiterError, OperationNotAllowed

__all__ = ('AsyncWritableIO', 'BufferedReader')

DEFAULT_CHUNK_SIZE = 8192


class AsyncWritableIO(Protocol):
    """An async file-like object that can be written to."""

    async def write(self, data: bytes, /) -> object:
        """Write the bytes."""
        ...


class _AsyncReadable(Protocol):
    async def read(self, size: int = ..., /) -> bytes: ...


async def _chunks(
    source: AsyncIterator[bytes] | _AsyncReadable, chunk_size: int
) -> AsyncIterator[bytes]:
    """Iterate over a source's chunks, whichever interface it offers."""
    if hasattr(source, '__aiter__'):
        async for chunk in source:
            if chunk:
                yield chunk
        return
    while chunk := await source.read(chunk_size):
        yield chunk


class BufferedReader:
    """An async reader over a stream of chunks, with look-ahead.

    It reads from an async iterable of ``bytes`` (such as ``req.stream``) or
    an async file-like object, keeps what it has received but not handed
    out in a buffer, and can stop at a delimiter (``read_until()``,
    ``pipe_until()``, ``delimit()``).

    Args:
        source: The chunks to read.
        chunk_size: The read size for file-like sources, and the largest
            delimiter ``peek()`` and the delimiter searches support
            (default 8 KiB).
    """

    __slots__ = (
        '_buffer',
        '_chunk_size',
        '_consumed',
        '_exhausted',
        '_iterating',
        '_source',
    )

    def __init__(
        self,
        source: AsyncIterator[bytes] | _AsyncReadable,
        chunk_size: int | None = None,
    ) -> None:
        self._chunk_size = chunk_size or DEFAULT_CHUNK_SIZE
        self._source = _chunks(source, self._chunk_size)
        self._buffer = bytearray()
        self._consumed = 0
        self._exhausted = False
        self._iterating = False

    # --- buffer management ------------------------------------------------------

    async def _fill(self) -> bool:
        """Append the next chunk to the buffer; ``False`` at the end."""
        if self._exhausted:
            return False
        chunk = await anext(self._source, None)
        if chunk is None:
            self._exhausted = True
            return False
        self._buffer += chunk
        return True

    def _take(self, size: int) -> bytes:
        """Remove and return up to `size` bytes from the buffer."""
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        self._consumed += len(data)
        return data

    def _check_delimiter(self, delimiter: bytes) -> None:
        if not 1 <= len(delimiter) <= self._chunk_size:
            raise ValueError('delimiter length must be within [1, chunk_size]')

    async def _consume_delimiter(self, delimiter: bytes) -> None:
        if await self.peek(len(delimiter)) != delimiter:
            raise DelimiterError('expected delimiter missing')
        self._take(len(delimiter))

    async def _iter_until(self, delimiter: bytes) -> AsyncIterator[bytes]:
        """Yield the data up to (not including) `delimiter`, or to the end."""
        self._check_delimiter(delimiter)
        keep = len(delimiter) - 1  # a tail that may be the delimiter's start
        while True:
            position = self._buffer.find(delimiter)
            if position >= 0:
                if position:
                    yield self._take(position)
                return
            if len(self._buffer) > keep:
                yield self._take(len(self._buffer) - keep)
            if not await self._fill():
                if self._buffer:
                    yield self._take(len(self._buffer))
                return

    async def _iter_all(self) -> AsyncIterator[bytes]:
        if self._buffer:
            yield self._take(len(self._buffer))
        while await self._fill():
            yield self._take(len(self._buffer))

    @staticmethod
    async def _join(chunks: AsyncIterator[bytes], size: int) -> tuple[bytes, bytes]:
        """Join chunks up to `size` bytes (all for -1); return the excess too."""
        parts: list[bytes] = []
        remaining = size
        async for chunk in chunks:
            if 0 <= remaining < len(chunk):
                parts.append(chunk[:remaining])
                return b''.join(parts), chunk[remaining:]
            parts.append(chunk)
            remaining -= len(chunk)
            if remaining == 0:
                break
        return b''.join(parts), b''

    def _unread(self, data: bytes) -> None:
        if data:
            self._buffer[:0] = data
            self._consumed -= len(data)

    # --- reading ----------------------------------------------------------------

    async def peek(self, size: int = -1) -> bytes:
        """Return up to `size` bytes without consuming them.

        Args:
            size: How many bytes to look at (at most ``chunk_size``; the
                default, -1, means ``chunk_size``).

        Returns:
            The next bytes; fewer than `size` only at the end of the stream.
        """
        if size < 0 or size > self._chunk_size:
            size = self._chunk_size
        while len(self._buffer) < size and await self._fill():
            pass
        return bytes(self._buffer[:size])

    async def read(self, size: int | None = -1) -> bytes:
        """Read up to `size` bytes (the rest of the stream by default).

        Args:
            size: How many bytes to read; ``None`` or -1 for all of them.

        Returns:
            The bytes; fewer than `size` only at the end of the stream.
        """
        if size is None or size < 0:
            return await self.readall()
        while len(self._buffer) < size and await self._fill():
            pass
        return self._take(size)

    async def readall(self) -> bytes:
        """Read the rest of the stream.

        Returns:
            The remaining bytes.
        """
        data, _ = await self._join(self._iter_all(), -1)
        return data

    async def read_until(
        self, delimiter: bytes, size: int = -1, consume_delimiter: bool = False
    ) -> bytes:
        """Read up to a delimiter, or up to `size` bytes, whichever is first.

        Args:
            delimiter: The bytes to stop at (not included in the result).
            size: The most bytes to read (-1, the default, for no limit).
            consume_delimiter: Also consume the delimiter, which must come
                next (default ``False``).

        Returns:
            The bytes before the delimiter (or the first `size` of them).

        Raises:
            DelimiterError: `consume_delimiter` is set and the delimiter does
                not follow what was read.
        """
        data, excess = await self._join(self._iter_until(delimiter), size)
        self._unread(excess)
        if consume_delimiter:
            await self._consume_delimiter(delimiter)
        return data

    async def pipe(self, destination: AsyncWritableIO | None = None) -> None:
        """Read the rest of the stream into `destination` (or discard it).

        Args:
            destination: An async file-like object to write to.
        """
        async for chunk in self._iter_all():
            if destination is not None:
                await destination.write(chunk)

    async def pipe_until(
        self,
        delimiter: bytes,
        destination: AsyncWritableIO | None = None,
        consume_delimiter: bool = False,
    ) -> None:
        """Read up to a delimiter into `destination` (or discard the data).

        Args:
            delimiter: The bytes to stop at.
            destination: An async file-like object to write to.
            consume_delimiter: Also consume the delimiter, which must come
                next (default ``False``).

        Raises:
            DelimiterError: `consume_delimiter` is set and the stream ended
                before the delimiter.
        """
        async for chunk in self._iter_until(delimiter):
            if destination is not None:
                await destination.write(chunk)
        if consume_delimiter:
            await self._consume_delimiter(delimiter)

    async def exhaust(self) -> None:
        """Read and discard the rest of the stream."""
        await self.pipe()

    def delimit(self, delimiter: bytes) -> BufferedReader:
        """Return a reader of this stream that ends before `delimiter`.

        Reading from it consumes this reader; the delimiter itself is left
        here, unread.

        Args:
            delimiter: The bytes the new reader ends at.

        Returns:
            A new ``BufferedReader``.
        """
        return type(self)(self._iter_until(delimiter), chunk_size=self._chunk_size)

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self._iterating:
            raise OperationNotAllowed('This stream is already being iterated over.')
        self._iterating = True
        return self._iter_all()

    # --- io.IOBase-like interface ---------------------------------------------

    @property
    def eof(self) -> bool:
        """``True`` when everything was read (known after the last read)."""
        return self._exhausted and not self._buffer

    def tell(self) -> int:
        """Return how many bytes were consumed so far."""
        return self._consumed

    def fileno(self) -> NoReturn:
        """Raise ``OSError``: the reader has no file descriptor."""
        raise OSError('This IO object does not use a file descriptor')

    def isatty(self) -> bool:
        """Return ``False``."""
        return False

    def readable(self) -> bool:
        """Return ``True``."""
        return True

    def seekable(self) -> bool:
        """Return ``False``."""
        return False

    def writable(self) -> bool:
        """Return ``False``."""
        return False
