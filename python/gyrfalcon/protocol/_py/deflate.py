"""permessage-deflate (RFC 7692): negotiation, inflating, deflating.

The twin of ``rust/src/deflate.rs``. It holds the checks of the compression
keywords, the server's choice among the client's offers and its response
value, the client's offer and its check of the server's response, the
per-connection compressor and decompressor (both allocated lazily), and
``prepare_frame()`` for broadcasting one frame to many connections.

Compression uses the stdlib ``zlib`` in raw deflate mode (negative window
bits). A message is deflated with ``Z_SYNC_FLUSH`` and the empty stored
block that ends it (``00 00 ff ff``) is removed; the receiver adds it back
(RFC 7692 §7.2.1, §7.2.2). Nothing here touches frames except
``prepare_frame()``; the connection decides what to compress and checks
what is inflated.
"""

from __future__ import annotations

import zlib

from ...errors import HandshakeError, InvalidPayloadData
from ..common import DeflateParams, ExtensionOffer
from .frame import OpCode, frame_header
from .mask import Buffer, as_bytes

__all__ = [
    'EXTENSION',
    'TAIL',
    'DeflateOptions',
    'Deflater',
    'Inflater',
    'check_types',
    'client_offer',
    'client_params',
    'negotiate',
    'prepare_frame',
]

EXTENSION = 'permessage-deflate'
"""The extension's registered name (RFC 7692 §7)."""

TAIL = b'\x00\x00\xff\xff'
"""RFC 7692 §7.2.1: the end of a sync flush, removed by the sender."""

_SERVER_NO_CONTEXT = 'server_no_context_takeover'
_CLIENT_NO_CONTEXT = 'client_no_context_takeover'
_SERVER_WINDOW = 'server_max_window_bits'
_CLIENT_WINDOW = 'client_max_window_bits'
_PARAMETERS = frozenset(
    (_SERVER_NO_CONTEXT, _CLIENT_NO_CONTEXT, _SERVER_WINDOW, _CLIENT_WINDOW)
)
# RFC 7692 §7.1.2: a decimal 8..15 without leading zeros.
_WINDOW_VALUES = {str(bits): bits for bits in range(8, 16)}

_INVALID_RESPONSE = 'invalid Sec-WebSocket-Extensions header'

# NOTE(gyrfalcon): a peer asked for an 8-bit window may still compress with
#   9 bits: zlib before 1.2.9 silently turned a raw 8-bit window into 9 bits
#   (later versions refuse it, madler/zlib#171). zlib's own matches stay
#   within 250 bytes, but another deflater given 9 bits may use all 512. A
#   larger inflate window accepts everything a smaller one does, so ours has
#   at least 9 bits.
_MIN_INFLATE_BITS = 9


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not low <= value <= high:
        raise ValueError(f'{name} must be between {low} and {high}')


def _check_type(name: str, value: object, kind: type) -> None:
    if not isinstance(value, kind):
        raise TypeError(
            f'{name} must be {"a bool" if kind is bool else "an int"}, '
            f'not {type(value).__name__}'
        )


def check_types(
    compression: object,
    compression_threshold: object,
    deflate_window_bits: object,
    deflate_mem_level: object,
    deflate_level: object,
    deflate_no_context_takeover: object,
) -> None:
    """Check the types of the compression keywords, in signature order.

    Types are checked before any value (as PyO3 extracts arguments), so the
    connection calls this before ``DeflateOptions``.

    Args:
        compression: Must be a ``bool``.
        compression_threshold: Must be an ``int``.
        deflate_window_bits: Must be an ``int``.
        deflate_mem_level: Must be an ``int``.
        deflate_level: Must be an ``int``.
        deflate_no_context_takeover: Must be a ``bool``.

    Raises:
        TypeError: A flag is not a ``bool`` or a number not an ``int``.
    """
    _check_type('compression', compression, bool)
    _check_type('compression_threshold', compression_threshold, int)
    _check_type('deflate_window_bits', deflate_window_bits, int)
    _check_type('deflate_mem_level', deflate_mem_level, int)
    _check_type('deflate_level', deflate_level, int)
    _check_type('deflate_no_context_takeover', deflate_no_context_takeover, bool)


class DeflateOptions:
    """The compression keywords of a connection, checked.

    Args:
        threshold: Payloads shorter than this are sent uncompressed.
        window_bits: Our compressor's largest window (9–15).
        mem_level: zlib ``memLevel`` of our compressor (1–9).
        level: zlib compression level (0–9).
        no_context_takeover: Reset our compressor after every message
            (server), or offer ``client_no_context_takeover`` (client).

    Raises:
        ValueError: A value is out of its range.
    """

    __slots__ = ('level', 'mem_level', 'no_context_takeover', 'threshold',
                 'window_bits')  # fmt: skip

    def __init__(
        self,
        threshold: int,
        window_bits: int,
        mem_level: int,
        level: int,
        no_context_takeover: bool,
    ) -> None:
        if threshold < 0:
            raise ValueError('compression_threshold must not be negative')
        _check_range('deflate_window_bits', window_bits, 9, 15)
        _check_range('deflate_mem_level', mem_level, 1, 9)
        _check_range('deflate_level', level, 0, 9)
        self.threshold = threshold
        self.window_bits = window_bits
        self.mem_level = mem_level
        self.level = level
        self.no_context_takeover = no_context_takeover


# --- negotiation (RFC 7692 §5, §7.1) -------------------------------------------


def _window_bits(value: str | None) -> int | None:
    return None if value is None else _WINDOW_VALUES.get(value)


def _parameters(
    params: tuple[tuple[str, str | None], ...],
) -> dict[str, str | None] | None:
    # RFC 7692 §7.1: only the four parameters, each at most once, and the
    # two context takeover flags without a value.
    found: dict[str, str | None] = {}
    for name, value in params:
        if name not in _PARAMETERS or name in found:
            return None
        found[name] = value
    for name in (_SERVER_NO_CONTEXT, _CLIENT_NO_CONTEXT):
        if found.get(name) is not None:
            return None
    return found


def _accept_offer(
    params: tuple[tuple[str, str | None], ...], options: DeflateOptions
) -> tuple[str, DeflateParams] | None:
    found = _parameters(params)
    if found is None:
        return None
    server_bits: int | None = None
    if _SERVER_WINDOW in found:
        server_bits = _window_bits(found[_SERVER_WINDOW])
        # NOTE(gyrfalcon): zlib cannot deflate with an 8-bit raw window
        #   (madler/zlib#171), so such an offer cannot be honoured.
        if server_bits is None or server_bits == 8:
            return None
    client_bits: int | None = None
    client_value = found.get(_CLIENT_WINDOW)
    if client_value is not None:
        client_bits = _window_bits(client_value)
        if client_bits is None:
            return None
    window = options.window_bits
    server_no_context = _SERVER_NO_CONTEXT in found or options.no_context_takeover
    client_no_context = _CLIENT_NO_CONTEXT in found
    response = EXTENSION
    if server_no_context:
        response += '; ' + _SERVER_NO_CONTEXT
    if client_no_context:
        response += '; ' + _CLIENT_NO_CONTEXT
    server_window = 15
    if _SERVER_WINDOW in found or window < 15:
        server_window = min(server_bits or 15, window)
        response += f'; {_SERVER_WINDOW}={server_window}'
    client_window = 15
    if _CLIENT_WINDOW in found:
        client_window = min(client_bits or 15, window)
        response += f'; {_CLIENT_WINDOW}={client_window}'
    agreed = DeflateParams(
        server_no_context_takeover=server_no_context,
        client_no_context_takeover=client_no_context,
        server_max_window_bits=server_window,
        client_max_window_bits=client_window,
    )
    return response, agreed


def negotiate(
    offers: tuple[ExtensionOffer, ...], options: DeflateOptions
) -> tuple[str, DeflateParams] | None:
    """Pick the first acceptable permessage-deflate offer (server role).

    An offer is declined, and the next one tried, when it has an unknown
    or repeated parameter, a value on a context takeover flag, or window
    bits that are not a decimal 8–15 (9–15 for ``server_max_window_bits``).
    Other extensions are ignored.

    Args:
        offers: ``request.extensions``.
        options: Our compression keywords.

    Returns:
        The ``Sec-WebSocket-Extensions`` response value and the agreed
        parameters, or ``None`` when no offer is acceptable.
    """
    for name, params in offers:
        if name == EXTENSION:
            accepted = _accept_offer(params, options)
            if accepted is not None:
                return accepted
    return None


def client_offer(options: DeflateOptions) -> str:
    """Build the client's ``Sec-WebSocket-Extensions`` offer value.

    Args:
        options: Our compression keywords.

    Returns:
        ``permessage-deflate; client_max_window_bits``, then
        ``server_max_window_bits`` when our window is below 15 and
        ``client_no_context_takeover`` when asked.
    """
    offer = f'{EXTENSION}; {_CLIENT_WINDOW}'
    if options.window_bits < 15:
        offer += f'; {_SERVER_WINDOW}={options.window_bits}'
    if options.no_context_takeover:
        offer += '; ' + _CLIENT_NO_CONTEXT
    return offer


