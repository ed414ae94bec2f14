"""Static routes: serve the files of a directory under a path prefix."""

from __future__ import annotations

import asyncio
import functools
import io
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, ClassVar

from gyrfalcon.errors import HTTPBadRequest, HTTPNotFound, HTTPRangeNotSatisfiable
from gyrfalcon.status_codes import HTTP_206, HTTP_304

__all__ = ('StaticRoute', 'StaticRouteAsync')


def _open(path: str) -> tuple[io.BufferedReader, os.stat_result]:
    try:
        handle = open(path, 'rb')
    except OSError:
        raise HTTPNotFound() from None
    try:
        return handle, os.fstat(handle.fileno())
    except OSError:
        handle.close()
        raise HTTPNotFound() from None


class _BoundedReader:
    """Let at most `length` bytes be read from an already positioned file."""

    def __init__(self, handle: IO[bytes], length: int) -> None:
        self.fh = handle
        self.remaining = length
        self.close = handle.close

    def read(self, size: int | None = -1) -> bytes:
        """Read up to `size` bytes, never past the bound."""
        if size is None or size < 0 or size > self.remaining:
            size = self.remaining
        data = self.fh.read(size)
        self.remaining -= len(data)
        return data


def _apply_range(
    handle: io.BufferedReader, size: int, wanted: tuple[int, int] | None
) -> tuple[Any, int, tuple[int, int, int] | None]:
    """Position the file for a byte range.

    Returns:
        ``(stream, content_length, content_range)``; the range is ``None``
        when the whole file is served.
    """
    # NOTE(gyrfalcon): An empty file has no byte to point at, so any range
    #   is ignored and the (empty) body is served whole.
    if wanted is None or size == 0:
        return handle, size, None
    first, last = wanted
    if first < 0 and last == -1:
        # A suffix range: the final N bytes.
        count = min(-first, size)
        handle.seek(-count, os.SEEK_END)
        return _BoundedReader(handle, count), count, (size - count, size - 1, size)
    if first >= size:
        handle.close()
        raise HTTPRangeNotSatisfiable(size)
    last = size - 1 if last == -1 else min(last, size - 1)
    handle.seek(first)
    count = last - first + 1
    return _BoundedReader(handle, count), count, (first, last, size)


