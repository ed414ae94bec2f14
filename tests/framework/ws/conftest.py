"""Fixtures of the WebSocket suite; the helpers are in ``ws_support.py``."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import gyrfalcon as falcon


@pytest.fixture
def app() -> Any:
    return falcon.asgi.App()


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog
