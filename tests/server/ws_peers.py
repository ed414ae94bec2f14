"""Servers and peers for the server adapter tests: real sockets on 127.0.0.1.

``serve()`` runs a ``uvicorn.Server`` in-process on a free port with the
WebSocket protocol class under test. ``RawClient`` is a peer that speaks
bytes: it writes hand-built frames (``gyrfalcon.protocol.encode_frame``) and
parses what the server sends with its own small parser, so the tests do not
rely on the engine to read the engine's output.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import struct
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from gyrfalcon.protocol import encode_frame

IMPLEMENTATIONS = {
    'gyrfalcon': 'gyrfalcon.server.uvicorn:WebSocketProtocol',
    'websockets-sansio': (
        'uvicorn.protocols.websockets.websockets_sansio_impl:WebSocketsSansIOProtocol'
    ),
    'wsproto': 'uvicorn.protocols.websockets.wsproto_impl:WSProtocol',
}
"""The WebSocket protocol classes every behaviour test runs against."""

GUARD = 10.0
"""Seconds before a wait that should succeed at once is declared hung.

This is never asserted on: it only turns a hang into a failure.
"""

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


async def eventually(predicate: Callable[[], bool], what: str) -> None:
    """Wait until ``predicate()`` is true, polling the event loop."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GUARD
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f'gave up waiting for {what}')
        await asyncio.sleep(0.005)


async def echo_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A plain ASGI app that accepts and echoes every message."""
    assert (await receive())['type'] == 'websocket.connect'
    await send({'type': 'websocket.accept'})
    while True:
        message = await receive()
        if message['type'] == 'websocket.disconnect':
            return
        reply = {k: v for k, v in message.items() if k in ('text', 'bytes')}
        await send({'type': 'websocket.send', **reply})


def count_writes(transport: Any) -> list[int]:
    """Record the size of every ``transport.write()`` from now on."""
    writes: list[int] = []
    write = transport.write

    def counting_write(data: bytes) -> None:
        writes.append(len(data))
        write(data)

    transport.write = counting_write
    return writes


@dataclass
class Running:
    """A server started by ``serve()``."""

    server: uvicorn.Server
    port: int
    task: asyncio.Task[None]

    @property
    def url(self) -> str:
        return f'ws://127.0.0.1:{self.port}'

    @property
    def connections(self) -> list[Any]:
        return list(self.server.server_state.connections)

    async def connection(self) -> Any:
        """Return the one WebSocket protocol instance, once it exists."""
        await eventually(lambda: len(self.connections) == 1, 'the connection')
        return self.connections[0]

    async def stop(self) -> None:
        """Shut the server down the way SIGTERM does, and wait for it."""
        self.server.should_exit = True
        await asyncio.wait_for(asyncio.shield(self.task), GUARD * 2)


@contextlib.asynccontextmanager
async def serve(app: Any, ws: Any, **config: Any) -> AsyncIterator[Running]:
    """Run ``app`` on uvicorn with the WebSocket class ``ws`` on a free port.

    Keyword arguments go to ``uvicorn.Config``. The server is always shut
    down on exit.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    config.setdefault('lifespan', 'off')
    config.setdefault('log_config', None)
    server = uvicorn.Server(uvicorn.Config(app, ws=ws, **config))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        await eventually(lambda: server.started or task.done(), 'server start')
        if task.done():
            task.result()
            raise AssertionError('server exited during startup')
        running = Running(server, port, task)
        yield running
    finally:
        if not task.done():
            server.should_exit = True
            try:
                await asyncio.wait_for(asyncio.shield(task), GUARD * 2)
            finally:
                if not task.done():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
        sock.close()


@dataclass
class Frame:
    """A frame as the raw client parsed it."""

    fin: bool
    opcode: int
    payload: bytes
    rsv: int = 0
    masked: bool = False

    @property
    def close(self) -> tuple[int, str]:
        assert self.opcode == OP_CLOSE, self
        if not self.payload:
            return 1005, ''
        return struct.unpack('!H', self.payload[:2])[0], self.payload[2:].decode()


