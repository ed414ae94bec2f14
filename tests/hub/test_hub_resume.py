"""Resumable topics and gaps: replay what a client missed, say what is lost."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hub_peers import PATHS, Wrap, hub_app, ws_class
from websockets.asyncio.client import connect
from ws_peers import GUARD, serve

import gyrfalcon as falcon
from gyrfalcon.hub import Event, Hub, InProcessBackend

pytestmark = pytest.mark.network


@pytest.fixture(params=PATHS)
def path(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def envelope(event: Event) -> str:
    # The payload is JSON text already: wrap it without parsing it again.
    assert isinstance(event.payload, str)
    return f'{{"id": "{event.event_id}", "data": {event.payload}}}'


class GappyBackend(InProcessBackend):
    """The in-process backend, with a way to signal a gap as a broker would."""

    async def start(self, deliver: Any, gap: Any) -> None:
        self.gap = gap
        await super().start(deliver, gap)


async def test_a_client_resumes_from_its_last_event_id(path: str) -> None:
    served, app, _ = hub_app(path)
    app.hub.configure('feed', retain=5, envelope=envelope, gap_message={'type': 'gap'})
    async with serve(served, ws_class(path)) as server:
        first = await connect(f'{server.url}/sub/feed')
        assert await first.recv() == 'subscribed'
        for i in range(10):
            await app.hub.publish('feed', {'n': i})
        seen = [json.loads(await first.recv()) for _ in range(10)]
        assert [m['data'] for m in seen] == [{'n': i} for i in range(10)]
        ids = [m['id'] for m in seen]
        assert len(set(ids)) == 10

        # Resume after the 7th: the last three are replayed, then live ones.
        again = await connect(f'{server.url}/sub/feed?last={ids[6]}')
        replayed = [json.loads(await again.recv()) for _ in range(3)]
        assert replayed == seen[7:]
        assert await again.recv() == 'subscribed'
        await app.hub.publish('feed', {'n': 10})
        live = json.loads(await again.recv())
        assert live['data'] == {'n': 10}
        assert json.loads(await first.recv()) == live

        # The latest id: nothing to replay.
        latest = await connect(f'{server.url}/sub/feed?last={live["id"]}')
        assert await latest.recv() == 'subscribed'

        # Too old (only 5 are retained), or from another server's history:
        # a gap instead of a replay, then live events.
        for last in (ids[2], 'unknown-1'):
            late = await connect(f'{server.url}/sub/feed?last={last}')
            assert json.loads(await late.recv()) == {'type': 'gap'}
            assert await late.recv() == 'subscribed'
            await late.close()
        stats = app.hub.stats('feed')
        assert stats.gaps == 2
        for client in (first, again, latest):
            await client.close()


async def test_events_published_during_a_replay_come_once_and_after_it() -> None:
    # A backend whose replay() lets other tasks publish while it "reads".
    class SlowReplay(InProcessBackend):
        async def replay(self, topic: str, last_event_id: str) -> Any:
            for i in range(3):
                await hub.publish('feed', f'during {i}')
            return await super().replay(topic, last_event_id)

    hub = Hub(SlowReplay())
    hub.configure('feed', retain=100, envelope=lambda e: f'{e.event_id} {e.payload}')
    served, app, subscriber = hub_app('fast', hub)
    async with serve(served, ws_class('fast')) as server:
        first = await connect(f'{server.url}/sub/feed')
        assert await first.recv() == 'subscribed'
        await hub.publish('feed', 'before 0')
        await hub.publish('feed', 'before 1')
        id0 = (await first.recv()).split()[0]
        await first.recv()
        again = await connect(f'{server.url}/sub/feed?last={id0}')
        got = [(await again.recv()).split(' ', 1)[1] for _ in range(4)]
        # The replay (taken after the three live events were published)
        # holds them; the live copies that arrived meanwhile are not sent
        # again.
        assert got == ['before 1', 'during 0', 'during 1', 'during 2']
        assert await again.recv() == 'subscribed'
        assert subscriber.subscriptions[-1].replayed == 4
        await hub.publish('feed', 'after')
        assert (await again.recv()).endswith(' after')
        await first.close()
        await again.close()


async def test_a_replay_from_a_process_behind_the_client_sends_nothing_twice() -> None:
    # The client saw up to 'e-2' on a process that is ahead; this process
    # delivers 'e-1' to 'e-3' live while its replay catches up, then the
    # replay holds what came after 'e-2'. The client gets 'e-3' once.
    class Lagging(InProcessBackend):
        async def replay(self, topic: str, last_event_id: str) -> Any:
            assert self._deliver is not None
            for i in (1, 2, 3):
                self._deliver(topic, Event(f'live {i}', f'e-{i}'))
            return [Event('live 3', 'e-3')]

    hub = Hub(Lagging())
    hub.configure('feed', retain=100, envelope=lambda e: f'{e.event_id} {e.payload}')
    served, app, subscriber = hub_app('fast', hub)
    async with serve(served, ws_class('fast')) as server:
        client = await connect(f'{server.url}/sub/feed?last=e-2')
        assert await client.recv() == 'e-3 live 3'
        assert await client.recv() == 'subscribed'
        await hub.publish('feed', 'after')
        assert (await client.recv()).endswith(' after')
        await client.close()


async def test_a_gap_reaches_every_subscriber_in_order(path: str) -> None:
    backend = GappyBackend()
    hub = Hub(backend)
    hub.configure('live', gap_message='gap: reload')
    served, app, subscriber = hub_app(path, hub)
    async with serve(served, ws_class(path)) as server:
        clients = []
        for _ in range(3):
            client = await connect(f'{server.url}/sub/live')
            assert await client.recv() == 'subscribed'
            clients.append(client)
        other = await connect(f'{server.url}/sub/quiet')
        assert await other.recv() == 'subscribed'
        await hub.publish('live', 'one')
        backend.gap('live')  # what a backend does after a broker reconnect
        backend.gap('nobody')  # a topic without subscribers: nothing happens
        await hub.publish('live', 'two')
        for client in clients:
            assert [await client.recv() for _ in range(3)] == [
                'one',
                'gap: reload',
                'two',
            ]
        assert [s.gaps for s in subscriber.subscriptions] == [1, 1, 1, 0]
        assert hub.stats('live').gaps == 1
        await hub.publish('quiet', 'hello')
        assert await other.recv() == 'hello'  # no gap message on this topic
        for client in [*clients, other]:
            await client.close()


async def test_a_paused_subscription_holds_messages_until_resumed(path: str) -> None:
    app = falcon.App()
    app.hub.configure('feed', retain=10)
    resumed: list[Any] = []

    class Snapshot:
        async def on_websocket(self, req: Any, ws: Any) -> None:
            await ws.accept()
            last = req.get_param('last')
            sub = await app.hub.subscribe(ws, 'feed', last_event_id=last, paused=True)
            # Published after subscribing, before the snapshot is sent: held.
            await app.hub.publish('feed', 'during')
            await ws.send_text('snapshot')
            sub.resume()
            sub.resume()  # twice: nothing more happens
            resumed.append(sub)
            async for __ in ws:
                pass

    app.add_route('/', Snapshot())
    served: Any = Wrap(app) if path == 'wrapped' else app
    async with serve(served, ws_class(path)) as server:
        async with connect(server.url) as client:
            assert [await client.recv() for _ in range(2)] == ['snapshot', 'during']
            await app.hub.publish('feed', 'live')
            assert await client.recv() == 'live'
        # With a replay: the replay and the held event after the snapshot.
        async with connect(f'{server.url}?last=0') as client:
            assert [await client.recv() for _ in range(2)] == ['snapshot', 'during']
        first_id = app.hub.backend._rings['feed'][0].event_id  # type: ignore[attr-defined]
        async with connect(f'{server.url}?last={first_id}') as client:
            # Replayed: 'live' and the second 'during'; held: the third.
            got = [await asyncio.wait_for(client.recv(), GUARD) for _ in range(4)]
            assert got == ['snapshot', 'live', 'during', 'during']
            assert resumed[-1].replayed == 2
