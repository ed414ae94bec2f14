"""Reading what an engine sent with permessage-deflate on (RFC 7692).

Compressed bytes may differ between deflate implementations, so the suite
never compares them; it parses the frames an engine produced and inflates
them the way a peer would, with the stdlib ``zlib``, and compares the result.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

TAIL = b'\x00\x00\xff\xff'


@dataclass(frozen=True)
class Frame:
    """One frame as sent: header bits and the unmasked payload."""

    fin: bool
    rsv: int
    opcode: int
    masked: bool
    payload: bytes


def parse_frames(data: bytes) -> list[Frame]:
    """Split the bytes an engine sent into frames (they must be complete)."""
    frames: list[Frame] = []
    pos = 0
    while pos < len(data):
        first, second = data[pos], data[pos + 1]
        pos += 2
        length = second & 0x7F
        if length == 126:
            length = int.from_bytes(data[pos : pos + 2], 'big')
            pos += 2
        elif length == 127:
            length = int.from_bytes(data[pos : pos + 8], 'big')
            pos += 8
        key = None
        if second & 0x80:
            key = data[pos : pos + 4]
            pos += 4
        payload = data[pos : pos + length]
        assert len(payload) == length, 'truncated frame'
        pos += length
        if key is not None:
            payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        frames.append(Frame(bool(first & 0x80), first >> 4 & 7, first & 0xF,
                            key is not None, payload))  # fmt: skip
    return frames


def inflate_strictly(payload: bytes, window_bits: int) -> bytes:
    """Inflate one message one input byte at a time.

    Fed this way, every back-reference reaches into zlib's window rather
    than into the output of the same call, so data compressed with a
    larger window than `window_bits` fails ("invalid distance too far
    back").
    """
    decompressor = zlib.decompressobj(wbits=-window_bits)
    out = bytearray()
    for index in range(len(payload)):
        out += decompressor.decompress(payload[index : index + 1])
    out += decompressor.decompress(TAIL)
    return bytes(out)


class Reader:
    """A peer's view of what one engine sends: frames in, messages out.

    Args:
        window_bits: The window the engine may compress with.
        no_context_takeover: The engine resets its compressor after every
            message, so the reader starts a fresh stream for each.

    Attributes:
        frames: Every frame read so far.
    """

    def __init__(self, window_bits: int = 15, no_context_takeover: bool = False):
        self.window_bits = window_bits
        self.no_context_takeover = no_context_takeover
        self.stream = zlib.decompressobj(wbits=-window_bits)
        self.frames: list[Frame] = []

    def read(self, data: bytes) -> list[tuple[int, bytes, bool]]:
        """Parse `data` and return its data messages.

        Returns:
            ``(opcode, payload, compressed)`` for each TEXT or BINARY frame
            (the engines never fragment), payloads inflated.
        """
        messages: list[tuple[int, bytes, bool]] = []
        for frame in parse_frames(data):
            self.frames.append(frame)
            if frame.opcode not in (1, 2):
                assert frame.rsv == 0, 'RSV bit on a control frame'
                continue
            assert frame.fin
            assert frame.rsv in (0, 4), f'RSV bits {frame.rsv:03b}'
            payload = frame.payload
            compressed = frame.rsv == 4
            if compressed:
                if self.no_context_takeover:
                    self.stream = zlib.decompressobj(wbits=-self.window_bits)
                # RFC 7692 §7.2.2: add back the tail the sender removed (had
                # it not removed it, the next message would not inflate).
                payload = self.stream.decompress(payload + TAIL)
                assert not self.stream.unconsumed_tail
            messages.append((frame.opcode, payload, compressed))
        return messages
