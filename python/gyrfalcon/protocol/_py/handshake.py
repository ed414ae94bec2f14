"""The opening handshake: HTTP/1.1 heads in, checked; responses out.

The twin of ``rust/src/handshake.rs``. It holds the incremental head parser
shared by both roles (RFC 9112 lines with CRLF endings, limits checked as
soon as the received bytes prove them exceeded), the server's request checks
(RFC 6455 §4.2.1, in the contract's order), the extension offer parser
(§9.1), the client's response checks (§4.1), and the builders of every head
the engines send. Nothing here keeps connection state.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from urllib.parse import unquote_to_bytes

from ...errors import HandshakeError
from ..common import ExtensionOffer, Request, Response

__all__ = [
    'GUID',
    'HeadParser',
    'accept_key',
    'accept_response',
    'check_client_request',
    'check_headers',
    'client_request',
    'failure_response',
    'header_pairs',
    'parse_extensions',
    'parse_subprotocols',
    'phrase',
    'reject_head',
    'split_target',
    'validate_request',
    'validate_response',
]

GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
"""RFC 6455 §1.3: the GUID appended to the key to compute the accept key."""

Headers = Sequence[tuple[bytes, bytes]]

# RFC 9110 §5.6.2: tchar.
_TCHAR = (
    b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
# RFC 9110 §5.5: field-value bytes (HTAB, SP, VCHAR, obs-text).
_FIELD_BYTES = bytes([0x09, *range(0x20, 0x7F), *range(0x80, 0x100)])
# RFC 9112 §3.2: origin-form targets, restricted by the contract to VCHAR.
_TARGET_BYTES = bytes(range(0x21, 0x7F))
_DIGITS = b'0123456789'
_BASE64 = b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
# The 22nd character of the base64 of 16 bytes carries 2 data bits and 4
# zero bits when the encoding is canonical.
_BASE64_LAST = b'AQgw'
_OWS = b' \t'
_CR = 0x0D

# NOTE(gyrfalcon): http.HTTPStatus as of CPython 3.11, frozen here so that
#   the twin answers the same on every Python version (3.13 renamed 413 and
#   422, for example) and matches the Rust table byte for byte.
_PHRASES: dict[int, str] = {
    100: 'Continue', 101: 'Switching Protocols', 102: 'Processing',
    103: 'Early Hints', 200: 'OK', 201: 'Created', 202: 'Accepted',
    203: 'Non-Authoritative Information', 204: 'No Content',
    205: 'Reset Content', 206: 'Partial Content', 207: 'Multi-Status',
    208: 'Already Reported', 226: 'IM Used', 300: 'Multiple Choices',
    301: 'Moved Permanently', 302: 'Found', 303: 'See Other',
    304: 'Not Modified', 305: 'Use Proxy', 307: 'Temporary Redirect',
    308: 'Permanent Redirect', 400: 'Bad Request', 401: 'Unauthorized',
    402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found',
    405: 'Method Not Allowed', 406: 'Not Acceptable',
    407: 'Proxy Authentication Required', 408: 'Request Timeout',
    409: 'Conflict', 410: 'Gone', 411: 'Length Required',
    412: 'Precondition Failed', 413: 'Request Entity Too Large',
    414: 'Request-URI Too Long', 415: 'Unsupported Media Type',
    416: 'Requested Range Not Satisfiable', 417: 'Expectation Failed',
    418: "I'm a Teapot", 421: 'Misdirected Request',
    422: 'Unprocessable Entity', 423: 'Locked', 424: 'Failed Dependency',
    425: 'Too Early', 426: 'Upgrade Required', 428: 'Precondition Required',
    429: 'Too Many Requests', 431: 'Request Header Fields Too Large',
    451: 'Unavailable For Legal Reasons', 500: 'Internal Server Error',
    501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
    504: 'Gateway Timeout', 505: 'HTTP Version Not Supported',
    506: 'Variant Also Negotiates', 507: 'Insufficient Storage',
    508: 'Loop Detected', 510: 'Not Extended',
    511: 'Network Authentication Required',
}  # fmt: skip


def phrase(status: int) -> str:
    """Return the reason phrase for a status code (CPython 3.11's table).

    Args:
        status: An HTTP status code.

    Returns:
        The phrase, or ``''`` for a code the table does not know.
    """
    return _PHRASES.get(status, '')


def accept_key(key: str) -> str:
    """Compute ``Sec-WebSocket-Accept`` for a ``Sec-WebSocket-Key``.

    RFC 6455 §4.2.2: base64 of the SHA-1 of the key followed by the GUID.

    Args:
        key: The client's key, as sent.

    Returns:
        The 28-character accept value.

    Raises:
        TypeError: `key` is not a ``str``.
    """
    if not isinstance(key, str):
        raise TypeError(f'key must be a str, not {type(key).__name__}')
    digest = hashlib.sha1((key + GUID).encode('utf-8')).digest()
    return base64.b64encode(digest).decode('ascii')


def _is_token(data: bytes) -> bool:
    return bool(data) and not data.translate(None, _TCHAR)


def _is_field_value(data: bytes) -> bool:
    return not data.translate(None, _FIELD_BYTES)


def _is_version(data: bytes) -> bool:
    # RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT (case-sensitive).
    return (
        len(data) == 8
        and data.startswith(b'HTTP/')
        and data[5] in _DIGITS
        and data[6] == 0x2E
        and data[7] in _DIGITS
    )


def _text(data: bytes) -> str:
    return data.decode('utf-8', 'replace')


# --- the head parser ---------------------------------------------------------


class HeadParser:
    """An incremental parser for the head of an HTTP/1.1 request or response.

    Feed bytes with ``feed()`` until it returns the offset where the head
    ended. Each byte is scanned once, and at most one line is buffered, so a
    head trickled one byte at a time costs linear time and at most
    ``max_header_line + 1`` bytes of memory.

    Lines end with CRLF. A line is checked when its LF arrives, except its
    length, which is checked as soon as the bytes prove it too long. The
    errors are those of the contract's tables, by role.

    Args:
        is_request: True to parse a request (server role), False for a
            response (client role).
        max_start_line: Longest request or status line, excluding CRLF.
        max_header_line: Longest header line, excluding CRLF.
        max_headers: Most header lines.

    Attributes:
        start: The parsed start line: ``(method, target, version)`` for a
            request, ``(version, status, reason)`` for a response; ``None``
            until it is complete.
        headers: The header lines parsed so far, values stripped.
    """

    __slots__ = (
        '_is_request',
        '_line',
        '_max_header_line',
        '_max_headers',
        '_max_start_line',
        'headers',
        'start',
    )

    def __init__(
        self,
        is_request: bool,
        max_start_line: int,
        max_header_line: int,
        max_headers: int,
    ) -> None:
        self._is_request = is_request
        self._max_start_line = max_start_line
        self._max_header_line = max_header_line
        self._max_headers = max_headers
        self._line = bytearray()
        self.start: tuple[bytes, bytes, bytes] | None = None
        self.headers: list[tuple[bytes, bytes]] = []

    def feed(self, data: bytes, pos: int = 0) -> int:
        """Parse more of the head.

        Args:
            data: Bytes received from the peer.
            pos: Where the unparsed bytes start in `data`.

        Returns:
            The offset in `data` just after the blank line that ends the
            head, or ``-1`` when every byte was consumed and the head is
            still incomplete.

        Raises:
            HandshakeError: A limit is exceeded or a line is malformed. Its
                ``status_hint`` is the status a server answers with.
        """
        while True:
            newline = data.find(b'\n', pos)
            if newline < 0:
                if pos < len(data):
                    self._check_partial_line(len(data) - pos, data[-1])
                    self._line += data[pos:]
                return -1
            if self._line:
                self._line += data[pos:newline]
                line = bytes(self._line)
                self._line.clear()
            else:
                line = data[pos:newline]
            pos = newline + 1
            if self._complete_line(line):
                return pos

    def _check_partial_line(self, added: int, last: int) -> None:
        # Checked before the bytes are kept. A trailing CR may be the first
        # half of the CRLF; any other byte proves the line that long.
        size = len(self._line) + added
        if last == _CR:
            size -= 1
        if self.start is None:
            if size > self._max_start_line:
                raise self._start_line_too_long()
        elif size > self._max_header_line:
            raise self._header_line_too_long()

    def _complete_line(self, line: bytes) -> bool:
        crlf = line.endswith(b'\r')
        content = line[:-1] if crlf else line
        if self.start is None:
            if len(content) > self._max_start_line:
                raise self._start_line_too_long()
            start = self._parse_start_line(content) if crlf else None
            if start is None:
                raise self._invalid_start_line()
            self.start = start
            return False
        if crlf and not content:
            return True
        if len(content) > self._max_header_line:
            raise self._header_line_too_long()
        if len(self.headers) >= self._max_headers:
            raise self._too_many_headers()
        header = _parse_header_line(content) if crlf else None
        if header is None:
            raise HandshakeError('invalid HTTP header', 400)
        self.headers.append(header)
        return False

    def _parse_start_line(self, line: bytes) -> tuple[bytes, bytes, bytes] | None:
        if self._is_request:
            # RFC 9112 §3: method SP request-target SP HTTP-version.
            parts = line.split(b' ')
            if len(parts) != 3:
                return None
            method, target, version = parts
            if not (
                _is_token(method)
                and target.startswith(b'/')
                and not target.translate(None, _TARGET_BYTES)
                and _is_version(version)
            ):
                return None
            return method, target, version
        # RFC 9112 §4: HTTP-version SP status-code SP [ reason-phrase ]; the
        # bare "HTTP/1.1 101" some servers send is accepted too.
        version, _, rest = line.partition(b' ')
        status, space, reason = rest.partition(b' ')
        if not (
            _is_version(version)
            and len(status) == 3
            and not status.translate(None, _DIGITS)
            and (space or not reason)
            and _is_field_value(reason)
        ):
            return None
        return version, status, reason

    def _start_line_too_long(self) -> HandshakeError:
        kind = 'request' if self._is_request else 'status'
        return HandshakeError(f'{kind} line exceeds {self._max_start_line} bytes', 414)

    def _invalid_start_line(self) -> HandshakeError:
        kind = 'request' if self._is_request else 'status'
        return HandshakeError(f'invalid HTTP {kind} line', 400)

    def _header_line_too_long(self) -> HandshakeError:
        return HandshakeError(f'header line exceeds {self._max_header_line} bytes', 431)

    def _too_many_headers(self) -> HandshakeError:
        kind = 'request' if self._is_request else 'response'
        return HandshakeError(f'{kind} has more than {self._max_headers} headers', 431)


def _parse_header_line(line: bytes) -> tuple[bytes, bytes] | None:
    # RFC 9112 §5: field-name ":" OWS field-value OWS. A line that starts
    # with whitespace (obsolete folding) has no valid name.
    name, colon, value = line.partition(b':')
    if not colon or not _is_token(name) or not _is_field_value(value):
        return None
    return name, value.strip(_OWS)


# --- server: checking the request --------------------------------------------


def _collect(headers: Sequence[tuple[bytes, bytes]]) -> dict[bytes, list[bytes]]:
    found: dict[bytes, list[bytes]] = {}
    for name, value in headers:
        found.setdefault(name.lower(), []).append(value)
    return found


def _has_token(values: list[bytes], token: bytes) -> bool:
    # RFC 9110 §5.6.1: a comma-separated list, possibly across several
    # header lines; tokens compare case-insensitively here.
    return any(
        item.strip(_OWS).lower() == token
        for value in values
        for item in value.split(b',')
    )


def _is_canonical_key(key: bytes) -> bool:
    # RFC 6455 §4.2.1: base64 of a 16-byte value, which is 22 characters and
    # "==", the last character holding 2 data bits.
    return (
        len(key) == 24
        and key.endswith(b'==')
        and not key[:22].translate(None, _BASE64)
        and key[21] in _BASE64_LAST
    )


def split_target(target: bytes) -> tuple[str, bytes, bytes]:
    """Split a request-target into its path and query string.

    Args:
        target: The raw request-target, e.g. ``b'/chat%20room?x=1'``.

    Returns:
        ``(path, raw_path, query_string)``: the path percent-decoded and
        UTF-8 decoded (invalid sequences become U+FFFD, invalid escapes stay
        literal, as ``urllib.parse.unquote`` does), the raw path, and what
        follows the first ``?``.
    """
    raw_path, _, query_string = target.partition(b'?')
    path = unquote_to_bytes(raw_path).decode('utf-8', 'replace')
    return path, raw_path, query_string


def validate_request(
    method: str,
    target: bytes,
    http_version: str,
    headers: Sequence[tuple[bytes, bytes]],
) -> Request:
    """Check an upgrade request whose head is complete (checks 6–13).

    Args:
        method: The request method.
        target: The raw request-target.
        http_version: The version without its prefix, e.g. ``'1.1'``.
        headers: Every header, values stripped.

    Returns:
        The request, for ``ServerConnection.request``.

    Raises:
        HandshakeError: The first failed check, in the contract's order,
            with the status to answer.
    """
    if http_version != '1.1':
        raise HandshakeError('unsupported HTTP version', 400)
    # RFC 6455 §4.1: the method of the request MUST be GET.
    if method != 'GET':
        raise HandshakeError('HTTP method must be GET', 405)
    found = _collect(headers)
    hosts = found.get(b'host', [])
    if not hosts:
        raise HandshakeError('missing Host header', 400)
    if len(hosts) > 1:
        raise HandshakeError('more than one Host header', 400)
    upgrade = found.get(b'upgrade')
    if not upgrade:
        raise HandshakeError('missing Upgrade header', 426)
    if not _has_token(upgrade, b'websocket'):
        raise HandshakeError('invalid Upgrade header', 426)
    connection = found.get(b'connection')
    if not connection:
        raise HandshakeError('missing Connection header', 426)
    if not _has_token(connection, b'upgrade'):
        raise HandshakeError('invalid Connection header', 426)
    # RFC 6455 §4.4: an unsupported version is answered with 426 and the
    # versions we speak.
    versions = found.get(b'sec-websocket-version', [])
    if not versions:
        raise HandshakeError('missing Sec-WebSocket-Version header', 426)
    if len(versions) > 1:
        raise HandshakeError('more than one Sec-WebSocket-Version header', 426)
    if versions[0].strip(_OWS) != b'13':
        raise HandshakeError('unsupported Sec-WebSocket-Version header', 426)
    keys = found.get(b'sec-websocket-key', [])
    if not keys:
        raise HandshakeError('missing Sec-WebSocket-Key header', 400)
    if len(keys) > 1:
        raise HandshakeError('more than one Sec-WebSocket-Key header', 400)
    key = keys[0]
    if not _is_canonical_key(key):
        raise HandshakeError('invalid Sec-WebSocket-Key header', 400)
    extensions = parse_extensions(found.get(b'sec-websocket-extensions', []))
    path, raw_path, query_string = split_target(target)
    return Request(
        method=method,
        target=target,
        path=path,
        raw_path=raw_path,
        query_string=query_string,
        http_version='1.1',
        headers=tuple(headers),
        key=key.decode('ascii'),
        subprotocols=parse_subprotocols(found.get(b'sec-websocket-protocol', [])),
        extensions=extensions,
    )


def parse_subprotocols(values: Sequence[bytes]) -> tuple[str, ...]:
    """Split ``Sec-WebSocket-Protocol`` values into the offered names.

    Args:
        values: Every ``Sec-WebSocket-Protocol`` value, in order.

    Returns:
        The names, comma-split, stripped of spaces and tabs, empty elements
        skipped, decoded as UTF-8 (U+FFFD for invalid sequences). This never
        fails.
    """
    names: list[str] = []
    for value in values:
        for item in value.split(b','):
            name = item.strip(_OWS)
            if name:
                names.append(_text(name))
    return tuple(names)


class _Cursor:
    """Reads one ``Sec-WebSocket-Extensions`` value, byte by byte."""

    __slots__ = ('data', 'pos')

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def peek(self) -> int:
        return self.data[self.pos] if self.pos < len(self.data) else -1

    def skip_ows(self) -> None:
        data = self.data
        while self.pos < len(data) and data[self.pos] in _OWS:
            self.pos += 1

    def token(self) -> str:
        data = self.data
        start = self.pos
        while self.pos < len(data) and data[self.pos] in _TCHAR:
            self.pos += 1
        if self.pos == start:
            raise _invalid_extensions()
        return data[start : self.pos].decode('ascii')

    def quoted_string(self) -> str:
        # RFC 9110 §5.6.4: DQUOTE *( qdtext / quoted-pair ) DQUOTE.
        data = self.data
        out = bytearray()
        self.pos += 1
        while self.pos < len(data):
            byte = data[self.pos]
            self.pos += 1
            if byte == 0x22:
                # RFC 6455 §9.1: a quoted value must be a token once unquoted.
                if not _is_token(bytes(out)):
                    raise _invalid_extensions()
                return out.decode('ascii')
            if byte == 0x5C:
                if self.pos == len(data):
                    break
                byte = data[self.pos]
                self.pos += 1
            if byte not in _FIELD_BYTES:
                break
            out.append(byte)
        raise _invalid_extensions()


def _invalid_extensions() -> HandshakeError:
    return HandshakeError('invalid Sec-WebSocket-Extensions header', 400)


def parse_extensions(values: Sequence[bytes]) -> tuple[ExtensionOffer, ...]:
    """Parse ``Sec-WebSocket-Extensions`` offers (RFC 6455 §9.1).

    The grammar is ``1#( token *( OWS ";" OWS token [ "=" ( token /
    quoted-string ) ] ) )`` across all the values in order; empty list
    elements are skipped, and a quoted value must be a token once unquoted.

    Args:
        values: Every ``Sec-WebSocket-Extensions`` value, in order.

    Returns:
        The offers in order, each ``(name, ((param, value or None), ...))``.

    Raises:
        HandshakeError: A value does not follow the grammar (400).
    """
    offers: list[ExtensionOffer] = []
    for value in values:
        cursor = _Cursor(value)
        while True:
            cursor.skip_ows()
            byte = cursor.peek()
            if byte < 0:
                break
            if byte == 0x2C:
                cursor.pos += 1
                continue
            name = cursor.token()
            params: list[tuple[str, str | None]] = []
            cursor.skip_ows()
            while cursor.peek() == 0x3B:
                cursor.pos += 1
                cursor.skip_ows()
                param = cursor.token()
                param_value: str | None = None
                if cursor.peek() == 0x3D:
                    cursor.pos += 1
                    if cursor.peek() == 0x22:
                        param_value = cursor.quoted_string()
                    else:
                        param_value = cursor.token()
                params.append((param, param_value))
                cursor.skip_ows()
            if cursor.peek() not in (-1, 0x2C):
                raise _invalid_extensions()
            offers.append((name, tuple(params)))
    return tuple(offers)


# --- building heads ----------------------------------------------------------


def header_pairs(headers: Sequence[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Check the types of headers given by the caller.

    Args:
        headers: ``(name, value)`` pairs of ``bytes``.

    Returns:
        The headers as a list of pairs.

    Raises:
        TypeError: An item is not a pair of ``bytes``.
    """
    pairs: list[tuple[bytes, bytes]] = []
    for item in headers:
        if (
            not isinstance(item, tuple)
            or len(item) != 2
            or not isinstance(item[0], bytes)
            or not isinstance(item[1], bytes)
        ):
            raise TypeError('headers must be (bytes, bytes) pairs')
        pairs.append(item)
    return pairs


