"""A zip bomb against ``gyrfalcon serve``, a subprocess, on real sockets.

The bomb is one compressed BINARY message of about 1 MiB that inflates to
1 GiB of zeros. The server must close with 1009 after inflating at most
``--ws-max-size`` bytes, keep serving another client meanwhile, and its
resident memory (``VmRSS``, and the peak ``VmHWM``, from
``/proc/<pid>/status``) must stay within ``RSS_BOUND`` of what it was
before: inflating the whole bomb would cost 1 GiB.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from test_cli import run_gyrfalcon
from test_deflate import bomb_frames, send_and_read_close, zeros_stream
from websockets.asyncio.client import connect

pytestmark = [
    pytest.mark.network,
    pytest.mark.skipif(
        not Path('/proc/self/status').exists(), reason='needs /proc/<pid>/status'
    ),
]

HERE = Path(__file__).parent
MAX_SIZE = 4 << 20
RSS_BOUND = 3 * MAX_SIZE + (8 << 20)
"""Growth allowed: the inflated message up to the limit, twice over (the
engine's buffer and zlib's output), the compressed bytes in flight, and
allocator slack. A bomb inflated in full would grow by 1 GiB."""


def memory(pid: int) -> dict[str, int]:
    """Return ``VmRSS`` and ``VmHWM`` of a process, in bytes."""
    values = {}
    for line in Path(f'/proc/{pid}/status').read_text().splitlines():
        name, _, rest = line.partition(':')
        if name in ('VmRSS', 'VmHWM'):
            values[name] = int(rest.split()[0]) * 1024
    return values


@pytest.mark.parametrize('fragment', [None, 65536])
async def test_zip_bomb_closes_1009_and_memory_stays_bounded(
    fragment: int | None,
) -> None:
    data = bomb_frames(zeros_stream(1024), fragment)  # 1 GiB of zeros
    assert len(data) < 2 << 20
    async with run_gyrfalcon(
        'serve',
        'cli_app:app',
        '--port',
        '0',
        '--app-dir',
        str(HERE),
        '--ws-max-size',
        str(MAX_SIZE),
        '--ws-ping-interval',
        '0',
    ) as server:
        pid = server.process.pid
        async with connect(f'ws://127.0.0.1:{server.port}/') as other:
            await other.recv()  # the app's report
            # Warm up: a compressed exchange, so zlib's state is allocated.
            await other.send('warm ' * 1000)
            assert await other.recv() == 'warm ' * 1000
            before = memory(pid)

            bomb = asyncio.create_task(
                asyncio.to_thread(send_and_read_close, server.port, data)
            )
            # The other client keeps being served while the bomb goes off.
            count = 0
            while not bomb.done() or count < 10:
                message = f'still here {count} ' * 20
                await other.send(message)
                assert await other.recv() == message
                count += 1
            assert await bomb == (1009, f'message exceeds {MAX_SIZE} bytes')
            after = memory(pid)
            message = 'after ' * 1000
            await other.send(message)
            assert await other.recv() == message
        assert await server.stop() == 0
    assert after['VmRSS'] - before['VmRSS'] < RSS_BOUND, (before, after)
    assert after['VmHWM'] - before['VmRSS'] < RSS_BOUND, (before, after)
