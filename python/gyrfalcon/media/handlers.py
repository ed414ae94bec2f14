"""The registry of HTTP media handlers, and a placeholder for missing ones."""

from __future__ import annotations

import functools
from collections import UserDict
from collections.abc import Mapping
from typing import Any, Literal, NoReturn, Protocol, overload

from .. import errors
from ..constants import MEDIA_JSON, MEDIA_MULTIPART, MEDIA_URLENCODED
from ..util import mediatypes
from .base import BaseHandler, BinaryBaseHandlerWS, DeserializeSync, SerializeSync
from .json import JSONHandler
from .multipart import MultipartFormHandler
from .urlencoded import URLEncodedFormHandler

__all__ = ('Handlers', 'MissingDependencyHandler')

_Resolved = tuple[BaseHandler, SerializeSync | None, DeserializeSync | None]


class MissingDependencyHandler(BinaryBaseHandlerWS):
    """A stand-in for a handler whose library is not installed.

    It can be constructed and registered, but any use raises a
    ``RuntimeError`` that names the library and how to install it. The
    default BINARY WebSocket handler is one of these when ``msgpack`` is
    missing.

    Args:
        handler: What the handler is, for the message (e.g. ``'default
            WebSocket media handler for BINARY payloads'``).
        library: The name of the missing library (e.g. ``'msgpack'``).
    """

    def __init__(self, handler: str, library: str) -> None:
        self._msg = (
            f'The {handler} requires the {library} library, which is not '
            f'installed. Install it with: pip install {library}'
        )

    def _raise(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Raise ``RuntimeError``: the library this handler needs is missing.

        ``serialize()`` and ``deserialize()`` are both this method.

        Raises:
            RuntimeError: Always, naming the library and how to install it.
        """
        raise RuntimeError(self._msg)

    serialize = deserialize = _raise


class _Resolver(Protocol):
    @overload
    def __call__(
        self, media_type: str | None, default: str, raise_not_found: Literal[True] = ...
    ) -> _Resolved: ...

    @overload
    def __call__(
        self, media_type: str | None, default: str, raise_not_found: bool
    ) -> _Resolved | tuple[None, None, None]: ...

    def cache_clear(self) -> None: ...


def _closest(media_type: str, candidates: tuple[str, ...]) -> str:
    """Return the registered media type that best matches `media_type`."""
    try:
        return mediatypes.best_match(candidates, media_type)
    except ValueError:
        return ''


class Handlers(UserDict[str, BaseHandler]):
    """The media handlers of requests or responses, keyed by media type.

    The defaults handle JSON (``application/json``), multipart forms
    (``multipart/form-data``) and URL-encoded forms
    (``application/x-www-form-urlencoded``). Add or replace handlers like
    ``dict`` items::

        app.req_options.media_handlers['application/msgpack'] = (
            gyrfalcon.media.MessagePackHandler()
        )

    A media type with parameters (``application/json; charset=utf-8``) or a
    more specific one (``application/vnd.api+json``, if registered as a key)
    finds its handler by ``Accept``-style matching against the keys.

    Args:
        initial: The handlers to start with, instead of the defaults.
    """

    def __init__(self, initial: Mapping[str, BaseHandler] | None = None) -> None:
        self._resolve: _Resolver = self._create_resolver()
        handlers = initial or {
            MEDIA_JSON: JSONHandler(),
            MEDIA_MULTIPART: MultipartFormHandler(),
            MEDIA_URLENCODED: URLEncodedFormHandler(),
        }
        super().__init__(handlers)

    def __setitem__(self, key: str, value: BaseHandler) -> None:
        super().__setitem__(key, value)
        self._resolve.cache_clear()

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._resolve.cache_clear()

    def _create_resolver(self) -> _Resolver:
        @functools.lru_cache(maxsize=64)
        def resolve(
            media_type: str | None, default: str, raise_not_found: bool = True
        ) -> _Resolved | tuple[None, None, None]:
            """Find the handler for a media type.

            An empty type or ``*/*`` means `default`. The exact key wins;
            otherwise the key that best matches the type (as if it were an
            ``Accept`` header) does.

            Returns:
                ``(handler, serialize_sync, deserialize_sync)``; the last two
                are the handler's fast paths, or ``None``.

            Raises:
                HTTPUnsupportedMediaType: No handler matches and
                    `raise_not_found` is set (otherwise ``(None, None,
                    None)`` is returned).
            """
            if not media_type or media_type == '*/*':
                media_type = default

            handler = self.data.get(media_type)
            if handler is None:
                key = _closest(media_type, tuple(self.data))
                if not key:
                    if raise_not_found:
                        raise errors.HTTPUnsupportedMediaType(
                            description=f'{media_type} is an unsupported media type.'
                        )
                    return None, None, None
                handler = self.data[key]

            return (
                handler,
                getattr(handler, '_serialize_sync', None),
                getattr(handler, '_deserialize_sync', None),
            )

        return resolve  # type: ignore[return-value]  # lru_cache wrapper

    def copy(self) -> Handlers:
        """Return a shallow copy (the handler objects are shared).

        Returns:
            A new registry of the same type.
        """
        return type(self)(self.data)
