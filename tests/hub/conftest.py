"""Fixtures for the hub tests (``tests/hub``): real servers, real peers."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / 'server'))