def check_headers(
    headers: Sequence[tuple[bytes, bytes]],
    *,
    allow_protocol: bool,
    allow_extensions: bool,
) -> None:
    """Validate headers that the caller wants us to send, in order.

    Args:
        headers: ``(name, value)`` pairs, from ``header_pairs()``.
        allow_protocol: False to refuse ``Sec-WebSocket-Protocol`` (in
            ``accept()``, which has its own argument for it).
        allow_extensions: False to refuse ``Sec-WebSocket-Extensions`` (in
            ``accept()`` and the client's request: the engine negotiates
            extensions). A denial allows both.

    Raises:
        ValueError: A name is not a token (``'invalid header name'``), a
            value contains CR, LF or NUL (``'invalid header value'``), or
            ``Sec-WebSocket-Protocol`` or ``Sec-WebSocket-Extensions`` is
            given when not allowed.
    """
    for name, value in headers:
        if not _is_token(name):
            raise ValueError('invalid header name')
        if b'\r' in value or b'\n' in value or b'\0' in value:
            raise ValueError('invalid header value')
        lowered = name.lower()
        if not allow_protocol and lowered == b'sec-websocket-protocol':
            raise ValueError('set the subprotocol with the subprotocol argument')
        if not allow_extensions and lowered == b'sec-websocket-extensions':
            raise ValueError('set extensions with the compression options')


