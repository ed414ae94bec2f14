"""The hub: topics, a publish framed once, and bounded delivery per peer.

How one publish reaches the subscribers of this process (``_deliver()``):

* The message was turned into ``str`` or ``bytes`` once, in ``publish()``.
* The frame is built lazily and at most once per delivery with the engine's
  ``prepare_frame()``: one uncompressed frame, plus one compressed frame per
  distinct window for subscribers that negotiated permessage-deflate without
  server context takeover.
* A subscriber on Gyrfalcon's server class (the fast path) gets the bytes
  through its engine channel's ``send_prepared()``: a synchronous call, so
  one publish to 10,000 subscribers is one loop, not 10,000 awaits.
  Subscribers that kept context takeover get ``send_text()``/``send_binary()``
  (their compressor must see every message).
* Any other subscriber (another ASGI server, or ASGI middleware wrapping
  ``receive``/``send``) gets the payload in a bounded queue that a task of
  its own drains with ``ws.send_text()``/``ws.send_data()``.

A publish never waits for a peer. A peer whose outbound buffer (the bytes
its engine and transport hold, or its queue) would pass the topic's
``max_buffer`` is handled by the topic's policy: ``'drop'`` skips the message
for that peer and counts it, ``'close'`` closes that peer (1013 by default).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from gyrfalcon import errors
from gyrfalcon.constants import WebSocketPayloadType
from gyrfalcon.hub.backend import Backend, Event, InProcessBackend
from gyrfalcon.protocol import prepare_frame

if TYPE_CHECKING:
    from gyrfalcon.asgi.ws import WebSocket, WebSocketOptions
    from gyrfalcon.server.fastpath import EngineChannel

__all__ = ['Hub', 'Subscription', 'TopicOptions', 'TopicStats']

Policy = Literal['drop', 'close']
Payload = str | bytes

_TEXT = WebSocketPayloadType.TEXT
_BINARY = WebSocketPayloadType.BINARY
# What a message costs in a fallback queue, beyond its payload (the deque
# slot, the tuple, the frame header it will get).
_QUEUE_OVERHEAD = 64


@dataclass(frozen=True, slots=True)
class TopicOptions:
    """How a topic treats slow peers, and whether it can be resumed.

    Set them with ``hub.configure()``; topics not configured use the hub's
    defaults.

    Attributes:
        policy (str): What to do when a peer's outbound buffer would pass
            `max_buffer`: ``'drop'`` (skip this message for that peer and
            count it in ``Subscription.dropped`` and ``TopicStats.dropped``)
            or ``'close'`` (close that peer with `close_code`).
        max_buffer (int): The bytes a peer may have waiting to be sent. On
            Gyrfalcon's server class this is what its engine and transport
            hold; it is only checked once the transport has paused writing
            (above its high-water mark, 64 KiB by default), so values below
            that act like it. Elsewhere it bounds the peer's queue (payload
            bytes plus 64 per message).
        close_code (int): The close code of the ``'close'`` policy: 1013
            (try again later) or 1008 (policy violation), or any code an app
            may send.
        retain (int): 0 for a live topic. A positive value makes the topic
            resumable: the backend keeps its last `retain` events, each with
            an id, and ``subscribe(ws, topic, last_event_id=...)`` replays
            what was missed.
        envelope (Callable[[Event], str | bytes] | None): For resumable
            topics: turns an event into the message subscribers receive, so
            that they learn its ``event_id`` (called once per event and
            process). Without it the payload is sent as it is.
        gap_message (object): A message sent to the topic's subscribers,
            in order with the others, when events may have been lost (a
            broker reconnected, or a resume reached back too far); ``str``,
            ``bytes`` or media. ``None`` (the default) sends nothing; the
            gap is counted in ``Subscription.gaps`` either way.
    """

    policy: Policy = 'drop'
    max_buffer: int = 1 << 20
    close_code: int = 1013
    retain: int = 0
    envelope: Callable[[Event], Payload] | None = None
    gap_message: object = None

    def __post_init__(self) -> None:
        if self.policy not in ('drop', 'close'):
            raise ValueError(f"policy must be 'drop' or 'close', not {self.policy!r}")
        if self.max_buffer < 0:
            raise ValueError('max_buffer must not be negative')
        if self.retain < 0:
            raise ValueError('retain must not be negative')
        from gyrfalcon.asgi.ws import validate_close_code

        validate_close_code(self.close_code)


@dataclass(frozen=True, slots=True)
class TopicStats:
    """Counters of one topic in this process, since its first subscriber.

    Attributes:
        subscribers (int): Local subscribers now.
        published (int): Events delivered to this process for the topic.
        delivered (int): Messages handed to subscribers (one per event and
            subscriber that got it).
        dropped (int): Messages skipped for slow peers (``'drop'``).
        closed (int): Peers closed as slow (``'close'``).
        gaps (int): Gaps signalled (to every subscriber at once).
    """

    subscribers: int
    published: int
    delivered: int
    dropped: int
    closed: int
    gaps: int


class Subscription:
    """One WebSocket's subscription to one topic.

    ``hub.subscribe()`` returns it. It ends with ``hub.unsubscribe()`` or
    when the connection closes.

    Attributes:
        topic (str): The topic.
        ws (WebSocket): The connection.
        dropped (int): Messages of this topic skipped for this peer because
            it fell behind (policy ``'drop'``).
        gaps (int): How many times this subscriber may have missed events
            (a broker reconnected, or a resume reached back too far).
        replayed (int): Events replayed by ``subscribe(last_event_id=...)``.
    """

    __slots__ = (
        '_hub',
        '_paused',
        '_peer',
        '_pending',
        '_state',
        'dropped',
        'gaps',
        'replayed',
        'topic',
    )

    def __init__(self, hub: Hub, peer: _Peer, state: _Topic, paused: bool) -> None:
        self.topic = state.name
        self.dropped = 0
        self.gaps = 0
        self.replayed = 0
        self._hub = hub
        self._peer = peer
        self._state: _Topic | None = state
        self._paused = paused
        # Events held while paused or while a resume is replayed, else None.
        self._pending: list[Event] | None = [] if paused else None

    def resume(self) -> None:
        """Send what a paused subscription held, and go live.

        See ``Hub.subscribe(paused=True)``. Does nothing if it is not
        paused.
        """
        if self._paused:
            self._paused = False
            if self._pending is not None:
                self._hub._resume(self, [])

    @property
    def ws(self) -> WebSocket:
        """The subscribed connection."""
        return self._peer.ws

    @property
    def active(self) -> bool:
        """Whether the subscription still receives the topic's messages."""
        return self._state is not None

    def __repr__(self) -> str:
        state = 'active' if self._state is not None else 'ended'
        return f'<Subscription {self.topic!r} {state}>'


