"""The media handler for ``multipart/form-data`` (RFC 7578), for uploads.

``await req.get_media()`` returns a ``MultipartForm``, which the app reads
part by part, streaming each part's body as it arrives::

    async def on_post(self, req, resp):
        form = await req.get_media()
        async for part in form:
            if part.filename:
                async with aiofiles.open(part.secure_filename, 'wb') as dest:
                    await part.stream.pipe(dest)
            else:
                fields[part.name] = await part.text

A part must be read (or skipped) before the next one: moving on discards
what is left of it. The parse options limit the number of parts, the size of
their headers, and how much of a part ``data``, ``text`` and ``media`` read
into memory.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable
from typing import TYPE_CHECKING, Any, NoReturn, cast
from urllib.parse import unquote_to_bytes

from ..constants import MEDIA_JSON, MEDIA_URLENCODED
from ..errors import DelimiterError, HTTPInvalidHeader, MultipartParseError
from ..util.mediatypes import parse_header
from ..util.misc import _UNSET, secure_filename
from ..util.reader import BufferedReader
from .base import AsyncReadableIO, BaseHandler, ReadableIO

if TYPE_CHECKING:
    from .handlers import Handlers

__all__ = ('BodyPart', 'MultipartForm', 'MultipartFormHandler', 'MultipartParseOptions')

# RFC 7578 §4.8: only these part headers mean anything; others are ignored.
_PART_HEADERS = frozenset(
    (b'content-type', b'content-disposition', b'content-transfer-encoding')
)
# RFC 5987 §3.2: charset'language'percent-encoded-value
_EXTENDED_VALUE = re.compile(r"([\w-]+)'[\w-]*'(.+)")
_CRLF = b'\r\n'
_BLANK_LINE = b'\r\n\r\n'


class MultipartParseOptions:
    """Limits and defaults of the multipart form parser.

    Set them on the handler's ``parse_options``::

        handler = app.req_options.media_handlers[gyrfalcon.MEDIA_MULTIPART]
        handler.parse_options.max_body_part_count = 10

    Attributes:
        default_charset: The charset of text parts that do not name one
            (default ``'utf-8'``).
        max_body_part_count: The most parts a form may have (default 64; 0
            for no limit).
        max_body_part_buffer_size: The most bytes ``data``, ``text`` and
            ``media`` read into memory from one part (default 1 MiB);
            ``stream`` has no limit.
        max_body_part_headers_size: The most bytes of headers a part may
            have (default 8 KiB).
        max_secure_filename_length: The length ``secure_filename`` is cut to
            (default ``None``: no limit).
        media_handlers: The handlers of ``part.media``, by the part's
            ``Content-Type`` (default: JSON and URL-encoded forms).
    """

    __slots__ = (
        'default_charset',
        'max_body_part_buffer_size',
        'max_body_part_count',
        'max_body_part_headers_size',
        'max_secure_filename_length',
        'media_handlers',
    )

    def __init__(self) -> None:
        # NOTE(gyrfalcon): imported here; the handlers module imports this one.
        from .handlers import Handlers
        from .json import JSONHandler
        from .urlencoded import URLEncodedFormHandler

        self.default_charset = 'utf-8'
        self.max_body_part_count = 64
        self.max_body_part_buffer_size = 1024 * 1024
        self.max_body_part_headers_size = 8192
        self.max_secure_filename_length: int | None = None
        self.media_handlers: Handlers = Handlers(
            {MEDIA_JSON: JSONHandler(), MEDIA_URLENCODED: URLEncodedFormHandler()}
        )


class BodyPart:
    """One part of a ``multipart/form-data`` body: a field or a file.

    Attributes:
        stream: The part's body, as a ``BufferedReader`` that ends at the
            part's end (``await part.stream.read()``, ``async for chunk in
            part.stream``, ``await part.stream.pipe(dest)``).
    """

    def __init__(
        self,
        stream: BufferedReader,
        headers: dict[bytes, bytes],
        parse_options: MultipartParseOptions,
    ) -> None:
        self.stream = stream
        self._headers = headers
        self._options = parse_options
        self._disposition: dict[str, str] | None = None
        self._data: bytes | None = None
        self._media: Any = _UNSET
        self._filename: Any = _UNSET

    @property
    def content_type(self) -> str:
        """The part's ``Content-Type`` (``'text/plain'`` when it has none)."""
        return self._headers.get(b'content-type', b'text/plain').decode('latin1')

    def _disposition_params(self) -> dict[str, str]:
        if self._disposition is None:
            header = self._headers.get(b'content-disposition', b'')
            # NOTE(gyrfalcon): browsers send UTF-8 names; invalid bytes become
            #   U+FFFD instead of failing the request (Falcon raises).
            self._disposition = parse_header(header.decode('utf-8', 'replace'))[1]
        return self._disposition

    @property
    def name(self) -> str | None:
        """The form field's name (``Content-Disposition``'s ``name``)."""
        return self._disposition_params().get('name')

    @property
    def filename(self) -> str | None:
        """The uploaded file's name, as the client sent it, or ``None``.

        ``filename*`` (RFC 5987, for non-ASCII names) takes precedence over
        ``filename``. Never use it as a path: see ``secure_filename``.

        Raises:
            MultipartParseError: ``filename*`` names an unknown charset, or
                is not valid in it.
        """
        if self._filename is _UNSET:
            params = self._disposition_params()
            extended = _EXTENDED_VALUE.match(params.get('filename*', ''))
            if extended:
                charset, encoded = extended.groups()
                try:
                    self._filename = unquote_to_bytes(encoded).decode(charset)
                except (ValueError, LookupError) as ex:
                    raise MultipartParseError(
                        description=f'invalid text or charset: {charset}'
                    ) from ex
            else:
                self._filename = params.get('filename')
        return cast('str | None', self._filename)

    @property
    def secure_filename(self) -> str:
        """``filename``, made safe to use as a file name (``secure_filename()``).

        Raises:
            MultipartParseError: The part has no file name.
        """
        try:
            return secure_filename(
                self.filename or '', max_length=self._options.max_secure_filename_length
            )
        except ValueError as ex:
            raise MultipartParseError(description=str(ex)) from ex

    async def get_data(self) -> bytes:
        """Read the part's whole body.

        Returns:
            The body (read once; later calls return the same bytes).

        Raises:
            MultipartParseError: The body is larger than
                ``max_body_part_buffer_size``.
        """
        if self._data is None:
            limit = self._options.max_body_part_buffer_size
            self._data = await self.stream.read(limit + 1)
            if len(self._data) > limit:
                raise MultipartParseError(description='body part is too large')
        return self._data

    async def get_text(self) -> str | None:
        """Read the part's body as text.

        Returns:
            The decoded body, for a ``text/plain`` part (in its charset, or
            the default one); ``None`` for any other content type.

        Raises:
            MultipartParseError: The body is too large, the charset unknown,
                or the body not valid in it.
        """
        content_type, params = parse_header(self.content_type)
        if content_type != 'text/plain':
            return None
        charset = params.get('charset', self._options.default_charset)
        try:
            return (await self.get_data()).decode(charset)
        except (ValueError, LookupError) as ex:
            raise MultipartParseError(
                description=f'invalid text or charset: {charset}'
            ) from ex

    async def get_media(self) -> Any:
        """Parse the part's body with the handler of its content type.

        Returns:
            The parsed body (parsed once).

        Raises:
            HTTPUnsupportedMediaType: No handler in the parse options
                matches the part's content type.
        """
        if self._media is _UNSET:
            handler, _, _ = self._options.media_handlers._resolve(
                self.content_type, 'text/plain'
            )
            try:
                self._media = await handler.deserialize_async(
                    self.stream, self.content_type, None
                )
            finally:
                if handler.exhaust_stream:
                    await self.stream.exhaust()
        return self._media

    data: Awaitable[bytes] = cast('Awaitable[bytes]', property(get_data))
    """The body: ``await part.data`` is ``await part.get_data()``."""

    text: Awaitable[str | None] = cast('Awaitable[str | None]', property(get_text))
    """The body as text: ``await part.text`` is ``await part.get_text()``."""

    media: Awaitable[Any] = cast('Awaitable[Any]', property(get_media))
    """The parsed body: ``await part.media`` is ``await part.get_media()``."""


