"""README.md: its first app runs as the README says, on ``gyrfalcon serve``.

The README's ```` ```python ```` block is written to ``myapp.py`` in a
temporary directory and served with ``gyrfalcon serve myapp:app`` (the
command the README shows), then the ``websockets`` client talks to it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_cli import run_gyrfalcon
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

pytestmark = pytest.mark.network

README = Path(__file__).parents[2] / 'README.md'
_BLOCK = re.compile(r'^```python\n(.*?)^```$', re.DOTALL | re.MULTILINE)


def test_readme_shows_the_serve_command() -> None:
    assert 'gyrfalcon serve myapp:app' in README.read_text()


async def test_the_first_app_runs_on_gyrfalcon_serve(tmp_path: Path) -> None:
    (block,) = _BLOCK.findall(README.read_text())
    (tmp_path / 'myapp.py').write_text(block)
    async with run_gyrfalcon(
        'serve', 'myapp:app', '--port', '0', '--app-dir', str(tmp_path)
    ) as server:
        async with connect(f'ws://127.0.0.1:{server.port}/echo') as client:
            await client.send('hello')
            assert json.loads(await client.recv()) == {'echo': 'hello'}
            await client.send(b'\x01\x02')
            # A BINARY message arrives as bytes, which JSON cannot hold: the
            # responder's error closes the connection with 1011.
            with pytest.raises(ConnectionClosedError) as info:
                await client.recv()
            assert info.value.rcvd is not None
            assert info.value.rcvd.code == 1011
        assert await server.stop() == 0
