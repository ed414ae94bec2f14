"""The demo's parts on their own: tokens, fan-out, the ticker, the page.

The end-to-end behaviour is in ``test_demo_app.py``; these tests pin what
real clients cannot easily provoke: token expiry, a subscriber too slow to
keep up, a ticker left without listeners.
"""

from __future__ import annotations

import asyncio
import functools
import json

import pytest
from demo_peers import eventually, guarded

from gyrfalcon import WebSocketDisconnected, testing
from gyrfalcon.demo import create_app
from gyrfalcon.demo.fanout import Broadcaster
from gyrfalcon.demo.feed import FEED_TOPIC, Ticker
from gyrfalcon.demo.handshake import SUBPROTOCOL, TokenIssuer

# -- tokens ----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_token_carries_its_name() -> None:
    issuer = TokenIssuer()
    assert issuer.verify(issuer.issue('alice')) == 'alice'


def test_token_expires() -> None:
    clock = Clock()
    issuer = TokenIssuer(ttl=60, clock=clock)
    token = issuer.issue('alice')
    clock.now += 60
    assert issuer.verify(token) == 'alice'
    clock.now += 1
    assert issuer.verify(token) is None


def test_token_needs_the_same_key() -> None:
    token = TokenIssuer(secret=b'one').issue('alice')
    assert TokenIssuer(secret=b'one').verify(token) == 'alice'
    assert TokenIssuer(secret=b'two').verify(token) is None


@pytest.mark.parametrize(
    'token',
    [None, '', '.', 'a.b.c', 'no-dot', 'é.é', '\x00.\x00', 'eyJ9.', '.sig'],
)
def test_malformed_tokens_are_refused_without_raising(token: str | None) -> None:
    assert TokenIssuer().verify(token) is None


def test_signed_garbage_is_refused() -> None:
    # A payload that is validly signed but is not the JSON we issue.
    issuer = TokenIssuer(secret=b'k')
    for payload in ['bm90IGpzb24', 'WzFd', 'eyJuYW1lIjogN30']:  # 'not json', [1], 7
        token = f'{payload}.{issuer._sign(payload)}'
        assert issuer.verify(token) is None


# -- fan-out ---------------------------------------------------------------------


class SlowSocket:
    """Stands in for an accepted WebSocket whose client reads slowly.

    ``send_text()`` waits until the test lets it through, one message per
    ``release()``.
    """

    def __init__(self) -> None:
        self.sent: list[str] = []
        self._gate = asyncio.Semaphore(0)

    async def send_text(self, text: str) -> None:
        await self._gate.acquire()
        self.sent.append(text)

    def release(self, count: int = 1) -> None:
        for _ in range(count):
            self._gate.release()


class GoneSocket:
    async def send_text(self, text: str) -> None:
        raise WebSocketDisconnected(1001)


async def test_publish_serializes_once_and_reaches_every_subscriber() -> None:
    calls: list[object] = []

    def serialize(message: object) -> str:
        calls.append(message)
        return json.dumps(message)

    broadcaster = Broadcaster(serialize)
    sockets = [SlowSocket() for _ in range(3)]
    async with (
        broadcaster.subscribe('t', sockets[0]) as a,  # type: ignore[arg-type]
        broadcaster.subscribe('t', sockets[1]) as b,  # type: ignore[arg-type]
        broadcaster.subscribe('other', sockets[2]) as c,  # type: ignore[arg-type]
    ):
        for subscription in (a, b, c):
            subscription.start()
        assert broadcaster.subscriber_count('t') == 2
        assert broadcaster.publish('t', {'n': 1}) == 2
        assert calls == [{'n': 1}]
        for ws in sockets:
            ws.release()
        await eventually(lambda: all(ws.sent for ws in sockets[:2]), 'delivery')
        assert sockets[0].sent == sockets[1].sent == ['{"n": 1}']
        assert sockets[2].sent == []
    assert broadcaster.subscriber_count('t') == 0
    assert broadcaster.publish('t', {'n': 2}) == 0
    assert calls == [{'n': 1}]