class MultipartForm:
    """A ``multipart/form-data`` body, as an async iterator of ``BodyPart``.

    Args:
        stream: The request body.
        boundary: The boundary from the ``Content-Type`` header.
        content_length: The body's length, if known (unused).
        parse_options: The parser's limits.
    """

    def __init__(
        self,
        stream: AsyncReadableIO | BufferedReader,
        boundary: bytes,
        content_length: int | None,
        parse_options: MultipartParseOptions,
    ) -> None:
        if not isinstance(stream, BufferedReader):
            stream = BufferedReader(cast('Any', stream))
        self._stream = stream
        self._boundary = boundary
        self._options = parse_options

    def __aiter__(self) -> AsyncIterator[BodyPart]:
        return self._parts()

    async def _parts(self) -> AsyncIterator[BodyPart]:
        stream = self._stream
        options = self._options
        # RFC 2046 §5.1.1: the first boundary may open the body (no CRLF).
        delimiter = b'--' + self._boundary
        count = 0
        while True:
            try:
                await stream.pipe_until(delimiter, consume_delimiter=True)
                delimiter = _CRLF + b'--' + self._boundary
                if await stream.peek(2) == b'--':  # the close delimiter
                    await stream.read(2)
                    return
                await stream.read_until(_CRLF, 0, consume_delimiter=True)
            except DelimiterError as ex:
                raise MultipartParseError(
                    description='unexpected form structure'
                ) from ex

            try:
                # NOTE(gyrfalcon): a part may have no headers at all (RFC 2046
                #   §5.1.1); Falcon reports it as incomplete.
                if await stream.peek(2) == _CRLF:
                    await stream.read(2)
                    block = b''
                else:
                    block = await stream.read_until(
                        _BLANK_LINE,
                        options.max_body_part_headers_size,
                        consume_delimiter=True,
                    )
            except DelimiterError as ex:
                raise MultipartParseError(
                    description='incomplete body part headers'
                ) from ex
            headers = _parse_part_headers(block)

            count += 1
            if 0 < options.max_body_part_count < count:
                raise MultipartParseError(
                    description='maximum number of form body parts exceeded'
                )
            yield BodyPart(stream.delimit(delimiter), headers, options)


