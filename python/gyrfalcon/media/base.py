"""Base classes of the media handlers, for HTTP bodies and WebSocket messages.

An HTTP media handler (``BaseHandler``) turns a request body into Python
objects and Python objects into a response body, for one media type. A
WebSocket handler (``TextBaseHandlerWS`` or ``BinaryBaseHandlerWS``) does the
same for the payload of a TEXT or BINARY message.
"""

from __future__ import annotations

import abc
import io
from collections.abc import Callable
from typing import Any, ClassVar, Protocol

from ..constants import MEDIA_JSON

__all__ = (
    'AsyncReadableIO',
    'BaseHandler',
    'BinaryBaseHandlerWS',
    'ReadableIO',
    'TextBaseHandlerWS',
)

SerializeSync = Callable[[Any], bytes]
"""A handler's fast path: media in, body bytes out, no ``content_type``."""

DeserializeSync = Callable[[bytes], Any]
"""A handler's fast path: the whole body in, media out."""

_JSON_NEEDS_SYNC = (
    'The JSON media handler requires the sync interface to be implemented '
    "even in ASGI applications, because it's used internally by the "
    'framework.'
)


class ReadableIO(Protocol):
    """A synchronous file-like object that can be read from."""

    def read(self, n: int | None = ..., /) -> bytes:
        """Read up to `n` bytes (everything when `n` is omitted)."""
        ...


class AsyncReadableIO(Protocol):
    """An asynchronous file-like object, such as ``req.stream``."""

    async def read(self, n: int | None = ..., /) -> bytes:
        """Read up to `n` bytes (everything when `n` is omitted)."""
        ...


class BaseHandler(metaclass=abc.ABCMeta):  # noqa: B024 - allows register(), as Falcon
    """Base class of the HTTP media handlers.

    A subclass implements ``serialize()`` and ``deserialize()``, the
    synchronous interface. The asynchronous methods that an ASGI app calls
    (``serialize_async()`` and ``deserialize_async()``) default to reading
    the whole body and calling the synchronous ones; override them when the
    handler can do better (e.g. parse a stream incrementally).

    Attributes:
        exhaust_stream: When ``True``, the framework reads what is left of
            the request body after ``deserialize()`` returns, so that the
            connection can be reused. Handlers that may stop reading early
            (multipart forms) set it.
    """

    exhaust_stream: ClassVar[bool] = False

    # NOTE(gyrfalcon): handlers whose serialization needs neither the content
    #   type nor the event loop set these to skip the async machinery; the
    #   framework uses them when they are not None.
    _serialize_sync: SerializeSync | None = None
    _deserialize_sync: DeserializeSync | None = None

    def serialize(self, media: object, content_type: str) -> bytes:
        """Serialize the media object for a response body.

        Args:
            media: The object to serialize (usually ``resp.media``).
            content_type: The response's ``Content-Type``.

        Returns:
            The body.
        """
        if MEDIA_JSON in content_type:
            raise NotImplementedError(_JSON_NEEDS_SYNC)
        raise NotImplementedError()

    async def serialize_async(self, media: object, content_type: str) -> bytes:
        """Serialize the media object, asynchronously.

        The default calls ``serialize()``.

        Args:
            media: The object to serialize.
            content_type: The response's ``Content-Type``.

        Returns:
            The body.
        """
        return self.serialize(media, content_type)

    def deserialize(
        self,
        stream: ReadableIO,
        content_type: str | None,
        content_length: int | None,
    ) -> object:
        """Deserialize a request body read from a file-like object.

        Args:
            stream: The body, as a file-like object.
            content_type: The request's ``Content-Type``.
            content_length: The request's ``Content-Length``, if known.

        Returns:
            The deserialized object.
        """
        if content_type and MEDIA_JSON in content_type:
            raise NotImplementedError(_JSON_NEEDS_SYNC)
        raise NotImplementedError()

    async def deserialize_async(
        self,
        stream: AsyncReadableIO,
        content_type: str | None,
        content_length: int | None,
    ) -> object:
        """Deserialize a request body read from an async stream.

        The default reads the whole body, then calls ``deserialize()`` on it.

        Args:
            stream: The body, as an async file-like object (``req.stream``).
            content_type: The request's ``Content-Type``.
            content_length: The request's ``Content-Length``, if known.

        Returns:
            The deserialized object.
        """
        data = await stream.read()
        return self.deserialize(io.BytesIO(data), content_type, len(data))


class _WholeBodyHandler(BaseHandler):
    """A handler that parses the whole body at once (JSON, MessagePack...).

    Subclasses implement ``_deserialize(body)``, which raises
    ``MediaNotFoundError`` for an empty body and ``MediaMalformedError``
    for an invalid one.
    """

    def _deserialize(self, data: bytes) -> Any:
        raise NotImplementedError()

    def deserialize(
        self,
        stream: ReadableIO,
        content_type: str | None,
        content_length: int | None,
    ) -> Any:
        """Read and parse the whole request body.

        Args:
            stream: The body, as a file-like object.
            content_type: Ignored.
            content_length: Ignored.

        Returns:
            The parsed body.

        Raises:
            MediaNotFoundError: The body is empty.
            MediaMalformedError: The body could not be parsed.
        """
        return self._deserialize(stream.read())

    async def deserialize_async(
        self,
        stream: AsyncReadableIO,
        content_type: str | None,
        content_length: int | None,
    ) -> Any:
        """Read and parse the whole request body from an async stream.

        Args:
            stream: The body, as an async file-like object.
            content_type: Ignored.
            content_length: Ignored.

        Returns:
            The parsed body.

        Raises:
            MediaNotFoundError: The body is empty.
            MediaMalformedError: The body could not be parsed.
        """
        return self._deserialize(await stream.read())


class TextBaseHandlerWS(metaclass=abc.ABCMeta):  # noqa: B024 - allows register(), as Falcon
    """Base class of the media handlers for WebSocket TEXT messages."""

    def serialize(self, media: object) -> str:
        """Serialize an object into the text of a TEXT message.

        Args:
            media: The object to serialize.

        Returns:
            The message text.
        """
        raise NotImplementedError()

    def deserialize(self, payload: str) -> object:
        """Deserialize the text of a TEXT message.

        Args:
            payload: The message text.

        Returns:
            The deserialized object.
        """
        raise NotImplementedError()


class BinaryBaseHandlerWS(metaclass=abc.ABCMeta):  # noqa: B024 - allows register(), as Falcon
    """Base class of the media handlers for WebSocket BINARY messages."""

    def serialize(self, media: object) -> bytes | bytearray | memoryview:
        """Serialize an object into the payload of a BINARY message.

        Args:
            media: The object to serialize.

        Returns:
            The message payload.
        """
        raise NotImplementedError()

    def deserialize(self, payload: bytes) -> object:
        """Deserialize the payload of a BINARY message.

        Args:
            payload: The message payload.

        Returns:
            The deserialized object.
        """
        raise NotImplementedError()