class _Peer:
    """One subscribed connection: its subscriptions and its way out."""

    __slots__ = (
        'channel',
        'enqueued',
        'flushed',
        'queue',
        'queued',
        'sent',
        'subscriptions',
        'task',
        'wakeup',
        'ws',
    )

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        # PERF(gyrfalcon): The facade's engine channel (the fast path), read
        #   once; None on any other server or behind wrapping middleware.
        self.channel: EngineChannel | None = getattr(ws, '_channel', None)
        self.subscriptions: dict[str, Subscription] = {}
        # The fallback path: (topic, payload) waiting for the writer task.
        self.queue: collections.deque[tuple[str, Payload]] | None = None
        self.queued = 0  # bytes in queue, as max_buffer counts them
        self.task: asyncio.Task[None] | None = None
        self.wakeup: asyncio.Future[None] | None = None
        # Messages queued and sent so far, and who waits for the queue to
        # reach a count: (enqueued when they asked, future).
        self.enqueued = self.sent = 0
        self.flushed: list[tuple[int, asyncio.Future[None]]] | None = None

    def wake_flushed(self) -> None:
        """Wake those waiting for messages now sent (or never to be)."""
        waiters = self.flushed
        if not waiters:
            return
        done = not self.queue or not self.subscriptions
        keep = []
        for target, future in waiters:
            if done or self.sent >= target:
                if not future.done():
                    future.set_result(None)
            else:
                keep.append((target, future))
        self.flushed = keep


class _Topic:
    """A topic with local subscribers, its options and its counters."""

    __slots__ = (
        'closed',
        'delivered',
        'dropped',
        'gaps',
        'lock',
        'name',
        'options',
        'published',
        'remote',
        'subscriptions',
    )

    def __init__(self, name: str, options: TopicOptions) -> None:
        self.name = name
        self.options = options
        self.subscriptions: dict[_Peer, Subscription] = {}
        self.remote = False  # whether the backend is subscribed
        self.lock: asyncio.Lock | None = None
        self.published = self.delivered = self.dropped = 0
        self.closed = self.gaps = 0


