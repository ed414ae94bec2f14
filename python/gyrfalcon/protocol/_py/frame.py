"""Frame headers: parsing, checking and encoding (RFC 6455 §5.2).

The twin of ``rust/src/frame.rs``. A frame is a 2-byte base header, an
extended payload length of 0, 2 or 8 bytes, a 4-byte masking key when the
MASK bit is set, then the payload::

    0               1               2               3
    |F|R|R|R| opcode|M| len7        | extended length (0/2/8) | key (0/4) |

This module never sees payloads as they stream in (the connection does); it
reads and checks headers and builds the frames the engines send. The checks
follow the order of the contract's fault table.
"""

from __future__ import annotations

import enum
import struct

from ...errors import ProtocolError
from .mask import Buffer, as_bytes, mask_from

__all__ = [
    'MAX_CONTROL_PAYLOAD',
    'FrameHeader',
    'OpCode',
    'check_header',
    'encode_frame',
    'frame_header',
    'header_size',
    'parse_header',
]

MAX_CONTROL_PAYLOAD = 125
"""RFC 6455 §5.5: every control frame payload is at most 125 bytes."""


class OpCode(enum.IntEnum):
    """Frame opcodes (RFC 6455 §5.2, §11.8)."""

    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    CLOSE = 0x8
    PING = 0x9
    PONG = 0xA


_FIN = 0x80
_RSV1 = 0x40
_RSV_ANY = 0x70
_MASK = 0x80
_LEN7 = 0x7F
_LEN16 = 126
_LEN64 = 127
_CONTROL = 0x8
_KNOWN_OPCODES = frozenset(int(op) for op in OpCode)
_DATA_OPCODES = frozenset((int(OpCode.TEXT), int(OpCode.BINARY)))

_U16 = struct.Struct('!BBH')
_U64 = struct.Struct('!BBQ')


class FrameHeader:
    """A frame header as read from the wire, before any check.

    Attributes:
        fin: The FIN bit: this frame ends its message.
        rsv: The three RSV bits, as the high nibble's bits 4–6 (0 when clear).
        opcode: The opcode, 0–15.
        masked: The MASK bit.
        length: The declared payload length; it may have its top bit set,
            which ``check_header()`` rejects.
        long_form: The extended length form used: 0, 126 or 127.
        key: The masking key, or ``None`` when the MASK bit is clear.
    """

    __slots__ = ('fin', 'key', 'length', 'long_form', 'masked', 'opcode', 'rsv')

    def __init__(
        self,
        fin: bool,
        rsv: int,
        opcode: int,
        masked: bool,
        length: int,
        long_form: int,
        key: bytes | None,
    ) -> None:
        self.fin = fin
        self.rsv = rsv
        self.opcode = opcode
        self.masked = masked
        self.length = length
        self.long_form = long_form
        self.key = key


def header_size(second_byte: int) -> int:
    """Return the full header size that a frame's second byte announces.

    Args:
        second_byte: Byte 1 of the frame (MASK bit and 7-bit length).

    Returns:
        The header size in bytes: 2, plus 2 or 8 for an extended length,
        plus 4 for a masking key; between 2 and 14.
    """
    size = 2
    len7 = second_byte & _LEN7
    if len7 == _LEN16:
        size += 2
    elif len7 == _LEN64:
        size += 8
    if second_byte & _MASK:
        size += 4
    return size


def parse_header(data: bytes, start: int = 0) -> FrameHeader:
    """Read a complete frame header.

    Args:
        data: A buffer holding the whole header at `start` (the caller
            checked ``header_size(data[start + 1])`` bytes are there).
        start: Where the header begins in `data`.

    Returns:
        The header's fields, unchecked.
    """
    first = data[start]
    second = data[start + 1]
    len7 = second & _LEN7
    pos = start + 2
    if len7 == _LEN16:
        length = int.from_bytes(data[pos : pos + 2], 'big')
        pos += 2
    elif len7 == _LEN64:
        length = int.from_bytes(data[pos : pos + 8], 'big')
        pos += 8
    else:
        length = len7
    masked = bool(second & _MASK)
    key = bytes(data[pos : pos + 4]) if masked else None
    return FrameHeader(
        bool(first & _FIN),
        first & _RSV_ANY,
        first & 0x0F,
        masked,
        length,
        len7 if len7 >= _LEN16 else 0,
        key,
    )


