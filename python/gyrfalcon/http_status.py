"""The ``HTTPStatus`` exception: a short-circuit response that is no error."""

from __future__ import annotations

from .http_error import HeaderArg, ResponseStatus
from .util.misc import http_status_to_code

__all__ = ('HTTPStatus',)


class HTTPStatus(Exception):
    """A response status raised to stop processing the request early.

    Raise it from a hook, middleware or responder, like ``HTTPError``, when
    the status is not an error (a redirect or a ``204``, say): the app
    answers with the status, the headers and the text, and skips whatever
    was left to run. On a WebSocket, the connection is closed with code
    ``3000 + status``.

    Args:
        status: The HTTP status: an ``int``, an ``http.HTTPStatus`` member,
            or a status line such as ``'204 No Content'``.
        headers: Extra response headers (a ``dict`` or a list of pairs).
        text: The response body, encoded as UTF-8.

    Attributes:
        status: The status, as given.
        headers: The extra headers, or ``None``.
        text: The body text, or ``None``.
    """

    def __init__(
        self,
        status: ResponseStatus,
        headers: HeaderArg | None = None,
        text: str | None = None,
    ) -> None:
        self.status = status
        self.headers = headers
        self.text = text

    def __repr__(self) -> str:
        return f'<{type(self).__name__}: {self.status}>'

    @property
    def status_code(self) -> int:
        """The status as an ``int`` code, e.g. ``301``."""
        return http_status_to_code(self.status)
