"""Exceptions raised by Gyrfalcon.

This module is the single exception hierarchy of the project. Both WebSocket
engines (the Rust ``gyrfalcon._native`` module and its pure-Python twin in
``gyrfalcon.protocol._py``) raise these exact classes, and the framework adds
Falcon's WebSocket and HTTP errors next to them.

Engine errors::

    WebSocketError(Exception)          base for every engine error
    ├── ProtocolError                  the peer violated RFC 6455 (.close_code, .reason)
    │   ├── PayloadTooBig              1009
    │   └── InvalidPayloadData         1007
    ├── HandshakeError                 bad opening handshake (.status_hint)
    └── InvalidState                   local misuse: send before accept, after close

The peer's faults never raise out of ``receive_data()``: the engine records
them (``error``) and queues the right Close frame or HTTP response. These
classes exist so that higher layers can turn a recorded failure into an
exception (``ProtocolError.from_error()``), and so that local misuse raises
at once.

Framework errors keep Falcon 4's names, bases and messages: the WebSocket
errors (``WebSocketDisconnected``...), the misuse errors (``UnsupportedError``,
``OperationNotAllowed``, ``HeaderNotSupported``...), and the HTTP errors, all
subclasses of ``gyrfalcon.http_error.HTTPError`` (``HTTPBadRequest``,
``HTTPNotFound``, ``HTTPInvalidParam``, ``MediaMalformedError``...).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import ClassVar, TypedDict, Unpack

from . import status_codes
from .http_error import HeaderArg, HTTPError
from .util.deprecation import deprecated
from .util.misc import dt_to_http

__all__ = [
    'CompatibilityError',
    'DelimiterError',
    'HTTPBadGateway',
    'HTTPBadRequest',
    'HTTPConflict',
    'HTTPContentTooLarge',
    'HTTPError',
    'HTTPFailedDependency',
    'HTTPForbidden',
    'HTTPGatewayTimeout',
    'HTTPGone',
    'HTTPInsufficientStorage',
    'HTTPInternalServerError',
    'HTTPInvalidHeader',
    'HTTPInvalidParam',
    'HTTPLengthRequired',
    'HTTPLocked',
    'HTTPLoopDetected',
    'HTTPMethodNotAllowed',
    'HTTPMissingHeader',
    'HTTPMissingParam',
    'HTTPNetworkAuthenticationRequired',
    'HTTPNotAcceptable',
    'HTTPNotFound',
    'HTTPNotImplemented',
    'HTTPPayloadTooLarge',
    'HTTPPreconditionFailed',
    'HTTPPreconditionRequired',
    'HTTPRangeNotSatisfiable',
    'HTTPRequestHeaderFieldsTooLarge',
    'HTTPRouteNotFound',
    'HTTPServiceUnavailable',
    'HTTPTooManyRequests',
    'HTTPUnauthorized',
    'HTTPUnavailableForLegalReasons',
    'HTTPUnprocessableEntity',
    'HTTPUnsupportedMediaType',
    'HTTPUriTooLong',
    'HTTPVersionNotSupported',
    'HandshakeError',
    'HeaderNotSupported',
    'InvalidMediaRange',
    'InvalidMediaType',
    'InvalidPayloadData',
    'InvalidState',
    'MediaMalformedError',
    'MediaNotFoundError',
    'MediaValidationError',
    'MultipartParseError',
    'OperationNotAllowed',
    'PayloadTooBig',
    'PayloadTypeError',
    'ProtocolError',
    'UnsupportedError',
    'UnsupportedScopeError',
    'WebSocketDisconnected',
    'WebSocketError',
    'WebSocketHandlerNotFound',
    'WebSocketPathNotFound',
    'WebSocketServerError',
]


# --- engine ------------------------------------------------------------------


class WebSocketError(Exception):
    """Base class of every error raised by a WebSocket engine."""


class ProtocolError(WebSocketError):
    """The peer violated RFC 6455.

    Attributes:
        close_code: The close code the engine answers with (1002 unless a
            subclass says otherwise).
        reason: A lowercase message without a trailing period that says what
            was observed, e.g. ``'received unmasked frame from client'``.
    """

    default_close_code = 1002

    def __init__(self, reason: str, close_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.close_code = self.default_close_code if close_code is None else close_code

    @classmethod
    def from_error(cls, code: int, reason: str) -> ProtocolError:
        """Build the most specific exception for an engine's recorded error.

        Args:
            code: The close code from ``connection.error``.
            reason: The reason from ``connection.error``.

        Returns:
            A ``PayloadTooBig`` for 1009, an ``InvalidPayloadData`` for 1007,
            and a plain ``ProtocolError`` otherwise.
        """
        if code == 1009:
            return PayloadTooBig(reason)
        if code == 1007:
            return InvalidPayloadData(reason)
        return ProtocolError(reason, code)


class PayloadTooBig(ProtocolError):
    """A frame or message exceeded a configured size limit (close 1009)."""

    default_close_code = 1009


class InvalidPayloadData(ProtocolError):
    """A TEXT message or a close reason was not valid UTF-8 (close 1007)."""

    default_close_code = 1007


class HandshakeError(WebSocketError):
    """The opening handshake was invalid.

    Attributes:
        status_hint: The HTTP status the server answers with (400 unless the
            fault calls for 405, 414, 426 or 431).
        reason: What was wrong, in the engines' message style.
    """

    def __init__(self, reason: str, status_hint: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status_hint = status_hint


class InvalidState(WebSocketError):
    """An engine method was called in a state that does not allow it.

    This is always the caller's own mistake (sending before ``accept()`` or
    after a close), never the peer's, and it is raised at once.
    """


# --- framework (Falcon's names and semantics) ----------------------------------


class CompatibilityError(ValueError):
    """A component is not compatible with the app (e.g. a sync WS hook)."""


class UnsupportedScopeError(RuntimeError):
    """The ASGI server passed a scope type or version the app cannot handle."""


class UnsupportedError(RuntimeError):
    """The operation is not supported in this context."""


class OperationNotAllowed(ValueError):
    """The operation is not allowed in the object's current state.

    Raised, for example, by a WebSocket method called in the wrong state, or
    by reading a request stream that was closed.
    """


class PayloadTypeError(TypeError):
    """The received WebSocket message was not of the expected payload type."""


class WebSocketDisconnected(ConnectionError):
    """The WebSocket connection is closed, or was lost.

    Because this is a ``ConnectionError``, it is also an ``OSError``, which is
    what ASGI 2.4 servers raise from ``send()`` after a disconnect.

    Args:
        code: The close code. Defaults to 1000.
        reason: The close reason, when the peer or server gave one.

    Attributes:
        code: The close code.
        reason: The close reason (``''`` when none was given).
    """

    def __init__(self, code: int | None = None, reason: str | None = None) -> None:
        self.code: int = code or 1000
        self.reason: str = reason or ''
        message = f'WebSocket disconnected with close code {self.code}'
        if self.reason:
            message += f' ({self.reason})'
        super().__init__(message)


class WebSocketPathNotFound(WebSocketDisconnected):
    """No route matched the WebSocket handshake (close code 3404)."""


class WebSocketHandlerNotFound(WebSocketDisconnected):
    """The matched resource has no ``on_websocket`` responder (3405)."""


class WebSocketServerError(WebSocketDisconnected):
    """The server closed the connection because of an error (1011)."""


class HeaderNotSupported(ValueError):
    """The header cannot be read or set by this method (``Set-Cookie``)."""


class InvalidMediaType(ValueError):
    """A media type could not be parsed into ``type/subtype``."""


class InvalidMediaRange(InvalidMediaType):
    """A media range had an invalid media type or ``q`` value."""


class DelimiterError(OSError):
    """A read did not find the requested stream delimiter."""


# --- HTTP errors (Falcon's classes, statuses and messages) --------------------


class _ErrorKwargs(TypedDict, total=False):
    href: str | None
    href_text: str | None
    code: int | None


def _with_header(headers: HeaderArg | None, name: str, value: str) -> dict[str, str]:
    """Return a copy of `headers` as a ``dict``, with one header set."""
    merged = dict(headers.items() if isinstance(headers, Mapping) else headers or ())
    merged[name] = value
    return merged


def _with_retry_after(
    headers: HeaderArg | None, retry_after: datetime | int | str | None
) -> HeaderArg | None:
    if retry_after is None:
        return headers
    if isinstance(retry_after, datetime):
        return _with_header(headers, 'Retry-After', dt_to_http(retry_after))
    return _with_header(headers, 'Retry-After', str(retry_after))


class _FixedStatusError(HTTPError):
    """An ``HTTPError`` whose status is fixed by its class."""

    _fixed_status: ClassVar[str]

    def __init__(
        self,
        *,
        title: str | None = None,
        description: str | None = None,
        headers: HeaderArg | None = None,
        **kwargs: Unpack[_ErrorKwargs],
    ) -> None:
        super().__init__(
            self._fixed_status,
            title=title,
            description=description,
            headers=headers,
            **kwargs,
        )


class _RetryAfterError(_FixedStatusError):
    """An ``HTTPError`` that can tell the client when to retry."""

    def __init__(
        self,
        *,
        title: str | None = None,
        description: str | None = None,
        retry_after: datetime | int | str | None = None,
        headers: HeaderArg | None = None,
        **kwargs: Unpack[_ErrorKwargs],
    ) -> None:
        super().__init__(
            title=title,
            description=description,
            headers=_with_retry_after(headers, retry_after),
            **kwargs,
        )


class HTTPBadRequest(_FixedStatusError):
    """400 Bad Request: the request is malformed (RFC 9110 §15.5.1).

    Every argument is keyword-only; see ``HTTPError`` for their meaning.
    """

    _fixed_status = status_codes.HTTP_400


class HTTPUnauthorized(_FixedStatusError):
    """401 Unauthorized: authentication is missing or failed (§15.5.2).

    Keyword Args:
        challenges: Authentication challenges for the ``WWW-Authenticate``
            header, such as ``['Bearer realm="api"']``; joined with ``', '``.

    The other arguments are as for ``HTTPError``.
    """

    _fixed_status = status_codes.HTTP_401

    def __init__(
        self,
        *,
        title: str | None = None,
        description: str | None = None,
        headers: HeaderArg | None = None,
        challenges: Iterable[str] | None = None,
        **kwargs: Unpack[_ErrorKwargs],
    ) -> None:
        if challenges:
            headers = _with_header(headers, 'WWW-Authenticate', ', '.join(challenges))
        super().__init__(
            title=title, description=description, headers=headers, **kwargs
        )


class HTTPForbidden(_FixedStatusError):
    """403 Forbidden: the client may not access the resource (§15.5.4)."""

    _fixed_status = status_codes.HTTP_403


class HTTPNotFound(_FixedStatusError):
    """404 Not Found: no current representation of the resource (§15.5.5)."""

    _fixed_status = status_codes.HTTP_404


class HTTPRouteNotFound(HTTPNotFound):
    """404 Not Found, raised by the framework when no route matches."""


class HTTPMethodNotAllowed(_FixedStatusError):
    """405 Method Not Allowed: the resource lacks the method (§15.5.6).

    Args:
        allowed_methods: The methods the resource supports, for the
            ``Allow`` header.

    The other arguments are keyword-only, as for ``HTTPError``.
    """

    _fixed_status = status_codes.HTTP_405

    def __init__(
        self,
        allowed_methods: Iterable[str],
        *,
        title: str | None = None,
        description: str | None = None,
        headers: HeaderArg | None = None,
        **kwargs: Unpack[_ErrorKwargs],
    ) -> None:
        headers = _with_header(headers, 'Allow', ', '.join(allowed_methods))
        super().__init__(
            title=title, description=description, headers=headers, **kwargs
        )


class HTTPNotAcceptable(_FixedStatusError):
    """406 Not Acceptable: no representation the client accepts (§15.5.7)."""

    _fixed_status = status_codes.HTTP_406


class HTTPConflict(_FixedStatusError):
    """409 Conflict: the request conflicts with the resource's state."""

    _fixed_status = status_codes.HTTP_409