class StaticRoute:
    """A route that serves the files found under a directory.

    Args:
        prefix (str): The path prefix of the route, starting with ``'/'``.
            The rest of the request path names the file, relative to
            `directory`. Static routes are tried after the regular routes
            (and, by default, after sinks), the last one added first.
        directory (str or pathlib.Path): The absolute path of the directory.

    Keyword Args:
        downloadable (bool): Add a ``Content-Disposition: attachment`` header
            with the file's name (default ``False``).
        fallback_filename (str): The file to serve when the requested one
            does not exist, relative to `directory` or absolute. Its name, not
            the requested one, then sets the content type.

    Raises:
        ValueError: The prefix or directory is not acceptable, or the
            fallback file does not exist.
    """

    # NOTE(gyrfalcon): Control characters, the replacement character and
    #   characters that are reserved in file names on common systems.
    _DISALLOWED_CHARS_PATTERN: ClassVar[re.Pattern[str]] = re.compile(
        '[\x00-\x1f\x80-\x9f\ufffd~?<>:*|\'"]'
    )
    _DISALLOWED_NORMALIZED_PREFIXES: ClassVar[tuple[str, ...]] = (
        '..' + os.path.sep,
        os.path.sep,
    )
    # APPSEC(gyrfalcon): a long name is more likely an attack than a file.
    _MAX_NON_PREFIXED_LEN: ClassVar[int] = 512

    def __init__(
        self,
        prefix: str,
        directory: str | Path,
        downloadable: bool = False,
        fallback_filename: str | None = None,
    ) -> None:
        if not prefix.startswith('/'):
            raise ValueError("prefix must start with '/'")
        self._directory = os.path.normpath(directory)
        if not os.path.isabs(self._directory):
            raise ValueError('directory must be an absolute path')
        self._fallback_filename: str | None = None
        if fallback_filename is not None:
            fallback = os.path.normpath(
                os.path.join(self._directory, fallback_filename)
            )
            if not os.path.isfile(fallback):
                raise ValueError('fallback_filename is not a file')
            self._fallback_filename = fallback
        # NOTE(gyrfalcon): '/static' must not match '/staticky'.
        self._prefix = prefix if prefix.endswith('/') else prefix + '/'
        self._downloadable = downloadable

    def match(self, path: str) -> bool:
        """Tell whether a request path falls under this route."""
        if path.startswith(self._prefix):
            return True
        return self._fallback_filename is not None and path == self._prefix[:-1]

    def _resolve(self, req_path: str) -> str:
        name = req_path[len(self._prefix) :]
        # APPSEC(gyrfalcon): Refuse anything that could escape the directory
        #   or that a file system would interpret specially.
        if (
            not (name or self._fallback_filename is not None)
            or name.strip().rstrip('.') != name
            or self._DISALLOWED_CHARS_PATTERN.search(name)
            or '\\' in name
            or '//' in name
            or len(name) > self._MAX_NON_PREFIXED_LEN
        ):
            raise HTTPNotFound()
        normalized = os.path.normpath(name)
        if normalized.startswith(self._DISALLOWED_NORMALIZED_PREFIXES):
            raise HTTPNotFound()
        path = os.path.join(self._directory, normalized)
        if '..' in path or not path.startswith(self._directory):
            raise HTTPNotFound()
        return path

    def __call__(self, req: Any, resp: Any, **kwargs: Any) -> None:
        """Serve the file named by the request path."""
        if req.method == 'OPTIONS':
            # NOTE(gyrfalcon): Most likely a CORS preflight.
            resp.set_header('Allow', 'GET')
            resp.set_header('Content-Length', '0')
            return

        path = self._resolve(req.path)
        if self._fallback_filename is None:
            handle, stat = _open(path)
        else:
            try:
                handle, stat = _open(path)
            except HTTPNotFound:
                handle, stat = _open(self._fallback_filename)
                path = self._fallback_filename

        etag = f'{int(stat.st_mtime):x}-{stat.st_size:x}'
        modified = datetime.fromtimestamp(int(stat.st_mtime), UTC)
        resp.etag = etag
        resp.last_modified = modified
        if _not_modified(req, etag, modified):
            handle.close()
            resp.status = HTTP_304
            return

        wanted = req.range if req.range_unit == 'bytes' else None
        try:
            stream, length, content_range = _apply_range(handle, stat.st_size, wanted)
        except OSError:
            handle.close()
            raise HTTPNotFound() from None
        resp.set_stream(stream, length)
        extension = os.path.splitext(path)[1]
        resp.content_type = resp.options.static_media_types.get(
            extension, 'application/octet-stream'
        )
        resp.accept_ranges = 'bytes'
        if self._downloadable:
            resp.downloadable_as = os.path.basename(path)
        if content_range:
            resp.status = HTTP_206
            resp.content_range = content_range


def _not_modified(req: Any, etag: str, modified: datetime) -> bool:
    # NOTE(gyrfalcon): RFC 9110 §13.1.3: If-None-Match, when present, wins
    #   over If-Modified-Since.
    if req.if_none_match is not None:
        tags = req.if_none_match
        return (len(tags) == 1 and tags[0] == '*') or any(tag == etag for tag in tags)
    if req.if_modified_since is not None:
        return bool(modified <= req.if_modified_since)
    return False


class StaticRouteAsync(StaticRoute):
    """The static route of the ASGI App: file reads run in an executor."""

    async def __call__(  # type: ignore[override]
        self, req: Any, resp: Any, ws: Any = None, **kwargs: Any
    ) -> None:
        """Serve the file; a WebSocket handshake is refused with 400."""
        if ws is not None:
            raise HTTPBadRequest()
        super().__call__(req, resp, **kwargs)
        if resp.stream is not None:
            resp.stream = _AsyncFileReader(resp.stream)


class _AsyncFileReader:
    """Read a blocking file object in the default executor."""

    def __init__(self, file: Any) -> None:
        self._file = file
        self._loop = asyncio.get_running_loop()

    async def read(self, size: int = -1) -> bytes:
        data: bytes = await self._loop.run_in_executor(
            None, functools.partial(self._file.read, size)
        )
        return data

    async def close(self) -> None:
        await self._loop.run_in_executor(None, self._file.close)
