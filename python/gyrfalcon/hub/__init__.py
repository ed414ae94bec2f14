"""Publish to topics; every subscribed WebSocket gets each message.

``app.hub`` is the app's hub; ``docs/guide/hub.md`` is the guide. A message
is serialised and framed once per publish, a slow peer never holds the others
up, and ``backend`` defines how a publish reaches other processes.
"""

from __future__ import annotations

from ._hub import Hub, Subscription, TopicOptions, TopicStats
from .backend import Backend, Event, InProcessBackend

__all__ = [
    'Backend',
    'Event',
    'Hub',
    'InProcessBackend',
    'Subscription',
    'TopicOptions',
    'TopicStats',
]