class HTTPGone(_FixedStatusError):
    """410 Gone: the resource is gone, and for good (§15.5.11)."""

    _fixed_status = status_codes.HTTP_410


class HTTPLengthRequired(_FixedStatusError):
    """411 Length Required: the request needs a ``Content-Length``."""

    _fixed_status = status_codes.HTTP_411


class HTTPPreconditionFailed(_FixedStatusError):
    """412 Precondition Failed: a conditional header evaluated to false."""

    _fixed_status = status_codes.HTTP_412


class HTTPContentTooLarge(_RetryAfterError):
    """413 Content Too Large: the request body is too large (§15.5.14).

    Keyword Args:
        retry_after: When the client may retry, as a number of seconds or a
            ``datetime``, for the ``Retry-After`` header (default ``None``).

    The other arguments are as for ``HTTPError``.
    """

    _fixed_status = status_codes.HTTP_413


class HTTPPayloadTooLarge(HTTPContentTooLarge):
    """413, under the name RFC 7231 used (deprecated, as in Falcon 4).

    Use ``HTTPContentTooLarge``; this alias warns when it is constructed.
    """

    @deprecated('HTTPPayloadTooLarge is deprecated; use HTTPContentTooLarge instead.')
    def __init__(
        self,
        *,
        title: str | None = None,
        description: str | None = None,
        retry_after: datetime | int | str | None = None,
        headers: HeaderArg | None = None,
        **kwargs: Unpack[_ErrorKwargs],
    ) -> None:
        super().__init__(
            title=title,
            description=description,
            retry_after=retry_after,
            headers=headers,
            **kwargs,
        )


