"""Gyrfalcon: a Falcon-style ASGI framework for real-time servers.

The WebSocket protocol runs in a Rust engine (``gyrfalcon._native``), with a
pure-Python twin as the fallback (``gyrfalcon.protocol``).
"""

from __future__ import annotations

from .version import __version__

__all__ = ['__version__']
