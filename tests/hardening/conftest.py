"""Fixtures for the adversarial tests: ``gyrfalcon serve`` as a subprocess.

The servers come from ``hardening_server.start_server()``.

Each test module starts its servers once (module-scoped fixtures) with the
flags its cases need; ``bystander`` is a client connected before the attack
that must still be served after it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from hardening_server import (
    MIB,
    RawClient,
    Server,
    close_clients,
    open_client,
    start_server,
)


@pytest.fixture(scope='module')
def server() -> Iterator[Server]:
    """The default test server: default limits, Origin allow-list on."""
    with start_server(
        '--ws-allowed-origins',
        'http://good.example,https://*.example.com,none',
    ) as running:
        yield running


@pytest.fixture(autouse=True)
async def _close_clients() -> AsyncIterator[None]:
    yield
    await close_clients()


@pytest.fixture
async def bystander(server: Server) -> AsyncIterator[RawClient]:
    """A client connected before the attack; ``still_served()`` checks it."""
    yield await open_client(server)


@pytest.fixture
def memory(server: Server) -> Iterator[Any]:
    """Check that the server's RSS grew less than ``memory.bound`` bytes.

    Tests set ``memory.bound`` (and say why in a comment); it is checked
    when the test ends, after the attack.
    """

    class Memory:
        bound = 16 * MIB
        before = server.rss()

        @staticmethod
        def growth() -> int:
            return server.rss() - Memory.before

    yield Memory
    growth = Memory.growth()
    assert growth < Memory.bound, (
        f'server RSS grew by {growth / MIB:.1f} MiB (bound {Memory.bound / MIB} MiB)'
    )
