"""The demo app (``gyrfalcon.demo``) on real sockets with real clients.

The demo is served by uvicorn with Gyrfalcon's protocol class, as
``gyrfalcon demo`` serves it; every WebSocket test runs with both the
``websockets`` and the ``aiohttp`` client. The last tests serve it with
uvicorn's stock classes too, to show it is a plain ASGI app.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import msgpack
import pytest
from demo_peers import (
    OURS,
    SERVER_CLASSES,
    Peer,
    Peers,
    Rejected,
    guarded,
    http_get,
    serve,
)

import gyrfalcon.demo
from gyrfalcon.asgi import App
from gyrfalcon.demo import create_app
from gyrfalcon.demo.chat import MAX_TEXT
from gyrfalcon.demo.handshake import SUBPROTOCOL
from gyrfalcon.protocol import ENGINE

pytestmark = pytest.mark.network

FEED_RATE = 50.0
"""Events per second in these tests: fast enough to keep them short."""


@dataclass
class Demo:
    """A running demo server."""

    app: App[Any, Any]
    base: str
    peers: Peers

    @property
    def ws_base(self) -> str:
        return self.base.replace('http://', 'ws://')

    async def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        return await http_get(self.base + path)

    async def get_json(self, path: str) -> Any:
        status, _, body = await self.get(path)
        assert status == 200, (status, body)
        return json.loads(body)

    async def token(self, name: str) -> str:
        issued = await self.get_json(f'/token?name={quote(name)}')
        assert issued['name'] == name
        token: str = issued['token']
        return token

    async def connect(
        self,
        room: str,
        name: str | None = 'alice',
        subprotocols: tuple[str, ...] = (SUBPROTOCOL,),
        token: str | None = None,
    ) -> Peer:
        """Open ``/ws/<room>`` the way the page does (token, subprotocol)."""
        url = f'{self.ws_base}/ws/{room}'
        if token is None and name is not None:
            token = await self.token(name)
        if token is not None:
            url += f'?token={quote(token)}'
        return await self.peers.open(url, subprotocols)

    async def join_chat(self, name: str) -> tuple[Peer, dict[str, Any]]:
        """Join the chat; return the connection and its welcome."""
        peer = await self.connect('chat', name)
        welcome = await recv_json(peer)
        assert welcome['type'] == 'welcome'
        joined = await recv_json(peer)
        assert joined == {'type': 'joined', 'name': name, 'online': joined['online']}
        return peer, welcome


async def recv_json(peer: Peer) -> Any:
    message = await guarded(peer.recv(), 'a message')
    assert isinstance(message, str), message
    return json.loads(message)


async def recv_until(peer: Peer, kind: str) -> dict[str, Any]:
    """Skip messages until one of type `kind` arrives."""
    while True:
        message: dict[str, Any] = await recv_json(peer)
        if message['type'] == kind:
            return message


@contextlib.asynccontextmanager
async def start_demo(ws_class: str, peers: Peers) -> AsyncIterator[Demo]:
    app = create_app(feed_rate=FEED_RATE)
    async with serve(app, ws_class) as base:
        try:
            yield Demo(app, base, peers)
        finally:
            await peers.aclose()


@pytest.fixture
async def demo(peers: Peers) -> AsyncIterator[Demo]:
    """The demo, served with Gyrfalcon's protocol class."""
    async with start_demo(OURS, peers) as running:
        yield running


# -- the page and the HTTP endpoints -------------------------------------------


async def test_module_app_is_what_the_cli_serves() -> None:
    # `gyrfalcon demo` serves gyrfalcon.demo:app.
    assert isinstance(gyrfalcon.demo.app, App)


async def test_page_is_served_with_its_assets(demo: Demo) -> None:
    status, headers, body = await demo.get('/')
    assert status == 200
    assert headers['content-type'] == 'text/html; charset=utf-8'
    assert "connect-src 'self'" in headers['content-security-policy']
    page = body.decode()
    # Everything the page loads comes from this server (it works offline).
    for asset in ['/static/demo.js', '/static/demo.css', '/static/favicon.svg']:
        assert asset in page
        status, headers, body = await demo.get(asset)
        assert status == 200, asset
        assert body
    assert 'http://' not in page and 'https://' not in page

    status, headers, body = await demo.get('/static/demo.js')
    assert headers['content-type'] == 'text/javascript; charset=utf-8'
    assert SUBPROTOCOL.encode() in body


