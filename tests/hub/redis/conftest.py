"""Fixtures of the Redis backend tests: one real ``redis-server`` per session.

``redis_server`` starts it (``tests/hub/redis_server.py``); ``redis_url``
hands each test an empty database, restarting the server first if an earlier
test killed it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1]))

from redis_server import RedisServer, missing


@pytest.fixture(scope='session')
def redis_server() -> Iterator[RedisServer]:
    """A ``redis-server`` on 127.0.0.1 for the whole session."""
    try:
        import redis.asyncio  # noqa: F401
    except ImportError:
        missing("the 'redis' package is not installed")
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """The URL of an empty database on the session's server."""
    if redis_server.process is None or not redis_server.ping():
        redis_server.restart()
    assert redis_server.command('FLUSHALL') == b'+OK\r\n'
    return redis_server.url