def check_header(
    header: FrameHeader, expect_masked: bool, allow_rsv1: bool = False
) -> None:
    """Apply the header rules that depend only on the header and the role.

    The checks run in the order of the contract's fault table; the first
    failure wins.

    Args:
        header: The header just read.
        expect_masked: True for a server (frames from clients are masked),
            False for a client.
        allow_rsv1: True once permessage-deflate is negotiated: RSV1 may
            then mark a compressed TEXT or BINARY frame.

    Raises:
        ProtocolError: The header breaks RFC 6455 (close code 1002).
    """
    opcode = header.opcode
    rsv = header.rsv
    # RFC 6455 §5.2: RSV1-3 MUST be 0 unless an extension defines them;
    # RFC 7692 §6: permessage-deflate defines RSV1 on the first frame of a
    # message, never on a continuation or control frame.
    if rsv and not (allow_rsv1 and rsv == _RSV1 and opcode in _DATA_OPCODES):
        raise ProtocolError('received frame with reserved bits set')
    # RFC 6455 §5.2: an unknown opcode fails the connection.
    if opcode not in _KNOWN_OPCODES:
        raise ProtocolError(f'received frame with reserved opcode {opcode}')
    # RFC 6455 §5.1: clients mask every frame, servers never do.
    if header.masked != expect_masked:
        if expect_masked:
            raise ProtocolError('received unmasked frame from client')
        raise ProtocolError('received masked frame from server')
    # RFC 6455 §5.2: the most significant bit of a 64-bit length MUST be 0,
    # and the minimal number of bytes MUST be used to encode the length.
    length = header.length
    if header.long_form == _LEN64:
        if length >> 63:
            raise ProtocolError('received frame with invalid payload length')
        if length <= 0xFFFF:
            raise ProtocolError('received frame with non-minimal payload length')
    elif header.long_form == _LEN16 and length < _LEN16:
        raise ProtocolError('received frame with non-minimal payload length')
    if opcode & _CONTROL:
        # RFC 6455 §5.5: control frames carry at most 125 bytes and are never
        # fragmented.
        if length > MAX_CONTROL_PAYLOAD:
            raise ProtocolError('received control frame longer than 125 bytes')
        if not header.fin:
            raise ProtocolError('received fragmented control frame')


def frame_header(
    opcode: int,
    length: int,
    fin: bool = True,
    rsv1: bool = False,
    key: bytes | None = None,
) -> bytes:
    """Encode a frame header with the minimal length form.

    Args:
        opcode: The opcode, 0–15.
        length: The payload length.
        fin: Set the FIN bit.
        rsv1: Set the RSV1 bit.
        key: The 4-byte masking key, or ``None`` for an unmasked frame.

    Returns:
        The 2 to 14 header bytes.
    """
    first = opcode | (_FIN if fin else 0) | (_RSV1 if rsv1 else 0)
    mask_bit = _MASK if key is not None else 0
    if length < _LEN16:
        header = bytes((first, mask_bit | length))
    elif length <= 0xFFFF:
        header = _U16.pack(first, mask_bit | _LEN16, length)
    else:
        header = _U64.pack(first, mask_bit | _LEN64, length)
    if key is not None:
        header += key
    return header


def encode_frame(
    opcode: int,
    payload: Buffer,
    *,
    fin: bool = True,
    rsv1: bool = False,
    mask: Buffer | None = None,
) -> bytes:
    """Encode one frame, masked when a key is given.

    Args:
        opcode: The opcode, 0–15 (reserved opcodes are allowed, to build
            test input).
        payload: The payload, unmasked.
        fin: Set the FIN bit.
        rsv1: Set the RSV1 bit.
        mask: The 4-byte masking key; ``None`` for an unmasked frame.

    Returns:
        The frame: header with the minimal length encoding, then the payload
        (masked with `mask` when given).

    Raises:
        ValueError: `opcode` is outside 0–15, a control frame (opcode 8 or
            above) has more than 125 payload bytes or FIN clear, or `mask`
            is not 4 bytes.
        TypeError: `payload` or `mask` is not a bytes-like object.
    """
    if not isinstance(opcode, int):
        raise TypeError(f'opcode must be an int, not {type(opcode).__name__}')
    if not 0 <= opcode <= 0xF:
        raise ValueError(f'invalid opcode {opcode}')
    data = as_bytes(payload)
    key = None if mask is None else as_bytes(mask)
    if opcode & _CONTROL:
        if len(data) > MAX_CONTROL_PAYLOAD:
            raise ValueError('control frame payload exceeds 125 bytes')
        if not fin:
            raise ValueError('control frame must not be fragmented')
    if key is not None:
        if len(key) != 4:
            raise ValueError('mask must be 4 bytes')
        data = mask_from(data, key)
    return frame_header(opcode, len(data), bool(fin), bool(rsv1), key) + data
