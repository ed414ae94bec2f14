"""Measure the server's resident memory per idle WebSocket connection.

Run from the repository root (``PYTHONPATH=python`` in a checkout)::

    python tests/hardening/measure_rss.py [CONNECTIONS] [-- SERVE FLAGS...]

It starts ``gyrfalcon serve`` (the ``hardening_app`` echo route, defaults
otherwise) on a free port, reads ``VmRSS`` from ``/proc/<pid>/status``,
opens CONNECTIONS (default 5000) WebSocket connections that stay idle, waits
until every app call runs, reads ``VmRSS`` again and prints the difference
per connection. ``docs/topics/security.md`` quotes its output.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from hardening_server import start_server
from ws_peers import RawClient


async def measure(count: int, flags: list[str]) -> None:
    with start_server(*flags) as server:
        # One connection first, so that one-time costs are not counted.
        warm = await RawClient.open(server.port)
        await warm.handshake()
        await asyncio.sleep(0.5)
        before = server.rss()
        clients = []
        for _ in range(count):
            client = await RawClient.open(server.port)
            await client.handshake()
            clients.append(client)
        await asyncio.to_thread(
            server.wait_stats, lambda s: s['running'] >= count + 1, 'the app calls'
        )
        await asyncio.sleep(0.5)
        after = server.rss()
        print(
            f'{count} idle connections: RSS {before / 2**20:.1f} -> '
            f'{after / 2**20:.1f} MiB, {(after - before) / count / 1024:.1f} KiB '
            'per connection'
        )
        for client in [warm, *clients]:
            client.writer.transport.abort()


def main() -> None:
    args = sys.argv[1:]
    flags: list[str] = []
    if '--' in args:
        index = args.index('--')
        args, flags = args[:index], args[index + 1 :]
    asyncio.run(measure(int(args[0]) if args else 5000, flags))


if __name__ == '__main__':
    main()
