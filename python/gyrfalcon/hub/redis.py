"""The Redis backend: one hub per process, every process on one Redis.

``RedisBackend`` carries publishes between the processes (and machines) of an
app over Redis with the ``redis`` package's asyncio client (``pip install
'gyrfalcon[redis]'``)::

    from gyrfalcon.hub import Hub
    from gyrfalcon.hub.redis import RedisBackend

    app = falcon.App(hub=Hub(RedisBackend('redis://localhost:6379/0')))

Connections. Each process holds one subscriber connection for all its
subscriptions (``SUBSCRIBE`` when a topic gets its first local subscriber,
``UNSUBSCRIBE`` when the last one leaves) and a small pool for commands
(``PUBLISH``, the stream commands, presence). One task reads the subscriber
connection and hands every message to the hub at once, so a slow WebSocket
never slows the reader (Redis cuts off a Pub/Sub client whose output buffer
grows past ``client-output-buffer-limit pubsub``, 32 MiB by default).

The subscriber connection is a bare redis-py ``Connection`` in subscriber
mode, not redis-py's ``PubSub``: ``PubSub`` reconnects inside its own calls
(its failure handler reconnects even with retries off, and a read on a
closed connection reconnects first), and a reconnection the backend does not
see is a loss it cannot report. The backend reconnects by itself, and
redis-py's retries are off for every connection: a retried publish could
publish twice.

Live topics use Pub/Sub only: at most once, in order per topic.

Resumable topics (``retain`` > 0) are stored in a Redis Stream per topic and
still delivered live through Pub/Sub: a Lua script runs ``XADD key MAXLEN ~
retain`` and ``PUBLISH`` of the new entry, with its stream id, atomically.
The stream id is the event id. Why not read the streams live with ``XREAD
BLOCK``: that needs a second blocking connection per process, woken up
whenever a topic is added, and a reconnect would still need the same catch-up
logic. With the script, Redis's single thread orders the entries and the
messages alike, so each process sees a topic's ids increasing without holes
while its connection holds, and it keeps a cursor per resumable topic (the
last id it delivered). That cursor makes the two switches exact:

* Resume (``replay()``): the events after the client's id up to the cursor
  are read from the stream; everything after the cursor arrives live. The
  hub parks the live events of a resuming subscriber until the replay is
  back and drops those the replay contained (same id).
* Reconnect: after resubscribing, the stream is read from the cursor
  (``XRANGE key cursor +``); when the cursor is still its first entry, the
  missed events are delivered in order and no gap is signalled; Pub/Sub
  messages at or below the cursor are then dropped as duplicates. When the
  cursor is gone (trimmed, or Redis restarted without its data), the topic
  gets a gap.

When a topic gets its first local subscriber, ``subscribe()`` waits for the
``SUBSCRIBE`` confirmation and then reads the stream's last id as the cursor:
the events up to it are history (``replay()``), the ones after it come live.

Gaps. When the Pub/Sub connection fails (an error, or no reply to a
``PING`` within ``health_check_interval`` seconds once it is idle), the
backend reconnects with jittered exponential backoff (``reconnect_delay`` up
to ``reconnect_max_delay``, for ever), resubscribes to every topic, catches
resumable topics up from their streams, and calls ``gap(topic)`` for every
topic whose continuity it cannot prove: every live topic, and every resumable
topic whose cursor is no longer in its stream.

Wire format (Pub/Sub message, version 1)::

    +------+------------------------------+---------------------+
    | kind | id (kinds 't' and 'b' only)  | payload             |
    +------+------------------------------+---------------------+
    kind: one byte, 'T' = TEXT, 'B' = BINARY (no id),
                    't' = TEXT, 'b' = BINARY (with an id)
    id:   two bytes, big-endian length, then the id (ASCII stream id)
    rest: the payload, UTF-8 for TEXT

Stream entries have two fields: ``k`` (``t`` or ``b``) and ``d`` (the
payload). Messages of another kind are logged and dropped, so a newer format
can be rolled out behind a new kind byte.

Keys (``prefix`` defaults to ``'gyrfalcon:'``): the channel of a topic is
``<prefix><topic>``, its stream ``<prefix>stream:<topic>`` and its presence
hash ``<prefix>presence:<topic>``. Streams are trimmed by ``MAXLEN ~``, so
they hold at least ``retain`` events (up to a stream node more, 100 entries
by default); they are not deleted.

Presence. Each process writes its local count of every topic it subscribes
to into the topic's hash (field: a process id; value: ``<count>:<deadline>``,
the deadline in Redis server milliseconds) every ``presence_ttl / 3``
seconds, and when it stops it removes its fields. ``presence()`` adds the
other processes' fields that have not expired to the local count, and
deletes the expired ones: the count of a process that crashed ages out
after ``presence_ttl`` seconds at most.

NOTE(gyrfalcon): ``Backend`` has no way to learn local counts as they
    change, and presence needs them for the other processes. Until it has
    one, the backend asks the hub whose ``deliver`` it was started with
    (``deliver.__self__.count(topic)``), and else only knows the counts
    that ``presence()`` was last called with.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import random
import secrets
import socket
from collections.abc import Callable
from typing import Any

from .backend import Backend, Deliver, Event, Gap

try:
    import redis.asyncio as aioredis
    from redis.asyncio.connection import Connection
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff
    from redis.exceptions import (
        ConnectionError as RedisConnectionError,
        RedisError,
        TimeoutError as RedisTimeoutError,
    )
except ImportError as ex:  # pragma: no cover - depends on the environment
    raise ImportError(
        "gyrfalcon.hub.redis needs the 'redis' package: pip install 'gyrfalcon[redis]'"
    ) from ex

__all__ = ['RedisBackend']

_logger = logging.getLogger('gyrfalcon.hub')

StreamId = tuple[int, int]

# What a broken or unreachable Redis raises (OSError: a refused connect).
_LINK_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)

_TEXT, _BINARY, _TEXT_ID, _BINARY_ID = b'TBtb'

# KEYS[1] stream; ARGV: channel, retain, kind ('t' or 'b'), payload.
_PUBLISH_SCRIPT = """
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*',
                      'k', ARGV[3], 'd', ARGV[4])
