"""Adversarial frames against ``gyrfalcon serve``: §2.5 A (framing) and B (UTF-8).

The cases of ``users-reliability-scale.md`` §2.5 A1–A20, one test each, on
raw sockets with hand-built frames. Each asserts the close code the server
sends, that a client connected before the attack (``bystander``) and a new
client are still served afterwards, and that the server's RSS grew less
than the bound the ``memory`` fixture checks (16 MiB unless a test says
otherwise; the server's ``max_size`` is 64 KiB, so a server that buffered
what the attack declares would grow by far more).

A8 (a frame that stalls half way) is reaped by keepalive, so it is in
``test_liveness.py`` with the other keepalive cases. Compression cases (C21–C28)
are covered in ``tests/server/test_deflate.py``; RSV1 without negotiation
(C24) is A10 here.
"""

from __future__ import annotations

import asyncio
import os
import struct
from typing import Any

import pytest
from hardening_server import (
    MAX_SIZE,
    MIB,
    Server,
    open_client,
    recv_close,
    still_served,
)
from ws_peers import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    RawClient,
)

pytestmark = pytest.mark.network


def header(
    opcode: int,
    length: int,
    *,
    fin: bool = True,
    rsv: int = 0,
    form: int | None = None,
    mask: bytes = b'',
) -> bytes:
    """A frame header with any length encoding (``form`` 7, 16 or 64 bits)."""
    mask = mask or os.urandom(4)
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    if form is None:
        form = 7 if length < 126 else 16 if length < 65536 else 64
    if form == 7:
        head = bytes([first, 0x80 | length])
    elif form == 16:
        head = bytes([first, 0x80 | 126]) + struct.pack('!H', length)
    else:
        head = bytes([first, 0x80 | 127]) + struct.pack('!Q', length)
    return head + mask


def frame(opcode: int, payload: bytes = b'', **kwargs: Any) -> bytes:
    """A frame masked with a fresh random key, as a client sends it."""
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return header(opcode, len(payload), mask=mask, **kwargs) + masked


async def expect_close(client: RawClient, code: int) -> None:
    assert (await recv_close(client))[0] == code
    await client.expect_eof()


async def attack(server: Server, data: bytes) -> RawClient:
    client = await open_client(server)
    client.write(data)
    return client


# --- A. Framing and size limits ----------------------------------------------


async def test_a01_huge_declared_length(server, bystander, memory) -> None:
    # 2^62 bytes declared: refused from the header, nothing allocated.
    client = await attack(server, header(OP_BINARY, 1 << 62))
    await expect_close(client, 1009)
    await still_served(server, bystander)


async def test_a02_length_with_msb_set(server, bystander, memory) -> None:
    client = await attack(server, header(OP_BINARY, (1 << 63) + 5))
    await expect_close(client, 1002)
    await still_served(server, bystander)


async def test_a03_non_minimal_length(server, bystander, memory) -> None:
    # Policy: RFC 6455 §5.2 says the minimal encoding MUST be used; the
    # engine fails the connection with 1002 (engine contract, Frames).
    client = await attack(server, frame(OP_TEXT, b'abc', form=16))
    await expect_close(client, 1002)
    await still_served(server, bystander)


async def test_a04_message_of_exactly_max_size(server, bystander, memory) -> None:
    client = await attack(server, frame(OP_BINARY, b'm' * MAX_SIZE))
    assert await client.recv_message() == b'm' * MAX_SIZE
    client.write(frame(OP_BINARY, b'm' * (MAX_SIZE + 1)))
    await expect_close(client, 1009)
    await still_served(server, bystander)


