"""``RedisBackend`` against a real ``redis-server``: several backends, one Redis.

Each backend here stands for one process (its own connections, its own
reader task). A test never waits for "long enough": it waits for a marker
event published after the events under test, and since Redis delivers one
connection's messages in order, everything before the marker has arrived by
then.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import os
import signal
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis_server import RedisServer

from gyrfalcon.hub import Event
from gyrfalcon.hub.redis import RedisBackend, decode_message, encode_message

pytestmark = pytest.mark.network

GUARD = 15.0
"""Seconds before a wait that should succeed is declared hung (never asserted)."""


class Process:
    """What a hub would be: the callbacks a backend delivers to."""

    def __init__(self) -> None:
        self.events: dict[str, list[Event]] = collections.defaultdict(list)
        self.gaps: list[str] = []
        self.counts: dict[str, int] = {}
        self.tap: Callable[[str, Event], None] | None = None

    def deliver(self, topic: str, event: Event) -> None:
        self.events[topic].append(event)
        if self.tap is not None:
            self.tap(topic, event)

    def gap(self, topic: str) -> None:
        self.gaps.append(topic)

    def count(self, topic: str) -> int:
        return self.counts.get(topic, 0)

    def payloads(self, topic: str) -> list[str | bytes]:
        return [event.payload for event in self.events[topic]]


async def eventually(predicate: Callable[[], bool], what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + GUARD
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f'gave up waiting for {what}')
        await asyncio.sleep(0.005)


@contextlib.asynccontextmanager
async def started(
    url: str, **options: Any
) -> AsyncIterator[tuple[RedisBackend, Process]]:
    backend = RedisBackend(url, **options)
    process = Process()
    await backend.start(process.deliver, process.gap)
    try:
        yield backend, process
    finally:
        await backend.stop()


_markers = itertools.count()


async def marker(publisher: RedisBackend, topic: str, *processes: Process) -> str:
    """Publish a new marker and wait until every process has it.

    Returns:
        The marker's text.
    """
    text = f'marker {next(_markers)}'
    await publisher.publish(topic, Event(text))
    for process in processes:
        await eventually(
            lambda p=process: text in p.payloads(topic), f'the marker on {topic}'
        )
    return text


# -- the wire format ---------------------------------------------------------


@pytest.mark.parametrize(
    'event',
    [
        Event('hello'),
        Event(''),
        Event('ünïcødé ✓'),
        Event(b''),
        Event(bytes(range(256))),
        Event('with id', '1700000000000-3'),
        Event(b'\x00\xff', '1-0'),
    ],
)
def test_wire_format_round_trips(event: Event) -> None:
    assert decode_message(encode_message(event)) == event


def test_wire_format_header() -> None:
    assert encode_message(Event('hi')) == b'Thi'
    assert encode_message(Event(b'hi')) == b'Bhi'
    assert encode_message(Event('hi', '5-1')) == b't\x00\x035-1hi'
    with pytest.raises(ValueError, match='unknown message kind'):
        decode_message(b'Xhi')
    with pytest.raises(ValueError, match='too short'):
        decode_message(b't\x00\x09abc')


# -- live topics -------------------------------------------------------------


async def test_publish_reaches_every_subscribed_process_once(redis_url: str) -> None:
    async with (
        started(redis_url) as (a, pa),
        started(redis_url) as (b, pb),
        started(redis_url) as (c, pc),
    ):
        await a.subscribe('room')
        await b.subscribe('room')
        await c.subscribe('elsewhere')
        await a.publish('room', Event('from a'))
        await c.publish('room', Event(b'\x00from c\xff'))
        await b.publish('room', Event('ünïcødé'))
        end = await marker(c, 'room', pa, pb)
        expected = ['from a', b'\x00from c\xff', 'ünïcødé', end]
        assert pa.payloads('room') == expected
        assert pb.payloads('room') == expected
        assert pc.payloads('room') == []
        assert all(e.event_id is None for e in pa.events['room'])
        assert pa.gaps == pb.gaps == []


async def test_unsubscribe_stops_delivery(redis_url: str) -> None:
    async with started(redis_url) as (a, pa), started(redis_url) as (b, pb):
        for backend in (a, b):
            await backend.subscribe('room')
            await backend.subscribe('after')
        await a.unsubscribe('room')
        await b.publish('room', Event('one'))
        await marker(b, 'after', pa, pb)
        assert pa.payloads('room') == []
        assert pb.payloads('room') == ['one']
        # Subscribing again starts receiving again.
        await a.subscribe('room')
        await b.publish('room', Event('two'))
        end = await marker(b, 'room', pa)
        assert pa.payloads('room') == ['two', end]


# -- resumable topics --------------------------------------------------------


async def test_resumable_events_carry_stream_ids(redis_url: str) -> None:
    async with started(redis_url) as (a, pa), started(redis_url) as (b, pb):
        await a.subscribe('feed')
        await b.subscribe('feed')
        await a.publish('feed', Event('text ✓'), retain=10)
        await b.publish('feed', Event(bytes(range(256))), retain=10)
        await eventually(lambda: len(pa.events['feed']) == 2, 'two events')
        await eventually(lambda: len(pb.events['feed']) == 2, 'two events')
        assert pa.events['feed'] == pb.events['feed']
        first, second = pa.events['feed']
        assert first.payload == 'text ✓'
        assert second.payload == bytes(range(256))
        assert first.event_id is not None and second.event_id is not None
        # The ids are the stream's: replay agrees with them.
        assert await a.replay('feed', first.event_id) == [second]
        assert await b.replay('feed', second.event_id) == []


async def test_replay_returns_exactly_the_events_after_the_id(redis_url: str) -> None:
    async with started(redis_url) as (a, pa), started(redis_url) as (b, _):
        await a.subscribe('feed')
        for n in range(10):
            await b.publish('feed', Event(f'event {n}'), retain=100)
        await eventually(lambda: len(pa.events['feed']) == 10, 'ten events')
        events = pa.events['feed']
        ids = [event.event_id for event in events]
        assert len(set(ids)) == 10
        for n in (0, 3, 8):
            last = ids[n]
            assert last is not None
            # From a subscribed process and from one that is not.
            assert await a.replay('feed', last) == events[n + 1 :]
            assert await b.replay('feed', last) == events[n + 1 :]
        assert await a.replay('feed', 'not an id') is None
        assert await a.replay('feed', '1-1') is None  # never in the stream
        assert await a.replay('other', ids[0] or '') is None


async def test_replay_past_retention_is_a_gap(redis_url: str) -> None:
    async with started(redis_url) as (a, pa):
        await a.subscribe('feed')
        for n in range(400):
            await a.publish('feed', Event(str(n)), retain=5)
        await eventually(lambda: len(pa.events['feed']) == 400, 'every event')
        events = pa.events['feed']
        assert await a.replay('feed', events[0].event_id or '') is None
        # The last `retain` events stay, whatever MAXLEN ~ trimmed.
        assert await a.replay('feed', events[-6].event_id or '') == events[-5:]


async def resume(backend: RedisBackend, process: Process, last: Event) -> list[Event]:
    """Resume after `last` as the hub does: park live events meanwhile."""
    parked: list[Event] = []
    process.tap = lambda topic, event: parked.append(event)
    try:
        replayed = await backend.replay('feed', last.event_id or '')
    finally:
        process.tap = None
    assert replayed is not None
    ids = {event.event_id for event in replayed}
    return [*replayed, *(event for event in parked if event.event_id not in ids)]


async def test_resume_during_publishing_neither_drops_nor_doubles(
    redis_url: str,
) -> None:
    """A resume races live events the way the hub runs it.

    While a client resumes, the hub parks the live events it delivers and
    afterwards sends the replayed events, then the parked ones the replay did
    not contain. Whatever the timing, the client must see every event after
    its last id exactly once, in order.
    """
    async with started(redis_url) as (sub, ps), started(redis_url) as (pub, _):
        await sub.subscribe('feed')
        total = 300

        async def publish_all() -> None:
            for n in range(total):
                await pub.publish('feed', Event(str(n)), retain=1000)
            await pub.publish('feed', Event('end'), retain=1000)

        publisher = asyncio.create_task(publish_all())
        resumes = 0
        while not publisher.done():
            await eventually(
                lambda: len(ps.events['feed']) > 1 or publisher.done(), 'events'
            )
            if publisher.done():
                break
            everything = ps.events['feed']
            last = everything[len(everything) // 2]
            client = await resume(sub, ps, last)
            ps.tap = lambda topic, event, append=client.append: append(event)
            # This client listens while a few more events arrive.
            target = len(everything) + 10
            await eventually(
                lambda target=target: (
                    len(ps.events['feed']) > target or publisher.done()
                ),
                'more events',
            )
            ps.tap = None
            first = everything.index(last) + 1
            assert client == everything[first:]
            resumes += 1
        await publisher
        assert resumes >= 3
        assert ps.payloads('feed') == [*map(str, range(total)), 'end']


# -- connection loss ---------------------------------------------------------


async def test_lost_connection_catches_resumable_topics_up(
    redis_url: str, redis_server: RedisServer
) -> None:
    async with (
        started(redis_url) as (sub, ps),
        started(redis_url) as (pub, _),
    ):
        await sub.subscribe('feed')
        await sub.subscribe('live')
        for n in range(5):
            await pub.publish('feed', Event(f'before {n}'), retain=1000)
        await eventually(lambda: len(ps.events['feed']) == 5, 'five events')
        # Kill the subscriber's connection; publish while it reconnects.
        assert redis_server.command('CLIENT', 'KILL', 'TYPE', 'pubsub') == b':1\r\n'
        for n in range(50):
            await pub.publish('feed', Event(f'after {n}'), retain=1000)
        await eventually(lambda: sub.reconnects == 1, 'the reconnection')
        await pub.publish('feed', Event('marker'), retain=1000)
        await eventually(lambda: 'marker' in ps.payloads('feed'), 'the marker')
        assert ps.payloads('feed') == [
            *(f'before {n}' for n in range(5)),
            *(f'after {n}' for n in range(50)),
            'marker',
        ]
        ids = [e.event_id for e in ps.events['feed']]
        assert len(set(ids)) == len(ids)
        # The live topic may have lost messages; the stream proved the feed
        # lost none.
        assert ps.gaps == ['live']


async def test_broker_restart_resubscribes_and_signals_the_gap(
    redis_url: str, redis_server: RedisServer
) -> None:
    async with started(redis_url) as (a, pa), started(redis_url) as (b, pb):
        for backend in (a, b):
            await backend.subscribe('room')
            await backend.subscribe('feed')
        await a.publish('room', Event('before'))
        await a.publish('feed', Event('before'), retain=100)
        first = await marker(b, 'room', pa, pb)
        await eventually(lambda: len(pb.events['feed']) == 1, 'the feed event')
        redis_server.restart()  # empty: the stream is gone too
        await eventually(lambda: a.reconnects == b.reconnects == 1, 'reconnections')
        for process in (pa, pb):
            assert sorted(process.gaps) == ['feed', 'room']
        await b.publish('room', Event('after'))
        await b.publish('feed', Event('after'), retain=100)
        second = await marker(a, 'room', pa, pb)
        await eventually(lambda: len(pa.events['feed']) == 2, 'the new feed event')
        await eventually(lambda: len(pb.events['feed']) == 2, 'the new feed event')
        for process in (pa, pb):
            assert process.payloads('room') == ['before', first, 'after', second]
            assert process.payloads('feed') == ['before', 'after']
            assert sorted(process.gaps) == ['feed', 'room']
        # The old id is from before the restart: a gap, not a wrong replay.
        old = pa.events['feed'][0].event_id
        assert await a.replay('feed', old or '') is None


async def test_unresponsive_broker_is_detected(
    redis_url: str, redis_server: RedisServer
) -> None:
    """A broker that stops answering (half-open link) counts as lost."""
    assert redis_server.process is not None
    async with (
        started(redis_url, health_check_interval=0.1) as (a, pa),
        started(redis_url) as (b, _),
    ):
        await a.subscribe('room')
        os.kill(redis_server.process.pid, signal.SIGSTOP)
        try:
            await eventually(lambda: a._link is None, 'the link given up')
        finally:
            os.kill(redis_server.process.pid, signal.SIGCONT)
        await eventually(lambda: a.reconnects == 1, 'the reconnection')
        assert pa.gaps == ['room']
        await marker(b, 'room', pa)


async def test_subscribe_while_disconnected_subscribes_on_reconnect(
    redis_url: str, redis_server: RedisServer
) -> None:
    async with started(redis_url) as (a, pa):
        redis_server.stop()
        await eventually(lambda: a._link is None, 'the link lost')
        await a.subscribe('room')  # returns at once
        redis_server.restart()
        await eventually(lambda: a.reconnects == 1, 'the reconnection')
        assert pa.gaps == ['room']
        await marker(a, 'room', pa)


async def test_start_fails_when_redis_is_unreachable(redis_server: RedisServer) -> None:
    from redis.exceptions import ConnectionError
    from redis_server import free_port

    backend = RedisBackend(f'redis://127.0.0.1:{free_port()}/0')
    process = Process()
    with pytest.raises(ConnectionError):
        await backend.start(process.deliver, process.gap)


# -- presence ----------------------------------------------------------------


async def test_presence_adds_every_process(
    redis_url: str, redis_server: RedisServer
) -> None:
    async with started(redis_url) as (a, pa):
        async with started(redis_url) as (b, pb):
            await a.subscribe('room')
            await b.subscribe('room')
            pa.counts['room'] = 3
            pb.counts['room'] = 2
            await b.report_presence()
            assert await a.presence('room', 3) == 5
            assert await b.presence('room', 2) == 5
            assert await a.presence('empty', 0) == 0
        # A stopped process withdraws its count at once.
        assert await a.presence('room', 3) == 3
        # The count of a process that stopped refreshing ages out: here a
        # field whose deadline has passed, as a crashed process leaves it.
        key = a.presence_key('room')
        redis_server.command('HSET', key, 'crashed:1:x', '7:1')
        assert await a.presence('room', 3) == 3
        assert redis_server.command('HEXISTS', key, 'crashed:1:x') == b':0\r\n'


async def test_presence_of_a_silent_process_expires(redis_url: str) -> None:
    async with started(redis_url) as (a, _):
        silent = RedisBackend(redis_url, presence_ttl=0.2)
        ps = Process()
        await silent.start(ps.deliver, ps.gap)
        await silent.subscribe('room')
        ps.counts['room'] = 4
        await silent.report_presence()
        assert await a.presence('room', 1) == 5
        # It stops refreshing without withdrawing (as a crash would).
        assert silent._reporter is not None
        silent._reporter.cancel()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + GUARD
        while await a.presence('room', 1) != 1:
            assert loop.time() < deadline, 'the count never expired'
            await asyncio.sleep(0.05)
        await silent.stop()


async def test_replay_waits_for_an_event_this_process_has_not_delivered(
    redis_url: str, redis_server: RedisServer
) -> None:
    """A client that has seen more than this process: wait, or report a gap."""
    async with (
        started(redis_url, replay_timeout=0.2) as (sub, ps),
        started(redis_url) as (pub, _),
    ):
        await sub.subscribe('feed')
        await pub.publish('feed', Event('one'), retain=10)
        await eventually(lambda: len(ps.events['feed']) == 1, 'the event')
        # An entry that reached the stream but was never published live (as
        # if this process lagged for good): the replay cannot be cut at it.
        reply = redis_server.command(
            'XADD', sub.stream_key('feed'), '*', 'k', 't', 'd', 'unseen'
        )
        unseen = reply.split(b'\r\n')[1].decode()
        assert await sub.replay('feed', unseen) is None
        # One this process delivers while the replay waits: then it is cut.
        waiting = asyncio.create_task(sub.replay('feed', unseen))
        await pub.publish('feed', Event('two'), retain=10)
        assert await waiting == [ps.events['feed'][-1]]
        assert ps.payloads('feed') == ['one', 'two']