def check_client_request(
    host: str,
    target: str,
    subprotocols: Sequence[str],
    headers: Sequence[tuple[bytes, bytes]],
    origin: str | None,
) -> None:
    """Validate what a client puts in its request, in argument order.

    Nothing is encoded or escaped on the way out, so a CR or LF here would
    end a line of the request early and let the caller's data inject
    headers (RFC 9112 §2.2; RFC 9110 §5.5).

    Args:
        host: The ``Host`` value.
        target: The request-target.
        subprotocols: The subprotocols to offer.
        headers: Extra headers, from ``header_pairs()``.
        origin: The ``Origin`` value, or ``None``.

    Raises:
        ValueError: `host` contains CR, LF or NUL (``'invalid host'``),
            `target` is not in origin form or has a byte outside visible
            ASCII (``'invalid request target'``), a subprotocol is not a
            token (``'invalid subprotocol'``), a header is invalid (see
            ``check_headers()``), or `origin` contains CR, LF or NUL
            (``'invalid origin'``).
    """
    if _breaks_line(host):
        raise ValueError('invalid host')
    # RFC 9112 §3.2.1: origin-form; the caller percent-encodes the rest.
    data = target.encode('utf-8')
    if not data.startswith(b'/') or data.translate(None, _TARGET_BYTES):
        raise ValueError('invalid request target')
    for name in subprotocols:
        # RFC 6455 §4.1: each subprotocol is a token (RFC 9110 §5.6.2).
        if not name.isascii() or not _is_token(name.encode('ascii')):
            raise ValueError('invalid subprotocol')
    check_headers(headers, allow_protocol=True, allow_extensions=False)
    if origin is not None and _breaks_line(origin):
        raise ValueError('invalid origin')


