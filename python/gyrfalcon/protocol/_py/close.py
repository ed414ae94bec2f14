"""Close codes and Close frame payloads (RFC 6455 §5.5.1, §7.4).

The twin of ``rust/src/close.rs``. A Close payload is empty, or a 2-byte
big-endian code followed by a UTF-8 reason; the whole payload is a control
frame payload, so the reason is at most 123 bytes.
"""

from __future__ import annotations

import enum

from ...errors import InvalidPayloadData, ProtocolError

__all__ = [
    'ABNORMAL_CLOSURE',
    'MAX_REASON_BYTES',
    'NO_STATUS_RCVD',
    'CloseCode',
    'check_code',
    'is_allowed_on_wire',
    'parse_close',
    'serialize_close',
    'truncate_reason',
]

MAX_REASON_BYTES = 123
"""A control frame payload is at most 125 bytes; the code takes two."""

NO_STATUS_RCVD = 1005
"""``close_received``/``close_sent`` for a Close frame without a code."""

ABNORMAL_CLOSURE = 1006
"""``close_code`` when the connection closed without a Close frame."""


class CloseCode(enum.IntEnum):
    """Close codes defined by RFC 6455 §7.4.1 and the IANA registry."""

    NORMAL_CLOSURE = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS_RCVD = 1005
    """Never on the wire: stands for a Close frame without a code."""
    ABNORMAL_CLOSURE = 1006
    """Never on the wire: the connection dropped without a Close frame."""
    INVALID_FRAME_PAYLOAD_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014
    TLS_HANDSHAKE = 1015
    """Never on the wire: the TLS handshake failed."""


def is_allowed_on_wire(code: int) -> bool:
    """Tell whether a close code may appear in a Close frame.

    RFC 6455 §7.4: 1000–1003 and 1007–1014 are defined for use on the wire
    (1012–1014 by the IANA registry), 3000–4999 belong to libraries and
    applications; 1004–1006, 1015 and everything else must not be sent and
    fail the connection when received.

    Args:
        code: The code to check.

    Returns:
        True when the code is allowed in both directions.
    """
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def check_code(code: int) -> None:
    """Validate a close code that we are about to send.

    Args:
        code: The close code given by the caller.

    Raises:
        ValueError: `code` is not allowed on the wire.
    """
    if not is_allowed_on_wire(code):
        raise ValueError(f'invalid close code {code}')


def serialize_close(code: int, reason: str) -> bytes:
    """Build the payload of a Close frame.

    Args:
        code: A close code allowed on the wire, or 1005 for an empty payload.
        reason: The reason; it must fit in 123 UTF-8 bytes.

    Returns:
        The payload: empty for 1005, else the code and the UTF-8 reason.
    """
    if code == NO_STATUS_RCVD:
        return b''
    return code.to_bytes(2, 'big') + reason.encode('utf-8')


def truncate_reason(reason: str) -> str:
    """Shorten a reason to 123 UTF-8 bytes without splitting a character.

    Args:
        reason: The reason given by the caller.

    Returns:
        `reason` itself when it fits, else its longest prefix that does.
    """
    encoded = reason.encode('utf-8')
    if len(encoded) <= MAX_REASON_BYTES:
        return reason
    # A prefix of valid UTF-8 is valid except for one cut sequence at its
    # end, which 'ignore' drops.
    return encoded[:MAX_REASON_BYTES].decode('utf-8', 'ignore')


def parse_close(payload: bytes) -> tuple[int, str]:
    """Read the code and reason of a received Close frame.

    Args:
        payload: The complete, unmasked payload (at most 125 bytes).

    Returns:
        ``(code, reason)``, or ``(1005, '')`` for an empty payload.

    Raises:
        ProtocolError: The payload is 1 byte long, or its code is not allowed
            on the wire (close code 1002).
        InvalidPayloadData: The reason is not valid UTF-8 (1007).
    """
    if not payload:
        return NO_STATUS_RCVD, ''
    if len(payload) == 1:
        raise ProtocolError('received close frame with 1-byte payload')
    code = int.from_bytes(payload[:2], 'big')
    if not is_allowed_on_wire(code):
        raise ProtocolError(f'received close frame with invalid code {code}')
    try:
        reason = payload[2:].decode('utf-8')
    except UnicodeDecodeError:
        raise InvalidPayloadData('invalid UTF-8 in close reason') from None
    return code, reason
