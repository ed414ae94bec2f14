"""Server memory per WebSocket connection, with and without permessage-deflate.

For each setting, this starts ``gyrfalcon serve`` (a subprocess, the echo app
beside this file) and opens ``--connections`` clients that offer
``permessage-deflate; client_max_window_bits`` as browsers do. It reads the
server's ``VmRSS`` from ``/proc/<pid>/status``:

* **idle**: after every client completed the handshake (an app task waits in
  ``receive()`` on each);
* **after messages**: after each client sent one compressed 1 KiB JSON-like
  message and read its compressed echo (so the server's compressor and
  decompressor were used; with context takeover they stay allocated).

Each figure is the RSS growth over a server with one warm connection,
divided by the number of connections. Bounded: at most ``--connections``
(default 500) per setting and ``--timeout`` seconds per phase.

Usage::

    python3 benchmarks/memory/deflate.py                 # the table in
                                                         # docs/topics/compression.md
    python3 benchmarks/memory/deflate.py --engine python
    python3 benchmarks/memory/deflate.py --quick         # defaults and off only
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import resource
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RUNNING = re.compile(rb'Uvicorn running on http://127\.0\.0\.1:(\d+)')
TAIL = b'\x00\x00\xff\xff'


@dataclass(frozen=True)
class Setting:
    """One server configuration."""

    deflate: bool = True
    window_bits: int = 12
    mem_level: int = 5
    takeover: bool = True

    def label(self) -> str:
        if not self.deflate:
            return 'off'
        takeover = 'takeover' if self.takeover else 'no takeover'
        return f'{self.window_bits}/{self.mem_level}, {takeover}'

    def flags(self) -> list[str]:
        if not self.deflate:
            return ['--no-ws-per-message-deflate']
        return [
            '--ws-deflate-window-bits',
            str(self.window_bits),
            '--ws-deflate-mem-level',
            str(self.mem_level),
            '--ws-deflate-context-takeover'
            if self.takeover
            else '--no-ws-deflate-context-takeover',
        ]


def rss(pid: int) -> int:
    """Return the resident set size of a process, in bytes."""
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        if line.startswith('VmRSS:'):
            return int(line.split()[1]) * 1024
    raise RuntimeError('no VmRSS')


def message(index: int) -> bytes:
    """A 1 KiB JSON-like text message, different for every client."""
    body = json.dumps(
        {'seq': index, 'topic': 'prices', 'values': list(range(index % 50, 200))}
    ).encode()
    return (body * (1024 // len(body) + 1))[:1024]


class Client:
    """A minimal client: handshake with a deflate offer, one compressed echo."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader = reader
        self.writer = writer
        self.client_bits = 15
        self.deflate = False

    @classmethod
    async def open(cls, port: int) -> Client:
        reader, writer = await asyncio.open_connection('127.0.0.1', port)
        client = cls(reader, writer)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f'GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n'
                'Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n'
                f'Sec-WebSocket-Key: {key}\r\n'
                'Sec-WebSocket-Extensions: permessage-deflate; '
                'client_max_window_bits\r\n\r\n'
            ).encode()
        )
        head = (await reader.readuntil(b'\r\n\r\n')).decode('latin-1')
        assert head.startswith('HTTP/1.1 101 '), head
        for line in head.split('\r\n'):
            name, _, value = line.partition(':')
            if name.lower() == 'sec-websocket-extensions':
                client.deflate = True
                found = re.search(r'client_max_window_bits=(\d+)', value)
                if found:
                    client.client_bits = int(found.group(1))
        return client

    async def echo(self, index: int) -> None:
        data = message(index)
        if self.deflate:
            compressor = zlib.compressobj(6, zlib.DEFLATED, -self.client_bits)
            payload = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
            payload, first = payload[:-4], 0xC1  # FIN, RSV1, TEXT
        else:
            payload, first = data, 0x81
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.writer.write(
            struct.pack('!BB', first, 0x80 | len(payload)) + mask + masked
            if len(payload) < 126
            else struct.pack('!BBH', first, 0xFE, len(payload)) + mask + masked
        )
        head = await self.reader.readexactly(2)
        length = head[1] & 0x7F
        if length == 126:
            length = struct.unpack('!H', await self.reader.readexactly(2))[0]
        reply = await self.reader.readexactly(length)
        if head[0] & 0x40:
            reply = zlib.decompressobj(-15).decompress(reply + TAIL)
        assert reply == data

    def close(self) -> None:
        self.writer.close()


async def measure(
    setting: Setting, connections: int, engine: str, timeout: float
) -> tuple[float, float]:
    """Return (idle, after messages) server RSS per connection, in KiB."""
    env = dict(os.environ, GYRFALCON_ENGINE=engine)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        '-m',
        'gyrfalcon',
        'serve',
        'echo_app:app',
        '--app-dir',
        str(HERE),
        '--port',
        '0',
        '--ws-ping-interval',
        '0',
        '--lifespan',
        'off',
        '--no-access-log',
        *setting.flags(),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    assert process.stderr is not None
    clients: list[Client] = []
    try:
        while True:
            line = await asyncio.wait_for(process.stderr.readline(), timeout)
            if not line:
                raise RuntimeError('the server exited')
            found = RUNNING.search(line)
            if found:
                port = int(found.group(1))
                break
        warm = await Client.open(port)
        await warm.echo(0)
        await asyncio.sleep(0.2)
        base = rss(process.pid)
        for start in range(0, connections, 100):
            batch = range(start, min(start + 100, connections))
            opened = [Client.open(port) for _ in batch]
            clients += await asyncio.wait_for(asyncio.gather(*opened), timeout)
        await asyncio.sleep(0.2)
        idle = rss(process.pid)
        for start in range(0, connections, 100):
            batch = clients[start : start + 100]
            echoes = [c.echo(start + i) for i, c in enumerate(batch)]
            await asyncio.wait_for(asyncio.gather(*echoes), timeout)
        await asyncio.sleep(0.2)
        used = rss(process.pid)
        warm.close()
    finally:
        for client in clients:
            client.close()
        if process.returncode is None:
            process.kill()
        await process.wait()
    return (idle - base) / connections / 1024, (used - base) / connections / 1024


def settings(quick: bool) -> list[Setting]:
    """The settings to measure, in table order."""
    chosen = [Setting(deflate=False), Setting()]
    if quick:
        return chosen
    for bits in range(9, 16):
        for level in (1, 5, 8, 9):
            for takeover in (True, False):
                setting = Setting(True, bits, level, takeover)
                if setting not in chosen:
                    chosen.append(setting)
    return chosen


async def main(argv: list[str] | None = None) -> int:
    """Measure every setting and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.partition('\n')[0])
    parser.add_argument('--connections', type=int, default=500)
    parser.add_argument('--engine', choices=('native', 'python'), default='native')
    parser.add_argument('--timeout', type=float, default=60.0)
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--json', type=Path, help='also write the results here')
    args = parser.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4 * args.connections), hard))

    print(
        f'{args.connections} connections, {args.engine} engine; server RSS '
        'growth per connection (KiB)\n'
    )
    print('| setting (window bits/memLevel) | idle | after messages |')
    print('|---|---|---|')
    results = []
    for setting in settings(args.quick):
        idle, used = await measure(setting, args.connections, args.engine, args.timeout)
        results.append({'setting': setting.label(), 'idle': idle, 'used': used})
        print(f'| {setting.label()} | {idle:.1f} | {used:.1f} |', flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(asyncio.run(main()))
