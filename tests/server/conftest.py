"""Fixtures for the server adapter tests (``tests/server``)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import pytest
from ws_peers import IMPLEMENTATIONS, Peers


@pytest.fixture(params=list(IMPLEMENTATIONS))
def ws_impl(request: pytest.FixtureRequest) -> str:
    """The name of the WebSocket protocol class under test.

    ``'gyrfalcon'`` is ours; ``'websockets-sansio'`` and ``'wsproto'`` are
    uvicorn's. Tests state each class's expected result where they differ.
    """
    name: str = request.param
    return name


@pytest.fixture
def ws_class(ws_impl: str) -> str:
    """The import string of the WebSocket protocol class under test."""
    return IMPLEMENTATIONS[ws_impl]


@pytest.fixture
def ours(ws_impl: str) -> bool:
    """Whether the class under test is Gyrfalcon's."""
    return ws_impl == 'gyrfalcon'


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int | None = None) -> list[str]:
        return [
            record.getMessage()
            for record in self.records
            if level is None or record.levelno == level
        ]


@pytest.fixture
def uvicorn_log() -> Iterator[_Records]:
    """Capture ``uvicorn.error`` records at INFO and above."""
    logger = logging.getLogger('uvicorn.error')
    handler = _Records()
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.fixture
async def peers() -> AsyncIterator[Peers]:
    """A factory of raw clients that are closed when the test ends."""
    result = Peers()
    try:
        yield result
    finally:
        await result.aclose()