class HTTPUriTooLong(_FixedStatusError):
    """414 URI Too Long: the target URI is longer than allowed."""

    _fixed_status = status_codes.HTTP_414


class HTTPUnsupportedMediaType(_FixedStatusError):
    """415 Unsupported Media Type: the body's format is not supported."""

    _fixed_status = status_codes.HTTP_415


class HTTPRangeNotSatisfiable(_FixedStatusError):
    """416 Range Not Satisfiable: the requested range is out of bounds.

    Args:
        resource_length: The current length of the resource, in bytes, for
            the ``Content-Range: bytes */<length>`` header.

    The other arguments are keyword-only, as for ``HTTPError``.
    """

    _fixed_status = status_codes.HTTP_416

    def __init__(
        self,
        resource_length: int,
        *,
        title: str | None = None,
        description: str | None = None,
        headers: HeaderArg | None = None,
        **kwargs: Unpack[_ErrorKwargs],
    ) -> None:
        headers = _with_header(headers, 'Content-Range', f'bytes */{resource_length}')
        super().__init__(
            title=title, description=description, headers=headers, **kwargs
        )


class HTTPUnprocessableEntity(_FixedStatusError):
    """422 Unprocessable Entity: well-formed, but semantically invalid."""

    _fixed_status = status_codes.HTTP_422