local n = #id
redis.call('PUBLISH', ARGV[1],
           ARGV[3] .. string.char(math.floor(n / 256), n % 256) .. id .. ARGV[4])
return id
"""

# KEYS[1] presence hash; ARGV: process id, count, ttl (ms).
_REPORT_SCRIPT = """
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if tonumber(ARGV[2]) > 0 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. (now + tonumber(ARGV[3])))
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
return 1
"""

# KEYS[1] presence hash; ARGV: process id, count, ttl (ms). Reports this
# process's count, sums the other processes' live counts and deletes the
# expired ones.
_COUNT_SCRIPT = """
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if tonumber(ARGV[2]) > 0 then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. (now + tonumber(ARGV[3])))
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
local fields = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #fields, 2 do
  if fields[i] ~= ARGV[1] then
    local count, deadline = string.match(fields[i + 1], '^(%d+):(%d+)$')
    if count and tonumber(deadline) > now then
      total = total + tonumber(count)
    else
      redis.call('HDEL', KEYS[1], fields[i])
    end
  end
end
return total
"""


def _parse_id(value: str | bytes) -> StreamId | None:
    """Parse a stream id (``'1700000000000-0'``), or return ``None``."""
    if isinstance(value, bytes):
        try:
            value = value.decode('ascii')
        except UnicodeDecodeError:
            return None
    ms, sep, seq = value.partition('-')
    if not sep or not ms.isdigit() or not seq.isdigit():
        return None
    return int(ms), int(seq)


def _format_id(value: StreamId) -> str:
    return f'{value[0]}-{value[1]}'


def encode_message(event: Event) -> bytes:
    """Encode an event as a Pub/Sub message (the wire format above).

    Args:
        event: The event; ``event_id`` must be ASCII if set.

    Returns:
        The message.
    """
    payload = event.payload
    if isinstance(payload, str):
        kind, data = _TEXT, payload.encode()
    else:
        kind, data = _BINARY, bytes(payload)
    if event.event_id is None:
        return bytes((kind,)) + data
    ident = event.event_id.encode('ascii')
    return bytes((kind | 0x20,)) + len(ident).to_bytes(2, 'big') + ident + data


def decode_message(message: bytes) -> Event:
    """Decode a Pub/Sub message (the wire format above).

    Args:
        message: The message.

    Returns:
        The event.

    Raises:
        ValueError: The message is not in the format.
    """
    if not message:
        raise ValueError('empty message')
    kind = message[0]
    if kind == _TEXT:
        return Event(message[1:].decode())
    if kind == _BINARY:
        return Event(message[1:])
    if kind in (_TEXT_ID, _BINARY_ID):
        if len(message) < 3:
            raise ValueError('message too short for its id')
        end = 3 + int.from_bytes(message[1:3], 'big')
        if len(message) < end:
            raise ValueError('message too short for its id')
        ident = message[3:end].decode('ascii')
        data = message[end:]
        return Event(data.decode() if kind == _TEXT_ID else data, ident)
    raise ValueError(f'unknown message kind {kind:#04x}')


Entry = tuple[StreamId, Event]


def _parse_entries(reply: Any) -> list[Entry]:
    """Turn an ``XRANGE``/``XREVRANGE`` reply into ids and events."""
    entries = []
    for ident, fields in reply or ():
        parsed = _parse_id(ident)
        if parsed is None or not fields:
            continue
        data = fields.get(b'd', b'')
        payload = data.decode() if fields.get(b'k') == b't' else data
        entries.append((parsed, Event(payload, _format_id(parsed))))
    return entries


class _Topic:
    """A subscribed topic: its channel, its stream and its cursor."""

    __slots__ = ('channel', 'cursor', 'key', 'waiters')

    def __init__(self, channel: bytes, key: str) -> None:
        self.channel = channel
        self.key = key
        # The id of the last stream event delivered (or the stream's last id
        # when the subscription started); None while there is none.
        self.cursor: StreamId | None = None
        # replay() calls waiting for the cursor to reach an id.
        self.waiters: list[tuple[StreamId, asyncio.Future[None]]] = []

    def advance(self, ident: StreamId) -> None:
        """Move the cursor forward to `ident` and wake the waiters it reaches."""
        if self.cursor is None or ident > self.cursor:
            self.cursor = ident
        if self.waiters:
            waiting = []
            for target, future in self.waiters:
                if target <= ident:
                    if not future.done():
                        future.set_result(None)
                else:
                    waiting.append((target, future))
            self.waiters = waiting

    def release(self) -> None:
        """Wake every waiter: the topic was unsubscribed."""
        for _, future in self.waiters:
            if not future.done():
                future.set_result(None)
        self.waiters = []


class RedisBackend(Backend):
    """A hub backend over Redis: Pub/Sub for live, Streams for resumable.

    See the module docstring for the design, the wire format and the keys.

    Args:
        url: The Redis URL (``redis://[[user]:password@]host[:port][/db]``,
            ``rediss://`` for TLS, ``unix://``); see redis-py's
            ``ConnectionPool.from_url``.

    Keyword Args:
        prefix (str): Prepended to every channel and key
            (``'gyrfalcon:'``).
        health_check_interval (float): Seconds of silence on the Pub/Sub
            connection before it is sent a ``PING``; no reply within as many
            seconds again counts as a lost connection (15).
        reconnect_delay (float): Seconds before the first reconnection
            attempt; doubled (with jitter) after each failure (0.05).
        reconnect_max_delay (float): The longest wait between attempts (2).
        presence_ttl (float): Seconds after which the presence counts of a
            process that stopped refreshing them are ignored (30).
        replay_timeout (float): Seconds ``replay()`` waits for this process
            to receive the client's last event live when the client has seen
            more than this process has (5); ``None`` is then returned.
        max_connections (int): The most command connections (publish,
            replay, presence) open at once; more concurrent commands wait
            for one (16).
        connection_options (dict): Other keyword arguments for redis-py's
            ``ConnectionPool.from_url`` (``socket_connect_timeout``,
            ``ssl_ca_certs``, ...).
    """

    def __init__(
        self,
        url: str = 'redis://localhost:6379/0',
        *,
        prefix: str = 'gyrfalcon:',
        health_check_interval: float = 15.0,
        reconnect_delay: float = 0.05,
        reconnect_max_delay: float = 2.0,
        presence_ttl: float = 30.0,
        replay_timeout: float = 5.0,
        max_connections: int = 16,
        connection_options: dict[str, Any] | None = None,
    ) -> None:
        if health_check_interval <= 0:
            raise ValueError('health_check_interval must be positive')
        if reconnect_delay <= 0 or reconnect_max_delay < reconnect_delay:
            raise ValueError(
                'reconnect_delay must be positive and at most reconnect_max_delay'
            )
        if presence_ttl <= 0:
            raise ValueError('presence_ttl must be positive')
        self.url = url
        self.prefix = prefix
        self.health_check_interval = health_check_interval
        self.reconnect_delay = reconnect_delay
        self.reconnect_max_delay = reconnect_max_delay
        self.presence_ttl = presence_ttl
        self.replay_timeout = replay_timeout
        self.max_connections = max_connections
        self._options = dict(connection_options or {})
        self.process_id = f'{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}'
        self._deliver: Deliver | None = None
        self._gap: Gap | None = None
        self._local_count: Callable[[str], int] | None = None
        self._commands: aioredis.Redis | None = None
        self._subscriber_pool: aioredis.ConnectionPool | None = None
        self._scripts: dict[str, Any] = {}
        self._topics: dict[str, _Topic] = {}
        self._by_channel: dict[bytes, str] = {}
        self._counts: dict[str, int] = {}
        # The subscriber connection, from when the reader subscribes on it.
        self._link: Connection | None = None
        # Futures of subscribe() calls, per channel, in the order of the
        # SUBSCRIBE commands (Redis confirms them in that order).
        self._confirms: dict[bytes, collections.deque[asyncio.Future[None]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._connection: Connection | None = None  # the reader's
        self._reporter: asyncio.Task[None] | None = None
        self._ping_sent: float | None = None
        #: How many times the Pub/Sub connection was restored after a loss.
        self.reconnects = 0

    # -- names ---------------------------------------------------------------

    def channel(self, topic: str) -> bytes:
        """Return the Pub/Sub channel of a topic."""
        return f'{self.prefix}{topic}'.encode()

    def stream_key(self, topic: str) -> str:
        """Return the key of a topic's stream (resumable topics)."""
        return f'{self.prefix}stream:{topic}'

    def presence_key(self, topic: str) -> str:
        """Return the key of a topic's presence hash."""
        return f'{self.prefix}presence:{topic}'

    # -- life cycle ----------------------------------------------------------

    async def start(self, deliver: Deliver, gap: Gap) -> None:
        """Connect to Redis and start reading the Pub/Sub connection.

        Args:
            deliver: See ``Backend.start()``.
            gap: See ``Backend.start()``.

        Raises:
            redis.exceptions.ConnectionError: Redis cannot be reached now
                (later losses are retried for ever).
        """
        if self._reader is not None:
            raise RuntimeError('the backend is started already')
        self._deliver = deliver
        self._gap = gap
        hub = getattr(deliver, '__self__', None)
        count = getattr(hub, 'count', None)
        self._local_count = count if callable(count) else None
        # NOTE(gyrfalcon): No retries inside redis-py: a silent reconnect of
        #   the Pub/Sub connection would lose messages without a gap, and a
        #   retried publish could publish twice. The reader reconnects.
        options: dict[str, Any] = {
            'socket_keepalive': True,
            'socket_connect_timeout': 5.0,
            **self._options,
            'retry': Retry(NoBackoff(), 0),
            'decode_responses': False,
        }
        # A bounded pool that makes callers wait for a free connection
        # (redis-py's default pool raises beyond 100 concurrent commands).
        self._commands = aioredis.Redis(
            connection_pool=aioredis.BlockingConnectionPool.from_url(
                self.url,
                **{'max_connections': self.max_connections, 'timeout': 10.0, **options},
            )
        )
        # Subscriber mode is read as RESP2 replies, as bytes.
        self._subscriber_pool = aioredis.ConnectionPool.from_url(
            self.url, **{**options, 'protocol': 2, 'decode_responses': False}
        )
        self._scripts = {
            'publish': self._commands.register_script(_PUBLISH_SCRIPT),
            'report': self._commands.register_script(_REPORT_SCRIPT),
            'count': self._commands.register_script(_COUNT_SCRIPT),
        }
        try:
            connection = await self._connect()
        except BaseException:
            await self._close_clients()
            raise
        self._link = connection  # no topic to subscribe yet
        self._reader = asyncio.create_task(self._run(connection))
        self._reporter = asyncio.create_task(self._report_loop())

    async def stop(self) -> None:
        """Stop reading, withdraw this process's presence and disconnect."""
        self._deliver = None
        self._gap = None
        for task in (self._reader, self._reporter):
            if task is not None:
                task.cancel()
        for task in (self._reader, self._reporter):
            if task is not None:
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        self._reader = self._reporter = None
        self._link = None
        if self._commands is not None and self._topics:
            try:
                async with self._commands.pipeline(transaction=False) as pipe:
                    for topic in self._topics:
                        pipe.hdel(self.presence_key(topic), self.process_id)
                    await pipe.execute()
            except _LINK_ERRORS as ex:
                _logger.warning('redis hub: presence not withdrawn: %s', ex)
        for state in self._topics.values():
            state.release()
        self._topics.clear()
        self._by_channel.clear()
        self._counts.clear()
        self._fail_confirms()
        await self._close_clients()

    async def _close_clients(self) -> None:
        if self._commands is not None:
            await self._commands.aclose()
            await self._commands.connection_pool.disconnect()
        self._commands = self._subscriber_pool = None

    # -- subscriptions -------------------------------------------------------

    async def subscribe(self, topic: str) -> None:
        """Subscribe this process to a topic (its first local subscriber).

        Returns once Redis confirmed the subscription and, for a resumable
        topic, the stream's last id is the topic's cursor. While Redis is
        unreachable it returns at once: the topic is subscribed on reconnect,
        with a gap.

        Args:
            topic: The topic.
        """
        if topic in self._topics:
            return
        state = _Topic(self.channel(topic), self.stream_key(topic))
        self._topics[topic] = state
        self._by_channel[state.channel] = topic
        link = self._link
        if link is None:
            return
        future = asyncio.get_running_loop().create_future()
        self._confirms.setdefault(state.channel, collections.deque()).append(future)
        try:
            await self._send(link, 'SUBSCRIBE', state.channel)
            await future
            if self._link is not link or self._topics.get(topic) is not state:
                return  # the reader resubscribes it (with a gap), or it left
            tail = await self._tail(state.key)
        except _LINK_ERRORS as ex:
            _logger.info('redis hub: subscribe %r interrupted: %s', topic, ex)
            return
        if tail is not None:
            state.advance(tail)

    async def unsubscribe(self, topic: str) -> None:
        """Unsubscribe this process from a topic (its last local subscriber left).

        Args:
            topic: The topic.
        """
        state = self._topics.pop(topic, None)
        if state is None:
            return
        self._by_channel.pop(state.channel, None)
        self._counts.pop(topic, None)
        state.release()
        link = self._link
        if link is not None:
            try:
                await self._send(link, 'UNSUBSCRIBE', state.channel)
            except _LINK_ERRORS:
                pass  # a new connection will not subscribe it again
        if self._commands is not None:
            try:
                await self._commands.hdel(self.presence_key(topic), self.process_id)
            except _LINK_ERRORS:
                pass  # the field expires

    async def _tail(self, key: str) -> StreamId | None:
        """Return the last id of a stream, or ``None`` if it has none."""
        assert self._commands is not None
        entries = _parse_entries(await self._commands.xrevrange(key, count=1))
        return entries[0][0] if entries else None

    # -- publishing ----------------------------------------------------------

    async def publish(self, topic: str, event: Event, *, retain: int = 0) -> None:
        """Publish an event to every process subscribed to a topic.

        One command: ``PUBLISH`` for a live topic; for a resumable one a
        script that appends the event to the topic's stream (``XADD MAXLEN
        ~ retain``) and publishes it with its stream id.

        Args:
            topic: The topic.
            event: The event (its ``event_id`` is ignored: ids are the
                stream's).

        Keyword Args:
            retain (int): 0 for a live topic, else the events to keep.

        Raises:
            redis.exceptions.ConnectionError: Redis cannot be reached; the
                event was not published (or, rarely, was published but the
                reply was lost). It is not retried.
        """
        if self._commands is None:
            raise RuntimeError('publish() before start() or after stop()')
        if retain <= 0:
            await self._commands.publish(
                self.channel(topic), encode_message(Event(event.payload))
            )
            return
        payload = event.payload
        if isinstance(payload, str):
            kind, data = b't', payload.encode()
        else:
            kind, data = b'b', bytes(payload)
        await self._scripts['publish'](
            keys=[self.stream_key(topic)],
            args=[self.channel(topic), retain, kind, data],
        )

    # -- resuming ------------------------------------------------------------

    async def replay(self, topic: str, last_event_id: str) -> list[Event] | None:
        """Return the retained events of a topic after `last_event_id`.

        When this process subscribes to the topic, the result ends at the
        last event it delivered live, so that nothing is missed or doubled
        at the switch: the events after it reach ``deliver``. When the
        client has seen an event this process has not delivered yet (it was
        connected to a faster process), this waits for it first, up to
        `replay_timeout` seconds.

        Args:
            topic: A resumable topic.
            last_event_id: The id of the last event the client has seen.

        Returns:
            The events after it, oldest first; ``None`` when the stream no
            longer holds `last_event_id` (trimmed, or from before a Redis
            restart) or the id is not a stream id.

        Raises:
            redis.exceptions.ConnectionError: Redis cannot be reached.
        """
        if self._commands is None:
            raise RuntimeError('replay() before start() or after stop()')
        last = _parse_id(last_event_id)
        if last is None:
            return None
        key = self.stream_key(topic)
        reply = await self._commands.xrange(key, min=_format_id(last))
        entries = _parse_entries(reply)
        if not entries or entries[0][0] != last:
            return None
        state = self._topics.get(topic)
        if state is None:
            return [event for _, event in entries[1:]]
        if state.cursor is None or state.cursor < last:
            if not await self._wait_for(state, last):
                return None
        # The cursor may have moved past what was read: read on up to it.
        fetched = entries[-1][0]
        while state.cursor is not None and state.cursor > fetched:
            reply = await self._commands.xrange(key, min=f'({_format_id(fetched)}')
            more = _parse_entries(reply)
            if not more:
                break
            entries.extend(more)
            fetched = more[-1][0]
        cursor = state.cursor
        if cursor is None or self._topics.get(topic) is not state:
            cursor = fetched
        return [event for ident, event in entries[1:] if ident <= cursor]

    async def _wait_for(self, state: _Topic, target: StreamId) -> bool:
        future = asyncio.get_running_loop().create_future()
        state.waiters.append((target, future))
        try:
            await asyncio.wait_for(future, self.replay_timeout)
        except TimeoutError:
            return False
        return state.cursor is not None and state.cursor >= target

    # -- presence ------------------------------------------------------------

    async def presence(self, topic: str, local_count: int) -> int:
        """Count the subscribers of a topic in every process.

        Args:
            topic: The topic.
            local_count: This process's count (also reported to the others).

        Returns:
            `local_count` plus the unexpired counts of the other processes.

        Raises:
            redis.exceptions.ConnectionError: Redis cannot be reached.
        """
        if self._commands is None:
            raise RuntimeError('presence() before start() or after stop()')
        if topic in self._topics:
            self._counts[topic] = local_count
        ttl = int(self.presence_ttl * 1000)
        others = await self._scripts['count'](
            keys=[self.presence_key(topic)], args=[self.process_id, local_count, ttl]
        )
        return local_count + int(others)

    async def report_presence(self) -> None:
        """Write this process's count of every subscribed topic to Redis.

        The backend does it every ``presence_ttl / 3`` seconds by itself.
        """
        if self._commands is None:
            return
        count = self._local_count
        ttl = int(self.presence_ttl * 1000)
        script = self._scripts['report']
        async with self._commands.pipeline(transaction=False) as pipe:
            for topic in list(self._topics):
                n = count(topic) if count is not None else self._counts.get(topic, 1)
                await script(
                    keys=[self.presence_key(topic)],
                    args=[self.process_id, n, ttl],
                    client=pipe,
                )
            await pipe.execute()

    async def _report_loop(self) -> None:
        while True:
            try:
                await self.report_presence()
            except _LINK_ERRORS as ex:
                _logger.debug('redis hub: presence not reported: %s', ex)
            await asyncio.sleep(self.presence_ttl / 3)

    # -- the reader ----------------------------------------------------------

    async def _connect(self) -> Connection:
        """Open a subscriber connection and check that Redis answers."""
        assert self._subscriber_pool is not None
        connection: Connection = self._subscriber_pool.make_connection()  # type: ignore[no-untyped-call]
        try:
            await connection.connect()  # type: ignore[no-untyped-call]
            await connection.send_command('PING', check_health=False)
            if await connection.read_response(timeout=5.0) is None:
                raise RedisTimeoutError('no reply to PING')
        except BaseException:
            await connection.disconnect(nowait=True)
            raise
        return connection

    @staticmethod
    async def _send(connection: Connection, *args: Any) -> None:
        # NOTE(gyrfalcon): redis-py connects a closed connection before it
        #   sends: a SUBSCRIBE would then go to a fresh, unsubscribed socket
        #   behind the reader's back.
        if not connection.is_connected:
            raise RedisConnectionError('the subscriber connection is closed')
        await connection.send_command(*args, check_health=False)

    async def _run(self, connection: Connection | None) -> None:
        """Read the subscriber connection; reconnect whenever it fails.

        Args:
            connection: The first connection, already ``self._link``.
        """
        try:
            await self._serve(connection)
        finally:
            if self._connection is not None:
                await self._connection.disconnect(nowait=True)
                self._connection = None

    async def _serve(self, connection: Connection | None) -> None:
        delay = self.reconnect_delay
        interrupted = False
        while True:
            self._connection = connection
            try:
                if connection is None:
                    connection = self._connection = await self._connect()
                    await self._resubscribe(connection, gaps=interrupted)
                interrupted = False
                delay = self.reconnect_delay
                while True:
                    await self._read_one(connection)
            except (RedisError, OSError) as ex:
                if not interrupted:
                    _logger.warning(
                        'redis hub: connection to %s lost (%s); reconnecting',
                        self.url,
                        ex,
                    )
                interrupted = True
            except Exception:
                # A bug of ours: keep serving, with every topic gapped.
                _logger.exception('redis hub: the reader failed; reconnecting')
                interrupted = True
            self._link = None
            self._fail_confirms()
            if connection is not None:
                await connection.disconnect(nowait=True)
                connection = self._connection = None
            # Equal jitter: half the delay, plus up to the other half.
            await asyncio.sleep(delay / 2 + random.uniform(0, delay / 2))
            delay = min(delay * 2, self.reconnect_max_delay)

    def _fail_confirms(self) -> None:
        """Release subscribe() calls waiting for a confirmation."""
        for futures in self._confirms.values():
            for future in futures:
                if not future.done():
                    future.set_result(None)
        self._confirms.clear()

    async def _resubscribe(self, connection: Connection, *, gaps: bool) -> None:
        """Subscribe a new connection to every topic and catch up.

        Args:
            connection: The new connection.
            gaps: Whether this follows a lost connection: then every topic
                whose continuity is not proven from its stream gets a gap.
        """
        self._ping_sent = None
        snapshot = list(self._topics.items())
        self._link = connection
        results: list[Any] = []
        if snapshot:
            loop = asyncio.get_running_loop()
            futures = []
            for _, state in snapshot:
                future = loop.create_future()
                self._confirms.setdefault(state.channel, collections.deque()).append(
                    future
                )
                futures.append(future)
            channels = [state.channel for _, state in snapshot]
            await self._send(connection, 'SUBSCRIBE', *channels)
            while not all(future.done() for future in futures):
                await self._read_one(connection)
            if self._link is not connection:
                raise RedisConnectionError('lost while subscribing')
            assert self._commands is not None
            async with self._commands.pipeline(transaction=False) as pipe:
                for _, state in snapshot:
                    if state.cursor is not None:
                        pipe.xrange(state.key, min=_format_id(state.cursor))
                    else:
                        pipe.xrevrange(state.key, count=1)
                results = await pipe.execute()
        if gaps:
            self.reconnects += 1
            _logger.warning('redis hub: reconnected to %s', self.url)
        for (topic, state), entries in zip(snapshot, results, strict=True):
            if self._topics.get(topic) is state:  # else unsubscribed meanwhile
                self._catch_up(topic, state, _parse_entries(entries), gaps=gaps)

    def _catch_up(
        self, topic: str, state: _Topic, entries: list[Entry], *, gaps: bool
    ) -> None:
        """Deliver what a topic missed while the connection was down.

        Args:
            topic: The topic.
            state: Its state.
            entries: The stream from the cursor on (``XRANGE key cursor
                +``), or its last entry when there is no cursor.
            gaps: Whether the connection was lost (else this is the first).
        """
        cursor = state.cursor
        if cursor is None:
            # The topic's stream had nothing, or the topic had no connection
            # yet: from now on, the cursor is the stream's end.
            if entries:
                state.advance(entries[0][0])
            if gaps:
                self._signal_gap(topic)
            return
        if not entries or entries[0][0] != cursor:
            # The cursor is gone from the stream (trimmed, or Redis lost its
            # data): events may be lost. After a restart the new ids may
            # even be lower than the cursor, so it starts again.
            state.cursor = None
            self._signal_gap(topic)
        for ident, event in entries:
            if ident != cursor:
                state.advance(ident)
                self._deliver_event(topic, event)

    def _signal_gap(self, topic: str) -> None:
        gap = self._gap
        if gap is None:
            return
        try:
            gap(topic)
        except Exception:  # pragma: no cover - the hub's callbacks never raise
            _logger.exception('redis hub: gap(%r) raised', topic)

    def _deliver_event(self, topic: str, event: Event) -> None:
        deliver = self._deliver
        if deliver is None:
            return
        try:
            deliver(topic, event)
        except Exception:  # pragma: no cover - the hub's callbacks never raise
            _logger.exception('redis hub: deliver(%r) raised', topic)

    async def _read_one(self, connection: Connection) -> None:
        """Read and handle one reply of the subscriber connection."""
        reply = await connection.read_response(timeout=self.health_check_interval)
        if reply is None:
            if self._ping_sent is not None:
                raise RedisTimeoutError(
                    f'no reply to PING within {self.health_check_interval} s'
                )
            self._ping_sent = asyncio.get_running_loop().time()
            await self._send(connection, 'PING')
            return
        self._ping_sent = None
        if type(reply) is not list or len(reply) != 3:
            return  # PING's reply, outside subscriber mode
        kind = reply[0]
        if kind == b'message':
            self._on_message(reply[1], reply[2])
        elif kind == b'subscribe':
            futures = self._confirms.get(reply[1])
            if futures:
                future = futures.popleft()
                if not futures:
                    del self._confirms[reply[1]]
                if not future.done():
                    future.set_result(None)

    def _on_message(self, channel: bytes, data: bytes) -> None:
        topic = self._by_channel.get(channel)
        if topic is None:
            return  # unsubscribed while the message was on its way
        try:
            event = decode_message(data)
        except (ValueError, UnicodeDecodeError) as ex:
            _logger.warning('redis hub: message on %r dropped: %s', topic, ex)
            return
        if event.event_id is not None:
            ident = _parse_id(event.event_id)
            if ident is not None:
                state = self._topics[topic]
                cursor = state.cursor
                if cursor is not None and ident <= cursor:
                    return  # delivered already (catch-up) or history (replay)
                state.advance(ident)
        self._deliver_event(topic, event)
