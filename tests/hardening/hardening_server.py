"""Helpers of the adversarial tests: ``gyrfalcon serve`` as a subprocess.

``start_server(*flags)`` runs ``python -m gyrfalcon serve hardening_app:app``
on 127.0.0.1 port 0 (the port is read from uvicorn's startup line) and
returns a ``Server``: its port, the server process's resident memory
(``VmRSS`` in ``/proc/<pid>/status``) and the app's ``/stats``. The server
runs on the engine ``GYRFALCON_ENGINE`` selects, like every server test.
``conftest.py`` builds the fixtures on these. (This is not ``conftest`` so
that test modules can import it by a name no other directory uses.)
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent.parent / 'server'))

from ws_peers import GUARD, OP_CLOSE, RawClient

HERE = Path(__file__).parent
RUNNING = re.compile(r'Uvicorn running on http://127\.0\.0\.1:(\d+)')

MAX_SIZE = 65536
"""``--ws-max-size`` of the test servers (the M of the cases)."""

MIB = 1 << 20

# Flags every test server gets: a small max_size so that size cases are
# cheap, short timeouts so that timeout cases end quickly.
BASE_FLAGS = (
    '--ws-max-size',
    str(MAX_SIZE),
    '--ws-close-timeout',
    '1',
    '--http-head-timeout',
    '1',
    '--timeout-graceful-shutdown',
    '5',
    '--no-access-log',
)


class Server:
    """A ``gyrfalcon serve`` subprocess."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process = process
        self.port = port
        self.pid = process.pid
        self.lines: list[str] = []

    def rss(self) -> int:
        """The server process's resident set size in bytes."""
        status = Path(f'/proc/{self.pid}/status').read_text()
        match = re.search(r'^VmRSS:\s+(\d+) kB$', status, re.MULTILINE)
        assert match, status
        return int(match.group(1)) * 1024

    def http(self, path: str) -> tuple[int, bytes]:
        """GET ``path`` with a blocking socket; return the status and body."""
        with socket.create_connection(('127.0.0.1', self.port), GUARD) as sock:
            sock.sendall(
                f'GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'.encode()
            )
            data = b''
            while chunk := sock.recv(65536):
                data += chunk
        head, _, body = data.partition(b'\r\n\r\n')
        status = int(head.split(b' ', 2)[1])
        if b'transfer-encoding: chunked' in head.lower():
            decoded = b''
            while True:
                size_line, _, body = body.partition(b'\r\n')
                size = int(size_line, 16)
                if not size:
                    break
                decoded, body = decoded + body[:size], body[size + 2 :]
            body = decoded
        return status, body

    def stats(self) -> dict[str, Any]:
        """The app's counters (see ``hardening_app``)."""
        status, body = self.http('/stats')
        assert status == 200, body
        result: dict[str, Any] = json.loads(body)
        return result

    def wait_stats(self, predicate: Any, what: str) -> dict[str, Any]:
        """Poll ``/stats`` until ``predicate(stats)`` holds."""
        deadline = time.monotonic() + GUARD
        while True:
            stats = self.stats()
            if predicate(stats):
                return stats
            if time.monotonic() > deadline:
                raise AssertionError(f'gave up waiting for {what}: {stats}')
            time.sleep(0.02)

    def log(self) -> str:
        return ''.join(self.lines)

    def stop(self, sig: int = signal.SIGINT) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(GUARD)


@contextlib.contextmanager
def start_server(*flags: str) -> Iterator[Server]:
    """Run ``gyrfalcon serve hardening_app:app`` with ``flags``."""
    process = subprocess.Popen(
        [
            sys.executable,
            '-m',
            'gyrfalcon',
            'serve',
            'hardening_app:app',
            '--app-dir',
            str(HERE),
            '--port',
            '0',
            *BASE_FLAGS,
            *flags,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, 'PYTHONUNBUFFERED': '1'},
    )
    assert process.stderr is not None
    lines: list[str] = []
    port = 0
    deadline = time.monotonic() + 60
    while not port:
        line = process.stderr.readline().decode()
        if not line or time.monotonic() > deadline:
            process.kill()
            raise AssertionError('server did not start:\n' + ''.join(lines))
        lines.append(line)
        match = RUNNING.search(line)
        if match:
            port = int(match.group(1))
    server = Server(process, port)
    server.lines = lines
    stderr = process.stderr

    def drain() -> None:
        for raw in stderr:
            lines.append(raw.decode())

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(GUARD)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(GUARD)
        stderr.close()


_clients: list[RawClient] = []


async def raw_client(server: Server) -> RawClient:
    """A raw client, connected but without a handshake (closed after the test)."""
    client = await RawClient.open(server.port)
    _clients.append(client)
    return client


async def close_clients() -> None:
    """Close every client ``raw_client()`` opened."""
    while _clients:
        client = _clients.pop()
        client.writer.transport.abort()
        await client.aclose()


async def open_client(server: Server, path: str = '/') -> RawClient:
    """A raw client that completed the handshake on ``path``."""
    client = await raw_client(server)
    await client.handshake(path)
    return client


async def still_served(server: Server, bystander: RawClient) -> None:
    """The bystander is echoed, and a new client connects and is echoed."""
    bystander.send_text('still there?')
    assert await bystander.recv_message() == 'still there?'
    newcomer = await open_client(server)
    try:
        newcomer.send_text('hello')
        assert await newcomer.recv_message() == 'hello'
    finally:
        await newcomer.aclose()


async def recv_close(client: RawClient) -> tuple[int, str]:
    """Read frames until the server's Close; answer Pings on the way."""
    while True:
        frame = await client.recv_data_frame()
        if frame.opcode == OP_CLOSE:
            return frame.close