class HTTPLocked(_FixedStatusError):
    """423 Locked: the resource is locked (WebDAV, RFC 4918)."""

    _fixed_status = status_codes.HTTP_423


class HTTPFailedDependency(_FixedStatusError):
    """424 Failed Dependency: a request it depended on failed (WebDAV)."""

    _fixed_status = status_codes.HTTP_424


class HTTPPreconditionRequired(_FixedStatusError):
    """428 Precondition Required: the request must be conditional."""

    _fixed_status = status_codes.HTTP_428


class HTTPTooManyRequests(_RetryAfterError):
    """429 Too Many Requests: the client is rate limited (RFC 6585).

    Keyword Args:
        retry_after: When the client may retry, as a number of seconds or a
            ``datetime``, for the ``Retry-After`` header (default ``None``).

    The other arguments are as for ``HTTPError``.
    """

    _fixed_status = status_codes.HTTP_429


class HTTPRequestHeaderFieldsTooLarge(_FixedStatusError):
    """431 Request Header Fields Too Large (RFC 6585)."""

    _fixed_status = status_codes.HTTP_431


class HTTPUnavailableForLegalReasons(_FixedStatusError):
    """451 Unavailable For Legal Reasons (RFC 7725)."""

    _fixed_status = status_codes.HTTP_451