async def test_slow_subscriber_drops_its_oldest_messages_only() -> None:
    broadcaster = Broadcaster(json.dumps, max_pending=4)
    slow, fast = SlowSocket(), SlowSocket()
    async with (
        broadcaster.subscribe('t', slow) as slow_sub,  # type: ignore[arg-type]
        broadcaster.subscribe('t', fast) as fast_sub,  # type: ignore[arg-type]
    ):
        slow_sub.start()
        fast_sub.start()
        fast.release(100)
        for n in range(10):
            # publish() never waits, however far behind a subscriber is...
            broadcaster.publish('t', n)
            # ...and the fast one keeps up while the slow one is stuck.
            await eventually(functools.partial(_sent, fast, n + 1), 'the fast one')
        assert fast.sent == [str(n) for n in range(10)]
        assert fast_sub.dropped == 0

        slow.release(100)
        await eventually(lambda: len(slow.sent) == 5, 'the slow subscriber')
        # Its writer had taken message 0 before blocking; of the rest, only
        # the newest four fitted in its outbox.
        assert slow.sent == ['0', '6', '7', '8', '9']
        assert slow_sub.dropped == 5


def _sent(ws: SlowSocket, count: int) -> bool:
    return len(ws.sent) == count


async def test_messages_wait_for_start() -> None:
    broadcaster = Broadcaster(json.dumps)
    ws = SlowSocket()
    ws.release(10)
    async with broadcaster.subscribe('t', ws) as subscription:  # type: ignore[arg-type]
        broadcaster.publish('t', 'queued before start')
        await asyncio.sleep(0)
        assert ws.sent == []
        subscription.start()
        broadcaster.publish('t', 'after')
        await eventually(lambda: len(ws.sent) == 2, 'delivery')
        assert ws.sent == ['"queued before start"', '"after"']


async def test_writer_ends_when_the_client_is_gone() -> None:
    broadcaster = Broadcaster(json.dumps)
    async with broadcaster.subscribe('t', GoneSocket()) as sub:  # type: ignore[arg-type]
        sub.start()
        broadcaster.publish('t', 1)
        writer = sub._writer
        assert writer is not None
        await guarded(asyncio.shield(writer), 'the writer to end')
        assert writer.exception() is None


async def test_leaving_cancels_the_writer_but_not_the_caller() -> None:
    broadcaster = Broadcaster(json.dumps)
    ws = SlowSocket()
    async with broadcaster.subscribe('t', ws) as sub:  # type: ignore[arg-type]
        sub.start()
        broadcaster.publish('t', 1)  # the writer blocks in send_text()
        await asyncio.sleep(0)
    assert sub._writer is not None and sub._writer.cancelled()


# -- the ticker ------------------------------------------------------------------


async def test_ticker_runs_only_while_someone_listens() -> None:
    broadcaster = Broadcaster(json.dumps)
    ticker = Ticker(broadcaster, rate=200)
    ws = SlowSocket()
    ws.release(1000)
    async with broadcaster.subscribe(FEED_TOPIC, ws) as sub:  # type: ignore[arg-type]
        sub.start()
        ticker.ensure_running()
        task = ticker._task
        ticker.ensure_running()
        assert ticker._task is task  # one ticker, however many listeners
        await eventually(lambda: len(ws.sent) >= 3, 'three ticks')
    assert task is not None
    await guarded(asyncio.shield(task), 'the ticker to stop')
    ticks = [json.loads(text) for text in ws.sent]
    assert [t['seq'] for t in ticks] == list(range(1, len(ticks) + 1))
    assert {t['type'] for t in ticks} == {'tick'}


def test_ticker_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Ticker(Broadcaster(json.dumps), rate=0)


# -- in the test simulator ---------------------------------------------------------


async def test_demo_in_the_simulator() -> None:
    # gyrfalcon.testing runs the app without a server; the demo needs no
    # startup hook, so it works there as well.
    app = create_app(feed_rate=100)
    async with testing.ASGIConductor(app) as conductor:
        result = await conductor.simulate_get('/token', params={'name': 'sim'})
        token = result.json['token']
        async with conductor.simulate_ws(
            '/ws/chat', query_string=f'token={token}', subprotocols=[SUBPROTOCOL]
        ) as ws:
            welcome = json.loads(await ws.receive_text())
            assert welcome['name'] == 'sim'
            await ws.send_text(json.dumps({'text': 'simulated'}))
            while (message := json.loads(await ws.receive_text()))['type'] != 'message':
                pass
            assert message['text'] == 'simulated'