def _breaks_line(value: str) -> bool:
    return '\r' in value or '\n' in value or '\0' in value


def _header_lines(headers: Sequence[tuple[bytes, bytes]]) -> bytes:
    return b''.join(name + b': ' + value + b'\r\n' for name, value in headers)


def failure_response(status: int, message: str) -> bytes:
    """Build the response a server sends for a failed handshake.

    Args:
        status: The HTTP status of the failed check.
        message: The check's message, which also goes into the body.

    Returns:
        The whole response, head and ``text/plain`` body.
    """
    body = f'Failed to open a WebSocket connection: {message}.\n'.encode()
    head = f'HTTP/1.1 {status} {phrase(status)}\r\n'
    head += 'Content-Type: text/plain; charset=utf-8\r\n'
    if status == 405:
        head += 'Allow: GET\r\n'
    elif status == 426:
        # RFC 6455 §4.4 for the version; RFC 9110 §15.5.22 for the others.
        if 'Sec-WebSocket-Version' in message:
            head += 'Sec-WebSocket-Version: 13\r\n'
        else:
            head += 'Upgrade: websocket\r\n'
    head += f'Content-Length: {len(body)}\r\nConnection: close\r\n\r\n'
    return head.encode() + body


def accept_response(
    key: str,
    subprotocol: str | None,
    extensions: str | None,
    headers: Sequence[tuple[bytes, bytes]],
) -> bytes:
    """Build the 101 response that accepts a handshake (RFC 6455 §4.2.2).

    Args:
        key: The request's ``Sec-WebSocket-Key``.
        subprotocol: The selected subprotocol, or ``None``.
        extensions: The ``Sec-WebSocket-Extensions`` value (the accepted
            extension), or ``None``.
        headers: Extra headers, already checked.

    Returns:
        The response head.
    """
    head = (
        'HTTP/1.1 101 Switching Protocols\r\n'
        'Upgrade: websocket\r\n'
        'Connection: Upgrade\r\n'
        f'Sec-WebSocket-Accept: {accept_key(key)}\r\n'
    ).encode()
    if subprotocol is not None:
        head += b'Sec-WebSocket-Protocol: ' + subprotocol.encode() + b'\r\n'
    if extensions is not None:
        head += b'Sec-WebSocket-Extensions: ' + extensions.encode() + b'\r\n'
    return head + _header_lines(headers) + b'\r\n'


