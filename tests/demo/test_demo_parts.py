"""The demo's parts on their own: tokens, fan-out, the ticker, the page.

The end-to-end behaviour is in ``test_demo_app.py``; these tests pin what
real clients cannot easily provoke: token expiry, a ticker left without
listeners. Fan-out itself is the hub's (``tests/hub``).
"""

from __future__ import annotations

import asyncio
import importlib
import json

import pytest
from demo_peers import guarded

from gyrfalcon import testing
from gyrfalcon.demo import create_app
from gyrfalcon.demo.feed import FEED_TOPIC, Ticker
from gyrfalcon.demo.handshake import SUBPROTOCOL, TokenIssuer
from gyrfalcon.hub import Hub

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


# -- the ticker ------------------------------------------------------------------
# (Fan-out itself is the hub's: tests/hub.)


async def test_ticker_runs_only_while_someone_listens() -> None:
    app = create_app(feed_rate=200)
    feed = app._router.find('/ws/feed')[0]
    ticker = feed._ticker
    async with testing.ASGIConductor(app) as conductor:
        token = (await conductor.simulate_get('/token', params={'name': 'a'})).json
        async with conductor.simulate_ws(
            '/ws/feed',
            query_string=f'token={token["token"]}',
            subprotocols=[SUBPROTOCOL],
        ) as ws:
            hello = json.loads(await ws.receive_text())
            assert hello['type'] == 'hello'
            ticks = [json.loads(await ws.receive_text()) for _ in range(3)]
            task = ticker._task
            ticker.ensure_running()
            assert ticker._task is task  # one ticker, however many listeners
    assert task is not None
    await guarded(asyncio.shield(task), 'the ticker to stop')
    assert app.hub.count(ticker.topic) == 0
    seqs = [t['seq'] for t in ticks]
    assert seqs == list(range(seqs[0], seqs[0] + 3))
    assert hello['seq'] < seqs[0]
    assert {t['type'] for t in ticks} == {'tick'}
    assert {t['listeners'] for t in ticks} == {1}


def test_ticker_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Ticker(Hub(), rate=0)


def test_tickers_have_topics_of_their_own() -> None:
    # Several worker processes may share one hub (Redis): each ticker
    # publishes to a topic of its own, so their events never mix.
    hub = Hub()
    assert Ticker(hub).topic != Ticker(hub).topic
    assert Ticker(hub).topic.startswith(FEED_TOPIC + ':')


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


def test_workers_share_a_token_key_and_a_backend_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    demo_app = importlib.import_module('gyrfalcon.demo.app')

    monkeypatch.delenv(demo_app.SECRET_ENV, raising=False)
    monkeypatch.delenv(demo_app.REDIS_ENV, raising=False)
    assert demo_app._secret_from_env() is None
    assert demo_app._backend_from_env() is None
    assert type(create_app().hub.backend).__name__ == 'InProcessBackend'
    monkeypatch.setenv(demo_app.REDIS_ENV, 'redis://127.0.0.1:1/0')
    # Two workers: the token one issues, the other accepts.
    one, two = create_app(), create_app()
    issuer_one = one._router.find('/token')[0]._issuer
    issuer_two = two._router.find('/token')[0]._issuer
    assert issuer_two.verify(issuer_one.issue('alice')) == 'alice'
    assert type(one.hub.backend).__name__ == 'RedisBackend'
    monkeypatch.setenv(demo_app.SECRET_ENV, 'shared')
    assert demo_app._secret_from_env() == b'shared'
