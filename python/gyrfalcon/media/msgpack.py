"""MessagePack media handlers, for HTTP bodies and WebSocket BINARY messages.

Both need the ``msgpack`` package, which they import when constructed, so an
app that never uses MessagePack does not need it installed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ..errors import MediaMalformedError, MediaNotFoundError
from .base import BinaryBaseHandlerWS, _WholeBodyHandler

__all__ = ('MessagePackHandler', 'MessagePackHandlerWS')


class _Unpackb(Protocol):
    def __call__(self, data: bytes, raw: bool = ...) -> Any: ...


def _load_msgpack() -> tuple[Callable[[Any], bytes], _Unpackb]:
    """Import msgpack; return a packer's ``pack`` and ``unpackb``.

    Strings are packed as the ``str`` type and bytes as ``bin`` (the
    MessagePack 2.0 format), and unpacked back to ``str`` and ``bytes``.
    """
    import msgpack

    packer = msgpack.Packer(autoreset=True, use_bin_type=True)
    return packer.pack, msgpack.unpackb


class MessagePackHandler(_WholeBodyHandler):
    """The MessagePack media handler for HTTP bodies.

    It is not installed by default; register it for the media type your
    clients use (``gyrfalcon.MEDIA_MSGPACK`` is ``application/msgpack``)::

        handler = gyrfalcon.media.MessagePackHandler()
        app.req_options.media_handlers[gyrfalcon.MEDIA_MSGPACK] = handler
        app.resp_options.media_handlers[gyrfalcon.MEDIA_MSGPACK] = handler

    Raises:
        ImportError: ``msgpack`` is not installed (``pip install msgpack``).
    """

    def __init__(self) -> None:
        self._pack, self._unpackb = _load_msgpack()
        # NOTE(gyrfalcon): only this exact class offers the fast path, since a
        #   subclass may override serialize() or deserialize().
        if type(self) is MessagePackHandler:
            self._serialize_sync = self._pack
            self._deserialize_sync = self._deserialize

    def _deserialize(self, data: bytes) -> Any:
        if not data:
            raise MediaNotFoundError('MessagePack')
        try:
            return self._unpackb(data, raw=False)
        except ValueError as ex:
            raise MediaMalformedError('MessagePack') from ex

    def serialize(self, media: Any, content_type: str | None = None) -> bytes:
        """Serialize the media object to MessagePack.

        Args:
            media: The object to serialize.
            content_type: Ignored.

        Returns:
            The packed bytes.
        """
        return self._pack(media)


class MessagePackHandlerWS(BinaryBaseHandlerWS):
    """The MessagePack media handler for WebSocket BINARY messages.

    It is the default BINARY handler of ``ws.send_media()`` and
    ``ws.receive_media()`` when ``msgpack`` is installed. Unpacking errors
    (``ValueError`` subclasses) propagate to the app unchanged.

    Raises:
        ImportError: ``msgpack`` is not installed (``pip install msgpack``).
    """

    __slots__ = ('_pack', '_unpackb')

    def __init__(self) -> None:
        self._pack, self._unpackb = _load_msgpack()

    def serialize(self, media: object) -> bytes:
        """Pack an object into the payload of a BINARY message.

        Args:
            media: The object to pack.

        Returns:
            The packed bytes.
        """
        return self._pack(media)

    def deserialize(self, payload: bytes) -> Any:
        """Unpack the payload of a BINARY message.

        Args:
            payload: The message payload.

        Returns:
            The unpacked object.
        """
        return self._unpackb(payload, raw=False)