class _Capture:
    """How many subscribers the delivery of one local publish reached."""

    __slots__ = ('count', 'topic')

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.count: int | None = None


class Hub:
    """Topics that WebSockets subscribe to, and publish to all of them.

    ``app.hub`` is one, created on first use with the in-process backend;
    pass ``App(hub=Hub(...))`` or set ``app.hub`` to configure it. A hub
    created on its own serialises media with the default handlers (JSON
    for TEXT, MessagePack for BINARY) until an app adopts it.

    Keyword Args:
        backend (Backend): Carries publishes between processes; the default
            ``InProcessBackend`` does not cross processes.
        policy (str): The default slow-peer policy, ``'drop'`` or
            ``'close'`` (see ``TopicOptions``).
        max_buffer (int): The default bytes a peer may have waiting
            (1 MiB).
        close_code (int): The default close code of the ``'close'`` policy
            (1013).
        compression_threshold (int): Messages shorter than this (in
            characters or bytes) go uncompressed to every peer, as the
            engine's own sends do (128, the engine's default).
    """

    def __init__(
        self,
        backend: Backend | None = None,
        *,
        policy: Policy = 'drop',
        max_buffer: int = 1 << 20,
        close_code: int = 1013,
        compression_threshold: int = 128,
    ) -> None:
        self.backend = backend if backend is not None else InProcessBackend()
        self._defaults = TopicOptions(
            policy=policy, max_buffer=max_buffer, close_code=close_code
        )
        self._compression_threshold = compression_threshold
        self._configured: dict[str, TopicOptions] = {}
        self._prefixes: list[tuple[str, TopicOptions]] = []
        self._topics: dict[str, _Topic] = {}
        self._peers: dict[WebSocket, _Peer] = {}
        self._ws_options: WebSocketOptions | None = None
        self._started = False
        self._start_lock: asyncio.Lock | None = None
        self._capture: _Capture | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- configuration -------------------------------------------------------

    def configure(self, topic: str, **options: Any) -> TopicOptions:
        """Set the options of a topic, or of every topic with a prefix.

        A `topic` ending in ``*`` configures every topic that starts with
        the rest (``'room:*'``); the longest matching prefix wins, and an
        exact name wins over any prefix. Options not given keep the hub's
        defaults. Topics that have subscribers already take the new options
        at once.

        Args:
            topic: The topic, or a prefix followed by ``*``.

        Keyword Args:
            policy, max_buffer, close_code, retain, envelope, gap_message:
                See ``TopicOptions``.

        Returns:
            The options now in force for `topic`.

        Raises:
            TypeError: An unknown option.
            ValueError: An invalid value.
        """
        resolved = replace(self._defaults, **options)
        if topic.endswith('*'):
            prefix = topic[:-1]
            self._prefixes = [p for p in self._prefixes if p[0] != prefix]
            self._prefixes.append((prefix, resolved))
            self._prefixes.sort(key=lambda item: len(item[0]), reverse=True)
        else:
            self._configured[topic] = resolved
        for name, state in self._topics.items():
            state.options = self.options(name)
        return resolved

    def options(self, topic: str) -> TopicOptions:
        """Return the options in force for `topic`."""
        options = self._configured.get(topic)
        if options is not None:
            return options
        for prefix, options in self._prefixes:
            if topic.startswith(prefix):
                return options
        return self._defaults

    def _bind(self, ws_options: WebSocketOptions) -> None:
        """Serialise media with an app's ``ws_options.media_handlers``."""
        self._ws_options = ws_options

    # -- subscribing ---------------------------------------------------------

    async def subscribe(
        self,
        ws: WebSocket,
        topic: str,
        *,
        last_event_id: str | None = None,
        paused: bool = False,
    ) -> Subscription:
        """Subscribe an accepted connection to a topic.

        The subscription is in place before this method first suspends:
        every message published from the moment it is called reaches `ws`
        (and nothing published earlier does, except what a resume replays).
        Subscribing again to the same topic returns the same subscription.
        The connection is unsubscribed from every topic when it closes,
        however it closes.

        Args:
            ws: The connection (accepted).
            topic: The topic.

        Keyword Args:
            last_event_id (str): Resume a resumable topic (``retain`` set):
                first send the retained events published after this id, then
                the live ones, with none twice. When the history no longer
                reaches back to it, a gap is signalled to this subscriber
                instead (see ``TopicOptions.gap_message``).
            paused (bool): Hold the topic's messages (and the replay) until
                ``subscription.resume()``: subscribe, take a snapshot of the
                app's state, send it, then resume, and the client gets the
                snapshot first and every later message after it, none lost.
                Held messages wait in memory: resume soon.

        Returns:
            The subscription.

        Raises:
            OperationNotAllowed: The connection was not accepted yet.
            WebSocketDisconnected: The connection is closed.
        """
        if ws.unaccepted:
            raise errors.OperationNotAllowed(
                'subscribe() may not be called before accept()'
            )
        if ws.closed:
            raise errors.WebSocketDisconnected(ws.close_code, ws.close_reason)
        peer = self._peers.get(ws)
        if peer is None:
            peer = self._peers[ws] = _Peer(ws)
        subscription = peer.subscriptions.get(topic)
        if subscription is not None:
            return subscription
        state = self._topics.get(topic)
        if state is None:
            state = self._topics[topic] = _Topic(topic, self.options(topic))
        subscription = Subscription(self, peer, state, paused)
        if last_event_id is not None:
            subscription._pending = []
        state.subscriptions[peer] = subscription
        peer.subscriptions[topic] = subscription
        try:
            await self._sync_backend(state)
            if last_event_id is not None:
                events = await self.backend.replay(topic, last_event_id)
                self._resume(subscription, events, last_event_id)
                if peer.queue:
                    # NOTE(gyrfalcon): On the fallback path the replay waits
                    #   in the queue: send it before returning, as the fast
                    #   path does, so that what the app sends next comes
                    #   after it on both paths.
                    await self._flushed(peer)
        except BaseException:
            self._end(subscription)
            self._schedule_sync(state)
            raise
        return subscription

    def _resume(
        self,
        subscription: Subscription,
        events: list[Event] | None,
        last_event_id: str | None = None,
    ) -> None:
        """Send a replay and the events held meanwhile (or keep holding them)."""
        pending = subscription._pending or []
        if last_event_id is not None:
            # Live events held while the replay was read may reach back to
            # the client's own last event (a process behind the client had to
            # catch up first): the client has those, up to and including it.
            for index, event in enumerate(pending):
                if event.event_id == last_event_id:
                    del pending[: index + 1]
                    break
        subscription._pending = None
        state = subscription._state
        if state is None:
            return  # the connection left while the history was read
        if events is None:
            events = []
            # The gap message (if any) goes where the replay would have.
            subscription._pending = events
            self._signal_gap(state, [subscription])
            subscription._pending = None
        else:
            subscription.replayed += len(events)
        seen = {event.event_id for event in events if event.event_id is not None}
        held = [*events, *(e for e in pending if e.event_id not in seen)]
        if subscription._paused:
            subscription._pending = held
            return
        for event in held:
            self._hand(subscription, state, self._payload(state, event))

    async def _flushed(self, peer: _Peer) -> None:
        future = asyncio.get_running_loop().create_future()
        if peer.flushed is None:
            peer.flushed = []
        peer.flushed.append((peer.enqueued, future))
        await future

    async def unsubscribe(self, ws: WebSocket, topic: str) -> None:
        """End the subscription of `ws` to `topic`, if any.

        Messages of the topic still queued for `ws` on the fallback path are
        not sent.

        Args:
            ws: The connection.
            topic: The topic.
        """
        peer = self._peers.get(ws)
        subscription = None if peer is None else peer.subscriptions.get(topic)
        if subscription is None:
            return
        state = subscription._state
        self._end(subscription)
        if state is not None and not state.subscriptions:
            await self._sync_backend(state)

    def count(self, topic: str) -> int:
        """Return how many connections of this process subscribe to `topic`.

        Connections that closed are left out (and unsubscribed) even if
        their responder has not returned yet.
        """
        state = self._topics.get(topic)
        if state is None:
            return 0
        gone = [peer for peer in state.subscriptions if peer.ws.closed]
        for peer in gone:
            self._forget_peer(peer)
        return len(state.subscriptions)

    async def presence(self, topic: str) -> int:
        """Return how many connections subscribe to `topic`, in every process.

        With the in-process backend this is ``count(topic)``.
        """
        return await self.backend.presence(topic, self.count(topic))

    def topics(self) -> list[str]:
        """Return the topics that have subscribers in this process."""
        return [name for name, state in self._topics.items() if state.subscriptions]

    def stats(self, topic: str) -> TopicStats:
        """Return the counters of `topic` in this process.

        They start when the topic gets its first local subscriber and are
        forgotten when the last one leaves.
        """
        state = self._topics.get(topic)
        if state is None:
            return TopicStats(0, 0, 0, 0, 0, 0)
        return TopicStats(
            len(state.subscriptions),
            state.published,
            state.delivered,
            state.dropped,
            state.closed,
            state.gaps,
        )

    # -- publishing ----------------------------------------------------------

    async def publish(
        self,
        topic: str,
        message: object,
        payload_type: WebSocketPayloadType = WebSocketPayloadType.TEXT,
    ) -> int:
        """Send a message to every subscriber of a topic.

        The message is serialised once and framed once, whatever the number
        of subscribers, and the publish never waits for a subscriber.

        Args:
            topic: The topic.
            message: A ``str`` (sent as TEXT), a bytes-like object (sent as
                BINARY), or any other object, serialised once with the
                app's media handler for `payload_type` (as ``send_media()``
                does).
            payload_type (WebSocketPayloadType): The media handler for a
                `message` that is neither ``str`` nor bytes-like: ``TEXT``
                (the default, JSON) or ``BINARY`` (MessagePack).

        Returns:
            How many subscribers of this process it was handed to. With a
            backend that delivers later (through a broker), the number of
            local subscribers when it was published.

        Raises:
            TypeError: `payload_type` is not a ``WebSocketPayloadType``.
        """
        payload = self._serialize(message, payload_type)
        await self._ensure_started()
        capture = self._capture = _Capture(topic)
        try:
            await self.backend.publish(
                topic, Event(payload), retain=self.options(topic).retain
            )
        finally:
            if self._capture is capture:
                self._capture = None
        if capture.count is not None:
            return capture.count
        state = self._topics.get(topic)
        return 0 if state is None else len(state.subscriptions)

    def _serialize(
        self, message: object, payload_type: WebSocketPayloadType
    ) -> Payload:
        if isinstance(message, str):
            return message
        if isinstance(message, bytes):
            return message
        if isinstance(message, (bytearray, memoryview)):
            return bytes(message)
        ws_options = self._ws_options
        if ws_options is None:
            from gyrfalcon.asgi.ws import WebSocketOptions

            ws_options = self._ws_options = WebSocketOptions()
        handlers = ws_options.media_handlers
        if payload_type is _TEXT:
            text = handlers[_TEXT].serialize(message)
            return text if type(text) is str else str(text)
        if payload_type is _BINARY:
            data = handlers[_BINARY].serialize(message)
            return data if type(data) is bytes else bytes(data)
        raise TypeError(
            'payload_type must be WebSocketPayloadType.TEXT or '
            f'WebSocketPayloadType.BINARY, not {payload_type!r}'
        )

    # -- delivery (the backend's callbacks) ----------------------------------

    def _deliver(self, topic: str, event: Event) -> None:
        """Fan an event out to this process's subscribers (``deliver``)."""
        state = self._topics.get(topic)
        if state is None:
            return
        state.published += 1
        subscriptions = state.subscriptions
        payload = self._payload(state, event)
        frame: bytes | None = None
        handed = 0
        others: list[Subscription] | None = None
        dead: list[_Peer] | None = None
        # PERF(gyrfalcon): The loop every publish runs once per subscriber:
        #   the common case (fast path, no compression, writing not paused)
        #   is a dict walk, a few attribute reads and one synchronous call.
        for peer, subscription in subscriptions.items():
            channel = peer.channel
            if (
                channel is None
                or channel.writing_paused
                or channel.deflate is not None
                or subscription._pending is not None
            ):
                if others is None:
                    others = []
                others.append(subscription)
                continue
            if frame is None:
                frame = prepare_frame(payload)
            try:
                channel.send_prepared(frame, flush=False)
            except (OSError, RuntimeError):
                # The connection closed, or the app closed it: it leaves
                # every topic now rather than when its responder returns.
                if dead is None:
                    dead = []
                dead.append(peer)
                continue
            handed += 1
        if others:
            frames = _Frames(payload, frame, self._compression_threshold)
            max_buffer = state.options.max_buffer
            for subscription in others:
                if subscription._pending is not None:
                    subscription._pending.append(event)
                elif subscription._state is not None and self._hand(
                    subscription, state, payload, frames, max_buffer
                ):
                    handed += 1
        if dead:
            for peer in dead:
                self._forget_peer(peer)
        state.delivered += handed
        capture = self._capture
        if capture is not None and capture.topic == topic and capture.count is None:
            capture.count = handed

    def _gap(self, topic: str) -> None:
        """Tell this topic's subscribers they may have missed events (``gap``)."""
        state = self._topics.get(topic)
        if state is not None:
            self._signal_gap(state, list(state.subscriptions.values()))

    def _signal_gap(self, state: _Topic, subscriptions: list[Subscription]) -> None:
        state.gaps += 1
        message = state.options.gap_message
        payload = None if message is None else self._serialize(message, _TEXT)
        frames = None if payload is None else _Frames(payload, None, 0)
        for subscription in subscriptions:
            subscription.gaps += 1
            if payload is None or subscription._state is None:
                continue
            if subscription._pending is not None:
                subscription._pending.append(Event(payload))
            else:
                self._hand(subscription, state, payload, frames)

    def _payload(self, state: _Topic, event: Event) -> Payload:
        envelope = state.options.envelope
        if envelope is not None and event.event_id is not None:
            return envelope(event)
        return event.payload

    def _hand(
        self,
        subscription: Subscription,
        state: _Topic,
        payload: Payload,
        frames: _Frames | None = None,
        max_buffer: int | None = None,
    ) -> bool:
        """Give one subscriber one message, or apply the slow-peer policy.

        Returns:
            Whether the message was handed over.
        """
        if frames is None:
            frames = _Frames(payload, None, self._compression_threshold)
        if max_buffer is None:
            max_buffer = state.options.max_buffer
        peer = subscription._peer
        channel = peer.channel
        if channel is None:
            cost = len(payload) + _QUEUE_OVERHEAD
            if peer.queued + cost > max_buffer and peer.queued:
                self._slow(subscription, state)
                return False
            self._enqueue(peer, state.name, payload, cost)
            return True
        if channel.writing_paused and channel.buffered_amount > max_buffer:
            self._slow(subscription, state)
            return False
        try:
            deflate = channel.deflate
            if deflate is None or frames.short:
                channel.send_prepared(frames.plain(), flush=False)
            elif deflate.server_no_context_takeover:
                window = deflate.server_max_window_bits
                channel.send_prepared(
                    frames.compressed(window), compressed=True, flush=False
                )
            elif isinstance(payload, str):
                channel.send_text(payload)
            else:
                channel.send_binary(payload)
        except (OSError, RuntimeError):
            # The connection closed, or the app closed it: it leaves every
            # topic now rather than when its responder returns.
            self._forget_peer(peer)
            return False
        return True

    def _slow(self, subscription: Subscription, state: _Topic) -> None:
        options = state.options
        if options.policy == 'drop':
            subscription.dropped += 1
            state.dropped += 1
            return
        state.closed += 1
        peer = subscription._peer
        self._forget_peer(peer)
        channel = peer.channel
        if channel is not None:
            # NOTE(gyrfalcon): Not ws.close(): it would wait for the send
            #   turn, and the server's send() waits for the transport to
            #   drain, which a peer that stopped reading never lets happen.
            channel.close(options.close_code, 'slow consumer')
        else:
            self._spawn(_close_quietly(peer.ws, options.close_code))

    # -- the fallback path ---------------------------------------------------

    def _enqueue(self, peer: _Peer, topic: str, payload: Payload, cost: int) -> None:
        queue = peer.queue
        if queue is None:
            queue = peer.queue = collections.deque()
        queue.append((topic, payload))
        peer.queued += cost
        peer.enqueued += 1
        if peer.task is None:
            peer.task = self._spawn(self._write(peer))
        else:
            wakeup = peer.wakeup
            if wakeup is not None and not wakeup.done():
                wakeup.set_result(None)

    async def _write(self, peer: _Peer) -> None:
        """Send a fallback peer's queued messages, in order, until it leaves."""
        ws = peer.ws
        queue = peer.queue
        assert queue is not None
        loop = asyncio.get_running_loop()
        while peer.subscriptions:
            if not queue:
                peer.wakeup = loop.create_future()
                await peer.wakeup
                peer.wakeup = None
                continue
            topic, payload = queue.popleft()
            peer.queued -= len(payload) + _QUEUE_OVERHEAD
            try:
                if isinstance(payload, str):
                    await ws.send_text(payload)
                else:
                    await ws.send_data(payload)
            except (OSError, RuntimeError, errors.OperationNotAllowed):
                self._forget_peer(peer)
                peer.wake_flushed()
                return
            peer.sent += 1
            if peer.flushed:
                peer.wake_flushed()

    # -- bookkeeping ---------------------------------------------------------

    def _end(self, subscription: Subscription) -> None:
        """Remove a subscription from its topic and its peer."""
        state = subscription._state
        if state is None:
            return
        subscription._state = None
        peer = subscription._peer
        state.subscriptions.pop(peer, None)
        peer.subscriptions.pop(state.name, None)
        if peer.queue:
            name = state.name
            kept = [item for item in peer.queue if item[0] != name]
            peer.queue.clear()
            peer.queue.extend(kept)
            peer.queued = sum(len(item[1]) + _QUEUE_OVERHEAD for item in kept)
            peer.wake_flushed()
        if not peer.subscriptions:
            self._peers.pop(peer.ws, None)
            if peer.task is not None:
                peer.task.cancel()
                peer.task = None
            peer.wake_flushed()

    def _forget_peer(self, peer: _Peer) -> None:
        """Unsubscribe a connection from everything (it closed)."""
        for subscription in list(peer.subscriptions.values()):
            state = subscription._state
            self._end(subscription)
            if state is not None and not state.subscriptions:
                self._schedule_sync(state)

    def _forget(self, ws: WebSocket) -> None:
        """Unsubscribe `ws` from every topic: its responder has returned."""
        peer = self._peers.get(ws)
        if peer is not None:
            self._forget_peer(peer)

    def _schedule_sync(self, state: _Topic) -> None:
        if state.remote or (state.lock is not None and state.lock.locked()):
            self._spawn(self._sync_backend(state))
        elif not state.subscriptions and self._topics.get(state.name) is state:
            del self._topics[state.name]

    async def _sync_backend(self, state: _Topic) -> None:
        """Make the backend's subscription to a topic match its subscribers."""
        if state.remote == bool(state.subscriptions) and (
            state.lock is None or not state.lock.locked()
        ):
            self._drop_if_empty(state)
            return
        await self._ensure_started()
        if state.lock is None:
            state.lock = asyncio.Lock()
        async with state.lock:
            # NOTE(gyrfalcon): The last subscriber may leave and a new one
            #   arrive while the backend works: compare again after each
            #   call until they agree.
            while state.remote != bool(state.subscriptions):
                if state.subscriptions:
                    await self.backend.subscribe(state.name)
                    state.remote = True
                else:
                    await self.backend.unsubscribe(state.name)
                    state.remote = False
        self._drop_if_empty(state)

    def _drop_if_empty(self, state: _Topic) -> None:
        if (
            not state.subscriptions
            and not state.remote
            and self._topics.get(state.name) is state
        ):
            del self._topics[state.name]

    async def _ensure_started(self) -> None:
        if self._started:
            return
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if not self._started:
                await self.backend.start(self._deliver, self._gap)
                self._started = True

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        """Unsubscribe every connection and stop the backend.

        Call it at shutdown (for example in a middleware's
        ``process_shutdown()``). The hub can be used again afterwards.
        """
        for peer in list(self._peers.values()):
            self._forget_peer(peer)
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._topics.clear()
        if self._started:
            self._started = False
            await self.backend.stop()


class _Frames:
    """The frames of one message, each built the first time it is needed."""

    __slots__ = ('_compressed', '_plain', 'payload', 'short')

    def __init__(self, payload: Payload, plain: bytes | None, threshold: int) -> None:
        self.payload = payload
        self._plain = plain
        self._compressed: dict[int, bytes] | None = None
        # Shorter messages go out uncompressed, as the engine's sends do.
        self.short = len(payload) < threshold

    def plain(self) -> bytes:
        frame = self._plain
        if frame is None:
            frame = self._plain = prepare_frame(self.payload)
        return frame

    def compressed(self, window: int) -> bytes:
        frames = self._compressed
        if frames is None:
            frames = self._compressed = {}
        frame = frames.get(window)
        if frame is None:
            frame = frames[window] = prepare_frame(
                self.payload, deflate_window_bits=window
            )
        return frame


async def _close_quietly(ws: WebSocket, code: int) -> None:
    try:
        await ws.close(code, 'slow consumer')
    except (OSError, RuntimeError):
        pass