@pytest.mark.parametrize('path', ['/static/nope.js', '/static/..%2Fapp.py', '/nope'])
async def test_unknown_files_are_not_found(demo: Demo, path: str) -> None:
    status, _, _ = await demo.get(path)
    assert status == 404


async def test_token_endpoint(demo: Demo) -> None:
    issued = await demo.get_json('/token?name=alice')
    assert issued['name'] == 'alice'
    assert issued['expires_in'] == 3600
    assert issued['token'].count('.') == 1

    guest = await demo.get_json('/token')
    assert guest['name'].startswith('guest-')

    status, headers, body = await demo.get('/token?name=%3Cscript%3E')
    assert status == 400
    assert json.loads(body)['title'] == 'Invalid name'


# -- who may connect -------------------------------------------------------------


@pytest.mark.parametrize('room', ['chat', 'feed'])
async def test_no_token_is_denied_with_401(demo: Demo, room: str) -> None:
    with pytest.raises(Rejected) as exc_info:
        await demo.connect(room, name=None)
    rejected = exc_info.value
    assert rejected.status == 401
    assert rejected.headers['www-authenticate'] == 'Bearer'
    if rejected.body is not None:  # aiohttp does not expose the body
        assert json.loads(rejected.body)['title'] == 'Token required'


async def test_denials_are_not_logged_as_errors(
    demo: Demo, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with pytest.raises(Rejected):
        await demo.connect('chat', name=None)
    with pytest.raises(Rejected):
        await demo.connect('feed', subprotocols=())
    status, _, _ = await demo.get('/token?name=%21')
    assert status == 400
    assert [r.getMessage() for r in caplog.records] == []


@pytest.mark.parametrize(
    'token',
    ['garbage', 'a.b', '', 'forged.signature'],
)
async def test_bad_token_is_denied_with_401(demo: Demo, token: str) -> None:
    with pytest.raises(Rejected) as exc_info:
        await demo.connect('chat', name=None, token=token)
    assert exc_info.value.status == 401


async def test_tampered_token_is_denied_with_401(demo: Demo) -> None:
    token = await demo.token('alice')
    payload, signature = token.split('.')
    # The same signature over another name's payload does not verify.
    other_payload = (await demo.token('mallory')).split('.')[0]
    with pytest.raises(Rejected) as exc_info:
        await demo.connect('chat', name=None, token=f'{other_payload}.{signature}')
    assert exc_info.value.status == 401


async def test_token_from_another_server_is_denied(demo: Demo) -> None:
    # Each app signs with its own random key unless given one.
    foreign = create_app()
    issuer_token = None
    async with serve(foreign, OURS) as other_base:
        status, _, body = await http_get(other_base + '/token?name=alice')
        assert status == 200
        issuer_token = json.loads(body)['token']
    with pytest.raises(Rejected) as exc_info:
        await demo.connect('chat', name=None, token=issuer_token)
    assert exc_info.value.status == 401


@pytest.mark.parametrize('offered', [(), ('chat', 'gyrfalcon.demo.v2')])
@pytest.mark.parametrize('room', ['chat', 'feed'])
async def test_missing_subprotocol_is_denied_with_400(
    demo: Demo, room: str, offered: tuple[str, ...]
) -> None:
    with pytest.raises(Rejected) as exc_info:
        await demo.connect(room, subprotocols=offered)
    rejected = exc_info.value
    assert rejected.status == 400
    if rejected.body is not None:
        assert json.loads(rejected.body)['title'] == 'Unsupported subprotocol'


async def test_subprotocol_is_accepted_among_others(demo: Demo) -> None:
    peer = await demo.connect('chat', subprotocols=('other', SUBPROTOCOL))
    assert peer.subprotocol == SUBPROTOCOL


async def test_unknown_websocket_path_is_denied_with_404(demo: Demo) -> None:
    with pytest.raises(Rejected) as exc_info:
        await demo.connect('nope')
    assert exc_info.value.status == 404


# -- the chat room ---------------------------------------------------------------


async def test_chat_round_trip_between_two_clients(demo: Demo) -> None:
    alice, welcome = await demo.join_chat('alice')
    assert welcome == {
        'type': 'welcome',
        'name': 'alice',
        'online': ['alice'],
        'history': [],
    }
    bob, welcome = await demo.join_chat('bob')
    assert welcome['online'] == ['alice', 'bob']
    assert await recv_json(alice) == {
        'type': 'joined',
        'name': 'bob',
        'online': ['alice', 'bob'],
    }

    await alice.send(json.dumps({'text': '  hello bob  '}))
    heard = await recv_json(bob)
    assert heard['type'] == 'message'
    assert (heard['from'], heard['text']) == ('alice', 'hello bob')
    assert isinstance(heard['ts'], float)
    # The sender gets its own message back, the very same one.
    assert await recv_json(alice) == heard

    await bob.send(json.dumps({'text': 'hi alice'}))
    answer = await recv_json(alice)
    assert (answer['from'], answer['text']) == ('bob', 'hi alice')
    assert answer['id'] == heard['id'] + 1


async def test_newcomer_gets_the_history(demo: Demo) -> None:
    alice, _ = await demo.join_chat('alice')
    for text in ['one', 'two', 'three']:
        await alice.send(json.dumps({'text': text}))
        await recv_until(alice, 'message')
    _, welcome = await demo.join_chat('carol')
    assert [(m['from'], m['text']) for m in welcome['history']] == [
        ('alice', 'one'),
        ('alice', 'two'),
        ('alice', 'three'),
    ]


async def test_many_small_messages_arrive_in_order(demo: Demo) -> None:
    alice, _ = await demo.join_chat('alice')
    bob, _ = await demo.join_chat('bob')
    await recv_until(alice, 'joined')
    count = 300
    for i in range(count):
        await alice.send(json.dumps({'text': f'message {i}'}))
    heard = [await recv_until(bob, 'message') for _ in range(count)]
    assert [m['text'] for m in heard] == [f'message {i}' for i in range(count)]
    ids = [m['id'] for m in heard]
    assert ids == list(range(ids[0], ids[0] + count))


async def test_chat_accepts_messagepack_media(demo: Demo) -> None:
    # receive_media() picks the handler by payload type: BINARY is MessagePack.
    alice, _ = await demo.join_chat('alice')
    await alice.send(msgpack.packb({'text': 'packed'}))
    heard = await recv_until(alice, 'message')
    assert (heard['from'], heard['text']) == ('alice', 'packed')


@pytest.mark.parametrize(
    ('payload', 'error'),
    [
        ('not json', 'unreadable: Expecting value'),
        (b'\xc1', 'unreadable:'),
        ('["text"]', 'expected an object like {"text": "hello"}'),
        ('{"text": 7}', 'expected an object like {"text": "hello"}'),
        ('{"text": "   "}', 'empty message'),
        (
            json.dumps({'text': 'x' * (MAX_TEXT + 1)}),
            'message longer than 500 characters',
        ),
    ],
)
async def test_bad_chat_messages_get_an_error_and_the_connection_stays(
    demo: Demo, payload: str | bytes, error: str
) -> None:
    alice, _ = await demo.join_chat('alice')
    await alice.send(payload)
    reply = await recv_json(alice)
    assert reply['type'] == 'error'
    assert reply['error'].startswith(error), reply
    # Still open, still chatting.
    await alice.send(json.dumps({'text': 'still here'}))
    assert (await recv_json(alice))['text'] == 'still here'


async def test_large_chat_message_at_the_limit(demo: Demo) -> None:
    alice, _ = await demo.join_chat('alice')
    bob, _ = await demo.join_chat('bob')
    text = ('é✓' * MAX_TEXT)[:MAX_TEXT]
    await alice.send(json.dumps({'text': text}, ensure_ascii=False))
    assert (await recv_until(bob, 'message'))['text'] == text


async def test_quit_closes_cleanly_with_1000(demo: Demo) -> None:
    alice, _ = await demo.join_chat('alice')
    bob, _ = await demo.join_chat('bob')
    await bob.send(json.dumps({'text': '/quit'}))
    closed = await bob.closed_by_server()
    assert (closed.code, closed.reason) == (1000, 'Goodbye')
    assert await recv_until(alice, 'left') == {
        'type': 'left',
        'name': 'bob',
        'online': ['alice'],
    }


@pytest.mark.parametrize('code', [1000, 1001, 4000])
async def test_client_close_is_announced(demo: Demo, code: int) -> None:
    alice, _ = await demo.join_chat('alice')
    bob, _ = await demo.join_chat('bob')
    await recv_until(alice, 'joined')
    await bob.close(code, 'bye')
    left = await recv_until(alice, 'left')
    assert left == {'type': 'left', 'name': 'bob', 'online': ['alice']}
    stats = await demo.get_json('/stats')
    assert stats['chat']['online'] == ['alice']


async def test_same_name_twice_stays_online_until_both_leave(demo: Demo) -> None:
    first, _ = await demo.join_chat('alice')
    second, _ = await demo.join_chat('alice')
    await second.close()
    left = await recv_until(first, 'left')
    assert left['online'] == ['alice']


# -- the event feed --------------------------------------------------------------


async def test_feed_pushes_increasing_counters(demo: Demo) -> None:
    feed = await demo.connect('feed')
    hello = await recv_json(feed)
    assert hello['type'] == 'hello'
    assert hello['rate'] == FEED_RATE
    assert hello['server'] == f'gyrfalcon engine ({ENGINE})'

    ticks = [await recv_json(feed) for _ in range(10)]
    assert all(t['type'] == 'tick' for t in ticks)
    seqs = [t['seq'] for t in ticks]
    assert seqs == list(range(seqs[0], seqs[0] + 10))
    assert seqs[0] == hello['seq'] + 1
    stamps = [t['ts'] for t in ticks]
    assert stamps == sorted(stamps)
    assert all(isinstance(t['value'], float) for t in ticks)


async def test_every_listener_gets_every_event(demo: Demo) -> None:
    first = await demo.connect('feed', 'alice')
    await recv_json(first)  # hello
    second = await demo.connect('feed', 'bob')
    await recv_json(second)  # hello
    # Once both listen, each event reaches both, the same bytes.
    seen_by_second = await recv_json(second)
    assert seen_by_second['listeners'] == 2
    while (event := await recv_json(first))['seq'] < seen_by_second['seq']:
        pass
    assert event == seen_by_second
    for _ in range(5):
        assert await recv_json(first) == await recv_json(second)


async def test_feed_stops_when_nobody_listens_and_resumes(demo: Demo) -> None:
    feed = await demo.connect('feed')
    await recv_json(feed)
    last = (await recv_json(feed))['seq']
    await feed.close()
    stats = await wait_for_stats(demo, lambda stats: stats['feed']['listeners'] == 0)
    stopped_at = stats['feed']['seq']
    assert stopped_at >= last

    again = await demo.connect('feed', 'bob')
    hello = await recv_json(again)
    assert hello['seq'] >= stopped_at
    tick = await recv_json(again)
    # The counter carries on where it was: it never goes back.
    assert tick['seq'] == hello['seq'] + 1


async def wait_for_stats(demo: Demo, predicate: Callable[[Any], bool]) -> Any:
    """Poll ``GET /stats`` until `predicate` holds; return those stats."""
    for _ in range(1000):
        stats = await demo.get_json('/stats')
        if predicate(stats):
            return stats
        await asyncio.sleep(0.01)
    raise AssertionError(f'stats never matched: {stats}')


async def test_stats_reports_the_room_and_the_feed(demo: Demo) -> None:
    stats = await demo.get_json('/stats')
    assert stats['chat'] == {'online': []}
    assert stats['feed']['listeners'] == 0
    assert stats['engine'] in ('native', 'python')

    await demo.join_chat('alice')
    feed = await demo.connect('feed', 'bob')
    await recv_json(feed)
    stats = await demo.get_json('/stats')
    assert stats['chat'] == {'online': ['alice']}
    assert stats['feed']['listeners'] == 1
    assert stats['feed']['rate'] == FEED_RATE


# -- the same app on uvicorn's stock protocol classes ------------------------------


@pytest.mark.parametrize(
    'ws_class', [SERVER_CLASSES['websockets-sansio'], SERVER_CLASSES['wsproto']]
)
async def test_demo_runs_on_stock_uvicorn_classes(peers: Peers, ws_class: str) -> None:
    async with start_demo(ws_class, peers) as demo:
        with pytest.raises(Rejected) as exc_info:
            await demo.connect('chat', name=None)
        assert exc_info.value.status == 401
        with pytest.raises(Rejected) as exc_info:
            await demo.connect('feed', subprotocols=())
        assert exc_info.value.status == 400

        alice, _ = await demo.join_chat('alice')
        bob, _ = await demo.join_chat('bob')
        await alice.send(json.dumps({'text': 'portable'}))
        heard = await recv_until(bob, 'message')
        assert (heard['from'], heard['text']) == ('alice', 'portable')

        feed = await demo.connect('feed')
        hello = await recv_json(feed)
        assert hello['server'] == 'ASGI server'
        first, second = await recv_json(feed), await recv_json(feed)
        assert second['seq'] == first['seq'] + 1