async def test_a05_fragments_past_max_size(server, bystander, memory) -> None:
    # Each fragment is small; the one that crosses max_size fails it.
    part = b'f' * (MAX_SIZE // 4)
    data = frame(OP_BINARY, part, fin=False) + frame(OP_CONT, part, fin=False) * 3
    client = await attack(server, data + frame(OP_CONT, b'!', fin=False))
    await expect_close(client, 1009)
    await still_served(server, bystander)


async def test_a06_a_million_empty_continuations(server, bystander, memory) -> None:
    # No fragment count limit by default (--ws-max-fragments): an empty
    # fragment must cost O(1), not an object each. 10^6 of them are 6 MB on
    # the wire; a per-fragment object would be ~100 MB.
    memory.bound = 16 * MIB
    client = await attack(server, frame(OP_TEXT, b'start', fin=False))
    batch = frame(OP_CONT, b'', fin=False) * 10_000
    for _ in range(100):
        client.write(batch)
        await asyncio.wait_for(client.writer.drain(), 60)
    client.write(frame(OP_CONT, b'end'))
    assert await client.recv_message() == 'startend'
    await client.aclose()
    await still_served(server, bystander)


async def test_a07_frame_trickled_byte_by_byte(server, bystander, memory) -> None:
    # One read per byte: the engine keeps bytes, not one object per read.
    client = await open_client(server)
    data = frame(OP_TEXT, b't' * 2000)
    for byte in data:
        client.write(bytes([byte]))
        await client.writer.drain()
        await asyncio.sleep(0)
    assert await client.recv_message() == 't' * 2000
    await client.aclose()
    await still_served(server, bystander)


async def test_a09_unmasked_frame(server, bystander, memory) -> None:
    client = await attack(server, bytes([0x81, 0x02]) + b'hi')
    await expect_close(client, 1002)
    await still_served(server, bystander)


@pytest.mark.parametrize('rsv', [1, 2, 4])
async def test_a10_reserved_bits(server, bystander, memory, rsv: int) -> None:
    # No extension was negotiated (the raw client offers none): RSV1 too.
    client = await attack(server, frame(OP_TEXT, b'x', rsv=rsv))
    await expect_close(client, 1002)
    await still_served(server, bystander)


@pytest.mark.parametrize('opcode', [3, 7, 11, 15])
async def test_a11_reserved_opcodes(server, bystander, memory, opcode: int) -> None:
    client = await attack(server, frame(opcode, b'x'))
    await expect_close(client, 1002)
    await still_served(server, bystander)


@pytest.mark.parametrize('kind', ['long', 'fragmented'])
async def test_a12_bad_control_frame(server, bystander, memory, kind: str) -> None:
    if kind == 'long':
        data = frame(OP_PING, b'p' * 126)
    else:
        data = frame(OP_PING, b'p', fin=False)
    client = await attack(server, data)
    await expect_close(client, 1002)
    await still_served(server, bystander)


@pytest.mark.parametrize('kind', ['orphan-continuation', 'interleaved-data'])
async def test_a13_bad_fragment_order(server, bystander, memory, kind: str) -> None:
    if kind == 'orphan-continuation':
        data = frame(OP_CONT, b'x')
    else:
        data = frame(OP_TEXT, b'a', fin=False) + frame(OP_TEXT, b'b')
    client = await attack(server, data)
    await expect_close(client, 1002)
    await still_served(server, bystander)


async def test_a14_ping_between_fragments(server, bystander, memory) -> None:
    client = await attack(
        server, frame(OP_TEXT, b'frag', fin=False) + frame(OP_PING, b'now')
    )
    pong = await client.recv_frame()
    assert (pong.opcode, pong.payload) == (OP_PONG, b'now')
    client.write(frame(OP_CONT, b'ment'))
    assert await client.recv_message() == 'fragment'
    await client.aclose()
    await still_served(server, bystander)


@pytest.mark.parametrize(
    ('payload', 'code'),
    [
        (b'\x03', 1002),
        (struct.pack('!H', 999), 1002),
        (struct.pack('!H', 1005), 1002),
        (struct.pack('!H', 1006), 1002),
        (struct.pack('!H', 1015), 1002),
        (struct.pack('!H', 2999), 1002),
        (struct.pack('!H', 5000), 1002),
        (struct.pack('!H', 1000) + b'\xff\xfe', 1007),
    ],
    ids=['1-byte', '999', '1005', '1006', '1015', '2999', '5000', 'bad-utf8'],
)
async def test_a15_bad_close_payload(
    server, bystander, memory, payload: bytes, code: int
) -> None:
    client = await attack(server, frame(OP_CLOSE, payload))
    await expect_close(client, code)
    await still_served(server, bystander)


async def test_a16_frames_after_close_are_ignored(server, bystander, memory) -> None:
    client = await attack(
        server, frame(OP_CLOSE, struct.pack('!H', 1000)) + frame(OP_TEXT, b'late')
    )
    await expect_close(client, 1000)
    await still_served(server, bystander)
    assert 'Exception' not in server.log()


# --- B. UTF-8 ----------------------------------------------------------------


async def test_b17_invalid_utf8_text(server, bystander, memory) -> None:
    client = await attack(server, frame(OP_TEXT, b'ok \xff'))
    await expect_close(client, 1007)
    await still_served(server, bystander)


async def test_b18_invalid_utf8_fails_fast(server, bystander, memory) -> None:
    # A valid sequence split across fragments is accepted...
    client = await attack(
        server, frame(OP_TEXT, b'caf\xc3', fin=False) + frame(OP_CONT, b'\xa9')
    )
    assert await client.recv_message() == 'café'
    # ...and an invalid prefix fails at once, before the message ends.
    client.write(frame(OP_TEXT, b'ab\xc3\x28', fin=False))
    await expect_close(client, 1007)
    await still_served(server, bystander)


@pytest.mark.parametrize(
    'payload',
    [b'\xc0\xaf', b'\xed\xa0\x80', b'\xf4\x90\x80\x80'],
    ids=['overlong', 'surrogate', 'above-10ffff'],
)
async def test_b19_forbidden_sequences(
    server, bystander, memory, payload: bytes
) -> None:
    client = await attack(server, frame(OP_TEXT, payload))
    await expect_close(client, 1007)
    await still_served(server, bystander)


async def test_b20_message_ends_mid_sequence(server, bystander, memory) -> None:
    client = await attack(
        server, frame(OP_TEXT, b'abc', fin=False) + frame(OP_CONT, b'\xe2\x82')
    )
    await expect_close(client, 1007)
    await still_served(server, bystander)
