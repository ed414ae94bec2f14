"""The ``HTTPError`` exception, base class of every HTTP error response."""

from __future__ import annotations

import http
import xml.etree.ElementTree as et
from collections.abc import Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, TypeAlias

from .constants import MEDIA_JSON
from .util import deprecation, uri
from .util.misc import code_to_http_status, http_status_to_code

if TYPE_CHECKING:
    from .media.base import BaseHandler

__all__ = ('HTTPError',)

ResponseStatus: TypeAlias = http.HTTPStatus | str | int
"""A status as ``Response.status`` accepts it: code, line or enum member."""

HeaderArg: TypeAlias = Mapping[str, str] | Iterable[tuple[str, str]]
"""Extra headers: a mapping, or an iterable of ``(name, value)`` pairs."""

Link: TypeAlias = dict[str, str]
"""The ``link`` member of a serialized error: ``text``, ``href``, ``rel``."""


class HTTPError(Exception):
    """An HTTP error, turned into an error response when raised.

    Raise an ``HTTPError`` (or one of the subclasses in
    ``gyrfalcon.errors``) from a responder, hook or middleware, and the app
    answers with its status and a serialized description of the error (JSON
    by default, or XML when the client prefers it). On a WebSocket, the
    connection is closed with code ``3000 + status`` instead.

    To change what is serialized, subclass it and override ``to_dict()``
    (``to_json()`` is built on it); to change how, install an error
    serializer on the app with ``App.set_error_serializer()``.

    Args:
        status: The HTTP status: an ``int``, an ``http.HTTPStatus`` member,
            or a status line such as ``'400 Bad Request'`` (``str`` or
            ``bytes``). This is the only positional argument.

    Keyword Args:
        title: A short, human-friendly title. Defaults to the status line.
        description: A longer explanation, ideally with a suggestion or two
            for the client (default ``None``).
        headers: Extra response headers, as a ``dict`` or a list of
            ``(name, value)`` tuples. A ``Content-Type`` among them is
            overridden by the error serializer.
        href: A URL with more information about the error (default
            ``None``); non-ASCII characters are percent-encoded.
        href_text: The text for the `href` link (default ``'Documentation
            related to this error'``).
        code: An app-specific error code that clients can quote when asking
            for support (default ``None``).

    Attributes:
        status: The status, as given.
        title: The title (the status line when none was given).
        description: The description, or ``None``.
        headers: The extra headers, as given, or ``None``.
        link: A ``dict`` with ``text``, ``href`` and ``rel`` (``'help'``)
            when `href` was given; ``None`` otherwise.
        code: The app-specific error code, or ``None``.
    """

    status: ResponseStatus
    title: str
    description: str | None
    headers: HeaderArg | None
    link: Link | None
    code: int | None

    def __init__(
        self,
        status: ResponseStatus,
        *,
        title: str | None = None,
        description: str | None = None,
        headers: HeaderArg | None = None,
        href: str | None = None,
        href_text: str | None = None,
        code: int | None = None,
    ) -> None:
        self.status = status
        self.title = title or code_to_http_status(status)
        self.description = description
        self.headers = headers
        self.code = code
        if href:
            self.link = {
                'text': href_text or 'Documentation related to this error',
                'href': uri.encode(href),
                'rel': 'help',
            }
        else:
            self.link = None

    def __repr__(self) -> str:
        return f'<{type(self).__name__}: {self.status}>'

    __str__ = __repr__

    @property
    def status_code(self) -> int:
        """The status as an ``int`` code, e.g. ``404``."""
        return http_status_to_code(self.status)

    def to_dict(
        self, obj_type: type[MutableMapping[str, Any]] = dict
    ) -> MutableMapping[str, Any]:
        """Return the error as a ``dict``, ready to serialize.

        Only the members that are set are included, in this order:
        ``title``, ``description``, ``code`` and ``link``.

        Args:
            obj_type: The mapping type to build (default ``dict``).

        Returns:
            A mapping of the error's members.
        """
        obj = obj_type()
        obj['title'] = self.title
        if self.description is not None:
            obj['description'] = self.description
        if self.code is not None:
            obj['code'] = self.code
        if self.link is not None:
            obj['link'] = self.link
        return obj

    def to_json(self, handler: BaseHandler | None = None) -> bytes:
        """Return the error as a JSON document.

        Args:
            handler: The media handler to serialize with. Defaults to the
                framework's default ``JSONHandler``.

        Returns:
            The UTF-8 encoded JSON document built from ``to_dict()``.
        """
        if handler is None:
            # NOTE(gyrfalcon): imported here; the media package imports errors.
            from .media.json import _DEFAULT_JSON_HANDLER

            handler = _DEFAULT_JSON_HANDLER
        return handler.serialize(self.to_dict(), MEDIA_JSON)

    def _to_xml(self) -> bytes:
        """Return the error as an XML document (the non-deprecated path)."""
        root = et.Element('error')
        et.SubElement(root, 'title').text = self.title
        if self.description is not None:
            et.SubElement(root, 'description').text = self.description
        if self.code is not None:
            et.SubElement(root, 'code').text = str(self.code)
        if self.link is not None:
            link = et.SubElement(root, 'link')
            for member in ('text', 'href', 'rel'):
                et.SubElement(link, member).text = self.link[member]
        body: bytes = et.tostring(root, encoding='utf-8', xml_declaration=False)
        return b'<?xml version="1.0" encoding="UTF-8"?>' + body

    @deprecation.deprecated(
        'The internal error serialization to XML is deprecated. '
        'Please serialize the output of to_dict() to XML instead.'
    )
    def to_xml(self) -> bytes:
        """Return the error as an XML document (deprecated, as in Falcon 4).

        Returns:
            The UTF-8 encoded XML document.
        """
        return self._to_xml()
