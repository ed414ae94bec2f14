"""``gyrfalcon serve`` with compression: a zip bomb, and the compression flags.

The bomb is one compressed BINARY message of about 1 MiB that inflates to
1 GiB of zeros. The server must close with 1009 after inflating at most
``--ws-max-size`` bytes, keep serving another client meanwhile, and its
resident memory (``VmRSS``, and the peak ``VmHWM``, from
``/proc/<pid>/status``) must stay within ``RSS_BOUND`` of what it was
before: inflating the whole bomb would cost 1 GiB.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest
from test_cli import run_gyrfalcon
from test_deflate import bomb_frames, send_and_read_close, zeros_stream
from websockets.asyncio.client import connect

from gyrfalcon import cli
from gyrfalcon.server._settings import env_int

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


async def test_serve_compression_flags_on_the_wire() -> None:
    # The flags reach the protocol class (through GYRFALCON_WS_* variables)
    # and show in the response to a browser-like offer.
    async with run_gyrfalcon(
        'serve',
        'cli_app:app',
        '--port',
        '0',
        '--app-dir',
        str(HERE),
        '--ws-deflate-window-bits',
        '10',
        '--ws-deflate-mem-level',
        '3',
        '--no-ws-deflate-context-takeover',
        '--ws-compression-threshold',
        '1000',
    ) as server:
        async with connect(f'ws://127.0.0.1:{server.port}/') as client:
            assert client.response is not None
            header = client.response.headers['Sec-WebSocket-Extensions']
            assert header == (
                'permessage-deflate; server_no_context_takeover; '
                'server_max_window_bits=10; client_max_window_bits=10'
            )
            await client.recv()
            await client.send('x' * 5000)
            assert await client.recv() == 'x' * 5000
        assert await server.stop() == 0


async def test_serve_no_ws_per_message_deflate_declines() -> None:
    async with run_gyrfalcon(
        'serve',
        'cli_app:app',
        '--port',
        '0',
        '--app-dir',
        str(HERE),
        '--no-ws-per-message-deflate',
    ) as server:
        async with connect(f'ws://127.0.0.1:{server.port}/') as client:
            assert client.response is not None
            assert 'Sec-WebSocket-Extensions' not in client.response.headers
        assert await server.stop() == 0


def test_compression_flags_map_to_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    environ: dict[str, str] = {}
    monkeypatch.setattr(os, 'environ', environ)
    monkeypatch.setattr('uvicorn.run', lambda app, **kwargs: calls.append(kwargs))
    assert cli.main(['serve', 'm:app']) == 0
    assert calls[-1]['ws_per_message_deflate'] is True
    assert environ == {}
    args = [
        'serve',
        'm:app',
        '--no-ws-per-message-deflate',
        '--ws-compression-threshold',
        '0',
        '--ws-deflate-window-bits',
        '15',
        '--ws-deflate-mem-level',
        '9',
        '--ws-deflate-context-takeover',
    ]
    assert cli.main(args) == 0
    assert calls[-1]['ws_per_message_deflate'] is False
    assert environ == {
        'GYRFALCON_WS_COMPRESSION_THRESHOLD': '0',
        'GYRFALCON_WS_DEFLATE_WINDOW_BITS': '15',
        'GYRFALCON_WS_DEFLATE_MEM_LEVEL': '9',
        'GYRFALCON_WS_DEFLATE_CONTEXT_TAKEOVER': '1',
    }


@pytest.mark.parametrize(
    ('flag', 'value', 'error'),
    [
        ('--ws-deflate-window-bits', '8', "'8' is not between 9 and 15"),
        ('--ws-deflate-window-bits', '16', "'16' is not between 9 and 15"),
        ('--ws-deflate-mem-level', '0', "'0' is not between 1 and 9"),
        ('--ws-compression-threshold', '-1', "'-1' is negative"),
    ],
)
def test_bad_compression_flags_are_usage_errors(
    flag: str, value: str, error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc_info:
        cli.main(['serve', 'm:app', flag, value])
    assert exc_info.value.code == 2
    assert error in capsys.readouterr().err


@pytest.mark.parametrize(
    ('value', 'error'),
    [
        ('8', 'GYRFALCON_WS_DEFLATE_WINDOW_BITS must be between 9 and 15, not 8'),
        ('x', "GYRFALCON_WS_DEFLATE_WINDOW_BITS must be an integer, not 'x'"),
    ],
)
def test_bad_environment_values_are_refused(
    value: str, error: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv('GYRFALCON_WS_DEFLATE_WINDOW_BITS', value)
    with pytest.raises(ValueError) as exc_info:
        env_int('GYRFALCON_WS_DEFLATE_WINDOW_BITS', 12, 9, 15)
    assert str(exc_info.value) == error
