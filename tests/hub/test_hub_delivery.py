"""Hub delivery on real sockets: order, no duplicates, close, media, frames.

Every test runs with subscribers on each ``hub_peers.PATHS`` path: the fast
path (prepared frames through the engine channel) and the two fallbacks (a
queue and a writer task per subscriber).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hub_peers import PATHS, hub_app, wait_for, ws_class
from websockets.asyncio.client import ClientConnection, connect
from ws_peers import Peers, count_writes, serve

import gyrfalcon as falcon
from gyrfalcon.hub import _hub

pytestmark = pytest.mark.network


@pytest.fixture(params=PATHS)
def path(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


async def subscribe(url: str, topic: str, n: int) -> list[ClientConnection]:
    clients = []
    for _ in range(n):
        client = await connect(f'{url}/sub/{topic}')
        assert await client.recv() == 'subscribed'
        clients.append(client)
    return clients


async def read(client: ClientConnection, n: int) -> list[Any]:
    return [await asyncio.wait_for(client.recv(), 10) for _ in range(n)]


async def test_many_subscribers_get_every_message_once_in_order(path: str) -> None:
    served, app, _ = hub_app(path)
    async with serve(served, ws_class(path)) as server:
        clients = await subscribe(server.url, 'room', 12)
        others = await subscribe(server.url, 'other', 2)
        assert app.hub.count('room') == 12
        handed = [await app.hub.publish('room', f'm{i}') for i in range(200)]
        await app.hub.publish('other', 'not for room')
        assert handed == [12] * 200
        for client in clients:
            assert await read(client, 200) == [f'm{i}' for i in range(200)]
        # Nothing more (no duplicate, not the other topic's message): the
        # next message each client reads is the next one published.
        await app.hub.publish('room', 'last')
        for client in clients:
            assert await client.recv() == 'last'
        for client in others:
            assert await client.recv() == 'not for room'
        stats = app.hub.stats('room')
        assert (stats.subscribers, stats.published, stats.delivered) == (12, 201, 2412)
        assert stats.dropped == 0
        for client in clients + others:
            await client.close()


async def test_bytes_are_binary_and_media_is_serialised_once(path: str) -> None:
    served, app, _ = hub_app(path)
    calls = []
    handler = app.ws_options.media_handlers[falcon.WebSocketPayloadType.TEXT]

    class Counting:
        def serialize(self, media: object) -> str:
            calls.append(media)
            return str(handler.serialize(media))

        def deserialize(self, payload: str) -> object:
            return handler.deserialize(payload)

    app.ws_options.media_handlers[falcon.WebSocketPayloadType.TEXT] = Counting()
    async with serve(served, ws_class(path)) as server:
        clients = await subscribe(server.url, 't', 5)
        assert await app.hub.publish('t', {'n': 1, 'text': 'é'}) == 5
        assert await app.hub.publish('t', b'\x00\xff') == 5
        assert await app.hub.publish('t', bytearray(b'ba')) == 5
        await app.hub.publish('t', {'n': 2}, falcon.WebSocketPayloadType.BINARY)
        assert calls == [{'n': 1, 'text': 'é'}]
        for client in clients:
            text, data, more, packed = await read(client, 4)
            assert json.loads(text) == {'n': 1, 'text': 'é'}
            assert (data, more) == (b'\x00\xff', b'ba')
            assert isinstance(packed, bytes) and packed == b'\x81\xa1n\x02'
            await client.close()


async def test_a_frame_is_prepared_once_per_publish(
    path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared: list[object] = []
    real = _hub.prepare_frame

    def counting(data: Any, **kwargs: Any) -> bytes:
        prepared.append(data)
        return real(data, **kwargs)

    monkeypatch.setattr(_hub, 'prepare_frame', counting)
    served, app, _ = hub_app(path)
    async with serve(served, ws_class(path)) as server:
        clients = await subscribe(server.url, 't', 8)
        for i in range(3):
            await app.hub.publish('t', f'message {i}')
        for client in clients:
            assert await read(client, 3) == ['message 0', 'message 1', 'message 2']
            await client.close()
    # The fast path writes one prepared frame to every subscriber; the
    # fallbacks send the payload through ws.send_text() and frame nothing.
    expected = ['message 0', 'message 1', 'message 2'] if path == 'fast' else []
    assert prepared == expected


@pytest.mark.parametrize('how', ['client close', 'tcp reset', 'app close', 'unsub'])
async def test_a_connection_leaves_every_topic_when_it_closes(
    path: str, how: str
) -> None:
    served, app, subscriber = hub_app(path)
    peers = Peers()
    async with serve(served, ws_class(path)) as server:
        stay = await subscribe(server.url, 'a', 1)
        raw = await peers.connect(server.port, '/sub/a')
        assert await raw.recv_message() == 'subscribed'
        ws = subscriber.subscriptions[-1].ws
        await app.hub.subscribe(ws, 'b')
        assert (app.hub.count('a'), app.hub.count('b')) == (2, 1)
        if how == 'client close':
            raw.send_close(1001)
        elif how == 'tcp reset':
            raw.writer.transport.abort()
        elif how == 'app close':
            raw.send_text('quit')
        else:
            await app.hub.unsubscribe(ws, 'a')
            await app.hub.unsubscribe(ws, 'b')
            await app.hub.unsubscribe(ws, 'b')  # not subscribed: nothing happens
        if how != 'unsub':
            await wait_for(lambda: subscriber.finished == 1, 'the responder')
        # topics() first: count() would also prune closed connections.
        assert app.hub.topics() == ['a']
        assert (app.hub.count('a'), app.hub.count('b')) == (1, 0)
        assert await app.hub.publish('a', 'after') == 1
        assert await app.hub.publish('b', 'after') == 0
        assert await stay[0].recv() == 'after'
        if how == 'unsub':
            raw.send_text('still open')
            await wait_for(lambda: 'still open' in subscriber.received, 'message')
        await stay[0].close()
        await peers.aclose()


async def test_a_closed_connection_is_not_counted_before_its_responder_ends(
    path: str,
) -> None:
    # A responder that never reads only learns of the close when it next
    # touches the connection; count() and publish() do not wait for that.
    app = falcon.App()
    release = asyncio.Event()

    class Idle:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            await app.hub.subscribe(ws, 'idle')
            await ws.send_text('subscribed')
            await release.wait()

    app.add_route('/', Idle())
    served: Any = app
    if path == 'wrapped':
        from hub_peers import Wrap

        served = Wrap(app)
    async with serve(served, ws_class(path)) as server:
        client = await connect(server.url)
        assert await client.recv() == 'subscribed'
        assert app.hub.count('idle') == 1
        await client.close()
        await wait_for(lambda: app.hub.count('idle') == 0, 'the close to be seen')
        assert await app.hub.publish('idle', 'x') == 0
        release.set()


async def test_subscribe_needs_an_accepted_open_connection() -> None:
    app = falcon.App()
    errors: list[BaseException] = []

    class Early:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            try:
                await app.hub.subscribe(ws, 't')
            except falcon.OperationNotAllowed as ex:
                errors.append(ex)
            await ws.accept()
            await ws.close()
            try:
                await app.hub.subscribe(ws, 't')
            except falcon.WebSocketDisconnected as ex:
                errors.append(ex)

    app.add_route('/', Early())
    async with serve(app, ws_class('fast')) as server:
        async with connect(server.url) as client:
            await client.wait_closed()
    assert [type(ex) for ex in errors] == [
        falcon.OperationNotAllowed,
        falcon.WebSocketDisconnected,
    ]
    assert app.hub.count('t') == 0


async def test_presence_and_subscribing_twice(path: str) -> None:
    served, app, subscriber = hub_app(path)
    async with serve(served, ws_class(path)) as server:
        clients = await subscribe(server.url, 'p', 3)
        assert await app.hub.presence('p') == 3
        ws = subscriber.subscriptions[0].ws
        again = await app.hub.subscribe(ws, 'p')
        assert again is subscriber.subscriptions[0]
        assert await app.hub.presence('p') == 3
        await app.hub.publish('p', 'once')
        for client in clients:
            assert await client.recv() == 'once'
        await clients[0].close()
        await wait_for(lambda: subscriber.finished == 1, 'the responder')
        assert await app.hub.presence('p') == 2
        assert await app.hub.presence('nobody') == 0
        for client in clients[1:]:
            await client.close()


async def test_a_burst_of_publishes_is_one_write_per_connection() -> None:
    # PERF(gyrfalcon): Publishes in one event-loop iteration are batched:
    #   each connection gets one transport.write() for all of them.
    served, app, subscriber = hub_app('fast')
    async with serve(served, ws_class('fast')) as server:
        clients = await subscribe(server.url, 't', 4)
        protocols = [c for c in server.connections]
        writes = [count_writes(p.transport) for p in protocols]
        for i in range(50):
            await app.hub.publish('t', f'burst {i}')
        assert writes == [[], [], [], []]  # nothing written yet
        for client in clients:
            assert await read(client, 50) == [f'burst {i}' for i in range(50)]
        assert [len(w) for w in writes] == [1, 1, 1, 1]
        for client in clients:
            await client.close()
