"""Incremental UTF-8 validation that fails at the first impossible byte.

The twin of ``rust/src/utf8.rs``. RFC 6455 §8.1 requires TEXT messages to be
valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
U+10FFFF), and Autobahn's strict cases (6.4.1–6.4.4) expect a peer to be
failed as soon as the bytes received so far cannot start a valid message, not
when the message ends.

CPython's incremental UTF-8 decoder already rejects every impossible prefix
at once (an invalid lead byte, a bad continuation byte, the overlong and
out-of-range second bytes after E0, F0 and F4), with one exception: it keeps
``ED A0``..``ED BF`` (the start of a UTF-16 surrogate) pending until the third
byte arrives. ``decode()`` adds that check on the pending tail, and
``tests/engine/test_utf8.py`` proves the result equal to a byte-level state
machine over every prefix of up to four bytes.
"""

from __future__ import annotations

import codecs

from .mask import Buffer, as_bytes

__all__ = ['Utf8Validator', 'decode', 'new_decoder', 'validate_utf8']

_SURROGATE_LEAD = 0xED
_SURROGATE_SECOND = 0xA0

_decoder_class = codecs.getincrementaldecoder('utf-8')


def new_decoder() -> codecs.IncrementalDecoder:
    """Return a fresh incremental UTF-8 decoder for ``decode()``."""
    return _decoder_class('strict')


def decode(
    decoder: codecs.IncrementalDecoder, data: bytes | memoryview, final: bool = False
) -> str | None:
    """Decode the next piece of a UTF-8 stream, failing fast.

    Args:
        decoder: The stream's decoder, from ``new_decoder()``.
        data: The next bytes of the stream.
        final: True when `data` ends the stream; an incomplete sequence at
            the end is then invalid.

    Returns:
        The text decoded from this piece (a sequence split across pieces is
        returned with the piece that completes it), or ``None`` when the
        stream received so far is not the prefix of any valid UTF-8 text.
        After ``None`` the decoder must not be used again.
    """
    try:
        text = decoder.decode(data, final)
    except UnicodeDecodeError:
        return None
    if not final:
        pending = decoder.getstate()[0]
        # NOTE(gyrfalcon): CPython defers the surrogate check of ED A0..BF to
        #   the third byte; RFC 3629 makes the prefix impossible right here.
        if (
            len(pending) >= 2
            and pending[0] == _SURROGATE_LEAD
            and pending[1] >= _SURROGATE_SECOND
        ):
            return None
    return text


def validate_utf8(data: Buffer) -> bool:
    """Tell whether a whole buffer is valid UTF-8.

    Args:
        data: The bytes to check. A multi-byte sequence cut off at the end
            makes them invalid.

    Returns:
        True when `data` is valid UTF-8 (RFC 3629).

    Raises:
        TypeError: `data` is not a bytes-like object.
    """
    try:
        as_bytes(data).decode('utf-8')
    except UnicodeDecodeError:
        return False
    return True


class Utf8Validator:
    """An incremental UTF-8 validator for text that arrives in pieces.

    Feed the pieces in order with ``feed()``; it returns False from the first
    byte that makes the text impossible to complete. Call ``finish()`` when
    the text is complete, and ``reset()`` to start over.
    """

    __slots__ = ('_decoder', '_valid')

    def __init__(self) -> None:
        self._decoder = new_decoder()
        self._valid = True

    def feed(self, data: Buffer) -> bool:
        """Validate the next piece of text.

        Args:
            data: The next bytes; a sequence may be split across pieces.

        Returns:
            False when the bytes fed so far are not the prefix of any valid
            UTF-8 text (and on every call after that), True otherwise.

        Raises:
            TypeError: `data` is not a bytes-like object.
        """
        chunk = as_bytes(data)
        if self._valid:
            self._valid = decode(self._decoder, chunk) is not None
        return self._valid

    def finish(self) -> bool:
        """Tell whether everything fed so far is complete, valid UTF-8.

        Returns:
            True when the text is valid and does not end inside a sequence.
            The validator keeps its state; call ``reset()`` to reuse it.
        """
        if not self._valid:
            return False
        state = self._decoder.getstate()
        complete = decode(self._decoder, b'', final=True) is not None
        self._decoder.setstate(state)
        return complete

    def reset(self) -> None:
        """Forget everything fed so far and start a new text."""
        self._decoder.reset()
        self._valid = True