@dataclass
class HTTPResponse:
    """An HTTP response head (and body, when read to EOF)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b''
    raw_head: bytes = field(default=b'', repr=False)

    def get_all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key.lower() == name]

    def get(self, name: str) -> str | None:
        values = self.get_all(name)
        return values[0] if values else None


def upgrade_request(
    port: int,
    path: str = '/',
    *,
    method: str = 'GET',
    version: str = '13',
    key: str | None = 'dGhlIHNhbXBsZSBub25jZQ==',
    extra: Sequence[tuple[str, str]] = (),
) -> bytes:
    """Build an upgrade request head."""
    lines = [
        f'{method} {path} HTTP/1.1',
        f'Host: 127.0.0.1:{port}',
        'Upgrade: websocket',
        'Connection: Upgrade',
        f'Sec-WebSocket-Version: {version}',
    ]
    if key is not None:
        lines.append(f'Sec-WebSocket-Key: {key}')
    lines += [f'{name}: {value}' for name, value in extra]
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')


class RawClient:
    """A WebSocket client that writes and reads bytes by hand."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer
        self.response: HTTPResponse | None = None

    @classmethod
    async def open(cls, port: int) -> RawClient:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection('127.0.0.1', port), GUARD
        )
        return cls(reader, writer)

    async def handshake(
        self, path: str = '/', extra: Sequence[tuple[str, str]] = ()
    ) -> HTTPResponse:
        """Complete the opening handshake; the server must answer 101."""
        port = self.writer.get_extra_info('peername')[1]
        key = base64.b64encode(os.urandom(16)).decode()
        self.write(upgrade_request(port, path, key=key, extra=extra))
        response = await self.read_head()
        assert response.status == 101, response
        self.response = response
        return response

    def write(self, data: bytes) -> None:
        self.writer.write(data)

    def send_frame(
        self,
        opcode: int,
        payload: bytes = b'',
        *,
        fin: bool = True,
        rsv1: bool = False,
        masked: bool = True,
    ) -> None:
        mask = os.urandom(4) if masked else None
        self.write(encode_frame(opcode, payload, fin=fin, rsv1=rsv1, mask=mask))

    def send_text(self, text: str) -> None:
        self.send_frame(OP_TEXT, text.encode())

    def send_binary(self, data: bytes) -> None:
        self.send_frame(OP_BINARY, data)

    def send_close(self, code: int | None = 1000, reason: str = '') -> None:
        payload = b'' if code is None else struct.pack('!H', code) + reason.encode()
        self.send_frame(OP_CLOSE, payload)

    async def read_head(self) -> HTTPResponse:
        head = await asyncio.wait_for(self.reader.readuntil(b'\r\n\r\n'), GUARD)
        lines = head.decode('latin-1').split('\r\n')
        status = int(lines[0].split(' ', 2)[1])
        headers = []
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(':')
                headers.append((name.strip(), value.strip()))
        return HTTPResponse(status, headers, raw_head=head)

    async def read_response(self) -> HTTPResponse:
        """Read a whole HTTP response; the server must close afterwards."""
        response = await self.read_head()
        rest = await self.read_to_eof()
        if (response.get('transfer-encoding') or '').lower() == 'chunked':
            body, data = b'', rest
            while True:
                size_line, _, data = data.partition(b'\r\n')
                size = int(size_line, 16)
                if size == 0:
                    break
                body, data = body + data[:size], data[size + 2 :]
            response.body = body
        else:
            response.body = rest
        return response

    async def recv_frame(self) -> Frame:
        read = self.reader.readexactly
        head = await asyncio.wait_for(read(2), GUARD)
        length = head[1] & 0x7F
        if length == 126:
            length = struct.unpack('!H', await read(2))[0]
        elif length == 127:
            length = struct.unpack('!Q', await read(8))[0]
        mask = await read(4) if head[1] & 0x80 else None
        payload = await asyncio.wait_for(read(length), GUARD)
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return Frame(
            fin=bool(head[0] & 0x80),
            opcode=head[0] & 0x0F,
            payload=payload,
            rsv=(head[0] >> 4) & 0x07,
            masked=mask is not None,
        )

    async def recv_data_frame(self) -> Frame:
        """Return the next frame that is not a Ping (pings are answered)."""
        while True:
            frame = await self.recv_frame()
            if frame.opcode == OP_PING:
                self.send_frame(OP_PONG, frame.payload)
                continue
            return frame

    async def recv_message(self) -> str | bytes:
        frame = await self.recv_data_frame()
        assert frame.opcode in (OP_TEXT, OP_BINARY), frame
        assert frame.fin, frame
        return frame.payload.decode() if frame.opcode == OP_TEXT else frame.payload

    async def recv_close(self) -> tuple[int, str]:
        frame = await self.recv_data_frame()
        return frame.close

    async def read_to_eof(self) -> bytes:
        return await asyncio.wait_for(self.reader.read(), GUARD)

    async def expect_eof(self) -> None:
        """Wait until the server closes TCP; no further bytes may arrive."""
        rest = await self.read_to_eof()
        assert rest == b'', rest

    async def expect_closed_without_close_frame(self) -> None:
        """Wait until TCP ends while no Close frame arrives (a 1006)."""
        while True:
            try:
                frame = await self.recv_frame()
            except asyncio.IncompleteReadError as ex:
                assert ex.partial == b''
                return
            except ConnectionResetError:
                return
            assert frame.opcode == OP_PING, frame

    async def aclose(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


class Peers:
    """Open raw clients (``ws_peers.RawClient``) and close them all at the end."""

    def __init__(self) -> None:
        self.clients: list[RawClient] = []

    async def open(self, port: int) -> RawClient:
        client = await RawClient.open(port)
        self.clients.append(client)
        return client

    async def connect(
        self, port: int, path: str = '/', extra: Sequence[tuple[str, str]] = ()
    ) -> RawClient:
        client = await self.open(port)
        await client.handshake(path, extra)
        return client

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()
