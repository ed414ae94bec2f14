"""The media handler for HTML forms (``application/x-www-form-urlencoded``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from ..errors import MediaMalformedError
from ..util.uri import parse_query_string
from .base import _WholeBodyHandler

__all__ = ('URLEncodedFormHandler',)


class URLEncodedFormHandler(_WholeBodyHandler):
    """The media handler for URL-encoded HTML forms.

    The body is parsed like a query string: ``await req.get_media()`` gives a
    ``dict`` of names to a ``str``, or to a ``list`` of ``str`` for names
    that occur more than once. An empty body gives an empty ``dict``.

    Keyword Args:
        keep_blank: Keep fields without a value, as empty strings (default
            ``True``).
        csv: Split values on commas into lists (default ``False``).
    """

    def __init__(self, keep_blank: bool = True, csv: bool = False) -> None:
        self._keep_blank = keep_blank
        self._csv = csv
        # NOTE(gyrfalcon): only this exact class offers the fast path, since a
        #   subclass may override serialize() or deserialize().
        if type(self) is URLEncodedFormHandler:
            self._serialize_sync = self.serialize
            self._deserialize_sync = self._deserialize

    def serialize(self, media: Any, content_type: str | None = None) -> bytes:
        """Encode a mapping (or a sequence of pairs) as a form body.

        A value that is a sequence becomes one ``name=value`` pair per item.

        Args:
            media: The fields to encode.
            content_type: Ignored.

        Returns:
            The form body.
        """
        return urlencode(media, doseq=True).encode()

    def _deserialize(self, body: bytes) -> Any:
        try:
            text = body.decode('ascii')
            return parse_query_string(text, keep_blank=self._keep_blank, csv=self._csv)
        except Exception as ex:
            raise MediaMalformedError('URL-encoded') from ex
