"""The ``gyrfalcon`` command: ``serve``, ``demo`` and ``--version``.

Servers run as subprocesses (``python -m gyrfalcon``) on 127.0.0.1; the bound
port is read from uvicorn's startup line. Each is stopped with SIGINT.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect

import gyrfalcon.protocol
from gyrfalcon import __version__, cli

pytestmark = pytest.mark.network

HERE = Path(__file__).parent
RUNNING = re.compile(r'Uvicorn running on http://127\.0\.0\.1:(\d+)')
GUARD = 60.0


class Process:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self.port = 0
        self._drain: asyncio.Task[None] | None = None

    async def wait_for_line(self, pattern: re.Pattern[str]) -> re.Match[str]:
        assert self.process.stderr is not None
        while True:
            line = await asyncio.wait_for(self.process.stderr.readline(), GUARD)
            if not line:
                raise AssertionError('server exited:\n' + ''.join(self.lines))
            self.lines.append(line.decode())
            match = pattern.search(self.lines[-1])
            if match:
                return match

    def drain(self) -> None:
        async def read_all() -> None:
            assert self.process.stderr is not None
            async for line in self.process.stderr:
                self.lines.append(line.decode())

        self._drain = asyncio.create_task(read_all())

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
        status = await asyncio.wait_for(self.process.wait(), GUARD)
        if self._drain is not None:
            await asyncio.wait_for(self._drain, GUARD)
        return status


@contextlib.asynccontextmanager
async def run_gyrfalcon(*args: str, port: int = 0) -> AsyncIterator[Process]:
    process = Process(
        await asyncio.create_subprocess_exec(
            sys.executable,
            '-m',
            'gyrfalcon',
            *args,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
    )
    try:
        match = await process.wait_for_line(RUNNING)
        process.port = port or int(match.group(1))
        process.drain()
        yield process
    finally:
        if process.process.returncode is None:
            process.process.kill()
            await process.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port: int = sock.getsockname()[1]
        return port


async def hello(port: int) -> dict[str, Any]:
    # With --workers or --reload, the parent binds the socket and logs the
    # startup line before a worker listens: retry refused connections.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GUARD
    while True:
        try:
            return await exchange(port)
        except ConnectionRefusedError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.05)


async def exchange(port: int) -> dict[str, Any]:
    async with connect(f'ws://127.0.0.1:{port}/') as client:
        report: dict[str, Any] = json.loads(await client.recv())
        await client.send('echo?')
        assert await client.recv() == 'echo?'
    return report


async def test_serve_runs_the_app_on_our_class() -> None:
    async with run_gyrfalcon(
        'serve', 'cli_app:app', '--port', '0', '--app-dir', str(HERE)
    ) as server:
        report = await hello(server.port)
        assert await server.stop() == 0
    assert report['channel'] is True  # our class offers the engine channel
    assert report['close_timeout'] == 10.0
    assert report['close_on_app_exit'] is True


async def test_serve_settings_reach_worker_processes() -> None:
    port = free_port()
    async with run_gyrfalcon(
        'serve',
        'cli_app:app',
        '--port',
        str(port),
        '--app-dir',
        str(HERE),
        '--workers',
        '2',
        '--ws-close-timeout',
        '3.5',
        '--ws-max-queue-bytes',
        '0',
        '--no-ws-close-on-app-exit',
        '--root-path',
        '/mounted',
        port=port,
    ) as server:
        report = await hello(server.port)
        assert report['pid'] != server.process.pid  # served by a worker
        assert await server.stop() == 0
    assert report['close_timeout'] == 3.5
    assert report['max_queue_bytes'] is None
    assert report['close_on_app_exit'] is False
    assert report['root_path'] == '/mounted'


async def test_serve_settings_reach_the_reloader_process(tmp_path: Path) -> None:
    port = free_port()
    async with run_gyrfalcon(
        'serve',
        'cli_app:app',
        '--port',
        str(port),
        '--app-dir',
        str(HERE),
        '--reload',
        '--reload-dir',
        str(tmp_path),
        '--ws-close-timeout',
        '1.25',
        port=port,
    ) as server:
        report = await hello(server.port)
        assert await server.stop() == 0
    assert report['close_timeout'] == 1.25


async def test_serve_reports_a_bad_import_string() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        '-m',
        'gyrfalcon',
        'serve',
        'no_such_module_here:app',
        '--port',
        '0',
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), GUARD)
    assert process.returncode != 0
    assert 'Could not import module "no_such_module_here"' in stderr.decode()
    assert 'Traceback' not in stderr.decode()


async def run(*args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        '-m',
        'gyrfalcon',
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), GUARD)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


async def test_version() -> None:
    status, stdout, _ = await run('--version')
    assert status == 0
    assert stdout.startswith(f'gyrfalcon {__version__} (')
    assert f'({gyrfalcon.protocol.ENGINE} engine)' in stdout
    assert 'uvicorn' in stdout


def test_demo_without_the_demo_app_fails_clearly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, 'DEMO_APP', 'gyrfalcon.no_such_demo:app')
    monkeypatch.setattr('uvicorn.run', lambda *args, **kwargs: pytest.fail('ran'))
    assert cli.main(['demo', '--port', '0']) == 1
    error = capsys.readouterr().err
    assert 'the demo app (gyrfalcon.no_such_demo:app) is not part of' in error


async def test_demo_serves_the_demo_app() -> None:
    async with run_gyrfalcon('demo', '--port', '0') as server:
        assert server.port > 0
        assert await server.stop() == 0


async def test_no_command_prints_usage() -> None:
    status, _, stderr = await run()
    assert status == 2
    assert 'usage: gyrfalcon' in stderr


def test_console_script_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    # pyproject.toml declares gyrfalcon = gyrfalcon.__main__:main.
    from gyrfalcon.__main__ import main

    monkeypatch.setattr(sys, 'argv', ['gyrfalcon', '--version'])
    with pytest.raises(SystemExit) as exc_info:
        main()
    assert exc_info.value.code == 0


def test_options_map_to_uvicorn(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, dict[str, Any]]] = []
    environ: dict[str, str] = {}
    monkeypatch.setattr(os, 'environ', environ)
    monkeypatch.setattr(
        'uvicorn.run', lambda app, **kwargs: calls.append((app, kwargs))
    )
    status = cli.main(
        [
            'serve',
            'pkg.mod:app',
            '--ws-ping-interval',
            '0',
            '--ws-ping-timeout',
            '0',
            '--ws-max-size',
            '1024',
            '--ws-max-queue',
            '8',
            '--header',
            'X-Served-By: gyrfalcon',
            '--no-proxy-headers',
            '--forwarded-allow-ips',
            '10.0.0.1',
            '--timeout-graceful-shutdown',
            '5',
            '--loop',
            'asyncio',
            '--http',
            'h11',
        ]
    )
    assert status == 0
    app, kwargs = calls[0]
    assert app == 'pkg.mod:app'
    assert kwargs['ws'] == 'gyrfalcon.server.uvicorn:WebSocketProtocol'
    assert kwargs['ws_ping_interval'] is None  # 0 disables keepalive
    assert kwargs['ws_ping_timeout'] is None
    assert kwargs['ws_max_size'] == 1024
    assert kwargs['ws_max_queue'] == 8
    assert kwargs['headers'] == [('X-Served-By', 'gyrfalcon')]
    assert kwargs['proxy_headers'] is False
    assert kwargs['forwarded_allow_ips'] == '10.0.0.1'
    assert kwargs['timeout_graceful_shutdown'] == 5
    assert (kwargs['loop'], kwargs['http']) == ('asyncio', 'h11')
    # Settings of our own go through the environment only when given.
    assert environ == {}


def test_bad_options_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc_info:
        cli.main(['serve', 'm:app', '--ws-ping-interval', '-1'])
    assert exc_info.value.code == 2
    assert "'-1' is negative" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(['serve', 'm:app', '--header', 'no-colon'])
    assert "--header 'no-colon' is not NAME:VALUE" in capsys.readouterr().err