def client_params(
    accepted: tuple[ExtensionOffer, ...], options: DeflateOptions
) -> DeflateParams | None:
    """Check the server's answer to our offer (client role).

    Args:
        accepted: The elements of the response's
            ``Sec-WebSocket-Extensions`` headers.
        options: Our compression keywords (what we offered).

    Returns:
        The agreed parameters, or ``None`` when the response accepted no
        extension.

    Raises:
        HandshakeError: The response is not an acceptable answer to our
            offer (``invalid Sec-WebSocket-Extensions header``).
    """
    if not accepted:
        return None
    name, params = accepted[0]
    found = _parameters(params) if name == EXTENSION else None
    if len(accepted) > 1 or found is None:
        raise HandshakeError(_INVALID_RESPONSE)
    # RFC 7692 §7.1.2.1: the server accepts our server_max_window_bits by
    # answering it, with at most the value we asked for.
    server_window = 15
    if _SERVER_WINDOW in found:
        bits = _window_bits(found[_SERVER_WINDOW])
        if bits is None or bits == 8:
            raise HandshakeError(_INVALID_RESPONSE)
        server_window = bits
    if options.window_bits < 15 and server_window > options.window_bits:
        raise HandshakeError(_INVALID_RESPONSE)
    client_window = 15
    if _CLIENT_WINDOW in found:
        bits = _window_bits(found[_CLIENT_WINDOW])
        # RFC 7692 §7.1.2.2: the response carries a value; zlib cannot
        # deflate with 8 bits.
        if bits is None or bits == 8:
            raise HandshakeError(_INVALID_RESPONSE)
        client_window = bits
    return DeflateParams(
        server_no_context_takeover=_SERVER_NO_CONTEXT in found,
        # RFC 7692 §7.1.1.2: having offered it, we keep no context anyway.
        client_no_context_takeover=(
            _CLIENT_NO_CONTEXT in found or options.no_context_takeover
        ),
        server_max_window_bits=server_window,
        client_max_window_bits=client_window,
    )


# --- the compressor and the decompressor ---------------------------------------


class Deflater:
    """Our side's compressor, created on the first message compressed.

    Args:
        window_bits: The LZ77 window, 9–15.
        mem_level: zlib ``memLevel``, 1–9.
        level: zlib compression level, 0–9.
        no_context_takeover: Start every message from an empty window (the
            compressor is dropped after each one).
    """

    __slots__ = ('_level', '_mem_level', '_no_context_takeover', '_stream',
                 '_window_bits')  # fmt: skip

    def __init__(
        self, window_bits: int, mem_level: int, level: int, no_context_takeover: bool
    ) -> None:
        self._window_bits = window_bits
        self._mem_level = mem_level
        self._level = level
        self._no_context_takeover = no_context_takeover
        self._stream: zlib._Compress | None = None

    def compress(self, payload: bytes) -> bytes:
        """Deflate one message.

        Args:
            payload: The whole message payload.

        Returns:
            The compressed payload, without the ``00 00 ff ff`` tail.
        """
        stream = self._stream
        if stream is None:
            stream = _compressor(self._window_bits, self._mem_level, self._level)
        data = stream.compress(payload) + stream.flush(zlib.Z_SYNC_FLUSH)
        self._stream = None if self._no_context_takeover else stream
        # RFC 7692 §7.2.1: a sync flush always ends with the empty stored
        # block; the sender removes its last four bytes.
        return data[:-4]

    def reset(self) -> None:
        """Forget the context: the next message starts from an empty window."""
        self._stream = None


def _compressor(window_bits: int, mem_level: int, level: int) -> zlib._Compress:
    return zlib.compressobj(level, zlib.DEFLATED, -window_bits, mem_level)


