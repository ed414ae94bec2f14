"""After failing a connection, the server lingers so the peer reads the Close.

A peer that is still sending when the server fails its connection (a
protocol error, invalid UTF-8, a message over ``max_size``) would get a TCP
reset if the server closed the socket with unread input, and a reset can
destroy the Close frame before the peer reads it (the peer then sees 1006).
Our class sends the Close, half-closes (FIN), keeps reading and discarding,
and closes when the peer does (or after a bound).
"""

from __future__ import annotations

import asyncio
import os

import pytest
from ws_peers import IMPLEMENTATIONS, OP_BINARY, OP_TEXT, Peers, echo_app, serve

from gyrfalcon.protocol import encode_frame

pytestmark = pytest.mark.network

OURS = IMPLEMENTATIONS['gyrfalcon']


def frame(opcode: int, payload: bytes, *, rsv1: bool = False) -> bytes:
    return encode_frame(opcode, payload, rsv1=rsv1, mask=os.urandom(4))


@pytest.mark.parametrize(
    'fault, code',
    [
        (frame(OP_TEXT, b'x', rsv1=True), 1002),
        (frame(OP_TEXT, b'\xff'), 1007),
        (frame(OP_BINARY, b'y' * 2048), 1009),
    ],
    ids=['protocol-error', 'invalid-utf8', 'too-big'],
)
async def test_a_peer_still_sending_reads_the_close(
    fault: bytes, code: int, peers: Peers
) -> None:
    junk = frame(OP_BINARY, b'z' * 1000) * 256  # 256 KiB behind the fault
    async with serve(echo_app, OURS, ws_max_size=1024) as running:
        client = await peers.connect(running.port)
        client.write(fault + junk)
        # Keep sending while the server fails the connection.
        for _ in range(4):
            client.write(junk)
            await asyncio.sleep(0)
        assert (await client.recv_close())[0] == code
        # Our side stops sending and closes: the server closes too.
        client.writer.write_eof()
        await client.expect_eof()