def reject_head(
    status: int,
    headers: Sequence[tuple[bytes, bytes]],
    content_length: int | None,
) -> bytes:
    """Build the head of a response that denies a handshake.

    Args:
        status: The status, already checked.
        headers: The caller's headers, already checked.
        content_length: The body length for a ``Content-Length`` header, or
            ``None`` for ``Transfer-Encoding: chunked``. Neither is added
            when the caller gave a content-length header.

    Returns:
        The head, ending with the blank line.
    """
    names = {name.lower() for name, _ in headers}
    head = f'HTTP/1.1 {status} {phrase(status)}\r\n'.encode()
    head += _header_lines(headers)
    if b'content-length' not in names:
        if content_length is None:
            head += b'Transfer-Encoding: chunked\r\n'
        else:
            head += b'Content-Length: %d\r\n' % content_length
    if b'connection' not in names:
        head += b'Connection: close\r\n'
    return head + b'\r\n'


def client_request(
    host: str,
    target: str,
    key: str,
    origin: str | None,
    subprotocols: Sequence[str],
    extensions: str | None,
    headers: Sequence[tuple[bytes, bytes]],
) -> bytes:
    """Build the client's upgrade request (RFC 6455 §4.1).

    Args:
        host: The ``Host`` value.
        target: The request-target.
        key: The base64 ``Sec-WebSocket-Key``.
        origin: The ``Origin`` value, or ``None`` to leave it out.
        subprotocols: The subprotocols to offer, in order of preference.
        extensions: The ``Sec-WebSocket-Extensions`` offer, or ``None``.
        headers: Extra headers, already checked.

    Returns:
        The request head.
    """
    head = (
        f'GET {target} HTTP/1.1\r\n'
        f'Host: {host}\r\n'
        'Upgrade: websocket\r\n'
        'Connection: Upgrade\r\n'
        f'Sec-WebSocket-Key: {key}\r\n'
        'Sec-WebSocket-Version: 13\r\n'
    )
    if origin is not None:
        head += f'Origin: {origin}\r\n'
    if subprotocols:
        head += f'Sec-WebSocket-Protocol: {", ".join(subprotocols)}\r\n'
    if extensions is not None:
        head += f'Sec-WebSocket-Extensions: {extensions}\r\n'
    return head.encode() + _header_lines(headers) + b'\r\n'