class Inflater:
    """Our side's decompressor, created on the first compressed message.

    For each compressed message: ``start()``, ``feed()`` each slice of
    payload as it arrives, ``finish()`` after the last frame, then
    ``end()``. The caller checks what comes out (size, UTF-8).

    Args:
        window_bits: The peer's largest window, 8–15; the decompressor
            uses at least 9 bits.
        no_context_takeover: The peer resets its compressor after every
            message, so ours starts over too.

    Attributes:
        ended: The deflate stream ended with a final block in the current
            message; the rest of the message is discarded unread.
    """

    __slots__ = ('_no_context_takeover', '_stream', '_window_bits', 'ended')

    def __init__(self, window_bits: int, no_context_takeover: bool) -> None:
        self._window_bits = max(window_bits, _MIN_INFLATE_BITS)
        self._no_context_takeover = no_context_takeover
        self._stream: zlib._Decompress | None = None
        self.ended = False

    def start(self) -> None:
        """Begin a compressed message."""
        if self._stream is None:
            self._stream = zlib.decompressobj(wbits=-self._window_bits)
        self.ended = False

    def feed(self, data: bytes, cap: int) -> bytes:
        """Inflate the next slice of the message's payload.

        Once the stream ended with a final block (RFC 7692 §7.2.3.4), the
        rest of the message's bytes are discarded: this call returns
        ``b''`` without reading `data`.

        Args:
            data: Unmasked payload bytes (not empty).
            cap: Produce at most this many bytes (``0``: no limit). The
                caller passes one more than the message may still grow, so
                that a longer output proves the limit exceeded.

        Returns:
            The inflated bytes, at most `cap` of them.

        Raises:
            InvalidPayloadData: zlib rejected the data (1007).
        """
        if self.ended:
            return b''
        stream = self._stream
        assert stream is not None
        try:
            inflated = stream.decompress(data, cap)
        except zlib.error:
            raise InvalidPayloadData('invalid compressed data') from None
        # NOTE(gyrfalcon): input left in ``unconsumed_tail`` means the cap was
        #   reached, so the caller fails the message without asking for it.
        #   After a final block, ``unused_data`` holds the peer's trailing
        #   bytes (or what is left of our tail): they are ignored.
        if stream.eof:
            self.ended = True
        return inflated

    def finish(self, cap: int) -> bytes:
        """Inflate the tail that the sender removed, unless the stream ended.

        Args:
            cap: As for ``feed()``.

        Returns:
            The inflated bytes (usually none).

        Raises:
            InvalidPayloadData: zlib rejected the data (1007).
        """
        return self.feed(TAIL, cap)

    def end(self) -> None:
        """End the message; drop the stream when it cannot be continued."""
        if self.ended or self._no_context_takeover:
            self._stream = None
        self.ended = False


# --- prepared frames -------------------------------------------------------------


def prepare_frame(
    data: str | Buffer,
    *,
    deflate_window_bits: int | None = None,
    deflate_mem_level: int = 5,
    deflate_level: int = 6,
) -> bytes:
    """Build one complete server frame, to send to many connections.

    A hub frames (and compresses) a message once with this function and
    hands the bytes to ``ServerConnection.send_prepared()`` of every
    subscriber.

    Args:
        data: The message: a ``str`` makes a TEXT frame (UTF-8 encoded),
            a bytes-like object a BINARY frame.
        deflate_window_bits: Compress the payload with a fresh raw deflate
            stream of this window (9–15), and set RSV1; ``None`` leaves it
            uncompressed. Any connection whose
            ``deflate.server_max_window_bits`` is at least this window can
            take the frame, whatever its context takeover.
        deflate_mem_level: zlib ``memLevel`` (1–9).
        deflate_level: zlib compression level (0–9).

    Returns:
        The frame: FIN set, unmasked, minimal length encoding.

    Raises:
        TypeError: `data` is neither ``str`` nor bytes-like, or a keyword
            has the wrong type.
        ValueError: A keyword is out of its range.
        UnicodeEncodeError: `data` holds a lone surrogate.
    """
    payload = b'' if isinstance(data, str) else as_bytes(data)
    if deflate_window_bits is not None:
        _check_type('deflate_window_bits', deflate_window_bits, int)
    _check_type('deflate_mem_level', deflate_mem_level, int)
    _check_type('deflate_level', deflate_level, int)
    if deflate_window_bits is not None:
        _check_range('deflate_window_bits', deflate_window_bits, 9, 15)
    _check_range('deflate_mem_level', deflate_mem_level, 1, 9)
    _check_range('deflate_level', deflate_level, 0, 9)
    opcode = int(OpCode.BINARY)
    if isinstance(data, str):
        opcode = int(OpCode.TEXT)
        payload = data.encode('utf-8')
    if deflate_window_bits is None:
        return frame_header(opcode, len(payload)) + payload
    stream = _compressor(deflate_window_bits, deflate_mem_level, deflate_level)
    compressed = (stream.compress(payload) + stream.flush(zlib.Z_SYNC_FLUSH))[:-4]
    return frame_header(opcode, len(compressed), rsv1=True) + compressed
