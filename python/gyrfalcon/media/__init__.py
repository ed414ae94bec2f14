"""Media handlers: bodies and WebSocket messages to objects, and back.

HTTP handlers (subclasses of ``BaseHandler``) are registered by media type in
``app.req_options.media_handlers`` and ``app.resp_options.media_handlers``
(a ``Handlers`` registry). WebSocket handlers (``TextBaseHandlerWS`` and
``BinaryBaseHandlerWS``) are registered by payload type in
``app.ws_options.media_handlers``.
"""

from __future__ import annotations

from .base import BaseHandler, BinaryBaseHandlerWS, TextBaseHandlerWS
from .handlers import Handlers, MissingDependencyHandler
from .json import JSONHandler, JSONHandlerWS
from .msgpack import MessagePackHandler, MessagePackHandlerWS
from .multipart import MultipartFormHandler
from .urlencoded import URLEncodedFormHandler

__all__ = (
    'BaseHandler',
    'BinaryBaseHandlerWS',
    'Handlers',
    'JSONHandler',
    'JSONHandlerWS',
    'MessagePackHandler',
    'MessagePackHandlerWS',
    'MissingDependencyHandler',
    'MultipartFormHandler',
    'TextBaseHandlerWS',
    'URLEncodedFormHandler',
)
