"""Checklist I1: the class runs on either engine; settings from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from types import ModuleType

import pytest
from websockets.asyncio.client import connect
from ws_peers import echo_app, serve

import gyrfalcon.protocol
from gyrfalcon.protocol import load_engine
from gyrfalcon.server.uvicorn import WebSocketProtocol

pytestmark = pytest.mark.network


def engine_module(name: str) -> ModuleType:
    try:
        return load_engine(name)  # type: ignore[arg-type]
    except ImportError as ex:
        required = os.environ.get('GYRFALCON_REQUIRE_NATIVE', '') not in ('', '0')
        if required:
            raise
        pytest.skip(f'the {name} engine is not available: {ex}')


def test_the_default_engine_is_the_one_gyrfalcon_protocol_selected() -> None:
    assert WebSocketProtocol.engine_class is gyrfalcon.protocol.ServerConnection


@pytest.mark.parametrize('name', ['native', 'python'])
async def test_a_subclass_can_pin_an_engine(name: str) -> None:
    module = engine_module(name)

    class Pinned(WebSocketProtocol):
        engine_class = module.ServerConnection

    async with serve(echo_app, Pinned) as running:
        async with connect(running.url) as client:
            await client.send('pinned')
            assert await client.recv() == 'pinned'
            protocol = await running.connection()
            assert type(protocol._engine) is module.ServerConnection


def read_settings(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = (
        'from gyrfalcon.server.uvicorn import WebSocketProtocol as P; '
        'print(P.close_timeout, P.max_queue_bytes, P.close_on_app_exit)'
    )
    return subprocess.run(
        [sys.executable, '-c', code],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_settings_come_from_the_environment() -> None:
    defaults = read_settings({})
    assert defaults.stdout.split() == ['10.0', '4194304', 'True']
    result = read_settings(
        {
            'GYRFALCON_WS_CLOSE_TIMEOUT': '2.5',
            'GYRFALCON_WS_MAX_QUEUE_BYTES': 'none',
            'GYRFALCON_WS_CLOSE_ON_APP_EXIT': '0',
        }
    )
    assert result.stdout.split() == ['2.5', 'None', 'False'], result.stderr


def test_invalid_settings_fail_at_import() -> None:
    result = read_settings({'GYRFALCON_WS_CLOSE_TIMEOUT': 'soon'})
    assert result.returncode != 0
    assert "GYRFALCON_WS_CLOSE_TIMEOUT must be a number of seconds, not 'soon'" in (
        result.stderr
    )
