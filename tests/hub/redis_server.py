"""A real ``redis-server`` on 127.0.0.1 for the Redis backend tests.

``RedisServer`` launches ``redis-server --port <free port> --bind 127.0.0.1
--save '' --appendonly no`` (nothing is written to disk, so a restart starts
empty, as a crashed cache would), waits until it answers ``PING``, and stops
it. ``restart()`` kills it and starts a new one on the same port: the
broker restart of the reconnection tests.

When ``redis-server`` (Debian package ``redis-server``) or the ``redis``
package is missing, the tests that need them are skipped, unless CI runs
them (``CI`` or ``GYRFALCON_REQUIRE_NATIVE=1`` set): then they fail with a
message that says what to install.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

STARTUP = 10.0
"""Seconds a server may take to answer PING (a guard, never asserted on)."""


def required() -> bool:
    """Tell whether missing Redis pieces fail the tests (CI) or skip them."""
    for name in ('CI', 'GYRFALCON_REQUIRE_NATIVE'):
        value = os.environ.get(name, '').strip().lower()
        if value not in ('', '0', 'false', 'no'):
            return True
    return False


def missing(what: str) -> None:
    """Skip the test, or fail it when CI requires Redis."""
    if required():
        pytest.fail(
            f'{what} (CI runs the Redis backend tests against a real server: '
            "apt-get install redis-server, pip install 'gyrfalcon[redis]')",
            pytrace=False,
        )
    pytest.skip(what)


def free_port() -> int:
    """Return a port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1, on a port of its own."""

    def __init__(self) -> None:
        executable = shutil.which('redis-server')
        if executable is None:
            missing('redis-server is not installed')
        self.executable = executable or ''
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.directory = tempfile.mkdtemp(prefix='gyrfalcon-redis-')

    @property
    def url(self) -> str:
        """The URL of database 0."""
        return f'redis://127.0.0.1:{self.port}/0'

    def start(self) -> None:
        """Start the server (on a free port the first time) and wait for it."""
        for attempt in range(3):
            if not self.port or attempt:
                self.port = free_port()
            self._spawn()
            if self._wait_ready():
                return
            self.stop()
        raise RuntimeError(f'redis-server did not start on port {self.port}')

    def _spawn(self) -> None:
        self.process = subprocess.Popen(
            [
                self.executable,
                '--port',
                str(self.port),
                '--bind',
                '127.0.0.1',
                '--save',
                '',
                '--appendonly',
                'no',
                '--dir',
                self.directory,
                '--loglevel',
                'warning',
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _wait_ready(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False  # exited: the port was taken meanwhile
            if self.ping():
                return True
            time.sleep(0.01)
        return False

    def ping(self) -> bool:
        """Tell whether the server answers ``PING`` now."""
        try:
            with socket.create_connection(('127.0.0.1', self.port), 1.0) as sock:
                sock.sendall(b'PING\r\n')
                return sock.recv(64).startswith(b'+PONG')
        except OSError:
            return False

    def stop(self) -> None:
        """Kill the server (as a crash would) and wait for it to exit."""
        process, self.process = self.process, None
        if process is None:
            return
        process.kill()
        process.wait()

    def restart(self) -> None:
        """Kill the server and start an empty one on the same port."""
        self.stop()
        deadline = time.monotonic() + STARTUP
        while True:
            self._spawn()
            if self._wait_ready():
                return
            self.stop()
            if time.monotonic() > deadline:
                raise RuntimeError(f'redis-server did not restart on {self.port}')
            time.sleep(0.05)

    def command(self, *args: str) -> bytes:
        """Send one command with a raw socket and return the raw reply."""
        request = f'*{len(args)}\r\n'.encode()
        for arg in args:
            data = arg.encode()
            request += b'$%d\r\n%s\r\n' % (len(data), data)
        with socket.create_connection(('127.0.0.1', self.port), 5.0) as sock:
            sock.sendall(request)
            return sock.recv(65536)

    def close(self) -> None:
        """Stop the server and remove its directory."""
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
