"""Checklist A-C: loading, construction, the HTTP handoff and the scope.

Every test runs against our class and uvicorn's ``websockets-sansio`` and
``wsproto`` classes (the ``ws_impl`` fixture); where the classes differ on
purpose, the test states each one's result.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn
from uvicorn.importer import import_from_string
from uvicorn.server import ServerState
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol
from ws_peers import Peers, echo_app, eventually, serve, upgrade_request

pytestmark = pytest.mark.network


class ScopeApp:
    """Record the scope and the first message, then accept."""

    def __init__(self) -> None:
        self.scope: dict[str, Any] = {}
        self.first: dict[str, Any] = {}
        self.calls = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.calls += 1
        self.scope = scope
        self.first = await receive()
        await send({'type': 'websocket.accept'})
        while (await receive())['type'] != 'websocket.disconnect':
            pass


# --- A. Loading and construction ---------------------------------------------


@pytest.mark.parametrize('form', ['import string', 'class'])
async def test_a1_loads_from_import_string_or_class(ws_class: str, form: str) -> None:
    ws = ws_class if form == 'import string' else import_from_string(ws_class)
    async with serve(echo_app, ws) as running:
        async with connect(running.url) as client:
            await client.send('ping?')
            assert await client.recv() == 'ping?'
        assert running.server.config.ws_protocol_class is import_from_string(ws_class)


async def test_a2_constructor_takes_keywords_and_an_optional_loop(
    ws_class: str,
) -> None:
    cls = import_from_string(ws_class)
    config = uvicorn.Config(echo_app, ws=cls, lifespan='off', log_config=None)
    loaded_before = config.loaded
    state = ServerState()
    protocol = cls(config=config, server_state=state, app_state={'k': 1})
    assert (loaded_before, config.loaded) == (False, True)
    assert protocol.loop is asyncio.get_running_loop()
    other = asyncio.new_event_loop()
    try:
        pinned = cls(config=config, server_state=state, app_state={}, _loop=other)
        assert pinned.loop is other
    finally:
        other.close()
    assert state.connections == set()


async def test_a4_attributes_uvicorn_tests_use(ws_class: str) -> None:
    async with serve(echo_app, ws_class) as running:
        async with connect(running.url):
            protocol = await running.connection()
            assert protocol.transport is not None
            assert protocol.scope['type'] == 'websocket'
            assert protocol.close_timeout == 10.0
            assert protocol.close_timer is None
            assert protocol.ping_timer is not None  # default interval 20 s
            assert protocol.ping_sent_at == 0.0


# --- B. Handoff --------------------------------------------------------------


async def test_b1_connection_is_tracked_until_it_ends(ws_class: str) -> None:
    app = ScopeApp()
    async with serve(app, ws_class) as running:
        async with connect(running.url):
            protocol = await running.connection()
            assert protocol in running.server.server_state.connections
        await eventually(lambda: not running.connections, 'connection removal')
    port = running.port
    assert app.scope['server'] == ('127.0.0.1', port)
    client = app.scope['client']
    assert client[0] == '127.0.0.1' and isinstance(client[1], int)
    assert app.scope['scheme'] == 'ws'


async def test_b2_rebuilt_request_head_is_parsed(ws_class: str, peers: Peers) -> None:
    app = ScopeApp()
    async with serve(app, ws_class) as running:
        client = await peers.connect(
            running.port,
            '/one%2Ftwo%20x?q=a%20b&r=1',
            extra=[('X-Token', 'MiXeD Case'), ('X-Dup', 'a'), ('X-Dup', 'b')],
        )
        await client.aclose()
        await eventually(lambda: not running.connections, 'connection end')
    scope = app.scope
    assert scope['path'] == '/one/two x'
    assert scope['raw_path'] == b'/one%2Ftwo%20x'
    assert scope['query_string'] == b'q=a%20b&r=1'
    headers = list(scope['headers'])
    # Values are kept as sent (uvicorn #2825); duplicates stay, in order.
    assert (b'x-token', b'MiXeD Case') in headers
    assert [v for k, v in headers if k == b'x-dup'] == [b'a', b'b']


@pytest.mark.parametrize(
    'kwargs, statuses',
    [
        # Sec-WebSocket-Version 11: ours and wsproto answer 426 with the
        # version we speak; websockets-sansio answers 400.
        (
            {'version': '11'},
            {'gyrfalcon': 426, 'websockets-sansio': 400, 'wsproto': 426},
        ),
        ({'key': None}, {'gyrfalcon': 400, 'websockets-sansio': 400, 'wsproto': 400}),
        # A key that is not base64 of 16 bytes: wsproto accepts it (and runs
        # the app); ours and websockets-sansio refuse it.
        ({'key': 'abc'}, {'gyrfalcon': 400, 'websockets-sansio': 400, 'wsproto': 101}),
    ],
    ids=['version-11', 'missing-key', 'bad-key'],
)
async def test_b3_invalid_upgrade_is_rejected_without_calling_the_app(
    ws_class: str,
    ws_impl: str,
    kwargs: dict[str, Any],
    statuses: dict[str, int],
    peers: Peers,
) -> None:
    app = ScopeApp()
    async with serve(app, ws_class) as running:
        client = await peers.open(running.port)
        client.write(upgrade_request(running.port, **kwargs))
        if statuses[ws_impl] == 101:
            response = await client.read_head()
            await client.aclose()
        else:
            response = await client.read_response()
        expected = statuses[ws_impl]
        assert response.status == expected
        if expected == 426 and ws_impl == 'gyrfalcon':
            assert response.get('sec-websocket-version') == '13'
        if expected == 400 and ws_impl != 'wsproto':
            assert response.body.startswith(b'Failed to open a WebSocket connection: ')
    assert app.calls == (1 if expected == 101 else 0)


async def test_b4_non_get_upgrade_is_rejected(
    ws_class: str, ws_impl: str, peers: Peers
) -> None:
    app = ScopeApp()
    async with serve(app, ws_class) as running:
        client = await peers.open(running.port)
        client.write(upgrade_request(running.port, method='POST'))
        response = await client.read_response()
    if ws_impl == 'wsproto':
        assert response.status == 400
    else:
        assert response.status == 405
        assert response.get('allow') == 'GET'
    assert app.calls == 0


# --- C. Scope ----------------------------------------------------------------


async def test_c1_scope_keys_and_values(ws_class: str, ws_impl: str) -> None:
    app = ScopeApp()
    async with serve(app, ws_class, root_path='/mount') as running:
        async with connect(
            running.url + '/a%2Fb?x=1',
            subprotocols=[Subprotocol('p1'), Subprotocol('p2')],
        ) as client:
            port = client.remote_address[1]
    scope = app.scope
    expected_keys = {
        'type',
        'asgi',
        'http_version',
        'scheme',
        'server',
        'client',
        'root_path',
        'path',
        'raw_path',
        'query_string',
        'headers',
        'subprotocols',
        'state',
        'extensions',
    }
    assert set(scope) == expected_keys
    assert scope['type'] == 'websocket'
    assert scope['asgi']['version'] == '3.0'
    assert scope['http_version'] == '1.1'
    assert scope['server'] == ('127.0.0.1', port)
    assert scope['root_path'] == '/mount'
    assert scope['path'] == '/mount/a/b'
    assert scope['raw_path'] == b'/mount/a%2Fb'
    assert scope['query_string'] == b'x=1'
    assert list(scope['subprotocols']) == ['p1', 'p2']
    assert scope['state'] == {}
    assert 'websocket.http.response' in scope['extensions']
    # Only our class offers the engine channel (gyrfalcon.server.fastpath).
    assert ('gyrfalcon.engine' in scope['extensions']) == (ws_impl == 'gyrfalcon')
    names = [name for name, _ in scope['headers']]
    assert b'host' in names and all(name == name.lower() for name in names)


async def test_c1_asgi2_apps_see_their_asgi_version(ws_class: str) -> None:
    seen: dict[str, Any] = {}

    class ASGI2App:
        def __init__(self, scope: dict[str, Any]) -> None:
            seen.update(scope['asgi'])

        async def __call__(self, receive: Any, send: Any) -> None:
            await receive()
            await send({'type': 'websocket.accept'})
            await send({'type': 'websocket.close'})

    async with serve(ASGI2App, ws_class, interface='asgi2') as running:
        async with connect(running.url) as client:
            await client.wait_closed()
    assert seen['version'] == '2.0'


async def test_c2_spec_version(ws_class: str, ws_impl: str) -> None:
    app = ScopeApp()
    async with serve(app, ws_class) as running:
        async with connect(running.url):
            pass
    # We send ``reason`` on disconnect, an ASGI 2.5 feature, and say so;
    # uvicorn sends it too but reports 2.4.
    assert app.scope['asgi']['spec_version'] == (
        '2.5' if ws_impl == 'gyrfalcon' else '2.4'
    )


async def test_c3_connect_comes_first_and_the_task_is_tracked(ws_class: str) -> None:
    app = ScopeApp()
    async with serve(app, ws_class) as running:
        async with connect(running.url):
            await eventually(lambda: bool(app.first), 'the first message')
            assert len(running.server.server_state.tasks) == 1
        await eventually(
            lambda: not running.server.server_state.tasks, 'the task to be discarded'
        )
    assert app.first == {'type': 'websocket.connect'}


async def test_c1_lifespan_state_is_copied_per_connection(ws_class: str) -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope['type'] == 'lifespan':
            await receive()
            scope['state']['counter'] = 1
            await send({'type': 'lifespan.startup.complete'})
            await receive()
            await send({'type': 'lifespan.shutdown.complete'})
            return
        seen.append(dict(scope['state']))
        scope['state']['counter'] = 99
        await receive()
        await send({'type': 'websocket.accept'})
        await send({'type': 'websocket.close'})

    async with serve(app, ws_class, lifespan='on') as running:
        for _ in range(2):
            async with connect(running.url) as client:
                await client.wait_closed()
    assert seen == [{'counter': 1}, {'counter': 1}]
