"""Publish to topics; every subscribed WebSocket gets each message.

``app.hub`` is the app's hub (see ``docs/guide/hub.md``). ``backend``
defines how a publish reaches other processes.
"""

from __future__ import annotations

from .backend import Backend, Event, InProcessBackend

__all__ = ['Backend', 'Event', 'InProcessBackend']