# --- client: checking the response -------------------------------------------


def validate_response(
    status: int,
    reason: bytes,
    headers: Sequence[tuple[bytes, bytes]],
    key: str | None,
    offered: Sequence[str],
    offered_extensions: bool = False,
) -> Response:
    """Check a 101 response to our upgrade request (RFC 6455 §4.1).

    Args:
        status: The status code (101; other codes are rejections, handled
            by the caller).
        reason: The reason phrase.
        headers: Every header, values stripped.
        key: The ``Sec-WebSocket-Key`` we sent, or ``None`` if we did not
            send a request.
        offered: The subprotocols we offered.
        offered_extensions: True when we offered an extension; the
            elements of the response's ``Sec-WebSocket-Extensions`` headers
            then go to ``Response.extensions`` for the caller to check.

    Returns:
        The response, for ``ClientConnection.response``.

    Raises:
        HandshakeError: The first failed check, in the contract's order.
    """
    found = _collect(headers)
    upgrade = found.get(b'upgrade')
    if not upgrade:
        raise HandshakeError('missing Upgrade header')
    if not _has_token(upgrade, b'websocket'):
        raise HandshakeError('invalid Upgrade header')
    connection = found.get(b'connection')
    if not connection:
        raise HandshakeError('missing Connection header')
    if not _has_token(connection, b'upgrade'):
        raise HandshakeError('invalid Connection header')
    accepts = found.get(b'sec-websocket-accept', [])
    if not accepts:
        raise HandshakeError('missing Sec-WebSocket-Accept header')
    if len(accepts) > 1:
        raise HandshakeError('more than one Sec-WebSocket-Accept header')
    if key is None or accepts[0] != accept_key(key).encode():
        raise HandshakeError('invalid Sec-WebSocket-Accept header')
    # RFC 6455 §4.1: the server selects at most one of the offered values.
    selected = parse_subprotocols(found.get(b'sec-websocket-protocol', []))
    if len(selected) > 1 or (selected and selected[0] not in offered):
        raise HandshakeError('unexpected Sec-WebSocket-Protocol header')
    # RFC 6455 §4.1: only an extension the client offered may be used.
    extension_values = found.get(b'sec-websocket-extensions')
    extensions: tuple[ExtensionOffer, ...] = ()
    if extension_values is not None:
        if not offered_extensions:
            raise HandshakeError('unexpected Sec-WebSocket-Extensions header')
        # A malformed value raises "invalid Sec-WebSocket-Extensions header".
        extensions = parse_extensions(extension_values)
    return Response(
        status=status,
        reason=_text(reason),
        headers=tuple(headers),
        subprotocol=selected[0] if selected else None,
        extensions=extensions,
    )
