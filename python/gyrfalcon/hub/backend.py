"""Hub backends: how a publish reaches the hubs of every process.

A ``Hub`` fans messages out to the WebSockets of *its own* process. A
backend carries each published event to every process that has a subscriber
for its topic (this one included) and calls the ``deliver`` callback it was
started with there, exactly once per event and process. The hub then frames
the event once and writes it to its local subscribers.

``InProcessBackend`` is the default. It does not cross processes: with
``--workers 4`` each worker has its own hub, and a publish in one worker
reaches only the WebSockets connected to that worker. Use a shared backend
(``gyrfalcon.hub.redis.RedisBackend``) to publish across processes and
machines.

Writing a backend: subclass ``Backend`` and implement every method. The hub
calls ``start()`` once before anything else (lazily, on first use) and
``stop()`` once at the end; ``subscribe()``/``unsubscribe()`` are called per
topic as its first local subscriber arrives and its last one leaves (the hub
reference-counts, and serialises the two calls per topic), so one broker
subscription per topic and process is enough. ``deliver`` and ``gap`` are
plain functions that never block and never raise: call them from the task
that reads the broker, as soon as the event is read.

NOTE(gyrfalcon): One addition to the shape agreed in issue 6: ``publish()``
    takes a keyword-only ``retain`` (0 for a live topic). A resumable topic
    (``hub.configure(topic, retain=N)``) publishes with ``retain=N``: the
    backend then stores the event, gives it an id (``Event.event_id`` of
    what ``deliver`` receives) and keeps at least the last ``N`` events of
    the topic for ``replay()``. Passing it per call keeps backends stateless
    about topic options: every process configures its topics in code, and
    an event id is only ever assigned where the event is stored.
"""

from __future__ import annotations

import abc
import collections
import secrets
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ['Backend', 'Deliver', 'Event', 'Gap', 'InProcessBackend']


@dataclass(frozen=True, slots=True)
class Event:
    """One published message, as a backend carries it.

    Attributes:
        payload (str | bytes): The message: ``str`` for TEXT, ``bytes`` for
            BINARY (media are serialised once, before the backend sees them).
        event_id (str | None): The id the backend gave the event on a
            resumable topic (opaque to the hub; ids of one topic increase in
            publication order), ``None`` on a live topic.
    """

    payload: str | bytes
    event_id: str | None = None


Deliver = Callable[[str, Event], None]
"""``deliver(topic, event)``: fan an event out to this process's subscribers."""

Gap = Callable[[str], None]
"""``gap(topic)``: tell this process's subscribers that events may be lost."""


class Backend(abc.ABC):
    """The transport between the hubs of one or more processes.

    See the module docstring for the calling protocol.
    """

    @abc.abstractmethod
    async def start(self, deliver: Deliver, gap: Gap) -> None:
        """Connect, and remember the callbacks.

        Args:
            deliver: Called with ``(topic, event)`` once for every event
                published on a topic this process subscribes to, in
                publication order per topic.
            gap: Called with a topic when events of it may have been lost
                for this process (a broker connection lost and restored:
                call it for every subscribed topic once resubscribed).
        """

    @abc.abstractmethod
    async def stop(self) -> None:
        """Disconnect; no callback is made afterwards."""

    @abc.abstractmethod
    async def subscribe(self, topic: str) -> None:
        """Start receiving `topic`: its first local subscriber arrived.

        When this returns, every event published afterwards (in any process)
        reaches ``deliver``.

        Args:
            topic: The topic.
        """

    @abc.abstractmethod
    async def unsubscribe(self, topic: str) -> None:
        """Stop receiving `topic`: its last local subscriber left.

        Args:
            topic: The topic.
        """

    @abc.abstractmethod
    async def publish(self, topic: str, event: Event, *, retain: int = 0) -> None:
        """Publish an event to every process subscribed to `topic`.

        ``deliver`` is called for it in every such process, this one
        included, exactly once each (at most once when a broker fails). It
        may be called before this returns.

        Args:
            topic: The topic.
            event: The event; its ``event_id`` is ``None``.

        Keyword Args:
            retain (int): 0 for a live topic. Otherwise the topic is
                resumable: store the event, give it an id (the ``event_id``
                that ``deliver`` receives) and keep at least the last
                `retain` events of the topic for ``replay()``.
        """

    @abc.abstractmethod
    async def presence(self, topic: str, local_count: int) -> int:
        """Count the subscribers of `topic` in every process.

        Args:
            topic: The topic.
            local_count: How many this process has.

        Returns:
            The total, this process included.
        """

    @abc.abstractmethod
    async def replay(self, topic: str, last_event_id: str) -> list[Event] | None:
        """Return the retained events published after `last_event_id`.

        Args:
            topic: A resumable topic.
            last_event_id: The id of the last event the client has seen.

        Returns:
            The events after it, oldest first (empty when it is the latest);
            ``None`` when the retained history no longer reaches back to it
            (or never had it): the client missed events that are gone.
        """


class InProcessBackend(Backend):
    """The default backend: one process, nothing crosses it.

    ``publish()`` calls ``deliver`` at once, in this process only. With
    several worker processes, each has its own hub and its own subscribers;
    use a shared backend to reach them all. Resumable topics keep their last
    ``retain`` events in memory, with ids ``'<epoch>-1'``, ``'<epoch>-2'``,
    ... per topic, where the epoch is random per backend: an id from before a
    restart is never mistaken for a new one (``replay()`` reports a gap).
    """

    def __init__(self) -> None:
        self._epoch = secrets.token_hex(4)
        self._deliver: Deliver | None = None
        self._rings: dict[str, collections.deque[Event]] = {}
        self._last_ids: dict[str, int] = {}

    async def start(self, deliver: Deliver, gap: Gap) -> None:
        """Remember `deliver`; a single process never has a gap."""
        self._deliver = deliver

    async def stop(self) -> None:
        """Stop delivering."""
        self._deliver = None

    async def subscribe(self, topic: str) -> None:
        """Do nothing: every publish is delivered locally."""

    async def unsubscribe(self, topic: str) -> None:
        """Do nothing: every publish is delivered locally."""

    async def publish(self, topic: str, event: Event, *, retain: int = 0) -> None:
        """Deliver the event in this process (and retain it if asked)."""
        if retain > 0:
            event_id = self._last_ids.get(topic, 0) + 1
            self._last_ids[topic] = event_id
            event = Event(event.payload, f'{self._epoch}-{event_id}')
            ring = self._rings.get(topic)
            if ring is None or ring.maxlen != retain:
                ring = self._rings[topic] = collections.deque(ring or (), retain)
            ring.append(event)
        if self._deliver is not None:
            self._deliver(topic, event)

    async def presence(self, topic: str, local_count: int) -> int:
        """Return `local_count`: there is no other process."""
        return local_count

    async def replay(self, topic: str, last_event_id: str) -> list[Event] | None:
        """Return the retained events after `last_event_id`, or ``None``."""
        epoch, _, number = last_event_id.partition('-')
        if epoch != self._epoch or not number.isdigit():
            return None  # an id this backend never gave out
        last = int(number)
        latest = self._last_ids.get(topic, 0)
        if last > latest:
            return None
        ring = self._rings.get(topic, ())
        # Ids are consecutive, so the ring holds last + 1 .. latest unless
        # the oldest of those fell out of it.
        skip = len(ring) - (latest - last)
        if skip < 0:
            return None
        return list(ring)[skip:]