def _parse_part_headers(block: bytes) -> dict[bytes, bytes]:
    headers: dict[bytes, bytes] = {}
    for line in block.split(_CRLF):
        name, colon, value = line.partition(b':')
        if not colon:
            continue
        name = name.strip().lower()
        value = value.strip()
        if name == b'content-transfer-encoding' and value.lower() != b'binary':
            # RFC 7578 §4.7: deprecated, and senders must not use it.
            raise MultipartParseError(
                description='the deprecated Content-Transfer-Encoding header field '
                'is unsupported'
            )
        if name in _PART_HEADERS:
            headers[name] = value
    return headers


class MultipartFormHandler(BaseHandler):
    """The media handler for ``multipart/form-data`` request bodies.

    It is installed by default. ``await req.get_media()`` returns a
    ``MultipartForm`` to iterate over with ``async for``. Responses cannot
    be serialized as multipart forms.

    Args:
        parse_options: The parser's limits (default:
            ``MultipartParseOptions()``).

    Attributes:
        parse_options: The parser's limits, which may be changed in place.
    """

    def __init__(self, parse_options: MultipartParseOptions | None = None) -> None:
        self.parse_options = parse_options or MultipartParseOptions()

    def _boundary(self, content_type: str | None) -> bytes:
        params = parse_header(content_type or '')[1]
        try:
            boundary = params['boundary']
        except KeyError:
            raise HTTPInvalidHeader(
                f'No boundary specifier found in {content_type!r}', 'Content-Type'
            ) from None
        # RFC 2046 §5.1.1: 1 to 70 characters, never ending with a space.
        boundary = boundary.rstrip()
        if not 1 <= len(boundary) <= 70:
            raise HTTPInvalidHeader(
                'The boundary parameter must consist of 1 to 70 characters',
                'Content-Type',
            )
        return boundary.encode()

    async def deserialize_async(
        self,
        stream: AsyncReadableIO,
        content_type: str | None,
        content_length: int | None,
    ) -> MultipartForm:
        """Start parsing a ``multipart/form-data`` request body.

        Args:
            stream: The body (``req.stream``).
            content_type: The request's ``Content-Type``, with the boundary.
            content_length: The request's ``Content-Length``, if known.

        Returns:
            The form, whose parts are read as the app iterates over it.

        Raises:
            HTTPInvalidHeader: The content type has no valid boundary.
        """
        boundary = self._boundary(content_type)
        return MultipartForm(stream, boundary, content_length, self.parse_options)

    def deserialize(
        self,
        stream: ReadableIO,
        content_type: str | None,
        content_length: int | None,
    ) -> NoReturn:
        """Not available: a form is parsed asynchronously.

        Raises:
            NotImplementedError: Always; use ``deserialize_async()``.
        """
        raise NotImplementedError(
            'multipart forms are parsed asynchronously; use deserialize_async()'
        )

    def serialize(self, media: object, content_type: str) -> NoReturn:
        """Not available: responses cannot be multipart forms.

        Raises:
            NotImplementedError: Always.
        """
        raise NotImplementedError('multipart form serialization unsupported')
