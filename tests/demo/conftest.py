"""Fixtures of the demo tests: real servers on 127.0.0.1, real clients."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from demo_peers import CLIENTS, SERVER_CLASSES, Peers


@pytest.fixture(params=CLIENTS)
def client(request: pytest.FixtureRequest) -> str:
    """The client library the test's peers use."""
    name: str = request.param
    return name


@pytest.fixture(params=list(SERVER_CLASSES))
def server_class(request: pytest.FixtureRequest) -> str:
    """The import string of the uvicorn WebSocket protocol class under test."""
    return SERVER_CLASSES[request.param]


@pytest.fixture
async def peers(client: str) -> AsyncIterator[Peers]:
    """Opens client connections and closes them when the test ends."""
    result = Peers(client)
    try:
        yield result
    finally:
        await result.aclose()