class HTTPInternalServerError(_FixedStatusError):
    """500 Internal Server Error: an unexpected condition (§15.6.1)."""

    _fixed_status = status_codes.HTTP_500


class HTTPNotImplemented(_FixedStatusError):
    """501 Not Implemented: the server lacks the functionality needed."""

    _fixed_status = status_codes.HTTP_501


class HTTPBadGateway(_FixedStatusError):
    """502 Bad Gateway: an upstream server sent an invalid response."""

    _fixed_status = status_codes.HTTP_502


class HTTPServiceUnavailable(_RetryAfterError):
    """503 Service Unavailable: overloaded or down for maintenance.

    Keyword Args:
        retry_after: When the client may retry, as a number of seconds or a
            ``datetime``, for the ``Retry-After`` header (default ``None``).

    The other arguments are as for ``HTTPError``.
    """

    _fixed_status = status_codes.HTTP_503


class HTTPGatewayTimeout(_FixedStatusError):
    """504 Gateway Timeout: an upstream server did not answer in time."""

    _fixed_status = status_codes.HTTP_504


class HTTPVersionNotSupported(_FixedStatusError):
    """505 HTTP Version Not Supported."""

    _fixed_status = status_codes.HTTP_505


class HTTPInsufficientStorage(_FixedStatusError):
    """507 Insufficient Storage (WebDAV, RFC 4918)."""

    _fixed_status = status_codes.HTTP_507


class HTTPLoopDetected(_FixedStatusError):
    """508 Loop Detected (WebDAV, RFC 5842)."""

    _fixed_status = status_codes.HTTP_508


class HTTPNetworkAuthenticationRequired(_FixedStatusError):
    """511 Network Authentication Required (RFC 6585)."""

    _fixed_status = status_codes.HTTP_511


# --- 400 Bad Request, with a message that names the culprit -------------------


class HTTPInvalidHeader(HTTPBadRequest):
    """400 Bad Request: a request header has an invalid value.

    Args:
        msg: What is wrong with the value; appended to the description.
        header_name: The header's name.

    Keyword Args:
        headers: Extra response headers.
        href, href_text, code: As for ``HTTPError``.
    """

    def __init__(
        self,
        msg: str,
        header_name: str,
        *,
        headers: HeaderArg | None = None,
        **kwargs: Unpack[_ErrorKwargs],
    ) -> None:
        super().__init__(
            title='Invalid header value',
            description=f'The value provided for the "{header_name}" header is '
            f'invalid. {msg}',
            headers=headers,
            **kwargs,
        )


class HTTPMissingHeader(HTTPBadRequest):
    """400 Bad Request: a required request header is missing.

    Args:
        header_name: The header's name.

    Keyword Args:
        headers: Extra response headers.
        href, href_text, code: As for ``HTTPError``.
    """

    def __init__(
        self,
        header_name: str,
        *,
        headers: HeaderArg | None = None,
        **kwargs: Unpack[_ErrorKwargs],
    ) -> None:
        super().__init__(
            title='Missing header value',
            description=f'The "{header_name}" header is required.',
            headers=headers,
            **kwargs,
        )


