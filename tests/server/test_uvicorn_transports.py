"""Checklist B1-B2 over other transports: TLS, UNIX sockets, early frames.

TLS matters because asyncio's SSL transport feeds a ``BufferedProtocol``
through ``get_buffer()``/``buffer_updated()`` in pieces of its own.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from uvicorn.importer import import_from_string
from uvicorn.server import ServerState
from websockets.asyncio.client import connect, unix_connect
from ws_peers import (
    GUARD,
    OP_BINARY,
    OP_TEXT,
    Peers,
    eventually,
    serve,
    upgrade_request,
)

from gyrfalcon.protocol import encode_frame

pytestmark = pytest.mark.network


class EchoWithScope:
    def __init__(self) -> None:
        self.scope: dict[str, Any] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scope = scope
        await receive()
        await send({'type': 'websocket.accept'})
        while True:
            message = await receive()
            if message['type'] == 'websocket.disconnect':
                return
            reply = {k: v for k, v in message.items() if k in ('text', 'bytes')}
            await send({'type': 'websocket.send', **reply})


@pytest.fixture(scope='module')
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    directory = tmp_path_factory.mktemp('tls')
    cert, key = directory / 'cert.pem', directory / 'key.pem'
    subprocess.run(
        [
            'openssl',
            'req',
            '-x509',
            '-newkey',
            'rsa:2048',
            '-nodes',
            '-days',
            '1',
            '-subj',
            '/CN=127.0.0.1',
            '-keyout',
            str(key),
            '-out',
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return str(cert), str(key)


async def test_b1_tls_connections_are_wss(
    ws_class: str, certificate: tuple[str, str]
) -> None:
    cert, key = certificate
    app = EchoWithScope()
    context = ssl.create_default_context(cafile=cert)
    context.check_hostname = False
    big = os.urandom(300_000)  # spans many TLS records and reads
    async with serve(app, ws_class, ssl_certfile=cert, ssl_keyfile=key) as running:
        url = f'wss://127.0.0.1:{running.port}/'
        async with connect(url, ssl=context, max_size=None) as client:
            await client.send('over tls')
            assert await client.recv() == 'over tls'
            await client.send(big)
            assert await client.recv() == big
    assert app.scope['scheme'] == 'wss'


async def test_b1_unix_socket(ws_class: str, tmp_path: Path) -> None:
    app = EchoWithScope()
    path = str(tmp_path / 'ws.sock')
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(path)
    config = uvicorn.Config(app, ws=ws_class, uds=path, lifespan='off', log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started, 'server start')
        async with unix_connect(path, uri='ws://localhost/x') as client:
            await client.send('over uds')
            assert await client.recv() == 'over uds'
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, GUARD)
    assert app.scope['server'] == (path, None)
    assert app.scope['client'] is None


async def test_b2_frames_right_after_the_request_head(
    ws_class: str, ws_impl: str
) -> None:
    # uvicorn's HTTP layer drops bytes that follow the head in one read, so
    # this hands the class the head and a frame in one data_received() call,
    # as a server that keeps them would.
    cls = import_from_string(ws_class)
    app = EchoWithScope()
    config = uvicorn.Config(app, ws=cls, lifespan='off', log_config=None)
    loop = asyncio.get_running_loop()
    server_sock, client_sock = socket.socketpair()
    protocol = cls(config=config, server_state=ServerState(), app_state={})
    await loop.connect_accepted_socket(lambda: protocol, server_sock)
    reader, writer = await asyncio.open_connection(sock=client_sock)
    try:
        frame = encode_frame(OP_TEXT, b'early', mask=b'\x01\x02\x03\x04')
        protocol.data_received(upgrade_request(8000) + frame)
        head = await asyncio.wait_for(reader.readuntil(b'\r\n\r\n'), GUARD)
        assert head.startswith(b'HTTP/1.1 101 ')
        writer.write(encode_frame(OP_TEXT, b'later', mask=b'\x05\x06\x07\x08'))
        echo = await asyncio.wait_for(reader.readexactly(7), GUARD)
        if ws_impl == 'wsproto':
            assert echo == b'\x81\x05later'  # the early frame was lost
        else:
            assert echo == b'\x81\x05early'
            echo = await asyncio.wait_for(reader.readexactly(7), GUARD)
            assert echo == b'\x81\x05later'
    finally:
        writer.close()
        await eventually(lambda: protocol.transport.is_closing(), 'close')


async def test_partial_frames_survive_reads_on_other_connections(
    ws_class: str, peers: Peers
) -> None:
    # Our class reads every connection into one shared buffer: what the
    # engine keeps of a partial frame must not change when the buffer is
    # reused by another connection's read.
    app = EchoWithScope()
    async with serve(app, ws_class) as running:
        first = await peers.connect(running.port)
        second = await peers.connect(running.port)
        big = bytes(range(256)) * 40
        frame = encode_frame(OP_BINARY, big, mask=b'\x11\x22\x33\x44')
        first.write(frame[:5000])
        await first.writer.drain()
        await eventually(lambda: len(running.connections) == 2, 'connections')
        for _ in range(3):
            second.send_binary(b'\xee' * 6000)
            assert await second.recv_message() == b'\xee' * 6000
        first.write(frame[5000:])
        assert await first.recv_message() == big
        for client in (first, second):
            client.send_close()
            assert await client.recv_close() == (1000, '')