class HTTPInvalidParam(HTTPBadRequest):
    """400 Bad Request: a parameter (query string or form) is invalid.

    Args:
        msg: What is wrong with the value; appended to the description.
        param_name: The parameter's name.

    Keyword Args:
        headers: Extra response headers.
        href, href_text, code: As for ``HTTPError``.
    """

    def __init__(
        self,
        msg: str,
        param_name: str,
        *,
        headers: HeaderArg | None = None,
        **kwargs: Unpack[_ErrorKwargs],
    ) -> None:
        super().__init__(
            title='Invalid parameter',
            description=f'The "{param_name}" parameter is invalid. {msg}',
            headers=headers,
            **kwargs,
        )


class HTTPMissingParam(HTTPBadRequest):
    """400 Bad Request: a required parameter is missing.

    Args:
        param_name: The parameter's name.

    Keyword Args:
        headers: Extra response headers.
        href, href_text, code: As for ``HTTPError``.
    """

    def __init__(
        self,
        param_name: str,
        *,
        headers: HeaderArg | None = None,
        **kwargs: Unpack[_ErrorKwargs],
    ) -> None:
        super().__init__(
            title='Missing parameter',
            description=f'The "{param_name}" parameter is required.',
            headers=headers,
            **kwargs,
        )


class MediaNotFoundError(HTTPBadRequest):
    """400 Bad Request: the body is empty, so there is no media to parse.

    ``req.get_media(default_when_empty=...)`` returns the default instead
    of raising this.

    Args:
        media_type: The name of the format, e.g. ``'JSON'``.

    Keyword Args:
        headers, href, href_text, code: As for ``HTTPError``.
    """

    def __init__(
        self,
        media_type: str,
        *,
        headers: HeaderArg | None = None,
        **kwargs: Unpack[_ErrorKwargs],
    ) -> None:
        super().__init__(
            title=f'Invalid {media_type}',
            description=f'Could not parse an empty {media_type} body',
            headers=headers,
            **kwargs,
        )


class MediaMalformedError(HTTPBadRequest):
    """400 Bad Request: the body could not be parsed as the media type.

    Raise it ``from`` the parser's exception: the description then ends
    with that exception's message.

    Args:
        media_type: The name of the format, e.g. ``'JSON'``.

    Keyword Args:
        headers, href, href_text, code: As for ``HTTPError``.
    """

    def __init__(
        self,
        media_type: str,
        *,
        headers: HeaderArg | None = None,
        **kwargs: Unpack[_ErrorKwargs],
    ) -> None:
        super().__init__(title=f'Invalid {media_type}', headers=headers, **kwargs)
        self._media_type = media_type

    @property
    def description(self) -> str | None:
        """The description, naming the parser's error when there was one."""
        message = f'Could not parse {self._media_type} body'
        if self.__cause__ is not None:
            message += f' - {self.__cause__}'
        return message

    @description.setter
    def description(self, value: str | None) -> None:
        # NOTE(gyrfalcon): HTTPError.__init__ assigns it; the value is derived.
        pass


class MediaValidationError(HTTPBadRequest):
    """400 Bad Request: the media parsed, but failed validation.

    Every argument is keyword-only; see ``HTTPError``.
    """


class MultipartParseError(MediaMalformedError):
    """400 Bad Request: a ``multipart/form-data`` body is malformed.

    Keyword Args:
        description: What is wrong with the body.
        headers, href, href_text, code: As for ``HTTPError``.
    """

    description = None  # a plain attribute again, not the property

    def __init__(
        self,
        *,
        description: str | None = None,
        headers: HeaderArg | None = None,
        **kwargs: Unpack[_ErrorKwargs],
    ) -> None:
        HTTPBadRequest.__init__(
            self,
            title='Malformed multipart/form-data request media',
            description=description,
            headers=headers,
            **kwargs,
        )
